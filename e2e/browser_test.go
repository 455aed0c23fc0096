package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/simulator"
)

// chromiumFlags make headless Chromium work on a machine without network, GPU or a user profile.
var chromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
	"--enable-logging=stderr", "--v=0", "--window-size=1400,1000"}

// TestLandingPageInChromium renders the landing page in headless Chromium: it must show the watched-jobs
// table with no console errors. The screenshot goes to $HJE_SCREENSHOT when set (make screenshot).
func TestLandingPageInChromium(t *testing.T) {
	chromium := requireTool(t, "chromium", "chromium-browser", "google-chrome")
	sim, simURL := startSimulator(t)
	past := time.Now().Add(-20 * time.Minute)
	jobs := map[string]string{
		sim.CreateJob(simulator.JobSpec{Service: huaweicloud.ECS, Begin: past, RunFor: 3 * time.Minute, SubJobs: 3}): "ecs",
		sim.CreateJob(simulator.JobSpec{Service: huaweicloud.EVS, Begin: past, RunFor: time.Minute, Outcome: huaweicloud.StatusFail,
			ErrorCode: "EVS.2024", FailReason: "Insufficient capacity of the storage pool"}): "evs",
		sim.CreateJob(simulator.JobSpec{Service: huaweicloud.BMS, Begin: past, RunFor: time.Hour, Outcome: huaweicloud.StatusRunning}): "bms",
		sim.CreateJob(simulator.JobSpec{Service: huaweicloud.ECS, Begin: past, Outcome: huaweicloud.StatusPendingPayment}):             "ecs",
		sim.CreateJob(simulator.JobSpec{Service: huaweicloud.ECS, Begin: past, RunFor: 2 * time.Minute, SubJobs: 4, FailedSubJobs: 1,
			ErrorCode: "Ecs.0005", FailReason: "Insufficient resources for the flavor"}): "ecs",
		"ff80808288d41e1b018937c1d6ae9999": "ims", // unknown to the cloud: the table shows the query error
	}
	dir := t.TempDir()
	cfg := writeFile(t, dir, "config.yml", exporterConfig(simURL, jobs, ""))
	_, base := startExporter(t, cfg)
	if _, _, err := get(base + "/metrics"); err != nil { // a scrape fills the table
		t.Fatal(err)
	}

	shot := os.Getenv("HJE_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(dir, "landing.png")
	} else if abs, err := filepath.Abs(shot); err == nil {
		shot = abs
	}
	run := func(extra ...string) (stdout, stderr string) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+t.TempDir())
		args = append(args, extra...)
		args = append(args, base+"/")
		cmd := exec.CommandContext(ctx, chromium, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", extra, err, tail(errb.String(), 4000))
		}
		return out.String(), errb.String()
	}

	dom, logs := run("--dump-dom")
	for id, svc := range jobs {
		if !strings.Contains(dom, id) {
			t.Errorf("rendered page lacks job %s (%s)", id, svc)
		}
	}
	for _, want := range []string{"SUCCESS", "FAIL", "RUNNING", "PENDING_PAYMENT", "EVS.2024", "/metrics", "/config", "/-/healthy"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
	checkConsole(t, logs)

	_, logs = run("--screenshot=" + shot)
	checkConsole(t, logs)
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10_000 {
		t.Errorf("screenshot %s is not a plausible PNG (%d bytes)", shot, len(png))
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
}

// consoleLine matches what Chromium logs for page console messages and failed loads.
var consoleLine = regexp.MustCompile(`(?i)CONSOLE\(\d+\)|Uncaught|Failed to load resource|Refused to`)

func checkConsole(t *testing.T, logs string) {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		if consoleLine.MatchString(line) {
			t.Errorf("browser console: %s", line)
		}
	}
}
