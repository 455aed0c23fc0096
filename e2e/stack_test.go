package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v2"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/alerts"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/dashboards"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/simulator"
)

// notification is the part of Alertmanager's webhook payload the test reads.
type notification struct {
	Status string `json:"status"`
	Alerts []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
	received time.Time
}

// webhook is the pager: it records every notification Alertmanager sends.
type webhook struct {
	mu   sync.Mutex
	got  []notification
	errs []string
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var n notification
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &n); err != nil {
		w.mu.Lock()
		w.errs = append(w.errs, fmt.Sprintf("bad webhook body: %v: %s", err, b))
		w.mu.Unlock()
		rw.WriteHeader(http.StatusBadRequest)
		return
	}
	n.received = time.Now()
	w.mu.Lock()
	w.got = append(w.got, n)
	w.mu.Unlock()
}

// firing returns the firing alerts named alertname for job_id, with the time their notification arrived.
func (w *webhook) firing(alertname, jobID string) (count int, first time.Time, labels, annotations map[string]string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.got {
		for _, a := range n.Alerts {
			if a.Status == "firing" && a.Labels["alertname"] == alertname && a.Labels["job_id"] == jobID {
				if count == 0 {
					first, labels, annotations = n.received, a.Labels, a.Annotations
				}
				count++
			}
		}
	}
	return
}

func (w *webhook) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.got)
}

func (w *webhook) anyFor(jobID string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var names []string
	for _, n := range w.got {
		for _, a := range n.Alerts {
			if a.Labels["job_id"] == jobID {
				names = append(names, a.Labels["alertname"]+"/"+a.Status)
			}
		}
	}
	return names
}

// TestEndToEnd runs simulator, exporter, Prometheus (with the shipped rules and the example scrape config)
// and Alertmanager (with the example routing, receivers pointed at this test), then turns a job FAIL in
// the simulator and waits for the page.
func TestEndToEnd(t *testing.T) {
	prometheus := requireTool(t, "prometheus")
	promtool := requireTool(t, "promtool")
	alertmanager := requireTool(t, "prometheus-alertmanager", "alertmanager")

	sim, simURL := startSimulator(t)
	past := time.Now().Add(-10 * time.Minute)
	failID := sim.CreateJob(simulator.JobSpec{Service: huaweicloud.ECS, Begin: past, RunFor: 24 * time.Hour, Outcome: huaweicloud.StatusRunning, SubJobs: 2})
	okID := sim.CreateJob(simulator.JobSpec{Service: huaweicloud.EVS, Begin: past, RunFor: 24 * time.Hour, Outcome: huaweicloud.StatusRunning})
	jobs := map[string]string{
		failID: "ecs",
		okID:   "evs",
		// Data for every panel and alert expression: a partial batch failure, a payment wait, a stuck job
		// and an id the cloud does not know (query failures).
		sim.CreateJob(simulator.JobSpec{Service: huaweicloud.ECS, Begin: past, RunFor: time.Minute, SubJobs: 4, FailedSubJobs: 1,
			ErrorCode: "Ecs.0005", FailReason: "Insufficient resources for the flavor"}): "ecs",
		sim.CreateJob(simulator.JobSpec{Service: huaweicloud.ECS, Begin: past, Outcome: huaweicloud.StatusPendingPayment}):                                      "ecs",
		sim.CreateJob(simulator.JobSpec{Service: huaweicloud.BMS, Begin: past.Add(-3 * time.Hour), RunFor: 48 * time.Hour, Outcome: huaweicloud.StatusRunning}): "bms",
		sim.CreateJob(simulator.JobSpec{Service: huaweicloud.IMS, Begin: past, RunFor: 2 * time.Minute}):                                                        "ims",
		"ff80808288d41e1b018937c1d6ae9999": "ecs",
	}
	dir := t.TempDir()
	cfg := writeFile(t, dir, "exporter.yml", exporterConfig(simURL, jobs, ""))
	_, exporterURL := startExporter(t, cfg)

	hook := &webhook{}
	hookSrv := httptest.NewServer(hook)
	t.Cleanup(hookSrv.Close)

	amAddr, promAddr := freeAddr(t), freeAddr(t)
	amCfg := writeFile(t, dir, "alertmanager.yml", alertmanagerConfig(t, hookSrv.URL))
	start(t, alertmanager, "--config.file="+amCfg, "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=", "--log.level=warn")
	promCfg := writeFile(t, dir, "prometheus.yml", prometheusConfig(t, strings.TrimPrefix(exporterURL, "http://"), amAddr))
	if out, err := exec.Command(promtool, "check", "config", promCfg).CombinedOutput(); err != nil {
		t.Fatalf("promtool check config on the e2e config derived from examples/prometheus.yml: %v\n%s", err, out)
	}
	start(t, prometheus, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "prom"),
		"--web.listen-address="+promAddr, "--log.level=warn")
	promURL := "http://" + promAddr

	eventually(t, 60*time.Second, "Prometheus to scrape the exporter (up == 1)", func() (bool, string) {
		r, err := query(promURL, `up{job="huaweicloud-jobs"} == 1`)
		return err == nil && len(r) == 1, fmt.Sprint(r, err)
	})
	eventually(t, 60*time.Second, "the failing job to be seen RUNNING", func() (bool, string) {
		r, err := query(promURL, fmt.Sprintf(`huaweicloud_job_status{job_id=%q,status="RUNNING"} == 1`, failID))
		return err == nil && len(r) == 1, fmt.Sprint(r, err)
	})

	// Now the cloud answers FAIL for one job and SUCCESS for the other.
	if err := sim.SetJobOutcomeNow(failID, huaweicloud.StatusFail, "Ecs.0005", "Insufficient resources for the flavor in the AZ"); err != nil {
		t.Fatal(err)
	}
	if err := sim.SetJobOutcomeNow(okID, huaweicloud.StatusSuccess, "", ""); err != nil {
		t.Fatal(err)
	}
	turnedFail := time.Now()

	var arrived time.Time
	eventually(t, 120*time.Second, "the page for the failed job at the webhook", func() (bool, string) {
		n, at, _, _ := hook.firing("HuaweiCloudJobFailed", failID)
		arrived = at
		return n > 0, fmt.Sprintf("%d notifications so far", hook.count())
	})
	latency := arrived.Sub(turnedFail)
	t.Logf("FAIL in the simulator -> notification at the webhook: %s", latency.Round(100*time.Millisecond))
	if report := os.Getenv("HJE_E2E_REPORT"); report != "" {
		_ = os.WriteFile(report, []byte(fmt.Sprintf("e2e: job turned FAIL in the simulator -> Alertmanager webhook notification in %s\n", latency.Round(100*time.Millisecond))), 0o644)
	}

	// While that settles, every dashboard query and alert expression must parse and return data.
	checkDashboards(t, promURL)
	checkAlertExpressions(t, promURL)
	checkMetricsLint(t, promtool, exporterURL)

	// Several evaluation and group intervals later there is still exactly one page for the job, and none
	// for the job that succeeded.
	time.Sleep(10 * time.Second)
	n, _, labels, ann := hook.firing("HuaweiCloudJobFailed", failID)
	if n != 1 {
		t.Errorf("HuaweiCloudJobFailed for %s: %d firing notifications, want exactly 1", failID, n)
	}
	for k, v := range map[string]string{"severity": "page", "service": "ecs", "region": testRegion, "project_id": testProject,
		"job_id": failID, "job_type": "createServer", "error_code": "Ecs.0005"} {
		if labels[k] != v {
			t.Errorf("page label %s = %q, want %q (labels %v)", k, labels[k], v, labels)
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
	if got := hook.anyFor(okID); len(got) > 0 {
		t.Errorf("the job that succeeded must not notify; got %v", got)
	}
	hook.mu.Lock()
	for _, e := range hook.errs {
		t.Error(e)
	}
	hook.mu.Unlock()
}

// prometheusConfig is examples/prometheus.yml with the addresses of this test and fast intervals.
func prometheusConfig(t *testing.T, exporterAddr, amAddr string) string {
	t.Helper()
	var c map[string]any
	readYAML(t, "../examples/prometheus.yml", &c)
	c["global"] = map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
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
	c["alerting"] = map[string]any{"alertmanagers": []any{map[string]any{"static_configs": []any{map[string]any{"targets": []string{amAddr}}}}}}
	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// alertmanagerConfig is examples/alertmanager.yml with every webhook pointed at url and short waits.
func alertmanagerConfig(t *testing.T, url string) string {
	t.Helper()
	var c map[string]any
	readYAML(t, "../examples/alertmanager.yml", &c)
	receivers, _ := c["receivers"].([]any)
	hooks := 0
	for _, r := range receivers {
		rm := r.(map[any]any)
		whs, _ := rm["webhook_configs"].([]any)
		for _, wh := range whs {
			wh.(map[any]any)["url"] = url
			hooks++
		}
	}
	if hooks == 0 {
		t.Fatal("examples/alertmanager.yml has no webhook receiver to point at the test")
	}
	route := c["route"].(map[any]any)
	route["group_wait"], route["group_interval"] = "1s", "2s"
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
			for {
				res, err = query(promURL, q)
				if (err == nil && len(res) > 0) || time.Now().After(deadline) {
					break
				}
				time.Sleep(time.Second)
			}
			if err != nil {
				t.Errorf("%s: query does not run: %v", f, err)
			} else if len(res) == 0 {
				t.Errorf("%s: query returns no data: %s", f, q)
			}
		}
	}
	if total == 0 {
		t.Error("no dashboard queries found")
	}
}

var metricName = regexp.MustCompile(`\b(huaweicloud_[a-z_]+|up)\b`)

// checkAlertExpressions runs every alert expression (it must parse and evaluate) and checks that each
// series it reads exists, so that a renamed metric cannot silently disable an alert.
func checkAlertExpressions(t *testing.T, promURL string) {
	t.Helper()
	exprs, err := alerts.Expressions("../alerts")
	if err != nil {
		t.Fatal(err)
	}
	if len(exprs) == 0 {
		t.Fatal("no alert expressions found")
	}
	for name, expr := range exprs {
		if _, err := query(promURL, expr); err != nil {
			t.Errorf("alert %s: expression does not run: %v", name, err)
		}
		for _, m := range uniq(metricName.FindAllString(expr, -1)) {
			if m == "up" {
				m = `up{job="huaweicloud-jobs"}`
			}
			res, err := query(promURL, "count("+m+")")
			if err != nil || len(res) == 0 {
				t.Errorf("alert %s reads %s, which has no data (%v)", name, m, err)
			}
		}
	}
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
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
