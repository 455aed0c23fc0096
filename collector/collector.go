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
	"time"
	"unique"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/labeltext"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/selfmetrics"
)

// JobGetter is the part of the API client the collector needs; tests substitute a fake. A job it returns
// has the texts huaweicloud's parser makes (label-safe and capped, see huaweicloud fieldCaps): the
// collector exports them as they are, so a fake that returns hostile texts sends them through
// huaweicloud.ParseJob (the tests' parsed helper).
type JobGetter interface {
	GetJob(ctx context.Context, t huaweicloud.Target, jobID string) (*huaweicloud.Job, error)
}

// Options are the tunables that come from the config file and may change on reload.
type Options struct {
	// Concurrency bounds the job queries in flight across all scrapes.
	Concurrency int
	// MinQueryInterval: an answer younger than this is served from memory, so that two Prometheus
	// replicas scraping a few seconds apart cost one API call per job, not two.
	// It applies to pulls whose scraper has not pulled before; a scraper seen before gets every job
	// refreshed that was not queried since its own previous pull (see RefreshFor).
	MinQueryInterval time.Duration
	// FinalJobTTL: a SUCCESS/FAIL job is exported this long after it ended (Huawei deletes finished jobs
	// one day after they end), then retired: it disappears from /metrics and is never queried again. A
	// vanished job is exported this long after it vanished.
	FinalJobTTL time.Duration
	// PendingPaymentInterval is how often a PENDING_PAYMENT job is asked again. Such a job waits for a
	// person to pay an order and may wait 14 days (ECS seed, PENDING_PAYMENT); asking every scrape would
	// cost ~121k calls per job for an answer that changes a few times a month at most.
	PendingPaymentInterval time.Duration
}

// DefaultOptions are the config file's defaults (config.Default), for a collector built before a config
// is applied.
var DefaultOptions = OptionsFrom(config.Default())

// OptionsFrom are the tunables of configuration c.
func OptionsFrom(c config.Config) Options {
	return Options{
		Concurrency:            c.Concurrency,
		MinQueryInterval:       time.Duration(c.MinQueryInterval),
		FinalJobTTL:            time.Duration(c.FinalJobTTL),
		PendingPaymentInterval: time.Duration(c.PendingPaymentQueryInterval),
	}
}

// notFoundBackoff bounds how often a job the API says does not exist is asked again: it may be a typo in
// the config, so it is retried, but slowly.
const (
	notFoundBackoffMin = 30 * time.Second
	notFoundBackoffMax = 10 * time.Minute
)

// A job the exporter has seen is given up only after the API denied it notFoundConfirmations times over
// at least notFoundConfirmSpan: one stray answer (a gateway hiccup, a replica that lags) must not end
// the watch of a running job, whose later FAIL would then never page.
const (
	notFoundConfirmations = 3
	notFoundConfirmSpan   = 2 * time.Minute
)

// minRefreshGap is the least time between two queries of one job, whoever pulls (unless
// min_query_interval is set lower).
const minRefreshGap = time.Second

// Who refreshes: a pull is a scraper's when its client says it is one (the handler passes a scraper
// identity only for requests that carry Prometheus' scrape-timeout header, as Prometheus and the agents
// compatible with it send) and when that scraper's previous pull is at least min_query_interval/4 old.
// A scraper's pull refreshes every job not asked since its own previous pull (see RefreshFor). Every
// other pull (curl, a browser, watch -n1, a scraper pulling far more often than min_query_interval) is
// served from memory: it asks only jobs never asked yet, and, while no scraper has pulled for
// scraperActiveFor, jobs whose answer is older than min_query_interval. So a loop of curl beside a
// Prometheus costs no API calls, and a curl alone still sees answers at most min_query_interval old.
const (
	frequentPullDivisor = 4
	scraperActiveFor    = 2 * time.Minute
)

// Scrapers are remembered by identity so that each gets answers no older than its own previous pull.
// The table is bounded: an exporter scraped from many addresses forgets the quietest first.
const (
	maxScrapers     = 256
	scraperForgetIn = time.Hour
)

// Collector is a prometheus.Collector over the watched jobs.
type Collector struct {
	getter  JobGetter
	logger  log.Logger
	metrics *selfmetrics.Metrics
	now     func() time.Time
	// waitHook runs when a Refresh starts waiting for queries another Refresh owns; tests use it to
	// overlap two scrapes deterministically.
	waitHook func()
	// shardIndex of shardCount: the part of the jobs this replica watches (WithShard); count 0 = all.
	shardIndex, shardCount uint64

	mu      sync.Mutex
	opts    Options
	sem     chan struct{}
	sources map[string][]sourceJob
	entries map[string]*entry
	order   []*entry // entries sorted by key, rebuilt by SetJobs: stable exposition and landing page order
	// scrapers holds the start of each scraper's previous pull.
	scrapers map[string]time.Time
	// lastScraperPull is the start of the latest pull served as a scraper's (pullKind).
	lastScraperPull time.Time
	// expo is the exposition cache: the gzip answer to Prometheus in parts, with the versions of their
	// samples; entries reach it through changed and retire only (expocache.go).
	expo *expoCache

	watchCap watchCap // the cap on watched jobs (watchcap.go)
}

var _ prometheus.Collector = (*Collector)(nil)

// entry is everything known about one watched job. Fields are guarded by Collector.mu.
type entry struct {
	// The job is target and jobID: the target is shared by every job of its source, project and service
	// (SetJobs), where a WatchedJob per entry would copy its ~150 bytes into each of thousands of entries.
	target *huaweicloud.Target
	jobID  string

	job *huaweicloud.Job // last good answer, nil until the first one
	// Times are Unix nanoseconds, 0 for never: 8 bytes where a time.Time takes 24, in each of
	// thousands of entries.
	lastAttempt   int64 // start of the last query
	lastSuccess   int64 // end of the last good query
	ok            bool  // the latest query succeeded
	lastErr       error
	lastReason    string
	notFound      int   // consecutive "job not found" answers
	firstNotFound int64 // time of the first of them
	nextAllowed   int64 // not queried before this (not-found back-off)
	finalAt       int64 // when the job is known to have finished (end_time, else when first seen final), or vanished
	seenFinalAt   int64 // when the exporter first saw the job final: the end of a job without end_time
	retired       bool  // final and older than FinalJobTTL: not exported, never queried
	vanished      bool  // was unfinished, then the API forgot it: outcome unknown, exported until retired
	dropped       bool  // discovered, but the API never knew it: not exported, never queried
	fromConfig    bool  // listed in the config file, so never dropped: a typo there must stay visible
	bucket        uint8 // stable bucket of the job (bucketOf its key), its segment once it is final
	inflight      chan struct{}
	ident         *jobIdent // label values as WriteText writes them, made by views

	// loggedStatus remembers an unknown status string already logged for this job.
	loggedStatus string
	// source is the first source (config first, then by name) listing the job: the one a dropped job is
	// counted against. A string header per job; the text is the source's own name, shared.
	source string
	// futureLogged has a bit per futureFields entry already logged and counted (clock.go).
	futureLogged uint8
}

// watched is the job the entry watches.
func (e *entry) watched() WatchedJob { return WatchedJob{Target: *e.target, JobID: e.jobID} }

// expired tells whether a final job has outlived FinalJobTTL and is to be retired.
func (e *entry) expired(now time.Time, ttl time.Duration) bool {
	return e.retired || (e.finalAt != 0 && unixNanos(now)-e.finalAt >= int64(ttl))
}

// Option configures a Collector.
type Option func(*Collector)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(c *Collector) { c.now = now } }

// WithMetrics makes the collector account its queries in m.
func WithMetrics(m *selfmetrics.Metrics) Option { return func(c *Collector) { c.metrics = m } }

// New returns a Collector that queries jobs through getter.
func New(getter JobGetter, opts Options, logger log.Logger, options ...Option) *Collector {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	c := &Collector{
		getter:   getter,
		logger:   logger,
		now:      time.Now,
		sources:  map[string][]sourceJob{},
		entries:  map[string]*entry{},
		scrapers: map[string]time.Time{},
		expo:     newExpoCache(),
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
	if opts.PendingPaymentInterval <= 0 {
		opts.PendingPaymentInterval = DefaultOptions.PendingPaymentInterval
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

// sourceJob is a job as one source lists it: 24 bytes where a WatchedJob is 150.
type sourceJob struct {
	target *huaweicloud.Target
	jobID  string
}

// ConfigSource is the source name of the jobs listed in the config file.
const ConfigSource = "config"

// SetJobs replaces the jobs one source ("config", "cts", "file") contributes. A job kept across calls keeps
// its state, so a reload does not re-query finished jobs; a job no source lists any more is forgotten.
// A job listed by several sources is watched once, with the target (credentials, endpoint) of the config
// file when it lists the job, else of the first source by name: the same answer on every reload.
// A sharded collector (WithShard) keeps only the jobs of its shard.
func (c *Collector) SetJobs(source string, jobs []WatchedJob) {
	mine := c.ownJobs(jobs)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(mine) == 0 {
		delete(c.sources, source)
	} else {
		c.sources[source] = mine
	}
	// Discovery lists the same jobs run after run: only a change of the watch set (a job added, removed or
	// no longer dropped) changes the exposition and the order, so only then are they rebuilt.
	if c.mergeSources() {
		c.rebuildOrder()
	}
}

// ownJobs keeps the jobs of this collector's shard. A source lists thousands of jobs over a handful of
// targets (one per project and service): each target is kept once, not once per job.
func (c *Collector) ownJobs(jobs []WatchedJob) []sourceJob {
	mine := make([]sourceJob, 0, len(jobs)/max(int(c.shardCount), 1)+1)
	targets := map[huaweicloud.Target]*huaweicloud.Target{}
	for _, w := range jobs {
		if !c.owns(w) {
			continue
		}
		t := targets[w.Target]
		if t == nil {
			t = &w.Target
			targets[w.Target] = t
		}
		mine = append(mine, sourceJob{t, w.JobID})
	}
	return mine
}

// sourceNames is the order in which sources are merged: the config file first, then the others by name,
// so that a job several sources list always takes the same target; with c.mu held.
func (c *Collector) sourceNames() []string {
	names := make([]string, 0, len(c.sources))
	for name := range c.sources {
		if name != ConfigSource {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if _, ok := c.sources[ConfigSource]; ok {
		names = append([]string{ConfigSource}, names...)
	}
	return names
}

// mergeSources makes the entries the union of every source's jobs, within the watch cap, keeping the
// state of the jobs already watched. It reports whether the watch set changed; with c.mu held.
func (c *Collector) mergeSources() (changed bool) {
	seen := make(map[string]struct{}, len(c.entries))
	room := c.watchCap.room(len(c.entries))
	for _, name := range c.sourceNames() {
		for _, sj := range c.sources[name] {
			w := WatchedJob{Target: *sj.target, JobID: sj.jobID}
			k := w.Key()
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
			e, ok := c.entries[k]
			if !ok && !c.watchCap.admit(&room, name == ConfigSource) {
				continue
			}
			if !ok {
				e = &entry{bucket: bucketOf(k)}
				c.entries[k] = e
				changed = true
			}
			e.target, e.jobID = sj.target, sj.jobID
			e.fromConfig, e.source = name == ConfigSource, name
			if e.fromConfig && e.dropped {
				// The operator names the job now: watch it, and let its not-found answers show.
				e.dropped, e.notFound, e.nextAllowed = false, 0, 0
				changed = true
			}
		}
	}
	for k := range c.entries {
		if _, ok := seen[k]; !ok {
			delete(c.entries, k)
			changed = true
		}
	}
	c.watchCap.done(c.logger, len(c.entries))
	return changed
}

// rebuildOrder sorts the entries by key and starts the exposition cache again; with c.mu held.
func (c *Collector) rebuildOrder() {
	keys := make([]string, 0, len(c.entries))
	for k := range c.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	c.expo.reset()
	clear(c.order) // a forgotten job must not stay reachable from the spare capacity
	c.order = c.order[:0]
	for _, k := range keys {
		c.order = append(c.order, c.entries[k])
	}
}

// Refresh is RefreshFor with a pull that is not a scraper's.
func (c *Collector) Refresh(ctx context.Context) { c.RefreshFor(ctx, "") }

// RefreshFor queries every watched job that is due for the given pull: not final, not in a not-found
// back-off, and, for a scraper, not asked since the scraper's previous pull. So every pull of every
// Prometheus gets answers newer than its own previous pull, whatever its scrape interval and jitter,
// while the second replica of an HA pair, pulling between two pulls of the first, is served the first
// one's answers and costs no API call. A scraper not seen before is served answers younger than
// MinQueryInterval; a pull that is not a scraper's ("") is served from memory (see scraperActiveFor).
//
// A job counts as asked only when a request for it was sent: a query that sent nothing (the budget was
// spent, a rate limit had no room) or whose client hung up before the answer keeps the job as it was and
// due for the next pull, and is not a failure of the job. A request cut by the deadline after it was
// sent is a failure (timeout), and the job stays due. Deferred queries are counted by reason and logged
// as one line per pull, never one per job.
//
// It returns when all due jobs are answered or ctx ends. A job another pull is already querying is
// waited for, not queried twice.
func (c *Collector) RefreshFor(ctx context.Context, scraper string) {
	start := c.now()
	var own []*entry
	var waits []chan struct{}

	c.mu.Lock()
	opts, sem := c.opts, c.sem
	since, scraperPull := c.pullKind(scraper, start, opts)
	// Only live jobs are ever queried: at 10,000 jobs, 90% finished, this walks 1,000.
	for _, e := range c.segments()[liveSegment] {
		switch {
		case e.inflight != nil:
			waits = append(waits, e.inflight)
		case c.due(e, start, since, scraperPull, opts):
			e.inflight = make(chan struct{})
			own = append(own, e)
		}
	}
	// Longest-unknown first: a job never answered before any other, then the one whose answer is
	// oldest. When the deadline lets only part of the jobs through (the first pull after a restart at
	// scale), the next pull continues with the others instead of refreshing the same ones again.
	sort.SliceStable(own, func(i, j int) bool { return own[i].lastSuccess < own[j].lastSuccess })
	// Grouped under the lock: SetJobs sets each entry's target on every run of every source.
	s := newSchedule(byProject(own))
	c.mu.Unlock()
	if len(waits) > 0 && c.waitHook != nil {
		c.waitHook()
	}

	t := c.run(ctx, sem, s, unixNanos(start))
	for _, ch := range waits {
		select {
		case <-ch:
		case <-ctx.Done():
		}
	}
	// Retiring is part of the refresh, so that the pull that follows only reads (see expoCache).
	c.retire()
	c.endPull(start, t)
}

// run queries the jobs of s with at most cap(sem) workers, each holding a slot of sem (shared with
// concurrent pulls) for one query at a time. Jobs no worker reached before ctx ended are deferred.
func (c *Collector) run(ctx context.Context, sem chan struct{}, s *schedule, at int64) *tally {
	t := &tally{}
	var wg sync.WaitGroup
	for range min(s.len(), cap(sem)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				i, e, ok := s.take()
				if !ok {
					<-sem
					return
				}
				t.add(c.query(ctx, e, at))
				<-sem
				s.done(i)
			}
		}()
	}
	wg.Wait()
	for _, e := range s.rest() {
		c.release(e)
		t.add(huaweicloud.ReasonTimeout)
	}
	return t
}

// tally counts what became of the queries of one pull: answered (good or bad) or deferred, by reason.
type tally struct {
	mu       sync.Mutex
	asked    int
	deferred map[string]int
}

// add counts one query; reason is "" for a query that was asked, else why it was deferred.
func (t *tally) add(reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if reason == "" {
		t.asked++
		return
	}
	if t.deferred == nil {
		t.deferred = map[string]int{}
	}
	t.deferred[reason]++
}

// endPull accounts a pull: its duration, the freshness gauges, and at most one log line for the queries
// it deferred. Deferring is pacing, not an incident: the jobs are asked by a later pull, the counter
// and the freshness gauges show it when it lasts.
func (c *Collector) endPull(start time.Time, t *tally) {
	now := c.now()
	if c.metrics != nil {
		age, unanswered := c.freshness(now)
		c.metrics.ObservePull(selfmetrics.Pull{Duration: now.Sub(start), Deferred: t.deferred,
			OldestAnswerAge: age, Unanswered: unanswered})
	}
	if len(t.deferred) == 0 {
		return
	}
	kv := []any{"msg", "pull deferred job queries to a later pull", "asked", t.asked,
		"duration_seconds", now.Sub(start).Seconds()}
	for _, reason := range huaweicloud.Reasons {
		if n := t.deferred[reason]; n > 0 {
			kv = append(kv, "deferred_"+reason, n)
		}
	}
	level.Info(c.logger).Log(kv...)
}

// freshness returns the age of the oldest answer among the unfinished jobs that have one, and how many
// unfinished jobs have none yet. PENDING_PAYMENT jobs are asked every PendingPaymentInterval by design
// and are left out of the age.
func (c *Collector) freshness(now time.Time) (oldest time.Duration, unanswered int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// The live segment holds only unfinished jobs the exporter still asks about (entry.live).
	for _, e := range c.segments()[liveSegment] {
		switch {
		case e.job == nil:
			unanswered++
		case e.job.Status == huaweicloud.StatusPendingPayment:
		default:
			oldest = max(oldest, time.Duration(unixNanos(now)-e.lastSuccess))
		}
	}
	return oldest, unanswered
}

// schedule hands the queries of one pull to the shared workers. A free worker takes the next query of
// the project (region and project id) with the fewest queries in flight, the projects taking turns on a
// tie. A project alone gets every worker: no fixed cap holds it back (1,000 unfinished jobs at
// concurrency 16 take ceil(1000/16) round trips). Several share the workers equally, and a project
// whose queries are slow, or held back by its own rate_limit, holds at most its share, never the slots
// another project needs. Within a project the order of the pull is kept: longest-unknown first.
type schedule struct {
	mu     sync.Mutex
	queues [][]*entry
	busy   []int // queries in flight per project
	next   int   // the project that wins the next tie
	n      int   // queries not taken yet
}

func newSchedule(groups [][]*entry) *schedule {
	s := &schedule{queues: groups, busy: make([]int, len(groups))}
	for _, q := range groups {
		s.n += len(q)
	}
	return s
}

func (s *schedule) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// take returns the next query and its project, or false when none is left.
func (s *schedule) take() (int, *entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	best := -1
	for k := range s.queues {
		i := (s.next + k) % len(s.queues)
		if len(s.queues[i]) > 0 && (best < 0 || s.busy[i] < s.busy[best]) {
			best = i
		}
	}
	if best < 0 {
		return 0, nil, false
	}
	e := s.queues[best][0]
	s.queues[best][0] = nil
	s.queues[best] = s.queues[best][1:]
	s.busy[best]++
	s.next = best + 1
	s.n--
	return best, e, true
}

// done ends a query of project i.
func (s *schedule) done(i int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.busy[i]--
}

// rest empties the schedule and returns the queries no worker took.
func (s *schedule) rest() []*entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*entry
	for i, q := range s.queues {
		out = append(out, q...)
		s.queues[i] = nil
	}
	s.n = 0
	return out
}

// byProject splits entries by region and project, keeping their order within each; with c.mu held.
func byProject(entries []*entry) [][]*entry {
	type key struct{ region, project string }
	index := map[key]int{}
	var groups [][]*entry
	for _, e := range entries {
		k := key{e.target.Region, e.target.ProjectID}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], e)
	}
	return groups
}

// pullKind tells how a pull starting at now is served: as a scraper's (scraperPull), with since the
// start of that scraper's previous pull (zero when unknown), or from memory (see frequentPullDivisor).
// It records the pull; called with c.mu held.
func (c *Collector) pullKind(scraper string, now time.Time, opts Options) (since time.Time, scraperPull bool) {
	if scraper == "" {
		return time.Time{}, false
	}
	prev := c.lastPull(scraper, now)
	if !prev.IsZero() && now.Sub(prev) < opts.MinQueryInterval/frequentPullDivisor {
		return time.Time{}, false
	}
	c.lastScraperPull = now
	return prev, true
}

// lastPull returns the start of the scraper's previous pull (zero when unknown) and records this one;
// called with c.mu held.
func (c *Collector) lastPull(scraper string, now time.Time) time.Time {
	if len(scraper) > scraperIDLen { // a caller's own text: the table keeps fixed-size keys
		scraper = scraperKey(scraper)
	}
	if scraper == "" {
		return time.Time{}
	}
	prev := c.scrapers[scraper]
	if _, known := c.scrapers[scraper]; !known && len(c.scrapers) >= maxScrapers {
		oldest := ""
		for s, t := range c.scrapers {
			if now.Sub(t) >= scraperForgetIn {
				delete(c.scrapers, s)
			} else if oldest == "" || t.Before(c.scrapers[oldest]) {
				oldest = s
			}
		}
		if len(c.scrapers) >= maxScrapers {
			delete(c.scrapers, oldest)
		}
	}
	c.scrapers[scraper] = now
	return prev
}

// due tells whether a pull starting at now queries e: a scraper's pull (scraperPull) whose previous pull
// started at since (zero if unknown), or a pull served from memory.
func (c *Collector) due(e *entry, now, since time.Time, scraperPull bool, opts Options) bool {
	if e.retired || e.vanished || e.dropped || (e.job != nil && e.job.Final()) {
		return false
	}
	if unixNanos(now) < e.nextAllowed {
		return false
	}
	if e.lastAttempt == 0 {
		return true
	}
	elapsed := time.Duration(unixNanos(now) - e.lastAttempt)
	switch {
	case e.job != nil && e.job.Status == huaweicloud.StatusPendingPayment:
		return elapsed >= opts.PendingPaymentInterval
	case elapsed < min(minRefreshGap, opts.MinQueryInterval):
		return false
	case !scraperPull && now.Sub(c.lastScraperPull) < scraperActiveFor:
		// A scraper keeps the answers fresh; this pull is served them.
		return false
	case !since.IsZero():
		// Asked at or before this scraper's previous pull: the scraper has seen that answer already.
		return e.lastAttempt <= unixNanos(since)
	}
	return elapsed >= opts.MinQueryInterval
}

// query asks the API about one job and records the answer, with at the start of the pull in Unix
// nanoseconds. It returns "" when the job was asked, else the reason it was deferred (see RefreshFor).
func (c *Collector) query(ctx context.Context, e *entry, at int64) string {
	c.mu.Lock()
	w, getter := e.watched(), c.getter
	c.mu.Unlock()

	job, err := getter.GetJob(ctx, w.Target, w.JobID)
	cut := err != nil && ctx.Err() != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled))
	if huaweicloud.Deferred(err) || (cut && errors.Is(ctx.Err(), context.Canceled)) {
		// Nothing sent, or the client gone before the answer: nothing learnt.
		c.release(e)
		return huaweicloud.Reason(err)
	}
	if !cut {
		// Asked: a scraper that pulled before this pull started has not seen this answer; one that
		// pulls after it has. A request the deadline cut short leaves the job due.
		c.mu.Lock()
		e.lastAttempt = at
		c.mu.Unlock()
	}
	c.record(e, job, err)
	return ""
}

// release ends the claim of a pull on e that learnt nothing: e is as it was, due for the next pull.
func (c *Collector) release(e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	close(e.inflight)
	e.inflight = nil
}

func (c *Collector) record(e *entry, job *huaweicloud.Job, err error) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() { close(e.inflight); e.inflight = nil }()
	defer c.changed(e, *e)
	w := e.watched()
	if err == nil {
		job = c.sanitize(job)
		c.clampFuture(e, job, now)
		if job.JobID == w.JobID {
			job.JobID = w.JobID // one copy of the id per job, not two
		}
		e.ok, e.lastErr, e.lastReason, e.notFound = true, nil, "", 0
		e.lastSuccess = unixNanos(now)
		e.job = job
		if job.Final() {
			if e.seenFinalAt == 0 {
				e.seenFinalAt = unixNanos(now)
			}
			e.finalAt = unixNanos(clampNanos(job.EndTime))
			if e.finalAt == 0 {
				e.finalAt = e.seenFinalAt
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
	if reason == huaweicloud.ReasonNetwork && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// The scrape deadline cut a request short. Other reasons (throttled: held back by the rate
		// limit until the deadline) say more than "timeout" and are kept.
		reason = huaweicloud.ReasonTimeout
	}
	if c.metrics != nil {
		c.metrics.QueryFailed(w.Target.Service, w.Target.Region, w.Target.ProjectID, reason)
	}
	changed := e.ok || e.lastReason != reason
	e.ok, e.lastErr, e.lastReason = false, err, reason
	if reason == huaweicloud.ReasonNotFound && c.notFound(e, now) {
		return
	}
	lvl := level.Debug
	if changed && !errors.Is(err, huaweicloud.ErrAuthBackoff) && !errors.Is(err, huaweicloud.ErrPermissionBackoff) {
		// One line when a job starts failing or fails differently, not one per scrape; the queries a
		// resting key or permission skips repeat the one failure that was logged.
		lvl = level.Warn
	}
	kv := []any{"msg", "job query failed", "service", w.Target.Service, "region", w.Target.Region,
		"project_id", w.Target.ProjectID, "job_id", w.JobID, "reason", reason, "err", labeltext.Truncate(err.Error(), maxLoggedErrLen)}
	kv = append(kv, queryHint(w.Target, reason, err, e.fromConfig)...)
	lvl(c.logger).Log(kv...)
}

// notFound handles an answer saying the job does not exist, with c.mu held. It returns true when the job
// leaves the watch for good (logged here).
//
// A job is given up only on confirmation (notFoundConfirmations answers over notFoundConfirmSpan), except
// a discovered job the API never knew: CTS or a job file named an id that was deleted before the exporter
// asked (jobs are kept one day, ECS seed), so it is dropped on the first answer, counted, and not asked
// again while discovery lists it. A config job is never dropped: it is asked with a growing back-off
// and shows query_success 0 with reason not_found, since it is most likely a typo to fix.
func (c *Collector) notFound(e *entry, now time.Time) bool {
	w := e.watched()
	if e.notFound == 0 {
		e.firstNotFound = unixNanos(now)
	}
	e.notFound++
	backoff := notFoundBackoffMin << min(e.notFound-1, 10)
	e.nextAllowed = unixNanos(now.Add(min(backoff, notFoundBackoffMax)))
	service, region := string(w.Target.Service), w.Target.Region

	if e.job == nil {
		if e.fromConfig {
			return false
		}
		e.dropped = true
		if c.metrics != nil {
			c.metrics.DiscoveredDropped(w.Target.Service, region, e.source)
		}
		level.Debug(c.logger).Log("msg", "discovered job unknown to the API; dropped", "service", service, "region", region,
			"project_id", w.Target.ProjectID, "job_id", w.JobID, "source", e.source)
		return true
	}
	if e.notFound < notFoundConfirmations || time.Duration(unixNanos(now)-e.firstNotFound) < notFoundConfirmSpan {
		return false
	}
	// Unfinished until now, then forgotten by the API: nobody can tell whether it succeeded. Shown once
	// as vanished (an alert can page on it), retired after FinalJobTTL like a final job.
	e.vanished, e.finalAt = true, unixNanos(now)
	if c.metrics != nil {
		c.metrics.JobVanished(w.Target.Service, region)
	}
	level.Warn(c.logger).Log("msg", "unfinished job no longer known to the API; its outcome is unknown", "service", service,
		"region", region, "project_id", w.Target.ProjectID, "job_id", w.JobID, "last_status", e.job.Status,
		"not_found_answers", e.notFound, "since", fromNanos(e.firstNotFound).UTC().Format(time.RFC3339))
	return true
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
	Vanished     bool // was unfinished, then unknown to the API: Status is the last one seen
	Dropped      bool // discovered, never known to the API
}

// Snapshot returns the state of every watched job, sorted by service, region, project and job id.
func (c *Collector) Snapshot() []JobState {
	c.mu.Lock()
	out := make([]JobState, 0, len(c.order))
	for _, e := range c.order {
		w := e.watched()
		s := JobState{
			Service:      string(w.Target.Service),
			Region:       w.Target.Region,
			ProjectID:    w.Target.ProjectID,
			JobID:        w.JobID,
			QuerySuccess: e.ok,
			LastSuccess:  fromNanos(e.lastSuccess),
			Retired:      e.retired,
			Vanished:     e.vanished,
			Dropped:      e.dropped,
		}
		if e.lastErr != nil {
			s.LastError = labeltext.Truncate(e.lastErr.Error(), maxLoggedErrLen)
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

// sanitize returns a copy of job to keep: the parser already made its texts label values (huaweicloud's
// caps table), so this counts what it cut and interns the texts that repeat across jobs. Called with c.mu
// held, once per answer, not per scrape.
func (c *Collector) sanitize(job *huaweicloud.Job) *huaweicloud.Job {
	j := *job
	if c.metrics != nil {
		for _, field := range job.Truncated {
			c.metrics.ValueTruncated(field)
		}
	}
	j.Truncated = nil // counted; not kept with the answer
	j.Status, j.JobType, j.ErrorCode = intern(j.Status), intern(j.JobType), intern(j.ErrorCode)
	if len(j.SubJobs) > 0 {
		j.SubJobs = make([]huaweicloud.SubJob, len(job.SubJobs))
		for i, sj := range job.SubJobs {
			sj.Status, sj.JobType, sj.ErrorCode = intern(sj.Status), intern(sj.JobType), intern(sj.ErrorCode)
			j.SubJobs[i] = sj
		}
	}
	return &j
}

// intern returns the one copy of s that every job shares: statuses, job types and error codes repeat
// across thousands of jobs. A documented status becomes the package's constant, so that the status tests
// every scrape makes of every job (Final) compare pointers, not bytes.
func intern(s string) string {
	if i := statusIndex(s); i >= 0 {
		return knownStatuses[i]
	}
	return unique.Make(s).Value()
}
