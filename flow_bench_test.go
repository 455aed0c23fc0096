package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/app"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/selfmetrics"
)

// BenchmarkSteadyPullOnDefaults measures issue 19's figure: the wall time of a steady pull of 1,000
// unfinished jobs of one project at 20 ms API latency with the shipped defaults (concurrency 16, no
// fixed rate_limit), pulled as Prometheus does (X-Prometheus-Scrape-Timeout-Seconds: 10), against the
// bound ceil(unfinished / concurrency) x latency. Pulls are 2.6 s apart (a scraper pulling more often
// than min_query_interval/4 is served from memory); the pause is not timed. Run with -benchtime 5x:
//
//	go test -run '^$' -bench SteadyPullOnDefaults -benchtime 5x .
func BenchmarkSteadyPullOnDefaults(b *testing.B) {
	const (
		unfinished = 1000
		latency    = 20 * time.Millisecond
	)
	fb := newFlowBench(b, unfinished, latency)
	calls, pull, cfg := &fb.calls, fb.pull, fb.cfg
	pull() // the first pull: every job unknown
	concurrency := cfg.Concurrency
	bound := time.Duration(math.Ceil(float64(unfinished)/float64(concurrency))) * latency

	b.ResetTimer()
	var worst, total time.Duration
	var refreshed int64
	for range b.N {
		b.StopTimer()
		time.Sleep(2600 * time.Millisecond)
		before := calls.Load()
		b.StartTimer()
		start := time.Now()
		pull()
		wall := time.Since(start)
		b.StopTimer()
		worst, total = max(worst, wall), total+wall
		refreshed += calls.Load() - before
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(refreshed)/float64(b.N), "calls/pull")
	b.ReportMetric(bound.Seconds(), "bound-s")
	b.ReportMetric(total.Seconds()/float64(b.N)/bound.Seconds(), "mean-wall/bound")
	b.ReportMetric(worst.Seconds()/bound.Seconds(), "worst-wall/bound")
}

// BenchmarkRestartPullsUntilWhole measures issue 19's "after a restart at scale": 10,000 watched jobs
// never answered, 20 ms API latency, the shipped defaults, pulls as Prometheus' (10 s timeout, 15 s
// interval, the pause not waited for: a pull ends at its deadline anyway). It reports how many pulls it
// takes until every job has an answer. Each pull spends its whole budget on the jobs never answered.
//
//	go test -run '^$' -bench RestartPullsUntilWhole -benchtime 1x .
func BenchmarkRestartPullsUntilWhole(b *testing.B) {
	const jobs = 10000
	for range b.N {
		fb := newFlowBench(b, jobs, 20*time.Millisecond)
		answered := func() (n int) {
			for _, s := range fb.ex.Collector().Snapshot() {
				if s.Status != "" {
					n++
				}
			}
			return n
		}
		pulls := 0
		for pulls < 10 && answered() < jobs {
			fb.pull()
			pulls++
		}
		if n := answered(); n != jobs {
			b.Fatalf("%d of %d jobs answered after %d pulls", n, jobs, pulls)
		}
		b.ReportMetric(float64(pulls), "pulls-until-whole")
		fb.close()
	}
}

// flowBench is an exporter on the shipped defaults watching n RUNNING jobs of one project in a fake
// cloud that answers after latency.
type flowBench struct {
	calls atomic.Int64
	cfg   *config.Config
	ex    *app.Exporter
	pull  func()
	close func()
}

func newFlowBench(b *testing.B, n int, latency time.Duration) *flowBench {
	b.Helper()
	fb := &flowBench{}
	cloud := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fb.calls.Add(1)
		time.Sleep(latency)
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		writeJob(w, parts[len(parts)-1], "RUNNING", "")
	}))
	var cfgText strings.Builder
	cfgText.WriteString("credentials: {access_key: HPUATESTAK0000000001, secret_key: test-secret-key}\n")
	fmt.Fprintf(&cfgText, "projects:\n  - region: %s\n    project_id: %s\n    endpoints: {ecs: %q}\n    jobs:\n",
		testRegion, testProject, cloud.URL)
	for i := range n {
		fmt.Fprintf(&cfgText, "      - {service: ecs, id: %032x}\n", i)
	}
	cfg, err := config.Decode(strings.NewReader(cfgText.String()))
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	ex := app.New(context.Background(), selfmetrics.New(reg), log.NewNopLogger())
	if err := ex.Apply(cfg, os.Getenv); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(ex.Collector().Handler(reg, 500*time.Millisecond, ex.Timeout, log.NewNopLogger()))
	fb.cfg, fb.ex = cfg, ex
	fb.pull = func() {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10")
		req.Header.Set("User-Agent", "Prometheus/3.5.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
	var once sync.Once
	fb.close = func() {
		once.Do(func() {
			srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			_ = ex.Stop(ctx)
			cloud.Close()
		})
	}
	b.Cleanup(fb.close)
	return fb
}
