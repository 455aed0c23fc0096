package huaweicloud

import (
	"context"
	"sync"
	"time"
)

// adaptiveLimiter paces the requests of one endpoint and access key after the cloud has said "too many".
//
// Huawei's gateway limits are per user and API and are not published (APIG.0308 names the limit only in
// its message), and a fixed client-side rate would either waste the budget or still hit it. So the
// limiter starts unlimited and, on the first throttled answer, drops to half the rate it was actually
// sending at (multiplicative decrease) and pauses for Retry-After; every good answer then raises the rate
// a little (additive increase, about +1 request/s per second), until it is fast enough to be switched off
// again. Under a steady limit the rate settles just below it, which keeps 429s to a trickle instead of
// one per concurrent query.
type adaptiveLimiter struct {
	mu         sync.Mutex
	rate       float64   // requests per second; 0 = unlimited
	next       time.Time // earliest start of the next request while limited
	pauseUntil time.Time
	decreased  time.Time // last multiplicative decrease
	window     [2]int    // requests sent in the current and the previous second, for the observed rate
	windowAt   time.Time
}

const (
	limiterMinRate = 0.5
	limiterMaxRate = 500 // above this the limiter switches itself off
)

// wait blocks until a request may start, or ctx ends.
func (l *adaptiveLimiter) wait(ctx context.Context, now func() time.Time, sleep func(context.Context, time.Duration) error) error {
	l.mu.Lock()
	t := now()
	l.count(t)
	start := t
	if start.Before(l.pauseUntil) {
		start = l.pauseUntil
	}
	if l.rate > 0 && start.Before(l.next) {
		start = l.next
	}
	// A request that could not start before its deadline must not take a slot: the slots it would
	// leave behind would hold back the next scrape's requests.
	if dl, ok := ctx.Deadline(); ok && start.After(dl) {
		l.mu.Unlock()
		return context.DeadlineExceeded
	}
	if l.rate > 0 {
		l.next = start.Add(time.Duration(float64(time.Second) / l.rate))
	}
	l.mu.Unlock()
	if d := start.Sub(t); d > 0 {
		return sleep(ctx, d)
	}
	return nil
}

// count keeps a two-second view of how many requests were sent.
func (l *adaptiveLimiter) count(t time.Time) {
	sec := t.Truncate(time.Second)
	switch {
	case sec.Equal(l.windowAt):
	case sec.Sub(l.windowAt) == time.Second:
		l.window = [2]int{0, l.window[0]}
		l.windowAt = sec
	default:
		l.window = [2]int{}
		l.windowAt = sec
	}
	l.window[0]++
}

func (l *adaptiveLimiter) throttled(t time.Time, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Clamped here too, whatever the caller read: one absurd Retry-After must not pause an endpoint
	// for days (see maxRetryAfter).
	retryAfter = min(retryAfter, maxRetryAfter)
	if retryAfter <= 0 {
		retryAfter = time.Second
	}
	if p := t.Add(retryAfter); p.After(l.pauseUntil) {
		l.pauseUntil = p
	}
	// The requests in flight when the limit was hit all come back throttled; they are one signal, not
	// one each, or the rate would collapse to the floor after a single burst.
	if !l.decreased.IsZero() && t.Sub(l.decreased) < time.Second {
		return
	}
	l.decreased = t
	observed := float64(l.window[0] + l.window[1])
	if l.windowAt.Equal(t.Truncate(time.Second)) {
		// Two windows cover between one and two seconds; the average is close enough.
		observed /= 1.5
	}
	rate := l.rate
	if rate == 0 || observed < rate {
		rate = observed
	}
	l.rate = max(rate/2, limiterMinRate)
}

func (l *adaptiveLimiter) succeeded() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rate == 0 {
		return
	}
	l.rate += 1 / l.rate
	if l.rate > limiterMaxRate {
		l.rate = 0
	}
}

// holding reports whether the limiter is pacing or pausing requests at t: a call that ran out of time
// then was held back by throttling.
func (l *adaptiveLimiter) holding(t time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rate > 0 || t.Before(l.pauseUntil)
}
