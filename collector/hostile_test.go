package collector

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

// hostileEnv is one collector with its fake API and clock, for the hostile sequences below.
type hostileEnv struct {
	g   *fakeGetter
	clk *fakeclock.Clock
	c   *Collector
}

// TestSegmentedAnswerHostileSequences: sequences aimed at the segment cache (TTL changed by a reload,
// the clock going backwards, end times far in the past and future, a dropped discovered job named in
// the config, a vanished job, a job leaving and joining the watch, a final answer followed by a RUNNING
// one). After every step the gzip answer, made and then copied, says what the text answer and Collect
// say.
func TestSegmentedAnswerHostileSequences(t *testing.T) {
	final := func(id, status string, end time.Time) *huaweicloud.Job {
		j := job(id, status)
		j.EndTime = end
		return j
	}
	refresh := func(e *hostileEnv) { e.clk.Add(2 * time.Second); e.c.Refresh(t.Context()) }
	tests := []struct {
		name  string
		steps []func(e *hostileEnv)
	}{
		{"ttl shrinks and grows by reload", []func(e *hostileEnv){
			func(e *hostileEnv) { e.g.set("a", job("a", "SUCCESS"), nil); e.g.set("b", job("b", "RUNNING"), nil) },
			refresh,
			func(e *hostileEnv) { e.c.SetOptions(Options{MinQueryInterval: time.Second, FinalJobTTL: time.Second}) },
			func(e *hostileEnv) {
				e.c.SetOptions(Options{MinQueryInterval: time.Second, FinalJobTTL: 48 * time.Hour})
			},
			func(e *hostileEnv) { e.g.set("b", job("b", "FAIL"), nil) },
			refresh,
			func(e *hostileEnv) { e.c.SetOptions(Options{MinQueryInterval: time.Second, FinalJobTTL: time.Minute}) },
		}},
		{"clock goes backwards and forwards", []func(e *hostileEnv){
			func(e *hostileEnv) { e.g.set("a", job("a", "SUCCESS"), nil); e.g.set("b", job("b", "RUNNING"), nil) },
			refresh,
			func(e *hostileEnv) { e.clk.Add(-48 * time.Hour) },
			refresh,
			func(e *hostileEnv) { e.g.set("b", job("b", "SUCCESS"), nil) },
			refresh,
			func(e *hostileEnv) { e.clk.Add(96 * time.Hour) },
			func(e *hostileEnv) { e.clk.Set(time.Unix(0, 0)) },
			func(e *hostileEnv) { e.clk.Set(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)) },
			func(e *hostileEnv) { e.clk.Set(t0) },
		}},
		{"end times far away", []func(e *hostileEnv){
			func(e *hostileEnv) {
				e.g.set("a", final("a", "SUCCESS", time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)), nil)
				e.g.set("b", final("b", "FAIL", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)), nil)
				e.g.set("c", final("c", "SUCCESS", t0.Add(time.Hour)), nil)
			},
			refresh,
			func(e *hostileEnv) { e.clk.Add(23 * time.Hour) },
			func(e *hostileEnv) { e.clk.Add(2 * time.Hour) },
			func(e *hostileEnv) { e.clk.Add(100 * 365 * 24 * time.Hour) },
		}},
		{"dropped discovered job named in the config", []func(e *hostileEnv){
			func(e *hostileEnv) { e.c.SetJobs("cts", watched("x", "a")) },
			refresh, // x is unknown: dropped
			func(e *hostileEnv) { e.g.set("x", job("x", "RUNNING"), nil) },
			refresh,
			func(e *hostileEnv) { e.c.SetJobs(ConfigSource, watched("a", "b", "x")) },
			refresh,
			func(e *hostileEnv) { e.g.set("x", job("x", "SUCCESS"), nil) },
			refresh,
			func(e *hostileEnv) { e.c.SetJobs(ConfigSource, watched("a", "b")) },
			func(e *hostileEnv) { e.c.SetJobs("cts", nil) },
			func(e *hostileEnv) { e.c.SetJobs(ConfigSource, watched("a", "b", "x")) },
			refresh,
		}},
		{"vanished job", []func(e *hostileEnv){
			func(e *hostileEnv) { e.g.set("b", job("b", "RUNNING"), nil) },
			refresh,
			func(e *hostileEnv) { e.g.set("b", nil, nil) },
			refresh, func(e *hostileEnv) { e.clk.Add(time.Minute) }, refresh,
			func(e *hostileEnv) { e.clk.Add(time.Minute) }, refresh,
			func(e *hostileEnv) { e.clk.Add(time.Minute) }, refresh,
			func(e *hostileEnv) { e.g.set("b", job("b", "RUNNING"), nil) },
			refresh,
			func(e *hostileEnv) { e.clk.Add(25 * time.Hour) },
		}},
		{"final, then RUNNING again", []func(e *hostileEnv){
			func(e *hostileEnv) { e.g.set("a", job("a", "FAIL"), nil) },
			refresh,
			func(e *hostileEnv) { e.g.set("a", job("a", "RUNNING"), nil) },
			refresh,
			func(e *hostileEnv) { e.c.SetJobs(ConfigSource, watched("b")) },
			func(e *hostileEnv) { e.c.SetJobs(ConfigSource, watched("a", "b")) },
			refresh,
		}},
		{"pending payment and errors", []func(e *hostileEnv){
			func(e *hostileEnv) { e.g.set("a", job("a", "PENDING_PAYMENT"), nil) },
			refresh,
			func(e *hostileEnv) {
				e.g.set("a", nil, &huaweicloud.APIError{StatusCode: 500, Code: "SYS.0001", Message: "x"})
			},
			func(e *hostileEnv) { e.clk.Add(10 * time.Minute) },
			refresh,
			func(e *hostileEnv) { e.g.set("a", job("a", "SUCCESS"), nil) },
			func(e *hostileEnv) { e.clk.Add(10 * time.Minute) },
			refresh,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &hostileEnv{g: newFakeGetter(), clk: fakeclock.New(t0)}
			e.g.set("a", job("a", "RUNNING"), nil)
			e.g.set("b", job("b", "RUNNING"), nil)
			e.c = New(e.g, Options{Concurrency: 2, MinQueryInterval: time.Second, FinalJobTTL: 24 * time.Hour}, nil, WithClock(e.clk.Now))
			e.c.SetJobs(ConfigSource, watched("a", "b"))
			for i, step := range tt.steps {
				step(e)
				// What every pull's refresh does last, whatever the step did: retire the jobs past
				// final_job_ttl. Then the gzip answer, made, and again, copied from the cache.
				e.c.retire()
				first, _ := gzipAnswer(t, e.c)
				want := plainAnswer(t, e.c)
				second, _ := gzipAnswer(t, e.c)
				for pull, got := range []string{first, second} {
					if got != want {
						t.Fatalf("step %d, pull %d: gzip answer differs from the text answer\n%s", i, pull, lineDiff(got, want))
					}
				}
				if err := testutil.CollectAndCompare(e.c, strings.NewReader(want)); err != nil {
					t.Fatalf("step %d: text answer differs from Collect: %v", i, err)
				}
			}
		})
	}
}

// TestSegmentedAnswerConcurrentPulls: gzip pulls racing with queries, watch-set changes and reloads
// (for -race), each answer complete: every family header once, no series twice.
func TestSegmentedAnswerConcurrentPulls(t *testing.T) {
	g := newFakeGetter()
	clk := fakeclock.New(t0)
	var ids []string
	for i := range 200 {
		id := fmt.Sprintf("job-%03d", i)
		ids = append(ids, id)
		status := "RUNNING"
		if i%3 == 0 {
			status = "SUCCESS"
		}
		g.set(id, job(id, status), nil)
	}
	c := New(g, Options{Concurrency: 4, MinQueryInterval: time.Millisecond, FinalJobTTL: time.Hour}, nil, WithClock(clk.Now))
	c.SetJobs(ConfigSource, watched(ids...))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				switch w {
				case 0:
					clk.Add(time.Minute)
					c.Refresh(t.Context())
				case 1:
					id := ids[(i*7)%len(ids)]
					g.set(id, job(id, []string{"SUCCESS", "FAIL", "RUNNING"}[i%3]), nil)
					c.SetJobs("cts", watched(ids[:i*5]...))
				case 2:
					c.SetOptions(Options{Concurrency: 1 + i%4, MinQueryInterval: time.Millisecond, FinalJobTTL: time.Duration(1+i%5) * 20 * time.Minute})
				case 3:
					got, _ := gzipAnswer(t, c)
					checkAnswer(t, got)
				}
			}
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 30 {
				got, _ := gzipAnswer(t, c)
				checkAnswer(t, got)
			}
		}()
	}
	wg.Wait()
	got, _ := gzipAnswer(t, c)
	if want := plainAnswer(t, c); got != want {
		t.Fatalf("after the race: gzip answer differs from the text answer\n%s", lineDiff(got, want))
	}
}

// checkAnswer fails on a family header or a series written twice.
func checkAnswer(t *testing.T, answer string) {
	t.Helper()
	seen := map[string]bool{}
	for _, line := range strings.Split(answer, "\n") {
		key := line
		if !strings.HasPrefix(line, "#") {
			key, _, _ = strings.Cut(line, "} ")
		}
		if line == "" {
			continue
		}
		if seen[key] {
			t.Errorf("written twice: %s", key)
			return
		}
		seen[key] = true
	}
}
