package huaweicloud

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

// TestProjectRateLimit: every request of a project takes a token of its bucket, and a project's bucket is
// its own.
func TestProjectRateLimit(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	g := newGateway(t, clock.Now, script(answer{status: 200, body: fixtureString(t, "ecs-init.json")}))
	rec := &sleepRecorder{}
	c := newTestClient(WithClock(clock.Now))
	c.sleep = rec.sleep
	limited := g.target(ECS, goodCreds)
	limited.RateLimit = RateLimit{RequestsPerSecond: 2, Burst: 2}
	other := limited
	other.ProjectID = "fedcba9876543210fedcba9876543210"

	get := func(ctx context.Context, tg Target) {
		t.Helper()
		if _, err := c.GetJob(ctx, tg, testJobID); err != nil {
			t.Fatal(err)
		}
	}
	get(t.Context(), limited)
	get(t.Context(), limited) // the burst
	if len(rec.waits) != 0 {
		t.Fatalf("the burst waited %v", rec.waits)
	}
	get(t.Context(), limited) // the clock stands still: the next token is 0.5 s away
	get(t.Context(), other)   // another project: its own bucket
	if want := []time.Duration{500 * time.Millisecond}; !slices.Equal(rec.waits, want) {
		t.Fatalf("waits %v, want %v", rec.waits, want)
	}

	if g.count() != 4 {
		t.Errorf("%d requests, want 4", g.count())
	}
}

// TestProjectRateLimitRetryPays: a retry is a request too and takes a token.
func TestProjectRateLimitRetryPays(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	g := newGateway(t, clock.Now, script(answer{status: 500, body: `{"error":{"code":"Common.0002","message":"busy"}}`},
		answer{status: 200, body: fixtureString(t, "ecs-init.json")}))
	rec := &sleepRecorder{}
	c := newTestClient(WithClock(clock.Now), WithRetry(2, 0, 0))
	c.sleep = rec.sleep
	tg := g.target(ECS, goodCreds)
	tg.RateLimit = RateLimit{RequestsPerSecond: 1, Burst: 1}
	if _, err := c.GetJob(t.Context(), tg, testJobID); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rec.waits, time.Second) || g.count() != 2 {
		t.Errorf("waits %v, %d requests: want the retry to wait 1s for its token", rec.waits, g.count())
	}
}

// TestProjectRateLimitDeadline: a token that comes only after the deadline is refused at once, as
// throttled and not sent, without a request and without spending the token a later query can still use.
func TestProjectRateLimitDeadline(t *testing.T) {
	g := newGateway(t, nil, script(answer{status: 200, body: fixtureString(t, "ecs-init.json")}))
	rec := &sleepRecorder{}
	c := newTestClient()
	c.sleep = rec.sleep
	tg := g.target(ECS, goodCreds)
	tg.RateLimit = RateLimit{RequestsPerSecond: 0.001, Burst: 1} // one token per 1,000 s
	if _, err := c.GetJob(t.Context(), tg, testJobID); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for range 2 {
		_, err := c.GetJob(ctx, tg, testJobID)
		if Reason(err) != ReasonThrottled || !errors.Is(err, context.DeadlineExceeded) || !Deferred(err) {
			t.Errorf("err = %v (reason %q), want throttled by the deadline, not sent", err, Reason(err))
		}
	}
	if len(rec.waits) != 0 || g.count() != 1 {
		t.Errorf("waits %v, %d requests: a turn past the deadline was waited for or sent", rec.waits, g.count())
	}
	// The refused queries left the bucket as it was: the next turn is still about 1,000 s away, not 3,000.
	if _, err := c.GetJob(t.Context(), tg, testJobID); err != nil || len(rec.waits) != 1 || rec.waits[0] > 1000*time.Second {
		t.Errorf("next turn: %v, waits %v; want one wait of at most 1000s", err, rec.waits)
	}
}

// TestProjectRateLimitReload: new numbers apply to the existing bucket; zero turns the limit off.
func TestProjectRateLimitReload(t *testing.T) {
	var p projectLimiters
	tg := Target{Region: testRegion, ProjectID: testProject, RateLimit: RateLimit{RequestsPerSecond: 5, Burst: 10}}
	l := p.get(tg)
	tg.RateLimit = RateLimit{RequestsPerSecond: 1, Burst: 3}
	if l2 := p.get(tg); l2 != l || l.Limit() != 1 || l.Burst() != 3 {
		t.Errorf("after reload: limiter %p (was %p), %v/s burst %d; want the same one at 1/s burst 3", l2, l, l.Limit(), l.Burst())
	}
	tg.RateLimit = RateLimit{}
	if p.get(tg) != nil {
		t.Error("a zero rate limit still limits")
	}
}
