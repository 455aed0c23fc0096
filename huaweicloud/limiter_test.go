package huaweicloud

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// fakeTime is a clock whose sleeps advance it, so pacing is checked exactly without waiting.
type fakeTime struct {
	now   time.Time
	slept []time.Duration
}

func (f *fakeTime) Now() time.Time { return f.now }
func (f *fakeTime) Sleep(_ context.Context, d time.Duration) error {
	f.slept = append(f.slept, d)
	f.now = f.now.Add(d)
	return nil
}

func TestAdaptiveLimiterUnlimitedUntilThrottled(t *testing.T) {
	ft := &fakeTime{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	var l adaptiveLimiter
	for range 100 {
		if err := l.wait(context.Background(), ft.Now, ft.Sleep); err != nil {
			t.Fatal(err)
		}
		l.succeeded()
	}
	if len(ft.slept) != 0 || l.rate != 0 {
		t.Fatalf("an unthrottled limiter must not pace: slept %v, rate %v", ft.slept, l.rate)
	}
}

func TestAdaptiveLimiterHalvesObservedRateAndPauses(t *testing.T) {
	ft := &fakeTime{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	var l adaptiveLimiter
	// 40 requests in the current second, then a 429 with Retry-After 2s.
	for range 40 {
		_ = l.wait(context.Background(), ft.Now, ft.Sleep)
	}
	l.throttled(ft.now, 2*time.Second)
	// Observed: 40 requests over the (1..2 s) window, averaged as 40/1.5; halved.
	want := 40 / 1.5 / 2
	if d := l.rate - want; d > 0.01 || d < -0.01 {
		t.Fatalf("rate after throttling = %.3f, want %.3f", l.rate, want)
	}
	// The next request waits for Retry-After, the one after it for 1/rate more.
	_ = l.wait(context.Background(), ft.Now, ft.Sleep)
	_ = l.wait(context.Background(), ft.Now, ft.Sleep)
	if len(ft.slept) != 2 || ft.slept[0] != 2*time.Second {
		t.Fatalf("sleeps %v, want [2s, 1/rate]", ft.slept)
	}
	if gap := time.Duration(float64(time.Second) / l.rate); ft.slept[1] != gap {
		t.Fatalf("second sleep %v, want %v", ft.slept[1], gap)
	}
}

func TestAdaptiveLimiterRecoversAndSwitchesOff(t *testing.T) {
	l := adaptiveLimiter{rate: 10}
	for range 10 {
		l.succeeded()
	}
	if l.rate <= 10.9 || l.rate >= 11.1 {
		t.Fatalf("10 successes at 10 req/s should add about 1 req/s, rate %.3f", l.rate)
	}
	l.rate = limiterMaxRate - 0.001
	l.succeeded()
	if l.rate != 0 {
		t.Fatalf("above %d req/s the limiter switches off, rate %.3f", limiterMaxRate, l.rate)
	}
}

func TestAdaptiveLimiterFloorAndDefaultPause(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	l := adaptiveLimiter{rate: 0.6}
	l.throttled(now, 0)
	if l.rate != limiterMinRate {
		t.Fatalf("rate %.3f, want the floor %.1f", l.rate, limiterMinRate)
	}
	if !l.pauseUntil.Equal(now.Add(time.Second)) {
		t.Fatalf("without Retry-After the pause is 1s, got until %v", l.pauseUntil)
	}
}

func TestAdaptiveLimiterGivesUpPastDeadline(t *testing.T) {
	start := time.Now()
	l := adaptiveLimiter{pauseUntil: start.Add(time.Hour)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := l.wait(ctx, time.Now, func(context.Context, time.Duration) error {
		t.Fatal("must not sleep past the deadline")
		return nil
	})
	if err != context.DeadlineExceeded {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestPacedQueryIsThrottled(t *testing.T) {
	err := fmt.Errorf("%w: %w", errPaced, context.DeadlineExceeded)
	if got := Reason(err); got != ReasonThrottled {
		t.Fatalf("Reason = %q, want %q", got, ReasonThrottled)
	}
}

func TestAdaptiveLimiterOneDecreasePerSecond(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	l := adaptiveLimiter{rate: 16, window: [2]int{24, 0}, windowAt: now.Truncate(time.Second)}
	for range 16 { // a burst in flight comes back throttled
		l.throttled(now, time.Second)
	}
	if l.rate != 8 {
		t.Fatalf("rate %.3f after one burst of 429s, want 8 (one halving)", l.rate)
	}
	l.throttled(now.Add(1500*time.Millisecond), time.Second)
	if l.rate != 4 {
		t.Fatalf("rate %.3f after a 429 a second later, want 4", l.rate)
	}
}

func TestAdaptiveLimiterGiveUpTakesNoSlot(t *testing.T) {
	now := time.Now()
	l := adaptiveLimiter{rate: 1, next: now.Add(30 * time.Second)}
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(10*time.Second))
	defer cancel()
	for range 5 {
		if err := l.wait(ctx, func() time.Time { return now }, func(context.Context, time.Duration) error { return nil }); err != context.DeadlineExceeded {
			t.Fatalf("err = %v, want DeadlineExceeded", err)
		}
	}
	if !l.next.Equal(now.Add(30 * time.Second)) {
		t.Fatalf("next slot moved to %v by requests that gave up", l.next.Sub(now))
	}
}
