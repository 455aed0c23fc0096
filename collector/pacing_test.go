package collector

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// pacedGetter is a client whose project "busy" is held back by its rate limit for the whole scrape: a
// GetJob of that project waits inside the client until the scrape ends and sends nothing, like
// huaweicloud.Client's when the project's rate_limit has no room. Every other project answers at once.
type pacedGetter struct {
	*fakeGetter
	busy string

	mu      sync.Mutex
	idle    int           // answers of the idle project still expected
	idleAll chan struct{} // closed when they were all given
}

func (p *pacedGetter) GetJob(ctx context.Context, t huaweicloud.Target, id string) (*huaweicloud.Job, error) {
	if t.ProjectID == p.busy {
		<-ctx.Done()
		return nil, fmt.Errorf("%w: held back by the project's rate_limit: %w", huaweicloud.ErrDeferred, ctx.Err())
	}
	j, err := p.fakeGetter.GetJob(ctx, t, id)
	p.mu.Lock()
	if p.idle--; p.idle == 0 {
		close(p.idleAll)
	}
	p.mu.Unlock()
	return j, err
}

// TestOneProjectsRateLimitDoesNotStarveAnother: with two projects, one held back by its rate limit for
// the whole scrape, the other project's jobs are all refreshed in that scrape; the held-back queries
// are deferred (not sent, so not failures, and the jobs stay due). The held-back project holds at most
// its share of the workers.
func TestOneProjectsRateLimitDoesNotStarveAnother(t *testing.T) {
	const perProject = 50
	busy := huaweicloud.Target{Service: huaweicloud.ECS, Region: "cn-north-4", ProjectID: "0123456789abcdef0123456789abcdef"}
	idle := huaweicloud.Target{Service: huaweicloud.ECS, Region: "ap-southeast-1", ProjectID: "fedcba9876543210fedcba9876543210"}
	g := &pacedGetter{fakeGetter: newFakeGetter(), busy: busy.ProjectID, idle: perProject, idleAll: make(chan struct{})}
	var jobs []WatchedJob
	for i := range perProject {
		for _, tg := range []huaweicloud.Target{busy, idle} {
			id := fmt.Sprintf("%s-%03d", tg.Region, i)
			g.set(id, job(id, "RUNNING"), nil)
			jobs = append(jobs, WatchedJob{Target: tg, JobID: id})
		}
	}
	m, self := newSelfMetrics()
	c := New(g, Options{Concurrency: 4, FinalJobTTL: 24 * time.Hour}, nil, WithMetrics(m), WithClock(func() time.Time { return t0 }))
	c.SetJobs(ConfigSource, jobs)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); c.Refresh(ctx) }()
	select {
	case <-g.idleAll:
	case <-time.After(30 * time.Second): // a bound for the broken case only, not a measurement
	}
	cancel() // the scrape deadline
	<-done

	refreshed := map[string]int{}
	for _, s := range c.Snapshot() {
		if s.QuerySuccess {
			refreshed[s.Region]++
		}
	}
	if refreshed[idle.Region] != perProject || refreshed[busy.Region] != 0 {
		t.Errorf("refreshed %v, want all %d jobs of %s and none of %s", refreshed, perProject, idle.Region, busy.Region)
	}
	deferred := self.value(t, "job_queries_deferred_total", "reason", huaweicloud.ReasonTimeout) +
		self.value(t, "job_queries_deferred_total", "reason", huaweicloud.ReasonThrottled)
	if deferred != perProject {
		t.Errorf("deferred queries %v, want %d (the busy project's)", deferred, perProject)
	}
	if got := self.value(t, "job_query_failures_total", "service", "ecs", "region", busy.Region, "project_id", busy.ProjectID, "reason", huaweicloud.ReasonThrottled); got != 0 {
		t.Errorf("throttled failures of the busy project: %v, want 0: nothing was sent", got)
	}
}
