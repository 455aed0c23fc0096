package collector

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

// projectJobs returns n watched RUNNING jobs of one project, set in g.
func projectJobs(g *fakeGetter, project string, n int) []WatchedJob {
	tg := huaweicloud.Target{Service: huaweicloud.ECS, Region: "ap-southeast-1", ProjectID: project}
	out := make([]WatchedJob, n)
	for i := range out {
		id := fmt.Sprintf("%s-%04d", project, i)
		g.set(id, job(id, "RUNNING"), nil)
		out[i] = WatchedJob{Target: tg, JobID: id}
	}
	return out
}

// TestScheduleSharesWorkersAcrossProjects: the shared workers serve a lone project with all of them
// (no cap below ceil(unfinished/concurrency) round trips), and two projects, one with 1,000 unfinished
// jobs and one with 10, in turn: the small one is done within its share of the first rounds, the big
// one still gets every worker the small one does not use.
func TestScheduleSharesWorkersAcrossProjects(t *testing.T) {
	const workers = 16
	big, small := make([]*entry, 1000), make([]*entry, 10)
	for i := range big {
		big[i] = &entry{jobID: fmt.Sprint("big-", i)}
	}
	for i := range small {
		small[i] = &entry{jobID: fmt.Sprint("small-", i)}
	}

	t.Run("alone", func(t *testing.T) {
		s := newSchedule([][]*entry{slices.Clone(big)})
		for range workers {
			if _, _, ok := s.take(); !ok {
				t.Fatal("a worker found nothing to do")
			}
		}
		if s.busy[0] != workers {
			t.Errorf("%d queries of the lone project in flight, want all %d workers", s.busy[0], workers)
		}
	})

	t.Run("big and small", func(t *testing.T) {
		s := newSchedule([][]*entry{slices.Clone(big), slices.Clone(small)})
		// Rounds of a pull: every worker takes a query, then all answer.
		var smallDone, rounds int
		for s.len() > 0 {
			rounds++
			var taken []int
			for range workers {
				i, e, ok := s.take()
				if !ok {
					break
				}
				if strings.HasPrefix(e.jobID, "small") {
					smallDone++
				}
				taken = append(taken, i)
			}
			if rounds == 2 && smallDone != len(small) {
				t.Errorf("small project: %d of %d queries after 2 rounds, want all (it starves)", smallDone, len(small))
			}
			for _, i := range taken {
				s.done(i)
			}
		}
		// 1,010 queries over 16 workers: the bound is 64 rounds; any cap on the big project costs more.
		if want := (len(big) + len(small) + workers - 1) / workers; rounds != want {
			t.Errorf("%d rounds, want %d: the workers were not all used", rounds, want)
		}
	})
}

// projectGetter answers at once and records, per project, the most queries it saw in flight.
type projectGetter struct {
	*fakeGetter
	mu       sync.Mutex
	inflight map[string]int
	maxSeen  map[string]int
	order    []string // projects in the order their queries started
	gate     chan struct{}
}

func (p *projectGetter) GetJob(ctx context.Context, t huaweicloud.Target, id string) (*huaweicloud.Job, error) {
	p.mu.Lock()
	p.inflight[t.ProjectID]++
	p.maxSeen[t.ProjectID] = max(p.maxSeen[t.ProjectID], p.inflight[t.ProjectID])
	p.order = append(p.order, t.ProjectID)
	p.mu.Unlock()
	<-p.gate // all workers get in before any answers: the in-flight counts are not a race of goroutines
	defer func() { p.mu.Lock(); p.inflight[t.ProjectID]--; p.mu.Unlock() }()
	return p.fakeGetter.GetJob(ctx, t, id)
}

// TestRefreshSchedulesProjectsInTurn: through Refresh, a lone project with 1,000 unfinished jobs has
// every worker, and with a second project of 10 jobs, the first round of queries is shared.
func TestRefreshSchedulesProjectsInTurn(t *testing.T) {
	const workers = 16
	for _, tc := range []struct {
		name      string
		smallJobs int
	}{{"alone", 0}, {"with a small project", 10}} {
		t.Run(tc.name, func(t *testing.T) {
			g := &projectGetter{fakeGetter: newFakeGetter(), inflight: map[string]int{}, maxSeen: map[string]int{}, gate: make(chan struct{})}
			jobs := projectJobs(g.fakeGetter, "big", 1000)
			jobs = append(jobs, projectJobs(g.fakeGetter, "small", tc.smallJobs)...)
			c := New(g, Options{Concurrency: workers, FinalJobTTL: time.Hour}, nil)
			c.SetJobs(ConfigSource, jobs)
			done := make(chan struct{})
			go func() { defer close(done); c.Refresh(t.Context()) }()
			for {
				g.mu.Lock()
				n := len(g.order)
				g.mu.Unlock()
				if n == workers {
					break
				}
				time.Sleep(time.Millisecond) // waiting for the first round to be in flight, not a measurement
			}
			close(g.gate)
			<-done
			wantBig := workers - min(tc.smallJobs, workers/2)
			if g.maxSeen["big"] < wantBig {
				t.Errorf("big project: at most %d queries in flight, want %d", g.maxSeen["big"], wantBig)
			}
			// The first round, in flight together before any answer: the projects took turns.
			smallFirst := 0
			for _, p := range g.order[:workers] {
				if p == "small" {
					smallFirst++
				}
			}
			if want := min(tc.smallJobs, workers/2); smallFirst != want {
				t.Errorf("small project: %d of the first %d queries, want %d", smallFirst, workers, want)
			}
			for _, s := range c.Snapshot() {
				if !s.QuerySuccess {
					t.Fatalf("job %s not refreshed", s.JobID)
				}
			}
		})
	}
}

// deferringGetter sends nothing once its context has ended, as huaweicloud.Client does (ErrDeferred),
// and answers RUNNING otherwise.
type deferringGetter struct{ *fakeGetter }

func (d deferringGetter) GetJob(ctx context.Context, t huaweicloud.Target, id string) (*huaweicloud.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", huaweicloud.ErrDeferred, err)
	}
	return d.fakeGetter.GetJob(ctx, t, id)
}

// TestUnsentPullLeavesJobsDue (issue 22.1): pulls of a client whose budget is spent or that hangs up at
// once send nothing, so they neither stamp the jobs as asked nor record failures: Prometheus' next pull
// refreshes every job and query_success stays 1. On the old code those pulls stamped every due job and
// recorded a failure for each; Prometheus' next pull made no call and every job showed query_success 0.
func TestUnsentPullLeavesJobsDue(t *testing.T) {
	const prom, hostile = "10.0.0.1 Prometheus/3.5.0", "10.0.0.9 curl/8.5.0"
	g := deferringGetter{newFakeGetter()}
	var ids []string
	for i := range 20 {
		ids = append(ids, fmt.Sprintf("job-%02d", i))
		g.set(ids[i], job(ids[i], "RUNNING"), nil)
	}
	clk := fakeclock.New(t0)
	m, self := newSelfMetrics()
	c := New(g, Options{Concurrency: 4, MinQueryInterval: 10 * time.Second, FinalJobTTL: time.Hour}, nil, WithClock(clk.Now), WithMetrics(m))
	c.SetJobs(ConfigSource, watched(ids...))
	spent, cancel := context.WithCancel(t.Context())
	cancel() // hung up, or a budget of 0.001 s minus the offset

	for pull := range 4 {
		c.RefreshFor(t.Context(), prom)
		for range 5 { // the hostile client, every 3 s between two pulls of Prometheus
			clk.Add(3 * time.Second)
			c.RefreshFor(spent, hostile)
		}
		for _, id := range ids {
			if got := g.count(id); got != pull+1 {
				t.Fatalf("after %d pulls of Prometheus, job %s was asked %d times, want %d", pull+1, id, got, pull+1)
			}
		}
	}
	for _, s := range c.Snapshot() {
		if !s.QuerySuccess {
			t.Errorf("job %s: query_success 0 (%s)", s.JobID, s.LastError)
		}
	}
	for _, r := range huaweicloud.Reasons {
		if v := self.value(t, "job_query_failures_total", "service", "ecs", "region", "ap-southeast-1", "project_id", "0123456789abcdef0123456789abcdef", "reason", r); v != 0 {
			t.Errorf("job_query_failures_total{reason=%q} = %v, want 0: nothing was sent", r, v)
		}
	}
}

// TestDeferredQueriesLogNoLinePerJob (issue 19): a pull that defers 100 queries (deadline, pacing) logs
// one summary line, at info, with the counts by reason; no warning per job. On the old code each job's
// first deferral was a warning: "job query failed".
func TestDeferredQueriesLogNoLinePerJob(t *testing.T) {
	var buf bytes.Buffer
	logger := log.NewLogfmtLogger(log.NewSyncWriter(&buf))
	g := deferringGetter{newFakeGetter()}
	var ids []string
	for i := range 100 {
		ids = append(ids, fmt.Sprintf("job-%03d", i))
		g.set(ids[i], job(ids[i], "RUNNING"), nil)
	}
	m, self := newSelfMetrics()
	c := New(g, Options{Concurrency: 4, FinalJobTTL: time.Hour}, logger, WithMetrics(m))
	c.SetJobs(ConfigSource, watched(ids...))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c.Refresh(ctx)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "level=info") || !strings.Contains(lines[0], "deferred_timeout=100") {
		t.Errorf("log of a pull deferring 100 queries:\n%s\nwant one info line with deferred_timeout=100", buf.String())
	}
	if v := self.value(t, "job_queries_deferred_total", "reason", huaweicloud.ReasonTimeout); v != 100 {
		t.Errorf("job_queries_deferred_total{reason=timeout} = %v, want 100", v)
	}
	if v := self.value(t, "unanswered_jobs"); v != 100 {
		t.Errorf("unanswered_jobs = %v, want 100", v)
	}
}

// TestRepeatClientsAreServedFromMemory (issue 22.2): beside one Prometheus pulling every 15 s, a client
// pulling every second (curl without the scrape-timeout header, or with it but far more often than
// min_query_interval) adds at most 10% API calls. On the old code it was treated as a scraper after its
// first pull and every job was asked once a second: 9x.
func TestRepeatClientsAreServedFromMemory(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header string
		ua     string
	}{
		{"watch -n1 curl", "", "curl/8.5.0"},
		{"a scraper pulling every second", "10", "curl/8.5.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFakeGetter()
			ids := []string{"a", "b", "c"}
			for _, id := range ids {
				g.set(id, job(id, "RUNNING"), nil)
			}
			clk := fakeclock.New(t0)
			c := New(g, Options{Concurrency: 2, MinQueryInterval: 10 * time.Second, FinalJobTTL: time.Hour}, nil, WithClock(clk.Now))
			c.SetJobs(ConfigSource, watched(ids...))
			h := c.Handler(prometheus.NewRegistry(), 500*time.Millisecond, func() time.Duration { return 10 * time.Second }, nil)
			pull := func(addr, ua, header string) {
				r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				r.RemoteAddr = addr + ":40000"
				r.Header.Set("User-Agent", ua)
				if header != "" {
					r.Header.Set(scrapeTimeoutHeader, header)
				}
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
			const seconds = 300
			for s := range seconds {
				if s%15 == 0 {
					pull("10.0.0.1", "Prometheus/3.5.0", "10")
				}
				pull("10.0.0.9", tc.ua, tc.header)
				clk.Add(time.Second)
			}
			promAlone := seconds / 15
			for _, id := range ids {
				if got := g.count(id); float64(got) > 1.1*float64(promAlone) {
					t.Errorf("job %s asked %d times in %ds, want at most 10%% over one Prometheus' %d", id, got, seconds, promAlone)
				}
			}
		})
	}
}

// TestCurlAloneStillRefreshes: with no scraper pulling, a client that is not one is served answers at
// most min_query_interval old, so a curl to debug the exporter sees it move.
func TestCurlAloneStillRefreshes(t *testing.T) {
	g := newFakeGetter()
	g.set("a", job("a", "RUNNING"), nil)
	clk := fakeclock.New(t0)
	c := New(g, Options{Concurrency: 1, MinQueryInterval: 10 * time.Second, FinalJobTTL: time.Hour}, nil, WithClock(clk.Now))
	c.SetJobs(ConfigSource, watched("a"))
	for range 60 {
		c.Refresh(t.Context())
		clk.Add(time.Second)
	}
	if got := g.count("a"); got != 6 {
		t.Errorf("asked %d times in 60 s of pulls every second, want 6 (every min_query_interval)", got)
	}
}
