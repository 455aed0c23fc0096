package e2e

import (
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/simulator"
)

// prometheusBinary is the Prometheus server the stack tests run: $HJE_PROMETHEUS when set (.ci/run runs
// the stack tests a second time with Prometheus 3 so), else prometheus on PATH (Debian's 2.42 in CI).
func prometheusBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HJE_PROMETHEUS"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("HJE_PROMETHEUS=%s: %v", p, err)
		}
		return p
	}
	return requireTool(t, "prometheus")
}

// logVersion logs the version line of a Prometheus binary (go test -v and failures show it; .ci/run
// prints both versions itself).
func logVersion(t *testing.T, bin string) {
	t.Helper()
	out, err := exec.Command(bin, "--version").CombinedOutput()
	first, _, _ := strings.Cut(string(out), "\n")
	t.Logf("Prometheus under test: %s (%v)", first, err)
}

// startAlertmanager runs Alertmanager with examples/alertmanager.yml, its receivers pointed at a webhook
// that records what arrives, and returns the webhook and Alertmanager's address.
func startAlertmanager(t *testing.T, alertmanager, dir string) (*webhook, string) {
	t.Helper()
	hook := &webhook{}
	hookSrv := httptest.NewServer(hook)
	t.Cleanup(hookSrv.Close)
	amAddr := freeAddr(t)
	amCfg := writeFile(t, dir, "alertmanager.yml", alertmanagerConfig(t, hookSrv.URL))
	start(t, alertmanager, "--config.file="+amCfg, "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=", "--log.level=warn")
	return hook, amAddr
}

// TestJobTypesEndToEnd runs the simulator, the exporter, Prometheus (examples/prometheus.yml with the
// shipped rules) and Alertmanager (examples/alertmanager.yml) over a history of job types, and checks
// what the on-call person receives (issue 23):
//   - 25 createServer jobs of 40 s finished: the type's typical run time is learned through
//     histogram_quantile over the exporter's history; two createServer jobs still running after 20 and
//     70 minutes get one running-too-long ticket each, and the 70-minute one no fixed-tier Stuck ticket
//     (inhibited), though the Stuck alert fires in Prometheus;
//   - 20 image jobs of 2 hours finished: one running 3 h 5 min gets no ticket at all (the fixed image
//     tier fires in Prometheus, and is inhibited because the type's typical time is learned);
//   - 6 of 16 EVS createVolume jobs failed in the last hour: one failure-rate ticket naming the codes;
//   - 12 BMS jobs failed with one code: the storm page, and no failure-rate ticket on top of it.
func TestJobTypesEndToEnd(t *testing.T) {
	prometheus := prometheusBinary(t)
	logVersion(t, prometheus)
	alertmanager := requireTool(t, "prometheus-alertmanager", "alertmanager")

	sim, simURL := startSimulator(t)
	now := time.Now()
	jobs := map[string]string{}
	add := func(spec simulator.JobSpec) string {
		id := sim.CreateJob(spec)
		jobs[id] = string(spec.Service)
		return id
	}
	for i := range 25 {
		add(simulator.JobSpec{Service: huaweicloud.ECS, JobType: "createServer", Begin: now.Add(-50*time.Minute + time.Duration(i)*time.Minute), RunFor: 40 * time.Second})
	}
	slow := add(simulator.JobSpec{Service: huaweicloud.ECS, JobType: "createServer", Begin: now.Add(-20 * time.Minute), RunFor: 24 * time.Hour, Outcome: huaweicloud.StatusRunning})
	stuck := add(simulator.JobSpec{Service: huaweicloud.ECS, JobType: "createServer", Begin: now.Add(-70 * time.Minute), RunFor: 24 * time.Hour, Outcome: huaweicloud.StatusRunning})
	// 20 image jobs of 2 hours finished; one has run 3 h 5 min: normal for its type, so no ticket, though
	// the fixed image tier (3 h) fires in Prometheus.
	for i := range 20 {
		add(simulator.JobSpec{Service: huaweicloud.IMS, JobType: "createImageByInstance", Begin: now.Add(-10*time.Hour + time.Duration(i)*10*time.Minute), RunFor: 2 * time.Hour})
	}
	image := add(simulator.JobSpec{Service: huaweicloud.IMS, JobType: "createImageByInstance", Begin: now.Add(-185 * time.Minute), RunFor: 24 * time.Hour, Outcome: huaweicloud.StatusRunning})
	for i := range 16 {
		spec := simulator.JobSpec{Service: huaweicloud.EVS, JobType: "createVolume", Begin: now.Add(-40*time.Minute + time.Duration(i)*time.Minute), RunFor: time.Minute}
		if i < 6 {
			spec.Outcome, spec.ErrorCode, spec.FailReason = huaweicloud.StatusFail, "EVS.2024", "The volume quota is insufficient."
			if i%3 == 2 {
				spec.ErrorCode, spec.FailReason = "EVS.5400", "Internal error."
			}
		}
		add(spec)
	}
	for i := range 12 {
		add(simulator.JobSpec{Service: huaweicloud.BMS, JobType: "baremetalSingleCreate", Begin: now.Add(-30*time.Minute + time.Duration(i)*time.Minute), RunFor: time.Minute,
			Outcome: huaweicloud.StatusFail, ErrorCode: "BMS.0040", FailReason: "Insufficient bare metal servers."})
	}

	dir := t.TempDir()
	cfg := writeFile(t, dir, "exporter.yml", exporterConfig(simURL, jobs, ""))
	exporterAddr := freeAddr(t)
	startExporterAt(t, cfg, exporterAddr)

	hook, amAddr := startAlertmanager(t, alertmanager, dir)
	promAddr := freeAddr(t)
	promCfg := writeFile(t, dir, "prometheus.yml", prometheusConfig(t, exporterAddr, amAddr, "prometheus-a"))
	start(t, prometheus, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "prom"),
		"--web.listen-address="+promAddr, "--log.level=warn")
	promURL := "http://" + promAddr

	// histogram_quantile over the exporter's gauge histogram, in a recording rule: 25 jobs of 40 s, all
	// in the (30, 60] bucket, give a p95 of 30 + 30 * 23.75/25 = 58.5 s.
	eventually(t, 90*time.Second, "the typical createServer run time recorded", func() (bool, string) {
		r, err := query(promURL, `huaweicloud_job_type:duration_seconds:p95{service="ecs",job_type="createServer"} == 58.5`)
		return err == nil && len(r) == 1, fmt.Sprint(r, err)
	})
	eventually(t, 60*time.Second, "the fixed-tier Stuck alert firing in Prometheus for the 70-minute job", func() (bool, string) {
		r, err := query(promURL, fmt.Sprintf(`ALERTS{alertname="HuaweiCloudJobStuck",alertstate="firing",job_id=%q}`, stuck))
		return err == nil && len(r) == 1, fmt.Sprint(r, err)
	})
	eventually(t, 60*time.Second, "the fixed-tier Stuck alert firing in Prometheus for the 3-hour image job", func() (bool, string) {
		r, err := query(promURL, fmt.Sprintf(`ALERTS{alertname="HuaweiCloudJobStuck",alertstate="firing",job_id=%q}`, image))
		return err == nil && len(r) == 1, fmt.Sprint(r, err)
	})
	for _, id := range []string{slow, stuck} {
		eventually(t, 120*time.Second, "the running-too-long ticket of "+id, func() (bool, string) {
			return len(hook.find("HuaweiCloudJobRunningTooLong", "firing", map[string]string{"job_id": id})) > 0, fmt.Sprintf("%d notifications so far", hook.count())
		})
	}
	ratePage := map[string]string{"service": "evs", "job_type": "createVolume"}
	eventually(t, 120*time.Second, "the createVolume failure-rate ticket", func() (bool, string) {
		return len(hook.find("HuaweiCloudJobTypeFailureRateHigh", "firing", ratePage)) > 0, fmt.Sprintf("%d notifications so far", hook.count())
	})
	eventually(t, 120*time.Second, "the BMS storm page", func() (bool, string) {
		return len(hook.find("HuaweiCloudJobFailureStorm", "firing", map[string]string{"service": "bms"})) > 0, fmt.Sprintf("%d notifications so far", hook.count())
	})
	eventually(t, 60*time.Second, "the BMS failure-rate alert firing in Prometheus", func() (bool, string) {
		r, err := query(promURL, `ALERTS{alertname="HuaweiCloudJobTypeFailureRateHigh",alertstate="firing",service="bms"}`)
		return err == nil && len(r) == 1, fmt.Sprint(r, err)
	})
	// Several group intervals later, what arrived is what the on-call person must get.
	time.Sleep(8 * time.Second)

	for _, id := range []string{slow, stuck} {
		got := hook.find("HuaweiCloudJobRunningTooLong", "", map[string]string{"job_id": id})
		if notifications(got) != 1 || got[0].receiver != "tickets" {
			t.Errorf("running too long %s: want 1 notification at tickets, got %s", id, describe(got))
		}
	}
	if got := hook.find("HuaweiCloudJobStuck", "", map[string]string{"job_id": stuck}); len(got) > 0 {
		t.Errorf("the 70-minute createServer got a fixed-tier Stuck ticket as well: %s", describe(got))
	}
	for _, name := range []string{"HuaweiCloudJobStuck", "HuaweiCloudJobRunningTooLong"} {
		if got := hook.find(name, "", map[string]string{"job_id": image}); len(got) > 0 {
			t.Errorf("the image job at 3 hours, usual for its type, got %s: %s", name, describe(got))
		}
	}
	got := hook.find("HuaweiCloudJobTypeFailureRateHigh", "", ratePage)
	if notifications(got) != 1 || len(got) != 1 || got[0].receiver != "tickets" {
		t.Errorf("failure rate: want 1 notification at tickets, got %s", describe(got))
	} else if d := got[0].alert.Annotations["description"]; !strings.Contains(d, "EVS.2024 x4") || !strings.Contains(d, "EVS.5400 x2") || !strings.Contains(d, "6 of 16") {
		t.Errorf("failure-rate ticket must count the failures and name the codes: %q", d)
	}
	if got := hook.find("HuaweiCloudJobTypeFailureRateHigh", "", map[string]string{"service": "bms"}); len(got) > 0 {
		t.Errorf("the BMS failure rate notified on top of the storm page: %s", describe(got))
	}
	for _, m := range hook.find("HuaweiCloudJobTypeDurationLearned", "", nil) {
		if m.receiver != "null" {
			t.Errorf("HuaweiCloudJobTypeDurationLearned went to %s, want null", m.receiver)
		}
	}
	hook.mu.Lock()
	for _, e := range hook.errs {
		t.Error(e)
	}
	hook.mu.Unlock()
	if t.Failed() {
		for i := range hook.all() {
			t.Logf("notification %d: %s", i, describe(hook.findIn(i)))
		}
	}
}
