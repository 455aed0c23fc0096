package alerts

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"go.yaml.in/yaml/v3"
)

const runbookURL = "https://github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/blob/main/docs/runbook.md#"

// promtool returns the path of promtool, skipping the test when it is missing unless HJE_REQUIRE_E2E=1
// (CI installs Debian's prometheus package, which ships it).
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("HJE_REQUIRE_E2E") == "1" {
			t.Fatalf("promtool not found on PATH and HJE_REQUIRE_E2E=1: %v", err)
		}
		t.Skip("promtool not found on PATH; install Debian's prometheus package (or set HJE_REQUIRE_E2E=1 to fail)")
	}
	return p
}

func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), promtool(t), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
}

func TestPromtoolCheckRules(t *testing.T) {
	files, err := Files(".")
	if err != nil {
		t.Fatal(err)
	}
	runPromtool(t, append([]string{"check", "rules"}, files...)...)
}

func TestPromtoolTestRules(t *testing.T) {
	tests, err := filepath.Glob(filepath.Join("tests", "*.yml"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no promtool test files in tests/ (err %v)", err)
	}
	runPromtool(t, append([]string{"test", "rules"}, tests...)...)
}

func TestExpressions(t *testing.T) {
	exprs, err := Expressions(".")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"HuaweiCloudJobFailureStorm", "HuaweiCloudJobFailed", "HuaweiCloudBatchJobPartialFailure",
		"HuaweiCloudJobStuck", "HuaweiCloudJobPendingPayment", "HuaweiCloudJobUnknownStatus",
		"HuaweiCloudJobVanished", "HuaweiCloudJobExporterDown", "HuaweiCloudJobExporterAuthFailing", "HuaweiCloudJobExporterPermissionDenied",
		"HuaweiCloudJobExporterEndpointWrong", "HuaweiCloudJobQueryFailing",
		"HuaweiCloudJobExporterDiscoveryFailing", "HuaweiCloudJobExporterConfigReloadFailed",
		"HuaweiCloudJobExporterWatchCapReached",
		// Issue 18: sharding, credentials expiry, dropped discovered jobs.
		"HuaweiCloudJobExporterShardsMissing", "HuaweiCloudJobExporterShardingMismatch",
		"HuaweiCloudJobExporterCredentialsExpiring", "HuaweiCloudJobExporterCredentialsExpired",
		"HuaweiCloudJobExporterDiscoveredJobDropped",
		// Group huaweicloud-job-types (issue 23).
		"HuaweiCloudJobRunningTooLong", "HuaweiCloudJobTypeDurationLearned", "HuaweiCloudJobTypeFailureRateHigh",
	}
	for _, name := range want {
		if strings.TrimSpace(exprs[name]) == "" {
			t.Errorf("alert %s: missing or empty expr", name)
		}
	}
	if len(exprs) != len(want) {
		t.Errorf("got %d alerts, want %d: update this list and docs/runbook.md together", len(exprs), len(want))
	}
}

// TestAlertsAreDocumented checks what an on-call person needs in every notification: a severity that
// routes, a summary, a description, and a runbook link that lands on a real section of docs/runbook.md.
func TestAlertsAreDocumented(t *testing.T) {
	groups, err := Groups(".")
	if err != nil {
		t.Fatal(err)
	}
	anchors := runbookAnchors(t, filepath.Join("..", "docs", "runbook.md"))
	// The monitoring-mixin severities; examples/alertmanager.yml routes on them.
	severities := map[string]bool{"critical": true, "warning": true, "info": true}
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			t.Run(r.Alert, func(t *testing.T) {
				if !severities[r.Labels["severity"]] {
					t.Errorf("severity %q, want one of critical, warning, info", r.Labels["severity"])
				}
				for _, a := range []string{"summary", "description", "runbook_url"} {
					if strings.TrimSpace(r.Annotations[a]) == "" {
						t.Errorf("annotation %s missing", a)
					}
				}
				u := r.Annotations["runbook_url"]
				anchor, ok := strings.CutPrefix(u, runbookURL)
				if !ok {
					t.Fatalf("runbook_url %q does not start with %s", u, runbookURL)
				}
				if !anchors[anchor] {
					t.Errorf("runbook_url anchor #%s is no heading of docs/runbook.md", anchor)
				}
			})
		}
	}
}

// TestMetricsAreInTheContract checks that every huaweicloud_* metric the rules read is in the metrics
// table of docs/architecture.md, and every recorded series they read (huaweicloud_job:...) is recorded by
// a rule, so that a typo or a renamed metric cannot leave an alert that never fires.
func TestMetricsAreInTheContract(t *testing.T) {
	known := contractMetrics(t, filepath.Join("..", "docs", "architecture.md"))
	alertExprs, err := Expressions(".")
	if err != nil {
		t.Fatal(err)
	}
	records, err := RecordingRules(".")
	if err != nil {
		t.Fatal(err)
	}
	exprs := map[string]string{}
	for name, e := range alertExprs {
		exprs["alert "+name] = e
	}
	for name, e := range records {
		exprs["recording rule "+name] = e
	}
	for rule, expr := range exprs {
		for _, m := range MetricNames(expr) {
			if strings.Contains(m, ":") {
				if _, ok := records[m]; !ok {
					t.Errorf("%s reads %s, which no recording rule records", rule, m)
				}
			} else if !known[m] {
				t.Errorf("%s reads %s, which is not in the metrics table of docs/architecture.md", rule, m)
			}
		}
	}
}

// TestRuleOrder checks that a recorded series is recorded before the rules of its group that read it:
// Prometheus evaluates a group's rules in order, so a rule reading a later one would see the previous
// evaluation, one interval late, and an alert reading a series of another group could race it.
func TestRuleOrder(t *testing.T) {
	groups, err := Groups(".")
	if err != nil {
		t.Fatal(err)
	}
	recordedIn := map[string]string{}
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recordedIn[r.Record] = g.Name
			}
		}
	}
	for _, g := range groups {
		seen := map[string]bool{}
		for _, r := range g.Rules {
			name := r.Alert + r.Record
			for _, m := range MetricNames(r.Expr) {
				if !strings.Contains(m, ":") {
					continue
				}
				if recordedIn[m] != g.Name {
					t.Errorf("%s (group %s) reads %s, recorded in group %q", name, g.Name, m, recordedIn[m])
				} else if !seen[m] {
					t.Errorf("%s reads %s before the rule that records it", name, m)
				}
			}
			if r.Record != "" {
				seen[r.Record] = true
			}
		}
	}
}

// TestAlertIdentity checks the rules of identity that keep one page per failed job: an alert's only
// static label is severity; no rule aggregates by free text (fail_reason, resource_id) or by the scrape
// labels (instance, job) in a job rule; the job alerts have no `for` (every gap in a job's series starts
// it again) and no keep_firing_for (it bridges a fixed gap only, and a Prometheus restart forgets it):
// they bridge outages with lookbacks of recorded series.
func TestAlertIdentity(t *testing.T) {
	groups, err := Groups(".")
	if err != nil {
		t.Fatal(err)
	}
	byClause := regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	for _, g := range groups {
		for _, r := range g.Rules {
			name := r.Alert + r.Record
			for k := range r.Labels {
				if k != "severity" {
					t.Errorf("%s: static label %s; identity labels come from the expression, free text goes to annotations", name, k)
				}
			}
			for _, m := range byClause.FindAllStringSubmatch(r.Expr, -1) {
				for _, l := range strings.Split(m[1], ",") {
					l = strings.TrimSpace(l)
					if l == "fail_reason" || l == "resource_id" || (g.Name == "huaweicloud-jobs" && (l == "instance" || l == "job")) {
						t.Errorf("%s aggregates by %s: %s", name, l, m[0])
					}
				}
			}
			if g.Name == "huaweicloud-jobs" && r.Alert != "" && (r.For != "" || r.KeepFiringFor != "") {
				t.Errorf("%s: for %q, keep_firing_for %q: an exporter gap or a Prometheus restart resets them; use a lookback of a recorded series", name, r.For, r.KeepFiringFor)
			}
		}
	}
}

// TestScrapeJobSelectorInOnePlace: the exporter's scrape job is named in one rule, the selector
// (SelectorRecord), as a monitoring mixin names it in one config field, so that a user whose scrape job
// has another name changes one line and gets no permanent false HuaweiCloudJobExporterDown (issue 18).
// No other rule may select on `job`.
func TestScrapeJobSelectorInOnePlace(t *testing.T) {
	groups, err := Groups(".")
	if err != nil {
		t.Fatal(err)
	}
	job, err := ScrapeJob(".")
	if err != nil {
		t.Fatal(err)
	}
	if job != "huaweicloud-jobs" {
		t.Errorf("ScrapeJob = %q, want huaweicloud-jobs, the job of examples/prometheus.yml and the Helm chart", job)
	}
	jobMatcher := regexp.MustCompile(`\bjob\s*(=|!=|=~|!~)\s*"`)
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Record == SelectorRecord {
				continue
			}
			if jobMatcher.MatchString(r.Expr) {
				t.Errorf("%s selects a scrape job itself; read %s instead: %s", r.Alert+r.Record, SelectorRecord, r.Expr)
			}
		}
	}
	b, err := os.ReadFile(filepath.Join("..", "examples", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "job_name: "+job) {
		t.Errorf("examples/prometheus.yml has no scrape job %q, which the rules select", job)
	}
}

func TestMetricNames(t *testing.T) {
	got := MetricNames(`max by (job_id) (last_over_time(huaweicloud_job:failed_end_timestamp_seconds[25h])) > time() - 86400 and on (job_id) huaweicloud_job_status{status="FAIL"} == 1 or up{job="x"}`)
	want := []string{"huaweicloud_job:failed_end_timestamp_seconds", "huaweicloud_job_status"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("MetricNames = %v, want %v", got, want)
	}
}

// promtoolTests is the part of a promtool test file this test reads.
type promtoolTests struct {
	Tests []struct {
		Name          string `yaml:"name"`
		AlertRuleTest []struct {
			Alertname string        `yaml:"alertname"`
			ExpAlerts []interface{} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestEveryAlertIsUnitTested checks that every alert has a promtool case where it fires and one where
// it must not.
func TestEveryAlertIsUnitTested(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("tests", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool test files in tests/ (err %v)", err)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var pt promtoolTests
		if err := yaml.Unmarshal(b, &pt); err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		for _, tc := range pt.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					fires[a.Alertname] = true
				} else {
					silent[a.Alertname] = true
				}
			}
		}
	}
	exprs, err := Expressions(".")
	if err != nil {
		t.Fatal(err)
	}
	for name := range exprs {
		if !fires[name] {
			t.Errorf("alert %s has no promtool test case in which it fires", name)
		}
		if !silent[name] {
			t.Errorf("alert %s has no promtool test case in which it must not fire (exp_alerts: [])", name)
		}
		delete(fires, name)
		delete(silent, name)
	}
	for name := range fires {
		t.Errorf("promtool tests expect alert %s, which no rule defines", name)
	}
	for name := range silent {
		t.Errorf("promtool tests expect alert %s, which no rule defines", name)
	}
}

func TestAnchor(t *testing.T) {
	for _, tc := range []struct{ heading, want string }{
		{"HuaweiCloudJobFailed", "huaweicloudjobfailed"},
		{"How FAIL alerts resolve", "how-fail-alerts-resolve"},
		{"Tuning thresholds (per job_type)", "tuning-thresholds-per-job_type"},
		{"`final_job_ttl` and repeat_interval", "final_job_ttl-and-repeat_interval"},
		{"Why a ticket, not a page?", "why-a-ticket-not-a-page"},
	} {
		if got := anchor(tc.heading); got != tc.want {
			t.Errorf("anchor(%q) = %q, want %q", tc.heading, got, tc.want)
		}
	}
}

// anchor is the id GitHub gives a Markdown heading: lower case, punctuation other than '-' and '_'
// dropped, spaces turned into '-'.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// runbookAnchors returns the anchors of the headings of a Markdown file, outside fenced code blocks,
// with GitHub's -1, -2 suffixes for repeated headings.
func runbookAnchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	anchors, seen := map[string]bool{}, map[string]int{}
	heading := regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	fenced := false
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		m := heading.FindStringSubmatch(line)
		if fenced || m == nil {
			continue
		}
		a := anchor(m[1])
		if n := seen[a]; n > 0 {
			seen[a]++
			a = a + "-" + strconv.Itoa(n)
		} else {
			seen[a] = 1
		}
		anchors[a] = true
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(anchors) == 0 {
		t.Fatalf("no headings in %s", path)
	}
	return anchors
}

// contractMetrics returns the metric names of the metrics table of docs/architecture.md, with the
// _bucket, _sum and _count series of histograms.
func contractMetrics(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\|\\s*`?(huaweicloud_[a-z_]+)`?\\s*\\|\\s*([a-z]+)")
	known := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		known[m[1]] = true
		if m[2] == "histogram" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				known[m[1]+s] = true
			}
		}
	}
	if len(known) == 0 {
		t.Fatalf("no metrics table in %s", path)
	}
	return known
}

// TestMetricNamesWithDigits: recorded series such as huaweicloud_job_type:duration_seconds:p95 are read
// whole, or the contract and order checks would look for a series named ...:p.
func TestMetricNamesWithDigits(t *testing.T) {
	got := MetricNames(`clamp(3 * huaweicloud_job_type:duration_seconds:p95, 600, 86400) / huaweicloud_job_type:finished_1h:count`)
	want := []string{"huaweicloud_job_type:duration_seconds:p95", "huaweicloud_job_type:finished_1h:count"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("MetricNames = %v, want %v", got, want)
	}
}
