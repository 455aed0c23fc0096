// Package collector turns the answers of Huawei Cloud's job API into Prometheus metrics. It keeps the
// watch set (jobs from the config and from discovery), queries the unfinished ones when Prometheus
// scrapes, remembers final answers so that a finished job never costs another API call, and exports
// everything as const metrics built from one snapshot.
package collector

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// JobGetter is the part of the API client the collector needs; tests substitute a fake.
type JobGetter interface {
	GetJob(ctx context.Context, t huaweicloud.Target, jobID string) (*huaweicloud.Job, error)
}

// Options are the tunables that come from the config file and may change on reload.
type Options struct {
	// Concurrency bounds the job queries in flight across all scrapes.
	Concurrency int
	// MinQueryInterval: an answer younger than this is served from memory, so that two Prometheus
	// replicas scraping a few seconds apart cost one API call per job, not two.
	MinQueryInterval time.Duration
	// FinalJobTTL: a SUCCESS/FAIL job is exported this long after it ended (Huawei deletes finished jobs
	// one day after they end), then retired: it disappears from /metrics and is never queried again.
	FinalJobTTL time.Duration
}

// DefaultOptions match the config defaults.
var DefaultOptions = Options{Concurrency: 16, MinQueryInterval: 10 * time.Second, FinalJobTTL: 24 * time.Hour}

// notFoundBackoff bounds how often a job the API says does not exist is asked again: it may be a typo in
// the config or a job id discovered before the job service knows it, so it is retried, but slowly.
const (
	notFoundBackoffMin = 30 * time.Second
	notFoundBackoffMax = 10 * time.Minute
)

// Collector is a prometheus.Collector over the watched jobs.
type Collector struct {
	getter  JobGetter
	logger  log.Logger
	metrics *ExporterMetrics
	now     func() time.Time
	// waitHook runs when a Refresh starts waiting for queries another Refresh owns; tests use it to
	// overlap two scrapes deterministically.
	waitHook func()

	mu      sync.Mutex
	opts    Options
	sem     chan struct{}
	sources map[string][]WatchedJob
	entries map[string]*entry
	order   []*entry // entries sorted by key, rebuilt by SetJobs: stable exposition and landing page order
}

var _ prometheus.Collector = (*Collector)(nil)

// entry is everything known about one watched job. Fields are guarded by Collector.mu.
type entry struct {
	watched WatchedJob

	job         *huaweicloud.Job // last good answer, nil until the first one
	lastAttempt time.Time        // start of the last query
	lastSuccess time.Time        // end of the last good query
	ok          bool             // the latest query succeeded
	lastErr     error
	lastReason  string
	notFound    int       // consecutive "job not found" answers
	nextAllowed time.Time // not queried before this (not-found back-off)
	finalAt     time.Time // when the job is known to have finished (end_time, else when first seen final)
	retired     bool      // final and older than FinalJobTTL: not exported, never queried
	gone        bool      // was known, then the API said it no longer exists
	inflight    chan struct{}

	// loggedStatus remembers an unknown status string already logged for this job.
	loggedStatus string
}

// expired tells whether a final job has outlived FinalJobTTL and is to be retired.
func (e *entry) expired(now time.Time, ttl time.Duration) bool {
	return e.retired || (!e.finalAt.IsZero() && now.Sub(e.finalAt) >= ttl)
}

// Option configures a Collector.
type Option func(*Collector)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(c *Collector) { c.now = now } }

// WithMetrics makes the collector account its queries in m.
func WithMetrics(m *ExporterMetrics) Option { return func(c *Collector) { c.metrics = m } }

// New returns a Collector that queries jobs through getter.
func New(getter JobGetter, opts Options, logger log.Logger, options ...Option) *Collector {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	c := &Collector{
		getter:  getter,
		logger:  logger,
		now:     time.Now,
		sources: map[string][]WatchedJob{},
		entries: map[string]*entry{},
	}
	for _, o := range options {
		o(c)
	}
	c.SetOptions(opts)
	return c
}

// SetOptions applies new tunables, e.g. after a config reload. Queries in flight finish under the old
// concurrency bound.
func (c *Collector) SetOptions(opts Options) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultOptions.Concurrency
	}
	if opts.FinalJobTTL <= 0 {
		opts.FinalJobTTL = DefaultOptions.FinalJobTTL
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sem == nil || cap(c.sem) != opts.Concurrency {
		c.sem = make(chan struct{}, opts.Concurrency)
	}
	c.opts = opts
}

// SetGetter replaces the API client, e.g. after a reload changed its HTTP settings.
func (c *Collector) SetGetter(g JobGetter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.getter = g
}

// SetJobs replaces the jobs one source ("config", "cts", "file") contributes. A job kept across calls keeps
// its state, so a reload does not re-query finished jobs; a job no source lists any more is forgotten.
// A job listed by several sources is watched once; the most recent source's target (credentials,
// endpoint) wins.
func (c *Collector) SetJobs(source string, jobs []WatchedJob) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(jobs) == 0 {
		delete(c.sources, source)
	} else {
		c.sources[source] = append([]WatchedJob(nil), jobs...)
	}
	seen := make(map[string]struct{}, len(c.entries))
	for _, js := range c.sources {
		for _, w := range js {
			k := w.Key()
			seen[k] = struct{}{}
			if e, ok := c.entries[k]; ok {
				e.watched = w
				continue
			}
			c.entries[k] = &entry{watched: w}
		}
	}
	for k := range c.entries {
		if _, ok := seen[k]; !ok {
			delete(c.entries, k)
		}
	}
	keys := make([]string, 0, len(c.entries))
	for k := range c.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	c.order = c.order[:0]
	for _, k := range keys {
		c.order = append(c.order, c.entries[k])
	}
}

// sorted returns the entries in key order; called with c.mu held.
func (c *Collector) sorted() []*entry { return c.order }

// Refresh queries every watched job that is due: not final, not answered within MinQueryInterval, not
// in a not-found back-off. It returns when all of them are answered or ctx ends. A job another Refresh
// is already querying is waited for, not queried twice.
func (c *Collector) Refresh(ctx context.Context) {
	start := c.now()
	var own []*entry
	var waits []chan struct{}

	c.mu.Lock()
	opts, sem := c.opts, c.sem
	for _, e := range c.entries {
		switch {
		case e.inflight != nil:
			waits = append(waits, e.inflight)
		case c.due(e, start, opts):
			e.inflight = make(chan struct{})
			e.lastAttempt = start
			own = append(own, e)
		}
	}
	// Longest-unrefreshed first: when throttling or the deadline lets only part of the jobs through,
	// the next scrape continues with the others instead of refreshing the same ones again.
	sort.SliceStable(own, func(i, j int) bool { return own[i].lastSuccess.Before(own[j].lastSuccess) })
	c.mu.Unlock()
	if len(waits) > 0 && c.waitHook != nil {
		c.waitHook()
	}

	// Workers take the jobs in order; the shared semaphore still bounds queries across concurrent scrapes.
	var wg sync.WaitGroup
	var next atomic.Int64
	for range min(len(own), cap(sem)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(len(own)); i = next.Add(1) - 1 {
				c.query(ctx, sem, own[i])
			}
		}()
	}
	wg.Wait()
	for _, ch := range waits {
		select {
		case <-ch:
		case <-ctx.Done():
		}
	}
	if c.metrics != nil {
		c.metrics.scrapeDuration.Set(c.now().Sub(start).Seconds())
	}
}

func (c *Collector) due(e *entry, now time.Time, opts Options) bool {
	if e.retired || e.gone || (e.job != nil && e.job.Final()) {
		return false
	}
	if now.Before(e.nextAllowed) {
		return false
	}
	return e.lastAttempt.IsZero() || now.Sub(e.lastAttempt) >= opts.MinQueryInterval
}

// query asks the API about one job, holding a slot of the concurrency bound, and records the answer.
func (c *Collector) query(ctx context.Context, sem chan struct{}, e *entry) {
	c.mu.Lock()
	w, getter := e.watched, c.getter
	c.mu.Unlock()

	var job *huaweicloud.Job
	var err error
	select {
	case sem <- struct{}{}:
		job, err = getter.GetJob(ctx, w.Target, w.JobID)
		<-sem
	case <-ctx.Done():
		// Never got a slot before the scrape deadline: the job was not refreshed this time.
		err = ctx.Err()
	}
	c.record(e, job, err)
}

func (c *Collector) record(e *entry, job *huaweicloud.Job, err error) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() { close(e.inflight); e.inflight = nil }()
	w := e.watched
	if err == nil {
		e.ok, e.lastErr, e.lastReason, e.notFound = true, nil, "", 0
		e.lastSuccess = now
		e.job = job
		if job.Final() {
			e.finalAt = job.EndTime
			if e.finalAt.IsZero() {
				e.finalAt = now
			}
		}
		if !knownStatus(job.Status) && e.loggedStatus != job.Status {
			e.loggedStatus = job.Status
			level.Warn(c.logger).Log("msg", "job has a status this exporter does not know; exported as its own state",
				"service", w.Target.Service, "region", w.Target.Region, "job_id", w.JobID, "status", job.Status)
		}
		return
	}

	reason := huaweicloud.Reason(err)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		reason = "timeout"
	}
	if c.metrics != nil {
		c.metrics.queryFailures.WithLabelValues(string(w.Target.Service), w.Target.Region, reason).Inc()
	}
	changed := e.ok || e.lastReason != reason
	e.ok, e.lastErr, e.lastReason = false, err, reason
	if reason == "not_found" {
		if e.job != nil {
			// A job we have seen is gone: Huawei deleted it (PENDING_PAYMENT jobs go after 14 days).
			e.gone = true
		}
		e.notFound++
		backoff := notFoundBackoffMin << min(e.notFound-1, 10)
		e.nextAllowed = now.Add(min(backoff, notFoundBackoffMax))
	}
	lvl := level.Debug
	if changed {
		// One line when a job starts failing or fails differently, not one per scrape.
		lvl = level.Warn
	}
	lvl(c.logger).Log("msg", "job query failed", "service", w.Target.Service, "region", w.Target.Region,
		"project_id", w.Target.ProjectID, "job_id", w.JobID, "reason", reason, "err", err)
}

// JobState is what the landing page shows of one job.
type JobState struct {
	Service      string
	Region       string
	ProjectID    string
	JobID        string
	JobType      string
	Status       string // "" until the first good answer
	BeginTime    time.Time
	EndTime      time.Time
	SubJobs      int
	SubJobsFail  int
	ErrorCode    string
	FailReason   string
	QuerySuccess bool
	LastSuccess  time.Time
	LastError    string
	Retired      bool
}

// Snapshot returns the state of every watched job, sorted by service, region, project and job id.
func (c *Collector) Snapshot() []JobState {
	c.mu.Lock()
	out := make([]JobState, 0, len(c.order))
	for _, e := range c.order {
		w := e.watched
		s := JobState{
			Service:      string(w.Target.Service),
			Region:       w.Target.Region,
			ProjectID:    w.Target.ProjectID,
			JobID:        w.JobID,
			QuerySuccess: e.ok,
			LastSuccess:  e.lastSuccess,
			Retired:      e.retired,
		}
		if e.lastErr != nil {
			s.LastError = e.lastErr.Error()
		}
		if j := e.job; j != nil {
			s.JobType, s.Status, s.BeginTime, s.EndTime = j.JobType, j.Status, j.BeginTime, j.EndTime
			s.SubJobs = j.SubJobsTotal
			for _, sj := range j.SubJobs {
				if sj.Status == statusFail {
					s.SubJobsFail++
				}
			}
			if f, ok := firstFailure(j); ok {
				s.ErrorCode, s.FailReason = f.code, f.reason
			}
		}
		out = append(out, s)
	}
	c.mu.Unlock()
	return out
}
