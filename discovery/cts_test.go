package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

const (
	testRegion  = "ap-southeast-1"
	testProject = "0605767d4a0010ee2f3ac01e28a1a6b4"
)

// t0 is the fake clock's start; trace times are whole milliseconds, as CTS records them.
var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

var ctsTarget = huaweicloud.Target{
	Service: huaweicloud.CTS, Region: testRegion, ProjectID: testProject,
	Endpoint: "https://cts.ap-southeast-1.myhuaweicloud.com",
}

// testTargets are the job targets of one project, as the exporter builds them.
func testTargets(services ...huaweicloud.Service) map[huaweicloud.Service]huaweicloud.Target {
	if len(services) == 0 {
		services = huaweicloud.JobServices
	}
	m := map[huaweicloud.Service]huaweicloud.Target{}
	for _, s := range services {
		m[s] = huaweicloud.Target{Service: s, Region: testRegion, ProjectID: testProject,
			Endpoint: huaweicloud.DefaultEndpoint(s, testRegion)}
	}
	return m
}

func jobID(n int) string { return fmt.Sprintf("%032x", n) }

func watched(svc huaweicloud.Service, id string) collector.WatchedJob {
	return collector.WatchedJob{Target: testTargets()[svc], JobID: id}
}

// fakeCTS is an in-memory trail that pages like CTS ListTraces: traces with from < time < to (epoch ms,
// both bounds exclusive, a zero bound is open), newest first, ties in reverse order of recording; limit
// 1..200; a page's marker is the id of its last trace and is set only when more traces follow; next
// continues after the trace it names and an unknown marker is an error. It records every query.
type fakeCTS struct {
	mu      sync.Mutex
	traces  map[string][]huaweicloud.Trace // by service type, in order of recording
	errs    map[string]error               // ListTraces fails for these service types
	queries []huaweicloud.TraceQuery
	targets []huaweicloud.Target
	served  map[string]int // by trace id, how often a page returned it
}

func newFakeCTS() *fakeCTS {
	return &fakeCTS{traces: map[string][]huaweicloud.Trace{}, errs: map[string]error{}, served: map[string]int{}}
}

// add records a trace of service svc that answered with response at time at.
func (f *fakeCTS) add(svc huaweicloud.Service, at time.Time, response string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := strings.ToUpper(string(svc))
	if spec, ok := huaweicloud.Spec(svc); ok && spec.CTSServiceType != "" {
		st = spec.CTSServiceType
	}
	n := 0
	for _, l := range f.traces {
		n += len(l)
	}
	f.traces[st] = append(f.traces[st], huaweicloud.Trace{
		TraceID: fmt.Sprintf("trace-%05d", n), TraceName: "createServer", ServiceType: st, ResourceType: string(svc),
		Code: "202", Response: response, Time: at,
	})
}

// addJob records the 202 of a call that created job id.
func (f *fakeCTS) addJob(svc huaweicloud.Service, at time.Time, id string) {
	f.add(svc, at, `{"job_id":"`+id+`"}`)
}

func (f *fakeCTS) setErr(serviceType string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.errs, serviceType)
	} else {
		f.errs[serviceType] = err
	}
}

func (f *fakeCTS) ListTraces(ctx context.Context, t huaweicloud.Target, q huaweicloud.TraceQuery) (*huaweicloud.TracePage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	f.targets = append(f.targets, t)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := f.errs[q.ServiceType]; err != nil {
		return nil, err
	}
	if q.Limit < 1 || q.Limit > 200 {
		return nil, fmt.Errorf("limit must be an integer from 1 to 200, not %d", q.Limit)
	}
	var match []huaweicloud.Trace
	all := f.traces[q.ServiceType]
	for i := len(all) - 1; i >= 0; i-- {
		ms := all[i].Time.UnixMilli()
		if (!q.From.IsZero() && ms <= q.From.UnixMilli()) || (!q.To.IsZero() && ms >= q.To.UnixMilli()) {
			continue
		}
		match = append(match, all[i])
	}
	sort.SliceStable(match, func(i, j int) bool { return match[i].Time.After(match[j].Time) })
	start := 0
	if q.Next != "" {
		i := slices.IndexFunc(match, func(tr huaweicloud.Trace) bool { return tr.TraceID == q.Next })
		if i < 0 {
			return nil, fmt.Errorf("next %q is not a marker of this trace list", q.Next)
		}
		start = i + 1
	}
	end := min(start+q.Limit, len(match))
	page := &huaweicloud.TracePage{Traces: slices.Clone(match[start:end]), Count: end - start}
	if end < len(match) {
		page.Marker = match[end-1].TraceID
	}
	for _, tr := range page.Traces {
		f.served[tr.TraceID]++
	}
	return page, nil
}

// takeQueries returns the queries received since the last call.
func (f *fakeCTS) takeQueries() []huaweicloud.TraceQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queries
	f.queries = nil
	return q
}

func q(st string, from, to time.Time, next string, limit int) huaweicloud.TraceQuery {
	return huaweicloud.TraceQuery{ServiceType: st, From: from, To: to, Next: next, Limit: limit}
}

func jobIDsOf(jobs []collector.WatchedJob) []string {
	ids := []string{}
	for _, j := range jobs {
		ids = append(ids, j.JobID)
	}
	return ids
}

func TestCTSWindow(t *testing.T) {
	type step struct {
		at       time.Time
		before   func(f *fakeCTS) // traces recorded before this run
		from, to time.Time        // of the one query
		wantIDs  []string
	}
	tests := []struct {
		name     string
		lookback time.Duration
		steps    []step
	}{
		{
			name:     "first run reads the lookback, later runs from the previous end minus the overlap",
			lookback: time.Hour,
			steps: []step{
				{at: t0, from: t0.Add(-time.Hour), to: t0, wantIDs: []string{}},
				{at: t0.Add(5 * time.Minute), from: t0.Add(-2 * time.Minute), to: t0.Add(5 * time.Minute), wantIDs: []string{}},
				{at: t0.Add(5*time.Minute + 30*time.Second), from: t0.Add(3 * time.Minute), to: t0.Add(5*time.Minute + 30*time.Second), wantIDs: []string{}},
			},
		},
		{
			name:     "default lookback is the day a finished job is kept",
			lookback: 0,
			steps:    []step{{at: t0, from: t0.Add(-24 * time.Hour), to: t0, wantIDs: []string{}}},
		},
		{
			name:     "after a gap longer than the lookback only the lookback is read",
			lookback: 10 * time.Minute,
			steps: []step{
				{at: t0, from: t0.Add(-10 * time.Minute), to: t0, wantIDs: []string{}},
				{at: t0.Add(3 * time.Hour), from: t0.Add(3*time.Hour - 10*time.Minute), to: t0.Add(3 * time.Hour), wantIDs: []string{}},
			},
		},
		{
			name:     "a trace recorded late inside the overlap is found, one before it is not",
			lookback: time.Hour,
			steps: []step{
				{at: t0, from: t0.Add(-time.Hour), to: t0,
					before:  func(f *fakeCTS) { f.addJob(huaweicloud.ECS, t0.Add(-10*time.Minute), jobID(1)) },
					wantIDs: []string{jobID(1)}},
				{at: t0.Add(time.Minute), from: t0.Add(-2 * time.Minute), to: t0.Add(time.Minute),
					before: func(f *fakeCTS) {
						f.addJob(huaweicloud.ECS, t0.Add(-90*time.Second), jobID(2))  // late, inside the overlap
						f.addJob(huaweicloud.ECS, t0.Add(-150*time.Second), jobID(3)) // late, before the overlap
						f.addJob(huaweicloud.ECS, t0, jobID(4))                       // at the old exclusive end
					},
					wantIDs: []string{jobID(1), jobID(2), jobID(4)}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCTS()
			clock := &fakeclock.Clock{}
			c := NewCTS(f, ctsTarget, testTargets(), CTSOptions{
				Services: []huaweicloud.Service{huaweicloud.ECS}, Lookback: tc.lookback, Now: clock.Now,
			})
			for i, s := range tc.steps {
				clock.Set(s.at)
				if s.before != nil {
					s.before(f)
				}
				jobs, err := c.Discover(t.Context())
				if err != nil {
					t.Fatalf("run %d: %v", i+1, err)
				}
				if got, want := f.takeQueries(), []huaweicloud.TraceQuery{q("ECS", s.from, s.to, "", 200)}; !reflect.DeepEqual(got, want) {
					t.Errorf("run %d: queries\n got %+v\nwant %+v", i+1, got, want)
				}
				if got := jobIDsOf(jobs); !slices.Equal(got, s.wantIDs) {
					t.Errorf("run %d: job ids %v, want %v", i+1, got, s.wantIDs)
				}
			}
			for i, tg := range f.targets {
				if tg != ctsTarget {
					t.Errorf("query %d went to %+v, want the CTS target", i, tg)
				}
			}
		})
	}
}

func TestCTSPaging(t *testing.T) {
	tests := []struct {
		name      string
		traces    int
		pageLimit int
		maxPages  int
		wantLimit int   // sent in every query
		wantPages []int // traces on each page
	}{
		{name: "450 traces in pages of 200", traces: 450, pageLimit: 200, wantLimit: 200, wantPages: []int{200, 200, 50}},
		{name: "exactly two full pages", traces: 400, pageLimit: 200, wantLimit: 200, wantPages: []int{200, 200}},
		{name: "no traces", traces: 0, pageLimit: 200, wantLimit: 200, wantPages: []int{0}},
		{name: "default page limit", traces: 201, wantLimit: 200, wantPages: []int{200, 1}},
		{name: "page limit above 200 is 200", traces: 201, pageLimit: 1000, wantLimit: 200, wantPages: []int{200, 1}},
		{name: "pages of one", traces: 3, pageLimit: 1, wantLimit: 1, wantPages: []int{1, 1, 1}},
		{name: "max pages stops early", traces: 450, pageLimit: 200, maxPages: 2, wantLimit: 200, wantPages: []int{200, 200}},
		{name: "max pages not reached", traces: 450, pageLimit: 200, maxPages: 3, wantLimit: 200, wantPages: []int{200, 200, 50}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCTS()
			var want []string
			for i := range tc.traces { // newest first: job i is i+1 seconds old
				f.addJob(huaweicloud.ECS, t0.Add(-time.Duration(i+1)*time.Second), jobID(i))
				if read := sum(tc.wantPages); i < read {
					want = append(want, jobID(i))
				}
			}
			sort.Strings(want)
			// Record the lister's pages by wrapping it.
			var pages []int
			var markers []string
			lister := listerFunc(func(ctx context.Context, tg huaweicloud.Target, tq huaweicloud.TraceQuery) (*huaweicloud.TracePage, error) {
				p, err := f.ListTraces(ctx, tg, tq)
				if err == nil {
					pages = append(pages, len(p.Traces))
					markers = append(markers, p.Marker)
				}
				return p, err
			})
			c := NewCTS(lister, ctsTarget, testTargets(), CTSOptions{
				Services: []huaweicloud.Service{huaweicloud.ECS}, PageLimit: tc.pageLimit, MaxPages: tc.maxPages,
				Lookback: time.Hour, Now: func() time.Time { return t0 },
			})
			jobs, err := c.Discover(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pages, tc.wantPages) {
				t.Errorf("pages of %v traces, want %v", pages, tc.wantPages)
			}
			queries := f.takeQueries()
			for i, got := range queries {
				wantNext := ""
				if i > 0 {
					wantNext = markers[i-1]
				}
				if want := q("ECS", t0.Add(-time.Hour), t0, wantNext, tc.wantLimit); got != want {
					t.Errorf("query %d: %+v, want %+v", i, got, want)
				}
			}
			if got := jobIDsOf(jobs); !slices.Equal(got, orEmpty(want)) {
				t.Errorf("found %d jobs, want %d (%v...)", len(got), len(want), head(want))
			}
			for id, n := range f.served {
				if n != 1 {
					t.Errorf("trace %s served %d times, want once", id, n)
				}
			}
			if got := len(f.served); got != len(want) {
				t.Errorf("%d traces served, want %d", got, len(want))
			}
		})
	}
}

type listerFunc func(ctx context.Context, t huaweicloud.Target, q huaweicloud.TraceQuery) (*huaweicloud.TracePage, error)

func (f listerFunc) ListTraces(ctx context.Context, t huaweicloud.Target, q huaweicloud.TraceQuery) (*huaweicloud.TracePage, error) {
	return f(ctx, t, q)
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func head(s []string) []string { return s[:min(3, len(s))] }

// TestCTSBacklog checks that traces a run leaves unread because of MaxPages are read by later runs, as
// CTSOptions.MaxPages promises, instead of being skipped when the window moves on.
func TestCTSBacklog(t *testing.T) {
	type step struct {
		at      time.Duration // after t0
		before  func(f *fakeCTS)
		queries []huaweicloud.TraceQuery
		wantN   int // jobs returned
	}
	old := func(i int) time.Time { return t0.Add(-time.Duration(i+1) * time.Second) }
	seed := func(n int, at func(i int) time.Time) func(f *fakeCTS) {
		return func(f *fakeCTS) {
			for i := range n {
				f.addJob(huaweicloud.ECS, at(i), jobID(i))
			}
		}
	}
	older := func(i int) time.Time { return t0.Add(-10*time.Minute - time.Duration(i+1)*time.Second) }
	burst := func(i int) time.Time { return t0.Add(5*time.Minute + time.Duration(i)*time.Millisecond) }
	tests := []struct {
		name      string
		lookback  time.Duration
		retain    time.Duration
		pageLimit int
		maxPages  int
		steps     []step
	}{
		{
			name: "the rest of a truncated window is read by the next run", lookback: time.Hour, pageLimit: 200, maxPages: 2,
			steps: []step{
				{at: 0, before: seed(450, old), wantN: 400, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(-time.Hour), t0, "", 200),
					q("ECS", t0.Add(-time.Hour), t0, "trace-00199", 200),
				}},
				// The new window first, then the unread end of the first: traces up to and including the
				// millisecond of the oldest trace read (job 399), 51 traces on one page.
				// The backlog starts at the retention cutoff, t0+1m-1h.
				{at: time.Minute, wantN: 450, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(-2*time.Minute), t0.Add(time.Minute), "", 200),
					q("ECS", t0.Add(-59*time.Minute-time.Millisecond), old(399).Add(time.Millisecond), "", 200),
				}},
				{at: 2 * time.Minute, wantN: 450, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(-time.Minute), t0.Add(2*time.Minute), "", 200),
				}},
			},
		},
		{
			name: "the backlog gets the pages the new window leaves", lookback: time.Hour, pageLimit: 200, maxPages: 2,
			steps: []step{
				{at: 0, before: seed(650, old), wantN: 400, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(-time.Hour), t0, "", 200),
					q("ECS", t0.Add(-time.Hour), t0, "trace-00199", 200),
				}},
				{at: time.Minute, wantN: 599, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(-2*time.Minute), t0.Add(time.Minute), "", 200),
					q("ECS", t0.Add(-59*time.Minute-time.Millisecond), old(399).Add(time.Millisecond), "", 200),
				}},
				{at: 2 * time.Minute, wantN: 650, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(-time.Minute), t0.Add(2*time.Minute), "", 200),
					q("ECS", t0.Add(-58*time.Minute-time.Millisecond), old(598).Add(time.Millisecond), "", 200),
				}},
			},
		},
		{
			name: "unread parts queue up newest first", lookback: time.Hour, pageLimit: 10, maxPages: 2,
			steps: []step{
				{at: 0, before: seed(30, older), wantN: 20, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(-time.Hour), t0, "", 10),
					q("ECS", t0.Add(-time.Hour), t0, "trace-00009", 10),
				}},
				{at: 10 * time.Minute, before: func(f *fakeCTS) {
					for i := range 25 {
						f.addJob(huaweicloud.ECS, burst(i), jobID(1000+i))
					}
				}, wantN: 40, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(-2*time.Minute), t0.Add(10*time.Minute), "", 10),
					q("ECS", t0.Add(-2*time.Minute), t0.Add(10*time.Minute), "trace-00045", 10),
				}},
				{at: 11 * time.Minute, wantN: 45, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(8*time.Minute), t0.Add(11*time.Minute), "", 10),
					q("ECS", t0.Add(-2*time.Minute), burst(5).Add(time.Millisecond), "", 10),
				}},
				{at: 12 * time.Minute, wantN: 54, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(9*time.Minute), t0.Add(12*time.Minute), "", 10),
					q("ECS", t0.Add(-48*time.Minute-time.Millisecond), older(19).Add(time.Millisecond), "", 10),
				}},
				{at: 13 * time.Minute, wantN: 55, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(10*time.Minute), t0.Add(13*time.Minute), "", 10),
					q("ECS", t0.Add(-47*time.Minute-time.Millisecond), older(28).Add(time.Millisecond), "", 10),
				}},
				{at: 14 * time.Minute, wantN: 55, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(11*time.Minute), t0.Add(14*time.Minute), "", 10),
				}},
			},
		},
		{
			name: "a backlog is read only down to the retention cutoff", lookback: 10 * time.Minute, pageLimit: 200, maxPages: 2,
			steps: []step{
				{at: 0, before: seed(500, old), wantN: 400, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(-10*time.Minute), t0, "", 200),
					q("ECS", t0.Add(-10*time.Minute), t0, "trace-00199", 200),
				}},
				// The cutoff is t0-8m: traces 399 to 479 of the unread 399 to 499.
				{at: 2 * time.Minute, wantN: 480, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(-2*time.Minute), t0.Add(2*time.Minute), "", 200),
					q("ECS", t0.Add(-8*time.Minute-time.Millisecond), old(399).Add(time.Millisecond), "", 200),
				}},
				{at: 20 * time.Minute, wantN: 0, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(10*time.Minute), t0.Add(20*time.Minute), "", 200),
				}},
			},
		},
		{
			name: "a backlog older than the retention cutoff is dropped", lookback: 10 * time.Minute, pageLimit: 200, maxPages: 2,
			steps: []step{
				{at: 0, before: seed(500, old), wantN: 400, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(-10*time.Minute), t0, "", 200),
					q("ECS", t0.Add(-10*time.Minute), t0, "trace-00199", 200),
				}},
				{at: 6 * time.Minute, wantN: 240, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(-2*time.Minute), t0.Add(6*time.Minute), "", 200),
				}},
			},
		},
		{
			name: "retain extends how far back a backlog is read", lookback: 10 * time.Minute, retain: 10 * time.Minute, pageLimit: 200, maxPages: 2,
			steps: []step{
				{at: 0, before: seed(500, old), wantN: 400, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(-10*time.Minute), t0, "", 200),
					q("ECS", t0.Add(-10*time.Minute), t0, "trace-00199", 200),
				}},
				{at: 6 * time.Minute, wantN: 500, queries: []huaweicloud.TraceQuery{
					q("ECS", t0.Add(-2*time.Minute), t0.Add(6*time.Minute), "", 200),
					q("ECS", t0.Add(-10*time.Minute), old(399).Add(time.Millisecond), "", 200),
				}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCTS()
			clock := &fakeclock.Clock{}
			c := NewCTS(f, ctsTarget, testTargets(), CTSOptions{
				Services: []huaweicloud.Service{huaweicloud.ECS}, Lookback: tc.lookback, Retain: tc.retain,
				PageLimit: tc.pageLimit, MaxPages: tc.maxPages, Now: clock.Now,
			})
			for i, s := range tc.steps {
				clock.Set(t0.Add(s.at))
				if s.before != nil {
					s.before(f)
				}
				jobs, err := c.Discover(t.Context())
				if err != nil {
					t.Fatalf("run %d: %v", i+1, err)
				}
				if got := f.takeQueries(); !reflect.DeepEqual(got, s.queries) {
					t.Errorf("run %d: queries\n got %+v\nwant %+v", i+1, got, s.queries)
				}
				if len(jobs) != s.wantN {
					t.Errorf("run %d: %d jobs, want %d", i+1, len(jobs), s.wantN)
				}
			}
		})
	}
}

func TestJobIDs(t *testing.T) {
	tests := []struct {
		name     string
		response string
		want     []string
	}{
		{"job-creating call", `{"job_id":"ff80808288d41e1b018f8e8e5c8b1fb2"}`, []string{"ff80808288d41e1b018f8e8e5c8b1fb2"}},
		{"ECS outcome", `{"status":"SUCCESS","entities":{"server_id":"bae51750-0089-41a1-9b18-5c777978ff6d"},"job_id":"4010b39d58b855980158b8574b270018","job_type":"createServer"}`,
			[]string{"4010b39d58b855980158b8574b270018"}},
		{"surrounding space", " \n\t{\"job_id\": \"abc\"}\n", []string{"abc"}},
		{"batch", `{"job_ids":["a1","b2"]}`, []string{"a1", "b2"}},
		{"single and batch", `{"job_id":"a0","job_ids":["a1"]}`, []string{"a0", "a1"}},
		{"batch with bad entries", `{"job_ids":["a1",7,null,"x/y","",{"id":"z"},"b2"]}`, []string{"a1", "b2"}},
		{"not JSON", `job_id=ff80808288d41e1b018f8e8e5c8b1fb2`, nil},
		{"truncated JSON", `{"job_id":"ff808082`, nil},
		{"empty", ``, nil},
		{"blank", "  \n", nil},
		{"null", `null`, nil},
		{"empty object", `{}`, nil},
		{"number id", `{"job_id":123}`, nil},
		{"null id", `{"job_id":null}`, nil},
		{"empty id", `{"job_id":""}`, nil},
		{"slash in id", `{"job_id":"has/slash"}`, nil},
		{"dot segment", `{"job_id":".."}`, nil},
		{"id too long", `{"job_id":"` + strings.Repeat("a", 129) + `"}`, nil},
		{"id of 128", `{"job_id":"` + strings.Repeat("a", 128) + `"}`, []string{strings.Repeat("a", 128)}},
		{"object id", `{"job_id":{"id":"abc"}}`, nil},
		{"array", `[1,2]`, nil},
		{"array of objects", `[{"job_id":"abc"}]`, nil},
		{"string", `"abc"`, nil},
		{"error body", `{"error":{"code":"Ecs.0005","message":"bad"}}`, nil},
		// CCE cluster and node objects name their job in status.jobID (cce/v3/model/model_cluster_status.go).
		{"CCE cluster", `{"kind":"Cluster","metadata":{"uid":"6951e3e1"},"status":{"phase":"Creating","jobID":"73ce052c-8b1b-11ee-b0f3-0255ac10004f"}}`,
			[]string{"73ce052c-8b1b-11ee-b0f3-0255ac10004f"}},
		{"CCE node without job", `{"kind":"Node","status":{"phase":"Active"}}`, nil},
		{"CCE bad jobID", `{"kind":"Node","status":{"jobID":"a/b"}}`, nil},
		{"status null", `{"status":null,"job_id":"a1"}`, []string{"a1"}},
		{"nested only", `{"job":{"job_id":"abc"}}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := JobIDs(tc.response); !slices.Equal(got, tc.want) {
				t.Errorf("JobIDs(%q) = %q, want %q", tc.response, got, tc.want)
			}
		})
	}
}

func FuzzJobIDs(f *testing.F) {
	for _, s := range []string{`{"job_id":"abc"}`, `{"job_ids":["a","b"]}`, `[1,2]`, ``, `{"job_id":123}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, id := range JobIDs(s) {
			if !huaweicloud.ValidJobID(id) {
				t.Errorf("JobIDs(%q) returned %q", s, id)
			}
		}
	})
}

func TestCTSServicesAndTargets(t *testing.T) {
	ecs, evs, bms, ims := huaweicloud.ECS, huaweicloud.EVS, huaweicloud.BMS, huaweicloud.IMS
	tests := []struct {
		name        string
		services    []huaweicloud.Service
		targets     map[huaweicloud.Service]huaweicloud.Target
		wantQueried []string
		want        []collector.WatchedJob
	}{
		{
			name: "configured services only", services: []huaweicloud.Service{evs, ecs}, targets: testTargets(),
			wantQueried: []string{"EVS", "ECS"},
			want:        []collector.WatchedJob{watched(ecs, jobID(1)), watched(evs, jobID(2))},
		},
		{
			// The default is the services whose traces name their jobs (huaweicloud.CTSDefaultServices).
			name: "default services", targets: testTargets(),
			wantQueried: []string{"ECS", "EVS", "BMS", "IMS", "CCE"},
			want: []collector.WatchedJob{watched(bms, jobID(3)), watched(huaweicloud.CCE, "73ce052c-8b1b-11ee-b0f3-0255ac10004f"),
				watched(ecs, jobID(1)), watched(evs, jobID(2)), watched(ims, jobID(4))},
		},
		{
			// EIP's operations are traced under VPC (the service table's CTSServiceType).
			name: "eip reads VPC traces", services: []huaweicloud.Service{huaweicloud.EIP, huaweicloud.SDRS}, targets: testTargets(),
			wantQueried: []string{"VPC", "SDRS"},
			want:        []collector.WatchedJob{watched(huaweicloud.EIP, jobID(5))},
		},
		{
			name: "a service without a target is not read", services: []huaweicloud.Service{ecs, ims}, targets: testTargets(ecs, evs),
			wantQueried: []string{"ECS"},
			want:        []collector.WatchedJob{watched(ecs, jobID(1))},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCTS()
			f.addJob(ecs, t0.Add(-time.Minute), jobID(1))
			f.addJob(evs, t0.Add(-time.Minute), jobID(2))
			f.addJob(bms, t0.Add(-time.Minute), jobID(3))
			f.addJob(ims, t0.Add(-time.Minute), jobID(4))
			f.addJob(huaweicloud.EIP, t0.Add(-time.Minute), jobID(5))
			f.add(huaweicloud.CCE, t0.Add(-time.Minute), `{"kind":"Cluster","status":{"phase":"Creating","jobID":"73ce052c-8b1b-11ee-b0f3-0255ac10004f"}}`)
			c := NewCTS(f, ctsTarget, tc.targets, CTSOptions{Services: tc.services, Now: func() time.Time { return t0 }})
			jobs, err := c.Discover(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var queried []string
			for _, q := range f.takeQueries() {
				queried = append(queried, q.ServiceType)
			}
			if !slices.Equal(queried, tc.wantQueried) {
				t.Errorf("queried %v, want %v", queried, tc.wantQueried)
			}
			if !reflect.DeepEqual(jobs, tc.want) {
				t.Errorf("jobs\n got %+v\nwant %+v", jobs, tc.want)
			}
		})
	}
}

func TestCTSRetention(t *testing.T) {
	ecs, evs := huaweicloud.ECS, huaweicloud.EVS
	a, b, c, d := jobID(0xa), jobID(0xb), jobID(0xc), jobID(0xd)
	type step struct {
		at     time.Duration
		before func(f *fakeCTS)
		want   []collector.WatchedJob
	}
	// Lookback 1h and Retain 30m: a job stays until its trace is 90 minutes old.
	steps := []step{
		{at: 0, before: func(f *fakeCTS) {
			f.addJob(evs, t0.Add(-10*time.Minute), b)
			f.addJob(ecs, t0.Add(-50*time.Minute), a)
			f.addJob(ecs, t0.Add(-59*time.Minute), c)
			f.addJob(evs, t0.Add(-50*time.Minute), d)
			f.addJob(ecs, t0.Add(-61*time.Minute), jobID(0xe)) // outside the first window
		}, want: []collector.WatchedJob{watched(ecs, a), watched(ecs, c), watched(evs, b), watched(evs, d)}},
		// d is named again by a newer trace (the outcome of the job), which keeps it longer.
		{at: 5 * time.Minute, before: func(f *fakeCTS) {
			f.add(evs, t0.Add(4*time.Minute), `{"status":"SUCCESS","job_id":"`+d+`","job_type":"createVolume"}`)
		}, want: []collector.WatchedJob{watched(ecs, a), watched(ecs, c), watched(evs, b), watched(evs, d)}},
		{at: 31 * time.Minute, want: []collector.WatchedJob{watched(ecs, a), watched(ecs, c), watched(evs, b), watched(evs, d)}}, // c is exactly 90m old
		{at: 32 * time.Minute, want: []collector.WatchedJob{watched(ecs, a), watched(evs, b), watched(evs, d)}},
		{at: 40 * time.Minute, want: []collector.WatchedJob{watched(ecs, a), watched(evs, b), watched(evs, d)}}, // a is exactly 90m old
		{at: 40*time.Minute + time.Millisecond, want: []collector.WatchedJob{watched(evs, b), watched(evs, d)}},
		{at: 80 * time.Minute, want: []collector.WatchedJob{watched(evs, b), watched(evs, d)}},
		{at: 81 * time.Minute, want: []collector.WatchedJob{watched(evs, d)}},
		{at: 95 * time.Minute, want: []collector.WatchedJob{}},
	}
	f := newFakeCTS()
	clock := &fakeclock.Clock{}
	src := NewCTS(f, ctsTarget, testTargets(), CTSOptions{
		Services: []huaweicloud.Service{ecs, evs}, Lookback: time.Hour, Retain: 30 * time.Minute, Now: clock.Now,
	})
	for _, s := range steps {
		t.Run(s.at.String(), func(t *testing.T) {
			clock.Set(t0.Add(s.at))
			if s.before != nil {
				s.before(f)
			}
			jobs, err := src.Discover(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if jobs == nil || !reflect.DeepEqual(jobs, s.want) {
				t.Errorf("jobs %v, want %v", keys(jobs), keys(s.want))
			}
			if !sort.SliceIsSorted(jobs, func(i, j int) bool { return jobs[i].Key() < jobs[j].Key() }) {
				t.Errorf("jobs not sorted by key: %v", keys(jobs))
			}
		})
	}
}

func keys(jobs []collector.WatchedJob) []string {
	var k []string
	for _, j := range jobs {
		k = append(k, j.Key())
	}
	return k
}

func TestCTSErrorKeepsWindow(t *testing.T) {
	ecs, evs := huaweicloud.ECS, huaweicloud.EVS
	boom := errors.New("CTS.0001 boom")
	type step struct {
		at      time.Duration
		failing string // service type whose ListTraces fails in this run
		before  func(f *fakeCTS)
		wantErr string
		want    []collector.WatchedJob
		queries []huaweicloud.TraceQuery
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "failure after a good run",
			steps: []step{
				{at: 0, before: func(f *fakeCTS) { f.addJob(ecs, t0.Add(-time.Minute), jobID(1)) },
					want: []collector.WatchedJob{watched(ecs, jobID(1))},
					queries: []huaweicloud.TraceQuery{
						q("ECS", t0.Add(-time.Hour), t0, "", 200), q("EVS", t0.Add(-time.Hour), t0, "", 200)}},
				{at: 5 * time.Minute, failing: "EVS", before: func(f *fakeCTS) { f.addJob(ecs, t0.Add(time.Minute), jobID(2)) },
					wantErr: "list EVS traces: CTS.0001 boom",
					queries: []huaweicloud.TraceQuery{
						q("ECS", t0.Add(-2*time.Minute), t0.Add(5*time.Minute), "", 200), q("EVS", t0.Add(-2*time.Minute), t0.Add(5*time.Minute), "", 200)}},
				{at: 10 * time.Minute, failing: "ECS", wantErr: "list ECS traces: CTS.0001 boom",
					queries: []huaweicloud.TraceQuery{q("ECS", t0.Add(-2*time.Minute), t0.Add(10*time.Minute), "", 200)}},
				// Still from the end of the last good run: job 2, found by the failed run, is found again.
				{at: 15 * time.Minute,
					want: []collector.WatchedJob{watched(ecs, jobID(1)), watched(ecs, jobID(2))},
					queries: []huaweicloud.TraceQuery{
						q("ECS", t0.Add(-2*time.Minute), t0.Add(15*time.Minute), "", 200), q("EVS", t0.Add(-2*time.Minute), t0.Add(15*time.Minute), "", 200)}},
				{at: 20 * time.Minute,
					want: []collector.WatchedJob{watched(ecs, jobID(1)), watched(ecs, jobID(2))},
					queries: []huaweicloud.TraceQuery{
						q("ECS", t0.Add(13*time.Minute), t0.Add(20*time.Minute), "", 200), q("EVS", t0.Add(13*time.Minute), t0.Add(20*time.Minute), "", 200)}},
			},
		},
		{
			name: "failed first run",
			steps: []step{
				{at: 0, failing: "ECS", before: func(f *fakeCTS) { f.addJob(evs, t0.Add(-time.Minute), jobID(1)) },
					wantErr: "list ECS traces: CTS.0001 boom",
					queries: []huaweicloud.TraceQuery{q("ECS", t0.Add(-time.Hour), t0, "", 200)}},
				{at: time.Minute,
					want: []collector.WatchedJob{watched(evs, jobID(1))},
					queries: []huaweicloud.TraceQuery{
						q("ECS", t0.Add(-59*time.Minute), t0.Add(time.Minute), "", 200), q("EVS", t0.Add(-59*time.Minute), t0.Add(time.Minute), "", 200)}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCTS()
			clock := &fakeclock.Clock{}
			c := NewCTS(f, ctsTarget, testTargets(), CTSOptions{Services: []huaweicloud.Service{ecs, evs}, Lookback: time.Hour, Now: clock.Now})
			for i, s := range tc.steps {
				clock.Set(t0.Add(s.at))
				if s.before != nil {
					s.before(f)
				}
				f.setErr("ECS", nil)
				f.setErr("EVS", nil)
				if s.failing != "" {
					f.setErr(s.failing, boom)
				}
				jobs, err := c.Discover(t.Context())
				if s.wantErr != "" {
					if err == nil || err.Error() != s.wantErr || !errors.Is(err, boom) {
						t.Errorf("run %d: err %v, want %q wrapping the lister's", i+1, err, s.wantErr)
					}
					if jobs != nil {
						t.Errorf("run %d: jobs %v with the error, want nil", i+1, keys(jobs))
					}
				} else {
					if err != nil {
						t.Fatalf("run %d: %v", i+1, err)
					}
					if !reflect.DeepEqual(jobs, s.want) {
						t.Errorf("run %d: jobs %v, want %v", i+1, keys(jobs), keys(s.want))
					}
				}
				if got := f.takeQueries(); !reflect.DeepEqual(got, s.queries) {
					t.Errorf("run %d: queries\n got %+v\nwant %+v", i+1, got, s.queries)
				}
			}
		})
	}
}

func TestCTSCancelled(t *testing.T) {
	f := newFakeCTS()
	c := NewCTS(f, ctsTarget, testTargets(), CTSOptions{Now: func() time.Time { return t0 }})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	jobs, err := c.Discover(ctx)
	if jobs != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("Discover(cancelled) = %v, %v; want nil, context.Canceled", jobs, err)
	}
	if got := len(f.takeQueries()); got != 1 {
		t.Errorf("%d queries, want 1 (stop at the first error)", got)
	}
}

func TestCTSName(t *testing.T) {
	tests := []struct {
		region, project, want string
	}{
		{"ap-southeast-1", "0605767d4a0010ee2f3ac01e28a1a6b4", "cts/ap-southeast-1/0605767d4a0010ee2f3ac01e28a1a6b4"},
		{"eu-west-101", "p2", "cts/eu-west-101/p2"},
	}
	for _, tc := range tests {
		tg := huaweicloud.Target{Service: huaweicloud.CTS, Region: tc.region, ProjectID: tc.project}
		if got := NewCTS(newFakeCTS(), tg, nil, CTSOptions{}).Name(); got != tc.want {
			t.Errorf("Name() = %q, want %q", got, tc.want)
		}
	}
}

// TestCTSClient runs discovery through the real client against a server that answers in CTS' JSON shape.
func TestCTSClient(t *testing.T) {
	const (
		id1 = "2c9eb2c5544cbf6101544f0602af2b4f"
		id2 = "4010b39d58b855980158b8574b270018"
		id3 = "ff80808288d41e1b018f8e8e5c8b1fb2"
	)
	trace := func(traceID, name, st, response string, ms int64) map[string]any {
		return map[string]any{"trace_id": traceID, "trace_name": name, "service_type": st,
			"resource_type": strings.ToLower(st), "resource_id": "bae51750-0089-41a1-9b18-5c777978ff6d",
			"code": "202", "response": response, "time": ms, "record_time": ms + 500, "trace_type": "ApiCall",
			"trace_rating": "normal", "user": map[string]any{"name": "deployer", "domain": map[string]any{"name": "acme"}}}
	}
	now := time.UnixMilli(1772359260000).UTC() // one minute after the traces
	// No Lookback: the first run reads the default, the day a finished job is kept.
	wantFrom, wantTo := strconv.FormatInt(now.Add(-24*time.Hour).UnixMilli(), 10), strconv.FormatInt(now.UnixMilli(), 10)

	var mu sync.Mutex
	var got []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Query())
		mu.Unlock()
		if r.Method != http.MethodGet || r.URL.Path != "/v3/"+testProject+"/traces" {
			http.Error(w, `{"error_code":"CTS.0000","error_msg":"not found"}`, http.StatusNotFound)
			return
		}
		v := r.URL.Query()
		if v.Get("trace_type") != "system" || v.Get("limit") != "200" || v.Get("from") != wantFrom || v.Get("to") != wantTo {
			http.Error(w, `{"error_code":"CTS.0202","error_msg":"unexpected query"}`, http.StatusBadRequest)
			return
		}
		var body map[string]any
		switch st, next := v.Get("service_type"), v.Get("next"); {
		case st == "ECS" && next == "":
			body = map[string]any{"traces": []any{
				trace("4a3b2c1d-0000-4000-8000-000000000002", "createServer", "ECS", `{"job_id":"`+id1+`"}`, 1772359200000),
			}, "meta_data": map[string]any{"count": 1, "marker": "4a3b2c1d-0000-4000-8000-000000000002"}}
		case st == "ECS" && next == "4a3b2c1d-0000-4000-8000-000000000002":
			body = map[string]any{"traces": []any{
				trace("4a3b2c1d-0000-4000-8000-000000000001", "createServer", "ECS",
					`{"status":"SUCCESS","entities":{"server_id":"bae51750-0089-41a1-9b18-5c777978ff6d"},"job_id":"`+id2+`","job_type":"createServer"}`, 1772359100000),
				trace("4a3b2c1d-0000-4000-8000-000000000000", "deleteServer", "ECS", `{"error":{"code":"Ecs.0114","message":"bad"}}`, 1772359000000),
			}, "meta_data": map[string]any{"count": 2, "marker": ""}}
		case st == "EVS" && next == "":
			body = map[string]any{"traces": []any{
				trace("4a3b2c1d-0000-4000-8000-000000000003", "createVolume", "EVS", `{"job_id":"`+id3+`"}`, 1772359150000),
			}, "meta_data": map[string]any{"count": 1, "marker": nil}}
		default:
			http.Error(w, `{"error_code":"CTS.0202","error_msg":"unexpected query"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(body); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)

	creds := huaweicloud.Credentials{AccessKey: "HPUATESTAK0000000001", SecretKey: "test-secret-key"}
	targets := map[huaweicloud.Service]huaweicloud.Target{}
	for _, s := range huaweicloud.JobServices {
		targets[s] = huaweicloud.Target{Service: s, Region: testRegion, ProjectID: testProject, Endpoint: srv.URL, Credentials: creds}
	}
	cts := huaweicloud.Target{Service: huaweicloud.CTS, Region: testRegion, ProjectID: testProject, Endpoint: srv.URL, Credentials: creds}
	client := huaweicloud.NewClient(srv.Client(), huaweicloud.WithRetry(1, 0, 0))
	c := NewCTS(client, cts, targets, CTSOptions{
		Services: []huaweicloud.Service{huaweicloud.ECS, huaweicloud.EVS}, Now: func() time.Time { return now },
	})
	jobs, err := c.Discover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []collector.WatchedJob{
		{Target: targets[huaweicloud.ECS], JobID: id1},
		{Target: targets[huaweicloud.ECS], JobID: id2},
		{Target: targets[huaweicloud.EVS], JobID: id3},
	}
	if !reflect.DeepEqual(jobs, want) {
		t.Errorf("jobs\n got %+v\nwant %+v", jobs, want)
	}
	mu.Lock()
	defer mu.Unlock()
	var seen []string
	for _, v := range got {
		seen = append(seen, v.Get("service_type")+" next="+v.Get("next"))
	}
	if wantSeen := []string{"ECS next=", "ECS next=4a3b2c1d-0000-4000-8000-000000000002", "EVS next="}; !slices.Equal(seen, wantSeen) {
		t.Errorf("requests %q, want %q", seen, wantSeen)
	}
}
