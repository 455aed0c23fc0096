package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// The rows of TestFaultMatrix, numbered as the items of issue #8.

func only(target string, f func(w http.ResponseWriter, n int)) fmAnswer {
	return func(w http.ResponseWriter, _ *http.Request, id string, n int) bool {
		if id != target {
			return false
		}
		f(w, n)
		return true
	}
}

func ecsJob(ids ...string) [][2]string {
	out := make([][2]string, len(ids))
	for i, id := range ids {
		out[i] = [2]string{"ecs", id}
	}
	return out
}

// scrapeSpaced pulls n times as one scraper, just over a second apart (the least gap between two
// queries of one job).
func scrapeSpaced(h *fmHarness, n int, agent string) (mfs map[string]*dto.MetricFamily) {
	for i := range n {
		if i > 0 {
			time.Sleep(1100 * time.Millisecond)
		}
		mfs = h.scrape(agent)
	}
	return mfs
}

func faultRows() []fmRow {
	const gatewayMsg = "The API does not exist or has not been published in the environment"
	return []fmRow{
		{
			item: 1, name: "gateway 404 never ends a running job",
			setup: func(*testing.T) (fmAnswer, [][2]string, string) {
				return only(fmJob, func(w http.ResponseWriter, n int) {
					if n == 1 {
						writeJob(w, fmJob, "RUNNING", "")
						return
					}
					writeError(w, http.StatusNotFound, "APIG.0101", gatewayMsg)
				}), ecsJob(fmJob), ""
			},
			run: func(t *testing.T, h *fmHarness, cloud *fmCloud) map[string]*dto.MetricFamily {
				mfs := scrapeSpaced(h, 3, "prom")
				if v := value(mfs, "huaweicloud_job_status", jobStatus(fmJob, "RUNNING")); v != 1 {
					t.Errorf("RUNNING = %v, want 1: the last known state stays", v)
				}
				if v := value(mfs, "huaweicloud_job_vanished", job(fmJob)); v != -1 {
					t.Errorf("vanished = %v: a gateway answer is not the job's", v)
				}
				if n := cloud.count(fmJob); n != 3 {
					t.Errorf("asked %d times in 3 scrapes, want 3: the job is still watched", n)
				}
				return mfs
			},
			reason: [2]string{"ecs", huaweicloud.ReasonEndpoint},
		},
		{
			// The confirmation (3 answers over 2 min) and the vanished state are proven with a moved clock
			// in collector.TestNotFoundIsConfirmedBeforeAJobIsGivenUp; here: no give-up on one answer.
			item: 2, name: "one not-found answer is not proof",
			setup: func(*testing.T) (fmAnswer, [][2]string, string) {
				return only(fmJob, func(w http.ResponseWriter, n int) {
					if n == 1 {
						writeJob(w, fmJob, "RUNNING", "")
						return
					}
					writeError(w, http.StatusBadRequest, "Common.0011", "Failed to query system tasks")
				}), ecsJob(fmJob), ""
			},
			run: func(t *testing.T, h *fmHarness, _ *fmCloud) map[string]*dto.MetricFamily {
				mfs := scrapeSpaced(h, 2, "prom")
				if v := value(mfs, "huaweicloud_job_status", jobStatus(fmJob, "RUNNING")); v != 1 {
					t.Errorf("RUNNING = %v, want 1", v)
				}
				if v := value(mfs, "huaweicloud_job_vanished", job(fmJob)); v != -1 {
					t.Errorf("vanished after one answer = %v", v)
				}
				return mfs
			},
			reason: [2]string{"ecs", huaweicloud.ReasonNotFound},
		},
		{
			item: 3, name: "discovered id the API never knew is dropped",
			setup: func(t *testing.T) (fmAnswer, [][2]string, string) {
				path := filepath.Join(t.TempDir(), "jobs.yml")
				if err := os.WriteFile(path, []byte("- {service: ecs, id: "+fmJob+"}\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return only(fmJob, func(w http.ResponseWriter, _ int) {
					writeError(w, http.StatusBadRequest, "Common.0011", "Failed to query system tasks")
				}), nil, fmt.Sprintf("    discovery: {files: [%q]}\n", path)
			},
			run: func(t *testing.T, h *fmHarness, cloud *fmCloud) map[string]*dto.MetricFamily {
				eventually(t, "the file's job is watched", func() bool { return watching(h.ex, fmJob) })
				mfs := scrapeSpaced(h, 3, "prom")
				if n := cloud.count(fmJob); n != 1 {
					t.Errorf("asked %d times, want 1", n)
				}
				if v := value(mfs, "huaweicloud_job_query_success", job(fmJob)); v != -1 {
					t.Errorf("a dropped job is exported (query_success %v)", v)
				}
				if v := value(mfs, "huaweicloud_job_exporter_discovered_jobs_dropped_total", map[string]string{"service": "ecs"}); v != 1 {
					t.Errorf("discovered_jobs_dropped_total = %v, want 1", v)
				}
				return mfs
			},
			reason: [2]string{"ecs", huaweicloud.ReasonNotFound},
		},
		{
			item: 4, name: "pending payment is not asked every scrape",
			setup: func(*testing.T) (fmAnswer, [][2]string, string) {
				return only(fmJob, func(w http.ResponseWriter, _ int) { writeJob(w, fmJob, "PENDING_PAYMENT", "") }), ecsJob(fmJob), ""
			},
			run: func(t *testing.T, h *fmHarness, cloud *fmCloud) map[string]*dto.MetricFamily {
				mfs := scrapeSpaced(h, 3, "prom")
				if n := cloud.count(fmJob); n != 1 {
					t.Errorf("asked %d times in 3 scrapes, want 1", n)
				}
				if v := value(mfs, "huaweicloud_job_status", jobStatus(fmJob, "PENDING_PAYMENT")); v != 1 {
					t.Errorf("PENDING_PAYMENT = %v, want 1", v)
				}
				return mfs
			},
		},
		{
			item: 5, name: "final job without end_time stops its run time",
			setup: func(*testing.T) (fmAnswer, [][2]string, string) {
				return only(fmJob, func(w http.ResponseWriter, _ int) {
					fmt.Fprintf(w, `{"status": "SUCCESS", "job_id": %q, "job_type": "createServer", "begin_time": "2026-03-01T09:40:00.000Z", "end_time": null, "entities": {}}`, fmJob)
				}), ecsJob(fmJob), ""
			},
			run: func(t *testing.T, h *fmHarness, _ *fmCloud) map[string]*dto.MetricFamily {
				first := value(h.scrape("prom"), "huaweicloud_job_duration_seconds", job(fmJob))
				mfs := scrapeSpaced(h, 2, "prom")
				if v := value(mfs, "huaweicloud_job_duration_seconds", job(fmJob)); v != first || v <= 0 {
					t.Errorf("duration %v then %v, want the same positive value", first, v)
				}
				return mfs
			},
		},
		{
			item: 6, name: "reload moves every job to the new endpoint",
			setup: func(*testing.T) (fmAnswer, [][2]string, string) { return nil, ecsJob(fmJob), "" },
			run: func(t *testing.T, h *fmHarness, cloud *fmCloud) map[string]*dto.MetricFamily {
				h.scrape("prom")
				moved := newFMCloud(t, nil)
				if err := h.ex.Apply(fmConfig(t, moved.URL, moved.URL, ecsJob(fmJob), ""), os.Getenv); err != nil {
					t.Fatal(err)
				}
				mfs := scrapeSpaced(h, 2, "prom")
				if a, b := cloud.count(fmJob), moved.count(fmJob); a != 1 || b != 1 {
					t.Errorf("asked %d times at the old endpoint and %d at the new, want 1 and 1", a, b)
				}
				return mfs
			},
		},
		{
			item: 7, name: "default endpoints follow the SDK's region tables",
			setup: func(*testing.T) (fmAnswer, [][2]string, string) { return nil, nil, "" },
			run: func(t *testing.T, h *fmHarness, _ *fmCloud) map[string]*dto.MetricFamily {
				for _, c := range []struct {
					s    huaweicloud.Service
					want string
				}{
					{huaweicloud.CTS, "https://cts.eu-west-101.myhuaweicloud.eu"},
					{huaweicloud.ECS, "https://ecs.eu-west-101.myhuaweicloud.com"},
				} {
					if got := huaweicloud.DefaultEndpoint(c.s, "eu-west-101"); got != c.want {
						t.Errorf("%s eu-west-101: %s, want %s", c.s, got, c.want)
					}
				}
				return h.scrape("prom")
			},
		},
		{
			item: 8, name: "IMS sub-jobs and progress",
			setup: func(t *testing.T) (fmAnswer, [][2]string, string) {
				body, err := os.ReadFile("testdata/api/ims-volumesToSysDataImages-running.json")
				if err != nil {
					t.Fatal(err)
				}
				return only(fmJob, func(w http.ResponseWriter, _ int) { _, _ = w.Write(body) }), [][2]string{{"ims", fmJob}}, ""
			},
			run: func(t *testing.T, h *fmHarness, _ *fmCloud) map[string]*dto.MetricFamily {
				mfs := h.scrape("prom")
				if v := value(mfs, "huaweicloud_job_sub_jobs_by_status", jobStatus(fmJob, "FAIL")); v != 1 {
					t.Errorf("failed IMS sub-jobs = %v, want 1", v)
				}
				if v := value(mfs, "huaweicloud_job_progress_ratio", job(fmJob)); v != 0.45 {
					t.Errorf("progress = %v, want 0.45", v)
				}
				return mfs
			},
		},
		{
			item: 9, name: "every pull of one Prometheus refreshes",
			setup: func(*testing.T) (fmAnswer, [][2]string, string) { return nil, nil, "" },
			run: func(t *testing.T, h *fmHarness, cloud *fmCloud) map[string]*dto.MetricFamily {
				// Pulls 1.1 s apart, far inside min_query_interval (10s): each must still refresh.
				mfs := scrapeSpaced(h, 3, "Prometheus/3.5.0")
				if n := cloud.count(fmControl); n != 3 {
					t.Errorf("control asked %d times in 3 pulls, want 3", n)
				}
				return mfs
			},
		},
		{
			item: 10, name: "403 on one service blinds only that service",
			setup: func(*testing.T) (fmAnswer, [][2]string, string) {
				return only(fmJob, func(w http.ResponseWriter, _ int) {
					writeError(w, http.StatusForbidden, "APIG.0302", "The IAM user is not authorized to access the API")
				}), [][2]string{{"evs", fmJob}}, ""
			},
			run: func(t *testing.T, h *fmHarness, cloud *fmCloud) map[string]*dto.MetricFamily {
				mfs := scrapeSpaced(h, 3, "prom")
				if n := h.evs.count(fmJob); n != 1 {
					t.Errorf("EVS job asked %d times, want 1: the denied service and project rest", n)
				}
				if n := cloud.count(fmControl); n != 3 {
					t.Errorf("ECS control asked %d times, want 3: the key's other services go on", n)
				}
				for _, r := range []string{huaweicloud.ReasonAuth, huaweicloud.ReasonAuthBackoff} {
					for _, s := range []string{"ecs", "evs"} {
						if v := value(mfs, "huaweicloud_job_exporter_job_query_failures_total", reason(s, r)); v > 0 {
							t.Errorf("%s %s = %v, want 0: a permission gap is not a bad key", s, r, v)
						}
					}
				}
				return mfs
			},
			reason: [2]string{"evs", huaweicloud.ReasonPermission},
		},
		revokedKeyRow(),
		unsentPullRow(),
		repeatClientRow(),
		{
			item: 12, name: "Retry-After of 11 days does not outlive the scrape",
			setup: func(*testing.T) (fmAnswer, [][2]string, string) {
				return only(fmJob, func(w http.ResponseWriter, _ int) {
					w.Header().Set("Retry-After", "999999")
					writeError(w, http.StatusTooManyRequests, "APIG.0308", "The throttling threshold has been reached")
				}), [][2]string{{"evs", fmJob}}, ""
			},
			run: func(t *testing.T, h *fmHarness, _ *fmCloud) map[string]*dto.MetricFamily {
				mfs := scrapeSpaced(h, 2, "prom")
				if v := value(mfs, "huaweicloud_job_exporter_api_requests_total", map[string]string{"code": "error"}); v > 0 {
					t.Errorf("api_requests_total{code=error} = %v, want 0: requests never sent are not API requests", v)
				}
				if v := value(mfs, "huaweicloud_job_exporter_job_query_failures_total", reason("evs", huaweicloud.ReasonTimeout)); v > 0 {
					t.Errorf("timeout = %v, want 0: a query held back by Retry-After is throttled", v)
				}
				return mfs
			},
			reason: [2]string{"evs", huaweicloud.ReasonThrottled},
		},
		{
			item: 13, name: "invalid UTF-8 inside a JSON array keeps the exposition valid",
			setup: func(*testing.T) (fmAnswer, [][2]string, string) {
				return only(fmJob, func(w http.ResponseWriter, _ int) {
					_, _ = w.Write([]byte(`{"status": "RUNNING", "job_id": "` + fmJob + `", "job_type": ["create` + "\xff" + `Server"], "begin_time": "2026-03-01T09:40:00.000Z", "entities": {"server_id": {"id": "` + "\xfe" + `"}}}`))
				}), ecsJob(fmJob), ""
			},
			run: func(t *testing.T, h *fmHarness, _ *fmCloud) map[string]*dto.MetricFamily {
				mfs := h.scrape("prom") // parsing it is the check
				if v := value(mfs, "huaweicloud_job_status", jobStatus(fmJob, "RUNNING")); v != 1 {
					t.Errorf("RUNNING = %v, want 1", v)
				}
				return mfs
			},
		},
		fifoRow(),
		hugeRow(),
	}
}

// revokedKeyRow: a key that worked is revoked; five Prometheus pull at once, each for 40 jobs. Huawei
// locks a key after 5 failures: the exporter must stay at 2.
func revokedKeyRow() fmRow {
	var mu sync.Mutex
	var revoked bool
	ids := make([]string, 40)
	for i := range ids {
		ids[i] = fmt.Sprintf("e%031d", i)
	}
	return fmRow{
		item: 11, name: "a revoked key fails at most twice",
		setup: func(*testing.T) (fmAnswer, [][2]string, string) {
			return func(w http.ResponseWriter, _ *http.Request, _ string, _ int) bool {
				mu.Lock()
				defer mu.Unlock()
				if revoked {
					writeError(w, http.StatusUnauthorized, "APIG.0301", "Incorrect IAM authentication information: verify aksk signature fail")
				}
				return revoked
			}, ecsJob(ids...), ""
		},
		run: func(t *testing.T, h *fmHarness, cloud *fmCloud) map[string]*dto.MetricFamily {
			h.scrape("prom-0")
			mu.Lock()
			revoked = true
			mu.Unlock()
			// Revoked between two pulls a second apart (as of an HA pair): the key has been quiet longer than
			// the client trusts a key without asking (0.5 s). A key revoked while a scrape's requests are on
			// the wire costs those requests (at most concurrency), which nothing can recall: README "Key
			// protection".
			time.Sleep(1100 * time.Millisecond)
			var wg sync.WaitGroup
			for i := range 5 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					h.scrape(fmt.Sprintf("prom-%d", i))
				}()
			}
			wg.Wait()
			if n := cloud.answered(http.StatusUnauthorized); n > 2 {
				t.Errorf("%d authentication failures, want at most 2", n)
			}
			return h.scrape("prom-0")
		},
		controlLost: true,
		reason:      [2]string{"ecs", huaweicloud.ReasonAuth},
	}
}

// fifoRow: a FIFO in a job-file glob; before, reading it hung discovery, then a reload and everything
// behind the exporter's lock.
func fifoRow() fmRow {
	var dir string
	return fmRow{
		item: 14, name: "a FIFO in a job-file glob hangs nothing",
		setup: func(t *testing.T) (fmAnswer, [][2]string, string) {
			dir = t.TempDir()
			if err := syscall.Mkfifo(filepath.Join(dir, "a.yml"), 0o644); err != nil {
				t.Skipf("no FIFOs here: %v", err)
			}
			if err := os.WriteFile(filepath.Join(dir, "b.yml"), []byte("- {service: ecs, id: "+fmJob+"}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return nil, nil, fmt.Sprintf("    discovery: {files: [%q]}\n", filepath.Join(dir, "*.yml"))
		},
		run: func(t *testing.T, h *fmHarness, cloud *fmCloud) map[string]*dto.MetricFamily {
			eventually(t, "the regular file's job is watched", func() bool { return watching(h.ex, fmJob) })
			done := make(chan error, 1)
			go func() {
				done <- h.ex.Apply(fmConfig(t, cloud.URL, h.evs.URL, nil,
					fmt.Sprintf("    discovery: {files: [%q, %q]}\n", filepath.Join(dir, "*.yml"), filepath.Join(dir, "*.json"))), os.Getenv)
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(waitTimeout):
				t.Fatalf("reload did not return within %v", waitTimeout)
			}
			eventually(t, "the restarted source lists the regular file's job", func() bool { return watching(h.ex, fmJob) })
			mfs := h.scrape("prom")
			if v := value(mfs, "huaweicloud_job_status", jobStatus(fmJob, "RUNNING")); v != 1 {
				t.Errorf("the regular file's job RUNNING = %v, want 1", v)
			}
			if v := value(mfs, "huaweicloud_job_exporter_discovery_refreshes_total", map[string]string{"result": "failure"}); v < 1 {
				t.Errorf("discovery failures = %v, want >= 1 naming the FIFO", v)
			}
			return mfs
		},
	}
}

// hugeRow: a 900 KB error message, a 100 KB job_type, a job whose 8,000 failed sub-jobs each carry their
// own error code.
func hugeRow() fmRow {
	const huge, longType, codes = "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0", "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0", "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0"
	return fmRow{
		item: 15, name: "huge texts and thousands of error codes are capped",
		setup: func(*testing.T) (fmAnswer, [][2]string, string) {
			var subJobs strings.Builder
			for i := range 8000 {
				if i > 0 {
					subJobs.WriteString(",")
				}
				fmt.Fprintf(&subJobs, `{"status":"FAIL","error_code":"Ecs.%04d"}`, i)
			}
			answer := func(w http.ResponseWriter, _ *http.Request, id string, _ int) bool {
				switch id {
				case huge:
					writeError(w, http.StatusBadRequest, "Ecs.0005", strings.Repeat("x", 900<<10))
				case longType:
					fmt.Fprintf(w, `{"status": "RUNNING", "job_id": %q, "job_type": %q, "begin_time": "2026-03-01T09:40:00.000Z", "entities": {}}`, id, strings.Repeat("t", 100<<10))
				case codes:
					// Ended a minute ago: within final_job_ttl, so it is exported.
					end := time.Now().Add(-time.Minute).UTC().Format("2006-01-02T15:04:05.000Z")
					fmt.Fprintf(w, `{"status": "FAIL", "job_id": %q, "job_type": "createServers", "begin_time": "2026-03-01T09:40:00.000Z", "end_time": %q, "entities": {"sub_jobs": [%s]}}`, id, end, subJobs.String())
				default:
					return false
				}
				return true
			}
			return answer, ecsJob(huge, longType, codes), ""
		},
		run: func(t *testing.T, h *fmHarness, _ *fmCloud) map[string]*dto.MetricFamily {
			mfs := h.scrape("prom")
			if v := value(mfs, "huaweicloud_job_query_success", job(codes)); v != 1 {
				t.Errorf("job with 8,000 failed sub-jobs: query_success %v, want 1", v)
			}
			for name, mf := range mfs {
				for _, m := range mf.GetMetric() {
					for _, lp := range m.GetLabel() {
						if len(lp.GetValue()) > 256 {
							t.Errorf("%s{%s} is %d bytes", name, lp.GetName(), len(lp.GetValue()))
						}
					}
				}
			}
			var series int
			var sum float64
			for _, m := range mfs["huaweicloud_job_failures"].GetMetric() {
				series++
				sum += m.GetGauge().GetValue()
			}
			if series > 20 || sum != 8000 {
				t.Errorf("failures: %d series summing to %v, want at most 20 summing to 8000", series, sum)
			}
			if v := value(mfs, "huaweicloud_job_exporter_truncated_values_total", map[string]string{"field": "job_type"}); v < 1 {
				t.Errorf("truncated_values_total{field=job_type} = %v, want >= 1", v)
			}
			return mfs
		},
		reason: [2]string{"ecs", huaweicloud.ReasonClientError},
	}
}
