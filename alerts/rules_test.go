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

	"gopkg.in/yaml.v2"
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
		"HuaweiCloudJobFailed", "HuaweiCloudBatchJobPartialFailure", "HuaweiCloudJobStuck",
		"HuaweiCloudJobPendingPayment", "HuaweiCloudJobExporterDown", "HuaweiCloudJobExporterAuthFailing",
		"HuaweiCloudJobQueryFailing", "HuaweiCloudJobExporterConfigReloadFailed",
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
	severities := map[string]bool{"page": true, "ticket": true, "warning": true}
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			t.Run(r.Alert, func(t *testing.T) {
				if !severities[r.Labels["severity"]] {
					t.Errorf("severity %q, want one of page, ticket, warning", r.Labels["severity"])
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

// TestMetricsAreInTheContract checks that every huaweicloud_* metric the rules use is in the metrics
// table of docs/architecture.md, so that a typo or a renamed metric cannot leave an alert that never fires.
func TestMetricsAreInTheContract(t *testing.T) {
	known := contractMetrics(t, filepath.Join("..", "docs", "architecture.md"))
	exprs, err := Expressions(".")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`huaweicloud_[a-z_]+`)
	for alert, expr := range exprs {
		for _, m := range name.FindAllString(expr, -1) {
			if !known[m] {
				t.Errorf("alert %s uses %s, which is not in the metrics table of docs/architecture.md", alert, m)
			}
		}
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
