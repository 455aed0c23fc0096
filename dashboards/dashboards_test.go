package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const dsRef = "${datasource}"

func load(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return d
}

func TestDashboards(t *testing.T) {
	files, err := Files(".")
	if err != nil {
		t.Fatal(err)
	}
	uids := map[string]string{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			d := load(t, f)

			if v, _ := d["schemaVersion"].(float64); v < 36 {
				t.Errorf("schemaVersion %v, want >= 36", d["schemaVersion"])
			}
			if id, ok := d["id"]; !ok || id != nil {
				t.Errorf("id = %v, want null so that importing creates the dashboard", id)
			}
			uid, _ := d["uid"].(string)
			if uid == "" {
				t.Error("uid missing: links and provisioning need a fixed one")
			} else if other, dup := uids[uid]; dup {
				t.Errorf("uid %s also used by %s", uid, other)
			}
			uids[uid] = f
			if title, _ := d["title"].(string); title == "" {
				t.Error("title missing")
			}

			checkVariables(t, d)
			walkDatasources(t, d, "$")
			checkPanels(t, d)
		})
	}
}

func checkVariables(t *testing.T, d map[string]any) {
	t.Helper()
	templating, _ := d["templating"].(map[string]any)
	list, _ := templating["list"].([]any)
	vars := map[string]map[string]any{}
	for _, v := range list {
		v, _ := v.(map[string]any)
		name, _ := v["name"].(string)
		vars[name] = v
	}
	ds := vars["datasource"]
	if ds == nil || ds["type"] != "datasource" || ds["query"] != "prometheus" {
		t.Errorf("want a variable datasource of type datasource with query prometheus, got %v", ds)
	}
	chain := []string{"region", "project_id", "service", "job_type"}
	for i, name := range chain {
		v := vars[name]
		if v == nil {
			t.Errorf("variable %s missing", name)
			continue
		}
		if v["type"] != "query" || v["includeAll"] != true || v["multi"] != true || v["allValue"] != ".*" {
			t.Errorf("variable %s: want type query, includeAll, multi, allValue .*; got type %v includeAll %v multi %v allValue %v",
				name, v["type"], v["includeAll"], v["multi"], v["allValue"])
		}
		def, _ := v["definition"].(string)
		if !strings.HasPrefix(def, "label_values(huaweicloud_job_status") || !strings.HasSuffix(def, ", "+name+")") {
			t.Errorf("variable %s: definition %q, want label_values(huaweicloud_job_status..., %s)", name, def, name)
		}
		// Each variable is restricted by the ones before it.
		for _, prev := range chain[:i] {
			if !strings.Contains(def, fmt.Sprintf(`%s=~"$%s"`, prev, prev)) {
				t.Errorf("variable %s: definition %q does not filter by $%s", name, def, prev)
			}
		}
	}
}

// walkDatasources fails on any datasource reference other than the ${datasource} variable: a hard-coded
// UID breaks the dashboard on every other Grafana.
func walkDatasources(t *testing.T, v any, path string) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			p := path + "." + k
			if k == "datasource" {
				switch ds := c.(type) {
				case string:
					if ds != dsRef {
						t.Errorf("%s = %q, want %q", p, ds, dsRef)
					}
				case map[string]any:
					if ds["uid"] != dsRef || ds["type"] != "prometheus" {
						t.Errorf("%s = %v, want {type: prometheus, uid: %s}", p, ds, dsRef)
					}
				default:
					t.Errorf("%s = %v, want {type: prometheus, uid: %s}", p, c, dsRef)
				}
			}
			walkDatasources(t, c, p)
		}
	case []any:
		for i, c := range v {
			walkDatasources(t, c, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

var panelTypes = map[string]bool{"timeseries": true, "stat": true, "table": true, "bargauge": true, "row": true}

func checkPanels(t *testing.T, d map[string]any) {
	t.Helper()
	panels, _ := d["panels"].([]any)
	if len(panels) == 0 {
		t.Fatal("no panels")
	}
	ids := map[float64]string{}
	var walk func(panels []any)
	walk = func(panels []any) {
		for _, p := range panels {
			p, _ := p.(map[string]any)
			title, _ := p["title"].(string)
			typ, _ := p["type"].(string)
			name := fmt.Sprintf("panel %q", title)
			if !panelTypes[typ] {
				t.Errorf("%s: type %q, want one of timeseries, stat, table, bargauge, row", name, typ)
			}
			id, ok := p["id"].(float64)
			if !ok {
				t.Errorf("%s: no id", name)
			} else if other, dup := ids[id]; dup {
				t.Errorf("%s: id %v also used by %s", name, id, other)
			}
			ids[id] = name
			gp, _ := p["gridPos"].(map[string]any)
			if w, _ := gp["w"].(float64); w <= 0 {
				t.Errorf("%s: gridPos missing or without width", name)
			}
			if h, _ := gp["h"].(float64); h <= 0 {
				t.Errorf("%s: gridPos missing or without height", name)
			}
			if typ == "row" {
				sub, _ := p["panels"].([]any)
				walk(sub)
				continue
			}
			targets, _ := p["targets"].([]any)
			n := 0
			for _, tg := range targets {
				tg, _ := tg.(map[string]any)
				if expr, _ := tg["expr"].(string); strings.TrimSpace(expr) != "" {
					n++
					checkMatchers(t, name, expr)
				}
			}
			if n == 0 {
				t.Errorf("%s: no target with an expr", name)
			}
		}
	}
	walk(panels)
}

// Filters a selector of each kind of metric must carry, so that every panel follows the variables.
var (
	jobFilters   = []string{"region", "project_id", "service", "job_type"}
	queryFilters = []string{"region", "project_id", "service"} // query metrics have no job_type
	apiFilters   = []string{"region", "service"}               // exporter metrics by service and region
)

// filtersOf returns the variables a selector of metric must filter by, and false for a metric that is
// not in the contract (docs/architecture.md).
func filtersOf(metric string) ([]string, bool) {
	switch strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(metric, "_bucket"), "_sum"), "_count") {
	case "huaweicloud_job_status", "huaweicloud_job_start_timestamp_seconds", "huaweicloud_job_end_timestamp_seconds",
		"huaweicloud_job_duration_seconds", "huaweicloud_job_sub_jobs", "huaweicloud_job_sub_jobs_by_status",
		"huaweicloud_job_failures", "huaweicloud_job_failure_info":
		return jobFilters, true
	case "huaweicloud_job_query_success", "huaweicloud_job_last_query_timestamp_seconds":
		return queryFilters, true
	case "huaweicloud_job_exporter_api_requests_total", "huaweicloud_job_exporter_api_request_duration_seconds",
		"huaweicloud_job_exporter_job_query_failures_total", "huaweicloud_job_exporter_watched_jobs":
		return apiFilters, true
	case "huaweicloud_job_exporter_scrape_duration_seconds", "huaweicloud_job_exporter_config_last_reload_successful",
		"huaweicloud_job_exporter_config_last_reload_success_timestamp_seconds", "huaweicloud_job_exporter_discovery_refreshes_total",
		"huaweicloud_job_exporter_build_info":
		return nil, true
	}
	return nil, false
}

var selectorRE = regexp.MustCompile(`(huaweicloud_[a-z_]+)(\{[^}]*\})?`)

// checkMatchers checks that each huaweicloud_* selector of expr names a metric of the contract and
// filters by the variables that apply to it, as label=~"$label".
func checkMatchers(t *testing.T, panel, expr string) {
	t.Helper()
	for _, m := range selectorRE.FindAllStringSubmatch(expr, -1) {
		filters, ok := filtersOf(m[1])
		if !ok {
			t.Errorf("%s: %s is not a metric of docs/architecture.md", panel, m[1])
			continue
		}
		for _, f := range filters {
			if !strings.Contains(m[2], fmt.Sprintf(`%s=~"$%s"`, f, f)) {
				t.Errorf("%s: selector %s%s does not filter by %s=~\"$%s\"", panel, m[1], m[2], f, f)
			}
		}
	}
}

func TestQueries(t *testing.T) {
	q, err := Queries(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"huaweicloud-jobs-overview.json", "huaweicloud-job-exporter-health.json"} {
		if len(q[name]) == 0 {
			t.Errorf("Queries: no expressions for %s", name)
		}
		for _, e := range q[name] {
			s := Substitute(e)
			if strings.Contains(s, "$") {
				t.Errorf("Substitute(%q) = %q: a variable is left", e, s)
			}
		}
	}
}

func TestSubstitute(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`rate(x{region=~"$region", service=~"${service}"}[$__rate_interval])`, `rate(x{region=~".*", service=~".*"}[1m])`},
		{`x{project_id=~"$project_id", job_type=~"$job_type"}`, `x{project_id=~".*", job_type=~".*"}`},
		{`increase(x[$__range]) / avg_over_time(y[$__interval])`, `increase(x[5m]) / avg_over_time(y[15s])`},
		{`up{job="huaweicloud-jobs"}`, `up{job="huaweicloud-jobs"}`},
	} {
		if got := Substitute(tc.in); got != tc.want {
			t.Errorf("Substitute(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
