package collector

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// pacedGetter is a client whose project "busy" is held back by its rate limit for the whole scrape:
// WaitTurn for it returns only when the scrape ends, throttled, like huaweicloud.Client's. A GetJob of
// that project without a turn waits for one itself, as a client that paces inside GetJob would, holding
// whatever slot its caller holds. Every other project answers at once.
type pacedGetter struct {
	*fakeGetter
	busy string

	mu      sync.Mutex
	idle    int           // answers of the idle project still expected
	idleAll chan struct{} // closed when they were all given
}

type turnKey struct{}

func (p *pacedGetter) WaitTurn(ctx context.Context, t huaweicloud.Target) (context.Context, error) {
	if t.ProjectID != p.busy {
		return context.WithValue(ctx, turnKey{}, true), nil
	}
	<-ctx.Done()
	return ctx, fmt.Errorf("%w: %w", &huaweicloud.APIError{StatusCode: 429, Code: "APIG.0308"}, ctx.Err())
}

func (p *pacedGetter) GetJob(ctx context.Context, t huaweicloud.Target, id string) (*huaweicloud.Job, error) {
	if ctx.Value(turnKey{}) == nil {
		var err error
		if ctx, err = p.WaitTurn(ctx, t); err != nil {
			return nil, err
		}
	}
	j, err := p.fakeGetter.GetJob(ctx, t, id)
	if t.ProjectID != p.busy {
		p.mu.Lock()
		if p.idle--; p.idle == 0 {
			close(p.idleAll)
		}
		p.mu.Unlock()
	}
	return j, err
}

// TestOneProjectsRateLimitDoesNotStarveAnother: with two projects, one held back by its rate limit for
// the whole scrape, the other project's jobs are all refreshed in that scrape, and the held-back queries
// count as throttled. On the old code the held-back queries took every concurrency slot while they
// waited, and the other project's jobs were refreshed only after the deadline, if at all.
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
	m := NewExporterMetrics(prometheus.NewRegistry())
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
	if got := testutil.ToFloat64(m.queryFailures.WithLabelValues("ecs", busy.Region, busy.ProjectID, huaweicloud.ReasonThrottled)); got != perProject {
		t.Errorf("throttled failures of the busy project: %v, want %d", got, perProject)
	}
}
