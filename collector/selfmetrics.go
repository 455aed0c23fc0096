package collector

// exporterSubsystem names the collector's own gather-time self-metrics (watched_jobs, shard_info, the
// watch cap, history), which read the collector's state and so stay here; the exporter's other
// self-metrics are in package selfmetrics, which the collector reports to (WithMetrics).
const exporterSubsystem = "job_exporter"
