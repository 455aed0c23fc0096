package simulator

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// startScenario runs sc on e's simulator until the test ends and waits for its initial jobs.
func startScenario(t *testing.T, e *env, sc Scenario) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.sim.RunScenario(ctx, sc)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	waitJobs(t, e, len(sc.Initial))
}

func waitJobs(t *testing.T, e *env, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(e.sim.JobIDs()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs after 5s, want %d", len(e.sim.JobIDs()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kinds queries every job like the exporter and sorts them into what the demo must show.
func kinds(t *testing.T, e *env) map[string]int {
	t.Helper()
	out := map[string]int{}
	c := e.client()
	svcs := map[string]huaweicloud.Service{}
	p, err := c.ListTraces(context.Background(), e.target(huaweicloud.CTS), huaweicloud.TraceQuery{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range p.Traces {
		// The trace's service_type is the table's (VPC for EIP); its response names the job in job_id
		// or, for CCE, in status.jobID.
		var resp struct {
			JobID  string `json:"job_id"`
			Status struct {
				JobID string `json:"jobID"`
			} `json:"status"`
		}
		if err := json.Unmarshal([]byte(tr.Response), &resp); err != nil {
			t.Fatalf("trace response %q: %v", tr.Response, err)
		}
		for _, s := range huaweicloud.JobServices {
			if spec, _ := huaweicloud.Spec(s); spec.CTSServiceType == tr.ServiceType {
				svcs[resp.JobID+resp.Status.JobID] = s
			}
		}
	}
	for _, id := range e.sim.JobIDs() {
		svc, ok := svcs[id]
		if !ok {
			t.Fatalf("job %s has no CTS trace", id)
		}
		j, err := c.GetJob(context.Background(), e.target(svc), id)
		if err != nil {
			t.Fatal(err)
		}
		out[j.Status]++
		out["service "+string(svc)]++
		failedSubs := 0
		for _, sj := range j.SubJobs {
			if sj.Status == huaweicloud.StatusFail {
				failedSubs++
			}
		}
		if j.Status == huaweicloud.StatusSuccess && failedSubs > 0 {
			out["partial"]++
		}
		if j.Status == huaweicloud.StatusFail {
			out["fail "+j.ErrorCode]++
		}
	}
	return out
}

// TestDefaultScenario: with a fake clock, the demo's jobs move INIT -> RUNNING -> final within a minute and
// show every kind of outcome; new jobs keep coming up to the bound.
func TestDefaultScenario(t *testing.T) {
	e := newEnv(t, Options{Seed: 1})
	sc := DefaultScenario()
	sc.Poll = 5 * time.Millisecond
	startScenario(t, e, sc)

	now := kinds(t, e)
	t.Logf("at start: %v", now)
	if now[huaweicloud.StatusInit] == 0 || now[huaweicloud.StatusRunning] == 0 {
		t.Errorf("at start no jobs INIT or RUNNING: %v", now)
	}
	for _, svc := range huaweicloud.JobServices {
		if now["service "+string(svc)] == 0 {
			t.Errorf("no %s jobs", svc)
		}
	}

	e.clock.Add(60 * time.Second)
	waitJobs(t, e, len(sc.Initial)+20) // one every 3s
	later := kinds(t, e)
	t.Logf("after 60s: %v", later)
	if later[huaweicloud.StatusSuccess] < 15 || later[huaweicloud.StatusFail] < 3 || later["partial"] < 2 ||
		later[huaweicloud.StatusPendingPayment] != 1 || later[huaweicloud.StatusRunning] == 0 {
		t.Errorf("after 60s: %v", later)
	}
	codes := 0
	for k := range later {
		if len(k) > 5 && k[:5] == "fail " {
			codes++
		}
	}
	if codes < 3 {
		t.Errorf("only %d error codes among failures", codes)
	}
	// Every initial job but the stuck one and the unpaid one is final after a minute.
	open := map[string]int{}
	for _, id := range e.sim.JobIDs()[:len(sc.Initial)] {
		if st, _ := e.sim.JobStatus(id); st != huaweicloud.StatusSuccess && st != huaweicloud.StatusFail {
			open[st]++
		}
	}
	if len(open) != 2 || open[huaweicloud.StatusRunning] != 1 || open[huaweicloud.StatusPendingPayment] != 1 {
		t.Errorf("initial jobs not final after 60s: %v", open)
	}

	// Creation stops at MaxJobs.
	e.clock.Add(time.Hour)
	waitJobs(t, e, sc.MaxJobs)
	time.Sleep(30 * time.Millisecond)
	if n := len(e.sim.JobIDs()); n != sc.MaxJobs {
		t.Errorf("%d jobs, want %d", n, sc.MaxJobs)
	}
}

// TestScenarioReproducible: a seed gives the same jobs.
func TestScenarioReproducible(t *testing.T) {
	run := func(seed int64) ([]string, []string) {
		e := newEnv(t, Options{Seed: seed})
		sc := DefaultScenario()
		// Ten jobs beyond the initial ones, so that the seeded draws matter.
		sc.Poll, sc.MaxJobs = 2*time.Millisecond, len(sc.Initial)+10
		startScenario(t, e, sc)
		e.clock.Add(time.Minute)
		waitJobs(t, e, sc.MaxJobs)
		ids := e.sim.JobIDs()
		var st []string
		for _, id := range ids {
			s, _ := e.sim.JobStatus(id)
			st = append(st, s)
		}
		return ids, st
	}
	a, sa := run(5)
	b, sb := run(5)
	c, _ := run(6)
	if !slices.Equal(a, b) || !slices.Equal(sa, sb) {
		t.Error("same seed, different scenario")
	}
	if slices.Equal(a, c) {
		t.Error("different seed, same ids")
	}
}

// TestPlanMatchesRunScenario: Plan lists the very jobs RunScenario creates (same ids, same states), so a
// test can build the demo cloud without a running loop.
func TestPlanMatchesRunScenario(t *testing.T) {
	sc := DefaultScenario()
	sc.MaxJobs, sc.Poll = 45, 5*time.Millisecond
	running := newEnv(t, Options{Seed: 4})
	startScenario(t, running, sc)
	running.clock.Add(time.Minute)
	waitJobs(t, running, sc.MaxJobs)

	planned := newEnv(t, Options{Seed: 4})
	plan := sc.Plan(4, base, 1000)
	if len(plan) != sc.MaxJobs {
		t.Fatalf("plan of %d jobs, want %d", len(plan), sc.MaxJobs)
	}
	for _, spec := range plan {
		planned.sim.CreateJob(spec)
	}
	planned.clock.Add(time.Minute)
	ids := running.sim.JobIDs()
	if !slices.Equal(ids, planned.sim.JobIDs()) {
		t.Fatal("planned jobs have other ids than the scenario's")
	}
	for _, id := range ids {
		a, _ := running.sim.JobStatus(id)
		b, _ := planned.sim.JobStatus(id)
		if a != b {
			t.Errorf("job %s: %s running, %s planned", id, a, b)
		}
	}
	if got := sc.Plan(4, base, 3); len(got) != 3 || got[0].Begin != base.Add(sc.Initial[0].Offset) {
		t.Errorf("Plan(n=3) = %v", got)
	}
}
