package app

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
)

// exporterName is the namespace of the build_info metric.
const exporterName = "huaweicloud_job_exporter"

// RegisterSelfMetrics registers on reg, the exporter's own registry (/exporter-metrics and /metrics),
// every collector of self-metrics besides selfmetrics.Metrics, which registers itself: build info,
// the Go runtime, the process, and ex's watched jobs, shard, credentials, watch cap and job-type
// history. A new self-metrics collector is one more line here.
func RegisterSelfMetrics(reg prometheus.Registerer, ex *Exporter) {
	reg.MustRegister(
		versioncollector.NewCollector(exporterName),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		ex.collector.WatchedJobsCollector(),
		ex.collector.ShardInfoCollector(),
		ex.credentialsMetrics,
		ex.collector.WatchCapCollector(),
		ex.collector.HistoryCollector(),
	)
}
