package main

import (
	"os"
	"strings"
	"testing"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// TestTextsNameEveryService: texts a newcomer reads first name every service the exporter supports, and
// the CTS defaults (issue 21: Chart.yaml named 4 services of 9, the example said CTS finds ECS, EVS, BMS
// and IMS jobs while the default includes CCE).
func TestTextsNameEveryService(t *testing.T) {
	read := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	chart := read("deploy/helm/huaweicloud-job-exporter/Chart.yaml")
	for _, s := range huaweicloud.JobServices {
		if !strings.Contains(chart, strings.ToUpper(string(s))) {
			t.Errorf("Chart.yaml description does not name %s", strings.ToUpper(string(s)))
		}
	}
	example := read("examples/huaweicloud-job-exporter.yml")
	i := strings.Index(example, "1. Cloud Trace Service")
	if i < 0 {
		t.Fatal("example config: no CTS paragraph")
	}
	cts := example[i : i+300]
	for _, s := range huaweicloud.CTSDefaultServices {
		if !strings.Contains(cts, strings.ToUpper(string(s))) {
			t.Errorf("example config: the CTS paragraph does not name default service %s", strings.ToUpper(string(s)))
		}
	}
	if strings.Contains(example, "picked up by SIGHUP") {
		t.Error("example config: key files are re-read when they change, no SIGHUP needed")
	}
	if rules := read("alerts/huaweicloud-jobs.rules.yml"); strings.Contains(rules, "lookback of 1h") {
		t.Error("rules: the default CTS lookback is 24h")
	}
}

// TestExampleCopyIsIgnored: the config README's Quick start copies into the repository root, where the
// keys may go, is git-ignored.
func TestExampleCopyIsIgnored(t *testing.T) {
	b, err := os.ReadFile(".gitignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) == "/huaweicloud-job-exporter.yml" {
			return
		}
	}
	t.Error(".gitignore does not ignore /huaweicloud-job-exporter.yml, the copy README's Quick start makes")
}
