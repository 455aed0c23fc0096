package discovery

import (
	"context"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// chanSink records SetJobs calls and tells each on a channel.
type chanSink struct {
	fakeSink
	ch chan setCall
}

func newChanSink() *chanSink { return &chanSink{ch: make(chan setCall, 1000)} }

func (s *chanSink) SetJobs(source string, jobs []collector.WatchedJob) {
	s.fakeSink.SetJobs(source, jobs)
	s.ch <- setCall{source, jobs}
}

// next returns the next SetJobs call.
func (s *chanSink) next(t *testing.T) setCall {
	t.Helper()
	return receive(t, s.ch, "SetJobs call")
}

// none fails t if a SetJobs call is pending.
func (s *chanSink) none(t *testing.T) {
	t.Helper()
	select {
	case c := <-s.ch:
		t.Errorf("unexpected SetJobs(%q, %v)", c.source, keysOrNil(c.jobs))
	default:
	}
}

// forgettingObserver is a fakeObserver that also records ForgetDiscovery.
type forgettingObserver struct {
	*fakeObserver
	mu     sync.Mutex
	forgot []string
}

func (o *forgettingObserver) ForgetDiscovery(source string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.forgot = append(o.forgot, source)
}

func newTestManager(t *testing.T, sink Sink, obs Observer) *Manager {
	t.Helper()
	m := NewManager(t.Context(), sink, obs, log.NewNopLogger())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := m.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return m
}

const ctsName = "cts/" + testRegion + "/" + testProject

// ctsConfig is a CTS source over lister that reads ECS traces once an hour (so only the first run of a
// started source happens during a test).
func ctsConfig(lister TraceLister, targets map[huaweicloud.Service]huaweicloud.Target) Config {
	return Config{Name: ctsName, Interval: time.Hour, CTS: &CTSConfig{
		Lister: lister, CTS: ctsTarget, Targets: targets,
		Options: CTSOptions{Services: []huaweicloud.Service{huaweicloud.ECS}, Lookback: time.Hour, Now: func() time.Time { return t0 }},
	}}
}

func withEndpoint(targets map[huaweicloud.Service]huaweicloud.Target, s huaweicloud.Service, endpoint string) map[huaweicloud.Service]huaweicloud.Target {
	out := maps.Clone(targets)
	t := out[s]
	t.Endpoint = endpoint
	out[s] = t
	return out
}

// TestManagerReload: a source whose definition is unchanged keeps running with what it found; any change
// (lister, i.e. HTTP client; CTS or job endpoint; credentials; options; interval) restarts it, and the
// jobs the sink has carry the new targets at once. Before, the exporter kept a CTS source whose job
// endpoints or HTTP client changed: its jobs went on being queried at the old endpoint, through the old
// client.
func TestManagerReload(t *testing.T) {
	otherLister := newFakeCTS()
	otherLister.addJob(huaweicloud.ECS, t0.Add(-time.Minute), idA)
	newECS := "https://ecs.internal.example"
	tests := []struct {
		name      string
		change    func(c Config) Config
		restart   bool
		newLister *fakeCTS // the lister the restarted source must ask, when not the first
	}{
		{name: "unchanged", change: func(c Config) Config {
			// Equal values in new slices and maps, as a reload decodes them.
			n := *c.CTS
			n.Targets = maps.Clone(n.Targets)
			n.Options.Services = slices.Clone(n.Options.Services)
			n.Options.Now = func() time.Time { return t0 }
			c.CTS = &n
			return c
		}},
		{name: "new client", restart: true, newLister: otherLister, change: func(c Config) Config {
			n := *c.CTS
			n.Lister = otherLister
			c.CTS = &n
			return c
		}},
		{name: "job endpoint", restart: true, change: func(c Config) Config {
			n := *c.CTS
			n.Targets = withEndpoint(n.Targets, huaweicloud.ECS, newECS)
			c.CTS = &n
			return c
		}},
		{name: "CTS endpoint", restart: true, change: func(c Config) Config {
			n := *c.CTS
			n.CTS.Endpoint = "https://cts.internal.example"
			c.CTS = &n
			return c
		}},
		{name: "credentials", restart: true, change: func(c Config) Config {
			n := *c.CTS
			n.Targets = maps.Clone(n.Targets)
			for s, tg := range n.Targets {
				tg.Credentials = huaweicloud.Credentials{AccessKey: "HPUANEWKEY0000000001", SecretKey: "rotated"}
				n.Targets[s] = tg
			}
			c.CTS = &n
			return c
		}},
		{name: "services", restart: true, change: func(c Config) Config {
			n := *c.CTS
			n.Options.Services = []huaweicloud.Service{huaweicloud.ECS, huaweicloud.EVS}
			c.CTS = &n
			return c
		}},
		{name: "lookback", restart: true, change: func(c Config) Config {
			n := *c.CTS
			n.Options.Lookback = 2 * time.Hour
			c.CTS = &n
			return c
		}},
		{name: "interval", restart: true, change: func(c Config) Config {
			c.Interval = 2 * time.Hour
			return c
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			lister := newFakeCTS()
			lister.addJob(huaweicloud.ECS, t0.Add(-time.Minute), idA)
			sink := newChanSink()
			m := newTestManager(t, sink, newFakeObserver())
			before := ctsConfig(lister, testTargets())
			if err := m.ApplyConfig([]Config{before}); err != nil {
				t.Fatal(err)
			}
			if got := sink.next(t); got.source != ctsName || !reflect.DeepEqual(got.jobs, []collector.WatchedJob{watched(huaweicloud.ECS, idA)}) {
				t.Fatalf("first run: SetJobs(%q, %v)", got.source, keysOrNil(got.jobs))
			}
			if n := len(lister.takeQueries()); n != 1 {
				t.Fatalf("first run: %d queries, want 1", n)
			}
			p := m.providers[ctsName]

			after := tc.change(before)
			if err := m.ApplyConfig([]Config{after}); err != nil {
				t.Fatal(err)
			}
			wantJob := []collector.WatchedJob{{Target: after.CTS.Targets[huaweicloud.ECS], JobID: idA}}
			if !tc.restart {
				if m.providers[ctsName] != p {
					t.Error("source restarted, want it kept")
				}
				sink.none(t)
				if q := lister.takeQueries(); len(q) != 0 {
					t.Errorf("kept source queried CTS again: %v", q)
				}
				return
			}
			if m.providers[ctsName] == p {
				t.Fatal("source kept, want it restarted")
			}
			// At once: the jobs found so far, with the new targets.
			if got := sink.next(t); got.source != ctsName || !reflect.DeepEqual(got.jobs, wantJob) {
				t.Errorf("on reload: SetJobs(%q, %+v), want %+v", got.source, got.jobs, wantJob)
			}
			// Then the restarted source's own first run, through the new lister and with the new targets.
			if got := sink.next(t); got.source != ctsName || !reflect.DeepEqual(got.jobs, wantJob) {
				t.Errorf("restarted run: SetJobs(%q, %+v), want %+v", got.source, got.jobs, wantJob)
			}
			asked := lister
			if tc.newLister != nil {
				asked = tc.newLister
				if q := lister.takeQueries(); len(q) != 0 {
					t.Errorf("old lister asked after the reload: %v", q)
				}
			}
			asked.mu.Lock()
			defer asked.mu.Unlock()
			if len(asked.targets) == 0 || asked.targets[len(asked.targets)-1] != after.CTS.CTS {
				t.Errorf("CTS asked at %+v, want %+v", asked.targets, after.CTS.CTS)
			}
		})
	}
}

// TestManagerRemoves: a removed source's jobs leave the sink and its series leave the observer; the
// others are untouched.
func TestManagerRemoves(t *testing.T) {
	checkGoroutines(t)
	dir, _ := newTestFile(t, map[string]string{"a.yml": "- {service: evs, id: " + idB + "}\n"})
	lister := newFakeCTS()
	lister.addJob(huaweicloud.ECS, t0.Add(-time.Minute), idA)
	sink := newChanSink()
	obs := &forgettingObserver{fakeObserver: newFakeObserver()}
	m := newTestManager(t, sink, obs)
	file := Config{Name: "file/" + testRegion + "/" + testProject, Interval: time.Hour,
		File: &FileConfig{Globs: []string{filepath.Join(dir, "*.yml")}, Targets: testTargets()}}
	if err := m.ApplyConfig([]Config{ctsConfig(lister, testTargets()), file}); err != nil {
		t.Fatal(err)
	}
	got := map[string][]collector.WatchedJob{}
	for range 2 {
		c := sink.next(t)
		got[c.source] = c.jobs
	}
	if want := []collector.WatchedJob{watched(huaweicloud.EVS, idB)}; !reflect.DeepEqual(got[file.Name], want) {
		t.Errorf("file source: %v, want %v", keysOrNil(got[file.Name]), keys(want))
	}
	if err := m.ApplyConfig([]Config{file}); err != nil {
		t.Fatal(err)
	}
	if c := sink.next(t); c.source != ctsName || c.jobs != nil {
		t.Errorf("on removal: SetJobs(%q, %v), want SetJobs(%q, nil)", c.source, keysOrNil(c.jobs), ctsName)
	}
	sink.none(t)
	if want := []string{file.Name}; !slices.Equal(m.Sources(), want) {
		t.Errorf("Sources() = %v, want %v", m.Sources(), want)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if want := []string{ctsName}; !slices.Equal(obs.forgot, want) {
		t.Errorf("forgot %v, want %v", obs.forgot, want)
	}
}

// hungSource blocks in Discover until released, whatever its context says: a read of a stuck mount.
type hungSource struct {
	started chan struct{}
	release chan struct{}
}

func newHungSource(t *testing.T) *hungSource {
	h := &hungSource{started: make(chan struct{}, 100), release: make(chan struct{})}
	t.Cleanup(h.unblock)
	return h
}

func (h *hungSource) Name() string { return "hung" }

func (h *hungSource) Discover(context.Context) ([]collector.WatchedJob, error) {
	h.started <- struct{}{}
	<-h.release
	return []collector.WatchedJob{watched(huaweicloud.ECS, idD)}, nil
}

var unblockMu sync.Mutex

func (h *hungSource) unblock() {
	unblockMu.Lock()
	defer unblockMu.Unlock()
	select {
	case <-h.release:
	default:
		close(h.release)
	}
}

// TestManagerStuckSource: a source stuck in a call that ignores cancellation holds up neither a reload
// that removes or replaces it nor Stop, which names it. Its goroutine ends once the call returns.
func TestManagerStuckSource(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reload []Config
	}{
		{name: "removed", reload: []Config{}},
		{name: "replaced", reload: []Config{{Name: "hung", Interval: 2 * time.Hour, source: newFakeSource(
			func(context.Context, int) ([]collector.WatchedJob, error) { return jobsC, nil })}}},
		{name: "stopped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			h := newHungSource(t)
			m := NewManager(t.Context(), newChanSink(), newFakeObserver(), log.NewNopLogger())
			if err := m.ApplyConfig([]Config{{Name: "hung", Interval: time.Hour, source: h}}); err != nil {
				t.Fatal(err)
			}
			receive(t, h.started, "Discover call")
			stuck := m.providers["hung"]

			done := make(chan error, 1)
			go func() {
				if tc.reload != nil {
					if err := m.ApplyConfig(tc.reload); err != nil {
						done <- err
						return
					}
				}
				// A Stop whose time is up at once must not wait for the stuck call.
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				done <- m.Stop(ctx)
			}()
			err := receive(t, done, "reload and Stop")
			if want := "discovery sources still running after being stopped: "; err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "hung") {
				t.Errorf("Stop: %v, want %q naming hung", err, want)
			}
			h.unblock()
			receive(t, stuck.done, "end of the stuck source's goroutine")
		})
	}
}

// TestProviderDropsLateAnswers: once stopped, a provider forwards nothing, even from a run that was past
// its context check when the stop came.
func TestProviderDropsLateAnswers(t *testing.T) {
	sink, obs := newChanSink(), newFakeObserver()
	p := &provider{cancel: func() {}, sink: sink, obs: obs}
	p.SetJobs("s", jobsAB)
	p.ObserveDiscovery("s", 2, nil)
	if last := p.stop(); !reflect.DeepEqual(last, jobsAB) {
		t.Errorf("stop() = %v, want the last jobs %v", keysOrNil(last), keys(jobsAB))
	}
	p.SetJobs("s", jobsC)
	p.ObserveDiscovery("s", 1, nil)
	if got := sink.get(); len(got) != 1 {
		t.Errorf("sink got %d calls, want only the one before stop", len(got))
	}
	if got := obs.get(); len(got) != 1 {
		t.Errorf("observer got %d calls, want only the one before stop", len(got))
	}
}

func TestManagerInvalid(t *testing.T) {
	lister := newFakeCTS()
	good := ctsConfig(lister, testTargets())
	tests := []struct {
		name string
		cfgs []Config
		want string
	}{
		{"no name", []Config{{CTS: good.CTS}}, "discovery source 0: no name"},
		{"twice", []Config{good, good}, `discovery source "` + ctsName + `": defined twice`},
		{"two kinds", []Config{{Name: "x", CTS: good.CTS, File: &FileConfig{}}}, `discovery source "x": needs exactly one of cts and file`},
		{"no kind", []Config{{Name: "x"}}, `discovery source "x": needs exactly one of cts and file`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := newChanSink()
			m := newTestManager(t, sink, nil)
			err := m.ApplyConfig(tc.cfgs)
			if err == nil || err.Error() != tc.want {
				t.Errorf("err %v, want %q", err, tc.want)
			}
			if len(m.Sources()) != 0 {
				t.Errorf("sources %v started by an invalid config", m.Sources())
			}
		})
	}
}

func TestManagerAfterStop(t *testing.T) {
	m := NewManager(t.Context(), newChanSink(), nil, nil)
	if err := m.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	err := m.ApplyConfig([]Config{ctsConfig(newFakeCTS(), testTargets())})
	if err == nil || err.Error() != "discovery manager stopped" {
		t.Errorf("ApplyConfig after Stop: %v", err)
	}
}
