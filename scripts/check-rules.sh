#!/usr/bin/env bash
# Checks the alerting rules and runs their unit tests with promtool (Debian package "prometheus"), and
# checks the example configurations: Prometheus (with promtool) and Alertmanager (with amtool, Debian
# package "prometheus-alertmanager").
# Usage: scripts/check-rules.sh   (from anywhere; it works from the repository root)
set -euo pipefail

cd "$(dirname "$0")/.."

for tool in promtool amtool; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "check-rules: $tool not found on PATH; install it (apt-get install prometheus prometheus-alertmanager) or put it on PATH" >&2
		exit 1
	fi
done

shopt -s nullglob
rules=(alerts/*.rules.yml)
tests=(alerts/tests/*.yml)
if [ ${#rules[@]} -eq 0 ] || [ ${#tests[@]} -eq 0 ]; then
	echo "check-rules: no rule files (alerts/*.rules.yml) or no test files (alerts/tests/*.yml)" >&2
	exit 1
fi

promtool check rules "${rules[@]}"
promtool test rules "${tests[@]}"
promtool check config examples/prometheus.yml
amtool check-config examples/alertmanager.yml
