package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Panel is the part of a Grafana panel this package reads. Rows of schema 39 keep collapsed panels in
// Panels.
type Panel struct {
	ID      int      `json:"id"`
	Type    string   `json:"type"`
	Title   string   `json:"title"`
	Targets []Target `json:"targets"`
	Panels  []Panel  `json:"panels"`
}

// Target is a query of a panel.
type Target struct {
	RefID   string `json:"refId"`
	Expr    string `json:"expr"`
	Instant bool   `json:"instant"`
}

type dashboard struct {
	Panels []Panel `json:"panels"`
}

// Files returns the dashboard files (*.json) of dir, sorted.
func Files(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no dashboards (*.json) in %s", dir)
	}
	sort.Strings(files)
	return files, nil
}

// Panels returns the panels of every dashboard of dir (rows followed by their panels), keyed by the
// dashboard's file name (without directory), in panel order.
func Panels(dir string) (map[string][]Panel, error) {
	files, err := Files(dir)
	if err != nil {
		return nil, err
	}
	out := map[string][]Panel{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		out[filepath.Base(f)] = flatten(d.Panels)
	}
	return out, nil
}

// Queries returns the PromQL expressions of every panel target of every dashboard of dir, keyed by the
// dashboard's file name (without directory), in panel order. Expressions still hold Grafana variables;
// see Substitute.
func Queries(dir string) (map[string][]string, error) {
	panels, err := Panels(dir)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for f, ps := range panels {
		var exprs []string
		for _, p := range ps {
			for _, t := range p.Targets {
				if strings.TrimSpace(t.Expr) != "" {
					exprs = append(exprs, t.Expr)
				}
			}
		}
		out[f] = exprs
	}
	return out, nil
}

// flatten returns the panels with the panels of rows after their row.
func flatten(panels []Panel) []Panel {
	var out []Panel
	for _, p := range panels {
		out = append(out, p)
		out = append(out, flatten(p.Panels)...)
	}
	return out
}

// substitutions are the values Substitute gives Grafana's variables: "All" for the template variables
// (their allValue is ".*") and fixed intervals for the built-ins. Longer names come first so that a
// name is never replaced by the value of its prefix.
var substitutions = strings.NewReplacer(
	"${__rate_interval}", "1m", "$__rate_interval", "1m",
	"${__interval}", "15s", "$__interval", "15s",
	"${__range}", "5m", "$__range", "5m",
	"${project_id}", ".*", "$project_id", ".*",
	"${job_type}", ".*", "$job_type", ".*",
	"${job}", "huaweicloud-jobs", "$job", "huaweicloud-jobs",
	"${instance}", ".*", "$instance", ".*",
	"${service}", ".*", "$service", ".*",
	"${region}", ".*", "$region", ".*",
)

// Substitute replaces the Grafana variables of a dashboard query the way Grafana would with every
// template variable on "All" and a 15s scrape interval, so that the result is plain PromQL:
// $region, $project_id, $service, $job_type, $instance -> .*; $job (the scrape job, a single value) ->
// huaweicloud-jobs, the job name of examples/prometheus.yml; $__rate_interval -> 1m; $__range -> 5m;
// $__interval -> 15s (also in the ${name} form).
func Substitute(expr string) string {
	return substitutions.Replace(expr)
}
