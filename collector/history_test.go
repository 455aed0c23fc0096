package collector

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

// runSpec is a scripted job: it runs from begin to end and then has status outcome.
type runSpec struct {
	w          WatchedJob
	jobType    string
	outcome    string
	begin, end time.Time
}

// scriptGetter answers each scripted job as the API would at the clock's time: RUNNING until its end,
// then its outcome with end_time. Read-only after construction, so safe for concurrent queries.
type scriptGetter struct {
	now  func() time.Time
	jobs map[string]runSpec
}

func (g scriptGetter) GetJob(_ context.Context, _ huaweicloud.Target, id string) (*huaweicloud.Job, error) {
	s, ok := g.jobs[id]
	if !ok || g.now().Before(s.begin) {
		return nil, notFoundErr
	}
	j := &huaweicloud.Job{Service: s.w.Target.Service, JobID: id, JobType: s.jobType, Status: huaweicloud.StatusRunning, BeginTime: s.begin}
	if !g.now().Before(s.end) {
		j.Status, j.EndTime = s.outcome, s.end
	}
	return j, nil
}

// scriptedDay returns n jobs that began over the 30 hours before end (some ended more than a day before
// end, so a 24h final_job_ttl retires them), of a few job types, services and projects, with run times
// in whole seconds from 10 s to 5 h: whole seconds add up exactly in float64 in any order, so histograms
// built in another order (shards, a restart) can be compared for equality.
func scriptedDay(seed uint64, n int, end time.Time) []runSpec {
	r := rand.New(rand.NewPCG(seed, seed))
	types := []string{"createServer", "deleteServer", "attachVolume", "exportImage", "createVolume"}
	watched := randomJobs(seed, n)
	out := make([]runSpec, n)
	for i, w := range watched {
		begin := end.Add(-time.Duration(r.IntN(30*3600)) * time.Second)
		d := time.Duration(10+r.IntN(5*3600)) * time.Second
		outcome := huaweicloud.StatusSuccess
		if r.IntN(5) == 0 {
			outcome = huaweicloud.StatusFail
		}
		out[i] = runSpec{w: w, jobType: types[r.IntN(len(types))], outcome: outcome, begin: begin, end: begin.Add(d)}
	}
	return out
}

func scriptGetterOf(now func() time.Time, specs []runSpec) scriptGetter {
	g := scriptGetter{now: now, jobs: map[string]runSpec{}}
	for _, s := range specs {
		g.jobs[s.w.JobID] = s
	}
	return g
}

// historyText is the history as /metrics writes it.
func historyText(t *testing.T, c *Collector) string {
	t.Helper()
	return string(collectedText(t, c.HistoryCollector()))
}

var histTarget = huaweicloud.Target{Service: huaweicloud.ECS, Region: "ap-southeast-1", ProjectID: "p1"}

func histJob(id, jobType, status string, d time.Duration) *huaweicloud.Job {
	j := &huaweicloud.Job{Service: huaweicloud.ECS, JobID: id, JobType: jobType, Status: status, BeginTime: t0.Add(-d)}
	if status == statusSuccess || status == statusFail {
		j.EndTime = t0
	}
	return j
}

// TestHistoryExposition: which jobs count and in which bucket, in the exact text Prometheus reads, and
// the family passes the linter (promtool check metrics' rules).
func TestHistoryExposition(t *testing.T) {
	g := newFakeGetter()
	jobs := map[string]*huaweicloud.Job{
		"s30":   histJob("s30", "createServer", statusSuccess, 30*time.Second), // le is inclusive: bucket 30
		"s45":   histJob("s45", "createServer", statusSuccess, 45*time.Second),
		"f2h":   histJob("f2h", "createServer", statusFail, 2*time.Hour+time.Second),
		"run":   histJob("run", "createServer", huaweicloud.StatusRunning, time.Hour), // unfinished: not history
		"noend": {Service: huaweicloud.ECS, JobID: "noend", JobType: "createServer", Status: statusSuccess, BeginTime: t0.Add(-time.Minute)},
		"nobeg": {Service: huaweicloud.ECS, JobID: "nobeg", JobType: "createServer", Status: statusSuccess, EndTime: t0},
		"neg":   {Service: huaweicloud.ECS, JobID: "neg", JobType: "createServer", Status: statusSuccess, BeginTime: t0, EndTime: t0.Add(-time.Second)},
		"15d":   histJob("15d", "exportImage", statusSuccess, 15*24*time.Hour), // +Inf only
	}
	var ws []WatchedJob
	for id, j := range jobs {
		g.set(id, j, nil)
		ws = append(ws, WatchedJob{Target: histTarget, JobID: id})
	}
	clk := fakeclock.New(t0)
	c := New(g, DefaultOptions, nil, WithClock(clk.Now))
	c.SetJobs(ConfigSource, ws)
	c.Refresh(t.Context())

	want := `
# HELP huaweicloud_job_history_duration_seconds ` + historyHelp + `
# TYPE huaweicloud_job_history_duration_seconds histogram
` + bucketLines("createServer", "FAIL", map[float64]int{10800: 1}) + `huaweicloud_job_history_duration_seconds_sum{job_type="createServer",outcome="FAIL",project_id="p1",region="ap-southeast-1",service="ecs"} 7201
huaweicloud_job_history_duration_seconds_count{job_type="createServer",outcome="FAIL",project_id="p1",region="ap-southeast-1",service="ecs"} 1
` + bucketLines("createServer", "SUCCESS", map[float64]int{30: 1, 60: 1}) + `huaweicloud_job_history_duration_seconds_sum{job_type="createServer",outcome="SUCCESS",project_id="p1",region="ap-southeast-1",service="ecs"} 75
huaweicloud_job_history_duration_seconds_count{job_type="createServer",outcome="SUCCESS",project_id="p1",region="ap-southeast-1",service="ecs"} 2
` + bucketLines("exportImage", "SUCCESS", map[float64]int{math.Inf(1): 1}) + `huaweicloud_job_history_duration_seconds_sum{job_type="exportImage",outcome="SUCCESS",project_id="p1",region="ap-southeast-1",service="ecs"} 1.296e+06
huaweicloud_job_history_duration_seconds_count{job_type="exportImage",outcome="SUCCESS",project_id="p1",region="ap-southeast-1",service="ecs"} 1
`
	if err := testutil.CollectAndCompare(c.HistoryCollector(), strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.CollectAndLint(c.HistoryCollector()); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

// bucketLines writes the cumulative bucket lines of one histogram whose non-cumulative counts are at
// (by upper bound; +Inf for the jobs above the last bound).
func bucketLines(jobType, outcome string, at map[float64]int) string {
	var b strings.Builder
	n := 0
	for _, le := range historyBuckets {
		n += at[le]
		fmt.Fprintf(&b, "huaweicloud_job_history_duration_seconds_bucket{job_type=%q,outcome=%q,project_id=\"p1\",region=\"ap-southeast-1\",service=\"ecs\",le=\"%g\"} %d\n",
			jobType, outcome, le, n)
	}
	for le, k := range at {
		if le > historyBuckets[len(historyBuckets)-1] {
			n += k
		}
	}
	fmt.Fprintf(&b, "huaweicloud_job_history_duration_seconds_bucket{job_type=%q,outcome=%q,project_id=\"p1\",region=\"ap-southeast-1\",service=\"ecs\",le=\"+Inf\"} %d\n",
		jobType, outcome, n)
	return b.String()
}

// watchDay runs an exporter through a day: every 5 minutes it discovers the jobs that began by then
// (as CTS does) and refreshes them, so it sees each job run and end. It returns the collector at end.
func watchDay(t *testing.T, specs []runSpec, start, end time.Time, shard, shards int) *Collector {
	t.Helper()
	clk := fakeclock.New(start)
	c := New(scriptGetterOf(clk.Now, specs), Options{MinQueryInterval: time.Second}, nil, WithClock(clk.Now), WithShard(shard, shards))
	for now := start; !now.After(end); now = now.Add(5 * time.Minute) {
		clk.Set(now)
		var seen []WatchedJob
		for _, s := range specs {
			if !s.begin.After(now) {
				seen = append(seen, s.w)
			}
		}
		c.SetJobs("cts/test", seen)
		c.Refresh(t.Context())
	}
	return c
}

// rediscover is an exporter (re)started at end: it discovers a day and a half of jobs at once and asks
// each once, as after a restart.
func rediscover(t *testing.T, specs []runSpec, end time.Time, shard, shards int) *Collector {
	t.Helper()
	clk := fakeclock.New(end)
	c := New(scriptGetterOf(clk.Now, specs), DefaultOptions, nil, WithClock(clk.Now), WithShard(shard, shards))
	var all []WatchedJob
	for _, s := range specs {
		all = append(all, s.w)
	}
	c.SetJobs("cts/test", all)
	c.Refresh(t.Context())
	return c
}

// TestHistoryIsTheSameAfterARestart: an exporter that watched a day of jobs end one by one, and one
// started at the end that re-discovers them all at once (a restart, or a second exporter), export the
// same history: nothing is counted twice, retired jobs count in neither, unfinished ones in neither.
func TestHistoryIsTheSameAfterARestart(t *testing.T) {
	end := t0.Add(30 * time.Hour)
	specs := scriptedDay(7, 600, end)
	watchedAll := watchDay(t, specs, t0, end, 0, 1)
	restarted := rediscover(t, specs, end, 0, 1)
	got, want := historyText(t, restarted), historyText(t, watchedAll)
	if got != want {
		t.Fatalf("history after a restart differs from the one watched live:\n%s", lineDiff(got, want))
	}
	if !strings.Contains(want, `outcome="FAIL"`) || !strings.Contains(want, `job_type="exportImage"`) {
		t.Fatalf("scripted day too small to test anything:\n%s", want)
	}
	// A second pull (the other Prometheus of an HA pair) gets the same answer.
	if again := historyText(t, restarted); again != got {
		t.Fatalf("second pull differs:\n%s", lineDiff(again, got))
	}
}

// TestHistoryOfShardsAddsUp: the histograms of 3 shards, summed series by series, are the unsharded
// exporter's, whether the shards watched the day live or were started at its end.
func TestHistoryOfShardsAddsUp(t *testing.T) {
	end := t0.Add(30 * time.Hour)
	specs := scriptedDay(11, 900, end)
	whole := rediscover(t, specs, end, 0, 1)
	wantKeys, wantAggs := whole.history()
	for _, live := range []bool{false, true} {
		t.Run(fmt.Sprintf("live=%v", live), func(t *testing.T) {
			sum := map[historyKey]*historyAgg{}
			for shard := range 3 {
				var c *Collector
				if live {
					c = watchDay(t, specs, t0, end, shard, 3)
				} else {
					c = rediscover(t, specs, end, shard, 3)
				}
				keys, aggs := c.history()
				for i, k := range keys {
					if sum[k] == nil {
						sum[k] = new(historyAgg)
					}
					sum[k].merge(aggs[i])
				}
			}
			if len(sum) != len(wantKeys) {
				t.Fatalf("shards have %d histograms, unsharded %d", len(sum), len(wantKeys))
			}
			for i, k := range wantKeys {
				if got := sum[k]; got == nil || *got != *wantAggs[i] {
					t.Errorf("%v: shards sum to %+v, unsharded %+v", k, got, *wantAggs[i])
				}
			}
		})
	}
}

// TestHistoryForgetsRetiredJobs: a job leaves the history when it outlives final_job_ttl, at the
// first pull after, whether or not the job metrics were written in between (which is where jobs are
// marked retired).
func TestHistoryForgetsRetiredJobs(t *testing.T) {
	g := newFakeGetter()
	g.set("old", histJob("old", "createServer", statusSuccess, time.Minute), nil)
	clk := fakeclock.New(t0)
	c := New(g, Options{FinalJobTTL: time.Hour}, nil, WithClock(clk.Now))
	c.SetJobs(ConfigSource, []WatchedJob{{Target: histTarget, JobID: "old"}})
	c.Refresh(t.Context())
	count := func() int {
		_, aggs := c.history()
		n := 0
		for _, a := range aggs {
			n += int(a.count)
		}
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("finished job: %d jobs in the history, want 1", n)
	}
	clk.Add(time.Hour - time.Second)
	if n := count(); n != 1 {
		t.Fatalf("a second before the TTL: %d jobs, want 1", n)
	}
	clk.Add(time.Second)
	if n := count(); n != 0 {
		t.Fatalf("at the TTL: %d jobs, want 0 (retired)", n)
	}
	if s := historyText(t, c); s != "" {
		t.Fatalf("retired job still exported:\n%s", s)
	}
}

// TestHistoryFoldsJobTypesBeyondTheCap: an API that sends a distinct job_type per job makes at most
// maxHistoryJobTypes histograms per project and service, the rest folded into "other", every job still
// counted once.
func TestHistoryFoldsJobTypesBeyondTheCap(t *testing.T) {
	g := newFakeGetter()
	var ws []WatchedJob
	const n = 300
	for i := range n {
		id := fmt.Sprintf("j%03d", i)
		jobType := fmt.Sprintf("type%03d", i)
		if i < 10 {
			jobType = "createServer" // the most frequent type is kept
		}
		g.set(id, histJob(id, jobType, statusSuccess, time.Minute), nil)
		ws = append(ws, WatchedJob{Target: histTarget, JobID: id})
	}
	clk := fakeclock.New(t0)
	c := New(g, DefaultOptions, nil, WithClock(clk.Now))
	c.SetJobs(ConfigSource, ws)
	c.Refresh(t.Context())
	keys, aggs := c.history()
	if len(keys) != maxHistoryJobTypes {
		t.Fatalf("%d histograms, want %d", len(keys), maxHistoryJobTypes)
	}
	total, types := 0, map[string]bool{}
	for i, k := range keys {
		total += int(aggs[i].count)
		types[k.jobType] = true
	}
	if total != n || !types["createServer"] || !types[otherLabel] {
		t.Fatalf("%d jobs counted (want %d), types %v", total, n, types)
	}
}

// BenchmarkHistory measures one gather of the history at 10,000 watched jobs (9,000 finished): the walk
// of the entries under the collector's lock and the histograms' encoding, what each pull adds.
func BenchmarkHistory(b *testing.B) {
	c := populated(b, 10000)
	reg := prometheus.NewRegistry()
	reg.MustRegister(c.HistoryCollector())
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	series := 0
	for _, mf := range mfs {
		series += len(mf.GetMetric()) * (len(historyBuckets) + 3) // buckets, +Inf, _sum, _count
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		var buf bytes.Buffer
		mfs, _ := reg.Gather()
		enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			_ = enc.Encode(mf)
		}
	}
	// Process CPU time (see BenchmarkScrape): steadier than ns/op on a shared machine.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(series), "series")
}
