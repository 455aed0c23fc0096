package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/selfmetrics"
)

// exporterSubsystem names the collector's own gather-time self-metrics (watched_jobs, shard_info, the
// watch cap), which read the collector's state and so stay here; the rest are in package selfmetrics.
const exporterSubsystem = "job_exporter"

// The names below keep the callers of the former collector.ExporterMetrics and CredentialsCollector
// building while they move to package selfmetrics; new code uses selfmetrics directly.

// ExporterMetrics is selfmetrics.Metrics.
type ExporterMetrics = selfmetrics.Metrics

// NewExporterMetrics is selfmetrics.New.
func NewExporterMetrics(reg prometheus.Registerer) *ExporterMetrics { return selfmetrics.New(reg) }

// CredentialsCollector is selfmetrics.CredentialsCollector.
type CredentialsCollector = selfmetrics.CredentialsCollector

// CredentialsEntry is selfmetrics.CredentialsEntry.
type CredentialsEntry = selfmetrics.CredentialsEntry

// NewCredentialsCollector is selfmetrics.NewCredentialsCollector.
func NewCredentialsCollector() *CredentialsCollector { return selfmetrics.NewCredentialsCollector() }
