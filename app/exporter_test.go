package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/testkit"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/selfmetrics"
)

const (
	testRegion  = "ap-southeast-1"
	testProject = "0605767d4a0010ee2f3ac01e28a1a6b4"
	ctsJobID    = "2c9eb2c5544cbf6101544f0602af2b4f" // named by the fake cloud's CTS trace
	fileJobID   = "4010b39d58b855980158b8574b270018"
	waitTimeout = 10 * time.Second
)

// fakeCloud answers CTS ListTraces (one ECS trace naming ctsJobID) and job queries (RUNNING) on loopback,
// directly or as an HTTP proxy, and counts what it is asked.
type fakeCloud struct {
	URL string

	mu       sync.Mutex
	ctsCalls int
	jobCalls int
}

func newFakeCloud(t *testing.T) *fakeCloud {
	t.Helper()
	c := &fakeCloud{}
	srv := httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

func (c *fakeCloud) serve(w http.ResponseWriter, r *http.Request) {
	var body any
	switch p := r.URL.Path; {
	case p == "/v3/"+testProject+"/traces":
		c.mu.Lock()
		c.ctsCalls++
		c.mu.Unlock()
		var traces []any
		if r.URL.Query().Get("service_type") == "ECS" {
			traces = append(traces, map[string]any{
				"trace_id": "4a3b2c1d-0000-4000-8000-000000000001", "trace_name": "createServer", "service_type": "ECS",
				"code": "202", "response": `{"job_id":"` + ctsJobID + `"}`, "trace_type": "ApiCall",
				"time": time.Now().Add(-time.Minute).UnixMilli(),
			})
		}
		body = map[string]any{"traces": traces, "meta_data": map[string]any{"count": len(traces), "marker": ""}}
	case strings.HasPrefix(p, "/v1/"+testProject+"/jobs/"):
		c.mu.Lock()
		c.jobCalls++
		c.mu.Unlock()
		body = map[string]any{"status": "RUNNING", "job_id": strings.TrimPrefix(p, "/v1/"+testProject+"/jobs/"),
			"job_type": "createServer", "begin_time": "2026-03-01T09:40:00.000Z"}
	default:
		http.Error(w, `{"error_code":"APIG.0101","error_msg":"The API does not exist or has not been published in the environment"}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func (c *fakeCloud) calls() (cts, jobs int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ctsCalls, c.jobCalls
}

// testConfig is a one-project config with CTS discovery of ECS jobs, every 15 minutes (so a source runs once
// during a test, when it starts). endpoint maps services to base URLs; proxy may be empty.
func testConfig(t *testing.T, endpoint func(service string) string, proxy string) *config.Config {
	t.Helper()
	var b strings.Builder
	b.WriteString("credentials: {access_key: HPUATESTAK0000000001, secret_key: test-secret-key}\nmin_query_interval: 0s\n")
	if proxy != "" {
		fmt.Fprintf(&b, "http_client: {proxy_url: %q}\n", proxy)
	}
	fmt.Fprintf(&b, "projects:\n  - region: %s\n    project_id: %s\n    endpoints:\n", testRegion, testProject)
	for _, s := range []string{"ecs", "evs", "bms", "ims", "cts"} {
		fmt.Fprintf(&b, "      %s: %q\n", s, endpoint(s))
	}
	b.WriteString("    discovery:\n      cts: {enabled: true, services: [ecs], interval: 15m}\n")
	c, err := config.Decode(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	return c
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func all(url string) func(string) string { return func(string) string { return url } }

func newTestExporter(t *testing.T) *Exporter {
	t.Helper()
	ex := New(t.Context(), selfmetrics.New(prometheus.NewRegistry()), log.NewNopLogger())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := ex.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return ex
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, waitTimeout, what, cond)
}

func watching(ex *Exporter, id string) bool {
	for _, j := range ex.collector.Snapshot() {
		if j.JobID == id {
			return true
		}
	}
	return false
}

// TestReloadRetargetsDiscovery: after a reload that changes endpoints or the HTTP client, CTS is asked
// at the new endpoint through the new client, and the jobs it found are queried there, not at the old
// place. Before, a CTS source whose own endpoint was unchanged was kept, with its old job targets and its
// old client.
func TestReloadRetargetsDiscovery(t *testing.T) {
	const invalid = "http://%s.example.invalid" // reached only through the proxy
	tests := []struct {
		name   string
		before func(a, b *fakeCloud) (endpoint func(string) string, proxy string)
		after  func(a, b *fakeCloud) (endpoint func(string) string, proxy string)
		// where CTS must be asked again after the reload
		ctsAfter func(a, b *fakeCloud) *fakeCloud
	}{
		{
			name:     "all endpoints",
			before:   func(a, _ *fakeCloud) (func(string) string, string) { return all(a.URL), "" },
			after:    func(_, b *fakeCloud) (func(string) string, string) { return all(b.URL), "" },
			ctsAfter: func(_, b *fakeCloud) *fakeCloud { return b },
		},
		{
			name:   "job endpoint only",
			before: func(a, _ *fakeCloud) (func(string) string, string) { return all(a.URL), "" },
			after: func(a, b *fakeCloud) (func(string) string, string) {
				return func(s string) string {
					if s == "cts" {
						return a.URL
					}
					return b.URL
				}, ""
			},
			ctsAfter: func(a, _ *fakeCloud) *fakeCloud { return a },
		},
		{
			name: "http_client proxy",
			before: func(a, _ *fakeCloud) (func(string) string, string) {
				return func(s string) string { return fmt.Sprintf(invalid, s) }, a.URL
			},
			after: func(_, b *fakeCloud) (func(string) string, string) {
				return func(s string) string { return fmt.Sprintf(invalid, s) }, b.URL
			},
			ctsAfter: func(_, b *fakeCloud) *fakeCloud { return b },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newFakeCloud(t), newFakeCloud(t)
			ex := newTestExporter(t)
			ep, proxy := tc.before(a, b)
			if err := ex.Apply(testConfig(t, ep, proxy), os.Getenv); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the CTS job is watched", func() bool { return watching(ex, ctsJobID) })
			ex.collector.Refresh(t.Context())
			if _, jobs := a.calls(); jobs != 1 {
				t.Fatalf("before the reload: %d job queries at the old place, want 1", jobs)
			}
			ctsBefore, _ := tc.ctsAfter(a, b).calls()

			ep, proxy = tc.after(a, b)
			if err := ex.Apply(testConfig(t, ep, proxy), os.Getenv); err != nil {
				t.Fatal(err)
			}
			ex.collector.Refresh(t.Context())
			if _, jobs := b.calls(); jobs != 1 {
				t.Errorf("after the reload: %d job queries at the new place, want 1", jobs)
			}
			if _, jobs := a.calls(); jobs != 1 {
				t.Errorf("after the reload: %d job queries at the old place, want still 1", jobs)
			}
			eventually(t, "CTS asked again after the reload", func() bool {
				n, _ := tc.ctsAfter(a, b).calls()
				return n > ctsBefore
			})
		})
	}
}

// TestReloadUnchanged: reloading the same file (decoded anew, so equal but not the same values) keeps the
// API client, with its auth back-off state, and the discovery sources, with what they found: no source
// asks CTS again.
func TestReloadUnchanged(t *testing.T) {
	a := newFakeCloud(t)
	ex := newTestExporter(t)
	cfg := func() *config.Config {
		return testConfig(t, func(s string) string { return "http://" + s + ".example.invalid" }, a.URL)
	}
	if err := ex.Apply(cfg(), os.Getenv); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the CTS job is watched", func() bool { return watching(ex, ctsJobID) })
	client, sources := ex.client, ex.discovery.Sources()
	if err := ex.Apply(cfg(), os.Getenv); err != nil {
		t.Fatal(err)
	}
	if ex.client != client {
		t.Error("the same http_client built a new API client")
	}
	if got := ex.discovery.Sources(); strings.Join(got, ",") != strings.Join(sources, ",") {
		t.Errorf("sources %v, want %v", got, sources)
	}
	ex.collector.Refresh(t.Context())
	if cts, jobs := a.calls(); cts != 1 || jobs != 1 {
		t.Errorf("%d CTS calls and %d job queries, want 1 and 1 (nothing restarted)", cts, jobs)
	}
}

// TestReloadWithFIFOInGlob: a FIFO among the job-id files neither blocks discovery of the other files nor
// a reload nor stop. Before, the read blocked forever, and the reload that stopped the source waited for
// it under the exporter's lock, taking /metrics, /config and SIGTERM with it.
func TestReloadWithFIFOInGlob(t *testing.T) {
	base := runtime.NumGoroutine()
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "a.yml"), 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.yml"), []byte("- {service: evs, id: "+fileJobID+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// File discovery only: no HTTP connections whose goroutines outlive the test's end.
	cfg := func(globs ...string) *config.Config {
		t.Helper()
		c, err := config.Decode(strings.NewReader(fmt.Sprintf(`
credentials: {access_key: HPUATESTAK0000000001, secret_key: test-secret-key}
projects:
  - region: %s
    project_id: %s
    endpoints: {ecs: "http://127.0.0.1:1", evs: "http://127.0.0.1:1", bms: "http://127.0.0.1:1", ims: "http://127.0.0.1:1", cts: "http://127.0.0.1:1"}
    discovery: {files: [%s]}
`, testRegion, testProject, strings.Join(quoteAll(globs), ", "))))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ex := New(t.Context(), selfmetrics.New(prometheus.NewRegistry()), log.NewNopLogger())
	if err := ex.Apply(cfg(filepath.Join(dir, "*.yml")), os.Getenv); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the regular file's job is watched", func() bool { return watching(ex, fileJobID) })

	done := make(chan error, 1)
	go func() {
		// A changed glob restarts the file source; then everything stops.
		err := ex.Apply(cfg(filepath.Join(dir, "*.yml"), filepath.Join(dir, "*.json")), os.Getenv)
		_ = ex.ConfigText()
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			err = ex.Stop(ctx)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("reload and stop did not return within %v", waitTimeout)
	}
	eventually(t, "goroutines back to the baseline", func() bool { return runtime.NumGoroutine() <= base })
}

// TestShutdownBounded: shutdown returns within its timeout even with a scrape that never ends.
func TestShutdownBounded(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		close(started)
		<-release
	}))
	srv.Start()
	defer func() {
		close(release) // first: srv.Close waits for the handler
		srv.Close()
	}()
	go func() {
		if resp, err := http.Get(srv.URL); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	ex := New(t.Context(), selfmetrics.New(prometheus.NewRegistry()), log.NewNopLogger())
	done := make(chan int, 1)
	go func() { done <- shutdown(srv.Config, ex, 100*time.Millisecond, log.NewNopLogger()) }()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("shutdown = %d, want 0", code)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("shutdown did not return within %v", waitTimeout)
	}
}
