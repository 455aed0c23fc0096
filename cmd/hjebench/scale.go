package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/simulator"
)

// scaleRun is the end-to-end figure of issues 14 and 19: the real exporter binary in its own process (so
// its RSS and CPU time are its own, read from /proc), on its shipped defaults (the generated config sets
// no timeout, concurrency or rate_limit), against the simulator in this process with 20 ms API latency,
// pulled the way Prometheus pulls on its defaults: each of two scrapers (an HA pair: gzip, distinct
// User-Agents, so the rule of How it works 4 applies) every 15 s, with X-Prometheus-Scrape-Timeout-Seconds
// 10 and its answer given up after 10 s. The two pull at the same instant, the worst case for memory.
type scaleRun struct {
	services   []huaweicloud.Service // the jobs cycle through these
	jobs       int
	unfinished int
	cycles     int           // measured steady pulls
	interval   time.Duration // start-to-start spacing of each scraper's pulls, never shortened by default
	timeout    time.Duration // the timeout header, and the scraper's own deadline
	capOff     bool          // rate_limit {requests_per_second: 0}: the variant printed beside the defaults
}

// apiLatency is the simulated API's answer time.
const apiLatency = 20 * time.Millisecond

// steadyFigures is what the steady cycles of a process measured (measureSteady), for this exporter and
// for json_exporter alike.
type steadyFigures struct {
	steadyHWM   int64 // peak RSS over the steady cycles, bytes
	endRSS      int64
	cpuPerCycle time.Duration   // CPU per steady cycle, the mean
	cpuCycles   []time.Duration // the CPU of each steady cycle, for the median and range
	callsPerCyc int64
	cycleWall   time.Duration
}

// scaleResult is what one run measured.
type scaleResult struct {
	steadyFigures
	startHWM    int64 // peak RSS from start to the end of the pull that completed the picture, bytes
	gzipBytes   int64 // one answer, as sent
	plainBytes  int64 // one answer, uncompressed
	concurrency int   // as this checkout's config package decodes the generated file
	rateLimit   string

	// From the start of a fresh process against the already populated cloud (a restart: the exporter
	// keeps nothing on disk) until every job has a status in scraper A's answer.
	firstStatuses int // jobs with a status after the first pull
	pullsToFull   int // 0: not within maxPulls
	maxPulls      int
	leastPulls    int // ceil(ceil(jobs / concurrency) x latency / timeout): what the API allows at best
	startWarn     int // warn and error lines logged from the start through that pull
	startFailed   int // pulls of that phase whose answer did not arrive within the timeout

	// Steady pulls (scraper A's view).
	walls      []time.Duration
	refreshed  []int // unfinished jobs whose last successful query is newer than the pull's start
	failed     int   // pulls whose answer did not arrive within the timeout: Prometheus drops those
	steadyWarn int
	topWarn    string // the most frequent warn or error message, with its count

	err error // the run failed: nothing above is a figure
}

// bound is the least wall time of a steady pull: ceil(unfinished / concurrency) rounds of API latency.
func (r scaleRun) bound(concurrency int) time.Duration {
	return time.Duration((r.unfinished+concurrency-1)/concurrency) * apiLatency
}

func (r scaleRun) variant() string {
	if r.capOff {
		return "rate_limit 0"
	}
	return "defaults"
}

// scale runs each run against the exporter binary, adds its rows and returns what it measured; ours
// holds the runs on defaults by job count (runs that failed are missing), for the comparison with
// json_exporter.
func scale(add func(row), exporter string, runs []scaleRun) (ours map[int]scaleResult, all []scaleResult) {
	ours = map[int]scaleResult{}
	for _, r := range runs {
		fmt.Fprintf(os.Stderr, "  %s jobs, %s (pulls %s apart)\n", thousands(r.jobs), r.variant(), r.interval)
		res, err := r.run(exporter)
		res.err = err
		all = append(all, res)
		name := func(s string) string { return r.rowName(s) }
		if err != nil {
			add(row{name("exporter process"), "error: " + err.Error(), "", "MISSED"})
			continue
		}
		if !r.capOff {
			ours[r.jobs] = res
		}
		at10k := r.jobs == 10000
		bound := r.bound(res.concurrency)
		walls := slices.Clone(res.walls)
		slices.Sort(walls)
		medWall := walls[len(walls)/2]
		// Issue 19's target is for 1,000 unfinished jobs and more: below, the bound (0.14 s at 100) is of the
		// order of the pull's fixed cost (writing and sending two answers), which it does not count.
		targetWall, verdictWall := "reported", "reported"
		if r.unfinished >= 1000 {
			targetWall, verdictWall = "<= 1.2x", verdict(float64(medWall) <= 1.2*float64(bound) && res.failed == 0)
		}
		add(row{name("steady pull wall time / bound ceil(unfinished/concurrency) x 20 ms"),
			fmt.Sprintf("%.2f s / %.2f s = %.2fx (median of %d; %.2f-%.2f s; %d over the %s timeout)", medWall.Seconds(), bound.Seconds(),
				float64(medWall)/float64(bound), len(walls), walls[0].Seconds(), walls[len(walls)-1].Seconds(), res.failed, r.timeout),
			targetWall, verdictWall})
		add(row{name("unfinished jobs refreshed per steady pull"), fmt.Sprintf("%s of %s (%s API calls per pull)",
			rangeOf(res.refreshed), thousands(r.unfinished), thousands(int(res.callsPerCyc))),
			"all", verdict(slices.Min(res.refreshed) == r.unfinished)})
		add(row{name("warn and error lines logged"), fmt.Sprintf("%d over %d steady pulls; %d from the start to the full picture%s",
			res.steadyWarn, len(res.walls), res.startWarn, res.topWarn), "0 per steady pull", verdict(res.steadyWarn == 0)})
		add(row{name("pulls until every job has a status after a restart"), res.fullPicture(r), "a few", "reported"})
		target, verdictRSS := "", "reported"
		if at10k {
			target, verdictRSS = "<= 40 MiB", verdict(res.steadyHWM <= 40<<20)
		}
		add(row{name("peak RSS over steady pulls"), mib(res.steadyHWM) + fmt.Sprintf(" (RSS at end %s; peak from start through the full picture %s)", mib(res.endRSS), mib(res.startHWM)), target, verdictRSS})
		median := res.cpuMedian()
		targetCPU, verdictCPU := "", "reported"
		if at10k {
			// Issue 14: halved from the 382-432 ms (means of 5 cycles) this run measured before the
			// issue's changes. Judged on the median: on a shared VM one cycle in ten can take twice
			// the CPU of the others (steal, a neighbour), which moves a mean of few cycles by 20 %.
			targetCPU, verdictCPU = "median <= 191 ms (issue 14)", verdict(median <= 191*time.Millisecond)
		}
		add(row{name("exporter CPU per steady pull (both scrapers, the whole interval)"), fmt.Sprintf("median %.0f ms, mean %.0f ms, %.0f-%.0f ms over %d pulls",
			float64(median)/1e6, float64(res.cpuPerCycle)/1e6, float64(slices.Min(res.cpuCycles))/1e6, float64(slices.Max(res.cpuCycles))/1e6, len(res.cpuCycles)),
			targetCPU, verdictCPU})
		add(row{name("bytes per /metrics answer"), fmt.Sprintf("%.1f MB gzip, %.1f MB uncompressed (%d B/job)",
			float64(res.gzipBytes)/1e6, float64(res.plainBytes)/1e6, res.plainBytes/int64(r.jobs)), "", "reported"})
	}
	return ours, all
}

// printDefaultsTable prints issue 19's table: per workload, the exporter on its shipped defaults and, on
// the next line, with the cap off. README's Performance and Running at scale sections quote it.
func printDefaultsTable(runs []scaleRun, results []scaleResult) {
	r0 := runs[0]
	fmt.Printf("\nExporter process on its shipped defaults (no timeout, concurrency or rate_limit in its config), pulled by two "+
		"scrapers at once every %s (start to start) with X-Prometheus-Scrape-Timeout-Seconds: %g and a %s deadline, "+
		"10 %% of the jobs unfinished, %s API latency, loopback. Steady figures: median (range) over the measured pulls; "+
		"bound = ceil(unfinished / concurrency) x latency.\n\n", r0.interval, r0.timeout.Seconds(), r0.timeout, apiLatency)
	fmt.Println("| jobs (unfinished) | config | steady pull wall / bound | unfinished refreshed per pull | CPU per pull (both scrapers) | peak RSS, two scrapers | warn lines per steady pull (from start to full picture) | pulls until every job has a status after a restart |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for i, r := range runs {
		res := results[i]
		workload := fmt.Sprintf("%s (%s)", thousands(r.jobs), thousands(r.unfinished))
		cfg := "defaults"
		if r.capOff {
			cfg = "rate_limit 0"
		}
		if res.err != nil {
			fmt.Printf("| %s | %s | error: %s | | | | | |\n", workload, cfg, res.err)
			continue
		}
		cfg += fmt.Sprintf(" (concurrency %d, rate_limit %s)", res.concurrency, res.rateLimit)
		bound := r.bound(res.concurrency)
		walls := slices.Clone(res.walls)
		slices.Sort(walls)
		med := walls[len(walls)/2]
		wall := fmt.Sprintf("%.2f s / %.2f s = %.2fx (%.2f-%.2f s)", med.Seconds(), bound.Seconds(), float64(med)/float64(bound), walls[0].Seconds(), walls[len(walls)-1].Seconds())
		if res.failed > 0 {
			wall += fmt.Sprintf("; %d of %d pulls over the timeout", res.failed, len(walls))
		}
		cpu := fmt.Sprintf("%.0f ms (%.0f-%.0f)", float64(res.cpuMedian())/1e6, float64(slices.Min(res.cpuCycles))/1e6, float64(slices.Max(res.cpuCycles))/1e6)
		warn := fmt.Sprintf("%.0f (%d)", float64(res.steadyWarn)/float64(len(res.walls)), res.startWarn)
		fmt.Printf("| %s | %s | %s | %s of %s | %s | %s | %s | %s |\n", workload, cfg, wall, rangeOf(res.refreshed), thousands(r.unfinished),
			cpu, mib(res.steadyHWM), warn, res.fullPicture(r))
	}
}

func (res scaleResult) cpuMedian() time.Duration {
	c := slices.Clone(res.cpuCycles)
	slices.Sort(c)
	return c[len(c)/2]
}

func (res scaleResult) fullPicture(r scaleRun) string {
	n := fmt.Sprint(res.pullsToFull)
	if res.pullsToFull == 0 {
		n = fmt.Sprintf("not within %d", res.maxPulls)
	}
	first := fmt.Sprintf("%s of %s after the first", thousands(res.firstStatuses), thousands(r.jobs))
	if res.startFailed > 0 {
		// Prometheus drops a pull answered after its timeout: what that pull refreshed shows only later.
		first = fmt.Sprintf("%d of them over the timeout, %s", res.startFailed, first)
	}
	return fmt.Sprintf("%s (least possible %d; %s)", n, res.leastPulls, first)
}

// rangeOf is "n" or "min-max".
func rangeOf(v []int) string {
	lo, hi := slices.Min(v), slices.Max(v)
	if lo == hi {
		return thousands(lo)
	}
	return thousands(lo) + "-" + thousands(hi)
}

// rowName names a row of this run: the measurement, then the workload.
func (r scaleRun) rowName(measurement string) string {
	return fmt.Sprintf("%s, %s jobs (%d%% finished), %s, two scrapers, 20 ms API latency", measurement, thousands(r.jobs), 100-100*r.unfinished/r.jobs, r.variant())
}

// createJobs creates the run's jobs in sim, final ones first, cycling through the job services; both
// exporters are measured on this same set.
func (r scaleRun) createJobs(sim *simulator.Simulator) (ids []string, svcs []huaweicloud.Service) {
	begin := time.Now().Add(-time.Hour)
	final := r.jobs - r.unfinished
	for i := range r.jobs {
		svc := r.services[i%len(r.services)]
		spec := simulator.JobSpec{Service: svc, Begin: begin, RunFor: time.Minute, SubJobs: i % 3}
		if i >= final {
			spec.Outcome, spec.RunFor = huaweicloud.StatusRunning, 24*time.Hour
		}
		ids = append(ids, sim.CreateJob(spec))
		svcs = append(svcs, svc)
	}
	return ids, svcs
}

// writeConfig writes the run's configuration to path and returns it as this checkout decodes it. It
// sets only what the benchmark must: the credentials, the loopback endpoints and the jobs; with capOff,
// rate_limit 0 too. onlyJobServices leaves out the endpoints of services without jobs here, for an
// exporter older than issue 12 that does not know them.
func (r scaleRun) writeConfig(path, apiURL string, ids []string, svcs []huaweicloud.Service, onlyJobServices bool) (*config.Config, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "credentials: {access_key: %s, secret_key: %s}\n", benchAK, benchSK)
	if r.capOff {
		b.WriteString("rate_limit: {requests_per_second: 0}\n")
	}
	// Every service of the table points at the simulator: a service left out would be asked at its
	// public endpoint, which a benchmark must never reach.
	fmt.Fprintf(&b, "projects:\n  - region: %s\n    project_id: %s\n    endpoints:\n", benchRegion, benchProject)
	var endpoints, all strings.Builder
	for _, s := range huaweicloud.EndpointServices {
		line := fmt.Sprintf("      %s: %s\n", s, apiURL)
		all.WriteString(line)
		if !onlyJobServices || s == huaweicloud.CTS || slices.Contains(r.services, s) {
			endpoints.WriteString(line)
		}
	}
	var jobs strings.Builder
	jobs.WriteString("    jobs:\n")
	for i, id := range ids {
		fmt.Fprintf(&jobs, "      - {service: %s, id: %s}\n", svcs[i], id)
	}
	// The guard judges the configuration with every endpoint on loopback. The variant for an older
	// exporter leaves out only the endpoints of services that have no job here (that exporter does
	// not know them, and nothing would ask them); every line it keeps is the same loopback URL.
	cfg, err := config.Decode(strings.NewReader(b.String() + all.String() + jobs.String()))
	if err != nil {
		return nil, err
	}
	if err := simulator.LoopbackOnly(cfg); err != nil {
		return nil, fmt.Errorf("benchmark configuration: %w", err)
	}
	return cfg, os.WriteFile(path, []byte(b.String()+endpoints.String()+jobs.String()), 0o600)
}

func (r scaleRun) run(exporter string) (scaleResult, error) {
	var res scaleResult
	sim := simulator.New(simulator.Options{Seed: 5, Credentials: map[string]string{benchAK: benchSK}, ProjectID: benchProject,
		Region: benchRegion, Latency: apiLatency})
	api := httptest.NewServer(sim.Handler())
	defer func() { api.Close(); _ = sim.Close() }()

	dir, err := os.MkdirTemp("", "hjebench")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	ids, svcs := r.createJobs(sim)
	unfinished := map[string]bool{}
	for _, id := range ids[r.jobs-r.unfinished:] {
		unfinished[id] = true
	}
	cfgPath := filepath.Join(dir, "config.yml")
	var cfg *config.Config
	for _, onlyJobServices := range []bool{false, true} {
		if cfg, err = r.writeConfig(cfgPath, api.URL, ids, svcs, onlyJobServices); err != nil {
			return res, err
		}
		if exec.Command(exporter, "--config.check", "--config.file="+cfgPath).Run() == nil {
			break
		}
	}
	res.concurrency = cfg.Concurrency
	res.rateLimit = "none"
	if rl := cfg.ProjectRateLimit(0); rl.RequestsPerSecond > 0 {
		res.rateLimit = fmt.Sprintf("%g/s, burst %d", rl.RequestsPerSecond, rl.Burst)
	}
	res.leastPulls = max(1, int(math.Ceil(float64((r.jobs+cfg.Concurrency-1)/cfg.Concurrency)*float64(apiLatency)/float64(r.timeout))))
	res.maxPulls = max(12, 2*res.leastPulls+4)

	// The exporter logs at its default level; its lines are counted, not shown.
	logs := newLogTally()
	pid, base, stop, err := startProcess(exporter, cfgPath, "/-/ready", logs)
	if err != nil {
		return res, err
	}
	defer stop()

	a := newScraper("Prometheus/3.5.0 (replica A)", r.timeout)
	b := newScraper("Prometheus/3.5.0 (replica B)", r.timeout)
	next := time.Now()
	// pair waits for the next tick of the interval, then pulls with both scrapers at once; scan, if not
	// nil, reads scraper A's answer (after the pull: this process's work stays out of the pull).
	var lastErr error
	pair := func(scan func(io.Reader) error) (time.Duration, error) {
		time.Sleep(time.Until(next))
		start := time.Now()
		next = start.Add(r.interval)
		var answer bytes.Buffer // as sent: unpacked and read after the pull, so that this process's work stays out of it
		var wg sync.WaitGroup
		var errB error
		wg.Add(1)
		go func() { defer wg.Done(); _, errB = b.pull(base+"/metrics", true, nil) }()
		n, errA := a.pull(base+"/metrics", true, &answer)
		d := time.Since(start)
		wg.Wait()
		res.gzipBytes = n
		if err := errors.Join(errA, errB); err != nil {
			lastErr = err
			return d, err
		}
		if scan == nil {
			return d, nil
		}
		zr, err := gzip.NewReader(&answer)
		if err != nil {
			return d, fmt.Errorf("answer to scraper A: %w", err)
		}
		return d, scan(zr)
	}

	// A fresh process: pull until every job has a status.
	for k := 1; k <= res.maxPulls && res.pullsToFull == 0; k++ {
		var statuses int
		_, err := pair(func(rd io.Reader) (err error) {
			statuses, _, err = scanAnswer(rd, nil, time.Time{})
			return err
		})
		if k == 1 {
			res.firstStatuses = statuses
		}
		if err != nil {
			res.startFailed++
			fmt.Fprintf(os.Stderr, "  pull %d after the start: %v\n", k, err)
		}
		if err == nil && statuses == r.jobs {
			res.pullsToFull = k
		}
	}
	if res.startHWM, err = procStatus(pid, "VmHWM"); err != nil {
		return res, err
	}
	if _, err := pair(nil); err != nil { // warm: the first steady pull, not measured
		fmt.Fprintln(os.Stderr, "  warm pull:", err)
	}
	res.startWarn = logs.count()

	cycle := func() (time.Duration, error) {
		var refreshed int
		start := time.Now()
		d, err := pair(func(rd io.Reader) (err error) {
			_, refreshed, err = scanAnswer(rd, unfinished, start)
			return err
		})
		res.walls = append(res.walls, d)
		res.refreshed = append(res.refreshed, refreshed)
		if err != nil {
			res.failed++
		}
		// A failed pull is a figure (Prometheus drops it), not the end of the run.
		return d, nil
	}
	if res.steadyFigures, err = measureSteady(pid, sim, r.cycles, cycle); err != nil {
		return res, err
	}
	time.Sleep(time.Until(next)) // the log lines of the last pull's interval
	res.steadyWarn = logs.count() - res.startWarn
	res.topWarn = logs.top()
	if res.failed > 0 {
		fmt.Fprintln(os.Stderr, "  a steady pull failed:", lastErr)
	}
	// The size of an uncompressed answer is a figure of its own, not a pull of the scrapers: it gets a
	// minute, and its failure costs only this figure.
	plain := newScraper("hjebench (uncompressed size)", time.Minute)
	if res.plainBytes, err = plain.pull(base+"/metrics", false, nil); err != nil {
		fmt.Fprintln(os.Stderr, "  uncompressed answer:", err)
	}
	return res, nil
}

// scraper pulls /metrics like one Prometheus server: its own keep-alive connections, a User-Agent, the
// timeout header, and the whole answer read within that timeout or given up.
type scraper struct {
	ua      string
	timeout time.Duration
	client  *http.Client
}

func newScraper(ua string, timeout time.Duration) *scraper {
	// Compression off in the transport: gzip answers are counted as sent and unpacked here.
	return &scraper{ua: ua, timeout: timeout, client: &http.Client{Transport: &http.Transport{DisableCompression: true}}}
}

// pull GETs url and returns the bytes as sent; keep, if not nil, gets them.
func (s *scraper) pull(url string, gz bool, keep io.Writer) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", s.ua)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(s.timeout.Seconds(), 'f', -1, 64))
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("/metrics answered %s", resp.Status)
	}
	if keep == nil {
		keep = io.Discard
	}
	return io.Copy(keep, resp.Body)
}

var (
	statusPrefix    = []byte("huaweicloud_job_status{")
	lastQueryPrefix = []byte("huaweicloud_job_last_query_timestamp_seconds{")
	jobIDLabel      = []byte(`job_id="`)
)

// scanAnswer reads a text answer: withStatus counts the jobs that have a status (one
// huaweicloud_job_status series at 1), refreshed the jobs of unfinished whose last successful query
// (huaweicloud_job_last_query_timestamp_seconds, in milliseconds) is at or after since.
func scanAnswer(r io.Reader, unfinished map[string]bool, since time.Time) (withStatus, refreshed int, err error) {
	sinceSeconds := float64(since.UnixMilli()) / 1e3
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case bytes.HasPrefix(line, statusPrefix):
			if bytes.HasSuffix(line, []byte("} 1")) {
				withStatus++
			}
		case len(unfinished) > 0 && bytes.HasPrefix(line, lastQueryPrefix):
			i := bytes.Index(line, jobIDLabel)
			sp := bytes.LastIndexByte(line, ' ')
			if i < 0 || sp < 0 {
				continue
			}
			id := line[i+len(jobIDLabel):]
			id = id[:max(0, bytes.IndexByte(id, '"'))]
			v, err := strconv.ParseFloat(string(line[sp+1:]), 64)
			if err == nil && unfinished[string(id)] && v >= sinceSeconds {
				refreshed++
			}
		}
	}
	return withStatus, refreshed, sc.Err()
}

// logTally counts the warn and error lines of the exporter's log (logfmt or JSON) as they arrive on its
// stderr, by message.
type logTally struct {
	mu      sync.Mutex
	partial []byte
	n       int
	byMsg   map[string]int
}

func newLogTally() *logTally { return &logTally{byMsg: map[string]int{}} }

var (
	// The first level key of a line is the logger's: a message may quote "level=..." after it.
	levelRE = regexp.MustCompile(`(?:^|\s)level=(\w+)|"level":"(\w+)"`)
	msgRE   = regexp.MustCompile(`msg="((?:[^"\\]|\\.)*)"|msg=(\S+)|"msg":"((?:[^"\\]|\\.)*)"`)
)

func (t *logTally) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, p...)
	rest := t.partial
	for {
		line, after, ok := bytes.Cut(rest, []byte("\n"))
		if !ok {
			break
		}
		if m := levelRE.FindSubmatch(line); m != nil && isWarn(string(m[1])+string(m[2])) {
			t.n++
			if m := msgRE.FindSubmatch(line); m != nil {
				t.byMsg[string(bytes.Join(m[1:], nil))]++
			}
		}
		rest = after
	}
	t.partial = append(t.partial[:0], rest...)
	return len(p), nil
}

func isWarn(level string) bool { return level == "warn" || level == "error" }

func (t *logTally) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// top is "; most: <message> (n)" for the most frequent message, or "".
func (t *logTally) top() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	best, n := "", 0
	for m, c := range t.byMsg {
		if c > n || (c == n && m < best) {
			best, n = m, c
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; most: %q x %d", best, n)
}

// startProcess starts bin with its configuration on a free loopback address, its log going to stderr, and
// waits until path answers 200; stop kills it.
func startProcess(bin, cfgPath, path string, stderr io.Writer, args ...string) (pid int, base string, stop func(), err error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, "", nil, err
	}
	cmd := exec.Command(bin, append([]string{"--config.file=" + cfgPath, "--web.listen-address=" + addr}, args...)...)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return 0, "", nil, err
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	base = "http://" + addr
	if err := waitReady(base + path); err != nil {
		stop()
		return 0, "", nil, err
	}
	return cmd.Process.Pid, base, stop, nil
}

// measureSteady runs cycles steady cycles of process pid against sim and measures them. Resetting the
// peak first (clear_refs 5, Linux 4.0+) keeps the start-up peak (config decoding, the cold cycle) out of
// the steady figure.
func measureSteady(pid int, sim *simulator.Simulator, cycles int, cycle func() (time.Duration, error)) (steadyFigures, error) {
	var f steadyFigures
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return f, fmt.Errorf("reset peak RSS: %w", err)
	}
	sim.ResetStats()
	cpu0, err := procCPU(pid)
	if err != nil {
		return f, err
	}
	var wall time.Duration
	prev := cpu0
	for range cycles {
		d, err := cycle()
		if err != nil {
			return f, err
		}
		wall += d
		now, err := procCPU(pid)
		if err != nil {
			return f, err
		}
		f.cpuCycles = append(f.cpuCycles, now-prev)
		prev = now
	}
	f.cpuPerCycle = (prev - cpu0) / time.Duration(cycles)
	f.cycleWall = wall / time.Duration(cycles)
	f.callsPerCyc = sim.Stats().Requests / int64(cycles)
	if f.steadyHWM, err = procStatus(pid, "VmHWM"); err != nil {
		return f, err
	}
	f.endRSS, err = procStatus(pid, "VmRSS")
	return f, err
}

// buildExporter builds the exporter of this checkout into dir, as "make build" would.
func buildExporter(dir string) (string, error) {
	out := filepath.Join(dir, "huaweicloud-job-exporter")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return out, cmd.Run()
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitReady(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer within 60 s", url)
}

// procStatus reads a "kB" line of /proc/<pid>/status, in bytes.
func procStatus(pid int, key string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && k == key {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", key, pid)
}

// procCPU is the user and system time of a process (all threads), from /proc/<pid>/stat; Linux counts
// it in clock ticks of 10 ms (USER_HZ 100).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after its closing parenthesis are plain.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// parseScale turns "1000,10000" into runs: 10% of the jobs unfinished, the exporter's defaults (and with
// capOff the same again with rate_limit 0, right after), 4 measured steady pulls up to 10,000 jobs and 3
// above, unless cycles says otherwise.
func parseScale(s string, cycles int, services []huaweicloud.Service, interval, timeout time.Duration, capOff bool) ([]scaleRun, error) {
	var runs []scaleRun
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 10 {
			return nil, fmt.Errorf("%q is not a job count of at least 10", f)
		}
		r := scaleRun{jobs: n, unfinished: n / 10, cycles: 4, services: services, interval: interval, timeout: timeout}
		if n > 10000 {
			r.cycles = 3
		}
		if cycles > 0 {
			r.cycles = cycles
		}
		runs = append(runs, r)
		if capOff {
			r.capOff = true
			runs = append(runs, r)
		}
	}
	return runs, nil
}
