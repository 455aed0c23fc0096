package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v2"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/alerts"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/dashboards"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/simulator"
)

// notification is the part of Alertmanager's webhook payload the test reads, with the receiver whose
// URL it arrived at.
type notification struct {
	Receiver string  `json:"receiver"`
	Status   string  `json:"status"`
	Alerts   []alert `json:"alerts"`
	url      string  // the receiver of the URL path
	received time.Time
}

type alert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// webhook records every notification Alertmanager sends. Each receiver of the example configuration
// gets its own URL path (/pager, /tickets, /chat), so a notification proves where it was routed.
type webhook struct {
	mu   sync.Mutex
	got  []notification
	errs []string
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var n notification
	b, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := json.Unmarshal(b, &n); err != nil {
		w.errs = append(w.errs, fmt.Sprintf("bad webhook body: %v: %s", err, b))
		rw.WriteHeader(http.StatusBadRequest)
		return
	}
	n.url, n.received = strings.Trim(r.URL.Path, "/"), time.Now()
	if n.Receiver != n.url {
		w.errs = append(w.errs, fmt.Sprintf("notification of receiver %q arrived at the URL of %q", n.Receiver, n.url))
	}
	w.got = append(w.got, n)
}

// match is a notified alert: which notification (index) it came in and the alert.
type match struct {
	n        int
	receiver string
	at       time.Time
	alert    alert
}

// find returns the notified alerts named alertname, with status ("" for any), whose labels include want.
func (w *webhook) find(alertname, status string, want map[string]string) []match {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []match
	for i, n := range w.got {
	alerts:
		for _, a := range n.Alerts {
			if a.Labels["alertname"] != alertname || (status != "" && a.Status != status) {
				continue
			}
			for k, v := range want {
				if a.Labels[k] != v {
					continue alerts
				}
			}
			out = append(out, match{n: i, receiver: n.url, at: n.received, alert: a})
		}
	}
	return out
}

func (w *webhook) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.got)
}

func (w *webhook) all() []notification {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]notification(nil), w.got...)
}

// notifications is the number of distinct notifications among ms.
func notifications(ms []match) int {
	seen := map[int]bool{}
	for _, m := range ms {
		seen[m.n] = true
	}
	return len(seen)
}

func describe(ms []match) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "[notification %d to %s: %s %v] ", m.n, m.receiver, m.alert.Status, m.alert.Labels)
	}
	return b.String()
}

// receiverOf is where examples/alertmanager.yml must send each severity (docs/runbook.md).
var receiverOf = map[string]string{"critical": "pager", "warning": "tickets", "info": "chat"}

const stormCode, stormReason = "EVS.2024", "The volume quota is insufficient."

// TestEndToEnd runs the simulator, the exporter, two Prometheus replicas (an HA pair built from
// examples/prometheus.yml with the shipped rules) and one Alertmanager (examples/alertmanager.yml, one
// webhook URL per receiver), and checks what the on-call person receives, the way production runs:
//   - a job turns FAIL: exactly one page, at the pager, naming the job and why, although both replicas
//     send the alert;
//   - the exporter restarts in the middle of that FAIL: no second page, no resolved message;
//   - 40 jobs fail at once with one error code: one storm page and no per-job page;
//   - a batch job finishes with a failed sub-job: exactly one ticket, at the ticket queue;
//   - a job that succeeds notifies nothing; every severity lands at its receiver.
//
// The rules' long windows (24h, outages of hours) are proven by the promtool tests in alerts/tests.
func TestEndToEnd(t *testing.T) {
	prometheus := prometheusBinary(t)
	logVersion(t, prometheus)
	promtool := requireTool(t, "promtool")
	alertmanager := requireTool(t, "prometheus-alertmanager", "alertmanager")

	sim, simURL := startSimulator(t)
	past := time.Now().Add(-10 * time.Minute)
	failID := sim.CreateJob(simulator.JobSpec{Service: huaweicloud.ECS, Begin: past, RunFor: 24 * time.Hour, Outcome: huaweicloud.StatusRunning, SubJobs: 2})
	okID := sim.CreateJob(simulator.JobSpec{Service: huaweicloud.EVS, Begin: past, RunFor: 24 * time.Hour, Outcome: huaweicloud.StatusRunning})
	// A batch of 4 servers of which 1 fails; it finishes SUCCESS 20 seconds into the test.
	partialID := sim.CreateJob(simulator.JobSpec{Service: huaweicloud.ECS, Begin: past, RunFor: 10*time.Minute + 20*time.Second,
		SubJobs: 4, FailedSubJobs: 1, ErrorCode: "Ecs.0005", FailReason: "Insufficient resources for the flavor"})
	jobs := map[string]string{
		failID:    "ecs",
		okID:      "evs",
		partialID: "ecs",
		// Data for the other panels and alert expressions: a payment wait, a stuck batch (sub-jobs still
		// running), an image job, a status the exporter does not know and an id the cloud does not know.
		sim.CreateJob(simulator.JobSpec{Service: huaweicloud.ECS, Begin: past, Outcome: huaweicloud.StatusPendingPayment}):                                                  "ecs",
		sim.CreateJob(simulator.JobSpec{Service: huaweicloud.BMS, Begin: past.Add(-3 * time.Hour), RunFor: 48 * time.Hour, Outcome: huaweicloud.StatusRunning, SubJobs: 3}): "bms",
		sim.CreateJob(simulator.JobSpec{Service: huaweicloud.IMS, Begin: past, RunFor: 2 * time.Minute}):                                                                    "ims",
		sim.CreateJob(simulator.JobSpec{Service: huaweicloud.ECS, Begin: past, Outcome: "ROLLING_BACK"}):                                                                    "ecs",
		// A createServer still running, for the dashboard's running jobs against their type's typical time.
		sim.CreateJob(simulator.JobSpec{Service: huaweicloud.ECS, Begin: past, RunFor: 24 * time.Hour, Outcome: huaweicloud.StatusRunning}): "ecs",
		"ff80808288d41e1b018937c1d6ae9999": "ecs",
	}
	// The storm: 40 volumes being created, all to fail at once with the same error code.
	storm := make([]string, 40)
	for i := range storm {
		storm[i] = sim.CreateJob(simulator.JobSpec{Service: huaweicloud.EVS, Begin: past, RunFor: 24 * time.Hour, Outcome: huaweicloud.StatusRunning})
		jobs[storm[i]] = "evs"
	}
	dir := t.TempDir()
	// CTS discovery too, so that the discovery metrics the rules read exist.
	cfg := writeFile(t, dir, "exporter.yml", exporterConfig(simURL, jobs, "")+"    discovery:\n      cts:\n        enabled: true\n        services: [ecs]\n")
	exporterAddr := freeAddr(t)
	exporter, _ := startExporterAt(t, cfg, exporterAddr)

	hook, amAddr := startAlertmanager(t, alertmanager, dir)

	// The HA pair: the same configuration, different replica labels, the same Alertmanager.
	var promURLs []string
	for _, replica := range []string{"prometheus-a", "prometheus-b"} {
		promAddr := freeAddr(t)
		promCfg := writeFile(t, dir, replica+".yml", prometheusConfig(t, exporterAddr, amAddr, replica))
		if out, err := exec.Command(promtool, "check", "config", promCfg).CombinedOutput(); err != nil {
			t.Fatalf("promtool check config on the e2e config derived from examples/prometheus.yml: %v\n%s", err, out)
		}
		start(t, prometheus, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, replica),
			"--web.listen-address="+promAddr, "--log.level=warn")
		promURLs = append(promURLs, "http://"+promAddr)
	}
	promURL := promURLs[0]
	for _, u := range promURLs {
		eventually(t, 60*time.Second, "both Prometheus replicas to see the failing job RUNNING", func() (bool, string) {
			r, err := query(u, fmt.Sprintf(`huaweicloud_job_status{job_id=%q,status="RUNNING"} == 1`, failID))
			return err == nil && len(r) == 1, fmt.Sprint(r, err)
		})
	}

	// 1. One job fails, another succeeds.
	if err := sim.SetJobOutcomeNow(failID, huaweicloud.StatusFail, "Ecs.0005", "Insufficient resources for the flavor in the AZ"); err != nil {
		t.Fatal(err)
	}
	if err := sim.SetJobOutcomeNow(okID, huaweicloud.StatusSuccess, "", ""); err != nil {
		t.Fatal(err)
	}
	turnedFail := time.Now()
	failPage := map[string]string{"job_id": failID}
	eventually(t, 120*time.Second, "the page for the failed job at the webhook", func() (bool, string) {
		return len(hook.find("HuaweiCloudJobFailed", "firing", failPage)) > 0, fmt.Sprintf("%d notifications so far", hook.count())
	})
	latency := hook.find("HuaweiCloudJobFailed", "firing", failPage)[0].at.Sub(turnedFail)
	t.Logf("FAIL in the simulator -> notification at the webhook: %s", latency.Round(100*time.Millisecond))
	if report := os.Getenv("HJE_E2E_REPORT"); report != "" {
		_ = os.WriteFile(report, []byte(fmt.Sprintf("e2e: job turned FAIL in the simulator -> Alertmanager webhook notification in %s\n", latency.Round(100*time.Millisecond))), 0o644)
	}

	// 2. The exporter restarts while the job is FAIL: both replicas see it down (its series go stale),
	// then it comes back on the same address and answers the job again.
	exporter.stop()
	for _, u := range promURLs {
		eventually(t, 30*time.Second, "the replicas to see the exporter down", func() (bool, string) {
			r, err := query(u, `up{job="huaweicloud-jobs"} == 0`)
			return err == nil && len(r) == 1, fmt.Sprint(r, err)
		})
	}
	eventually(t, 30*time.Second, "the failed job's series to go stale", func() (bool, string) {
		r, err := query(promURL, fmt.Sprintf(`huaweicloud_job_status{job_id=%q}`, failID))
		return err == nil && len(r) == 0, fmt.Sprint(r, err)
	})
	checkNoZerosWhileDown(t, promURL)
	_, exporterURL := startExporterAt(t, cfg, exporterAddr)
	eventually(t, 60*time.Second, "the restarted exporter to serve the failed job again", func() (bool, string) {
		r, err := query(promURL, fmt.Sprintf(`huaweicloud_job_status{job_id=%q,status="FAIL"} == 1`, failID))
		return err == nil && len(r) == 1, fmt.Sprint(r, err)
	})

	// 3. A storm: 40 jobs fail at once with one error code.
	for _, id := range storm {
		if err := sim.SetJobOutcomeNow(id, huaweicloud.StatusFail, stormCode, stormReason); err != nil {
			t.Fatal(err)
		}
	}
	stormPage := map[string]string{"service": "evs", "region": testRegion, "error_code": stormCode}
	eventually(t, 120*time.Second, "the storm page at the webhook", func() (bool, string) {
		return len(hook.find("HuaweiCloudJobFailureStorm", "firing", stormPage)) > 0, fmt.Sprintf("%d notifications so far", hook.count())
	})

	// 4. The batch with a failed sub-job has finished by now: a ticket.
	partialTicket := map[string]string{"job_id": partialID}
	eventually(t, 120*time.Second, "the partial-failure ticket at the webhook", func() (bool, string) {
		return len(hook.find("HuaweiCloudBatchJobPartialFailure", "firing", partialTicket)) > 0, fmt.Sprintf("%d notifications so far", hook.count())
	})

	// The table the person just paged opens first lists the failure with its reason and runbook section.
	checkRecentFailures(t, promURL, map[string]string{
		failID:    "huaweicloudjobfailed",
		partialID: "huaweicloudbatchjobpartialfailure",
		storm[0]:  "huaweicloudjobfailed",
	})

	// While that settles, every dashboard query and alert expression must parse and return data.
	checkDashboards(t, promURL)
	checkAlertExpressions(t, promURL)
	checkMetricsLint(t, promtool, exporterURL)

	// Several evaluation and group intervals later, what arrived is what the on-call person must get.
	time.Sleep(8 * time.Second)

	// Exactly one page for the failed job, with one alert (not one per replica), never resolved.
	pages := hook.find("HuaweiCloudJobFailed", "", failPage)
	if notifications(pages) != 1 || len(pages) != 1 {
		t.Errorf("HuaweiCloudJobFailed for %s: %d notifications with %d alerts, want exactly 1 with 1 alert: %s",
			failID, notifications(pages), len(pages), describe(pages))
	}
	for _, m := range pages {
		if m.alert.Status != "firing" || m.receiver != "pager" {
			t.Errorf("HuaweiCloudJobFailed for %s: %s at %s, want firing at pager", failID, m.alert.Status, m.receiver)
		}
	}
	if len(pages) > 0 {
		labels, ann := pages[0].alert.Labels, pages[0].alert.Annotations
		for k, v := range map[string]string{"severity": "critical", "service": "ecs", "region": testRegion, "project_id": testProject,
			"job_id": failID, "job_type": "createServer", "error_code": "Ecs.0005"} {
			if labels[k] != v {
				t.Errorf("page label %s = %q, want %q (labels %v)", k, labels[k], v, labels)
			}
		}
		for _, k := range []string{"fail_reason", "resource_id", "instance", "replica"} {
			if _, ok := labels[k]; ok {
				t.Errorf("page has label %s: free text, scrape or replica labels must not be alert identity (labels %v)", k, labels)
			}
		}
		for _, k := range []string{"summary", "description", "runbook_url"} {
			if ann[k] == "" {
				t.Errorf("page lacks annotation %s (annotations %v)", k, ann)
			}
		}
		if d := ann["description"]; !strings.Contains(d, "Ecs.0005") || !strings.Contains(d, "Insufficient resources") || !strings.Contains(ann["summary"]+d, failID) {
			t.Errorf("page must say which job failed and why: %v", ann)
		}
	}

	// The storm: one page for the 40 jobs, none per job.
	if got := hook.find("HuaweiCloudJobFailureStorm", "", stormPage); notifications(got) != 1 || len(got) != 1 || got[0].receiver != "pager" {
		t.Errorf("storm: want exactly 1 notification with 1 alert at pager, got %s", describe(got))
	}
	for _, id := range storm {
		if got := hook.find("HuaweiCloudJobFailed", "", map[string]string{"job_id": id}); len(got) > 0 {
			t.Errorf("storm job %s paged on its own (the storm must inhibit it): %s", id, describe(got))
		}
	}

	// The partial batch failure: exactly one ticket, no page.
	if got := hook.find("HuaweiCloudBatchJobPartialFailure", "", partialTicket); notifications(got) != 1 || len(got) != 1 || got[0].receiver != "tickets" {
		t.Errorf("partial batch failure %s: want exactly 1 notification with 1 alert at tickets, got %s", partialID, describe(got))
	}

	// Nothing for the job that succeeded; every severity at its receiver; no replica label anywhere.
	for _, n := range hook.all() {
		for _, a := range n.Alerts {
			if a.Labels["job_id"] == okID {
				t.Errorf("the job that succeeded must not notify; got %s %v", a.Status, a.Labels)
			}
			want := receiverOf[a.Labels["severity"]]
			if silent[a.Labels["alertname"]] {
				want = "null"
			}
			if want != n.url {
				t.Errorf("%s (severity %q) went to %s, want %s", a.Labels["alertname"], a.Labels["severity"], n.url, want)
			}
			if _, ok := a.Labels["replica"]; ok {
				t.Errorf("%s carries the replica label %v: the HA pair would notify twice", a.Labels["alertname"], a.Labels)
			}
		}
	}
	hook.mu.Lock()
	for _, e := range hook.errs {
		t.Error(e)
	}
	hook.mu.Unlock()
	if t.Failed() {
		for i, n := range hook.all() {
			t.Logf("notification %d at %s: %s", i, n.url, describe(hook.findIn(i)))
		}
	}
}

// findIn returns the alerts of notification i, for the failure log.
func (w *webhook) findIn(i int) []match {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []match
	for _, a := range w.got[i].Alerts {
		out = append(out, match{n: i, receiver: w.got[i].url, at: w.got[i].received, alert: a})
	}
	return out
}

// prometheusConfig is examples/prometheus.yml with the addresses of this test, fast intervals and the
// replica label of one member of an HA pair.
func prometheusConfig(t *testing.T, exporterAddr, amAddr, replica string) string {
	t.Helper()
	var c map[string]any
	readYAML(t, "../examples/prometheus.yml", &c)
	global, _ := c["global"].(map[any]any)
	labels, _ := global["external_labels"].(map[any]any)
	if _, ok := labels["replica"]; !ok {
		t.Fatal("examples/prometheus.yml has no external label replica: the HA example (and this test of it) needs one")
	}
	labels["replica"] = replica
	global["scrape_interval"], global["scrape_timeout"], global["evaluation_interval"] = "1s", "1s", "1s"
	rules, err := filepath.Glob(mustAbs(t, "../alerts/*.rules.yml"))
	if err != nil || len(rules) == 0 {
		t.Fatalf("no rule files in alerts/: %v", err)
	}
	c["rule_files"] = rules
	scrapes, _ := c["scrape_configs"].([]any)
	found := false
	for _, s := range scrapes {
		sc := s.(map[any]any)
		if sc["job_name"] != "huaweicloud-jobs" {
			continue
		}
		found = true
		sc["scrape_interval"], sc["scrape_timeout"] = "1s", "1s"
		sc["static_configs"] = []any{map[string]any{"targets": []string{exporterAddr}}}
	}
	if !found {
		t.Fatal(`examples/prometheus.yml has no scrape job "huaweicloud-jobs"`)
	}
	// Keep the example's alerting block (its alert_relabel_configs are under test); point it here.
	alerting, _ := c["alerting"].(map[any]any)
	if alerting == nil {
		t.Fatal("examples/prometheus.yml has no alerting block")
	}
	alerting["alertmanagers"] = []any{map[string]any{"static_configs": []any{map[string]any{"targets": []string{amAddr}}}}}
	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// alertmanagerConfig is examples/alertmanager.yml with each receiver's webhook pointed at url/<receiver>
// and short waits: group_wait 5s leaves a storm's first evaluations time to raise the inhibiting alert
// before the per-job groups are flushed, as the 30s of the example do in production.
func alertmanagerConfig(t *testing.T, url string) string {
	t.Helper()
	var c map[string]any
	readYAML(t, "../examples/alertmanager.yml", &c)
	receivers, _ := c["receivers"].([]any)
	for _, r := range receivers {
		rm := r.(map[any]any)
		whs, _ := rm["webhook_configs"].([]any)
		if len(whs) == 0 && rm["name"] == "null" {
			// The receiver that sends nothing: in the test it gets a webhook too, to see what reaches it.
			whs = []any{map[any]any{}}
			rm["webhook_configs"] = whs
		}
		if len(whs) == 0 {
			t.Fatalf("examples/alertmanager.yml: receiver %v has no webhook to point at the test", rm["name"])
		}
		for _, wh := range whs {
			wh.(map[any]any)["url"] = fmt.Sprintf("%s/%s", url, rm["name"])
		}
	}
	var fast func(r map[any]any)
	fast = func(r map[any]any) {
		for _, k := range []string{"group_wait", "group_interval"} {
			if _, ok := r[k]; ok {
				r[k] = map[string]string{"group_wait": "5s", "group_interval": "2s"}[k]
			}
		}
		subs, _ := r["routes"].([]any)
		for _, s := range subs {
			fast(s.(map[any]any))
		}
	}
	fast(c["route"].(map[any]any))
	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// query runs an instant query and returns the result vector (or scalar as one element).
func query(promURL, q string) ([]json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code, body, err := httpGet(ctx, promURL+"/api/v1/query?query="+url.QueryEscape(q), nil)
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return nil, fmt.Errorf("HTTP %d: %v", code, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q, r.Error)
	}
	if r.Data.ResultType == "scalar" || r.Data.ResultType == "string" {
		return []json.RawMessage{r.Data.Result}, nil
	}
	var vec []json.RawMessage
	err = json.Unmarshal(r.Data.Result, &vec)
	return vec, err
}

// sparseMetrics are metrics of the contract (docs/architecture.md) that rules and dashboards read but
// that need not have data in this run: a vanished job is a rare event, and the others come from the
// lifecycle change (issue #8) of the exporter. The credentials' expiry exists only for temporary
// credentials (metadata, federated); this run signs with a static key. A query reading one of them may
// come back empty; every other query must return data. alerts.TestMetricsAreInTheContract still catches
// a misspelt name.
var sparseMetrics = map[string]bool{
	"huaweicloud_job_vanished":                                          true,
	"huaweicloud_job_progress_ratio":                                    true,
	"huaweicloud_job_exporter_discovery_last_success_timestamp_seconds": true,
	"huaweicloud_job_exporter_credentials_expiry_timestamp_seconds":     true,
}

func readsSparse(expr string) bool {
	for _, m := range alerts.MetricNames(expr) {
		if sparseMetrics[m] {
			return true
		}
	}
	return false
}

// checkDashboards runs every panel query of every dashboard, variables substituted as Grafana would
// with "All" selected.
func checkDashboards(t *testing.T, promURL string) {
	t.Helper()
	qs, err := dashboards.Queries("../dashboards")
	if err != nil {
		t.Fatal(err)
	}
	files := make([]string, 0, len(qs))
	for f := range qs {
		files = append(files, f)
	}
	sort.Strings(files)
	total := 0
	for _, f := range files {
		for _, expr := range qs[f] {
			total++
			q := dashboards.Substitute(expr)
			var res []json.RawMessage
			var err error
			// Rates need a few scrapes; give each query time to find data.
			deadline := time.Now().Add(30 * time.Second)
			if readsSparse(expr) {
				deadline = time.Now()
			}
			for {
				res, err = query(promURL, q)
				if (err == nil && len(res) > 0) || time.Now().After(deadline) {
					break
				}
				time.Sleep(time.Second)
			}
			switch {
			case err != nil:
				t.Errorf("%s: query does not run: %v", f, err)
			case len(res) == 0 && readsSparse(expr):
				t.Logf("%s: no data (reads a metric this run may not have): %s", f, q)
			case len(res) == 0:
				t.Errorf("%s: query returns no data: %s", f, q)
			}
		}
	}
	if total == 0 {
		t.Error("no dashboard queries found")
	}
}

// checkRecentFailures runs the overview's Recent failures query and checks that each job of want has a
// row with its reason and a link to the runbook section want names.
func checkRecentFailures(t *testing.T, promURL string, want map[string]string) {
	t.Helper()
	panels, err := dashboards.Panels("../dashboards")
	if err != nil {
		t.Fatal(err)
	}
	var expr string
	for _, p := range panels["huaweicloud-jobs-overview.json"] {
		if p.Title == "Recent failures" && len(p.Targets) == 1 {
			expr = p.Targets[0].Expr
		}
	}
	if expr == "" {
		t.Fatal("overview dashboard: no Recent failures panel with one query")
	}
	res, err := query(promURL, dashboards.Substitute(expr))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]map[string]string{}
	for _, r := range res {
		var row struct {
			Metric map[string]string `json:"metric"`
		}
		if err := json.Unmarshal(r, &row); err != nil {
			t.Fatal(err)
		}
		if _, dup := rows[row.Metric["job_id"]]; dup {
			t.Errorf("Recent failures: job %s listed twice (two replicas or exporters must not double it)", row.Metric["job_id"])
		}
		rows[row.Metric["job_id"]] = row.Metric
	}
	for id, section := range want {
		row := rows[id]
		if row == nil {
			t.Errorf("Recent failures: no row for job %s (rows %v)", id, rows)
			continue
		}
		if !strings.HasSuffix(row["runbook"], "docs/runbook.md#"+section) || row["fail_reason"] == "" || row["error_code"] == "" {
			t.Errorf("Recent failures row of %s: runbook %q (want section %s), error_code %q, reason %q", id, row["runbook"], section, row["error_code"], row["fail_reason"])
		}
	}
}

// checkNoZerosWhileDown runs, while the exporter is down, every dashboard query that shows a zero when
// it finds nothing: each must come back empty ("No data" in Grafana), never "Failed 0" in green.
func checkNoZerosWhileDown(t *testing.T, promURL string) {
	t.Helper()
	qs, err := dashboards.Queries("../dashboards")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for f, exprs := range qs {
		for _, expr := range exprs {
			if !strings.Contains(expr, "(0 * ") {
				continue
			}
			n++
			if res, err := query(promURL, dashboards.Substitute(expr)); err != nil || len(res) > 0 {
				t.Errorf("%s: with the exporter down, %s returns %s (err %v), want no data", f, expr, res, err)
			}
		}
	}
	if n == 0 {
		t.Error("no dashboard query with a zero fallback: the check found nothing to check")
	}
}

// checkAlertExpressions runs every alert and recording-rule expression (it must parse and evaluate) and
// checks that each series it reads exists, so that a renamed metric cannot silently disable an alert.
func checkAlertExpressions(t *testing.T, promURL string) {
	t.Helper()
	exprs, err := alerts.Expressions("../alerts")
	if err != nil {
		t.Fatal(err)
	}
	records, err := alerts.RecordingRules("../alerts")
	if err != nil {
		t.Fatal(err)
	}
	if len(exprs) == 0 || len(records) == 0 {
		t.Fatal("no alert or recording rule expressions found")
	}
	for name, expr := range records {
		exprs["record "+name] = expr
	}
	for name, expr := range exprs {
		if _, err := query(promURL, expr); err != nil {
			t.Errorf("%s: expression does not run: %v", name, err)
		}
		for _, m := range alerts.MetricNames(expr) {
			if strings.Contains(m, ":") {
				continue // recorded by a rule: its own expression is checked
			}
			res, err := query(promURL, "count("+m+")")
			switch {
			case err != nil:
				t.Errorf("%s reads %s: %v", name, m, err)
			case len(res) == 0 && sparseMetrics[m]:
				t.Logf("%s reads %s, which has no data in this run", name, m)
			case len(res) == 0:
				t.Errorf("%s reads %s, which has no data", name, m)
			}
		}
		if strings.Contains(expr, `up{job="huaweicloud-jobs"}`) {
			if res, err := query(promURL, `count(up{job="huaweicloud-jobs"})`); err != nil || len(res) == 0 {
				t.Errorf("%s reads up{job=\"huaweicloud-jobs\"}, which has no data (%v)", name, err)
			}
		}
	}
}

// checkMetricsLint runs promtool check metrics on the exporter's whole /metrics answer.
func checkMetricsLint(t *testing.T, promtool, exporterURL string) {
	t.Helper()
	_, body, err := get(exporterURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || strings.TrimSpace(out.String()) != "" {
		t.Errorf("promtool check metrics: %v\n%s", err, out.String())
	}
}
