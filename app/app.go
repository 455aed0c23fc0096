// Package app is the huaweicloud-job-exporter application: it applies the configuration to the API
// client, the collector and discovery (Exporter), serves the HTTP routes behind their guards and limits,
// reloads on SIGHUP and POST /-/reload, and shuts down within a bound. The command's main.go only parses
// flags, builds the logger and calls Run (or Check, ProbeHealth); hjebench builds its in-process
// exporter with New and Apply, as Run does.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"
	toolkitweb "github.com/prometheus/exporter-toolkit/web"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/selfmetrics"
)

// Options are the command line's settings of the application.
type Options struct {
	ConfigFile    string
	MetricsPath   string        // --web.telemetry-path
	TimeoutOffset time.Duration // --scrape.timeout-offset
	Lifecycle     bool          // --web.enable-lifecycle
	Limits        ServerLimits
	Shard         ShardFlags
	Demo          DemoOptions
	Web           *toolkitweb.FlagConfig // exporter-toolkit's --web.listen-address, --web.config.file, ...
}

// DemoOptions are the --demo flags.
type DemoOptions struct {
	Enabled      bool
	Seed         int64
	PullInterval time.Duration // 0: no self pull
	Credentials  string        // "static" or "metadata"
}

// Check is --config.check: it validates the configuration file (and --web.config.file) as start-up
// would, without starting, and returns the exit code.
func Check(o Options, logger log.Logger, stderr io.Writer) int {
	if !webConfigValid(o.Web, logger) {
		return 1
	}
	cfg, err := config.Load(o.ConfigFile)
	if errors.Is(err, os.ErrNotExist) {
		level.Error(logger).Log("msg", "cannot load configuration", "file", o.ConfigFile, "err", err)
		fmt.Fprintln(stderr, noConfigHelp)
		return 1
	}
	if err == nil {
		// Credentials are resolved as start-up does (environment and *_file secrets, no network), so
		// that a config which passes the check is not refused at start-up.
		err = CheckCredentials(cfg, os.Getenv, logger)
	}
	if err != nil {
		level.Error(logger).Log("msg", "invalid configuration", "file", o.ConfigFile, "err", err)
		if errors.Is(err, config.ErrCredentialsNotConfigured) {
			fmt.Fprintln(stderr, noCredentialsHelp)
		}
		return 1
	}
	for _, w := range cfg.Warnings() {
		level.Warn(logger).Log("msg", "configuration warning", "file", o.ConfigFile, "warning", w)
	}
	level.Info(logger).Log("msg", "configuration is valid", "file", o.ConfigFile)
	return 0
}

// webConfigValid checks --web.config.file: exporter-toolkit reads it only once it listens, and its error
// does not name the flag; a mistake here must stop the start before "Listening on", like a bad
// --config.file does.
func webConfigValid(web *toolkitweb.FlagConfig, logger log.Logger) bool {
	if err := toolkitweb.Validate(*web.WebConfigFile); err != nil {
		level.Error(logger).Log("msg", "invalid --web.config.file", "file", *web.WebConfigFile, "err", err)
		return false
	}
	return true
}

// Run runs the exporter until ctx ends (SIGTERM in the command) or its HTTP server fails, and returns
// the exit code: 1 when it cannot start, 0 after a shutdown.
func Run(ctx context.Context, o Options, logger log.Logger, slogger *slog.Logger, stderr io.Writer) int {
	if !webConfigValid(o.Web, logger) {
		return 1
	}
	shardIndex, shardCount, err := o.Shard.resolve(os.Getenv)
	if err != nil {
		level.Error(logger).Log("msg", "invalid sharding flags", "err", err)
		return 1
	}
	level.Info(logger).Log("msg", "starting huaweicloud-job-exporter", "version", version.Info(), "build_context", version.BuildContext())
	if shardCount > 1 {
		level.Info(logger).Log("msg", "sharded: watching only this shard's jobs", "shard_index", shardIndex, "shard_count", shardCount)
	}
	src, err := openSource(ctx, o, logger)
	if err != nil {
		return 1
	}
	defer src.close()
	a, err := start(ctx, src, logger, stderr, collector.WithShard(shardIndex, shardCount))
	if err != nil {
		return 1
	}
	return a.serve(ctx, o, slogger)
}

// source is where the configuration comes from: the file, or the demo's simulator.
type source struct {
	load  func() (*config.Config, error)
	name  string // for logs: the file, or "demo"
	close func()
}

// openSource is the configuration's source, starting the demo's simulator with --demo.
func openSource(ctx context.Context, o Options, logger log.Logger) (source, error) {
	if !o.Demo.Enabled {
		return source{load: func() (*config.Config, error) { return config.Load(o.ConfigFile) }, name: o.ConfigFile, close: func() {}}, nil
	}
	d, err := startDemo(ctx, o.Demo.Seed, o.Demo.Credentials, logger)
	if err != nil {
		level.Error(logger).Log("msg", "cannot start the demo simulator", "err", err)
		return source{}, err
	}
	level.Warn(logger).Log("msg", "DEMO MODE: querying a simulated Huawei Cloud on loopback, not a real account", "simulator_url", d.URL)
	return source{load: d.Config, name: "demo", close: d.Close}, nil
}

// app is a started exporter with the state its routes and reloads share.
type app struct {
	ex      *Exporter
	selfReg *prometheus.Registry // the exporter's own metrics, /exporter-metrics
	metrics *selfmetrics.Metrics
	src     source
	logger  log.Logger
	reloads chan chan error // to reloadLoop
}

// start loads and applies the first configuration; an error is logged (with help on stderr) already.
func start(ctx context.Context, src source, logger log.Logger, stderr io.Writer, opts ...collector.Option) (*app, error) {
	cfg, err := src.load()
	if err != nil {
		level.Error(logger).Log("msg", "cannot load configuration", "file", src.name, "err", err)
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintln(stderr, noConfigHelp)
		}
		return nil, err
	}
	selfReg := prometheus.NewRegistry()
	metrics := selfmetrics.New(selfReg)
	ex := New(ctx, metrics, logger, WithCollectorOptions(opts...))
	if err := ex.Apply(cfg, os.Getenv); err != nil {
		level.Error(logger).Log("msg", "cannot use configuration", "file", src.name, "err", err)
		if errors.Is(err, config.ErrCredentialsNotConfigured) {
			fmt.Fprintln(stderr, noCredentialsHelp)
		}
		return nil, err
	}
	metrics.ReloadSuccess.Set(1)
	metrics.ReloadSuccessTime.SetToCurrentTime()
	RegisterSelfMetrics(selfReg, ex)
	return &app{ex: ex, selfReg: selfReg, metrics: metrics, src: src, logger: logger, reloads: make(chan chan error)}, nil
}

// serve starts the reload loop and the HTTP server, and waits for ctx or the server's failure.
func (a *app) serve(ctx context.Context, o Options, slogger *slog.Logger) int {
	go reloadLoop(ctx, a.reloads, a.reload)
	go reloadOnSIGHUP(ctx, a.reloads)
	srv := newServer(a.routes(ctx, o), o.Limits)
	errc := make(chan error, 1)
	go func() { errc <- toolkitweb.ListenAndServe(srv, o.Web, slogger) }()
	select {
	case err := <-errc:
		level.Error(a.logger).Log("msg", "HTTP server failed", "err", err)
		return 1
	case <-ctx.Done():
		level.Info(a.logger).Log("msg", "shutting down")
		return shutdown(srv, a.ex, shutdownTimeout, a.logger)
	}
}

// shutdownTimeout bounds the exit after SIGTERM: scrapes in flight get this long to finish and discovery
// sources to stop; what is still running then is left behind.
const shutdownTimeout = 5 * time.Second

// shutdown stops the HTTP server and discovery side by side, within timeout whatever they are stuck in.
func shutdown(srv *http.Server, ex *Exporter, timeout time.Duration, logger log.Logger) int {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- ex.Stop(ctx) }()
	if err := srv.Shutdown(ctx); err != nil {
		level.Warn(logger).Log("msg", "requests still running at exit", "err", err)
	}
	if err := <-stopped; err != nil {
		level.Warn(logger).Log("msg", "discovery did not stop in time", "err", err)
	}
	return 0
}

// demoListenAddress is where --demo listens unless --web.listen-address says otherwise: the demo serves
// public demo credentials' data and needs no other machine, so it stays on loopback.
const demoListenAddress = "127.0.0.1:19866"

// ListenAddresses is the --web.listen-address list to use: the flag's as given, or loopback for --demo
// when the flag was not set.
func ListenAddresses(flag []string, demo, setByUser bool) []string {
	if demo && !setByUser {
		return []string{demoListenAddress}
	}
	return flag
}

var noConfigHelp = strings.TrimSpace(`
There is no configuration file. Two ways forward:
  1. Try the exporter without a Huawei Cloud account:  huaweicloud-job-exporter --demo
  2. Watch real jobs: write a config (see README.md, "Configuration") and run
     huaweicloud-job-exporter --config.file=/path/to/huaweicloud-job-exporter.yml`)

var noCredentialsHelp = strings.TrimSpace(`
No Huawei Cloud credentials were found. Two ways forward:
  1. Try the exporter without a Huawei Cloud account:  huaweicloud-job-exporter --demo
  2. Give it an AK/SK: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (and HUAWEICLOUD_SDK_SECURITY_TOKEN for
     temporary credentials), or "credentials:" in the config file (see README.md, "Configuration").`)
