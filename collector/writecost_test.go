package collector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// The refresh leaves Prometheus' timeout room for the answer as long as the answer really takes: at
// 100,000 jobs writing takes seconds, and a fixed 500 ms made every pull miss the timeout.
func TestWriteCostsReserve(t *testing.T) {
	const offset, timeout = 500 * time.Millisecond, 10 * time.Second
	for _, tt := range []struct {
		name   string
		writes []time.Duration
		want   time.Duration
	}{
		{"no answer written yet: the offset", nil, offset},
		{"fewer writes than the ring: the offset", []time.Duration{3 * time.Second}, offset},
		{"fast answers: the offset", []time.Duration{40 * time.Millisecond, 50 * time.Millisecond, 30 * time.Millisecond, 60 * time.Millisecond}, offset},
		{"answers of 2 s: 2.5 s reserved", []time.Duration{2 * time.Second, 2200 * time.Millisecond, 2100 * time.Millisecond, 2 * time.Second}, 2500 * time.Millisecond},
		{"a slow reader among fast scrapers does not shrink the budget", []time.Duration{40 * time.Millisecond, 9 * time.Second, 50 * time.Millisecond, 60 * time.Millisecond}, offset},
		{"only the last four count", []time.Duration{100 * time.Millisecond, 3 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second}, 3750 * time.Millisecond},
		{"at most half the timeout", []time.Duration{20 * time.Second, 20 * time.Second, 20 * time.Second, 20 * time.Second}, timeout / 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var w writeCosts
			for _, d := range tt.writes {
				w.observe(d)
			}
			if got := w.reserve(offset, timeout); got != tt.want {
				t.Errorf("reserve = %v, want %v", got, tt.want)
			}
		})
	}
}

// slowWriter is an http.ResponseWriter whose writes take time, like an answer of 100,000 jobs.
type slowWriter struct {
	header http.Header
	delay  time.Duration
	slept  bool
}

func (s *slowWriter) Header() http.Header { return s.header }
func (s *slowWriter) WriteHeader(int)     {}
func (s *slowWriter) Write(p []byte) (int, error) {
	if !s.slept {
		time.Sleep(s.delay)
		s.slept = true
	}
	return len(p), nil
}

// leftGetter records how much time the pull left each query.
type leftGetter struct {
	mu        sync.Mutex
	left      []time.Duration
	deadlines []time.Time
}

func (g *leftGetter) GetJob(ctx context.Context, _ huaweicloud.Target, id string) (*huaweicloud.Job, error) {
	if dl, ok := ctx.Deadline(); ok {
		g.mu.Lock()
		g.left = append(g.left, time.Until(dl))
		g.deadlines = append(g.deadlines, dl)
		g.mu.Unlock()
	}
	return job(id, "RUNNING"), nil
}

// After answers that took 400 ms to send, a pull with a 1 s timeout and no offset leaves them that
// long (and a quarter): the refresh gets at most 500 ms, where the old handler gave it the whole second
// and the answer then came after Prometheus had given up.
func TestHandlerLeavesTimeForSlowAnswers(t *testing.T) {
	g := &leftGetter{}
	c := New(g, Options{Concurrency: 1, FinalJobTTL: time.Hour}, nil)
	c.SetJobs(ConfigSource, watched("a"))
	h := c.Handler(prometheus.NewRegistry(), 0, func() time.Duration { return time.Second }, nil)
	for i := range 5 {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set(scrapeTimeoutHeader, "1")
		req.Header.Set("User-Agent", "Prometheus/3.5.0 "+strconv.Itoa(i)) // a new scraper each time: every pull asks
		h.ServeHTTP(&slowWriter{header: http.Header{}, delay: 400 * time.Millisecond}, req)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.left) != 5 {
		t.Fatalf("%d queries, want 5", len(g.left))
	}
	// Machine noise only makes what is left smaller, never larger, so this bound cannot fail by noise.
	if last := g.left[4]; last > 600*time.Millisecond {
		t.Errorf("after four 400 ms answers, the refresh was left %v of a 1 s timeout, want at most 500 ms", last)
	}
}

// A client without Prometheus' header (curl, a browser) that reads slowly teaches the reserve nothing:
// Prometheus' next pull keeps its whole budget.
func TestSlowCurlDoesNotShrinkPrometheusBudget(t *testing.T) {
	g := &leftGetter{}
	c := New(g, Options{Concurrency: 1, FinalJobTTL: time.Hour}, nil)
	c.SetJobs(ConfigSource, watched("a"))
	h := c.Handler(prometheus.NewRegistry(), 0, func() time.Duration { return time.Second }, nil)
	for range 4 {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("User-Agent", "curl/8.5.0")
		h.ServeHTTP(&slowWriter{header: http.Header{}, delay: 300 * time.Millisecond}, req)
	}
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set(scrapeTimeoutHeader, "1")
	req.Header.Set("User-Agent", "Prometheus/3.5.0")
	start := time.Now()
	h.ServeHTTP(httptest.NewRecorder(), req)
	g.mu.Lock()
	defer g.mu.Unlock()
	// The deadline is the handler's start plus the budget, and the handler starts after start: with the
	// whole second (offset 0) it is at least a second after start, whatever the machine's noise.
	if got := g.deadlines[len(g.deadlines)-1].Sub(start); got < time.Second {
		t.Errorf("after a slow curl, Prometheus' refresh got %v of a 1 s timeout, want all of it", got)
	}
}
