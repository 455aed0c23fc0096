package collector

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func (c *Collector) watchedIDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for _, e := range c.order {
		ids = append(ids, e.jobID)
	}
	return ids
}

// Issue 22 item 6: the watch set is capped by the stated rule (watchcap.go): config jobs always, jobs
// already watched kept, new discovered jobs in walk order while there is room; the rest counted, logged
// once and exported as a gauge.
func TestWatchCap(t *testing.T) {
	var logs bytes.Buffer
	c := New(newFakeGetter(), Options{Concurrency: 1, FinalJobTTL: time.Hour}, log.NewLogfmtLogger(&logs))
	c.SetMaxWatchedJobs(3)
	steps := []struct {
		name           string
		source         string
		ids            []string
		want           []string
		leftOut, total float64
	}{
		{"discovery fills the cap", "cts", []string{"d1", "d2", "d3", "d4", "d5"}, []string{"d1", "d2", "d3"}, 2, 2},
		{"config jobs are always watched", ConfigSource, []string{"c1", "c2"}, []string{"c1", "c2", "d1", "d2", "d3"}, 2, 4},
		{"a new source finds no room; watched jobs are never pushed out", "file", []string{"f1"}, []string{"c1", "c2", "d1", "d2", "d3"}, 3, 7},
		// Room is counted before the update, so what the update frees is taken by the next one.
		{"room comes back as a source stops listing jobs", "cts", []string{"d9"}, []string{"c1", "c2"}, 2, 9},
		{"and is taken by the next update, in walk order (cts before file)", "file", []string{"f1"}, []string{"c1", "c2", "d9"}, 1, 10},
	}
	for _, s := range steps {
		c.SetJobs(s.source, watched(s.ids...))
		got := c.watchedIDs()
		slices.Sort(got)
		if !slices.Equal(got, s.want) {
			t.Errorf("%s: watched %v, want %v", s.name, got, s.want)
		}
		if n := float64(c.watchCap.lastGauge.Load()); n != s.leftOut {
			t.Errorf("%s: left out %v, want %v", s.name, n, s.leftOut)
		}
		if n := float64(c.watchCap.total.Load()); n != s.total {
			t.Errorf("%s: left out total %v, want %v", s.name, n, s.total)
		}
	}
	if n := strings.Count(logs.String(), "max_watched_jobs reached"); n != 1 {
		t.Errorf("%d log lines about the cap, want 1 while it bites:\n%s", n, logs.String())
	}
	if err := testutil.CollectAndCompare(c.WatchCapCollector(), strings.NewReader(`
# HELP huaweicloud_job_exporter_max_watched_jobs The configured max_watched_jobs (0: no cap).
# TYPE huaweicloud_job_exporter_max_watched_jobs gauge
huaweicloud_job_exporter_max_watched_jobs 3
# HELP huaweicloud_job_exporter_watch_cap_left_out_jobs Discovered jobs the last update of the watch set left out because max_watched_jobs was reached.
# TYPE huaweicloud_job_exporter_watch_cap_left_out_jobs gauge
huaweicloud_job_exporter_watch_cap_left_out_jobs 1
# HELP huaweicloud_job_exporter_watch_cap_left_out_total Discovered jobs left out because max_watched_jobs was reached, summed over the updates of the watch set (a job still discovered counts at each update).
# TYPE huaweicloud_job_exporter_watch_cap_left_out_total counter
huaweicloud_job_exporter_watch_cap_left_out_total 10
`)); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.CollectAndLint(c.WatchCapCollector()); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}
