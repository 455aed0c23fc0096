package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/simulator"
)

// browser renders pages in headless Chromium.
type browser struct{ chromium string }

func newBrowser(t *testing.T) *browser {
	t.Helper()
	return &browser{chromium: requireTool(t, "chromium", "chromium-browser", "google-chrome")}
}

// run runs Chromium on url with extra flags and returns its stdout and stderr.
func (b *browser) run(t *testing.T, url string, extra ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+t.TempDir())
	args = append(append(args, extra...), url)
	cmd := exec.CommandContext(ctx, b.chromium, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, tail(errb.String(), 4000))
	}
	return out.String(), errb.String()
}

// page renders url: its DOM after scripts, and a screenshot at shot (checked to be a PNG).
func (b *browser) page(t *testing.T, url, shot string) string {
	t.Helper()
	dom, logs := b.run(t, url, "--dump-dom")
	checkConsole(t, logs)
	_, logs = b.run(t, url, "--screenshot="+shot)
	checkConsole(t, logs)
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10_000 {
		t.Errorf("screenshot %s is not a plausible PNG (%d bytes)", shot, len(png))
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
	return dom
}

// shotPath is where a scenario's screenshot goes: $HJE_SCREENSHOT_DIR/<name>.png when set (to look at
// them), else a temporary directory.
func shotPath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("HJE_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	} else if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return filepath.Join(dir, name+".png")
}

// domHas checks the rendered DOM for each want and against each not.
func domHas(t *testing.T, dom string, want, not []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(dom, w) {
			t.Errorf("rendered page lacks %q", w)
		}
	}
	for _, n := range not {
		if strings.Contains(dom, n) {
			t.Errorf("rendered page has %q", n)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", tail(dom, 8000))
	}
}

// landingConfig is a config for the simulator with the given credentials block, jobs and discovery.
func landingConfig(simURL, credentials string, jobs map[string]string, cts bool) string {
	var b strings.Builder
	b.WriteString(credentials)
	fmt.Fprintf(&b, "projects:\n  - region: %s\n    project_id: %s\n    endpoints:\n", testRegion, testProject)
	for _, s := range huaweicloud.EndpointServices {
		fmt.Fprintf(&b, "      %s: %s\n", s, simURL)
	}
	if cts {
		b.WriteString("    discovery: {cts: {enabled: true, interval: 10s}}\n")
	}
	if len(jobs) > 0 {
		b.WriteString("    jobs:\n")
		for id, svc := range jobs {
			fmt.Fprintf(&b, "      - {service: %s, id: %s}\n", svc, id)
		}
	}
	return b.String()
}

// TestLandingPageFirstMinutes renders the landing page in the situations a newcomer meets first (issue
// 21) and checks what it says: right after --demo starts, once the demo has pulled itself, with a wrong
// secret key, with discovery failing, and with temporary credentials near expiry whose refresh fails.
func TestLandingPageFirstMinutes(t *testing.T) {
	br := newBrowser(t)

	// demoUntil starts --demo and waits until its page at path satisfies ok.
	demoUntil := func(t *testing.T, timeout time.Duration, what, path string, ok func(code int, body string) bool) string {
		t.Helper()
		addr := freeAddr(t)
		p := start(t, exporterBin, "--demo", "--web.listen-address="+addr)
		base := "http://" + addr
		eventually(t, timeout, what, func() (bool, string) {
			if p.exited() {
				t.Fatalf("demo exited: %s", p.out.String())
			}
			code, body, err := get(base + path)
			return err == nil && ok(code, body), fmt.Sprint(code, err)
		})
		return base
	}

	t.Run("demo right after start", func(t *testing.T) {
		base := demoUntil(t, 20*time.Second, "the demo to answer", "/-/healthy", func(code int, _ string) bool { return code == 200 })
		dom := br.page(t, base+"/", shotPath(t, "demo-start"))
		// Jobs not asked yet are neutral: nothing is "failed" before a query failed.
		domHas(t, dom, []string{`id="pulls"`, "Jobs are queried when Prometheus pulls /metrics", "pulls itself every 15s",
			`id="discovery"`, `id="credentials"`, "does not expire"},
			[]string{"failing to query", ">failed<", `id="failures"`})
	})

	t.Run("demo after its own pulls", func(t *testing.T) {
		// The demo pulls itself at once and every 15 s; the jobs discovered after the first pull are
		// answered by the second. Nothing but the demo pulls here.
		base := demoUntil(t, 60*time.Second, "demo jobs answered by a self-pull", "/",
			func(_ int, body string) bool { return strings.Contains(body, `class="ok">ok<`) })
		shot := shotPath(t, "demo-after-pulls")
		if s := os.Getenv("HJE_SCREENSHOT"); s != "" { // make screenshot
			shot, _ = filepath.Abs(s)
		}
		dom := br.page(t, base+"/", shot)
		domHas(t, dom, []string{`id="last-pull"`, "RUNNING", "SUCCESS", `class="ok">ok<`, `id="discovery"`},
			[]string{"failing to query", `id="failures"`})
	})

	sim, simURL := startSimulator(t)
	past := time.Now().Add(-20 * time.Minute)
	wrongKey := fmt.Sprintf("credentials:\n  access_key: %s\n  secret_key: not-the-secret\n", testAK)

	t.Run("wrong secret key", func(t *testing.T) {
		jobs := map[string]string{
			sim.CreateJob(simulator.JobSpec{Service: huaweicloud.ECS, Begin: past, RunFor: time.Hour, Outcome: huaweicloud.StatusRunning}): "ecs",
			sim.CreateJob(simulator.JobSpec{Service: huaweicloud.EVS, Begin: past, RunFor: time.Minute}):                                   "evs",
		}
		cfg := writeFile(t, t.TempDir(), "config.yml", landingConfig(simURL, wrongKey, jobs, false))
		_, base := startExporter(t, cfg)
		for range 2 { // the first pull meets the 401, the second the back-off
			if _, _, err := get(base + "/metrics"); err != nil {
				t.Fatal(err)
			}
		}
		dom := br.page(t, base+"/", shotPath(t, "wrong-key"))
		domHas(t, dom, []string{`id="failures"`, "Access key of project " + testProject, "HTTP 401 APIG.0301",
			"now: access key backed off", "2 failing to query", `id="last-pull"`},
			[]string{"not queried yet"})
	})

	t.Run("discovery failing", func(t *testing.T) {
		cfg := writeFile(t, t.TempDir(), "config.yml", landingConfig(simURL, wrongKey, nil, true))
		_, base := startExporter(t, cfg)
		eventually(t, 30*time.Second, "the CTS source's first run", func() (bool, string) {
			_, body, err := get(base + "/")
			return err == nil && strings.Contains(body, "list") && strings.Contains(body, `class="fail">never<`), fmt.Sprint(err)
		})
		dom := br.page(t, base+"/", shotPath(t, "discovery-failing"))
		domHas(t, dom, []string{`id="discovery"`, "cts/" + testRegion + "/" + testProject, `class="fail">never<`,
			"APIG.0301", `id="failures"`, `id="no-jobs"`, `id="no-pull"`},
			nil)
	})

	t.Run("credentials near expiry", func(t *testing.T) {
		// Temporary credentials of 2 minutes from the simulator's metadata service, through a proxy that
		// answers every later request for credentials with 500: the exporter refreshes at half-life
		// (1 minute left), fails, and keeps the current ones until they expire. The minute left is for
		// Chromium on a slow machine to render them before they expire.
		msim := simulator.New(simulator.Options{Seed: 7, ProjectID: testProject, Region: testRegion,
			Metadata: &simulator.MetadataOptions{TTL: 2 * time.Minute}})
		msimURL, err := msim.Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = msim.Close() })
		target, _ := url.Parse(msimURL)
		proxy := httputil.NewSingleHostReverseProxy(target)
		var keys atomic.Int32
		meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == huaweicloud.MetadataSecurityKeyPath && keys.Add(1) > 1 {
				http.Error(w, `{"error":"metadata service unavailable"}`, http.StatusInternalServerError)
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(meta.Close)
		job := msim.CreateJob(simulator.JobSpec{Service: huaweicloud.ECS, Begin: past, RunFor: time.Hour, Outcome: huaweicloud.StatusRunning})
		creds := fmt.Sprintf("credentials:\n  source: metadata\n  metadata_url: %s\n", meta.URL)
		cfg := writeFile(t, t.TempDir(), "config.yml", landingConfig(msimURL, creds, map[string]string{job: "ecs"}, false))
		_, base := startExporter(t, cfg)
		eventually(t, 150*time.Second, "a failed refresh of credentials past half-life", func() (bool, string) {
			// Each pull asks for credentials; past half-life that starts the refresh the proxy fails.
			if _, _, err := get(base + "/metrics"); err != nil {
				return false, err.Error()
			}
			_, body, err := get(base + "/")
			return err == nil && strings.Contains(body, "near-expiry") && strings.Contains(body, "HTTP 500"), fmt.Sprint(err)
		})
		dom := br.page(t, base+"/", shotPath(t, "credentials-near-expiry"))
		domHas(t, dom, []string{`id="credentials"`, "metadata", "near-expiry", "HTTP 500", "metadata service unavailable"}, nil)
	})
}
