// Package chartcheck keeps the Helm chart in deploy/helm/huaweicloud-job-exporter honest: Sync copies
// the repository's alerting rules and dashboards into the chart (Helm cannot read files outside the
// chart directory), and the tests render the chart with helm and decode every object into its typed
// Kubernetes or prometheus-operator struct.
//
// It is a module of its own so that k8s.io/api and prometheus-operator stay out of the exporter's go.mod.
package chartcheck

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ChartDir is the chart, relative to the repository root.
const ChartDir = "deploy/helm/huaweicloud-job-exporter"

// Copy is one set of generated files: every file of the repository matching Glob is copied, byte for
// byte, into the chart directory Into.
type Copy struct {
	Glob string // relative to the repository root
	Into string // relative to the repository root
}

// Copies are the chart's generated files. The repository's alerts/ and dashboards/ stay the one
// source of truth; the chart's files/ and dashboards/ hold nothing else.
var Copies = []Copy{
	{Glob: "alerts/*.rules.yml", Into: ChartDir + "/files"},
	{Glob: "dashboards/*.json", Into: ChartDir + "/dashboards"},
}

// Drift is one difference between a source and its copy in the chart.
type Drift struct {
	Path   string // the chart's copy, relative to the repository root
	Reason string
}

func (d Drift) String() string { return d.Path + ": " + d.Reason }

// Check compares the chart's copies with their sources under root and returns every difference: a
// copy that differs, a source without a copy, a copy without a source.
func Check(root string) ([]Drift, error) {
	return run(root, false)
}

// Sync makes the chart's copies equal to their sources under root (writing, and removing copies whose
// source is gone) and returns what it changed.
func Sync(root string) ([]Drift, error) {
	return run(root, true)
}

func run(root string, write bool) ([]Drift, error) {
	var drifts []Drift
	for _, c := range Copies {
		sources, err := filepath.Glob(filepath.Join(root, c.Glob))
		if err != nil {
			return nil, fmt.Errorf("glob %s: %w", c.Glob, err)
		}
		if len(sources) == 0 {
			return nil, fmt.Errorf("no file matches %s under %s", c.Glob, root)
		}
		pattern := filepath.Base(c.Glob)
		copies, err := filepath.Glob(filepath.Join(root, c.Into, pattern))
		if err != nil {
			return nil, fmt.Errorf("glob %s: %w", filepath.Join(c.Into, pattern), err)
		}
		want := map[string]bool{}
		for _, src := range sources {
			name := filepath.Base(src)
			want[name] = true
			dst := filepath.Join(root, c.Into, name)
			rel := filepath.ToSlash(filepath.Join(c.Into, name))
			srcBytes, err := os.ReadFile(src)
			if err != nil {
				return nil, err
			}
			dstBytes, err := os.ReadFile(dst)
			switch {
			case errors.Is(err, os.ErrNotExist):
				drifts = append(drifts, Drift{rel, "missing, source " + filepath.ToSlash(filepath.Join(filepath.Dir(c.Glob), name))})
			case err != nil:
				return nil, err
			case !bytes.Equal(srcBytes, dstBytes):
				drifts = append(drifts, Drift{rel, "differs from " + filepath.ToSlash(filepath.Join(filepath.Dir(c.Glob), name)) + firstDifference(srcBytes, dstBytes)})
			default:
				continue
			}
			if write {
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					return nil, err
				}
				if err := os.WriteFile(dst, srcBytes, 0o644); err != nil {
					return nil, err
				}
			}
		}
		for _, dst := range copies {
			if want[filepath.Base(dst)] {
				continue
			}
			drifts = append(drifts, Drift{filepath.ToSlash(filepath.Join(c.Into, filepath.Base(dst))), "no source in " + filepath.Dir(c.Glob)})
			if write {
				if err := os.Remove(dst); err != nil {
					return nil, err
				}
			}
		}
	}
	slices.SortFunc(drifts, func(a, b Drift) int { return strings.Compare(a.Path, b.Path) })
	return drifts, nil
}

// firstDifference names the first line where the copy differs, so a drift report points somewhere.
func firstDifference(src, dst []byte) string {
	s, d := strings.Split(string(src), "\n"), strings.Split(string(dst), "\n")
	for i := range min(len(s), len(d)) {
		if s[i] != d[i] {
			return fmt.Sprintf(" at line %d", i+1)
		}
	}
	return fmt.Sprintf(" in length (%d and %d lines)", len(s), len(d))
}
