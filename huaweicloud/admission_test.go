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
