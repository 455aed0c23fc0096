package collector

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

// runningGetter answers every job as RUNNING with a fresh answer per query, as the API client parses one.
type runningGetter struct{}

func (runningGetter) GetJob(_ context.Context, _ huaweicloud.Target, id string) (*huaweicloud.Job, error) {
	return job(id, "RUNNING"), nil
}

// BenchmarkPrometheusPull measures the /metrics answer as Prometheus gets it (gzip, a series of members
// copied from the exposition cache), which BenchmarkScrape (uncompressed, for curl) does not exercise:
// "steady" pulls follow no change, as the second replica of an HA pair does; "cycle" pulls come 15 s
// apart, each querying the 1 in 10 unfinished jobs (whose last query time changes) before answering.
func BenchmarkPrometheusPull(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		for _, mode := range []string{"steady", "cycle"} {
			b.Run(fmt.Sprintf("jobs=%d/%s", n, mode), func(b *testing.B) {
				c := populated(b, n)
				clk := fakeclock.New(t0)
				if mode == "cycle" {
					c.now = clk.Now
					c.SetOptions(Options{Concurrency: 64, MinQueryInterval: 10 * time.Second, FinalJobTTL: 24 * time.Hour})
					c.SetGetter(runningGetter{})
				}
				h := c.Handler(prometheus.NewRegistry(), 0, func() time.Duration { return time.Second }, nil)
				req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				req.Header.Set("Accept-Encoding", "gzip")
				req.Header.Set("User-Agent", "Prometheus/3.5.0")
				pull := func() int64 {
					clk.Add(15 * time.Second)
					w := &countingWriter{header: http.Header{}}
					h.ServeHTTP(w, req)
					return w.n
				}
				pull() // the first answers of the unfinished jobs differ from populated's
				pull()
				var size int64
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuTime()
				for b.Loop() {
					size = pull()
				}
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(size), "bytes/scrape")
			})
		}
	}
}

// BenchmarkPrintOf measures the print of one job (expoCache.changed takes two per answer recorded): a
// running job with three sub-jobs, as populated has one in ten.
func BenchmarkPrintOf(b *testing.B) {
	j := job("ff80808288d41e1b0189000000000000", "RUNNING")
	j.SubJobsTotal = 3
	j.SubJobs = []huaweicloud.SubJob{{Status: "SUCCESS"}, {Status: "SUCCESS"}, {Status: "RUNNING"}}
	tgt := huaweicloud.Target{Service: huaweicloud.ECS, Region: "ap-southeast-1", ProjectID: "0123456789abcdef0123456789abcdef"}
	e := &entry{target: &tgt, jobID: j.JobID, job: j, ok: true, lastSuccess: unixNanos(t0)}
	x := newExpoCache()
	b.ReportAllocs()
	for b.Loop() {
		x.printOf(e)
	}
}
