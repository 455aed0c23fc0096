package huaweicloud

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/time/rate"
)

// RateLimit is a token bucket: RequestsPerSecond on average, Burst at once. A zero RequestsPerSecond
// means no client-side limit (the adaptive limiter still slows down once the cloud throttles).
type RateLimit struct {
	RequestsPerSecond float64
	Burst             int
}

// projectKey is the unit of a configured rate limit: one project in one region. Huawei's gateway counts
// per user and API and does not publish the numbers (see adaptiveLimiter), so the configured limit is
// the operator's budget, and its unit is what an operator thinks in: "this project may have 20/s".
type projectKey struct{ region, project string }

// projectLimiters holds the token bucket of every (region, project) seen, kept across reloads: a reload
// that changes the numbers updates the bucket instead of refilling it.
type projectLimiters struct {
	mu sync.Mutex
	m  map[projectKey]*rate.Limiter
}

func (p *projectLimiters) get(t Target) *rate.Limiter {
	if t.RateLimit.RequestsPerSecond <= 0 {
		return nil
	}
	burst := max(t.RateLimit.Burst, 1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[projectKey]*rate.Limiter{}
	}
	k := projectKey{t.Region, t.ProjectID}
	l := p.m[k]
	switch {
	case l == nil:
		l = rate.NewLimiter(rate.Limit(t.RateLimit.RequestsPerSecond), burst)
		p.m[k] = l
	case l.Limit() != rate.Limit(t.RateLimit.RequestsPerSecond) || l.Burst() != burst:
		l.SetLimit(rate.Limit(t.RateLimit.RequestsPerSecond))
		l.SetBurst(burst)
	}
	return l
}

// pace takes one token of lim, sleeping for it if it is not there yet.
func (c *Client) pace(ctx context.Context, lim *rate.Limiter) error {
	now := c.now()
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return fmt.Errorf("%w: burst below one request", errPaced)
	}
	d := r.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && now.Add(d).After(dl) {
		r.CancelAt(now)
		return fmt.Errorf("%w: the project's rate_limit has no room before the deadline: %w", errPaced, context.DeadlineExceeded)
	}
	if err := c.sleep(ctx, d); err != nil {
		r.CancelAt(c.now())
		return fmt.Errorf("%w: waiting for the project's rate_limit: %w", errPaced, err)
	}
	return nil
}
