package collector

import (
	"sync/atomic"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
)

// watchCap bounds the watched jobs (issue 22 item 6): CTS handing out 100,000 ids had the exporter watch
// them all, RSS 181 -> 230 MB and rising, an answer of 25.5 MB and a pull of 10.9 s against a 10 s
// timeout.
//
// The rule, oldest first: jobs listed in the config file are always watched; a job already watched stays
// watched while a source lists it; a newly discovered job is watched only if there is room under the cap,
// taken in the order SetJobs walks the sources (the config, then the other sources by name, each in the
// order it lists its jobs). So a flood of new ids (a runaway automation, a hostile trace list) can never
// push out the jobs already watched; room comes back as sources stop listing jobs (CTS: past its
// lookback and final_job_ttl). A cap that bites is meant to be seen at once and fixed (raise
// max_watched_jobs, or shard): the jobs left out are counted, logged once, and alerted on.
//
// All fields but the counters are guarded by Collector.mu (SetJobs).
type watchCap struct {
	max       int // 0: no cap
	leftOut   int // jobs left out by the last SetJobs
	logged    bool
	total     atomic.Uint64 // jobs left out, summed over SetJobs calls (a job still listed counts each call)
	lastGauge atomic.Int64  // leftOut for the gauge, read without the lock
}

// SetMaxWatchedJobs sets the cap on watched jobs (0: none) and returns the previous one. It applies from
// the next SetJobs: jobs watched now are kept.
func (c *Collector) SetMaxWatchedJobs(n int) (old int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, c.watchCap.max = c.watchCap.max, max(n, 0)
	return old
}

// room is how many new discovered jobs fit, given the jobs watched now.
func (w *watchCap) room(watched int) int {
	w.leftOut = 0
	if w.max == 0 {
		return -1 // no cap
	}
	return max(w.max-watched, 0)
}

// admit tells whether a job not yet watched is taken, and takes its place from room.
func (w *watchCap) admit(room *int, fromConfig bool) bool {
	switch {
	case *room < 0: // no cap
		return true
	case fromConfig:
		*room = max(*room-1, 0)
		return true
	case *room > 0:
		*room--
		return true
	}
	w.leftOut++
	return false
}

// done records the outcome of a SetJobs: the gauge, the counter, and one log line when the cap starts
// (or stops) leaving jobs out.
func (w *watchCap) done(logger log.Logger, watched int) {
	w.lastGauge.Store(int64(w.leftOut))
	w.total.Add(uint64(w.leftOut))
	switch {
	case w.leftOut > 0 && !w.logged:
		w.logged = true
		level.Warn(logger).Log("msg", "max_watched_jobs reached: newly discovered jobs are not watched until there is room; raise max_watched_jobs or shard",
			"max_watched_jobs", w.max, "watched_jobs", watched, "left_out_jobs", w.leftOut)
	case w.leftOut == 0 && w.logged:
		w.logged = false
		level.Info(logger).Log("msg", "max_watched_jobs no longer leaves jobs out", "watched_jobs", watched)
	}
}

var (
	leftOutDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, exporterSubsystem, "watch_cap_left_out_jobs"),
		"Discovered jobs the last update of the watch set left out because max_watched_jobs was reached.", nil, nil)
	leftOutTotalDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, exporterSubsystem, "watch_cap_left_out_total"),
		"Discovered jobs left out because max_watched_jobs was reached, summed over the updates of the watch set (a job still discovered counts at each update).", nil, nil)
	maxWatchedDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, exporterSubsystem, "max_watched_jobs"),
		"The configured max_watched_jobs (0: no cap).", nil, nil)
)

type watchCapCollector struct{ c *Collector }

// WatchCapCollector returns the collector of the watch cap's metrics, for the exporter's own registry.
func (c *Collector) WatchCapCollector() prometheus.Collector { return watchCapCollector{c} }

func (w watchCapCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- leftOutDesc
	ch <- leftOutTotalDesc
	ch <- maxWatchedDesc
}

func (w watchCapCollector) Collect(ch chan<- prometheus.Metric) {
	wc := &w.c.watchCap
	w.c.mu.Lock()
	maxJobs := wc.max
	w.c.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(leftOutDesc, prometheus.GaugeValue, float64(wc.lastGauge.Load()))
	ch <- prometheus.MustNewConstMetric(leftOutTotalDesc, prometheus.CounterValue, float64(wc.total.Load()))
	ch <- prometheus.MustNewConstMetric(maxWatchedDesc, prometheus.GaugeValue, float64(maxJobs))
}
