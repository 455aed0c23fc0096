package discovery

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// Config defines one discovery source: exactly one of CTS and File. The manager keeps a running source
// only while its whole Config stays equal (see ApplyConfig), so everything a source's answers depend on
// belongs here.
type Config struct {
	Name     string        // unique; the source name the sink and the self-metrics see
	Interval time.Duration // between runs (Run's default when <= 0)
	CTS      *CTSConfig
	File     *FileConfig

	source Source // a ready source, for tests of the manager; compared by identity
}

// CTSConfig defines a CTS source (see NewCTS).
type CTSConfig struct {
	// Lister is compared by identity: a new API client (new HTTP settings) restarts the source, so it
	// never keeps asking through the old one.
	Lister  TraceLister
	CTS     huaweicloud.Target
	Targets map[huaweicloud.Service]huaweicloud.Target
	Options CTSOptions // Options.Now is a clock for tests, not a setting: it is not compared
}

// FileConfig defines a job-id file source (see NewFile).
type FileConfig struct {
	Globs       []string
	Targets     map[huaweicloud.Service]huaweicloud.Target
	MaxSize     int64         // DefaultMaxFileSize when <= 0
	ReadTimeout time.Duration // DefaultFileReadTimeout when <= 0
}

func (c Config) equal(o Config) bool {
	if c.Name != o.Name || c.Interval != o.Interval || !sameValue(c.source, o.source) ||
		(c.CTS == nil) != (o.CTS == nil) || (c.File == nil) != (o.File == nil) {
		return false
	}
	if c.CTS != nil {
		a, b := c.CTS, o.CTS
		if !sameValue(a.Lister, b.Lister) || a.CTS != b.CTS || !maps.Equal(a.Targets, b.Targets) ||
			!slices.Equal(a.Options.Services, b.Options.Services) || a.Options.Lookback != b.Options.Lookback ||
			a.Options.Retain != b.Options.Retain || a.Options.PageLimit != b.Options.PageLimit ||
			a.Options.MaxPages != b.Options.MaxPages {
			return false
		}
	}
	if c.File != nil {
		a, b := c.File, o.File
		if !slices.Equal(a.Globs, b.Globs) || !maps.Equal(a.Targets, b.Targets) ||
			a.MaxSize != b.MaxSize || a.ReadTimeout != b.ReadTimeout {
			return false
		}
	}
	return true
}

// sameValue is a == b for two pointers of one type (an API client, a source); anything else counts as
// different, which restarts a source rather than risk keeping a stale one (and never panics comparing
// values of an uncomparable type).
func sameValue(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ta := reflect.TypeOf(a)
	if ta != reflect.TypeOf(b) || ta.Kind() != reflect.Pointer {
		return false
	}
	return a == b
}

// targets is the service-to-target map of the source, nil for one without.
func (c Config) targets() map[huaweicloud.Service]huaweicloud.Target {
	switch {
	case c.CTS != nil:
		return c.CTS.Targets
	case c.File != nil:
		return c.File.Targets
	}
	return nil
}

func (c Config) newSource() Source {
	switch {
	case c.source != nil:
		return namedSource{c.Name, c.source}
	case c.CTS != nil:
		return namedSource{c.Name, NewCTS(c.CTS.Lister, c.CTS.CTS, c.CTS.Targets, c.CTS.Options)}
	default:
		return namedSource{c.Name, NewFile(c.File.Globs, c.File.Targets,
			WithMaxFileSize(c.File.MaxSize), WithReadTimeout(c.File.ReadTimeout))}
	}
}

// namedSource reports a source under its Config's name.
type namedSource struct {
	name string
	Source
}

func (n namedSource) Name() string { return n.name }

// Forgetter is optionally implemented by an Observer that keeps series per source: the manager calls
// ForgetDiscovery when a source is removed, so its series leave the self-metrics.
type Forgetter interface {
	ForgetDiscovery(source string)
}

// Manager runs the discovery sources of the configuration, like Prometheus' discovery manager: the
// exporter hands it the whole set of sources on each (re)load and the manager starts, keeps, restarts
// and stops them. It never waits for a source: a source stuck in a call that ignores its context (a hung
// file read) is abandoned, its late answers are dropped, and neither a reload nor shutdown hangs on it.
type Manager struct {
	ctx    context.Context
	sink   Sink
	obs    Observer
	logger log.Logger

	mu        sync.Mutex
	stopped   bool
	providers map[string]*provider
	retired   []*provider // stopped but perhaps still inside Discover; Stop waits for them too
}

// provider is one running source. It stands between the source's runs and the sink and observer, so
// that once it is stopped nothing it still produces reaches them.
type provider struct {
	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}
	sink   Sink
	obs    Observer

	mu      sync.Mutex
	stopped bool
	last    []collector.WatchedJob // what the sink last got from this provider
}

func (p *provider) SetJobs(source string, jobs []collector.WatchedJob) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.last = append([]collector.WatchedJob(nil), jobs...)
	p.sink.SetJobs(source, jobs)
}

func (p *provider) ObserveDiscovery(source string, found int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || p.obs == nil {
		return
	}
	p.obs.ObserveDiscovery(source, found, err)
}

// stop cancels the provider and, once it returns, makes sure nothing it sends later is used. It waits
// for an in-flight SetJobs (an in-memory update), never for Discover. It returns what the sink last got.
func (p *provider) stop() []collector.WatchedJob {
	p.cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	return p.last
}

// NewManager returns a manager whose sources run until ctx ends or Stop is called, sending their jobs to
// sink and their runs to obs (which may be nil).
func NewManager(ctx context.Context, sink Sink, obs Observer, logger log.Logger) *Manager {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	return &Manager{ctx: ctx, sink: sink, obs: obs, logger: logger, providers: map[string]*provider{}}
}

// ApplyConfig makes cfgs the running sources. A source whose Config is unchanged keeps running and
// keeps what it found (a CTS source goes on reading only new traces). A source whose Config changed
// is restarted: the jobs it found are handed to the sink at once with the new targets (new endpoint or
// credentials), so nothing is queried through the old ones, and its first run replaces them. A removed
// source is stopped and its jobs are withdrawn from the sink. Invalid cfgs (a missing or duplicate name,
// not exactly one kind of source) change nothing.
func (m *Manager) ApplyConfig(cfgs []Config) error {
	want := make(map[string]Config, len(cfgs))
	var errs []error
	for i, c := range cfgs {
		kinds := 0
		for _, set := range []bool{c.CTS != nil, c.File != nil, c.source != nil} {
			if set {
				kinds++
			}
		}
		switch _, dup := want[c.Name]; {
		case c.Name == "":
			errs = append(errs, fmt.Errorf("discovery source %d: no name", i))
		case dup:
			errs = append(errs, fmt.Errorf("discovery source %q: defined twice", c.Name))
		case kinds != 1:
			errs = append(errs, fmt.Errorf("discovery source %q: needs exactly one of cts and file", c.Name))
		default:
			want[c.Name] = c
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return errors.New("discovery manager stopped")
	}
	m.pruneRetired()
	for _, name := range slices.Sorted(maps.Keys(m.providers)) {
		p := m.providers[name]
		c, ok := want[name]
		if ok && p.cfg.equal(c) {
			delete(want, name)
			continue
		}
		last := p.stop()
		m.retired = append(m.retired, p)
		delete(m.providers, name)
		if !ok {
			m.sink.SetJobs(name, nil)
			if f, ok := m.obs.(Forgetter); ok {
				f.ForgetDiscovery(name)
			}
			level.Info(m.logger).Log("msg", "discovery source removed", "source", name)
			continue
		}
		if t := c.targets(); t != nil {
			m.sink.SetJobs(name, retarget(last, t))
		}
		level.Info(m.logger).Log("msg", "discovery source changed; restarting it", "source", name)
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		m.start(want[name])
	}
	return nil
}

// retarget gives jobs the targets of their service in targets, and drops those of a service the source no
// longer covers.
func retarget(jobs []collector.WatchedJob, targets map[huaweicloud.Service]huaweicloud.Target) []collector.WatchedJob {
	out := make([]collector.WatchedJob, 0, len(jobs))
	for _, j := range jobs {
		t, ok := targets[j.Target.Service]
		if !ok || t.Region != j.Target.Region || t.ProjectID != j.Target.ProjectID {
			continue
		}
		j.Target = t
		out = append(out, j)
	}
	return out
}

// start runs c; called with m.mu held.
func (m *Manager) start(c Config) {
	ctx, cancel := context.WithCancel(m.ctx)
	p := &provider{cfg: c, cancel: cancel, done: make(chan struct{}), sink: m.sink, obs: m.obs}
	m.providers[c.Name] = p
	src := c.newSource()
	logger := log.With(m.logger, "discovery", c.Name)
	go func() {
		defer close(p.done)
		Run(ctx, src, c.Interval, p, p, logger)
	}()
}

// pruneRetired forgets retired providers that have returned; called with m.mu held.
func (m *Manager) pruneRetired() {
	m.retired = slices.DeleteFunc(m.retired, func(p *provider) bool {
		select {
		case <-p.done:
			return true
		default:
			return false
		}
	})
}

// Sources returns the names of the running sources, sorted.
func (m *Manager) Sources() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.providers))
}

// Stop stops every source and waits for them to return until ctx ends. The sink keeps the jobs it has
// (the process is ending). A source still inside a call that ignores cancellation is left behind and
// named in the error; whatever it returns later is dropped. Later ApplyConfig calls fail.
func (m *Manager) Stop(ctx context.Context) error {
	m.mu.Lock()
	m.stopped = true
	ps := m.retired
	for _, p := range m.providers {
		ps = append(ps, p)
	}
	m.providers, m.retired = map[string]*provider{}, nil
	m.mu.Unlock()

	for _, p := range ps {
		p.stop()
	}
	var stuck []string
	for _, p := range ps {
		select {
		case <-p.done:
		case <-ctx.Done():
			select {
			case <-p.done:
			default:
				stuck = append(stuck, p.cfg.Name)
			}
		}
	}
	if len(stuck) > 0 {
		sort.Strings(stuck)
		return fmt.Errorf("discovery sources still running after being stopped: %s", strings.Join(stuck, ", "))
	}
	return nil
}
