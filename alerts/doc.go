// Package alerts holds the Prometheus rules of huaweicloud-job-exporter (huaweicloud-jobs.rules.yml:
// recording rules, then alerts), their promtool unit tests (tests/*.yml) and Go helpers that read the
// rules, so that tests elsewhere (the end-to-end run against a real Prometheus) use the shipped rules
// rather than copies. docs/runbook.md explains every alert.
package alerts
