package selfmetrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

var (
	credentialsLabels   = []string{"project_id", "region", "source"}
	credentialsInfoDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, exporterSubsystem, "credentials_info"),
		"Where the credentials of a project come from: static (configuration), file (re-read when changed), environment, metadata (ECS agency) or federated (id_token at IAM). Always 1.",
		credentialsLabels, nil)
	credentialsExpiryDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, exporterSubsystem, "credentials_expiry_timestamp_seconds"),
		"Expiry of the project's current temporary credentials (expires_at of the metadata service or IAM), in Unix seconds. Absent for credentials that do not expire or before the first fetch.",
		credentialsLabels, nil)
	credentialsFailuresDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, exporterSubsystem, "credentials_refresh_failures_total"),
		"Failed refreshes of the project's credentials: metadata or IAM answers that gave none, credential files that could not be re-read. The last good credentials stay in use until they expire.",
		credentialsLabels, nil)
)

// CredentialsEntry is one project and the provider of its credentials.
type CredentialsEntry struct {
	ProjectID, Region string
	Provider          huaweicloud.CredentialsProvider
}

// CredentialsCollector exports the source, expiry and refresh failures of each project's credentials,
// read from the providers at gather time. No label carries a secret.
type CredentialsCollector struct {
	mu      sync.Mutex
	entries []CredentialsEntry
}

var _ prometheus.Collector = (*CredentialsCollector)(nil)

// NewCredentialsCollector returns a collector with no projects.
func NewCredentialsCollector() *CredentialsCollector { return &CredentialsCollector{} }

// Set replaces the projects, after a reload.
func (c *CredentialsCollector) Set(entries []CredentialsEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = append([]CredentialsEntry(nil), entries...)
}

// Describe sends the descriptors.
func (c *CredentialsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- credentialsInfoDesc
	ch <- credentialsExpiryDesc
	ch <- credentialsFailuresDesc
}

// Collect sends one series set per project.
func (c *CredentialsCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	entries := c.entries
	c.mu.Unlock()
	for _, e := range entries {
		if e.Provider == nil {
			continue
		}
		st := e.Provider.Status()
		lv := []string{e.ProjectID, e.Region, st.Source}
		ch <- prometheus.MustNewConstMetric(credentialsInfoDesc, prometheus.GaugeValue, 1, lv...)
		ch <- prometheus.MustNewConstMetric(credentialsFailuresDesc, prometheus.CounterValue, float64(st.RefreshFailures), lv...)
		if !st.Expires.IsZero() {
			ch <- prometheus.MustNewConstMetric(credentialsExpiryDesc, prometheus.GaugeValue, float64(st.Expires.UnixMilli())/1e3, lv...)
		}
	}
}
