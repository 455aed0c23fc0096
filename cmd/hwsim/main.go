// Command hwsim runs the simulated Huawei Cloud (package simulator) on its own: the job API of every
// service of the exporter's service table (huaweicloud.JobServices) and CTS traces on one loopback listener, with the demo scenario's jobs in motion. It prints
// an exporter configuration that watches it on stdout (and only that: "hwsim > hwsim.yml" is a valid
// config file), its URL and log on stderr, and runs until SIGINT or SIGTERM.
//
// It is a test tool: it refuses to listen on a non-loopback address unless --listen-address names that
// address on the command line (an address from HWSIM_LISTEN_ADDRESS alone is not enough).
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/alecthomas/kingpin/v2"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/simulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code once ctx is done or on an error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := kingpin.New("hwsim", "A simulated Huawei Cloud (the job APIs of "+serviceNames()+", and CTS traces) on loopback, for tests and demos.")
	var listenSet bool
	var (
		listen       = app.Flag("listen-address", "Address to listen on. Non-loopback addresses must be given explicitly with this flag.").Envar("HWSIM_LISTEN_ADDRESS").Default("127.0.0.1:18000").IsSetByUser(&listenSet).String()
		seed         = app.Flag("seed", "Random seed: job ids, faults, latency jitter and the scenario.").Default("1").Int64()
		accessKey    = app.Flag("access-key", "Access key the simulator accepts.").Default(simulator.DemoAccessKey).String()
		secretKey    = app.Flag("secret-key", "Secret key of --access-key.").Default(simulator.DemoSecretKey).String()
		projectID    = app.Flag("project-id", "Project id the simulator serves (other projects get 403 APIG.0302).").Default(simulator.DemoProjectID).String()
		region       = app.Flag("region", "Region named in CTS traces and the printed configuration.").Default(simulator.DemoRegion).String()
		latency      = app.Flag("latency", "Latency added to every answer.").Default("0s").Duration()
		jitter       = app.Flag("latency-jitter", "Extra random latency, uniform in [0, this).").Default("0s").Duration()
		rateLimit    = app.Flag("rate-limit", "Requests per second before throttling (429 APIG.0308, or 202 Common.0024 for ECS jobs); 0 = unlimited.").Default("0").Float64()
		flowShare    = app.Flag("flow-control-share", "Share of throttled ECS job queries answered with ECS's 202 Common.0024 instead of the gateway's 429 (other services have no such code).").Default("0").Float64()
		serverErrors = app.Flag("server-error-rate", "Share of answers that are 500 Common.0002.").Default("0").Float64()
		malformed    = app.Flag("malformed-rate", "Share of answers that are truncated JSON with status 200.").Default("0").Float64()
		retention    = app.Flag("retention", "How long final jobs stay queryable after their end (negative: forever).").Default("24h").Duration()
		scenario     = app.Flag("scenario", "Run the demo scenario (a few dozen jobs in motion, new ones every 3s); --no-scenario serves an empty cloud.").Default("true").Bool()
	)
	app.HelpFlag.Short('h')
	app.Writer(stdout)
	app.ErrorWriter(stderr)
	exit := -1
	app.Terminate(func(code int) { exit = code }) // --help: print and return instead of os.Exit
	_, err := app.Parse(args)
	switch {
	case exit >= 0:
		return exit
	case err != nil:
		fmt.Fprintf(stderr, "hwsim: %v (try --help)\n", err)
		return 2
	}
	if !listenSet && !loopback(*listen) {
		fmt.Fprintf(stderr, "hwsim: refusing to listen on %q, which is not a loopback address: this is a test tool with public demo "+
			"credentials. Pass --listen-address=%s explicitly if you really mean it.\n", *listen, *listen)
		return 2
	}
	for name, v := range map[string]float64{"flow-control-share": *flowShare, "server-error-rate": *serverErrors, "malformed-rate": *malformed} {
		if v < 0 || v > 1 {
			fmt.Fprintf(stderr, "hwsim: --%s must be between 0 and 1, not %g\n", name, v)
			return 2
		}
	}
	if *accessKey == "" || *secretKey == "" {
		fmt.Fprintln(stderr, "hwsim: --access-key and --secret-key must not be empty")
		return 2
	}

	sim := simulator.New(simulator.Options{
		Seed:             *seed,
		Credentials:      map[string]string{*accessKey: *secretKey},
		ProjectID:        *projectID,
		Region:           *region,
		Latency:          *latency,
		LatencyJitter:    *jitter,
		RateLimit:        *rateLimit,
		FlowControlShare: *flowShare,
		ServerErrorRate:  *serverErrors,
		MalformedRate:    *malformed,
		Retention:        *retention,
	})
	url, err := sim.Start(*listen)
	if err != nil {
		fmt.Fprintf(stderr, "hwsim: %v\n", err)
		return 1
	}
	defer sim.Close()

	done := make(chan struct{})
	if *scenario {
		go func() {
			defer close(done)
			sim.RunScenario(ctx, simulator.DefaultScenario())
		}()
	} else {
		close(done)
	}

	// Only the configuration goes to stdout, so that "hwsim > hwsim.yml" writes a file the exporter loads;
	// what a person reads goes to stderr.
	fmt.Fprintf(stderr, "hwsim: simulated Huawei Cloud listening on %s (project %s, region %s, seed %d, scenario %t)\n",
		url, *projectID, *region, *seed, *scenario)
	for _, s := range huaweicloud.JobServices {
		fmt.Fprintf(stderr, "hwsim: %s job API GET %s%s\n", s, url, huaweicloud.JobPath(s, *projectID, "{job_id}"))
	}
	fmt.Fprintf(stderr, "hwsim: CTS GET %s/v3/%s/traces\n", url, *projectID)
	fmt.Fprintln(stderr, "hwsim: exporter configuration on stdout; save it with: go run ./cmd/hwsim > hwsim.yml, then run: huaweicloud-job-exporter --config.file=hwsim.yml")
	fmt.Fprintf(stdout, "# Exporter configuration for the simulated Huawei Cloud at %s (hwsim, seed %d).\n%s",
		url, *seed, simulator.ExporterConfig(url, *accessKey, *secretKey, *region, *projectID))

	<-ctx.Done()
	<-done
	st := sim.Stats()
	fmt.Fprintf(stderr, "hwsim: stopping after %d job queries (%d throttled, %d auth failures) and %d CTS requests\n",
		st.Requests, st.Throttled, st.AuthFailures, st.TraceRequests)
	return 0
}

// loopback reports whether addr (host:port) names only loopback interfaces. An empty host means every
// interface and is not loopback.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serviceNames lists the simulated job services, from the service table so that the help never lags it.
func serviceNames() string {
	names := make([]string, len(huaweicloud.JobServices))
	for i, s := range huaweicloud.JobServices {
		names[i] = strings.ToUpper(string(s))
	}
	return strings.Join(names, ", ")
}
