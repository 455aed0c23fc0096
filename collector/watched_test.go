package collector

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

// TestWatchedJobsCounts: huaweicloud_job_exporter_watched_jobs counts every job once, in its state, per
// service and region, also when jobs of one service and region come from several projects and sources
// (several targets, whose jobs are not all next to each other in key order).
func TestWatchedJobsCounts(t *testing.T) {
	g := newFakeGetter()
	target := func(s huaweicloud.Service, project string) huaweicloud.Target {
		return huaweicloud.Target{Service: s, Region: "ap-southeast-1", ProjectID: project}
	}
	projA, projB := "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	old := job("f", "SUCCESS")
	old.EndTime = t0.Add(-2 * time.Hour) // past final_job_ttl: retired
	for id, j := range map[string]*huaweicloud.Job{"a": job("a", "RUNNING"), "b": job("b", "SUCCESS"), "c": job("c", "FAIL"),
		"d": job("d", "RUNNING"), "f": old, "h": job("h", "INIT")} {
		g.set(id, j, nil)
	}
	clk := fakeclock.New(t0)
	c := New(g, Options{Concurrency: 2, FinalJobTTL: time.Hour}, nil, WithClock(clk.Now))
	c.SetJobs(ConfigSource, []WatchedJob{
		{Target: target(huaweicloud.ECS, projA), JobID: "a"}, {Target: target(huaweicloud.ECS, projA), JobID: "b"},
		{Target: target(huaweicloud.EVS, projA), JobID: "c"}, {Target: target(huaweicloud.ECS, projB), JobID: "d"},
		{Target: target(huaweicloud.ECS, projA), JobID: "f"},
	})
	// A discovered job the API does not know (g) is dropped; h comes from discovery and runs.
	c.SetJobs("cts/ap-southeast-1", []WatchedJob{
		{Target: target(huaweicloud.ECS, projA), JobID: "g"}, {Target: target(huaweicloud.EVS, projB), JobID: "h"},
		{Target: target(huaweicloud.ECS, projB), JobID: "a"},
	})
	c.Refresh(t.Context())
	var b strings.Builder
	b.WriteString("# HELP huaweicloud_job_exporter_watched_jobs " + watchedHelp + "\n# TYPE huaweicloud_job_exporter_watched_jobs gauge\n")
	for _, row := range []struct {
		service string
		counts  [5]int // active, final, vanished, dropped, retired
	}{
		{"ecs", [5]int{3, 1, 0, 1, 1}},
		{"evs", [5]int{1, 1, 0, 0, 0}},
	} {
		for i, st := range watchedStates {
			b.WriteString(`huaweicloud_job_exporter_watched_jobs{region="ap-southeast-1",service="` + row.service + `",state="` + st + `"} ` + strconv.Itoa(row.counts[i]) + "\n")
		}
	}
	if err := testutil.CollectAndCompare(c.WatchedJobsCollector(), strings.NewReader(b.String())); err != nil {
		t.Error(err)
	}
}
