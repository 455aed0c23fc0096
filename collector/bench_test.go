package collector

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// populated returns a collector holding n answered jobs, one in ten unfinished, as after a first scrape.
func populated(tb testing.TB, n int) *Collector {
	tb.Helper()
	g := newFakeGetter()
	jobs := make([]WatchedJob, n)
	for i := range n {
		id := fmt.Sprintf("ff80808288d41e1b0189%012x", i)
		status := "SUCCESS"
		switch {
		case i%10 == 0:
			status = "RUNNING"
		case i%97 == 0:
			status = "FAIL"
		}
		j := job(id, status)
		if i%5 == 0 {
			j.SubJobsTotal = 3
			j.SubJobs = []huaweicloud.SubJob{{JobID: id + "a", Status: "SUCCESS"}, {JobID: id + "b", Status: "SUCCESS"}, {JobID: id + "c", Status: status}}
		}
		if status == "FAIL" {
			j.ErrorCode, j.FailReason, j.ResourceID = "Ecs.0005", "insufficient capacity in the availability zone", "bae51750-0089-41a1-9b18-5c777978ff6d"
		}
		g.set(id, j, nil)
		jobs[i] = WatchedJob{Target: huaweicloud.Target{Service: huaweicloud.JobServices[i%4], Region: "ap-southeast-1", ProjectID: "0123456789abcdef0123456789abcdef"}, JobID: id}
	}
	// A long min_query_interval keeps the benchmark on the exposition path, away from the (fake) API.
	// The clock stands at the jobs' time, or the finished ones would already be retired.
	c := New(g, Options{Concurrency: 64, MinQueryInterval: time.Hour, FinalJobTTL: 24 * time.Hour}, nil, WithClock(func() time.Time { return t0 }))
	c.SetJobs("config", jobs)
	c.Refresh(tb.(interface{ Context() context.Context }).Context())
	// Drop the fake API's copies of the answers so that heap figures count only the collector.
	c.SetGetter(newFakeGetter())
	return c
}

// BenchmarkScrape measures one /metrics answer for 10,000 watched jobs (1,000 unfinished): collect and
// text encoding, uncompressed, which is the CPU an exporter spends per scrape besides the API calls.
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("jobs=%d", n), func(b *testing.B) {
			c := populated(b, n)
			h := c.Handler(prometheus.NewRegistry(), 0, func() time.Duration { return time.Second }, nil)
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			var size int64
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for b.Loop() {
				w := &countingWriter{header: http.Header{}}
				h.ServeHTTP(w, req)
				size = w.n
			}
			// Process CPU time, GC included: on a shared machine it varies far less than ns/op.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(size), "bytes/scrape")
		})
	}
}

// BenchmarkHeapPerJob reports the heap the collector holds per watched, answered job.
func BenchmarkHeapPerJob(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("jobs=%d", n), func(b *testing.B) {
			var perJob float64
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				c := populated(b, n)
				// A pull renders each job's labels once and keeps them: part of the steady heap.
				_ = c.WriteText(io.Discard)
				runtime.GC()
				runtime.ReadMemStats(&after)
				perJob = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
				runtime.KeepAlive(c)
			}
			b.ReportMetric(perJob, "heap-bytes/job")
		})
	}
}

type countingWriter struct {
	header http.Header
	n      int64
}

func (w *countingWriter) Header() http.Header { return w.header }
func (w *countingWriter) WriteHeader(int)     {}
func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

var _ io.Writer = (*countingWriter)(nil)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
