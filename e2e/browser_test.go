package e2e

import (
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
// table with no console errors. The demo's page, for README, is TestLandingPageFirstMinutes'.
func TestLandingPageInChromium(t *testing.T) {
	br := newBrowser(t)
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
	cfg := writeFile(t, t.TempDir(), "config.yml", exporterConfig(simURL, jobs, ""))
	_, base := startExporter(t, cfg)
	if _, _, err := get(base + "/metrics"); err != nil { // a scrape fills the table
		t.Fatal(err)
	}
	dom := br.page(t, base+"/", shotPath(t, "landing"))
	for id, svc := range jobs {
		if !strings.Contains(dom, id) {
			t.Errorf("rendered page lacks job %s (%s)", id, svc)
		}
	}
	domHas(t, dom, []string{"SUCCESS", "FAIL", "RUNNING", "PENDING_PAYMENT", "EVS.2024", "/metrics", "/config", "/-/healthy"}, nil)
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
