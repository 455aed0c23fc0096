package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
)

func TestSelfPullURL(t *testing.T) {
	tests := []struct {
		name      string
		listen    []string
		webConfig string
		want      string
	}{
		{"demo default", []string{"127.0.0.1:19866"}, "", "http://127.0.0.1:19866/metrics"},
		{"all addresses", []string{":19866"}, "", "http://127.0.0.1:19866/metrics"},
		{"all IPv4", []string{"0.0.0.0:9"}, "", "http://127.0.0.1:9/metrics"},
		{"IPv6 loopback", []string{"[::1]:9"}, "", "http://[::1]:9/metrics"},
		{"web config: TLS or auth the pull does not speak", []string{":9"}, "web.yml", ""},
		{"no address", nil, "", ""},
		{"unparsable", []string{"nonsense"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := selfPullURL(tt.listen, tt.webConfig, "/metrics"); got != tt.want {
				t.Errorf("selfPullURL = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSelfPullLikePrometheus: the demo's pull sends Prometheus' scrape timeout header, so the collector
// budgets it as it budgets a real scrape, and pulls at once rather than after a first interval.
func TestSelfPullLikePrometheus(t *testing.T) {
	got := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Clone():
		default:
		}
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { selfPull(ctx, srv.URL+"/metrics", time.Hour, 10*time.Second, log.NewNopLogger()); close(done) }()
	h := <-got
	cancel()
	<-done
	if v := h.Get("X-Prometheus-Scrape-Timeout-Seconds"); v != "10" {
		t.Errorf("X-Prometheus-Scrape-Timeout-Seconds = %q, want 10", v)
	}
	if !strings.Contains(h.Get("User-Agent"), "demo") {
		t.Errorf("User-Agent %q does not tell the demo's pull from Prometheus", h.Get("User-Agent"))
	}
}
