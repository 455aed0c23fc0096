// Command hjebench measures what the exporter costs: API calls per scrape, scrape wall time against the
// concurrency bound, behaviour under throttling, CPU and bytes per /metrics answer, and heap per watched
// job. Everything runs in this process against the loopback simulator, except the end-to-end runs, which
// start the exporter binary (and, with -json-exporter, prometheus-community/json_exporter on the same
// workload, jsonexporter.go) as processes of their own; it prints a Markdown table that README's
// Performance section quotes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/app"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/selfmetrics"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/simulator"
)

const (
	benchAK      = "BENCHACCESSKEY000001"
	benchSK      = "BenchSecretKeyOnlyForTheLoopbackSimulator"
	benchProject = "0123456789abcdef0123456789abcdef"
	benchRegion  = "ap-southeast-1"
	concurrency  = 16 // the exporter's default
)

type row struct{ name, value, target, verdict string }

func main() {
	skipThrottle := flag.Bool("skip-throttle", false, "skip the throttling run (about a minute)")
	exporter := flag.String("exporter", "", "exporter binary for the end-to-end runs (default: build this checkout)")
	scaleJobs := flag.String("scale", "1000,10000", "watched jobs of the end-to-end runs, comma-separated (\"\": none); 100000 adds about 10 minutes")
	onlyScale := flag.Bool("only-scale", false, "run only the end-to-end runs")
	cycles := flag.Int("cycles", 0, "measured steady pulls of each end-to-end run (0: 4, or 3 above 10,000 jobs)")
	interval := flag.Duration("interval", 15*time.Second, "start-to-start spacing of each scraper's pulls in the end-to-end runs (Prometheus' default scrape_interval)")
	scrapeTimeout := flag.Duration("scrape-timeout", 10*time.Second, "X-Prometheus-Scrape-Timeout-Seconds of the end-to-end runs, and the scrapers' own deadline (Prometheus' default scrape_timeout)")
	capOff := flag.Bool("cap-off", true, "run each end-to-end workload a second time with rate_limit 0, printed beside the defaults")
	servicesFlag := flag.String("services", "", "job services the end-to-end jobs cycle through, comma-separated (default: every job service); e.g. ecs,evs,bms,ims to measure an exporter older than issue 12")
	jsonExporter := flag.String("json-exporter", "", "json_exporter binary (scripts/json-exporter.sh builds v0.7.0): also run each end-to-end workload through it, side by side")
	flag.Parse()

	var rows []row
	var scaleRuns []scaleRun
	var scaleResults []scaleResult
	add := func(r row) {
		rows = append(rows, r)
		fmt.Fprintf(os.Stderr, "  %s: %s\n", r.name, r.value)
	}
	if !*onlyScale {
		fmt.Fprintln(os.Stderr, "running: heap per job")
		heapPerJob(add)
		fmt.Fprintln(os.Stderr, "running: API calls per scrape")
		apiCalls(add)
		fmt.Fprintln(os.Stderr, "running: scrape wall time")
		wallTime(add)
		if !*skipThrottle {
			fmt.Fprintln(os.Stderr, "running: throttling at 20 requests/s")
			throttling(add)
		}
		fmt.Fprintln(os.Stderr, "running: cost of /metrics")
		metricsCost(add)
	}
	if *scaleJobs != "" {
		services, err := parseServices(*servicesFlag)
		if err != nil {
			fmt.Fprintln(os.Stderr, "hjebench: -services:", err)
			os.Exit(2)
		}
		// Prometheus refuses a scrape_timeout longer than the scrape_interval: the exporter is never shown
		// pulls closer together than their own timeout.
		if *scrapeTimeout <= 0 || *interval < *scrapeTimeout {
			fmt.Fprintln(os.Stderr, "hjebench: -interval must be at least -scrape-timeout, which must be positive (as in Prometheus)")
			os.Exit(2)
		}
		runs, err := parseScale(*scaleJobs, *cycles, services, *interval, *scrapeTimeout, *capOff)
		if err != nil {
			fmt.Fprintln(os.Stderr, "hjebench: -scale:", err)
			os.Exit(2)
		}
		bin := *exporter
		if bin == "" {
			dir, err := os.MkdirTemp("", "hjebench-bin")
			if err != nil {
				panic(err)
			}
			defer os.RemoveAll(dir)
			fmt.Fprintln(os.Stderr, "building the exporter")
			if bin, err = buildExporter(dir); err != nil {
				fmt.Fprintln(os.Stderr, "hjebench: go build:", err)
				os.Exit(1)
			}
		}
		fmt.Fprintln(os.Stderr, "running: exporter process at scale")
		var ours map[int]scaleResult
		scaleRuns = runs
		ours, scaleResults = scale(add, bin, runs)
		if *jsonExporter != "" {
			fmt.Fprintln(os.Stderr, "running: json_exporter at scale, same workload")
			compareJSONExporter(add, *jsonExporter, runs, ours)
		}
	}

	fmt.Printf("\nMachine: %s, %d CPUs, %s %s/%s\n\n", cpuModel(), runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Println("| measurement | result | target | verdict |")
	fmt.Println("|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %s |\n", r.name, r.value, r.target, r.verdict)
	}
	if len(scaleResults) > 0 {
		printDefaultsTable(scaleRuns, scaleResults)
	}
}

// setup is one simulator and one exporter built by package app as the command builds it (client,
// collector, self-metrics, /metrics handler), with the jobs set by watch.
type setup struct {
	sim     *simulator.Simulator
	apiSrv  *httptest.Server
	ex      *app.Exporter
	col     *collector.Collector
	metrics *httptest.Server
}

// newSetup applies a configuration with colOpts' settings; clientOpts replace the client's flow control
// (app.WithClientOptions: none is retries only).
func newSetup(simOpts simulator.Options, colOpts collector.Options, clientOpts ...huaweicloud.Option) *setup {
	simOpts.Credentials = map[string]string{benchAK: benchSK}
	simOpts.ProjectID, simOpts.Region = benchProject, benchRegion
	sim := simulator.New(simOpts)
	apiSrv := httptest.NewServer(sim.Handler())
	cfg, err := config.Decode(strings.NewReader(benchConfig(apiSrv.URL, colOpts)))
	if err != nil {
		panic(err)
	}
	reg := prometheus.NewRegistry()
	ex := app.New(context.Background(), selfmetrics.New(reg), nil, app.WithClientOptions(clientOpts...))
	if err := ex.Apply(cfg, func(string) string { return "" }); err != nil {
		panic(err)
	}
	app.RegisterSelfMetrics(reg, ex)
	metrics := httptest.NewServer(ex.Collector().Handler(reg, 0, ex.Timeout, nil))
	return &setup{sim: sim, apiSrv: apiSrv, ex: ex, col: ex.Collector(), metrics: metrics}
}

// benchConfig is a configuration with every endpoint at the simulator and colOpts' settings. A config
// must name something to watch: its one job is replaced by watch's before the first scrape.
func benchConfig(url string, colOpts collector.Options) string {
	var endpoints []string
	for _, s := range huaweicloud.EndpointServices {
		endpoints = append(endpoints, fmt.Sprintf("%s: %q", s, url))
	}
	return fmt.Sprintf(`credentials: {access_key: %s, secret_key: %s}
concurrency: %d
min_query_interval: %s
final_job_ttl: %s
projects:
  - region: %s
    project_id: %s
    endpoints: {%s}
    jobs: [{service: ecs, id: ff80808288d41e1b018900000000ffff}]
`, benchAK, benchSK, colOpts.Concurrency, model.Duration(colOpts.MinQueryInterval), model.Duration(colOpts.FinalJobTTL),
		benchRegion, benchProject, strings.Join(endpoints, ", "))
}

func (s *setup) close() {
	s.metrics.Close()
	_ = s.ex.Stop(context.Background())
	s.apiSrv.Close()
	_ = s.sim.Close()
}

// watch creates jobs in the simulator (final ones first) and makes the collector watch all of them.
func (s *setup) watch(final, unfinished int) {
	var jobs []collector.WatchedJob
	target := func(svc huaweicloud.Service) huaweicloud.Target {
		return huaweicloud.Target{Service: svc, Region: benchRegion, ProjectID: benchProject, Endpoint: s.apiSrv.URL,
			Credentials: huaweicloud.Credentials{AccessKey: benchAK, SecretKey: benchSK}}
	}
	begin := time.Now().Add(-time.Hour)
	for i := range final + unfinished {
		svc := huaweicloud.JobServices[i%len(huaweicloud.JobServices)]
		spec := simulator.JobSpec{Service: svc, Begin: begin, RunFor: time.Minute, SubJobs: i % 3}
		if i >= final {
			spec.Outcome = huaweicloud.StatusRunning // stays RUNNING: queried on every scrape
			spec.RunFor = 24 * time.Hour
		}
		id := s.sim.CreateJob(spec)
		jobs = append(jobs, collector.WatchedJob{Target: target(svc), JobID: id})
	}
	s.col.SetJobs("config", jobs)
}

// scrape GETs /metrics like Prometheus with the given scrape timeout and returns the wall time.
func (s *setup) scrape(timeout time.Duration) time.Duration {
	req, _ := http.NewRequest(http.MethodGet, s.metrics.URL, nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", fmt.Sprintf("%g", timeout.Seconds()))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return time.Since(start)
}

func apiCalls(add func(row)) {
	s := newSetup(simulator.Options{Seed: 1}, collector.Options{Concurrency: concurrency, FinalJobTTL: 24 * time.Hour})
	defer s.close()
	s.watch(9000, 1000)

	s.scrape(60 * time.Second)
	first := s.sim.Stats().Requests
	add(row{"API calls, first scrape (10,000 jobs never seen)", fmt.Sprint(first), "10,000 (each job once)", verdict(first == 10000)})

	s.sim.ResetStats()
	s.scrape(60 * time.Second)
	st := s.sim.Stats()
	add(row{"API calls per scrape, 10,000 jobs of which 1,000 unfinished", fmt.Sprint(st.Requests), "1,000", verdict(st.Requests == 1000)})

	s.sim.ResetStats()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); s.scrape(60 * time.Second) }()
	}
	wg.Wait()
	st = s.sim.Stats()
	maxPerJob := int64(0)
	for _, n := range st.ByJob {
		maxPerJob = max(maxPerJob, n)
	}
	add(row{"API calls, two scrapers at once", fmt.Sprintf("%d (max %d per job)", st.Requests, maxPerJob),
		"1,000 (1 per unfinished job)", verdict(st.Requests == 1000 && maxPerJob == 1)})
}

func wallTime(add func(row)) {
	s := newSetup(simulator.Options{Seed: 2, Latency: 50 * time.Millisecond}, collector.Options{Concurrency: concurrency, FinalJobTTL: 24 * time.Hour})
	defer s.close()
	s.watch(0, 1000)
	s.scrape(60 * time.Second) // first contact: connections opened
	var times []time.Duration
	for range 3 {
		times = append(times, s.scrape(60*time.Second))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	median := times[1]
	bound := time.Duration(math.Ceil(1000.0/concurrency)) * 50 * time.Millisecond
	ratio := float64(median) / float64(bound)
	add(row{"scrape wall time, 1,000 unfinished jobs, 50 ms API latency, concurrency 16 (median of 3)",
		fmt.Sprintf("%.2f s = %.3f x bound (bound ceil(1000/16) x 50 ms = %.2f s)", median.Seconds(), ratio, bound.Seconds()),
		"<= 1.25 x bound", verdict(ratio <= 1.25)})
}

func throttling(add func(row)) {
	for _, adaptive := range []bool{false, true} {
		var opts []huaweicloud.Option
		name := "retries only"
		if adaptive {
			opts = append(opts, huaweicloud.WithAdaptiveRateLimit())
			name = "adaptive rate limit (the exporter's setting)"
		}
		s := newSetup(simulator.Options{Seed: 3, RateLimit: 20, FlowControlShare: 0.2},
			collector.Options{Concurrency: concurrency, FinalJobTTL: 24 * time.Hour}, opts...)
		s.watch(0, 1000)
		var sent, throttled, ok int64
		const scrapes = 3
		for range scrapes {
			s.sim.ResetStats()
			s.scrape(10 * time.Second)
			st := s.sim.Stats()
			sent += st.Requests
			throttled += st.Throttled
			ok += st.ByCode[http.StatusOK]
		}
		s.close()
		add(row{fmt.Sprintf("throttled at 20 req/s, 1,000 unfinished jobs, 10 s scrapes, %s (per scrape, mean of %d)", name, scrapes),
			fmt.Sprintf("%d requests, %d throttled (429/202), %d jobs refreshed", sent/scrapes, throttled/scrapes, ok/scrapes),
			"few 429s; about 200 jobs refreshed (20/s x 10 s)", "reported"})
	}
}

func metricsCost(add func(row)) {
	s := newSetup(simulator.Options{Seed: 4}, collector.Options{Concurrency: 64, MinQueryInterval: time.Hour, FinalJobTTL: 24 * time.Hour})
	defer s.close()
	s.watch(9000, 1000)
	s.scrape(60 * time.Second) // every job answered; min_query_interval keeps later scrapes off the API
	h := s.col.Handler(prometheus.NewRegistry(), 0, func() time.Duration { return time.Second }, nil)
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	const n = 30
	var size int64
	runtime.GC()
	cpu0 := cpuTime()
	for range n {
		w := &countingWriter{header: http.Header{}}
		h.ServeHTTP(w, req)
		size = w.n
	}
	perScrape := (cpuTime() - cpu0) / n
	add(row{"CPU per /metrics answer, 10,000 jobs (collect + text encoding, GC included)",
		fmt.Sprintf("%.1f ms", float64(perScrape)/1e6), "< 50 ms", verdict(perScrape < 50*time.Millisecond)})
	add(row{"bytes per /metrics answer, 10,000 jobs (uncompressed)", fmt.Sprintf("%.1f MB", float64(size)/1e6), "", "reported"})
}

func heapPerJob(add func(row)) {
	for _, n := range []int{10000, 100000} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&before)
		col := collector.New(templateGetter{}, collector.Options{Concurrency: 256, FinalJobTTL: 24 * time.Hour}, nil)
		jobs := make([]collector.WatchedJob, n)
		t := huaweicloud.Target{Region: benchRegion, ProjectID: benchProject, Endpoint: "http://127.0.0.1:1",
			Credentials: huaweicloud.Credentials{AccessKey: benchAK, SecretKey: benchSK}}
		for i := range jobs {
			t.Service = huaweicloud.JobServices[i%len(huaweicloud.JobServices)]
			jobs[i] = collector.WatchedJob{Target: t, JobID: fmt.Sprintf("ff80808288d41e1b0189%012x", i)}
		}
		col.SetJobs("config", jobs)
		jobs = nil
		col.Refresh(context.Background())
		// A pull renders each job's labels once and keeps them: part of the steady heap.
		_ = col.WriteText(io.Discard)
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&after)
		perJob := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
		runtime.KeepAlive(col)
		add(row{fmt.Sprintf("heap per watched job, %d jobs (answered, 1 in 3 with sub-jobs)", n),
			fmt.Sprintf("%.0f bytes", perJob), "< 4 KiB", verdict(perJob < 4096)})
	}
}

// templateGetter answers like the job API would, without HTTP: the heap figure is the collector's own.
type templateGetter struct{}

func (templateGetter) GetJob(_ context.Context, t huaweicloud.Target, id string) (*huaweicloud.Job, error) {
	begin := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	j := &huaweicloud.Job{Service: t.Service, JobID: id, JobType: "createServer", Status: huaweicloud.StatusSuccess,
		BeginTime: begin, EndTime: begin.Add(3 * time.Minute), ResourceID: "bae51750-0089-41a1-9b18-5c777978ff6d"}
	if id[len(id)-1]%3 == 0 {
		for k := range 3 {
			j.SubJobs = append(j.SubJobs, huaweicloud.SubJob{JobID: fmt.Sprintf("%s%d", id[:30], k), JobType: "createSingleServer",
				Status: huaweicloud.StatusSuccess, BeginTime: begin, EndTime: begin.Add(2 * time.Minute), ResourceID: "bae51750-0089-41a1-9b18-5c777978ff6d"})
		}
	}
	j.SubJobsTotal = len(j.SubJobs)
	return j, nil
}

type countingWriter struct {
	header http.Header
	n      int64
}

func (w *countingWriter) Header() http.Header { return w.header }
func (w *countingWriter) WriteHeader(int)     {}
func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// parseServices turns "ecs,evs" into services; "" is every job service.
func parseServices(s string) ([]huaweicloud.Service, error) {
	if s == "" {
		return huaweicloud.JobServices, nil
	}
	var out []huaweicloud.Service
	for _, f := range strings.Split(s, ",") {
		svc := huaweicloud.Service(strings.TrimSpace(f))
		if !slices.Contains(huaweicloud.JobServices, svc) {
			return nil, fmt.Errorf("%q is not a job service (%v)", f, huaweicloud.JobServices)
		}
		out = append(out, svc)
	}
	return out, nil
}
