package alerts

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"go.yaml.in/yaml/v3"
)

// FilePattern matches the rule files of a directory; test files live in tests/ and do not match.
const FilePattern = "*.rules.yml"

// Group is a rule group of a Prometheus rule file.
type Group struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Limit    int    `yaml:"limit,omitempty"`
	Rules    []Rule `yaml:"rules"`
}

// Rule is an alerting or recording rule, with the fields Prometheus 2.42 accepts.
type Rule struct {
	Alert         string            `yaml:"alert,omitempty"`
	Record        string            `yaml:"record,omitempty"`
	Expr          string            `yaml:"expr"`
	For           string            `yaml:"for,omitempty"`
	KeepFiringFor string            `yaml:"keep_firing_for,omitempty"`
	Labels        map[string]string `yaml:"labels,omitempty"`
	Annotations   map[string]string `yaml:"annotations,omitempty"`
}

type ruleFile struct {
	Groups []Group `yaml:"groups"`
}

// Files returns the rule files of dir, sorted.
func Files(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, FilePattern))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no %s files in %s", FilePattern, dir)
	}
	sort.Strings(files)
	return files, nil
}

// Groups reads the rule groups of every rule file of dir. Decoding is strict: an unknown key (a typo
// Prometheus would reject) is an error.
func Groups(dir string) ([]Group, error) {
	files, err := Files(dir)
	if err != nil {
		return nil, err
	}
	var groups []Group
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var rf ruleFile
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&rf); err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		if len(rf.Groups) == 0 {
			return nil, fmt.Errorf("parse %s: no rule groups", f)
		}
		groups = append(groups, rf.Groups...)
	}
	return groups, nil
}

// Expressions returns the PromQL expression of every alert of the rule files of dir, by alert name.
// An alert name defined twice is an error: the map could only keep one of them.
func Expressions(dir string) (map[string]string, error) {
	return expressions(dir, func(r Rule) string { return r.Alert }, "alert")
}

// RecordingRules returns the PromQL expression of every recording rule of the rule files of dir, by
// the name of the series it records. A name recorded twice is an error.
func RecordingRules(dir string) (map[string]string, error) {
	return expressions(dir, func(r Rule) string { return r.Record }, "recording rule")
}

func expressions(dir string, name func(Rule) string, kind string) (map[string]string, error) {
	groups, err := Groups(dir)
	if err != nil {
		return nil, err
	}
	exprs := map[string]string{}
	for _, g := range groups {
		for _, r := range g.Rules {
			n := name(r)
			if n == "" {
				continue
			}
			if _, dup := exprs[n]; dup {
				return nil, fmt.Errorf("%s %s defined more than once", kind, n)
			}
			exprs[n] = r.Expr
		}
	}
	return exprs, nil
}

// SelectorRecord is the recording rule that names the exporter's scrape job, the one place to change
// it (the monitoring-mixin selector). Every other rule reads the exporter's own metrics or this series.
const SelectorRecord = "huaweicloud_job_exporter:up"

var scrapeJobRE = regexp.MustCompile(`\bup\{job="([^"]+)"\}`)

// ScrapeJob returns the scrape job the rules of dir select, read from SelectorRecord: every `up`
// selector of that rule must name the same job.
func ScrapeJob(dir string) (string, error) {
	records, err := RecordingRules(dir)
	if err != nil {
		return "", err
	}
	expr, ok := records[SelectorRecord]
	if !ok {
		return "", fmt.Errorf("no recording rule %s in %s", SelectorRecord, dir)
	}
	var job string
	for _, m := range scrapeJobRE.FindAllStringSubmatch(expr, -1) {
		if job != "" && m[1] != job {
			return "", fmt.Errorf("%s selects two scrape jobs, %q and %q", SelectorRecord, job, m[1])
		}
		job = m[1]
	}
	if job == "" {
		return "", fmt.Errorf("%s has no up{job=\"...\"} selector: %s", SelectorRecord, expr)
	}
	return job, nil
}

var metricNameRE = regexp.MustCompile(`\bhuaweicloud_[a-z0-9_:]*[a-z0-9_]`)

// MetricNames returns the huaweicloud_* metric names an expression reads, recorded series
// (huaweicloud_job:...) included, each once, in order of appearance.
func MetricNames(expr string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range metricNameRE.FindAllString(expr, -1) {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}
