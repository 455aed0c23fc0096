package config

import (
	"math"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// RateLimit caps the API requests of a project (one project id in one region): a token bucket of
// requests_per_second, holding up to burst. It keeps one busy project from spending the budget of the
// others; the adaptive limiter still slows down further when the cloud throttles. 0 requests/s: no cap.
type RateLimit struct {
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	Burst             int     `yaml:"burst,omitempty"`
}

// The default is an assumption, not a published number: Huawei documents no quota for the job query
// APIs (ECS/EVS/BMS/IMS), only that the gateway throttles with APIG.0308 "policy user over
// ratelimit,limit:XX,time:1 second" (docs "How Do I Handle the Error APIG.0308?"), and API Gateway's
// default throttling policy is 200 requests/s per API (APIG API reference, CreateRequestThrottlingPolicyV2,
// api_call_limits). Half of that leaves room for other tools of the same account, and still refreshes
// 1,000 unfinished jobs of one project within a 10 s scrape (200 at once, then 100/s). A lower default
// (say 20/s) would leave most of those jobs unrefreshed, scrape after scrape.
const (
	defaultRateLimitRPS   = 100
	defaultRateLimitBurst = 200
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
