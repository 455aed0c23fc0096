package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// TraceLister reads CTS traces; *huaweicloud.Client is one.
type TraceLister interface {
	ListTraces(ctx context.Context, t huaweicloud.Target, q huaweicloud.TraceQuery) (*huaweicloud.TracePage, error)
}

// CTSOptions tunes a CTS source.
type CTSOptions struct {
	Services  []huaweicloud.Service // job services whose traces are read
	Lookback  time.Duration         // how far back the first run reads (default DefaultLookback)
	Retain    time.Duration         // how long a found job stays watched after its trace (added to Lookback)
	PageLimit int                   // traces per page, 1..200 (default 200)
	MaxPages  int                   // pages per service per run (default 50); the rest waits for the next run
	Now       func() time.Time
}

// DefaultLookback is how long ECS keeps a finished job ("deleted one day later", ECS API reference,
// "Querying Job Execution Status", status field): a first run that reads this far back finds every job
// the API still knows, so a restarted exporter watches again what it watched before.
const DefaultLookback = 24 * time.Hour

// windowOverlap re-reads the end of the previous window: CTS records traces a little after the call, so
// a trace can appear with a time the previous run already covered.
const windowOverlap = 2 * time.Minute

// CTS finds jobs in the responses of job-creating calls recorded by the Cloud Trace Service. The first run
// reads Lookback; later runs read only what is new since the previous run (with an overlap), so a run
// costs a page or two per service instead of the whole history.
type CTS struct {
	lister  TraceLister
	cts     huaweicloud.Target
	targets map[huaweicloud.Service]huaweicloud.Target
	opts    CTSOptions

	mu      sync.Mutex
	last    time.Time                        // end of the last good window, zero before the first
	found   map[string]foundJob              // by WatchedJob.Key
	backlog map[huaweicloud.Service][]window // parts of windows left unread because of MaxPages, newest first
}

// window bounds the record time of traces, exclusively on both ends like CTS' from and to.
type window struct{ from, to time.Time }

type foundJob struct {
	job  collector.WatchedJob
	seen time.Time // time of the trace that named it
}

// NewCTS reads traces from the CTS endpoint in cts and watches the jobs it finds at targets[service].
func NewCTS(lister TraceLister, cts huaweicloud.Target, targets map[huaweicloud.Service]huaweicloud.Target, opts CTSOptions) *CTS {
	if opts.Lookback <= 0 {
		opts.Lookback = DefaultLookback
	}
	if opts.PageLimit <= 0 || opts.PageLimit > 200 {
		opts.PageLimit = 200
	}
	if opts.MaxPages <= 0 {
		opts.MaxPages = 50
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if len(opts.Services) == 0 {
		opts.Services = huaweicloud.CTSDefaultServices
	}
	return &CTS{lister: lister, cts: cts, targets: targets, opts: opts, found: map[string]foundJob{}}
}

// Name is unique per project, since each project has its own trail.
func (c *CTS) Name() string { return "cts/" + c.cts.Region + "/" + c.cts.ProjectID }

// Discover reads the new traces of every configured service and returns all jobs still retained.
func (c *CTS) Discover(ctx context.Context) ([]collector.WatchedJob, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.opts.Now()
	from := now.Add(-c.opts.Lookback)
	if !c.last.IsZero() && c.last.Add(-windowOverlap).After(from) {
		from = c.last.Add(-windowOverlap)
	}
	cutoff := now.Add(-c.opts.Lookback - c.opts.Retain)
	fresh := map[string]foundJob{}
	backlog := map[huaweicloud.Service][]window{}
	for _, svc := range c.opts.Services {
		target, ok := c.targets[svc]
		if !ok {
			continue
		}
		// The new window first, then what earlier runs left unread, within MaxPages pages. CTS pages walk
		// backwards, so what a run leaves unread is the old end of a window; it waits for a run with pages
		// to spare. Traces older than the cutoff would be forgotten at once, so they are not read again.
		windows := []window{{from, now}}
		for _, w := range c.backlog[svc] {
			if limit := cutoff.Add(-time.Millisecond); w.from.Before(limit) {
				w.from = limit
			}
			if w.to.After(w.from) {
				windows = append(windows, w)
			}
		}
		budget := c.opts.MaxPages
		var left []window
		for _, w := range windows {
			if budget == 0 {
				left = append(left, w)
				continue
			}
			rest, used, err := c.readService(ctx, svc, target, w, budget, fresh)
			if err != nil {
				// Neither the window nor the backlog advances, so the next run reads these traces again.
				return nil, err
			}
			budget -= used
			if rest != nil {
				left = append(left, *rest)
			}
		}
		if len(left) > 0 {
			backlog[svc] = left
		}
	}
	for k, f := range fresh {
		if old, ok := c.found[k]; !ok || f.seen.After(old.seen) {
			c.found[k] = f
		}
	}
	c.last, c.backlog = now, backlog
	jobs := make([]collector.WatchedJob, 0, len(c.found))
	for k, f := range c.found {
		if f.seen.Before(cutoff) {
			delete(c.found, k)
			continue
		}
		jobs = append(jobs, f.job)
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].Key() < jobs[j].Key() })
	return jobs, nil
}

// readService reads the traces of svc in w, at most pages pages. It returns the part of w it left unread
// (nil when it read everything) and the pages it used.
func (c *CTS) readService(ctx context.Context, svc huaweicloud.Service, target huaweicloud.Target, w window, pages int, into map[string]foundJob) (*window, int, error) {
	// The trace's service_type is the table's (EIP's traces are VPC's), else the name in capitals.
	serviceType := strings.ToUpper(string(svc))
	if spec, ok := huaweicloud.Spec(svc); ok && spec.CTSServiceType != "" {
		serviceType = spec.CTSServiceType
	}
	next := ""
	var oldest time.Time
	for page := 0; page < pages; page++ {
		p, err := c.lister.ListTraces(ctx, c.cts, huaweicloud.TraceQuery{
			ServiceType: serviceType, Limit: c.opts.PageLimit, Next: next, From: w.from, To: w.to,
		})
		if err != nil {
			return nil, page, fmt.Errorf("list %s traces: %w", serviceType, err)
		}
		for _, tr := range p.Traces {
			seen := tr.Time
			if seen.IsZero() {
				seen = w.to
			} else if oldest.IsZero() || seen.Before(oldest) {
				oldest = seen
			}
			for _, id := range JobIDs(tr.Response) {
				wj := collector.WatchedJob{Target: target, JobID: id}
				into[wj.Key()] = foundJob{job: wj, seen: seen}
			}
		}
		if p.Marker == "" || len(p.Traces) == 0 || p.Marker == next {
			return nil, page + 1, nil
		}
		next = p.Marker
	}
	// Out of pages with more to read. The rest is older than the oldest trace read; the bound keeps that
	// trace's millisecond, which may hold traces not read yet.
	rest := w
	if !oldest.IsZero() && oldest.Before(w.to) {
		rest.to = oldest.Add(time.Millisecond)
	}
	return &rest, pages, nil
}

// JobIDs extracts the job ids from the recorded answer of a call: {"job_id": "..."} for the 202 of a
// job-creating call, the job itself for ECS traces that record the outcome, "job_ids" lists of batch
// calls, and status.jobID of CCE's cluster and node objects (SDK cce/v3/model/model_cluster_status.go,
// model_node_status.go: the job of a cluster or node being created or deleted). Anything else (not JSON,
// no id, ids that are not job ids) yields nothing.
func JobIDs(response string) []string {
	response = strings.TrimSpace(response)
	if response == "" || response[0] != '{' {
		return nil
	}
	var v struct {
		JobID  any   `json:"job_id"`
		JobIDs []any `json:"job_ids"`
		// A string in job bodies (ECS), an object in CCE's: read apart so that either decodes.
		Status json.RawMessage `json:"status"`
	}
	if json.Unmarshal([]byte(response), &v) != nil {
		return nil
	}
	var ids []string
	add := func(x any) {
		if s, ok := x.(string); ok && huaweicloud.ValidJobID(s) {
			ids = append(ids, s)
		}
	}
	add(v.JobID)
	var st struct {
		JobID any `json:"jobID"`
	}
	if json.Unmarshal(v.Status, &st) == nil {
		add(st.JobID)
	}
	for _, x := range v.JobIDs {
		add(x)
	}
	return ids
}
