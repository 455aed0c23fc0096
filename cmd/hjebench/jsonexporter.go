package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/simulator"
)

// The side-by-side figure of issue 14: prometheus-community/json_exporter, the generic way to turn a
// JSON API into metrics, on the same simulated cloud and the same jobs as scaleRun. json_exporter is a
// multi-target exporter: Prometheus sends it one /probe?module=..&target=<job URL> per job, and every
// probe fetches its target, so it asks the API about every job on every scrape of every replica.

const (
	// jxProbeConcurrency bounds the probes in flight per scraper. Prometheus scrapes the targets of a
	// job concurrently with no global bound; 32 keeps 10,000 probes inside a 60 s scrape interval at
	// 20 ms API latency (10,000 x 20 ms / 32 = 6.25 s) without opening thousands of sockets at once on a
	// shared 2-CPU machine.
	jxProbeConcurrency = 32
	// jxCycles is the number of measured steady cycles: a cycle is 20,000 probes, several seconds each.
	jxCycles = 3
	// benchToken is the IAM token json_exporter sends: it cannot sign AK/SK requests, so it uses token
	// authentication (X-Auth-Token), which the simulator accepts (simulator.Options.Tokens).
	benchToken = "MIIbench-token-for-the-loopback-simulator"
)

// jxModules are json_exporter modules for the four shapes of job answer (simulator/services.go), each
// exporting what json_exporter v0.7.0's config can express of ours: a status gauge with the status as
// a label value (the value path "1" is a literal of Kubernetes JSONPath), and an info series carrying
// begin and end time and the error code. v0.7.0 cannot turn a time string into a number, so times are
// label values and no duration can be computed; sub-jobs are left out because a missing JSONPath key
// logs an error per probe in v0.7.0 (most jobs have none), which would bill json_exporter for logging.
// Its configuration is thus lighter than the exporter's metrics: its figures are a lower bound.
var jxModules = map[string]struct{ status, jobID, jobType, begin, end, errorCode string }{
	"v1":  {"{.status}", "{.job_id}", "{.job_type}", "{.begin_time}", "{.end_time}", "{.error_code}"},
	"cce": {"{.status.phase}", "{.metadata.uid}", "{.spec.type}", "{.metadata.creationTimestamp}", "{.metadata.updateTimestamp}", "{.status.reason}"},
	"elb": {"{.job.status}", "{.job.job_id}", "{.job.job_type}", "{.job.begin_time}", "{.job.end_time}", "{.job.error_code}"},
	// CFW answers no job type and no error code (simulator/services.go): constants, as a user would.
	"cfw": {"{.data.status}", "{.data.id}", "createFirewall", "{.data.begin_time}", "{.data.end_time}", ""},
}

// jxModule is the module that reads a service's answers.
func jxModule(s huaweicloud.Service) string {
	switch s {
	case huaweicloud.CCE, huaweicloud.ELB, huaweicloud.CFW:
		return string(s)
	}
	return "v1"
}

// jxConfig is json_exporter's configuration file. Metric keys are lower-case: v0.7.0's config structs
// have no yaml tags, so yaml.v2 reads "valuetype".
func jxConfig() string {
	var b strings.Builder
	b.WriteString("modules:\n")
	for _, name := range []string{"v1", "cce", "elb", "cfw"} {
		m := jxModules[name]
		fmt.Fprintf(&b, "  %s:\n    headers:\n      X-Auth-Token: %s\n    metrics:\n", name, benchToken)
		fmt.Fprintf(&b, "    - name: huaweicloud_job_status\n      help: Job status from the job API.\n      valuetype: gauge\n      path: '1'\n")
		fmt.Fprintf(&b, "      labels: {job_id: '%s', job_type: '%s', status: '%s'}\n", m.jobID, m.jobType, m.status)
		fmt.Fprintf(&b, "    - name: huaweicloud_job_info\n      help: Job times and error code from the job API.\n      valuetype: gauge\n      path: '1'\n")
		fmt.Fprintf(&b, "      labels: {job_id: '%s', begin_time: '%s', end_time: '%s'", m.jobID, m.begin, m.end)
		if m.errorCode != "" {
			fmt.Fprintf(&b, ", error_code: '%s'", m.errorCode)
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// jxResult is what one json_exporter run measured.
type jxResult struct {
	steadyFigures
	version    string
	gzipSweep  int64 // one scraper's sweep of every target, bytes as sent
	plainSweep int64 // the same uncompressed
}

// compareJSONExporter runs json_exporter on each run's workload and adds its rows, and ratio rows
// against the exporter's results of the same job count.
func compareJSONExporter(add func(row), bin string, runs []scaleRun, ours map[int]scaleResult) {
	for _, r := range runs {
		if r.capOff {
			continue // json_exporter has no rate_limit: one run per workload
		}
		res, err := r.runJSONExporter(bin)
		label := "json_exporter"
		if res.version != "" {
			label += " v" + res.version
		}
		name := func(s string) string { return label + ": " + r.rowName(s) }
		if err != nil {
			add(row{name("process"), "error: " + err.Error(), "", "MISSED"})
			continue
		}
		add(row{name("peak RSS over steady cycles"), mib(res.steadyHWM) + fmt.Sprintf(" (RSS at end %s)", mib(res.endRSS)), "", "reported"})
		add(row{name("CPU per steady cycle (both scrapers probe every job)"), fmt.Sprintf("%.0f ms (%s API calls, cycle wall time %.2f s, %d probes in flight per scraper)",
			float64(res.cpuPerCycle)/1e6, thousands(int(res.callsPerCyc)), res.cycleWall.Seconds(), jxProbeConcurrency), "", "reported"})
		add(row{name(fmt.Sprintf("bytes of one scraper's %s /probe answers", thousands(r.jobs))), fmt.Sprintf("%.1f MB gzip, %.1f MB uncompressed (%d B/job)",
			float64(res.gzipSweep)/1e6, float64(res.plainSweep)/1e6, res.plainSweep/int64(r.jobs)), "", "reported"})
		o, ok := ours[r.jobs]
		if !ok {
			continue
		}
		ratio := func(a, b float64) string {
			if b <= 0 {
				return "n/a"
			}
			return fmt.Sprintf("%.1fx", a/b)
		}
		add(row{fmt.Sprintf("%s / this exporter, %s jobs: API calls, CPU, peak RSS per steady cycle", label, thousands(r.jobs)),
			fmt.Sprintf("API calls %s (%s vs %s), CPU %s (%.0f ms vs %.0f ms), peak RSS %s (%s vs %s)",
				ratio(float64(res.callsPerCyc), float64(o.callsPerCyc)), thousands(int(res.callsPerCyc)), thousands(int(o.callsPerCyc)),
				ratio(float64(res.cpuPerCycle), float64(o.cpuPerCycle)), float64(res.cpuPerCycle)/1e6, float64(o.cpuPerCycle)/1e6,
				ratio(float64(res.steadyHWM), float64(o.steadyHWM)), mib(res.steadyHWM), mib(o.steadyHWM)),
			"", "reported"})
	}
}

var jxVersionRE = regexp.MustCompile(`version (\d[^ ]*)`)

func (r scaleRun) runJSONExporter(bin string) (jxResult, error) {
	var res jxResult
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err == nil {
		if m := jxVersionRE.FindSubmatch(out); m != nil {
			res.version = string(m[1])
		}
	}
	sim := simulator.New(simulator.Options{Seed: 5, Credentials: map[string]string{benchAK: benchSK}, ProjectID: benchProject,
		Region: benchRegion, Latency: 20 * time.Millisecond, Tokens: []string{benchToken}})
	api := httptest.NewServer(sim.Handler())
	defer func() { api.Close(); _ = sim.Close() }()

	ids, svcs := r.createJobs(sim)
	// One probe URL per job, built once: the scrapers' own cost stays out of the measured process anyway,
	// but building 20,000 URLs per cycle would slow the cycle on a 2-CPU machine.
	probes := make([]string, len(ids))
	samples := map[string]string{} // module -> one probe, for the check below
	for i, id := range ids {
		spec, _ := huaweicloud.Spec(svcs[i])
		target := api.URL + strings.NewReplacer("{project_id}", benchProject, "{job_id}", id).Replace(spec.Path)
		if err := simulator.LoopbackURL(target); err != nil {
			return res, fmt.Errorf("json_exporter target: %w", err)
		}
		q := url.Values{"module": {jxModule(svcs[i])}, "target": {target}}
		probes[i] = "/probe?" + q.Encode()
		samples[jxModule(svcs[i])] = probes[i]
	}

	dir, err := os.MkdirTemp("", "hjebench-jx")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(jxConfig()), 0o600); err != nil {
		return res, err
	}
	if out, err := exec.Command(bin, "--config.check", "--config.file="+cfgPath).CombinedOutput(); err != nil {
		return res, fmt.Errorf("json_exporter --config.check: %w\n%s", err, out)
	}
	pid, base, stop, err := startProcess(bin, cfgPath, "/metrics", os.Stderr, "--log.level=error")
	if err != nil {
		return res, err
	}
	defer stop()

	// Each scraper is a Prometheus server of its own: its own keep-alive connections to the exporter.
	// Compression is off in the transport so that gzip answers are counted as sent.
	newScraper := func() *http.Client {
		return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DisableCompression: true,
			MaxIdleConnsPerHost: jxProbeConcurrency}}
	}
	scrapers := []*http.Client{newScraper(), newScraper()}
	uas := []string{"Prometheus/3.5.0 (replica A)", "Prometheus/3.5.0 (replica B)"}
	probe := func(c *http.Client, ua, path string, gz bool) ([]byte, error) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("User-Agent", ua)
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "10") // Prometheus' default
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return body, fmt.Errorf("%s answered %s: %s", path, resp.Status, bytes.TrimSpace(body))
		}
		return body, err
	}
	// A module whose paths match nothing would make json_exporter look cheap: each must export the
	// status of its job.
	for module, p := range samples {
		body, err := probe(scrapers[0], uas[0], p, false)
		if err != nil {
			return res, err
		}
		if !bytes.Contains(body, []byte("huaweicloud_job_status{")) || !bytes.Contains(body, []byte("huaweicloud_job_info{")) {
			return res, fmt.Errorf("json_exporter module %s exports no job status:\n%s", module, body)
		}
	}
	// sweep is one scraper probing every job, jxProbeConcurrency at a time; it returns the bytes read.
	sweep := func(c *http.Client, ua string, gz bool) (int64, error) {
		var total atomic.Int64
		var firstErr error
		var errOnce sync.Once
		next := make(chan string)
		var wg sync.WaitGroup
		for range jxProbeConcurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for p := range next {
					body, err := probe(c, ua, p, gz)
					if err != nil {
						errOnce.Do(func() { firstErr = err })
						continue
					}
					total.Add(int64(len(body)))
				}
			}()
		}
		for _, p := range probes {
			next <- p
		}
		close(next)
		wg.Wait()
		return total.Load(), firstErr
	}
	cycle := func() (time.Duration, error) {
		start := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, len(scrapers))
		for i := range scrapers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := sweep(scrapers[i], uas[i], true)
				errs[i] = err
				if i == 0 {
					res.gzipSweep = n
				}
			}()
		}
		wg.Wait()
		return time.Since(start), errors.Join(errs...)
	}

	// json_exporter keeps nothing between probes: one warm-up cycle (connections, heap grown to its
	// working size) before the peak is reset, as for the exporter.
	if _, err := cycle(); err != nil {
		return res, err
	}
	if res.steadyFigures, err = measureSteady(pid, sim, jxCycles, cycle); err != nil {
		return res, err
	}
	res.plainSweep, err = sweep(newScraper(), "hjebench (uncompressed size)", false)
	return res, err
}
