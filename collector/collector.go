// Package collector turns the answers of Huawei Cloud's job API into Prometheus metrics. It keeps the
// watch set (jobs from the config and from discovery), queries the unfinished ones when Prometheus
// scrapes, remembers final answers so that a finished job never costs another API call, and exports
// everything as const metrics built from one snapshot.
package collector

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unique"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// JobGetter is the part of the API client the collector needs; tests substitute a fake.
type JobGetter interface {
	GetJob(ctx context.Context, t huaweicloud.Target, jobID string) (*huaweicloud.Job, error)
}

// Pacer is implemented by a JobGetter that rate-limits queries per project (huaweicloud.Client.WaitTurn).
// The collector waits for a query's turn before it takes a concurrency slot, so queries held back by one
// project's limit never hold the slots that another project's queries need.
type Pacer interface {
	WaitTurn(ctx context.Context, t huaweicloud.Target) (context.Context, error)
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

// DefaultOptions match the config defaults.
var DefaultOptions = Options{Concurrency: 16, MinQueryInterval: 10 * time.Second, FinalJobTTL: 24 * time.Hour,
	PendingPaymentInterval: 5 * time.Minute}

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
// min_query_interval is set lower): a loop of curl cannot turn into a loop of API calls.
const minRefreshGap = time.Second

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
	metrics *ExporterMetrics
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
	// expo is the exposition cache: the gzip answer to Prometheus in parts, with the versions of their
	// samples; entries reach it through changed and retire only (expocache.go).
	expo *expoCache
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
func WithMetrics(m *ExporterMetrics) Option { return func(c *Collector) { c.metrics = m } }

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
	// A source lists thousands of jobs over a handful of targets (one per project and service): each
	// target is kept once, not once per job.
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
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(mine) == 0 {
		delete(c.sources, source)
	} else {
		c.sources[source] = mine
	}
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
	// Discovery lists the same jobs run after run: only a change of the watch set (a job added, removed or
	// no longer dropped) changes the exposition and the order, so only then are they rebuilt.
	setChanged := false
	seen := make(map[string]struct{}, len(c.entries))
	for _, name := range names {
		for _, sj := range c.sources[name] {
			w := WatchedJob{Target: *sj.target, JobID: sj.jobID}
			k := w.Key()
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
			e, ok := c.entries[k]
			if !ok {
				e = &entry{bucket: bucketOf(k)}
				c.entries[k] = e
				setChanged = true
			}
			e.target, e.jobID = sj.target, sj.jobID
			e.fromConfig = name == ConfigSource
			if e.fromConfig && e.dropped {
				// The operator names the job now: watch it, and let its not-found answers show.
				e.dropped, e.notFound, e.nextAllowed = false, 0, 0
				setChanged = true
			}
		}
	}
	for k := range c.entries {
		if _, ok := seen[k]; !ok {
			delete(c.entries, k)
			setChanged = true
		}
	}
	if !setChanged {
		return
	}
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

// Refresh is RefreshFor with a scraper the collector does not know.
func (c *Collector) Refresh(ctx context.Context) { c.RefreshFor(ctx, "") }

// RefreshFor queries every watched job that is due for the given scraper: not final, not in a not-found
// back-off, and not queried since the scraper's previous pull. So every pull of every Prometheus gets
// answers newer than its own previous pull, whatever its scrape interval and jitter, while the second
// replica of an HA pair, pulling between two pulls of the first, is served the first one's answers and
// costs no API call. A scraper not seen before (or "") is served answers younger than MinQueryInterval.
// It returns when all due jobs are answered or ctx ends. A job another pull is already querying is
// waited for, not queried twice.
func (c *Collector) RefreshFor(ctx context.Context, scraper string) {
	start := c.now()
	var own []*entry
	var waits []chan struct{}

	c.mu.Lock()
	opts, sem := c.opts, c.sem
	since := c.lastPull(scraper, start)
	// Only live jobs are ever queried: at 10,000 jobs, 90% finished, this walks 1,000.
	for _, e := range c.segments()[liveSegment] {
		switch {
		case e.inflight != nil:
			waits = append(waits, e.inflight)
		case c.due(e, start, since, opts):
			e.inflight = make(chan struct{})
			e.lastAttempt = unixNanos(start)
			own = append(own, e)
		}
	}
	// Longest-unrefreshed first: when throttling or the deadline lets only part of the jobs through,
	// the next scrape continues with the others instead of refreshing the same ones again.
	sort.SliceStable(own, func(i, j int) bool { return own[i].lastSuccess < own[j].lastSuccess })
	// Grouped under the lock: SetJobs sets each entry's target on every run of every source.
	groups := byProject(own)
	c.mu.Unlock()
	if len(waits) > 0 && c.waitHook != nil {
		c.waitHook()
	}

	// Each project (region and project id) has its own workers, which take its jobs in order: a project
	// held back by its rate limit (or slow to answer) delays only its own jobs. The shared semaphore still
	// bounds the queries in flight across projects and concurrent scrapes.
	var wg sync.WaitGroup
	for _, group := range groups {
		var next atomic.Int64
		for range min(len(group), cap(sem)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1) - 1; i < int64(len(group)); i = next.Add(1) - 1 {
					c.query(ctx, sem, group[i])
				}
			}()
		}
	}
	wg.Wait()
	for _, ch := range waits {
		select {
		case <-ch:
		case <-ctx.Done():
		}
	}
	// Retiring is part of the refresh, so that the pull that follows only reads (see expoCache).
	c.retire()
	if c.metrics != nil {
		c.metrics.scrapeDuration.Set(c.now().Sub(start).Seconds())
	}
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

// lastPull returns the start of the scraper's previous pull (zero when unknown) and records this one;
// called with c.mu held.
func (c *Collector) lastPull(scraper string, now time.Time) time.Time {
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

// due tells whether a pull starting at now, by a scraper whose previous pull started at since (zero if
// unknown), queries e.
func (c *Collector) due(e *entry, now, since time.Time, opts Options) bool {
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
	case !since.IsZero():
		// Asked at or before this scraper's previous pull: the scraper has seen that answer already.
		return e.lastAttempt <= unixNanos(since)
	}
	return elapsed >= opts.MinQueryInterval
}

// query asks the API about one job, holding a slot of the concurrency bound, and records the answer.
func (c *Collector) query(ctx context.Context, sem chan struct{}, e *entry) {
	c.mu.Lock()
	w, getter := e.watched(), c.getter
	c.mu.Unlock()

	var job *huaweicloud.Job
	var err error
	qctx := ctx
	if p, ok := getter.(Pacer); ok {
		// Waiting for the project's turn holds no slot; a turn that would come after the deadline is
		// refused at once, as throttled.
		if qctx, err = p.WaitTurn(ctx, w.Target); err != nil {
			c.record(e, nil, err)
			return
		}
	}
	select {
	case sem <- struct{}{}:
		job, err = getter.GetJob(qctx, w.Target, w.JobID)
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
	defer c.changed(e, *e)
	w := e.watched()
	if err == nil {
		job = c.sanitize(job)
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
		c.metrics.queryFailures.WithLabelValues(string(w.Target.Service), w.Target.Region, reason).Inc()
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
		"project_id", w.Target.ProjectID, "job_id", w.JobID, "reason", reason, "err", truncate(err.Error(), maxLoggedErrLen)}
	switch reason {
	case huaweicloud.ReasonPermission:
		kv = append(kv, "hint", "grant the credentials read-only access to "+strings.ToUpper(string(w.Target.Service))+
			" in this project (e.g. the "+strings.ToUpper(string(w.Target.Service))+" ReadOnlyAccess policy); other services keep working")
	case huaweicloud.ReasonEndpoint:
		kv = append(kv, "endpoint", w.Target.Endpoint, "hint", "the endpoint has no such API: check projects[].endpoints and the region")
	}
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
			c.metrics.discoveredDropped.WithLabelValues(service, region).Inc()
		}
		level.Debug(c.logger).Log("msg", "discovered job unknown to the API; dropped", "service", service, "region", region,
			"project_id", w.Target.ProjectID, "job_id", w.JobID)
		return true
	}
	if e.notFound < notFoundConfirmations || time.Duration(unixNanos(now)-e.firstNotFound) < notFoundConfirmSpan {
		return false
	}
	// Unfinished until now, then forgotten by the API: nobody can tell whether it succeeded. Shown once
	// as vanished (an alert can page on it), retired after FinalJobTTL like a final job.
	e.vanished, e.finalAt = true, unixNanos(now)
	if c.metrics != nil {
		c.metrics.jobsVanished.WithLabelValues(service, region).Inc()
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
			s.LastError = truncate(e.lastErr.Error(), maxLoggedErrLen)
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

// sanitize returns a copy of job whose texts are label-safe (see cut), counting each text that had to be
// cut, so the exposition writes them as they are. Called with c.mu held, once per answer, not per scrape.
func (c *Collector) sanitize(job *huaweicloud.Job) *huaweicloud.Job {
	j := *job
	if c.metrics != nil {
		for _, field := range job.Truncated {
			c.metrics.truncatedValues.WithLabelValues(field).Inc()
		}
	}
	j.Truncated = nil // counted; not kept with the answer
	fix := func(field string, s *string, n int) {
		var cutShort bool
		*s, cutShort = cut(*s, n)
		if cutShort && c.metrics != nil {
			c.metrics.truncatedValues.WithLabelValues(field).Inc()
		}
	}
	fix("status", &j.Status, maxStatusLen)
	fix("job_type", &j.JobType, maxIDLen)
	fix("error_code", &j.ErrorCode, maxStatusLen)
	j.Status, j.JobType, j.ErrorCode = intern(j.Status), intern(j.JobType), intern(j.ErrorCode)
	fix("fail_reason", &j.FailReason, maxReasonLen)
	fix("resource_id", &j.ResourceID, maxIDLen)
	if len(j.SubJobs) > 0 {
		j.SubJobs = make([]huaweicloud.SubJob, len(job.SubJobs))
		for i, sj := range job.SubJobs {
			fix("status", &sj.Status, maxStatusLen)
			fix("error_code", &sj.ErrorCode, maxStatusLen)
			fix("fail_reason", &sj.FailReason, maxReasonLen)
			fix("resource_id", &sj.ResourceID, maxIDLen)
			// Not exported as labels, but kept in memory and shown on the landing page.
			fix("job_type", &sj.JobType, maxIDLen)
			fix("job_id", &sj.JobID, maxIDLen)
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
