package collector

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/selfmetrics"
)

func TestHandler(t *testing.T) {
	g := newFakeGetter()
	g.set("a", job("a", "RUNNING"), nil)
	c := New(g, Options{Concurrency: 1, FinalJobTTL: time.Hour}, nil)
	c.SetJobs("config", watched("a"))
	self := prometheus.NewRegistry()
	m := selfmetrics.New(self)
	m.ReloadSuccess.Set(1)
	h := c.Handler(self, 500*time.Millisecond, func() time.Duration { return time.Second }, nil)

	tests := []struct {
		name       string
		header     map[string]string
		wantCode   int
		wantGzip   bool
		wantSeries []string
	}{
		{"plain", nil, 200, false, []string{"huaweicloud_job_status", "huaweicloud_job_exporter_config_last_reload_successful"}},
		{"prometheus headers", map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "10", "Accept-Encoding": "gzip"}, 200, true, []string{"huaweicloud_job_query_success"}},
		{"gzip refused", map[string]string{"Accept-Encoding": "gzip;q=0, identity"}, 200, false, []string{"huaweicloud_job_sub_jobs"}},
		{"bad timeout header", map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "soon"}, 400, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantCode != 200 {
				if !strings.Contains(rec.Body.String(), "X-Prometheus-Scrape-Timeout-Seconds") {
					t.Errorf("error does not name the header: %s", rec.Body)
				}
				return
			}
			var body io.Reader = rec.Body
			if gz := rec.Header().Get("Content-Encoding") == "gzip"; gz != tt.wantGzip {
				t.Fatalf("gzip = %v, want %v", gz, tt.wantGzip)
			}
			if tt.wantGzip {
				zr, err := gzip.NewReader(rec.Body)
				if err != nil {
					t.Fatal(err)
				}
				body = zr
			}
			p := expfmt.NewTextParser(model.UTF8Validation)
			mfs, err := p.TextToMetricFamilies(body)
			if err != nil {
				t.Fatalf("exposition does not parse: %v", err)
			}
			for _, name := range tt.wantSeries {
				if _, ok := mfs[name]; !ok {
					t.Errorf("exposition lacks %s", name)
				}
			}
		})
	}
}
