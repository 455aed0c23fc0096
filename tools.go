//go:build tools

// Package main pins the dependencies the packages of this module are written against until they import them.
package main

import (
	_ "github.com/alecthomas/kingpin/v2"
	_ "github.com/go-kit/log"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/collectors/version"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/prometheus/client_golang/prometheus/testutil"
	_ "github.com/prometheus/common/config"
	_ "github.com/prometheus/common/version"
	_ "github.com/prometheus/exporter-toolkit/web"
	_ "github.com/prometheus/exporter-toolkit/web/kingpinflag"
	_ "github.com/tjhop/slog-gokit"
	_ "golang.org/x/sync/singleflight"
	_ "gopkg.in/yaml.v2"
)
