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

// randomJobs returns n jobs with random ids spread over services, regions and projects.
func randomJobs(seed uint64, n int) []WatchedJob {
	r := rand.New(rand.NewPCG(seed, seed))
	regions := []string{"ap-southeast-1", "cn-north-4", "eu-west-101"}
	out := make([]WatchedJob, n)
	for i := range out {
		out[i] = WatchedJob{
			Target: huaweicloud.Target{Service: huaweicloud.JobServices[r.IntN(len(huaweicloud.JobServices))],
				Region: regions[r.IntN(len(regions))], ProjectID: fmt.Sprintf("%032x", r.IntN(5))},
			JobID: fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64()),
		}
	}
	return out
}

// TestShardsPartitionTheWatchSet: for every shard count from 1 to 7, the shards of one watch set (config
// jobs and discovered ones) hold every job exactly once, each shard a fair share.
func TestShardsPartitionTheWatchSet(t *testing.T) {
	const n = 10000
	fromConfig, discovered := randomJobs(1, n/2), randomJobs(2, n/2)
	for count := 1; count <= 7; count++ {
		t.Run(fmt.Sprintf("shards=%d", count), func(t *testing.T) {
			owner := map[string]int{}
			for index := range count {
				c := New(newFakeGetter(), DefaultOptions, nil, WithShard(index, count))
				c.SetJobs(ConfigSource, fromConfig)
				c.SetJobs("cts/ap-southeast-1", discovered)
				snap := c.Snapshot()
				// A fair share: FNV-1a spreads 10,000 ids within a few percent of n/count.
				if want := n / count; len(snap) < want*85/100 || len(snap) > want*115/100 {
					t.Errorf("shard %d of %d holds %d jobs, want about %d", index, count, len(snap), want)
				}
				for _, s := range snap {
					k := s.Service + "/" + s.Region + "/" + s.ProjectID + "/" + s.JobID
					if prev, dup := owner[k]; dup {
						t.Fatalf("job %s is in shard %d and in shard %d", k, prev, index)
					}
					owner[k] = index
				}
			}
			for _, w := range append(fromConfig, discovered...) {
				if _, ok := owner[w.Key()]; !ok {
					t.Fatalf("job %s is in no shard of %d", w.Key(), count)
				}
			}
			if len(owner) != n {
				t.Errorf("shards hold %d distinct jobs, want %d", len(owner), n)
			}
		})
	}
}

// TestShardOfMatchesKey: the piecewise hash is the hash of Key(), so the shard of a job can be told from
// its key alone (e.g. by a script that checks a deployment).
func TestShardOfMatchesKey(t *testing.T) {
	for _, w := range randomJobs(3, 100) {
		var h uint64 = 14695981039346656037
		for _, b := range []byte(w.Key()) {
			h = (h ^ uint64(b)) * 1099511628211
		}
		if got, want := ShardOf(w, 7), int(h%7); got != want {
			t.Fatalf("ShardOf(%s, 7) = %d, want %d", w.Key(), got, want)
		}
	}
}

// TestShardedAPICallsEqualUnsharded: N shards together make exactly the API calls of one unsharded
// collector, over a first scrape (every job) and a steady one (the unfinished jobs), each job once.
func TestShardedAPICallsEqualUnsharded(t *testing.T) {
	jobs := randomJobs(4, 2000)
	answer := func(g *fakeGetter) {
		for i, w := range jobs {
			status := "SUCCESS"
			if i%10 == 0 {
				status = "RUNNING"
			}
			g.set(w.JobID, job(w.JobID, status), nil)
		}
	}
	run := func(count int) (first, steady int, perJob map[string]int) {
		g := newFakeGetter()
		answer(g)
		clk := fakeclock.New(t0)
		var cols []*Collector
		for index := range count {
			c := New(g, Options{Concurrency: 8, MinQueryInterval: time.Second, FinalJobTTL: 24 * time.Hour}, nil,
				WithClock(clk.Now), WithShard(index, count))
			c.SetJobs(ConfigSource, jobs)
			cols = append(cols, c)
		}
		total := func() int {
			g.mu.Lock()
			defer g.mu.Unlock()
			n := 0
			for _, c := range g.calls {
				n += c
			}
			return n
		}
		for _, c := range cols {
			c.Refresh(t.Context())
		}
		first = total()
		clk.Add(time.Minute)
		for _, c := range cols {
			c.Refresh(t.Context())
		}
		return first, total() - first, g.calls
	}
	wantFirst, wantSteady, _ := run(1)
	if wantFirst != len(jobs) || wantSteady != len(jobs)/10 {
		t.Fatalf("unsharded: %d and %d calls, want %d and %d", wantFirst, wantSteady, len(jobs), len(jobs)/10)
	}
	for count := 2; count <= 7; count++ {
		first, steady, perJob := run(count)
		if first != wantFirst || steady != wantSteady {
			t.Errorf("%d shards: %d calls on the first scrape and %d on the steady one, want %d and %d (unsharded)",
				count, first, steady, wantFirst, wantSteady)
		}
		for id, n := range perJob {
			if n > 2 {
				t.Errorf("%d shards: job %s queried %d times, want at most 2", count, id, n)
			}
		}
	}
}

func TestShardInfo(t *testing.T) {
	for _, tc := range []struct {
		index, count int
		want         string
	}{
		{0, 1, `count="1",index="0"`},
		{2, 3, `count="3",index="2"`},
		{0, 0, `count="1",index="0"`}, // no sharding
	} {
		c := New(newFakeGetter(), DefaultOptions, nil, WithShard(tc.index, tc.count))
		want := "# HELP huaweicloud_job_exporter_shard_info " +
			"Shard of the watched jobs this replica owns (--shard.index of --shard.count); 1. Unsharded: index 0 of count 1.\n" +
			"# TYPE huaweicloud_job_exporter_shard_info gauge\n" +
			"huaweicloud_job_exporter_shard_info{" + tc.want + "} 1\n"
		if err := testutil.CollectAndCompare(c.ShardInfoCollector(), strings.NewReader(want)); err != nil {
			t.Errorf("WithShard(%d, %d): %v", tc.index, tc.count, err)
		}
	}
}
