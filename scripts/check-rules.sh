#!/usr/bin/env bash
# Checks the alerting rules and runs their unit tests with promtool (Debian package "prometheus").
# Usage: scripts/check-rules.sh   (from anywhere; it works from the repository root)
set -euo pipefail

cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null 2>&1; then
	echo "check-rules: promtool not found on PATH; install it (apt-get install prometheus) or put it on PATH" >&2
	exit 1
fi

shopt -s nullglob
rules=(alerts/*.rules.yml)
tests=(alerts/tests/*.yml)
if [ ${#rules[@]} -eq 0 ] || [ ${#tests[@]} -eq 0 ]; then
	echo "check-rules: no rule files (alerts/*.rules.yml) or no test files (alerts/tests/*.yml)" >&2
	exit 1
fi

promtool check rules "${rules[@]}"
promtool test rules "${tests[@]}"
