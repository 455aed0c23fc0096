package e2e

import (
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/simulator"
)

// TestBinaryServesJobMetrics runs the built exporter with a config file against the simulator and reads
// its endpoints as Prometheus and an operator would.
func TestBinaryServesJobMetrics(t *testing.T) {
	sim, simURL := startSimulator(t)
	past := time.Now().Add(-10 * time.Minute)
	okID := sim.CreateJob(simulator.JobSpec{Service: huaweicloud.ECS, Begin: past, RunFor: time.Minute, SubJobs: 2})
	failID := sim.CreateJob(simulator.JobSpec{Service: huaweicloud.EVS, Begin: past, RunFor: time.Minute,
		Outcome: huaweicloud.StatusFail, ErrorCode: "EVS.2024", FailReason: "Insufficient capacity of the storage pool"})
	runID := sim.CreateJob(simulator.JobSpec{Service: huaweicloud.BMS, Begin: past, RunFor: 24 * time.Hour, Outcome: huaweicloud.StatusRunning})

	dir := t.TempDir()
	cfg := writeFile(t, dir, "config.yml", exporterConfig(simURL, map[string]string{okID: "ecs", failID: "evs", runID: "bms"}, ""))
	_, base := startExporter(t, cfg)

	code, body, err := get(base + "/metrics")
	if err != nil || code != http.StatusOK {
		t.Fatalf("/metrics: %d %v", code, err)
	}
	for _, want := range []string{
		fmt.Sprintf(`huaweicloud_job_status{job_id=%q,job_type="createServer",project_id=%q,region=%q,service="ecs",status="SUCCESS"} 1`, okID, testProject, testRegion),
		fmt.Sprintf(`huaweicloud_job_status{job_id=%q,job_type="createVolume",project_id=%q,region=%q,service="evs",status="FAIL"} 1`, failID, testProject, testRegion),
		fmt.Sprintf(`huaweicloud_job_failures{error_code="EVS.2024",job_id=%q`, failID),
		fmt.Sprintf(`huaweicloud_job_status{job_id=%q`, runID),
		fmt.Sprintf(`huaweicloud_job_query_success{job_id=%q,project_id=%q,region=%q,service="bms"} 1`, runID, testProject, testRegion),
		`huaweicloud_job_exporter_build_info{`,
		`huaweicloud_job_exporter_config_last_reload_successful 1`,
		`huaweicloud_job_exporter_api_requests_total{code="200",region="ap-southeast-1",service="ecs"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A second scrape queries only the unfinished job: final jobs are served from memory.
	sim.ResetStats()
	time.Sleep(1100 * time.Millisecond) // min_query_interval: 1s
	if code, _, err := get(base + "/metrics"); err != nil || code != 200 {
		t.Fatalf("/metrics: %d %v", code, err)
	}
	st := sim.Stats()
	if st.Requests != 1 || st.ByJob[runID] != 1 {
		t.Errorf("second scrape: %d API requests (%v), want 1 for the running job only", st.Requests, st.ByJob)
	}

	// The config page shows the config without secrets (as YAML to a client that does not ask for HTML).
	_, page, err := get(base + "/config")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(page, testSK) || !strings.Contains(page, "secret_key: <secret>") {
		t.Errorf("/config must hide the secret key:\n%s", page)
	}
	if code, _, _ := get(base + "/-/ready"); code != 200 {
		t.Errorf("/-/ready: %d", code)
	}
	if code, landing, _ := get(base + "/"); code != 200 || !strings.Contains(landing, okID) {
		t.Errorf("landing page: %d, job table lacks %s", code, okID)
	}
}

// TestBinaryReload checks that a bad config on reload keeps the old one serving and is visible in the
// reload metric, and that a good one is applied.
func TestBinaryReload(t *testing.T) {
	sim, simURL := startSimulator(t)
	id1 := sim.CreateJob(simulator.JobSpec{Service: huaweicloud.ECS, Begin: time.Now().Add(-time.Hour), RunFor: time.Minute})
	id2 := sim.CreateJob(simulator.JobSpec{Service: huaweicloud.IMS, Begin: time.Now().Add(-time.Hour), RunFor: time.Minute})
	dir := t.TempDir()
	cfg := writeFile(t, dir, "config.yml", exporterConfig(simURL, map[string]string{id1: "ecs"}, ""))
	// /-/reload is off unless asked for, as in Prometheus (issue 22): refused with 403.
	_, locked := startExporter(t, cfg)
	if resp, err := http.Post(locked+"/-/reload", "text/plain", nil); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST /-/reload without --web.enable-lifecycle: %v %v, want 403", resp, err)
	} else {
		resp.Body.Close()
	}
	_, base := startExporter(t, cfg, "--web.enable-lifecycle")

	post := func() int {
		resp, err := http.Post(base+"/-/reload", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	writeFile(t, dir, "config.yml", "projects: [{region: nowhere, bogus_key: 1}]\n")
	if code := post(); code != http.StatusInternalServerError {
		t.Errorf("reload of a bad config: HTTP %d, want 500", code)
	}
	_, body, _ := get(base + "/metrics")
	if !strings.Contains(body, "huaweicloud_job_exporter_config_last_reload_successful 0") {
		t.Error("reload metric should be 0 after a failed reload")
	}
	if !strings.Contains(body, id1) {
		t.Error("the old config's job must still be exported after a failed reload")
	}

	writeFile(t, dir, "config.yml", exporterConfig(simURL, map[string]string{id2: "ims"}, ""))
	if code := post(); code != http.StatusOK {
		t.Errorf("reload of a good config: HTTP %d", code)
	}
	_, body, _ = get(base + "/metrics")
	if !strings.Contains(body, "huaweicloud_job_exporter_config_last_reload_successful 1") || !strings.Contains(body, id2) || strings.Contains(body, id1) {
		t.Error("after a good reload the new job set must be exported and the reload metric 1")
	}
	if resp, err := http.Get(base + "/-/reload"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET /-/reload: %d, want 405", resp.StatusCode)
		}
	}
	// A form of another site posted by a browser is refused.
	req, _ := http.NewRequest(http.MethodPost, base+"/-/reload", nil)
	req.Header.Set("Origin", "http://evil.example")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST /-/reload: %v %v, want 403", resp, err)
	} else {
		resp.Body.Close()
	}
}

// TestBinaryStartupErrors checks exit codes and messages an operator sees.
func TestBinaryStartupErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yml", exporterConfig("http://127.0.0.1:9", map[string]string{"2c9eb2c5544cbf6101544f0602af2b4f": "ecs"}, ""))
	bad := writeFile(t, dir, "bad.yml", "projects:\n  - project_id: 0123456789abcdef0123456789abcdef\n    jobs: [{service: ecs, id: x}]\n")
	noCreds := writeFile(t, dir, "nocreds.yml", "projects:\n  - region: ap-southeast-1\n    project_id: 0123456789abcdef0123456789abcdef\n    jobs: [{service: ecs, id: 2c9eb2c5544cbf6101544f0602af2b4f}]\n")
	cases := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{"config.check good", []string{"--config.check", "--config.file=" + good}, 0, []string{"configuration is valid"}},
		{"config.check bad names the field", []string{"--config.check", "--config.file=" + bad}, 1, []string{"projects[0].region: required"}},
		{"missing config file", []string{"--config.file=" + dir + "/absent.yml", "--web.listen-address=127.0.0.1:0"}, 1, []string{"--demo", "Two ways forward"}},
		{"no credentials", []string{"--config.file=" + noCreds, "--web.listen-address=127.0.0.1:0"}, 1, []string{"HUAWEICLOUD_SDK_AK", "--demo"}},
		{"unknown flag", []string{"--no-such-flag"}, 2, []string{"unknown long flag"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(exporterBin, c.args...)
			cmd.Env = []string{"PATH=/usr/bin:/bin"}
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.wantCode {
				t.Errorf("exit code %d, want %d\n%s", code, c.wantCode, out)
			}
			for _, w := range c.wantOut {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestBinaryDemo checks the README's first command: --demo serves jobs in motion with no config at all.
func TestBinaryDemo(t *testing.T) {
	addr := freeAddr(t)
	p := start(t, exporterBin, "--demo", "--web.listen-address="+addr)
	base := "http://" + addr
	eventually(t, 30*time.Second, "demo jobs in /metrics", func() (bool, string) {
		if p.exited() {
			t.Fatalf("demo exited: %s", p.out.String())
		}
		_, body, err := get(base + "/metrics")
		return err == nil && strings.Contains(body, `status="RUNNING"} 1`) && strings.Contains(body, `huaweicloud_job_query_success{`), fmt.Sprint(err)
	})
	if !strings.Contains(p.out.String(), "DEMO MODE") {
		t.Errorf("the log must say it is a demo:\n%s", p.out.String())
	}
}
