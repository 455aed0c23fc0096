package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

// fakeGetter answers from a map and counts calls; block, when set, holds every call until closed.
type fakeGetter struct {
	mu       sync.Mutex
	answers  map[string]*huaweicloud.Job
	errs     map[string]error
	calls    map[string]int
	block    chan struct{}
	started  chan string
	inflight atomic.Int32
	maxSeen  atomic.Int32
}

func newFakeGetter() *fakeGetter {
	return &fakeGetter{answers: map[string]*huaweicloud.Job{}, errs: map[string]error{}, calls: map[string]int{}}
}

func (f *fakeGetter) GetJob(ctx context.Context, _ huaweicloud.Target, id string) (*huaweicloud.Job, error) {
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		m := f.maxSeen.Load()
		if n <= m || f.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	f.mu.Lock()
	f.calls[id]++
	job, err, block, started := f.answers[id], f.errs[id], f.block, f.started
	f.mu.Unlock()
	if started != nil {
		started <- id
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	if job == nil {
		return nil, &huaweicloud.APIError{StatusCode: 400, Code: "Common.0011", Message: "Failed to query system tasks"}
	}
	cp := *job
	return &cp, nil
}

func (f *fakeGetter) set(id string, job *huaweicloud.Job, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[id], f.errs[id] = job, err
}

func (f *fakeGetter) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func watched(ids ...string) []WatchedJob {
	out := make([]WatchedJob, len(ids))
	for i, id := range ids {
		out[i] = WatchedJob{Target: huaweicloud.Target{Service: huaweicloud.ECS, Region: "ap-southeast-1", ProjectID: "0123456789abcdef0123456789abcdef"}, JobID: id}
	}
	return out
}

func job(id, status string) *huaweicloud.Job {
	j := &huaweicloud.Job{Service: huaweicloud.ECS, JobID: id, JobType: "createServer", Status: status, BeginTime: t0.Add(-time.Minute)}
	if status == "SUCCESS" || status == "FAIL" {
		j.EndTime = t0.Add(-10 * time.Second)
	}
	return j
}

// parsed is j as the client returns it: written as an ECS answer and read back by huaweicloud.ParseJob,
// which makes every text a capped label value (the collector exports texts as the parser left them).
// Tests of hostile texts send their jobs through it.
func parsed(t testing.TB, j *huaweicloud.Job) *huaweicloud.Job {
	t.Helper()
	type ents struct {
		ServerID     string            `json:"server_id,omitempty"`
		SubJobs      []json.RawMessage `json:"sub_jobs,omitempty"`
		SubJobsTotal *int              `json:"sub_jobs_total,omitempty"`
	}
	type wire struct {
		Status    string `json:"status"`
		JobID     string `json:"job_id,omitempty"`
		JobType   string `json:"job_type,omitempty"`
		BeginTime string `json:"begin_time,omitempty"`
		EndTime   string `json:"end_time,omitempty"`
		ErrorCode string `json:"error_code,omitempty"`
		Reason    string `json:"fail_reason,omitempty"`
		Entities  ents   `json:"entities"`
	}
	stamp := func(tm time.Time) string {
		if tm.IsZero() {
			return ""
		}
		return tm.UTC().Format(time.RFC3339Nano)
	}
	w := wire{Status: j.Status, JobID: j.JobID, JobType: j.JobType, BeginTime: stamp(j.BeginTime), EndTime: stamp(j.EndTime),
		ErrorCode: j.ErrorCode, Reason: j.FailReason, Entities: ents{ServerID: j.ResourceID}}
	if len(j.SubJobs) > 0 {
		w.Entities.SubJobsTotal = &j.SubJobsTotal
	}
	for _, sj := range j.SubJobs {
		b, err := json.Marshal(wire{Status: sj.Status, JobID: sj.JobID, JobType: sj.JobType, BeginTime: stamp(sj.BeginTime),
			EndTime: stamp(sj.EndTime), ErrorCode: sj.ErrorCode, Reason: sj.FailReason, Entities: ents{ServerID: sj.ResourceID}})
		if err != nil {
			t.Fatal(err)
		}
		w.Entities.SubJobs = append(w.Entities.SubJobs, b)
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	out, err := huaweicloud.ParseJob(j.Service, 200, b)
	if err != nil {
		t.Fatalf("ParseJob of %.200s: %v", b, err)
	}
	return out
}

func TestRefreshQueriesOnlyUnfinishedJobs(t *testing.T) {
	tests := []struct {
		name      string
		status    string
		wantCalls int
	}{
		{"success is final", "SUCCESS", 1},
		{"fail is final", "FAIL", 1},
		{"running is asked again", "RUNNING", 3},
		{"init is asked again", "INIT", 3},
		{"pending payment is asked at its own slower cadence", "PENDING_PAYMENT", 1},
		{"unknown status is asked again", "ROLLING_BACK", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGetter()
			g.set("a", job("a", tt.status), nil)
			clk := fakeclock.New(t0)
			c := New(g, Options{Concurrency: 4, MinQueryInterval: 0, FinalJobTTL: time.Hour}, nil, WithClock(clk.Now))
			c.SetJobs("config", watched("a"))
			for range 3 {
				c.Refresh(t.Context())
				clk.Add(time.Second)
			}
			if got := g.count("a"); got != tt.wantCalls {
				t.Errorf("API calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestMinQueryIntervalServesFromMemory(t *testing.T) {
	g := newFakeGetter()
	g.set("a", job("a", "RUNNING"), nil)
	clk := fakeclock.New(t0)
	c := New(g, Options{Concurrency: 4, MinQueryInterval: 10 * time.Second, FinalJobTTL: time.Hour}, nil, WithClock(clk.Now))
	c.SetJobs("config", watched("a"))
	c.Refresh(t.Context())
	clk.Add(5 * time.Second)
	c.Refresh(t.Context())
	if got := g.count("a"); got != 1 {
		t.Fatalf("after a second scrape within min_query_interval: API calls = %d, want 1", got)
	}
	clk.Add(5 * time.Second)
	c.Refresh(t.Context())
	if got := g.count("a"); got != 2 {
		t.Fatalf("after min_query_interval: API calls = %d, want 2", got)
	}
}

func TestConcurrentRefreshesShareInflightQueries(t *testing.T) {
	g := newFakeGetter()
	ids := []string{"a", "b", "c", "d", "e", "f"}
	for _, id := range ids {
		g.set(id, job(id, "RUNNING"), nil)
	}
	g.block = make(chan struct{})
	g.started = make(chan string, len(ids))
	c := New(g, Options{Concurrency: len(ids), FinalJobTTL: time.Hour}, nil)
	c.SetJobs("config", watched(ids...))

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.Refresh(t.Context()) }()
	for range ids {
		<-g.started // every query of the first scrape is in flight
	}
	waiting := make(chan struct{})
	c.waitHook = func() { close(waiting) }
	done2 := make(chan struct{})
	go func() { c.Refresh(t.Context()); close(done2) }()
	<-waiting
	select {
	case <-done2:
		t.Fatal("second scrape returned before the shared queries finished")
	default:
	}
	close(g.block)
	wg.Wait()
	<-done2
	for _, id := range ids {
		if got := g.count(id); got != 1 {
			t.Errorf("job %s: API calls = %d, want 1 for two overlapping scrapes", id, got)
		}
	}
}

func TestConcurrencyBound(t *testing.T) {
	g := newFakeGetter()
	var ids []string
	for i := range 50 {
		id := strings.Repeat("x", i+1)
		ids = append(ids, id)
		g.set(id, job(id, "RUNNING"), nil)
	}
	c := New(g, Options{Concurrency: 3, FinalJobTTL: time.Hour}, nil)
	c.SetJobs("config", watched(ids...))
	c.Refresh(t.Context())
	if got := g.maxSeen.Load(); got > 3 {
		t.Errorf("max queries in flight = %d, want <= 3", got)
	}
	for _, id := range ids {
		if g.count(id) != 1 {
			t.Fatalf("job %s not queried exactly once", id)
		}
	}
}

// TestRefreshReturnsAtDeadline: a request on the wire when the pull's deadline comes is a failed query
// (the API was slower than the budget). A pull whose client hung up before anything was sent records
// nothing: see TestUnsentPullLeavesJobsDue.
func TestRefreshReturnsAtDeadline(t *testing.T) {
	g := newFakeGetter()
	g.set("slow", job("slow", "RUNNING"), nil)
	g.block = make(chan struct{}) // never closed: the API hangs
	g.started = make(chan string, 1)
	c := New(g, Options{Concurrency: 1, FinalJobTTL: time.Hour}, nil)
	c.SetJobs("config", watched("slow"))
	ctx := newManualDeadline(t.Context())
	go func() { <-g.started; ctx.expire() }()
	c.Refresh(ctx)
	s := c.Snapshot()
	if len(s) != 1 || s[0].QuerySuccess || s[0].LastError == "" {
		t.Fatalf("snapshot after a timed-out scrape = %+v, want a failed query with an error", s)
	}
}

func TestFailedQueryKeepsLastAnswerAndOthers(t *testing.T) {
	g := newFakeGetter()
	g.set("a", job("a", "RUNNING"), nil)
	g.set("b", job("b", "RUNNING"), nil)
	c := New(g, Options{Concurrency: 2, FinalJobTTL: time.Hour}, nil)
	c.SetJobs("config", watched("a", "b"))
	c.Refresh(t.Context())
	g.set("a", nil, &huaweicloud.APIError{StatusCode: 500, Code: "Ecs.0001", Message: "internal"})
	c.Refresh(t.Context())
	snap := c.Snapshot()
	if snap[0].JobID != "a" || snap[0].QuerySuccess || snap[0].Status != "RUNNING" {
		t.Errorf("job a = %+v, want failed query keeping status RUNNING", snap[0])
	}
	if !snap[1].QuerySuccess {
		t.Errorf("job b = %+v, want a good query", snap[1])
	}
}

func TestNotFoundBacksOff(t *testing.T) {
	g := newFakeGetter() // no answer: Common.0011
	clk := fakeclock.New(t0)
	c := New(g, Options{Concurrency: 1, FinalJobTTL: time.Hour}, nil, WithClock(clk.Now))
	c.SetJobs("config", watched("typo"))
	c.Refresh(t.Context())
	clk.Add(10 * time.Second)
	c.Refresh(t.Context())
	if got := g.count("typo"); got != 1 {
		t.Fatalf("API calls within the not-found back-off = %d, want 1", got)
	}
	clk.Add(notFoundBackoffMin)
	c.Refresh(t.Context())
	if got := g.count("typo"); got != 2 {
		t.Fatalf("API calls after the back-off = %d, want 2", got)
	}
}

func TestFinalJobsRetireAfterTTL(t *testing.T) {
	g := newFakeGetter()
	g.set("a", job("a", "FAIL"), nil)
	clk := fakeclock.New(t0)
	c := New(g, Options{Concurrency: 1, FinalJobTTL: time.Hour}, nil, WithClock(clk.Now))
	c.SetJobs("config", watched("a"))
	c.Refresh(t.Context())
	if n := testutil.CollectAndCount(c, "huaweicloud_job_status"); n != 5 {
		t.Fatalf("status series before retirement = %d, want 5", n)
	}
	clk.Add(time.Hour) // ended 10s before t0, so now past end+TTL
	c.Refresh(t.Context())
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Fatalf("series after retirement = %d, want 0", n)
	}
	if got := g.count("a"); got != 1 {
		t.Fatalf("API calls = %d, want 1: a retired job is never asked again", got)
	}
}

func TestSetJobsMergesSourcesAndForgets(t *testing.T) {
	g := newFakeGetter()
	for _, id := range []string{"a", "b", "c"} {
		g.set(id, job(id, "SUCCESS"), nil)
	}
	c := New(g, Options{Concurrency: 1, FinalJobTTL: time.Hour}, nil)
	c.SetJobs("config", watched("a", "b"))
	c.SetJobs("cts", watched("b", "c"))
	c.Refresh(t.Context())
	if n := len(c.Snapshot()); n != 3 {
		t.Fatalf("watched = %d, want 3 (b is in both sources)", n)
	}
	c.SetJobs("config", watched("a", "b")) // reload: final answers are kept
	c.Refresh(t.Context())
	if g.count("a") != 1 {
		t.Fatalf("a was asked again after a reload that kept it")
	}
	c.SetJobs("cts", nil)
	snap := c.Snapshot()
	if len(snap) != 2 || snap[0].JobID != "a" || snap[1].JobID != "b" {
		t.Fatalf("after removing the cts source: %+v, want a and b", snap)
	}
}

func TestUnknownStatusIsItsOwnState(t *testing.T) {
	g := newFakeGetter()
	g.set("a", job("a", "ROLLING_BACK"), nil)
	c := New(g, Options{Concurrency: 1, FinalJobTTL: time.Hour}, nil)
	c.SetJobs("config", watched("a"))
	c.Refresh(t.Context())
	want := `
# HELP huaweicloud_job_status Status of the job from the job API's status, mapped onto INIT, RUNNING, SUCCESS, FAIL and PENDING_PAYMENT (README: status mapping per service; a status that maps to none is its own state). StateSet: the series of the current status is 1.
# TYPE huaweicloud_job_status gauge
huaweicloud_job_status{job_id="a",job_type="createServer",project_id="0123456789abcdef0123456789abcdef",region="ap-southeast-1",service="ecs",status="FAIL"} 0
huaweicloud_job_status{job_id="a",job_type="createServer",project_id="0123456789abcdef0123456789abcdef",region="ap-southeast-1",service="ecs",status="INIT"} 0
huaweicloud_job_status{job_id="a",job_type="createServer",project_id="0123456789abcdef0123456789abcdef",region="ap-southeast-1",service="ecs",status="PENDING_PAYMENT"} 0
huaweicloud_job_status{job_id="a",job_type="createServer",project_id="0123456789abcdef0123456789abcdef",region="ap-southeast-1",service="ecs",status="ROLLING_BACK"} 1
huaweicloud_job_status{job_id="a",job_type="createServer",project_id="0123456789abcdef0123456789abcdef",region="ap-southeast-1",service="ecs",status="RUNNING"} 0
huaweicloud_job_status{job_id="a",job_type="createServer",project_id="0123456789abcdef0123456789abcdef",region="ap-southeast-1",service="ecs",status="SUCCESS"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "huaweicloud_job_status"); err != nil {
		t.Fatal(err)
	}
}

func TestScrapeTimeout(t *testing.T) {
	tests := []struct {
		header  string
		want    time.Duration
		wantErr bool
	}{
		{"", 7 * time.Second, false},
		{"10", 9500 * time.Millisecond, false},
		{"0.4", 200 * time.Millisecond, false},
		{"abc", 0, true},
		{"-1", 0, true},
		{"1e9", 0, true},
		{"NaN", 0, true}, // passed the old check and became a budget of 292 years
		{"+Inf", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			got, err := scrapeTimeout(tt.header, 500*time.Millisecond, 7*time.Second)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("scrapeTimeout(%q) = %v, %v; want %v, error %v", tt.header, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// budgetGetter answers RUNNING and cancels the scrape after budget answers, like a deadline or a rate
// limit that lets only part of the jobs through.
type budgetGetter struct {
	mu     sync.Mutex
	budget int
	cancel context.CancelFunc
	asked  []string
}

func (b *budgetGetter) GetJob(ctx context.Context, _ huaweicloud.Target, id string) (*huaweicloud.Job, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.budget == 0 {
		return nil, context.Canceled
	}
	b.budget--
	b.asked = append(b.asked, id)
	if b.budget == 0 {
		b.cancel()
	}
	return job(id, "RUNNING"), nil
}

func TestPartialRefreshesRotateThroughJobs(t *testing.T) {
	ids := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}
	g := &budgetGetter{}
	clk := fakeclock.New(t0)
	c := New(g, Options{Concurrency: 1, FinalJobTTL: time.Hour}, nil, WithClock(clk.Now))
	c.SetJobs("config", watched(ids...))
	seen := map[string]int{}
	for scrape := range 3 {
		ctx, cancel := context.WithCancel(t.Context())
		g.mu.Lock()
		g.budget, g.cancel, g.asked = 3, cancel, nil
		g.mu.Unlock()
		c.Refresh(ctx)
		cancel()
		g.mu.Lock()
		for _, id := range g.asked {
			seen[id]++
		}
		if len(g.asked) != 3 {
			t.Fatalf("scrape %d asked %v, want 3 jobs", scrape, g.asked)
		}
		g.mu.Unlock()
		clk.Add(time.Second)
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("job %s refreshed %d times in 3 scrapes of 3 jobs each, want exactly 1 (rotation)", id, seen[id])
		}
	}
}

// TestRefreshRacesSetJobs: discovery runs and reloads (SetJobs sets every entry's target) while scrapes
// query. Under -race (the default) it failed, most runs, when a scrape grouped its jobs by project
// outside the lock; the window is between the scrape's lock and its first query, so it is tried often.
func TestRefreshRacesSetJobs(t *testing.T) {
	g := newFakeGetter()
	var jobs []WatchedJob
	for i := range 300 {
		id := fmt.Sprintf("job-%03d", i)
		g.set(id, job(id, "RUNNING"), nil)
		w := watched(id)[0]
		w.Target.ProjectID = fmt.Sprintf("%032d", i%7)
		jobs = append(jobs, w)
	}
	clk := fakeclock.New(t0)
	c := New(g, Options{Concurrency: 2, MinQueryInterval: time.Second}, nil, WithClock(clk.Now))
	c.SetJobs(ConfigSource, jobs)
	for range 40 {
		clk.Add(time.Minute) // every job due
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Refresh(t.Context())
		}()
		for running := true; running; {
			select {
			case <-done:
				running = false
			default:
				c.SetJobs(ConfigSource, jobs)
			}
		}
	}
}

// manualDeadline is a context whose deadline passes when the test says so: its Err is then
// context.DeadlineExceeded, as a pull's deadline gives, without a timer on a noisy machine.
type manualDeadline struct {
	context.Context
	done chan struct{}
	once sync.Once
}

func newManualDeadline(parent context.Context) *manualDeadline {
	return &manualDeadline{Context: parent, done: make(chan struct{})}
}

func (m *manualDeadline) expire()               { m.once.Do(func() { close(m.done) }) }
func (m *manualDeadline) Done() <-chan struct{} { return m.done }
func (m *manualDeadline) Err() error {
	select {
	case <-m.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// The collector's defaults are the config file's: a collector built before a config is applied behaves
// as one given a file that sets nothing.
func TestDefaultOptionsAreTheConfigDefaults(t *testing.T) {
	c, err := config.Decode(strings.NewReader("projects: [{region: cn-north-4, project_id: 0123456789abcdef0123456789abcdef, jobs: [{service: ecs, id: a}]}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := OptionsFrom(*c); got != DefaultOptions {
		t.Errorf("a config that sets nothing gives %+v, DefaultOptions are %+v", got, DefaultOptions)
	}
}
