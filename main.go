// Command huaweicloud-job-exporter exports the state of Huawei Cloud asynchronous jobs (ECS, EVS, BMS, IMS,
// EIP, SDRS, CCE, ELB, CFW: the service table of package huaweicloud)
// as Prometheus metrics.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	toolkitweb "github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	slgk "github.com/tjhop/slog-gokit"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/web"
)

const exporterName = "huaweicloud_job_exporter"

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
	app := kingpin.New("huaweicloud-job-exporter", "Prometheus exporter for Huawei Cloud asynchronous jobs (ECS, EVS, BMS, IMS, EIP, SDRS, CCE, ELB, CFW).")
	var (
		configFile    = app.Flag("config.file", "Path to the configuration file.").Default("huaweicloud-job-exporter.yml").String()
		configCheck   = app.Flag("config.check", "Validate the configuration file and exit (0 if valid, 1 if not).").Bool()
		metricsPath   = app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
		timeoutOffset = app.Flag("scrape.timeout-offset", "Subtracted from Prometheus' X-Prometheus-Scrape-Timeout-Seconds to leave time to send the answer.").Default("500ms").Duration()
		demo          = app.Flag("demo", "Run against a built-in simulated Huawei Cloud on loopback, with jobs in motion; no credentials or network needed.").Bool()
		demoSeed      = app.Flag("demo.seed", "Random seed of the --demo simulator.").Default("1").Int64()
		demoPull      = app.Flag("demo.pull-interval", "How often --demo pulls its own metrics, as Prometheus would (jobs are queried on pulls only); 0 turns it off, e.g. when a Prometheus scrapes the demo.").Default(demoPullInterval.String()).Duration()
		demoCreds     = app.Flag("demo.credentials", "Credentials of the --demo exporter: static (an AK/SK in the config) or metadata (short-lived agency credentials from the simulator's metadata service, refreshed before they expire).").Default("static").Enum("static", "metadata")
		logLevel      = app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").Default("info").Enum("debug", "info", "warn", "error")
		logFormat     = app.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").Default("logfmt").Enum("logfmt", "json")
		healthcheck   = app.Flag("healthcheck", "Probe /-/healthy of the exporter running at --web.listen-address (or --healthcheck.url) and exit 0 if it answers, 1 if not: a HEALTHCHECK for images without a shell.").Bool()
		healthURL     = app.Flag("healthcheck.url", "URL probed by --healthcheck instead of /-/healthy at --web.listen-address.").String()
		toolkitFlags  = kingpinflag.AddFlags(app, ":19866")
		lifecycle     = app.Flag("web.enable-lifecycle", "Enable reloading the configuration by POST /-/reload (off by default, as in Prometheus: anyone who reaches the port could reload). SIGHUP always reloads.").Bool()
		maxConns      = app.Flag("web.max-connections", "Most HTTP connections open at once; at the limit a new one replaces the longest idle keep-alive connection, or is refused. 0: no limit.").Default(defaultMaxConnections).Int()
		idleTimeout   = app.Flag("web.idle-timeout", "Close a keep-alive HTTP connection after this long without a request.").Default(defaultIdleTimeout).Duration()
		maxHeader     = app.Flag("web.max-header-bytes", "Most bytes of an HTTP request's line and headers; a larger request is answered 431.").Default(defaultMaxHeaderBytes).Bytes()
		listenSet     bool
		shard         shardFlags
	)
	app.GetFlag("web.listen-address").IsSetByUser(&listenSet)
	app.Flag("shard.index", "Index (0-based) of the shard of the watched jobs this replica keeps, of --shard.count: each job belongs to one shard by a hash of service/region/project_id/job_id.").
		Default("0").IsSetByUser(&shard.indexSet).IntVar(&shard.index)
	app.Flag("shard.count", "Number of shards the watched jobs are split into; every replica is given the same configuration.").Default("1").IntVar(&shard.count)
	app.Flag("shard.from-pod-name", "Take --shard.index from the ordinal of the StatefulSet pod named in the POD_NAME environment variable (\"name-3\" is 3); needs --shard.count.").BoolVar(&shard.fromPodName)
	setVersionFromBuildInfo()
	app.Version(version.Print("huaweicloud-job-exporter"))
	app.HelpFlag.Short('h')
	app.Writer(stderr)
	app.ErrorWriter(stderr)
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintf(stderr, "huaweicloud-job-exporter: %v (try --help)\n", err)
		return 2
	}
	if err := checkServerFlags(*maxConns, *idleTimeout, int64(*maxHeader)); err != nil {
		fmt.Fprintf(stderr, "huaweicloud-job-exporter: %v (try --help)\n", err)
		return 2
	}
	*toolkitFlags.WebListenAddresses = listenAddresses(*toolkitFlags.WebListenAddresses, *demo, listenSet)

	if *healthcheck {
		return probeHealth(*healthURL, *toolkitFlags.WebListenAddresses, *toolkitFlags.WebConfigFile, stderr)
	}

	logger, slogger := newLoggers(stderr, *logLevel, *logFormat)

	// exporter-toolkit reads this file only once it listens, and its error does not name the flag; a
	// mistake here must stop the start before "Listening on", like a bad --config.file does.
	if err := toolkitweb.Validate(*toolkitFlags.WebConfigFile); err != nil {
		level.Error(logger).Log("msg", "invalid --web.config.file", "file", *toolkitFlags.WebConfigFile, "err", err)
		return 1
	}

	if *configCheck {
		cfg, err := config.Load(*configFile)
		if errors.Is(err, os.ErrNotExist) {
			level.Error(logger).Log("msg", "cannot load configuration", "file", *configFile, "err", err)
			fmt.Fprintln(stderr, noConfigHelp)
			return 1
		}
		if err == nil {
			// Credentials are resolved as start-up does (environment and *_file secrets, no network), so
			// that a config which passes the check is not refused at start-up.
			err = checkCredentials(cfg, os.Getenv, logger)
		}
		if err != nil {
			level.Error(logger).Log("msg", "invalid configuration", "file", *configFile, "err", err)
			if errors.Is(err, config.ErrCredentialsNotConfigured) {
				fmt.Fprintln(stderr, noCredentialsHelp)
			}
			return 1
		}
		for _, w := range cfg.Warnings() {
			level.Warn(logger).Log("msg", "configuration warning", "file", *configFile, "warning", w)
		}
		level.Info(logger).Log("msg", "configuration is valid", "file", *configFile)
		return 0
	}

	shardIndex, shardCount, err := shard.resolve(os.Getenv)
	if err != nil {
		level.Error(logger).Log("msg", "invalid sharding flags", "err", err)
		return 1
	}

	level.Info(logger).Log("msg", "starting huaweicloud-job-exporter", "version", version.Info(), "build_context", version.BuildContext())
	if shardCount > 1 {
		level.Info(logger).Log("msg", "sharded: watching only this shard's jobs", "shard_index", shardIndex, "shard_count", shardCount)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	load := func() (*config.Config, error) { return config.Load(*configFile) }
	source := *configFile
	if *demo {
		d, err := startDemo(ctx, *demoSeed, *demoCreds, logger)
		if err != nil {
			level.Error(logger).Log("msg", "cannot start the demo simulator", "err", err)
			return 1
		}
		defer d.Close()
		load, source = d.Config, "demo"
		level.Warn(logger).Log("msg", "DEMO MODE: querying a simulated Huawei Cloud on loopback, not a real account", "simulator_url", d.URL)
	}

	cfg, err := load()
	if err != nil {
		level.Error(logger).Log("msg", "cannot load configuration", "file", source, "err", err)
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintln(stderr, noConfigHelp)
		}
		return 1
	}

	selfReg := prometheus.NewRegistry()
	selfReg.MustRegister(
		versioncollector.NewCollector(exporterName),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	metrics := collector.NewExporterMetrics(selfReg)
	ex := newExporter(ctx, metrics, logger, collector.WithShard(shardIndex, shardCount))
	if err := ex.apply(cfg, os.Getenv); err != nil {
		level.Error(logger).Log("msg", "cannot use configuration", "file", source, "err", err)
		if errors.Is(err, config.ErrCredentialsNotConfigured) {
			fmt.Fprintln(stderr, noCredentialsHelp)
		}
		return 1
	}
	metrics.ReloadSuccess.Set(1)
	metrics.ReloadSuccessTime.SetToCurrentTime()
	selfReg.MustRegister(ex.collector.WatchedJobsCollector(), ex.collector.ShardInfoCollector(), ex.credentialsMetrics,
		ex.collector.WatchCapCollector(), ex.collector.HistoryCollector())

	reloads := make(chan chan error)
	go reloadLoop(ctx, reloads, func() error {
		c, err := load()
		if err == nil {
			err = ex.apply(c, os.Getenv)
		}
		if err != nil {
			metrics.ReloadSuccess.Set(0)
			level.Error(logger).Log("msg", "reload failed, keeping the previous configuration", "file", source, "err", err)
			return err
		}
		metrics.ReloadSuccess.Set(1)
		metrics.ReloadSuccessTime.SetToCurrentTime()
		level.Info(logger).Log("msg", "configuration reloaded", "file", source)
		return nil
	})

	mux := http.NewServeMux()
	var pulls web.Pulls
	mux.Handle(*metricsPath, readOnly(pulls.Wrap(ex.collector.Handler(selfReg, *timeoutOffset, ex.timeout, logger))))
	mux.Handle("/-/healthy", readOnly(healthHandler()))
	mux.Handle("/-/ready", readOnly(textHandler("Ready")))
	mux.Handle("/-/reload", lifecycleGuard(*lifecycle, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		done := make(chan error, 1)
		select {
		case reloads <- done:
		case <-r.Context().Done():
			return
		case <-ctx.Done():
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		// A reload stuck reading a credentials file must not pin this handler, or shutdown waits for it.
		select {
		case err := <-done:
			if err != nil {
				http.Error(w, "failed to reload config: "+err.Error(), http.StatusInternalServerError)
				return
			}
			fmt.Fprintln(w, "configuration reloaded")
		case <-r.Context().Done():
		case <-ctx.Done():
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
		}
	})))
	pages := &web.Pages{
		Name:        "Huawei Cloud Job Exporter",
		Version:     version.Info(),
		MetricsPath: *metricsPath,
		Demo:        *demo,
		Jobs:        ex.collector.Snapshot,
		Config:      ex.configText,
		LastPull:    pulls.Last,
		Status:      ex.status,
	}
	if *demo && *demoPull > 0 {
		if u := selfPullURL(*toolkitFlags.WebListenAddresses, *toolkitFlags.WebConfigFile, *metricsPath); u != "" {
			pages.SelfPull = *demoPull
			go selfPull(ctx, u, *demoPull, demoPullTimeout, logger)
		}
	}
	mux.Handle("/config", readOnly(pages.ConfigHandler()))
	mux.Handle("/", readOnly(pages.LandingHandler()))
	mux.Handle("/exporter-metrics", readOnly(promhttp.HandlerFor(selfReg, promhttp.HandlerOpts{})))

	go func() {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		for {
			select {
			case <-hup:
				done := make(chan error, 1)
				select {
				case reloads <- done:
				case <-ctx.Done():
					return
				}
				select {
				case <-done:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()

	srv := newServer(mux, serverLimits{maxConnections: *maxConns, idleTimeout: *idleTimeout, maxHeaderBytes: int(*maxHeader)})
	errc := make(chan error, 1)
	go func() { errc <- toolkitweb.ListenAndServe(srv, toolkitFlags, slogger) }()
	select {
	case err := <-errc:
		level.Error(logger).Log("msg", "HTTP server failed", "err", err)
		return 1
	case <-ctx.Done():
		level.Info(logger).Log("msg", "shutting down")
		return shutdown(srv, ex, shutdownTimeout, logger)
	}
}

// demoListenAddress is where --demo listens unless --web.listen-address says otherwise: the demo serves
// public demo credentials' data and needs no other machine, so it stays on loopback.
const demoListenAddress = "127.0.0.1:19866"

// listenAddresses is the --web.listen-address list to use: the flag's as given, or loopback for --demo
// when the flag was not set.
func listenAddresses(flag []string, demo, setByUser bool) []string {
	if demo && !setByUser {
		return []string{demoListenAddress}
	}
	return flag
}

// shutdownTimeout bounds the exit after SIGTERM: scrapes in flight get this long to finish and discovery
// sources to stop; what is still running then is left behind.
const shutdownTimeout = 5 * time.Second

// shutdown stops the HTTP server and discovery side by side, within timeout whatever they are stuck in.
func shutdown(srv *http.Server, ex *exporter, timeout time.Duration, logger log.Logger) int {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- ex.stop(ctx) }()
	if err := srv.Shutdown(ctx); err != nil {
		level.Warn(logger).Log("msg", "requests still running at exit", "err", err)
	}
	if err := <-stopped; err != nil {
		level.Warn(logger).Log("msg", "discovery did not stop in time", "err", err)
	}
	return 0
}

// reloadLoop serialises reloads from SIGHUP and /-/reload so that two never overlap.
func reloadLoop(ctx context.Context, reqs <-chan chan error, reload func() error) {
	var mu sync.Mutex
	for {
		select {
		case done := <-reqs:
			mu.Lock()
			done <- reload()
			mu.Unlock()
		case <-ctx.Done():
			return
		}
	}
}

// newLoggers builds the one go-kit logger of the process and the slog bridge exporter-toolkit needs, so
// both write one stream in one format at one level.
func newLoggers(w io.Writer, lvl, format string) (log.Logger, *slog.Logger) {
	var logger log.Logger
	if format == "json" {
		logger = log.NewJSONLogger(log.NewSyncWriter(w))
	} else {
		logger = log.NewLogfmtLogger(log.NewSyncWriter(w))
	}
	var opt level.Option
	var slvl slog.Level
	switch lvl {
	case "debug":
		opt, slvl = level.AllowDebug(), slog.LevelDebug
	case "warn":
		opt, slvl = level.AllowWarn(), slog.LevelWarn
	case "error":
		opt, slvl = level.AllowError(), slog.LevelError
	default:
		opt, slvl = level.AllowInfo(), slog.LevelInfo
	}
	// ts and caller are bound below the level filter, so that lines read "ts=... caller=... level=info
	// msg=..." like every Prometheus exporter's; depth 5 skips the filter and level wrappers.
	// The slog bridge (for exporter-toolkit) adds its own level, caller and time; classicLine puts them in
	// the same order and shape, so a grep for ts= or a logfmt parser sees one kind of line.
	slogger := slog.New(slgk.NewGoKitHandler(level.NewFilter(classicLine(logger), opt), slvl))
	logger = log.With(logger, "ts", log.DefaultTimestampUTC, "caller", log.Caller(5))
	logger = level.NewFilter(logger, opt)
	return logger, slogger
}

// classicLine rewrites the bridge's "level caller time msg ..." into "ts caller level msg ...", with the
// time in UTC like log.DefaultTimestampUTC.
func classicLine(next log.Logger) log.Logger {
	return log.LoggerFunc(func(kv ...any) error {
		var ts, caller, lvl []any
		rest := make([]any, 0, len(kv))
		for i := 0; i+1 < len(kv); i += 2 {
			switch fmt.Sprint(kv[i]) {
			case slog.TimeKey:
				v := kv[i+1]
				if t, ok := v.(time.Time); ok {
					v = t.UTC().Format(time.RFC3339Nano)
				}
				ts = []any{"ts", v}
			case "caller":
				caller = kv[i : i+2]
			case "level":
				lvl = kv[i : i+2]
			default:
				rest = append(rest, kv[i], kv[i+1])
			}
		}
		if len(kv)%2 == 1 {
			rest = append(rest, kv[len(kv)-1])
		}
		out := make([]any, 0, len(kv))
		out = append(append(append(append(out, ts...), caller...), lvl...), rest...)
		return next.Log(out...)
	})
}

func textHandler(text string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, text)
	})
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

// setVersionFromBuildInfo fills in the version of a plain "go build" or "go run", which has no ldflags:
// the module version and VCS revision Go records, so the landing page and build_info never show blanks.
func setVersionFromBuildInfo() {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if version.Version == "" {
		version.Version = strings.TrimPrefix(bi.Main.Version, "v")
		if version.Version == "" || version.Version == "(devel)" {
			version.Version = "dev"
		}
	}
	if version.Branch == "" {
		version.Branch = "unknown"
	}
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && (version.Revision == "" || version.Revision == "unknown"):
			version.Revision = s.Value
		case s.Key == "vcs.modified" && s.Value == "true" && !strings.HasSuffix(version.Revision, "-dirty") && version.Revision != "":
			version.Revision += "-dirty"
		}
	}
}
