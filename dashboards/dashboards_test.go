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

			checkVariables(t, filepath.Base(f), d)
			walkDatasources(t, d, "$")
			checkPanels(t, filepath.Base(f), d)
		})
	}
}

// variableChains are the query variables of each dashboard after datasource, in order, with the metric
// their values come from: each is restricted by the ones before it. The overview's come from the job
// metrics; the health dashboard's from the exporter's own metrics, so that a region whose key never
// worked (no job series at all) is still selectable.
var variableChains = map[string]struct {
	names  []string
	metric string
}{
	"huaweicloud-jobs-overview.json":       {[]string{"job", "region", "project_id", "service", "job_type"}, "huaweicloud_job_status"},
	"huaweicloud-job-exporter-health.json": {[]string{"job", "instance", "region", "service"}, "huaweicloud_job_exporter_"},
}

func checkVariables(t *testing.T, file string, d map[string]any) {
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
	chain, ok := variableChains[file]
	if !ok {
		t.Fatalf("no variable expectations for %s", file)
	}
	if len(vars) != len(chain.names)+1 {
		t.Errorf("%d variables, want datasource and %v", len(vars), chain.names)
	}
	for i, name := range chain.names {
		v := vars[name]
		if v == nil {
			t.Errorf("variable %s missing", name)
			continue
		}
		def, _ := v["definition"].(string)
		if name == "job" {
			// The scrape job is one value, from the exporter's build_info: never "All", which would
			// also select every other scrape job's up series.
			if v["type"] != "query" || v["includeAll"] == true || v["multi"] == true || def != "label_values(huaweicloud_job_exporter_build_info, job)" {
				t.Errorf("variable job: want a single-value query on label_values(huaweicloud_job_exporter_build_info, job), got %v", v)
			}
			continue
		}
		if v["type"] != "query" || v["includeAll"] != true || v["multi"] != true || v["allValue"] != ".*" {
			t.Errorf("variable %s: want type query, includeAll, multi, allValue .*; got type %v includeAll %v multi %v allValue %v",
				name, v["type"], v["includeAll"], v["multi"], v["allValue"])
		}
		if !strings.HasPrefix(def, "label_values("+chain.metric) || !strings.HasSuffix(def, ", "+name+")") {
			t.Errorf("variable %s: definition %q, want label_values(%s..., %s)", name, def, chain.metric, name)
		}
		for _, prev := range chain.names[:i] {
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

func checkPanels(t *testing.T, file string, d map[string]any) {
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
				expr, _ := tg["expr"].(string)
				if strings.TrimSpace(expr) == "" {
					continue
				}
				n++
				checkMatchers(t, file, name, expr)
				checkExpr(t, file, name, typ, expr)
			}
			if n == 0 {
				t.Errorf("%s: no target with an expr", name)
			}
			checkUnits(t, name, p)
		}
	}
	walk(panels)
}

// Filters a selector of each kind of metric must carry, so that every panel follows the variables.
var filters = map[string]map[string][]string{
	"huaweicloud-jobs-overview.json": {
		"job":         {"job", "region", "project_id", "service", "job_type"},
		"query":       {"job", "region", "project_id", "service"}, // query metrics have no job_type
		"history":     {"job", "region", "project_id", "service", "job_type"},
		"exporter":    {"job"},
		"api":         {"job", "region", "service"},
		"credentials": {"job", "region", "project_id"},
	},
	"huaweicloud-job-exporter-health.json": {
		"job":         {"job", "instance", "region", "service"},
		"query":       {"job", "instance", "region", "service"},
		"api":         {"job", "instance", "region", "service"},
		"exporter":    {"job", "instance"},
		"credentials": {"job", "instance", "region"},
	},
}

// kindOf returns the kind of a metric of the contract (docs/architecture.md), "" for one that is not.
func kindOf(metric string) string {
	switch strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(metric, "_bucket"), "_sum"), "_count") {
	case "huaweicloud_job_status", "huaweicloud_job_start_timestamp_seconds", "huaweicloud_job_end_timestamp_seconds",
		"huaweicloud_job_duration_seconds", "huaweicloud_job_sub_jobs", "huaweicloud_job_sub_jobs_by_status",
		"huaweicloud_job_failures", "huaweicloud_job_failure_info", "huaweicloud_job_vanished", "huaweicloud_job_progress_ratio":
		return "job"
	case "huaweicloud_job_query_success", "huaweicloud_job_last_query_timestamp_seconds":
		return "query"
	case "huaweicloud_job_exporter_api_requests_total", "huaweicloud_job_exporter_api_request_duration_seconds",
		"huaweicloud_job_exporter_job_query_failures_total", "huaweicloud_job_exporter_watched_jobs",
		"huaweicloud_job_exporter_discovered_jobs_dropped_total", "huaweicloud_job_exporter_future_timestamps_clamped_total":
		return "api"
	case "huaweicloud_job_exporter_credentials_expiry_timestamp_seconds", "huaweicloud_job_exporter_credentials_refresh_failures_total":
		return "credentials"
	case "huaweicloud_job_exporter_scrape_duration_seconds", "huaweicloud_job_exporter_config_last_reload_successful",
		"huaweicloud_job_exporter_config_last_reload_success_timestamp_seconds", "huaweicloud_job_exporter_discovery_refreshes_total",
		"huaweicloud_job_exporter_discovery_last_success_timestamp_seconds", "huaweicloud_job_exporter_build_info",
		"huaweicloud_job_exporter_shard_info":
		return "exporter"
	case "huaweicloud_job_history_duration_seconds":
		return "history" // per job type, no job_id: de-duplicated by shard, not by job
	}
	return ""
}

var (
	selectorRE = regexp.MustCompile(`(huaweicloud_[a-z_]+|\bup|\bscrape_duration_seconds)(\{[^}]*\})?`)
	// A job series read without `max by (...)` around it counts a job twice when two exporters watch it.
	dedupRE = regexp.MustCompile(`max by \([^)]*\) \($`)
)

// checkMatchers checks that each selector of expr names a metric of the contract and filters by the
// variables that apply to it, as label=~"$label", and that job series are de-duplicated across exporters.
func checkMatchers(t *testing.T, file, panel, expr string) {
	t.Helper()
	for _, loc := range selectorRE.FindAllStringSubmatchIndex(expr, -1) {
		metric, matchers := expr[loc[2]:loc[3]], ""
		if loc[4] >= 0 {
			matchers = expr[loc[4]:loc[5]]
		}
		if metric == "up" || metric == "scrape_duration_seconds" {
			if !strings.Contains(matchers, `job=~"$job"`) {
				t.Errorf("%s: %s%s does not filter by job=~\"$job\"", panel, metric, matchers)
			}
			continue
		}
		kind := kindOf(metric)
		fs, ok := filters[file][kind]
		if !ok {
			t.Errorf("%s: %s is not a metric of docs/architecture.md (or not for this dashboard)", panel, metric)
			continue
		}
		for _, f := range fs {
			if !strings.Contains(matchers, fmt.Sprintf(`%s=~"$%s"`, f, f)) {
				t.Errorf("%s: selector %s%s does not filter by %s=~\"$%s\"", panel, metric, matchers, f, f)
			}
		}
		if (kind == "job" || kind == "query") && !dedupRE.MatchString(expr[:loc[0]]) {
			t.Errorf("%s: %s is not read through max by (...): two exporters would count each job twice", panel, metric)
		}
	}
}

// checkExpr checks what a dashboard must not do: hard-code the scrape job, paint zeros when the exporter
// is down (`or vector(0)`), or list unbounded tables.
func checkExpr(t *testing.T, file, panel, typ, expr string) {
	t.Helper()
	if strings.Contains(expr, "vector(") {
		t.Errorf("%s: %q: `or vector(0)` shows a green 0 while the exporter is down; use `or (0 * max(up{job=~\"$job\"} == 1))`", panel, expr)
	}
	if strings.Contains(expr, `job="`) {
		t.Errorf("%s: %q hard-codes the scrape job; use $job", panel, expr)
	}
	if (typ == "table" || typ == "bargauge") && !strings.Contains(expr, "topk(") {
		t.Errorf("%s: %q: tables and bar gauges are limited with topk", panel, expr)
	}
}

// checkUnits: counters of failures are not requests.
func checkUnits(t *testing.T, panel string, p map[string]any) {
	t.Helper()
	fc, _ := p["fieldConfig"].(map[string]any)
	defaults, _ := fc["defaults"].(map[string]any)
	unit, _ := defaults["unit"].(string)
	targets, _ := p["targets"].([]any)
	for _, tg := range targets {
		tg, _ := tg.(map[string]any)
		expr, _ := tg["expr"].(string)
		if strings.Contains(expr, "job_query_failures_total") && unit == "reqps" {
			ref, _ := tg["refId"].(string)
			overridden := false
			overrides, _ := fc["overrides"].([]any)
			for _, o := range overrides {
				o, _ := o.(map[string]any)
				m, _ := o["matcher"].(map[string]any)
				if m["id"] == "byFrameRefID" && m["options"] == ref {
					overridden = true
				}
			}
			if !overridden {
				t.Errorf("%s: failed queries shown in unit reqps", panel)
			}
		}
	}
}

// TestOverviewLayout checks what the person just paged needs: "Recent failures" first, newest first,
// with the reason and a runbook link; exporter-up and data-age right under it; batch progress only for
// unfinished jobs.
func TestOverviewLayout(t *testing.T) {
	d := load(t, "huaweicloud-jobs-overview.json")
	panels, _ := d["panels"].([]any)
	byTitle := map[string]map[string]any{}
	var top map[string]any
	for _, p := range panels {
		p, _ := p.(map[string]any)
		title, _ := p["title"].(string)
		byTitle[title] = p
		if gp, _ := p["gridPos"].(map[string]any); gp["y"] == 0.0 && gp["x"] == 0.0 {
			top = p
		}
	}
	if top == nil || top["title"] != "Recent failures" || top["type"] != "table" {
		t.Fatalf("top-left panel %v, want the Recent failures table", top["title"])
	}
	raw, _ := json.Marshal(top)
	for _, want := range []string{`"desc":true,"displayName":"Ended"`, `fail_reason`, `"runbook"`, `docs/runbook.md#huaweicloudjobfailed`, `${__value.text}`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("Recent failures lacks %s", want)
		}
	}
	for _, title := range []string{"Exporter up", "Oldest data of an unfinished job"} {
		p := byTitle[title]
		if p == nil {
			t.Errorf("panel %q missing", title)
			continue
		}
		if gp, _ := p["gridPos"].(map[string]any); gp["y"].(float64) > 9 {
			t.Errorf("panel %q at y=%v, want right under Recent failures", title, gp["y"])
		}
	}
	raw, _ = json.Marshal(byTitle["Batch progress (unfinished jobs)"])
	if !strings.Contains(string(raw), `status=~\"INIT|RUNNING\"`) {
		t.Error("Batch progress is not restricted to unfinished jobs")
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
		{`up{job=~"$job", instance=~"${instance}"}`, `up{job=~"huaweicloud-jobs", instance=~".*"}`},
		{`x{job_type=~"$job_type", job=~"${job}"}`, `x{job_type=~".*", job=~"huaweicloud-jobs"}`},
	} {
		if got := Substitute(tc.in); got != tc.want {
			t.Errorf("Substitute(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestOverviewCoverage: the overview answers "am I blind anywhere?" right under Recent failures (issue
// 18): one stat per mechanism that can leave jobs unwatched without a job failing: the exporter up,
// shards present against their count, temporary credentials' expiry and refresh failures, services
// denied or misrouted, discovery's age and the discovered jobs it dropped.
func TestOverviewCoverage(t *testing.T) {
	d := load(t, "huaweicloud-jobs-overview.json")
	panels, _ := d["panels"].([]any)
	for _, want := range []struct{ what, expr string }{
		{"exporter up", "up{"},
		{"shards present vs expected", "huaweicloud_job_exporter_shard_info{"},
		{"credentials expiry", "huaweicloud_job_exporter_credentials_expiry_timestamp_seconds{"},
		{"credentials refresh failures", "huaweicloud_job_exporter_credentials_refresh_failures_total{"},
		{"services with permission or endpoint errors", `reason=~"permission|endpoint"`},
		{"discovery age", "huaweicloud_job_exporter_discovery_last_success_timestamp_seconds{"},
		{"dropped discovered jobs", "huaweicloud_job_exporter_discovered_jobs_dropped_total{"},
	} {
		var found []string
		for _, p := range panels {
			p, _ := p.(map[string]any)
			gp, _ := p["gridPos"].(map[string]any)
			if y, _ := gp["y"].(float64); y > 13 || p["type"] != "stat" {
				continue
			}
			raw, _ := json.Marshal(p["targets"])
			var targets []Target
			_ = json.Unmarshal(raw, &targets)
			for _, tg := range targets {
				if strings.Contains(tg.Expr, want.expr) {
					found = append(found, fmt.Sprint(p["title"]))
				}
			}
		}
		if len(found) == 0 {
			t.Errorf("no stat panel in the band under Recent failures (y <= 13) shows %s (%s)", want.what, want.expr)
		}
	}
}
