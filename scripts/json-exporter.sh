#!/usr/bin/env bash
# Builds prometheus-community/json_exporter v0.7.0 from the Go module proxy into a cache directory and
# prints the binary's path, for `make bench-compare` (hjebench -json-exporter). Its source is never
# vendored or committed: the module proxy holds it, checked against the Go checksum database.
# Usage: scripts/json-exporter.sh   (cache: $JSON_EXPORTER_CACHE, default ~/.cache/huaweicloud-job-exporter)
set -euo pipefail

version=v0.7.0
module=github.com/prometheus-community/json_exporter
cache="${JSON_EXPORTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/huaweicloud-job-exporter}"
bin="$cache/json_exporter-$version"

if [ ! -x "$bin" ]; then
	mkdir -p "$cache"
	work="$(mktemp -d)"
	trap 'rm -rf "$work"' EXIT
	# Outside any module (and any go.work), so the download cannot touch this repository's go.mod or go.sum.
	cd "$work"
	export GOWORK=off GOFLAGS=
	dir="$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
	if [ -z "$dir" ] || [ ! -f "$dir/go.mod" ]; then
		echo "json-exporter.sh: go mod download $module@$version gave no source directory" >&2
		exit 1
	fi
	# The module cache is read-only, and a build of the main module may need to write its go.mod or
	# go.sum (toolchain lines): build a writable copy.
	cp -R "$dir/." "$work/src"
	chmod -R u+w "$work/src"
	(cd "$work/src" && CGO_ENABLED=0 go build -trimpath \
		-ldflags "-X github.com/prometheus/common/version.Version=${version#v}" -o "$bin.tmp" .)
	mv "$bin.tmp" "$bin"
fi
echo "$bin"
