package huaweicloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

const revokedBody = `{"error_code":"APIG.0301","error_msg":"Incorrect IAM authentication information: ak not exist"}`

// revocable answers jobs until revoke is called, then 401 APIG.0301 like the gateway for a deleted key,
// and records when (on the fake clock) each 401 was answered.
type revocable struct {
	clock   *fakeclock.Clock
	body    string
	revoked atomic.Bool
	mu      sync.Mutex
	fails   []time.Time
}

func (r *revocable) respond(w http.ResponseWriter, _ *http.Request, _ int) {
	if r.revoked.Load() {
		r.mu.Lock()
		r.fails = append(r.fails, r.clock.Now())
		r.mu.Unlock()
		answer{status: 401, body: revokedBody}.write(w)
		return
	}
	answer{status: 200, body: r.body}.write(w)
}

func (r *revocable) failures() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.fails)
}

// scrape runs n concurrent GetJob calls, as one scrape of the collector does, and returns their errors.
func scrape(c *Client, tg Target, n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.GetJob(context.Background(), tg, fmt.Sprintf("%032x", i))
		}()
	}
	wg.Wait()
	return errs
}

// TestRevokedKeyInvariant: a key that worked is revoked between two scrapes; several scrapers with 64
// concurrent queries each keep scraping every 10 s for 15 minutes. The gateway must see at most two
// authentication failures of the key in any five minutes: the first request of a scrape after a quiet
// spell probes the key alone, and the gate closed by its failure holds everything else.
func TestRevokedKeyInvariant(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	rv := &revocable{clock: clock, body: fixtureString(t, "ecs-init.json")}
	g := newGateway(t, clock.Now, rv.respond)
	c := newTestClient(WithClock(clock.Now), WithAuthBackoff(time.Minute, 15*time.Minute))
	tg := g.target(ECS, goodCreds)

	for _, err := range scrape(c, tg, 64) {
		if err != nil {
			t.Fatalf("healthy scrape: %v", err)
		}
	}
	rv.revoked.Store(true)
	const scrapers = 3
	var reasons = map[string]int{}
	for tick := 0; tick < 15*6; tick++ {
		clock.Add(10 * time.Second)
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range scrapers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, err := range scrape(c, tg, 64) {
					mu.Lock()
					reasons[Reason(err)]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	fails := rv.failures()
	if len(fails) == 0 {
		t.Fatal("the revoked key was never tried again")
	}
	violations := 0
	for i := 2; i < len(fails); i++ {
		if d := fails[i].Sub(fails[i-2]); d < authWindow {
			if violations == 0 {
				t.Errorf("failures %d and %d at %v and %v: three within five minutes", i-2, i, fails[i-2], fails[i])
			}
			violations++
		}
	}
	if violations > 0 {
		t.Errorf("%d failures in 15 minutes, %d of them the third in five minutes", len(fails), violations)
	}
	if reasons[ReasonAuth] != len(fails) || reasons[ReasonAuth]+reasons[ReasonAuthBackoff] != 15*6*scrapers*64 {
		t.Errorf("reasons %v for %d failures at the gateway", reasons, len(fails))
	}
	t.Logf("%d failures in 15 minutes, the first at %v, the last at %v", len(fails), fails[0], fails[len(fails)-1])
}

// TestRevokedKeyStopsWaitingRequests: requests of a working key that are admitted but not yet sent
// (here: waiting to retry a 503) stop at the first 401 of another request instead of each collecting
// their own. On the old code all 64 retried into the revoked key.
func TestRevokedKeyStopsWaitingRequests(t *testing.T) {
	const n = 64
	var revoked atomic.Bool
	var fails atomic.Int32
	job := fixtureString(t, "ecs-init.json")
	g := newGateway(t, nil, func(w http.ResponseWriter, _ *http.Request, k int) {
		switch {
		case revoked.Load():
			fails.Add(1)
			answer{status: 401, body: revokedBody}.write(w)
		case k == 1:
			answer{status: 200, body: job}.write(w)
		default:
			answer{status: 503, body: `{"error":{"code":"Common.0503","message":"busy"}}`}.write(w)
		}
	})
	c := newTestClient(WithRetry(2, time.Millisecond, time.Millisecond))
	sleeping := make(chan struct{}, n)
	release := make(chan struct{})
	c.sleep = func(ctx context.Context, _ time.Duration) error {
		sleeping <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	tg := g.target(ECS, goodCreds)
	if _, err := c.GetJob(t.Context(), tg, testJobID); err != nil {
		t.Fatalf("proving the key: %v", err)
	}
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := c.GetJob(context.Background(), tg, testJobID)
			errs <- err
		}()
	}
	for range n { // all got their 503 and wait to retry
		select {
		case <-sleeping:
		case <-time.After(10 * time.Second):
			t.Fatal("the calls did not reach their retry")
		}
	}
	revoked.Store(true)
	if _, err := c.GetJob(t.Context(), tg, testJobID); Reason(err) != ReasonAuth {
		t.Fatalf("the call that meets the revocation: %v", err)
	}
	close(release)
	sent := 0
	for range n {
		if err := <-errs; !errors.Is(err, ErrAuthBackoff) {
			if sent == 0 {
				t.Errorf("waiting call: %v, want ErrAuthBackoff without a request", err)
			}
			sent++
		}
	}
	if sent > 0 {
		t.Errorf("%d of %d waiting calls went on to the gateway", sent, n)
	}
	if got := fails.Load(); got != 1 {
		t.Errorf("%d authentication failures at the gateway, want 1", got)
	}
}

// TestPermissionDenialIsScoped: a 403 of one service (or project) of a key backs off that service and
// project only; the key keeps working for the others, and nothing reads as an authentication failure.
// On the old code the 403 backed the whole key off and ECS failed with auth_backoff.
func TestPermissionDenialIsScoped(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	job := fixtureString(t, "ecs-init.json")
	var evsDenied atomic.Bool
	evsDenied.Store(true)
	ok := script(answer{status: 200, body: job})
	gECS, gCTS := newGateway(t, clock.Now, ok), newGateway(t, clock.Now, script(answer{status: 200, body: `{"traces":[]}`}))
	gEVS := newGateway(t, clock.Now, func(w http.ResponseWriter, r *http.Request, n int) {
		if evsDenied.Load() && strings.Contains(r.URL.Path, testProject) {
			answer{status: 403, body: `{"error_code":"APIG.0302","error_msg":"The IAM user is not authorized to access the API"}`}.write(w)
			return
		}
		ok(w, r, n)
	})
	obs := &recordingObserver{}
	c := newTestClient(WithClock(clock.Now), WithObserver(obs), WithAuthBackoff(time.Minute, 10*time.Minute))
	ecs, evs := gECS.target(ECS, goodCreds), gEVS.target(EVS, goodCreds)
	evsOther := evs
	evsOther.ProjectID = "fedcba9876543210fedcba9876543210"
	ctx := t.Context()

	_, err := c.GetJob(ctx, evs, testJobID)
	var apiErr *APIError
	if Reason(err) != ReasonPermission || !errors.As(err, &apiErr) || apiErr.StatusCode != 403 {
		t.Fatalf("EVS: %v (reason %q), want a 403 permission error", err, Reason(err))
	}
	for i := range 5 {
		_, err := c.GetJob(ctx, evs, testJobID)
		if !errors.Is(err, ErrPermissionBackoff) || Reason(err) != ReasonPermission {
			t.Fatalf("EVS during the back-off (%d): %v", i, err)
		}
		if !strings.Contains(err.Error(), "evs in project "+testProject) {
			t.Errorf("back-off error %q does not name service and project", err)
		}
	}
	if gEVS.count() != 1 {
		t.Errorf("%d EVS requests, want 1: the backed-off service was asked", gEVS.count())
	}
	for _, tg := range []Target{ecs, evsOther} {
		for range 3 {
			if _, err := c.GetJob(ctx, tg, testJobID); err != nil {
				t.Errorf("%s project %s with the same key: %v", tg.Service, tg.ProjectID, err)
			}
		}
	}
	if _, err := c.ListTraces(ctx, gCTS.target(CTS, goodCreds), TraceQuery{}); err != nil {
		t.Errorf("CTS with the same key: %v", err)
	}
	// After the back-off EVS is asked again; a second denial doubles the rest.
	clock.Add(time.Minute)
	if _, err := c.GetJob(ctx, evs, testJobID); Reason(err) != ReasonPermission || errors.Is(err, ErrPermissionBackoff) {
		t.Fatalf("EVS after the back-off: %v, want a new 403", err)
	}
	clock.Add(time.Minute + 59*time.Second)
	if _, err := c.GetJob(ctx, evs, testJobID); !errors.Is(err, ErrPermissionBackoff) {
		t.Errorf("EVS 1m59s after the second denial: %v, want the back-off (2m)", err)
	}
	// Granted: the next answer clears the back-off.
	evsDenied.Store(false)
	clock.Add(time.Second)
	for range 2 {
		if _, err := c.GetJob(ctx, evs, testJobID); err != nil {
			t.Errorf("EVS once granted: %v", err)
		}
	}
	if slices.Contains(obs.codes(), "401") {
		t.Error("a 401 was seen")
	}
}

// TestNeverSentNotObserved: a call whose context is done before its request starts sends nothing and
// is not an API request with code "error". On the old code the observer saw "error".
func TestNeverSentNotObserved(t *testing.T) {
	g := newGateway(t, nil, script(answer{status: 200, body: fixtureString(t, "ecs-init.json")}))
	obs := &recordingObserver{}
	c := newTestClient(WithObserver(obs))
	tg := g.target(ECS, goodCreds)
	if _, err := c.GetJob(t.Context(), tg, testJobID); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.GetJob(ctx, tg, testJobID); Reason(err) != ReasonTimeout {
		t.Errorf("canceled call: %v (reason %q)", err, Reason(err))
	}
	if got, want := obs.codes(), []string{"200"}; !slices.Equal(got, want) || g.count() != 1 {
		t.Errorf("observed %v and %d requests, want %v and 1", got, g.count(), want)
	}
}

// TestPacedUntilDeadlineIsThrottled: the adaptive limit holds a call back after throttling and its
// deadline passes right when the wait ends: the query was lost to throttling, not to a slow API, and it
// was never sent. On the old code it went out with a dead context: "timeout", observed as "error".
func TestPacedUntilDeadlineIsThrottled(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	g := newGateway(t, clock.Now, script(
		answer{status: 429, body: `{"error_code":"APIG.0308","error_msg":"slow"}`, header: map[string]string{"Retry-After": "30"}},
		answer{status: 200, body: fixtureString(t, "ecs-init.json")}))
	obs := &recordingObserver{}
	c := newTestClient(WithClock(clock.Now), WithObserver(obs), WithAdaptiveRateLimit(), WithRetry(1, 0, 0))
	tg := g.target(ECS, goodCreds)
	if _, err := c.GetJob(t.Context(), tg, testJobID); Reason(err) != ReasonThrottled {
		t.Fatalf("first call: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c.sleep = func(context.Context, time.Duration) error {
		cancel() // the deadline arrives as the pause ends
		return nil
	}
	_, err := c.GetJob(ctx, tg, testJobID)
	if Reason(err) != ReasonThrottled || !errors.Is(err, context.Canceled) {
		t.Errorf("paced call: %v (reason %q), want throttled", err, Reason(err))
	}
	if got := obs.codes(); !slices.Equal(got, []string{"429"}) || g.count() != 1 {
		t.Errorf("observed %v, %d requests: the paced call was sent", got, g.count())
	}
}

// TestLimiterRetryAfterClamped: the limiter's pause never exceeds maxRetryAfter, whatever it is told.
func TestLimiterRetryAfterClamped(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	l := &adaptiveLimiter{}
	l.throttled(now, 999999*time.Second)
	if got := l.pauseUntil.Sub(now); got != maxRetryAfter {
		t.Errorf("pause %v, want %v", got, maxRetryAfter)
	}
	// Through the client: a 429 with Retry-After in 2100 pauses the endpoint for a minute, not 74 years.
	clock := fakeclock.New(now)
	g := newGateway(t, clock.Now, script(
		answer{status: 429, body: `{"error_code":"APIG.0308","error_msg":"slow"}`, header: map[string]string{"Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"}},
		answer{status: 200, body: fixtureString(t, "ecs-init.json")}))
	c := newTestClient(WithClock(clock.Now), WithAdaptiveRateLimit(), WithRetry(1, 0, 0))
	tg := g.target(ECS, goodCreds)
	_, _ = c.GetJob(t.Context(), tg, testJobID)
	clock.Add(maxRetryAfter)
	c.sleep = func(context.Context, time.Duration) error { return nil }
	if _, err := c.GetJob(t.Context(), tg, testJobID); err != nil {
		t.Errorf("a minute later: %v", err)
	}
}
