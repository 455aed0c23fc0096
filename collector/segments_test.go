package collector

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

// TestSegmentedAnswerFollowsRandomChanges drives 300 jobs spread over every bucket through a seeded
// random history: jobs finish, fail, vanish, change type, fail to answer, leave and join the watch, and
// time retires the old ones. After each step the gzip answer (segments copied from the cache, finished
// segments pinned without a look at their jobs) must say exactly what the text answer says, and both
// what Collect says.
func TestSegmentedAnswerFollowsRandomChanges(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 14))
			g := newFakeGetter()
			clk := fakeclock.New(t0)
			c := New(g, Options{Concurrency: 8, MinQueryInterval: time.Second, FinalJobTTL: 30 * time.Minute}, nil, WithClock(clk.Now))
			ids := map[string]bool{}
			next := 0
			add := func(n int) {
				for range n {
					id := fmt.Sprintf("job-%04d", next)
					next++
					g.set(id, job(id, "RUNNING"), nil)
					ids[id] = true
				}
			}
			list := func() []string {
				var out []string
				for id := range ids {
					out = append(out, id)
				}
				return out
			}
			add(300)
			c.SetJobs(ConfigSource, watched(list()...))
			for step := range 30 {
				var did []string
				for range 1 + rng.IntN(12) {
					all := list()
					id := all[rng.IntN(len(all))]
					switch op := rng.IntN(8); op {
					case 0, 1:
						g.set(id, job(id, "SUCCESS"), nil)
						did = append(did, id+" succeeds")
					case 2:
						j := job(id, "FAIL")
						j.ErrorCode, j.FailReason = fmt.Sprintf("Ecs.%04d", rng.IntN(5)), "no capacity"
						g.set(id, j, nil)
						did = append(did, id+" fails")
					case 3:
						j := job(id, "RUNNING")
						j.JobType = "deleteServer"
						g.set(id, j, nil)
						did = append(did, id+" changes type")
					case 4:
						g.set(id, nil, &huaweicloud.APIError{StatusCode: 500, Code: "SYS.0001", Message: "boom"})
						did = append(did, id+" errs")
					case 5:
						g.set(id, nil, nil) // not found: vanishes once confirmed
						did = append(did, id+" is forgotten by the API")
					case 6:
						delete(ids, id)
						add(1 + rng.IntN(3))
						c.SetJobs(ConfigSource, watched(list()...))
						did = append(did, id+" leaves, others join")
					case 7:
						clk.Add(time.Duration(rng.IntN(20)) * time.Minute)
						did = append(did, "time passes")
					}
				}
				clk.Add(2 * time.Second)
				c.Refresh(t.Context())
				got, _ := gzipAnswer(t, c)
				want := plainAnswer(t, c)
				if got != want {
					t.Fatalf("step %d (%s): gzip answer differs from the text answer\n%s", step, strings.Join(did, ", "), lineDiff(got, want))
				}
				// Collect goes through a registry and the text parser: slow under -race, so every 10th step.
				if step%10 != 9 {
					continue
				}
				if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
					t.Fatalf("step %d (%s): text answer differs from Collect: %v", step, strings.Join(did, ", "), err)
				}
			}
		})
	}
}

// TestSteadyPullLooksOnlyAtLiveJobs: at 1,000 jobs with 100 unfinished, a pull that follows no change
// of a finished job looks at the 100 unfinished ones only (every finished segment pinned), and a job that
// finishes makes the pull look again at its bucket, and at nothing else.
func TestSteadyPullLooksOnlyAtLiveJobs(t *testing.T) {
	c := populated(t, 1000)
	gzipAnswer(t, c)
	gzipAnswer(t, c)
	viewed := func() (jobs, segments int) {
		vs := c.expo.viewSet()
		defer c.expo.releaseViews(vs)
		c.views(vs, true)
		for s := range numSegments {
			if vs.made[s] {
				segments++
			}
		}
		return len(vs.views), segments
	}
	if jobs, segs := viewed(); jobs != 100 || segs != 1 {
		t.Fatalf("steady pull viewed %d jobs in %d segments, want the 100 unfinished in the live segment", jobs, segs)
	}

	id := fmt.Sprintf("ff80808288d41e1b0189%012x", 10) // RUNNING in populated
	g := newFakeGetter()
	g.set(id, job(id, "SUCCESS"), nil)
	c.SetGetter(g)
	c.mu.Lock()
	for _, e := range c.entries {
		e.lastAttempt = 0 // due again, whatever the clock
	}
	c.mu.Unlock()
	c.Refresh(t.Context())
	bucket := -1
	for _, e := range c.entries {
		if e.jobID == id {
			bucket = int(e.bucket)
		}
	}
	vs := c.expo.viewSet()
	c.views(vs, true)
	var made []int
	for s := range numSegments {
		if vs.made[s] {
			made = append(made, s)
		}
	}
	c.expo.releaseViews(vs)
	if want := []int{bucket, liveSegment}; fmt.Sprint(made) != fmt.Sprint(want) {
		t.Errorf("after the job finished the pull viewed segments %v, want its bucket and the live one %v", made, want)
	}
	got, _ := gzipAnswer(t, c)
	if want := plainAnswer(t, c); got != want {
		t.Fatalf("after a job finished: gzip answer differs from the text answer\n%s", lineDiff(got, want))
	}
	// The pull after that one looks at the live jobs only again.
	if jobs, segs := viewed(); jobs != 99 || segs != 1 {
		t.Errorf("pull after the job finished and its bucket was rebuilt viewed %d jobs in %d segments, want 99 in 1", jobs, segs)
	}
}

// TestBucketsSpreadJobs: the finished jobs of 10,000 keys spread over every bucket, none with more than
// twice its share, so that a finishing job rebuilds about 1/64 of them.
func TestBucketsSpreadJobs(t *testing.T) {
	var n [stableBuckets]int
	for _, w := range watched(func() []string {
		var ids []string
		for i := range 10000 {
			ids = append(ids, fmt.Sprintf("ff80808288d41e1b0189%012x", i))
		}
		return ids
	}()...) {
		n[bucketOf(w.Key())]++
	}
	for b, k := range n {
		if k == 0 || k > 2*10000/stableBuckets {
			t.Errorf("bucket %d holds %d of 10,000 jobs, want about %d", b, k, 10000/stableBuckets)
		}
	}
}
