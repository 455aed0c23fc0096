//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/testkit"
)

// The hostile-client rows of the fault matrix (issue 22): the built exporter binary, as its own process,
// against the scriptable loopback cloud of faultmatrix_test.go (fmCloud) and against clients that send
// what a hostile one would. Each row asserts the outcome the issue expects; the figures it measures (RSS
// and heap of the process, its open descriptors) are logged for the record. Everything talks to
// 127.0.0.1 only. HJE_HOSTILE_SCALE=full runs the sizes (15,000 idle connections, 300 pulls with
// 1 MB User-Agents); the default is a third of that, which the 2-core CI machine takes in seconds.
// HJE_HOSTILE_BIN=<path> runs the rows against another build of the exporter.

var (
	hostileBinOnce sync.Once
	hostileBin     string
	hostileBinErr  error
)

// hostileBinary builds the exporter once per test run.
func hostileBinary(t *testing.T) string {
	t.Helper()
	hostileBinOnce.Do(func() {
		// HJE_HOSTILE_BIN runs the rows against another build, e.g. the exporter before issue 22.
		if hostileBin = os.Getenv("HJE_HOSTILE_BIN"); hostileBin != "" {
			return
		}
		dir, err := os.MkdirTemp("", "hje-hostile-")
		if err != nil {
			hostileBinErr = err
			return
		}
		hostileBin = filepath.Join(dir, "huaweicloud-job-exporter")
		out, err := exec.Command("go", "build", "-o", hostileBin, ".").CombinedOutput()
		if err != nil {
			hostileBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if hostileBinErr != nil {
		t.Fatal(hostileBinErr)
	}
	return hostileBin
}

func hostileScale(n int) int {
	if os.Getenv("HJE_HOSTILE_SCALE") == "full" {
		return n
	}
	return n / 3
}

// hostileProc is one running exporter.
type hostileProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	dir  string
	out  *testkit.Buffer
}

// hostileConfig is fmConfig's project as YAML: the control job on cloudURL, plus extra lines.
func hostileConfig(cloudURL, credentials, extra string) string {
	if credentials == "" {
		credentials = "credentials: {access_key: HPUATESTAK0000000001, secret_key: test-secret-key}\n"
	}
	return credentials + fmt.Sprintf("projects:\n  - region: %s\n    project_id: %s\n    endpoints: {ecs: %q, evs: %q, bms: %q, ims: %q, cts: %q}\n",
		testRegion, testProject, cloudURL, cloudURL, cloudURL, cloudURL, cloudURL) +
		"    jobs:\n      - {service: ecs, id: " + fmControl + "}\n" + extra
}

// startHostile starts the binary with the config file cfg (a path) and args, and waits until it serves.
func startHostile(t *testing.T, cfg string, args ...string) *hostileProc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &hostileProc{t: t, base: "http://" + addr, dir: filepath.Dir(cfg), out: &testkit.Buffer{}}
	p.cmd = exec.Command(hostileBinary(t), append([]string{"--config.file=" + cfg, "--web.listen-address=" + addr}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.Env = append(os.Environ(), "HUAWEICLOUD_SDK_AK=", "HUAWEICLOUD_SDK_SK=")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("exporter output:\n%s", tail(p.out.String(), 4000))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("exporter exited: %s", p.out.String())
		default:
		}
		if code, _ := p.status("GET", "/-/ready", nil); code == http.StatusOK {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter did not serve within 30 s: %s", p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// hostileClient gives up where Prometheus would: a hang is a failure, not a wait.
var hostileClient = &http.Client{Timeout: 30 * time.Second}

// status sends one request and returns the status code and body.
func (p *hostileProc) status(method, path string, header map[string]string) (int, string) {
	req, err := http.NewRequest(method, p.base+path, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := hostileClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scrape pulls /metrics as Prometheus would and returns the parsed samples by "name{labels}" text.
func (p *hostileProc) scrape(path string) map[string]float64 {
	p.t.Helper()
	code, body := p.status("GET", path, map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "4", "User-Agent": "Prometheus/3.0.0"})
	if code != http.StatusOK {
		p.t.Fatalf("%s: %d %s", path, code, tail(body, 300))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		p.t.Fatalf("%s does not parse: %v", path, err)
	}
	out := map[string]float64{}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, lp := range m.GetLabel() {
				ls = append(ls, lp.GetName()+"="+lp.GetValue())
			}
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
			out[name+"{"+strings.Join(ls, ",")+"}"] = v
		}
	}
	return out
}

// sum adds the samples whose key starts with prefix.
func sum(samples map[string]float64, prefix string) (float64, bool) {
	var s float64
	found := false
	for k, v := range samples {
		if strings.HasPrefix(k, prefix) {
			s, found = s+v, true
		}
	}
	return s, found
}

// rssMB is the process' resident set, from /proc.
func (p *hostileProc) rssMB() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		p.t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// fds is the number of the process' open descriptors.
func (p *hostileProc) fds() int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid))
	if err != nil {
		p.t.Fatal(err)
	}
	return len(ents)
}

// heapMB is the process' heap in use as it reports it.
func (p *hostileProc) heapMB() float64 {
	v, _ := sum(p.scrape("/exporter-metrics"), "go_memstats_heap_inuse_bytes")
	return v / (1 << 20)
}

func raiseFileLimit(t *testing.T, want uint64) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur < want && lim.Max > lim.Cur {
		lim.Cur = min(want, lim.Max)
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	return lim.Cur
}

type hostileRow struct {
	name string
	run  func(t *testing.T, cloud *fmCloud, dir string)
}

func TestFaultMatrixHostile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the exporter binary")
	}
	for _, row := range hostileRows() {
		t.Run(row.name, func(t *testing.T) {
			cloud := newFMCloud(t, nil)
			row.run(t, cloud, t.TempDir())
		})
	}
}

func hostileRows() []hostileRow {
	return []hostileRow{
		{"3-1MB User-Agents do not fill the heap", func(t *testing.T, cloud *fmCloud, dir string) {
			p := startHostile(t, writeFile(t, dir, "config.yml", hostileConfig(cloud.URL, "", "")))
			p.scrape("/metrics")
			before, rssBefore := p.heapMB(), p.rssMB()
			n := hostileScale(300)
			// Just under Go's default header limit (1 MiB + 4 KiB), so the old server took them.
			agent := strings.Repeat("A", 1000000)
			for i := range n {
				p.status("GET", "/metrics", map[string]string{"User-Agent": strconv.Itoa(i) + agent})
			}
			after, rssAfter := p.heapMB(), p.rssMB()
			t.Logf("%d pulls with 1 MB User-Agents: heap in use %.1f -> %.1f MB, RSS %.1f -> %.1f MB", n, before, after, rssBefore, rssAfter)
			if after-before > 16 {
				t.Errorf("heap in use grew by %.1f MB after %d pulls with 1 MB User-Agents, want at most 16 MB", after-before, n)
			}
			if v, _ := sum(p.scrape("/metrics"), "huaweicloud_job_query_success{job_id="+fmControl); v != 1 {
				t.Errorf("control query_success %v, want 1", v)
			}
		}},
		{"4-a FIFO as secret_key_file hangs nothing", func(t *testing.T, cloud *fmCloud, dir string) {
			ak, sk := writeFile(t, dir, "ak", "HPUATESTAK0000000001"), writeFile(t, dir, "sk", "test-secret-key")
			creds := fmt.Sprintf("credentials: {access_key_file: %q, secret_key_file: %q}\n", ak, sk)
			p := startHostile(t, writeFile(t, dir, "config.yml", hostileConfig(cloud.URL, creds, "")))
			p.scrape("/metrics")
			if err := os.Remove(sk); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(sk, 0o600); err != nil {
				t.Skipf("no FIFOs: %v", err)
			}
			t.Cleanup(func() { // release an old exporter stuck in open(2), so that it can exit
				if f, err := os.OpenFile(sk, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					f.Close()
				}
			})
			for _, path := range []string{"/metrics", "/metrics", "/exporter-metrics"} {
				// Just over the least gap between two queries of a job, so each pull asks the API and so
				// the credentials.
				time.Sleep(1100 * time.Millisecond)
				if code, body := p.status("GET", path, map[string]string{"X-Prometheus-Scrape-Timeout-Seconds": "4"}); code != http.StatusOK {
					t.Fatalf("%s with a FIFO as secret_key_file: %d %s", path, code, tail(body, 200))
				}
			}
			if v, _ := sum(p.scrape("/metrics"), "huaweicloud_job_query_success{job_id="+fmControl); v != 1 {
				t.Errorf("control query_success %v, want 1: the last good key is kept", v)
			}
			if code, _ := p.status("GET", "/-/healthy", nil); code != http.StatusOK {
				t.Errorf("/-/healthy %d: a refused FIFO is not a hung mount", code)
			}
		}},
		{"4-a FIFO as --config.file blocks no later reload", func(t *testing.T, cloud *fmCloud, dir string) {
			cfg := writeFile(t, dir, "config.yml", hostileConfig(cloud.URL, "", ""))
			p := startHostile(t, cfg)
			if err := os.Remove(cfg); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(cfg, 0o600); err != nil {
				t.Skipf("no FIFOs: %v", err)
			}
			t.Cleanup(func() {
				if f, err := os.OpenFile(cfg, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					f.Close()
				}
			})
			_ = p.cmd.Process.Signal(syscall.SIGHUP)
			waitFor(t, "the FIFO reload to fail", func() bool {
				v, _ := sum(p.scrape("/exporter-metrics"), "huaweicloud_job_exporter_config_last_reload_successful")
				return v == 0
			})
			os.Remove(cfg)
			writeFile(t, dir, "config.yml", hostileConfig(cloud.URL, "", "      - {service: ecs, id: "+fmJob+"}\n"))
			_ = p.cmd.Process.Signal(syscall.SIGHUP)
			waitFor(t, "the next SIGHUP to reload the good file", func() bool {
				_, ok := sum(p.scrape("/metrics"), "huaweicloud_job_query_success{job_id="+fmJob)
				return ok
			})
		}},
		{"5-idle connections are bounded", func(t *testing.T, cloud *fmCloud, dir string) {
			n := hostileScale(15000)
			raiseFileLimit(t, uint64(n+1000))
			p := startHostile(t, writeFile(t, dir, "config.yml", hostileConfig(cloud.URL, "", "")))
			rssBefore, fdsBefore := p.rssMB(), p.fds()
			var conns []net.Conn
			t.Cleanup(func() {
				for _, c := range conns {
					c.Close()
				}
			})
			addr := strings.TrimPrefix(p.base, "http://")
			for i := range n {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Logf("dial %d: %v (stopping there)", i, err)
					break
				}
				conns = append(conns, c)
				// One request, then the connection stays idle and kept alive.
				fmt.Fprintf(c, "GET /-/ready HTTP/1.1\r\nHost: x\r\n\r\n")
			}
			// Read the answers that came (a closed connection reads EOF), so each request is served.
			for _, c := range conns {
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(c)
				if resp, err := http.ReadResponse(r, nil); err == nil {
					resp.Body.Close()
				}
			}
			rssAfter, fdsAfter := p.rssMB(), p.fds()
			t.Logf("%d idle keep-alive connections: RSS %.1f -> %.1f MB, open fds %d -> %d", len(conns), rssBefore, rssAfter, fdsBefore, fdsAfter)
			if fdsAfter > fdsBefore+512+16 {
				t.Errorf("%d open descriptors with %d idle connections, want at most %d (--web.max-connections 512)", fdsAfter, len(conns), fdsBefore+512+16)
			}
			if rssAfter-rssBefore > 32 {
				t.Errorf("RSS grew by %.1f MB with %d idle connections, want at most 32 MB", rssAfter-rssBefore, len(conns))
			}
			// Prometheus still gets in.
			if v, _ := sum(p.scrape("/metrics"), "huaweicloud_job_query_success{job_id="+fmControl); v != 1 {
				t.Errorf("control query_success %v during the flood, want 1", v)
			}
		}},
		{"5-unfinished 1 MB headers are cut short", func(t *testing.T, cloud *fmCloud, dir string) {
			p := startHostile(t, writeFile(t, dir, "config.yml", hostileConfig(cloud.URL, "", "")))
			rssBefore := p.rssMB()
			n := hostileScale(200)
			chunk := "X-Pad: " + strings.Repeat("a", 1<<20) // no CRLF: the header never ends
			var wg sync.WaitGroup
			var mu sync.Mutex
			var peak float64
			conns := make([]net.Conn, n)
			for i := range n {
				c, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
				if err != nil {
					t.Fatal(err)
				}
				conns[i] = c
				wg.Add(1)
				go func() {
					defer wg.Done()
					_ = c.SetWriteDeadline(time.Now().Add(20 * time.Second))
					_, _ = io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n"+chunk)
				}()
			}
			t.Cleanup(func() {
				for _, c := range conns {
					c.Close()
				}
			})
			wg.Wait()
			mu.Lock()
			peak = max(peak, p.rssMB())
			mu.Unlock()
			t.Logf("%d connections each sending an unfinished 1 MB header: RSS %.1f -> %.1f MB", n, rssBefore, peak)
			if peak-rssBefore > 32 {
				t.Errorf("RSS grew by %.1f MB, want at most 32 MB (--web.max-header-bytes 16KiB)", peak-rssBefore)
			}
		}},
		{"6-watched jobs are capped, counted and logged", func(t *testing.T, cloud *fmCloud, dir string) {
			var b strings.Builder
			for i := range 25000 {
				fmt.Fprintf(&b, "- {service: ecs, id: job-%05d}\n", i)
			}
			jobs := writeFile(t, dir, "jobs.yml", b.String())
			p := startHostile(t, writeFile(t, dir, "config.yml", hostileConfig(cloud.URL, "", fmt.Sprintf("    discovery: {files: [%q]}\n", jobs))))
			var watched, leftOut float64
			waitFor(t, "the job file to be read", func() bool {
				s := p.scrape("/exporter-metrics")
				watched, _ = sum(s, "huaweicloud_job_exporter_watched_jobs{")
				leftOut, _ = sum(s, "huaweicloud_job_exporter_watch_cap_left_out_jobs")
				return watched > 1
			})
			t.Logf("25,000 discovered + 1 config job: %v watched, %v left out", watched, leftOut)
			if watched != 20000 || leftOut != 5001 {
				t.Errorf("watched %v, left out %v; want 20000 (the default max_watched_jobs) and 5001", watched, leftOut)
			}
			if n := strings.Count(p.out.String(), "max_watched_jobs reached"); n != 1 {
				t.Errorf("%d log lines about the cap, want 1", n)
			}
		}},
		{"7-/-/reload is off by default and no error quotes a secret", func(t *testing.T, cloud *fmCloud, dir string) {
			const secret = "Zs3cr3tSKzs3cr3tSKzs3cr3tSKzs3cr3tSKzs3c"
			cfg := writeFile(t, dir, "config.yml", hostileConfig(cloud.URL, "", ""))
			p := startHostile(t, cfg)
			if code, _ := p.status("POST", "/-/reload", nil); code != http.StatusForbidden {
				t.Errorf("POST /-/reload without --web.enable-lifecycle: %d, want 403", code)
			}
			on := startHostile(t, cfg, "--web.enable-lifecycle")
			if code, _ := on.status("POST", "/-/reload", map[string]string{"Origin": "http://evil.example"}); code != http.StatusForbidden {
				t.Errorf("cross-site POST /-/reload: %d, want 403", code)
			}
			if code, _ := on.status("PUT", "/-/reload", nil); code != http.StatusMethodNotAllowed {
				t.Errorf("PUT /-/reload: %d, want 405", code)
			}
			// The secret key pasted where the concurrency goes.
			writeFile(t, dir, "config.yml", "concurrency: "+secret+"\n"+hostileConfig(cloud.URL, "", ""))
			code, body := on.status("POST", "/-/reload", nil)
			if code != http.StatusInternalServerError {
				t.Errorf("reload of a bad file: %d, want 500", code)
			}
			waitFor(t, "the failed reload to be logged", func() bool { return strings.Contains(on.out.String(), "reload failed") })
			if strings.Contains(body, secret[:6]) || strings.Contains(on.out.String(), secret[:6]) {
				t.Errorf("the secret is quoted: body %q, log:\n%s", body, tail(on.out.String(), 800))
			}
		}},
		{"8-huge API answer headers are refused", func(t *testing.T, _ *fmCloud, dir string) {
			size := 1 << 20
			if os.Getenv("HJE_HOSTILE_SCALE") == "full" {
				size = 9 << 20 // the 9 MB
			}
			pad := strings.Repeat("p", size)
			ids := map[string]bool{}
			var extra strings.Builder
			for i := range 16 { // as many as the default concurrency queries at once
				id := fmt.Sprintf("f0f0f0f0f0f0f0f0f0f0f0f0f0f0%04d", i)
				ids[id] = true
				fmt.Fprintf(&extra, "      - {service: ecs, id: %s}\n", id)
			}
			cloud := newFMCloud(t, func(w http.ResponseWriter, _ *http.Request, id string, _ int) bool {
				if !ids[id] {
					return false
				}
				w.Header().Set("X-Pad", pad)
				writeJob(w, id, "RUNNING", "")
				return true
			})
			p := startHostile(t, writeFile(t, dir, "config.yml", hostileConfig(cloud.URL, "", extra.String())))
			rssBefore := p.rssMB()
			s := p.scrape("/metrics")
			t.Logf("16 concurrent answers with %d MB of headers: RSS %.1f -> %.1f MB", size>>20, rssBefore, p.rssMB())
			for id := range ids {
				if v, _ := sum(s, "huaweicloud_job_query_success{job_id="+id); v != 0 {
					t.Errorf("query_success of job %s with %d MB of headers = %v, want 0", id, size>>20, v)
				}
			}
			if v, _ := sum(s, "huaweicloud_job_query_success{job_id="+fmControl); v != 1 {
				t.Errorf("control query_success %v, want 1", v)
			}
		}},
		{"10-control characters reach no label and no page", func(t *testing.T, _ *fmCloud, dir string) {
			const evil = "bad\x00nul \x1b[31mred\x1b[0m \u202eexe.txt \u2066iso\u2069 \u0085c1 \x7fdel"
			cloud := newFMCloud(t, only(fmJob, func(w http.ResponseWriter, _ int) {
				code, _ := json.Marshal("E\x1b[2J")
				reason, _ := json.Marshal(evil)
				writeJob(w, fmJob, "FAIL", fmt.Sprintf(`"error_code": %s, "fail_reason": %s`, code, reason))
			}))
			p := startHostile(t, writeFile(t, dir, "config.yml", hostileConfig(cloud.URL, "", "      - {service: ecs, id: "+fmJob+"}\n")))
			_, metrics := p.status("GET", "/metrics", nil)
			_, landing := p.status("GET", "/", nil)
			for what, text := range map[string]string{"/metrics": metrics, "landing page": landing} {
				if i := strings.IndexFunc(text, func(r rune) bool {
					return (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
				}); i >= 0 {
					t.Errorf("%s carries a control or bidi character: %q", what, text[max(0, i-40):min(len(text), i+40)])
				}
			}
			if !strings.Contains(metrics, "red") || !strings.Contains(landing, "exe.txt") {
				t.Error("the text around the controls must stay")
			}
		}},
		{"405-only GET and HEAD read", func(t *testing.T, cloud *fmCloud, dir string) {
			p := startHostile(t, writeFile(t, dir, "config.yml", hostileConfig(cloud.URL, "", "")))
			for _, path := range []string{"/metrics", "/exporter-metrics", "/", "/config", "/-/healthy", "/-/ready"} {
				for _, m := range []string{"TRACE", "PUT", "DELETE", "POST"} {
					if code, _ := p.status(m, path, nil); code != http.StatusMethodNotAllowed {
						t.Errorf("%s %s: %d, want 405", m, path, code)
					}
				}
				if code, _ := p.status("HEAD", path, nil); code != http.StatusOK {
					t.Errorf("HEAD %s: %d, want 200", path, code)
				}
			}
		}},
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 30 s: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
