package config

import (
	"math"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// RateLimit caps the API requests of a project (one project id in one region): a token bucket of
// requests_per_second, holding up to burst. 0 requests/s (the default): no fixed cap. It is for operators
// who know their quota; the adaptive limiter slows down when the cloud throttles, with or without it.
type RateLimit struct {
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	Burst             int     `yaml:"burst,omitempty"`
}

// The default is no fixed cap. Huawei publishes no quota for the job query APIs (ECS/EVS/BMS/IMS); the
// only published figure is API Gateway's default of 200 calls/s per API, per API and not per project
// (../shared/huawei-api.md, section F: the signing guide's error table), and the gateway says when a
// limit is hit (APIG.0308 "policy user over ratelimit", 429). So the pace comes from the cloud's own
// answers: the adaptive limiter halves the rate on the first 429 and climbs back slowly. Fairness
// between projects comes from the collector, which gives the shared workers to the projects in turn.
// A fixed default cap (it was 100/s per project) left a lone project with 1,000 unfinished jobs
// deadline-bound at 10 s a pull where it needs 1.3 s at 20 ms latency, and logged each held-back job.
const (
	defaultRateLimitRPS   = 0
	defaultRateLimitBurst = 0
	maxRateLimitRPS       = 100000
)

// UnmarshalYAML starts a rate_limit block from zero, so that a block giving only requests_per_second
// gets a burst derived from it (Validate), not the default's.
func (r *RateLimit) UnmarshalYAML(unmarshal func(any) error) error {
	*r = RateLimit{}
	type plain RateLimit
	return unmarshal((*plain)(r))
}

// ProjectRateLimit is the rate limit of project i: its own block, else the top-level one.
func (c *Config) ProjectRateLimit(i int) huaweicloud.RateLimit {
	r := c.RateLimit
	if i >= 0 && i < len(c.Projects) && c.Projects[i].RateLimit != nil {
		r = *c.Projects[i].RateLimit
	}
	return huaweicloud.RateLimit{RequestsPerSecond: r.RequestsPerSecond, Burst: r.Burst}
}

// rateLimit checks a rate_limit block and gives it a burst of two seconds' worth when it has none.
func (v *validator) rateLimit(path string, r *RateLimit) {
	if r.RequestsPerSecond < 0 || r.RequestsPerSecond > maxRateLimitRPS || math.IsNaN(r.RequestsPerSecond) {
		v.addf("%s.requests_per_second: must be between 0 (no limit) and %d (got %g)", path, maxRateLimitRPS, r.RequestsPerSecond)
		return
	}
	if r.Burst < 0 {
		v.addf("%s.burst: must be at least 1 (got %d)", path, r.Burst)
		return
	}
	if r.Burst == 0 && r.RequestsPerSecond > 0 {
		r.Burst = int(math.Ceil(2 * r.RequestsPerSecond))
	}
}
