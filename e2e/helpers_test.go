// Package e2e runs the real exporter binary against the loopback simulator, with a real Prometheus,
// Alertmanager and headless Chromium where the test needs them.
package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/simulator"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/testkit"
)

// exporterBin is the exporter built once for all tests.
var exporterBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hje-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	exporterBin = filepath.Join(dir, "huaweicloud-job-exporter")
	// Built from the repository root with -buildvcs=auto (overriding a GOFLAGS=-buildvcs=false, which
	// this machine's environment sets) so that Go stamps the git revision: the landing page and README's
	// screenshot show a real revision, not "unknown".
	build := exec.Command("go", "build", "-buildvcs=auto", "-o", exporterBin, ".")
	build.Dir = ".."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the exporter:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	testAK      = "E2EACCESSKEY00000001"
	testSK      = "E2ESecretKeyOnlyForTheLoopbackSimulator"
	testProject = "0123456789abcdef0123456789abcdef"
	testRegion  = "ap-southeast-1"
)

// requireTool returns the path of the first of names on PATH. Missing tools skip the test, unless
// HJE_REQUIRE_E2E=1 (set by .ci/run) makes them a failure: CI must not pass by skipping.
func requireTool(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("HJE_REQUIRE_E2E") == "1" {
		t.Fatalf("%s not found on PATH (HJE_REQUIRE_E2E=1); .ci/run installs it", strings.Join(names, " or "))
	}
	t.Skipf("%s not found on PATH; set HJE_REQUIRE_E2E=1 to make this a failure", strings.Join(names, " or "))
	return ""
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startSimulator runs the simulated cloud on loopback for the test.
func startSimulator(t *testing.T) (*simulator.Simulator, string) {
	t.Helper()
	sim := simulator.New(simulator.Options{Seed: 7, Credentials: map[string]string{testAK: testSK}, ProjectID: testProject, Region: testRegion})
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim, url
}

// process is a child process whose output is kept for the test log.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *testkit.Buffer
	done chan struct{}
}

// start runs a command until the test ends; it is killed at cleanup even when the test fails, and its
// output is logged when the test failed.
func start(t *testing.T, name string, args ...string) *process {
	t.Helper()
	p := &process{name: filepath.Base(name), cmd: exec.Command(name, args...), out: &testkit.Buffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.Env = append(os.Environ(), "HUAWEICLOUD_SDK_AK=", "HUAWEICLOUD_SDK_SK=")
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("--- output of %s:\n%s", p.name, tail(p.out.String(), 6000))
		}
	})
	return p
}

func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// eventually polls cond until it is true or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, detail := cond()
		if ok {
			return
		}
		last = detail
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s (last: %s)", timeout, what, last)
}

func httpGet(ctx context.Context, url string, header map[string]string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// get is httpGet with a short timeout, for polling.
func get(url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return httpGet(ctx, url, nil)
}

// writeFile writes content to name in dir and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// exporterConfig is a config watching jobs at the simulator.
func exporterConfig(simURL string, jobs map[string]string, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "credentials:\n  access_key: %s\n  secret_key: %s\nmin_query_interval: 1s\n%s", testAK, testSK, extra)
	fmt.Fprintf(&b, "projects:\n  - region: %s\n    project_id: %s\n", testRegion, testProject)
	// Every service of the table at the simulator: a job of a service left out would be asked at its
	// public endpoint.
	b.WriteString("    endpoints:\n")
	for _, s := range huaweicloud.EndpointServices {
		fmt.Fprintf(&b, "      %s: %s\n", s, simURL)
	}
	b.WriteString("    jobs:\n")
	for id, svc := range jobs {
		fmt.Fprintf(&b, "      - {service: %s, id: %s}\n", svc, id)
	}
	return b.String()
}

// startExporter runs the binary with a config file and waits until it answers.
func startExporter(t *testing.T, configPath string, extraArgs ...string) (*process, string) {
	t.Helper()
	return startExporterAt(t, configPath, freeAddr(t), extraArgs...)
}

// startExporterAt is startExporter on a given address, so that a test can restart the exporter where
// Prometheus scrapes it.
func startExporterAt(t *testing.T, configPath, addr string, extraArgs ...string) (*process, string) {
	t.Helper()
	args := append([]string{"--config.file=" + configPath, "--web.listen-address=" + addr, "--log.level=debug"}, extraArgs...)
	p := start(t, exporterBin, args...)
	base := "http://" + addr
	eventually(t, 20*time.Second, "the exporter to answer /-/healthy", func() (bool, string) {
		if p.exited() {
			t.Fatalf("exporter exited: %s", p.out.String())
		}
		code, _, err := get(base + "/-/healthy")
		return err == nil && code == 200, fmt.Sprint(code, err)
	})
	return p, base
}
