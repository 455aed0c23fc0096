package collector

import "github.com/prometheus/client_golang/prometheus"

// watchedStates are the values of the state label of huaweicloud_job_exporter_watched_jobs.
var watchedStates = []string{"active", "final", "vanished", "dropped", "retired"}

var watchedDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, exporterSubsystem, "watched_jobs"),
	"Jobs the exporter watches, by state: active (queried on scrape), final (SUCCESS/FAIL served from memory), vanished (unfinished, then unknown to the API: outcome unknown), dropped (discovered but unknown to the API, not exported), retired (final or vanished longer than final_job_ttl, no longer exported nor queried).",
	[]string{"service", "region", "state"}, nil)

// watchedCollector counts the watch set at gather time, so the count can never go stale or race a reload.
type watchedCollector struct{ c *Collector }

// WatchedJobsCollector returns the collector of huaweicloud_job_exporter_watched_jobs, for the exporter's
// own registry.
func (c *Collector) WatchedJobsCollector() prometheus.Collector { return watchedCollector{c} }

func (w watchedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- watchedDesc }

func (w watchedCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct{ service, region string }
	counts := map[key]*[5]int{}
	now := w.c.now()
	w.c.mu.Lock()
	ttl := w.c.opts.FinalJobTTL
	for _, e := range w.c.entries {
		k := key{string(e.target.Service), e.target.Region}
		n := counts[k]
		if n == nil {
			n = new([5]int)
			counts[k] = n
		}
		switch {
		case e.expired(now, ttl):
			n[4]++
		case e.dropped:
			n[3]++
		case e.vanished:
			n[2]++
		case e.job != nil && e.job.Final():
			n[1]++
		default:
			n[0]++
		}
	}
	w.c.mu.Unlock()
	for k, n := range counts {
		for i, st := range watchedStates {
			ch <- prometheus.MustNewConstMetric(watchedDesc, prometheus.GaugeValue, float64(n[i]), k.service, k.region, st)
		}
	}
}
