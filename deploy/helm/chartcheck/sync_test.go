package chartcheck

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestChartCopiesMatchSources fails when alerts/ or dashboards/ changed and the chart's copies did not
// follow: run `make helm-sync` and commit the result.
func TestChartCopiesMatchSources(t *testing.T) {
	drifts, err := Check(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range drifts {
		t.Errorf("%s; run `make helm-sync`", d)
	}
}

func TestSyncAndCheck(t *testing.T) {
	const (
		rules    = "alerts/a.rules.yml"
		rulesDst = ChartDir + "/files/a.rules.yml"
		dash     = "dashboards/d.json"
		dashDst  = ChartDir + "/dashboards/d.json"
		stale    = ChartDir + "/dashboards/gone.json"
	)
	for _, tc := range []struct {
		name   string
		files  map[string]string
		drifts []string // paths Check reports
	}{
		{"in sync", map[string]string{rules: "groups: []\n", rulesDst: "groups: []\n", dash: "{}\n", dashDst: "{}\n"}, nil},
		{"copy missing", map[string]string{rules: "groups: []\n", dash: "{}\n", dashDst: "{}\n"}, []string{rulesDst}},
		{"copy differs", map[string]string{rules: "groups: []\n", rulesDst: "groups: []\n", dash: "{\"a\": 1}\n", dashDst: "{}\n"}, []string{dashDst}},
		{"copy without source", map[string]string{rules: "groups: []\n", rulesDst: "groups: []\n", dash: "{}\n", dashDst: "{}\n", stale: "{}\n"}, []string{stale}},
		// Only the trailing newline differs: a byte comparison, not a YAML or JSON one.
		{"trailing newline", map[string]string{rules: "groups: []\n", rulesDst: "groups: []", dash: "{}\n", dashDst: "{}\n"}, []string{rulesDst}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for path, content := range tc.files {
				writeFile(t, filepath.Join(root, path), content)
			}
			drifts, err := Check(root)
			if err != nil {
				t.Fatal(err)
			}
			if got := paths(drifts); !slices.Equal(got, tc.drifts) {
				t.Fatalf("Check: %v, want drift in %v", drifts, tc.drifts)
			}
			changed, err := Sync(root)
			if err != nil {
				t.Fatal(err)
			}
			if got := paths(changed); !slices.Equal(got, tc.drifts) {
				t.Errorf("Sync changed %v, want %v", changed, tc.drifts)
			}
			if after, err := Check(root); err != nil || len(after) != 0 {
				t.Errorf("Check after Sync: %v, %v", after, err)
			}
			if _, err := os.Stat(filepath.Join(root, stale)); !os.IsNotExist(err) {
				t.Errorf("stale copy %s still there after Sync: %v", stale, err)
			}
		})
	}
}

// A repository without rules or dashboards is a broken checkout, not a chart without them.
func TestCheckNeedsSources(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "alerts/a.rules.yml"), "groups: []\n")
	if _, err := Check(root); err == nil {
		t.Error("Check of a repository without dashboards/*.json: no error")
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func paths(drifts []Drift) []string {
	var out []string
	for _, d := range drifts {
		out = append(out, d.Path)
	}
	return out
}
