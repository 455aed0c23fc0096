package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Rows of TestFaultMatrix for issue 22 (items 1 and 2): hostile clients of /metrics must not blind
// Prometheus nor multiply the API calls.

// pullAs sends one pull of /metrics as a client with agent and scrape-timeout header (none when ""),
// giving up after giveUp (0: never), and returns the status code (0 when the client gave up).
func (h *fmHarness) pullAs(agent, header string, giveUp time.Duration) int {
	req, _ := http.NewRequest(http.MethodGet, h.metrics.URL, nil)
	req.Header.Set("User-Agent", agent)
	if header != "" {
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", header)
	}
	client := &http.Client{Timeout: giveUp}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// hostileLoop pulls /metrics the ways of issue 22.1 until stop is closed, about every interval: with a
// spent budget (0.001 s) or hanging up at once, under rotating identities.
func hostileLoop(h *fmHarness, interval time.Duration, stop chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-time.After(interval):
		}
		agent := fmt.Sprintf("curl/8.5.%d", i%3)
		if i%2 == 0 {
			h.pullAs(agent, "0.001", 0)
		} else {
			h.pullAs(agent, "10", time.Millisecond)
		}
	}
}

func flowJobs(n int) [][2]string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("d%031d", i)
	}
	return ecsJob(ids...)
}

// unsentPullRow (issue 22.1): with a hostile client pulling every 0.3 s beside it, every pull of
// Prometheus is served an answer of every job newer than its own previous pull, and query_success stays
// 1. On the old code the hostile pulls stamped every job as asked and recorded a failure each: Prometheus'
// pulls made no call, and every job showed query_success 0.
func unsentPullRow() fmRow {
	jobs := flowJobs(20)
	return fmRow{
		item: 22, name: "a client whose budget is spent or who hangs up cannot blind Prometheus",
		setup: func(*testing.T) (fmAnswer, [][2]string, string) { return nil, jobs, "" },
		run: func(t *testing.T, h *fmHarness, cloud *fmCloud) (mfs map[string]*dto.MetricFamily) {
			// NaN passed the old check and became a budget of 292 years.
			if code := h.pullAs("curl/8.5.0", "NaN", 0); code != http.StatusBadRequest {
				t.Errorf("pull with a NaN scrape timeout: HTTP %d, want 400", code)
			}
			mfs = h.scrape("Prometheus/3.5.0")
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); hostileLoop(h, 300*time.Millisecond, stop) }()
			prev := time.Now()
			for pull := range 4 {
				time.Sleep(1100 * time.Millisecond)
				start := time.Now()
				mfs = h.scrape("Prometheus/3.5.0")
				stale := 0
				for _, j := range jobs {
					ts := value(mfs, "huaweicloud_job_last_query_timestamp_seconds", job(j[1]))
					if ts < float64(prev.UnixNano())/1e9 || value(mfs, "huaweicloud_job_query_success", job(j[1])) != 1 {
						stale++
					}
				}
				if stale > 0 {
					t.Errorf("Prometheus' pull %d: %d of %d jobs stale or failing beside the hostile client", pull+2, stale, len(jobs))
				}
				prev = start
			}
			close(stop)
			wg.Wait()
			return mfs
		},
	}
}

// repeatClientRow (issue 22.2): beside one Prometheus, a client pulling /metrics four times a second
// (curl without the scrape-timeout header) is served from memory: it adds at most 10% API calls. On the
// old code each of its pulls refreshed every job asked more than a second before.
func repeatClientRow() fmRow {
	jobs := flowJobs(20)
	return fmRow{
		item: 22, name: "a curl loop is served from memory",
		setup: func(*testing.T) (fmAnswer, [][2]string, string) { return nil, jobs, "" },
		run: func(t *testing.T, h *fmHarness, cloud *fmCloud) (mfs map[string]*dto.MetricFamily) {
			const promPulls = 3
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			curlPulls := 0
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					case <-time.After(250 * time.Millisecond):
					}
					h.pullAs("curl/8.5.0", "", 0)
					curlPulls++
				}
			}()
			start := time.Now()
			for i := range promPulls {
				if i > 0 {
					time.Sleep(2 * time.Second)
				}
				mfs = h.scrape("Prometheus/3.5.0")
			}
			close(stop)
			wg.Wait()
			elapsed := time.Since(start)
			calls := 0
			for _, j := range jobs {
				calls += cloud.count(j[1])
			}
			perJob := float64(calls) / float64(len(jobs))
			t.Logf("%d curl pulls and %d of Prometheus in %.1fs: %s API calls per job, %.2fx Prometheus alone (%d)",
				curlPulls, promPulls, elapsed.Seconds(), strconv.FormatFloat(perJob, 'f', 1, 64), perJob/promPulls, promPulls)
			if perJob > 1.1*promPulls {
				t.Errorf("%.1f API calls per job, want at most 10%% over Prometheus' %d", perJob, promPulls)
			}
			return mfs
		},
	}
}
