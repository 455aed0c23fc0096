package e2e

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/alerts"
)

// amRoute is the part of an Alertmanager route this test reads.
type amRoute struct {
	Receiver       string    `yaml:"receiver"`
	Matchers       []string  `yaml:"matchers"`
	RepeatInterval string    `yaml:"repeat_interval"`
	Continue       bool      `yaml:"continue"`
	Routes         []amRoute `yaml:"routes"`
}

type amConfig struct {
	Route        amRoute `yaml:"route"`
	InhibitRules []struct {
		SourceMatchers []string `yaml:"source_matchers"`
		TargetMatchers []string `yaml:"target_matchers"`
		Equal          []string `yaml:"equal"`
	} `yaml:"inhibit_rules"`
}

var matcherRE = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"(.*)"\s*$`)

// matches reports whether labels satisfy a matcher of the form name="v", name=~"re", name!="v", name!~"re".
func matches(t *testing.T, m string, labels map[string]string) bool {
	t.Helper()
	p := matcherRE.FindStringSubmatch(m)
	if p == nil {
		t.Fatalf("matcher %q: not of the form name=\"value\"", m)
	}
	v := labels[p[1]]
	switch p[2] {
	case "=":
		return v == p[3]
	case "!=":
		return v != p[3]
	}
	ok := regexp.MustCompile("^(?:" + p[3] + ")$").MatchString(v)
	return ok == (p[2] == "=~")
}

// repeatInterval walks the routing tree the way Alertmanager does (first matching child, unless
// continue) and returns the repeat_interval of the route an alert with labels ends in, inherited.
func repeatInterval(t *testing.T, r amRoute, labels map[string]string, inherited string) string {
	t.Helper()
	if r.RepeatInterval != "" {
		inherited = r.RepeatInterval
	}
	for _, c := range r.Routes {
		all := true
		for _, m := range c.Matchers {
			all = all && matches(t, m, labels)
		}
		if all {
			return repeatInterval(t, c, labels, inherited)
		}
	}
	return inherited
}

// silent are the alerts that are no notification: examples/alertmanager.yml routes them to the receiver
// "null", which sends nothing; they exist to inhibit others.
var silent = map[string]bool{"HuaweiCloudJobTypeDurationLearned": true}

// TestAlertRouting checks where examples/alertmanager.yml sends each alert of the shipped rules and how
// often it repeats it: the receiver follows the severity (critical: pager, warning: tickets, info: chat),
// the 25h repeat belongs to the per-job FAIL page only, and the pages that mean the exporter is blind
// repeat within hours. amtool answers the receiver with Alertmanager's own routing code.
func TestAlertRouting(t *testing.T) {
	amtool := requireTool(t, "amtool")
	groups, err := alerts.Groups("../alerts")
	if err != nil {
		t.Fatal(err)
	}
	var cfg amConfig
	readYAML(t, "../examples/alertmanager.yml", &cfg)
	repeat := map[string]string{
		"HuaweiCloudJobFailed":                     "25h",
		"HuaweiCloudJobFailureStorm":               "4h",
		"HuaweiCloudJobExporterDown":               "2h",
		"HuaweiCloudJobExporterAuthFailing":        "2h",
		"HuaweiCloudJobExporterPermissionDenied":   "2h",
		"HuaweiCloudJobExporterEndpointWrong":      "2h",
		"HuaweiCloudJobExporterDiscoveryFailing":   "2h",
		"HuaweiCloudJobExporterShardsMissing":      "2h",
		"HuaweiCloudJobExporterShardingMismatch":   "2h",
		"HuaweiCloudJobExporterCredentialsExpired": "2h",
	}
	n := 0
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			t.Run(r.Alert, func(t *testing.T) {
				sev := r.Labels["severity"]
				labels := map[string]string{"alertname": r.Alert, "severity": sev}
				out, err := exec.Command(amtool, "config", "routes", "test", "--config.file=../examples/alertmanager.yml",
					"alertname="+r.Alert, "severity="+sev).CombinedOutput()
				if err != nil {
					t.Fatalf("amtool config routes test: %v\n%s", err, out)
				}
				lines := strings.Split(strings.TrimSpace(string(out)), "\n")
				want := receiverOf[sev]
				if silent[r.Alert] {
					want = "null"
				}
				if got := strings.TrimSpace(lines[len(lines)-1]); got != want {
					t.Errorf("severity %s goes to %q, want %q", sev, got, want)
				}
				want, ok := repeat[r.Alert]
				if !ok {
					want = "24h" // tickets and chat: a daily reminder at most
				}
				if got := repeatInterval(t, cfg.Route, labels, ""); got != want {
					t.Errorf("repeat_interval %s, want %s", got, want)
				}
			})
		}
	}
	if n != len(repeat)+13 {
		t.Errorf("%d alerts: add the new ones to this test's expectations", n)
	}
}

// TestInhibitRules checks that the inhibitions of examples/alertmanager.yml name alerts that exist and
// the labels they compare are labels both sides carry, so that a renamed alert cannot silently end them.
func TestInhibitRules(t *testing.T) {
	exprs, err := alerts.Expressions("../alerts")
	if err != nil {
		t.Fatal(err)
	}
	var cfg amConfig
	readYAML(t, "../examples/alertmanager.yml", &cfg)
	want := map[string]bool{
		"HuaweiCloudJobFailureStorm -> HuaweiCloudJobFailed equal [service region error_code]":        true,
		"HuaweiCloudJobExporterDown -> HuaweiCloudJobQueryFailing equal []":                           true,
		"HuaweiCloudJobExporterDown -> HuaweiCloudJobExporterShardsMissing equal [job]":               true,
		"HuaweiCloudJobExporterAuthFailing -> HuaweiCloudJobQueryFailing equal [service region]":      true,
		"HuaweiCloudJobExporterPermissionDenied -> HuaweiCloudJobQueryFailing equal [service region]": true,
		"HuaweiCloudJobExporterEndpointWrong -> HuaweiCloudJobQueryFailing equal [service region]":    true,
		// Issue 23: one running-too-long ticket per job, and a failure-rate ticket that waits out a storm.
		"HuaweiCloudJobTypeDurationLearned -> HuaweiCloudJobStuck equal [service region job_type]":     true,
		"HuaweiCloudJobRunningTooLong -> HuaweiCloudJobStuck equal [service region project_id job_id]": true,
		"HuaweiCloudJobFailureStorm -> HuaweiCloudJobTypeFailureRateHigh equal [service region]":       true,
	}
	got := map[string]bool{}
	names := func(ms []string) []string {
		var out []string
		for name := range exprs {
			all := true
			for _, m := range ms {
				all = all && matches(t, m, map[string]string{"alertname": name})
			}
			if all {
				out = append(out, name)
			}
		}
		return out
	}
	for i, ir := range cfg.InhibitRules {
		srcs, tgts := names(ir.SourceMatchers), names(ir.TargetMatchers)
		if len(srcs) == 0 || len(tgts) == 0 {
			t.Errorf("inhibit rule %d: sources %v, targets %v: matches no alert of the rules", i, ir.SourceMatchers, ir.TargetMatchers)
		}
		for _, s := range srcs {
			for _, tg := range tgts {
				got[fmt.Sprintf("%s -> %s equal %v", s, tg, ir.Equal)] = true
			}
		}
	}
	for w := range want {
		if !got[w] {
			t.Errorf("missing inhibition %s (have %v)", w, got)
		}
	}
}
