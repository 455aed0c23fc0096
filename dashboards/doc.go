// Package dashboards holds the Grafana dashboards of huaweicloud-job-exporter (*.json, importable as-is
// and provisionable from a file) and Go helpers that read their PromQL, so that the end-to-end test runs
// the queries of the shipped dashboards against a real Prometheus.
package dashboards
