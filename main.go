// Command huaweicloud-job-exporter exports the state of Huawei Cloud asynchronous jobs (ECS, EVS, BMS, IMS,
// EIP, SDRS, CCE, ELB, CFW: the service table of package huaweicloud)
// as Prometheus metrics. The application is package app; this file defines the flags, builds the logger
// and calls it.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/app"
)

func main() {
	setGCPercent()
	os.Exit(run(os.Args[1:], os.Stderr))
}

// defaultGCPercent paces the garbage collector when GOGC is not set. What the exporter keeps is small
// and long-lived (about 1 KB per watched job), while what it allocates is short-lived (each API answer,
// each pull's buffers), so Go's default of 100, a heap let grow to twice what is live, was half of the
// process' memory at 10,000 jobs: 50 MiB where the issue asks for 40 (issue 14). At 35 the heap grows by
// a third: hjebench measured 39 MiB, for about 30 ms more CPU per scrape cycle (two pulls) than at 100,
// as the GC runs about three times as often on the few MB of garbage a cycle makes. GOGC=100 takes the
// other side of the trade.
const defaultGCPercent = 35

// setGCPercent applies defaultGCPercent unless the operator set GOGC (or GOGC=off) for the process.
func setGCPercent() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}

func run(args []string, stderr io.Writer) int {
	a := kingpin.New("huaweicloud-job-exporter", "Prometheus exporter for Huawei Cloud asynchronous jobs (ECS, EVS, BMS, IMS, EIP, SDRS, CCE, ELB, CFW).")
	var o app.Options
	var listenSet bool
	a.Flag("config.file", "Path to the configuration file.").Default("huaweicloud-job-exporter.yml").StringVar(&o.ConfigFile)
	configCheck := a.Flag("config.check", "Validate the configuration file and exit (0 if valid, 1 if not).").Bool()
	a.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&o.MetricsPath)
	a.Flag("scrape.timeout-offset", "Subtracted from Prometheus' X-Prometheus-Scrape-Timeout-Seconds to leave time to send the answer; more when recent answers took longer to send (at most half the timeout).").Default("500ms").DurationVar(&o.TimeoutOffset)
	a.Flag("demo", "Run against a built-in simulated Huawei Cloud on loopback, with jobs in motion; no credentials or network needed.").BoolVar(&o.Demo.Enabled)
	a.Flag("demo.seed", "Random seed of the --demo simulator.").Default("1").Int64Var(&o.Demo.Seed)
	a.Flag("demo.pull-interval", "How often --demo pulls its own metrics, as Prometheus would (jobs are queried on pulls only); 0 turns it off, e.g. when a Prometheus scrapes the demo.").Default(app.DemoPullInterval.String()).DurationVar(&o.Demo.PullInterval)
	a.Flag("demo.credentials", "Credentials of the --demo exporter: static (an AK/SK in the config) or metadata (short-lived agency credentials from the simulator's metadata service, refreshed before they expire).").Default("static").EnumVar(&o.Demo.Credentials, "static", "metadata")
	logLevel := a.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").Default("info").Enum("debug", "info", "warn", "error")
	logFormat := a.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").Default("logfmt").Enum("logfmt", "json")
	healthcheck := a.Flag("healthcheck", "Probe /-/healthy of the exporter running at --web.listen-address (or --healthcheck.url) and exit 0 if it answers, 1 if not: a HEALTHCHECK for images without a shell.").Bool()
	healthURL := a.Flag("healthcheck.url", "URL probed by --healthcheck instead of /-/healthy at --web.listen-address.").String()
	o.Web = kingpinflag.AddFlags(a, ":19866")
	a.Flag("web.enable-lifecycle", "Enable reloading the configuration by POST /-/reload (off by default, as in Prometheus: anyone who reaches the port could reload). SIGHUP always reloads.").BoolVar(&o.Lifecycle)
	a.Flag("web.max-connections", "Most HTTP connections open at once; at the limit a new one replaces the longest idle keep-alive connection, or is refused. 0: no limit.").Default(app.DefaultMaxConnections).IntVar(&o.Limits.MaxConnections)
	a.Flag("web.idle-timeout", "Close a keep-alive HTTP connection after this long without a request.").Default(app.DefaultIdleTimeout).DurationVar(&o.Limits.IdleTimeout)
	maxHeader := a.Flag("web.max-header-bytes", "Most bytes of an HTTP request's line and headers; a larger request is answered 431.").Default(app.DefaultMaxHeaderBytes).Bytes()
	a.GetFlag("web.listen-address").IsSetByUser(&listenSet)
	a.Flag("shard.index", "Index (0-based) of the shard of the watched jobs this replica keeps, of --shard.count: each job belongs to one shard by a hash of service/region/project_id/job_id.").
		Default("0").IsSetByUser(&o.Shard.IndexSet).IntVar(&o.Shard.Index)
	a.Flag("shard.count", "Number of shards the watched jobs are split into; every replica is given the same configuration.").Default("1").IntVar(&o.Shard.Count)
	a.Flag("shard.from-pod-name", "Take --shard.index from the ordinal of the StatefulSet pod named in the POD_NAME environment variable (\"name-3\" is 3); needs --shard.count.").BoolVar(&o.Shard.FromPodName)
	app.SetVersionFromBuildInfo()
	a.Version(version.Print("huaweicloud-job-exporter"))
	a.HelpFlag.Short('h')
	a.Writer(stderr)
	a.ErrorWriter(stderr)

	if _, err := a.Parse(args); err != nil {
		fmt.Fprintf(stderr, "huaweicloud-job-exporter: %v (try --help)\n", err)
		return 2
	}
	o.Limits.MaxHeaderBytes = int(*maxHeader)
	if err := o.Limits.Check(); err != nil {
		fmt.Fprintf(stderr, "huaweicloud-job-exporter: %v (try --help)\n", err)
		return 2
	}
	*o.Web.WebListenAddresses = app.ListenAddresses(*o.Web.WebListenAddresses, o.Demo.Enabled, listenSet)
	if *healthcheck {
		return app.ProbeHealth(*healthURL, *o.Web.WebListenAddresses, *o.Web.WebConfigFile, stderr)
	}
	logger, slogger := app.NewLoggers(stderr, *logLevel, *logFormat)
	if *configCheck {
		return app.Check(o, logger, stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return app.Run(ctx, o, logger, slogger, stderr)
}
