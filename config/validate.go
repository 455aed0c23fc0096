package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// Limits of the validated settings.
const (
	maxTimeout     = 5 * time.Minute
	maxConcurrency = 1024
	minFinalJobTTL = time.Minute
	// maxWatchedJobs: ten times the largest load measured (100,000 jobs, 184 MiB); past it is a typo.
	maxWatchedJobs = 1000000
	minCTSInterval = 10 * time.Second
	maxCTSInterval = 15 * time.Minute
	minCTSLookback = time.Minute
	// maxCTSLookback is the job retention, not CTS' 7 days of traces: ECS deletes SUCCESS and FAIL jobs
	// "one day later" (ECS API reference, "Querying Job Execution Status", GET
	// /v1/{project_id}/jobs/{job_id}, status field). An older trace names a job the API has most likely forgotten, and
	// each such id costs a query that can only answer "not found". EVS, BMS and IMS document no retention;
	// the ECS figure is the one documented.
	maxCTSLookback = 24 * time.Hour
)

// The names a config may use, from the service table (huaweicloud/services.go): job services for
// jobs[].service and cts.services, those and cts for endpoints.
var (
	validServices      = huaweicloud.ServiceNames()
	validEndpointNames = validServices + ", " + string(huaweicloud.CTS)
)

var (
	// Region ids in the official SDK's region tables: cn-north-4, ap-southeast-1, eu-west-101, my-kualalumpur-1.
	regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+)+$`)
	// Project ids are UUIDs without dashes, lower-case.
	projectIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// Validate checks the whole configuration and reports every problem at once, each naming its field
// ("projects[1].region: required"), joined with "; ". It also normalises c in place, so that later code
// compares like with like: service names are lower-cased and endpoint URLs lose a trailing slash.
func (c *Config) Validate() error {
	var v validator
	if c.Credentials != nil {
		v.credentials("credentials", c.Credentials)
	}
	if c.Timeout <= 0 || time.Duration(c.Timeout) > maxTimeout {
		v.addf("timeout: must be greater than 0 and at most 5m (got %s)", human(c.Timeout))
	}
	if c.Concurrency < 1 || c.Concurrency > maxConcurrency {
		v.addf("concurrency: must be between 1 and %d (got %d)", maxConcurrency, c.Concurrency)
	}
	if c.MinQueryInterval < 0 {
		v.addf("min_query_interval: must not be negative (got %s)", human(c.MinQueryInterval))
	}
	if d := time.Duration(c.PendingPaymentQueryInterval); d < time.Second || d > 24*time.Hour {
		v.addf("pending_payment_query_interval: must be between 1s and 24h (got %s)", human(c.PendingPaymentQueryInterval))
	}
	if c.MaxWatchedJobs < 0 || c.MaxWatchedJobs > maxWatchedJobs {
		v.addf("max_watched_jobs: must be between 0 (no cap) and %d (got %d)", maxWatchedJobs, c.MaxWatchedJobs)
	}
	if time.Duration(c.FinalJobTTL) < minFinalJobTTL {
		v.addf("final_job_ttl: must be at least 1m (got %s)", human(c.FinalJobTTL))
	}
	v.rateLimit("rate_limit", &c.RateLimit)
	if err := c.HTTPClient.TLSConfig.Validate(); err != nil {
		v.addf("http_client: %s", err)
	}
	if err := c.HTTPClient.ProxyConfig.Validate(); err != nil {
		v.addf("http_client: %s", err)
	}
	if len(c.Projects) == 0 {
		v.addf("projects: at least one project is required")
	}
	type key struct{ region, projectID string }
	seen := map[key]int{}
	for i := range c.Projects {
		p := &c.Projects[i]
		v.project(fmt.Sprintf("projects[%d]", i), p)
		if p.Region == "" || p.ProjectID == "" {
			continue
		}
		k := key{p.Region, p.ProjectID}
		if j, ok := seen[k]; ok {
			v.addf("projects[%d]: duplicate of projects[%d] (same region and project_id)", i, j)
			continue
		}
		seen[k] = i
	}
	return v.err()
}

type validator struct{ problems []string }

func (v *validator) addf(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(v.problems, "; "))
}

// credentials is in credentials.go, with the sources it checks.

func (v *validator) project(path string, p *Project) {
	switch {
	case p.Region == "":
		v.addf("%s.region: required", path)
	case !regionRE.MatchString(p.Region):
		v.addf("%s.region: not a Huawei Cloud region id (lower-case, like cn-north-4 or ap-southeast-1)", path)
	default:
		// A typo would send every query to a host that does not exist; endpoints set for the project
		// (a private cloud with its own region names) leave the name to the operator.
		if k, sure := regionTypo(p.Region); sure && len(p.Endpoints) == 0 {
			v.addf("%s.region: not a known region: did you mean %s?", path, k)
		}
	}
	switch {
	case p.ProjectID == "":
		v.addf("%s.project_id: required", path)
	case !projectIDRE.MatchString(p.ProjectID):
		v.addf("%s.project_id: not a project id (expected 32 lower-case hex characters)", path)
	}
	if p.Credentials != nil {
		v.credentials(path+".credentials", p.Credentials)
	}
	v.endpoints(path+".endpoints", p.Endpoints)
	if p.RateLimit != nil {
		v.rateLimit(path+".rate_limit", p.RateLimit)
	}

	type key struct {
		service huaweicloud.Service
		id      string
	}
	seen := map[key]int{}
	for j := range p.Jobs {
		job := &p.Jobs[j]
		jp := fmt.Sprintf("%s.jobs[%d]", path, j)
		ok := v.service(jp+".service", &job.Service)
		switch {
		case job.ID == "":
			v.addf("%s.id: required", jp)
			ok = false
		case !huaweicloud.ValidJobID(job.ID):
			v.addf("%s.id: not a job id (1 to 128 of A-Z a-z 0-9 . _ -)", jp)
			ok = false
		}
		if !ok {
			continue
		}
		k := key{job.Service, job.ID}
		if first, dup := seen[k]; dup {
			v.addf("%s: duplicate of jobs[%d]", jp, first)
			continue
		}
		seen[k] = j
	}

	discovering := len(p.Discovery.Files) > 0
	if cts := p.Discovery.CTS; cts != nil {
		v.cts(path+".discovery.cts", cts)
		discovering = discovering || cts.Enabled
	}
	for j, g := range p.Discovery.Files {
		// filepath.Match reports a malformed pattern whatever the name, and only a malformed one.
		if _, err := filepath.Match(g, ""); err != nil || g == "" {
			v.addf("%s.discovery.files[%d]: invalid glob", path, j)
		}
	}
	if len(p.Jobs) == 0 && !discovering {
		v.addf("%s: no jobs and no discovery: nothing to watch", path)
	}
}

// service checks a job service name and canonicalises it (ParseService accepts any case).
func (v *validator) service(path string, s *huaweicloud.Service) bool {
	if *s == "" {
		v.addf("%s: required", path)
		return false
	}
	parsed, err := huaweicloud.ParseService(string(*s))
	if err != nil {
		v.addf("%s: unknown service (valid: %s)", path, validServices)
		return false
	}
	*s = parsed
	return true
}

func (v *validator) endpoints(path string, endpoints map[string]string) {
	keys := make([]string, 0, len(endpoints))
	for k := range endpoints {
		keys = append(keys, k)
	}
	slices.Sort(keys) // map order is random; messages must not be
	for _, k := range keys {
		if _, ok := huaweicloud.Spec(huaweicloud.Service(k)); !ok {
			v.addf("%s: unknown service %q (valid: %s)", path, k, validEndpointNames)
			continue
		}
		raw := strings.TrimRight(endpoints[k], "/")
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" ||
			strings.ContainsAny(raw, "?#") {
			v.addf("%s.%s: not an endpoint (expected http(s)://host[:port], no user info, path, query or fragment)", path, k)
			continue
		}
		endpoints[k] = raw
	}
}

func (v *validator) cts(path string, c *CTSDiscovery) {
	// At most 15m: a job is paged only once discovery has found it, and HuaweiCloudJobExporterDiscoveryFailing
	// fires when a source has not succeeded for 30 minutes, which must stay two runs at least.
	if d := time.Duration(c.Interval); d < minCTSInterval || d > maxCTSInterval {
		v.addf("%s.interval: must be between 10s and 15m (got %s)", path, human(c.Interval))
	}
	if l := time.Duration(c.Lookback); l < minCTSLookback || l > maxCTSLookback {
		v.addf("%s.lookback: must be between 1m and 24h, the time jobs are kept after they end (got %s)", path, human(c.Lookback))
	}
	if len(c.Services) == 0 {
		v.addf("%s.services: at least one service is required", path)
	}
	seen := map[huaweicloud.Service]int{}
	for j := range c.Services {
		sp := fmt.Sprintf("%s.services[%d]", path, j)
		if !v.service(sp, &c.Services[j]) {
			continue
		}
		if first, dup := seen[c.Services[j]]; dup {
			v.addf("%s: duplicate of services[%d]", sp, first)
			continue
		}
		seen[c.Services[j]] = j
	}
}

// human prints a duration the way limits are written here ("168h", "1m30s"); model.Duration would print
// 192h as "1w1d", a unit the limits never use.
func human(d model.Duration) string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Warnings lists what is valid but probably wrong, for --config.check and the start-up log: a region
// that the official SDK's region table of a service does not list has a default endpoint built from the
// usual pattern, which may not exist (Huawei adds regions faster than a table follows, so this is not an
// error). An endpoint override silences the warning for its service. ECS, EVS, BMS and IMS are always
// checked (as before the service table grew); the other services only where the project names them
// (jobs, cts.services): SDRS exists in 7 regions, and a project that never uses it must not be warned.
func (c *Config) Warnings() []string {
	var out []string
	for i, p := range c.Projects {
		used := map[huaweicloud.Service]bool{huaweicloud.ECS: true, huaweicloud.EVS: true, huaweicloud.BMS: true, huaweicloud.IMS: true}
		for _, j := range p.Jobs {
			used[j.Service] = true
		}
		if p.Discovery.CTS != nil && p.Discovery.CTS.Enabled {
			used[huaweicloud.CTS] = true
			for _, s := range p.Discovery.CTS.Services {
				used[s] = true
			}
		}
		var unknown []string
		for _, s := range huaweicloud.EndpointServices {
			if !used[s] {
				continue
			}
			if e := p.Endpoints[string(s)]; e == "" && !huaweicloud.KnownRegion(s, p.Region) {
				unknown = append(unknown, string(s))
			}
		}
		if len(unknown) > 0 {
			var mean string
			if k, _ := regionTypo(p.Region); k != "" {
				mean = " (did you mean " + k + "?)"
			}
			out = append(out, fmt.Sprintf("projects[%d].region: %q is not in the official SDK's region table of %s%s; "+
				"the default endpoint (e.g. %s) may not exist: set projects[%d].endpoints if it does not answer",
				i, p.Region, strings.Join(unknown, ", "), mean, huaweicloud.DefaultEndpoint(huaweicloud.Service(unknown[0]), p.Region), i))
		}
		if p.ProjectID == PlaceholderProjectID && len(p.Endpoints) == 0 {
			// Queries would go to Huawei Cloud for a project of no account and be denied.
			out = append(out, fmt.Sprintf("projects[%d].project_id: %s is the example's placeholder: put the id of your project "+
				"in %s (console: My Credentials > API Credentials; Huawei's \"Obtaining a Project ID\")", i, p.ProjectID, p.Region))
		}
	}
	return out
}
