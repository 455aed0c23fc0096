package collector

import (
	"hash/fnv"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// WithShard makes the collector keep only the jobs of shard index of count (0 <= index < count), so that
// replicas sharing one configuration watch disjoint parts of it, as kube-state-metrics' shards do. The
// filter sits in SetJobs, the one place every source (config file, CTS, job files) passes through: each
// replica runs discovery in full and drops what another shard owns. A count of 1 or less keeps all.
func WithShard(index, count int) Option {
	return func(c *Collector) {
		if count > 1 && index >= 0 && index < count {
			c.shardIndex, c.shardCount = uint64(index), uint64(count)
		}
	}
}

// ShardOf is the shard of count that owns a job: FNV-1a 64 of its key modulo count. The key (service,
// region, project, job id) is the same on every replica and across restarts, so a job never moves
// between shards while the shard count stays the same.
func ShardOf(w WatchedJob, count int) int {
	if count <= 1 {
		return 0
	}
	h := fnv.New64a()
	// Written piecewise with the Key's separators: the same hash as of w.Key() without building it.
	for i, s := range [...]string{string(w.Target.Service), w.Target.Region, w.Target.ProjectID, w.JobID} {
		if i > 0 {
			_, _ = h.Write([]byte{'/'})
		}
		_, _ = h.Write([]byte(s))
	}
	return int(h.Sum64() % uint64(count))
}

// owns tells whether this collector's shard watches w.
func (c *Collector) owns(w WatchedJob) bool {
	return c.shardCount <= 1 || uint64(ShardOf(w, int(c.shardCount))) == c.shardIndex
}

var shardDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, exporterSubsystem, "shard_info"),
	"Shard of the watched jobs this replica owns (--shard.index of --shard.count); 1. Unsharded: index 0 of count 1.",
	[]string{"index", "count"}, nil)

// ShardInfoCollector returns the collector of huaweicloud_job_exporter_shard_info, for the exporter's own
// registry: a sharded deployment can check that every index of count is up exactly once.
func (c *Collector) ShardInfoCollector() prometheus.Collector {
	index, count := c.shardIndex, max(c.shardCount, 1)
	return shardCollector{prometheus.MustNewConstMetric(shardDesc, prometheus.GaugeValue, 1,
		strconv.FormatUint(index, 10), strconv.FormatUint(count, 10))}
}

type shardCollector struct{ m prometheus.Metric }

func (s shardCollector) Describe(ch chan<- *prometheus.Desc) { ch <- shardDesc }
func (s shardCollector) Collect(ch chan<- prometheus.Metric) { ch <- s.m }
