package discovery

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// waitTimeout bounds every wait; tests never depend on how fast things happen, only that they do.
const waitTimeout = 10 * time.Second

// fakeSource answers Discover with discover(ctx, n), n counting calls from 1, and tells started of
// each call with its context.
type fakeSource struct {
	name     string
	discover func(ctx context.Context, n int) ([]collector.WatchedJob, error)
	started  chan context.Context

	mu sync.Mutex
	n  int
}

func newFakeSource(discover func(ctx context.Context, n int) ([]collector.WatchedJob, error)) *fakeSource {
	return &fakeSource{name: "fake/ap-southeast-1/p1", discover: discover, started: make(chan context.Context, 1000)}
}

func (s *fakeSource) Name() string { return s.name }

func (s *fakeSource) Discover(ctx context.Context) ([]collector.WatchedJob, error) {
	s.mu.Lock()
	s.n++
	n := s.n
	s.mu.Unlock()
	s.started <- ctx
	return s.discover(ctx, n)
}

type setCall struct {
	source string
	jobs   []collector.WatchedJob
}

type fakeSink struct {
	mu    sync.Mutex
	calls []setCall
}

func (s *fakeSink) SetJobs(source string, jobs []collector.WatchedJob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, setCall{source, jobs})
}

func (s *fakeSink) get() []setCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]setCall(nil), s.calls...)
}

type obsCall struct {
	source string
	found  int
	err    error
}

type fakeObserver struct {
	mu    sync.Mutex
	calls []obsCall
	seen  chan obsCall
}

func newFakeObserver() *fakeObserver { return &fakeObserver{seen: make(chan obsCall, 1000)} }

func (o *fakeObserver) ObserveDiscovery(source string, found int, err error) {
	o.mu.Lock()
	o.calls = append(o.calls, obsCall{source, found, err})
	o.mu.Unlock()
	o.seen <- obsCall{source, found, err}
}

func (o *fakeObserver) get() []obsCall {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]obsCall(nil), o.calls...)
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("no %s within %v", what, waitTimeout)
		panic("unreachable")
	}
}

// startRun runs Run in the background. stop cancels it and waits until Run has returned; cancel and
// wait are its halves, for a test that acts in between.
func startRun(t *testing.T, src Source, interval time.Duration, sink Sink, obs Observer) (stop func()) {
	t.Helper()
	cancel, wait := startRunSplit(t, src, interval, sink, obs)
	return func() { cancel(); wait() }
}

func startRunSplit(t *testing.T, src Source, interval time.Duration, sink Sink, obs Observer) (cancel, wait func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, src, interval, sink, obs, log.NewNopLogger())
	}()
	wait = func() {
		t.Helper()
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Fatalf("Run did not return within %v of the cancellation", waitTimeout)
		}
	}
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return cancel, wait
}

var (
	jobsAB = []collector.WatchedJob{watched(huaweicloud.ECS, idA), watched(huaweicloud.EVS, idB)}
	jobsC  = []collector.WatchedJob{watched(huaweicloud.IMS, idC)}
	errCTS = errors.New("list ECS traces: CTS.0001 boom")
)

func TestRunOutcome(t *testing.T) {
	tests := []struct {
		name    string
		jobs    []collector.WatchedJob
		err     error
		wantSet []setCall
		wantObs obsCall
	}{
		{name: "jobs", jobs: jobsAB, wantSet: []setCall{{"fake/ap-southeast-1/p1", jobsAB}}, wantObs: obsCall{"fake/ap-southeast-1/p1", 2, nil}},
		{name: "nothing found", jobs: []collector.WatchedJob{},
			wantSet: []setCall{{"fake/ap-southeast-1/p1", []collector.WatchedJob{}}}, wantObs: obsCall{"fake/ap-southeast-1/p1", 0, nil}},
		{name: "nil and no error", wantSet: []setCall{{"fake/ap-southeast-1/p1", nil}}, wantObs: obsCall{"fake/ap-southeast-1/p1", 0, nil}},
		{name: "failure keeps the jobs", err: errCTS, wantObs: obsCall{"fake/ap-southeast-1/p1", 0, errCTS}},
		{name: "partial", jobs: jobsC, err: errCTS,
			wantSet: []setCall{{"fake/ap-southeast-1/p1", jobsC}}, wantObs: obsCall{"fake/ap-southeast-1/p1", 1, errCTS}},
		{name: "partial and empty", jobs: []collector.WatchedJob{}, err: errCTS,
			wantSet: []setCall{{"fake/ap-southeast-1/p1", []collector.WatchedJob{}}}, wantObs: obsCall{"fake/ap-southeast-1/p1", 0, errCTS}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := newFakeSource(func(ctx context.Context, n int) ([]collector.WatchedJob, error) { return tc.jobs, tc.err })
			sink, obs := &fakeSink{}, newFakeObserver()
			// An hour's interval: the one run seen is the immediate one.
			stop := startRun(t, src, time.Hour, sink, obs)
			ctx := receive(t, src.started, "run")
			if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > time.Hour {
				t.Errorf("run context deadline %v (set %v), want one at most an interval away", dl, ok)
			}
			receive(t, obs.seen, "observation")
			stop()
			if got := sink.get(); !reflect.DeepEqual(got, tc.wantSet) {
				t.Errorf("SetJobs calls %+v, want %+v", got, tc.wantSet)
			}
			if got := obs.get(); !reflect.DeepEqual(got, []obsCall{tc.wantObs}) {
				t.Errorf("observations %+v, want %+v", got, []obsCall{tc.wantObs})
			}
		})
	}
}

func TestRunRepeats(t *testing.T) {
	src := newFakeSource(func(ctx context.Context, n int) ([]collector.WatchedJob, error) { return jobsAB, nil })
	sink, obs := &fakeSink{}, newFakeObserver()
	stop := startRun(t, src, 20*time.Millisecond, sink, obs)
	for i := range 3 {
		if got := receive(t, obs.seen, "observation"); got != (obsCall{src.name, 2, nil}) {
			t.Errorf("observation %d: %+v", i+1, got)
		}
	}
	stop()
	sets, observed := sink.get(), obs.get()
	if len(sets) < 3 || len(sets) != len(observed) {
		t.Errorf("%d SetJobs calls and %d observations, want the same number, at least 3", len(sets), len(observed))
	}
	for i, s := range sets {
		if !reflect.DeepEqual(s, setCall{src.name, jobsAB}) {
			t.Errorf("SetJobs call %d: %+v", i+1, s)
		}
	}
}

func TestRunSequence(t *testing.T) {
	hold := make(chan struct{})
	script := []struct {
		jobs []collector.WatchedJob
		err  error
	}{
		{jobsAB, nil},
		{nil, errCTS},   // failed: the jobs of run 1 stay
		{jobsC, errCTS}, // partial: used, and failed
		{jobsAB, nil},
	}
	src := newFakeSource(func(ctx context.Context, n int) ([]collector.WatchedJob, error) {
		if n <= len(script) {
			return script[n-1].jobs, script[n-1].err
		}
		<-hold // until the test has cancelled Run: then even a good answer is not used
		return jobsC, nil
	})
	sink, obs := &fakeSink{}, newFakeObserver()
	cancel, wait := startRunSplit(t, src, 20*time.Millisecond, sink, obs)
	for range len(script) + 1 {
		receive(t, src.started, "run")
	}
	// Run 5 is held in Discover: cancel, then let it answer.
	cancel()
	close(hold)
	wait()
	wantSet := []setCall{{src.name, jobsAB}, {src.name, jobsC}, {src.name, jobsAB}}
	if got := sink.get(); !reflect.DeepEqual(got, wantSet) {
		t.Errorf("SetJobs calls\n got %+v\nwant %+v", got, wantSet)
	}
	wantObs := []obsCall{{src.name, 2, nil}, {src.name, 0, errCTS}, {src.name, 1, errCTS}, {src.name, 2, nil}}
	if got := obs.get(); !reflect.DeepEqual(got, wantObs) {
		t.Errorf("observations\n got %+v\nwant %+v", got, wantObs)
	}
}

func TestRunCancelledMidRun(t *testing.T) {
	tests := []struct {
		name   string
		answer func(ctx context.Context) ([]collector.WatchedJob, error)
	}{
		{"error", func(ctx context.Context) ([]collector.WatchedJob, error) { return nil, ctx.Err() }},
		{"partial", func(ctx context.Context) ([]collector.WatchedJob, error) { return jobsC, ctx.Err() }},
		{"good answer after the cancellation", func(ctx context.Context) ([]collector.WatchedJob, error) { return jobsAB, nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := newFakeSource(func(ctx context.Context, n int) ([]collector.WatchedJob, error) {
				<-ctx.Done()
				return tc.answer(ctx)
			})
			sink, obs := &fakeSink{}, newFakeObserver()
			stop := startRun(t, src, time.Hour, sink, obs)
			receive(t, src.started, "run")
			stop() // fails the test if Run does not return
			if got := sink.get(); len(got) != 0 {
				t.Errorf("SetJobs calls %+v, want none", got)
			}
			if got := obs.get(); len(got) != 0 {
				t.Errorf("observations %+v, want none: shutting down is not a failure", got)
			}
		})
	}
}

func TestRunStopsBetweenRuns(t *testing.T) {
	src := newFakeSource(func(ctx context.Context, n int) ([]collector.WatchedJob, error) { return jobsAB, nil })
	sink, obs := &fakeSink{}, newFakeObserver()
	stop := startRun(t, src, time.Hour, sink, obs)
	receive(t, obs.seen, "observation")
	stop() // waiting for the next tick, an hour away: returns at once
	if got := len(obs.get()); got != 1 {
		t.Errorf("%d runs, want 1", got)
	}
}

func TestRunTimeout(t *testing.T) {
	// A run that hangs is cut at the interval and counts as failed; runs go on.
	src := newFakeSource(func(ctx context.Context, n int) ([]collector.WatchedJob, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	sink, obs := &fakeSink{}, newFakeObserver()
	stop := startRun(t, src, 20*time.Millisecond, sink, obs)
	for i := range 2 {
		if got := receive(t, obs.seen, "observation"); got.source != src.name || got.found != 0 || !errors.Is(got.err, context.DeadlineExceeded) {
			t.Errorf("observation %d: %+v, want a deadline failure", i+1, got)
		}
	}
	stop()
	if got := sink.get(); len(got) != 0 {
		t.Errorf("SetJobs calls %+v, want none", got)
	}
}

func TestRunDefaults(t *testing.T) {
	// No interval, observer or logger: a minute, nothing observed, nothing logged.
	src := newFakeSource(func(ctx context.Context, n int) ([]collector.WatchedJob, error) { return jobsAB, errCTS })
	sink := &fakeSink{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, src, 0, sink, nil, nil)
	}()
	rctx := receive(t, src.started, "run")
	if dl, ok := rctx.Deadline(); !ok || time.Until(dl) > time.Minute || time.Until(dl) < time.Minute-waitTimeout {
		t.Errorf("run context deadline %v from now (set %v), want about a minute", time.Until(dl), ok)
	}
	cancel()
	receive(t, done, "return of Run")
	if got, want := sink.get(), []setCall{{src.name, jobsAB}}; !reflect.DeepEqual(got, want) {
		t.Errorf("SetJobs calls %+v, want %+v", got, want)
	}
}
