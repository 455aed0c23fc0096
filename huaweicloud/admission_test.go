package huaweicloud

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

// TestLateCallIsTimeoutNotThrottled: a call that reaches the gates after its deadline, while the adaptive
// limit is pacing, timed out: nothing held it back, and it is not sent. On the old code the limiter
// refused it as throttled (issue 22.9: 35 of 98 failures "throttled" with no 429 ever sent).
func TestLateCallIsTimeoutNotThrottled(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	g := newGateway(t, clock.Now, script(answer{status: 200, body: fixtureString(t, "ecs-init.json")}))
	c := newTestClient(WithClock(clock.Now), WithAdaptiveRateLimit())
	tg := g.target(ECS, goodCreds)
	// The limiter paces at 2/s: it is "holding".
	c.limiter(strings.TrimPrefix(g.srv.URL, "http://"), testAK).rate = 2
	ctx, cancel := context.WithDeadline(t.Context(), clock.Now().Add(-time.Millisecond))
	defer cancel()
	_, err := c.GetJob(ctx, tg, testJobID)
	if Reason(err) != ReasonTimeout || !Deferred(err) {
		t.Errorf("late call: %v (reason %q, deferred %v), want timeout, not sent", err, Reason(err), Deferred(err))
	}
	if g.count() != 0 {
		t.Errorf("%d requests, want none", g.count())
	}
}

// TestQuietKeyProbeCostsNoRoundTripItCannotAfford: a key that works and went quiet between two pulls is
// probed again, and the other requests wait for the probe's answer, unless that wait and their own
// round trip (as long as the key's latest success took) cannot end before their deadline: then they go at
// once. On the old code they always waited: at 2 s latency and a 2.5 s budget, one job of 50 refreshed.
func TestQuietKeyProbeCostsNoRoundTripItCannotAfford(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rtt        time.Duration
		budget     time.Duration
		goesAtOnce bool
	}{
		{"2s latency, 2.5s budget", 2 * time.Second, 2500 * time.Millisecond, true},
		{"20ms latency, 10s budget", 20 * time.Millisecond, 10 * time.Second, false},
		{"latency not known yet", 0, 2500 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient()
			now := time.Now()
			probe := make(chan struct{})
			c.keys[testAK] = &keyState{good: true, lastOK: now.Add(-10 * time.Second), rtt: tc.rtt, probe: probe}
			ctx, cancel := context.WithDeadline(t.Context(), now.Add(tc.budget))
			if !tc.goesAtOnce {
				cancel() // a request that waits for the probe returns only when its context ends
			}
			defer cancel()
			p, err := c.admit(ctx, testAK)
			if gotAtOnce := err == nil; gotAtOnce != tc.goesAtOnce {
				t.Fatalf("admit: %v, went at once %v, want %v", err, gotAtOnce, tc.goesAtOnce)
			}
			if err == nil && p.probe {
				t.Error("a second probe was sent")
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("waiting request: %v", err)
			}
		})
	}
}

// Test429StormBacksOffWithoutRateLimit: with the shipped defaults (no rate_limit, the adaptive limit on)
// a gateway that throttles everything is asked ever more slowly, not once per call: the adaptive limit
// learns the 429s and its pauses, not a fixed cap, hold the calls back.
func Test429StormBacksOffWithoutRateLimit(t *testing.T) {
	clock := fakeclock.New(time.Now())
	throttle := answer{status: 429, body: `{"error_code":"APIG.0308","error_msg":"policy user over ratelimit,limit:10,time:1 second"}`,
		header: map[string]string{"Retry-After": "1"}}
	g := newGateway(t, clock.Now, script(throttle))
	c := newTestClient(WithClock(clock.Now), WithAdaptiveRateLimit(), WithRetry(1, 0, 0))
	c.sleep = func(_ context.Context, d time.Duration) error { clock.Add(d); return nil }
	tg := g.target(ECS, goodCreds) // RateLimit zero: no fixed cap
	const calls = 100
	start := clock.Now()
	for range calls {
		if _, err := c.GetJob(t.Context(), tg, testJobID); Reason(err) != ReasonThrottled {
			t.Fatalf("call: %v, want throttled", err)
		}
	}
	// Each 429 pauses the endpoint for its Retry-After (1 s): at most about one request per second.
	if elapsed := clock.Now().Sub(start); elapsed < (calls-1)*time.Second {
		t.Errorf("%d calls against a gateway answering only 429 took %v, want at least %v: no back-off", calls, elapsed, (calls-1)*time.Second)
	}
	if g.count() != calls {
		t.Errorf("%d requests, want %d (one per call, no retries)", g.count(), calls)
	}
}
