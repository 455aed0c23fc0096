package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/app"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/selfmetrics"
)

// The fault matrix of issue #8: one row per way production breaks the exporter, each run through the
// real exporter (config, client, collector, discovery, /metrics handler) against a small hostile cloud on
// loopback. Every row asserts what an operator relies on at 3 a.m.:
//   - /metrics answers 200 within Prometheus' scrape timeout, and the whole answer parses;
//   - a healthy job of the same project ("control") is still exported RUNNING with query_success 1:
//     the fault costs nothing else;
//   - the cause is counted under the right reason;
//   - goroutines return to the baseline once the row's servers and exporter are stopped.

const (
	fmControl = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0"
	fmJob     = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"
	// fmScrapeTimeout is what the matrix's Prometheus would send; the client gives up at the same time.
	fmScrapeTimeout = 4 * time.Second
)

// fmAnswer writes the answer for a job id asked for the n-th time, or returns false for the default: a
// healthy RUNNING job.
type fmAnswer func(w http.ResponseWriter, r *http.Request, id string, n int) bool

// fmCloud is a scriptable job API; the control job is a healthy RUNNING ECS job unless answer says
// otherwise.
type fmCloud struct {
	*httptest.Server
	answer fmAnswer

	mu    sync.Mutex
	calls map[string]int
	codes map[int]int
}

func newFMCloud(t *testing.T, answer fmAnswer) *fmCloud {
	c := &fmCloud{answer: answer, calls: map[string]int{}, codes: map[int]int{}}
	c.Server = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.Close)
	return c
}

func (c *fmCloud) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 4 || parts[0] != "v1" || parts[2] != "jobs" {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error_code":"APIG.0101","error_msg":"The API does not exist or has not been published in the environment"}`)
		return
	}
	id := parts[3]
	c.mu.Lock()
	c.calls[id]++
	n := c.calls[id]
	c.mu.Unlock()
	rec := &statusRecorder{ResponseWriter: w, code: 200}
	if c.answer == nil || !c.answer(rec, r, id, n) {
		writeJob(rec, id, "RUNNING", "")
	}
	c.mu.Lock()
	c.codes[rec.code]++
	c.mu.Unlock()
}

func (c *fmCloud) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[id]
}

func (c *fmCloud) answered(code int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.codes[code]
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) { s.code = code; s.ResponseWriter.WriteHeader(code) }

// writeJob answers a job in the ECS seed's shape; extra is spliced into the object (`"k": v, ...`).
func writeJob(w http.ResponseWriter, id, status, extra string) {
	end := `""`
	if status == "SUCCESS" || status == "FAIL" {
		end = `"2026-03-01T09:50:00.000Z"`
	}
	if extra != "" {
		extra = ", " + extra
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"status": %q, "job_id": %q, "job_type": "createServer", "begin_time": "2026-03-01T09:40:00.000Z", "end_time": %s, "error_code": null, "fail_reason": null, "entities": {}%s}`,
		status, id, end, extra)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error_code": %q, "error_msg": %q}`, code, msg)
}

// fmHarness is one exporter serving /metrics, as main wires it.
type fmHarness struct {
	t       *testing.T
	ex      *app.Exporter
	metrics *httptest.Server
	evs     *fmCloud
}

// fmConfig is a one-project config whose endpoints all point at url (EVS at evsURL), watching the
// control job and jobs (service/id pairs), plus extra project keys.
func fmConfig(t *testing.T, url, evsURL string, jobs [][2]string, extra string) *config.Config {
	t.Helper()
	var b strings.Builder
	b.WriteString("credentials: {access_key: HPUATESTAK0000000001, secret_key: test-secret-key}\n")
	// The matrix's Prometheus pulls 1.1 s apart (scrapeSpaced); a scraper pulling more often than
	// min_query_interval/4 is served from memory, so the matrix runs at 4s (default 10s).
	b.WriteString("min_query_interval: 4s\n")
	fmt.Fprintf(&b, "projects:\n  - region: %s\n    project_id: %s\n    endpoints: {ecs: %q, evs: %q, bms: %q, ims: %q, cts: %q}\n",
		testRegion, testProject, url, evsURL, url, url, url)
	b.WriteString("    jobs:\n      - {service: ecs, id: " + fmControl + "}\n")
	for _, j := range jobs {
		fmt.Fprintf(&b, "      - {service: %s, id: %s}\n", j[0], j[1])
	}
	b.WriteString(extra)
	cfg, err := config.Decode(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	return cfg
}

func newFMHarness(t *testing.T, cfg *config.Config) *fmHarness {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := selfmetrics.New(reg)
	ex := app.New(context.Background(), m, log.NewNopLogger())
	if err := ex.Apply(cfg, os.Getenv); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ex.Collector().Handler(reg, 500*time.Millisecond, ex.Timeout, log.NewNopLogger()))
	h := &fmHarness{t: t, ex: ex, metrics: srv}
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := ex.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return h
}

// scrape pulls /metrics as Prometheus would (scrape timeout header, a client that gives up at the
// timeout) and returns the parsed families. agent tells scrapers apart.
func (h *fmHarness) scrape(agent string) map[string]*dto.MetricFamily {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.metrics.URL, nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", fmt.Sprint(fmScrapeTimeout.Seconds()))
	req.Header.Set("User-Agent", agent)
	client := &http.Client{Timeout: fmScrapeTimeout}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		h.t.Fatalf("/metrics did not answer within the scrape timeout %v: %v", fmScrapeTimeout, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body) // the transport asks for gzip and undoes it
	if err != nil || resp.StatusCode != http.StatusOK {
		h.t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		h.t.Fatalf("/metrics does not parse: %v", err)
	}
	return mfs
}

// value is the sample of family name with all labels of want, or -1 when there is none.
func value(mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
next:
	for _, m := range mfs[name].GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		if m.GetCounter() != nil {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	return -1
}

func job(id string) map[string]string { return map[string]string{"job_id": id} }
func jobStatus(id, status string) map[string]string {
	return map[string]string{"job_id": id, "status": status}
}
func reason(service, r string) map[string]string {
	return map[string]string{"service": service, "reason": r}
}

// fmRow is one fault. setup returns the cloud's answers and the config; run scrapes and checks what is
// special to the fault (the common checks are done for every scrape).
type fmRow struct {
	item  int
	name  string
	setup func(t *testing.T) (answer fmAnswer, jobs [][2]string, extra string)
	run   func(t *testing.T, h *fmHarness, cloud *fmCloud) map[string]*dto.MetricFamily
	// controlLost: the fault rightly blinds the control job too (a revoked key)
	controlLost bool
	// reason: the query failure counted, as service/reason; "" when the fault is not a query failure
	reason [2]string
}

func TestFaultMatrix(t *testing.T) {
	for _, row := range faultRows() {
		t.Run(fmt.Sprintf("%02d-%s", row.item, row.name), func(t *testing.T) {
			// Registered first, so it runs last: after the row's servers and exporter are stopped.
			checkGoroutines(t)
			answer, jobs, extra := row.setup(t)
			cloud := newFMCloud(t, answer)
			// EVS has an endpoint of its own, as in the cloud: a pause of one endpoint must not be
			// mistaken for a loss elsewhere.
			evs := newFMCloud(t, answer)
			h := newFMHarness(t, fmConfig(t, cloud.URL, evs.URL, jobs, extra))
			h.evs = evs
			mfs := row.run(t, h, cloud)
			if !row.controlLost {
				if v := value(mfs, "huaweicloud_job_status", jobStatus(fmControl, "RUNNING")); v != 1 {
					t.Errorf("control job RUNNING = %v, want 1: the fault must cost nothing else", v)
				}
				if v := value(mfs, "huaweicloud_job_query_success", job(fmControl)); v != 1 {
					t.Errorf("control job query_success = %v, want 1", v)
				}
			}
			if r := row.reason; r[0] != "" {
				if v := value(mfs, "huaweicloud_job_exporter_job_query_failures_total", reason(r[0], r[1])); v < 1 {
					t.Errorf("job_query_failures_total{service=%q,reason=%q} = %v, want >= 1", r[0], r[1], v)
				}
			}
		})
	}
}

// checkGoroutines fails t when more goroutines run after its cleanups than before it. Goroutines end a
// moment after what they waited for, so the count is polled.
func checkGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(waitTimeout)
		for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines after the row, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
	})
}
