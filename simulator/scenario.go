package simulator

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// Scenario is a cloud in motion: jobs present when it starts, then new jobs drawn from weighted templates
// at a fixed pace of the simulator's clock, up to a bound. Its random draws are seeded by Options.Seed,
// so a seed gives the same jobs (ids, types, timings) every run.
type Scenario struct {
	Initial   []ScenarioJob      // created when RunScenario starts
	Templates []ScenarioTemplate // new jobs are drawn from these by weight
	Interval  time.Duration      // one new job per Interval of the simulator's clock; 0: none
	MaxJobs   int                // no new jobs once this many (Initial included) were created; 0: no bound
	// Poll bounds how long RunScenario sleeps (real time) before looking at the clock again, so that a
	// fake clock moved by a test is noticed. Default 250ms.
	Poll time.Duration
}

// ScenarioJob is a job of the initial set.
type ScenarioJob struct {
	Offset time.Duration // Begin = scenario start + Offset; negative: created before the start
	Spec   JobSpec       // Spec.Begin is ignored
}

// ScenarioTemplate is one kind of new job.
type ScenarioTemplate struct {
	Weight     int
	Spec       JobSpec       // Spec.Begin and Spec.JobID are ignored
	InitJitter time.Duration // added to Spec.InitFor, uniform in [0, InitJitter)
	RunJitter  time.Duration // added to Spec.RunFor, uniform in [0, RunJitter)
}

const sec = time.Second

// DefaultScenario is the --demo cloud: 43 jobs already in motion across every job service of the
// exporter's service table (all but the stuck one final within a minute: most SUCCESS, several FAIL with
// different error codes, batches with partially failed sub-jobs, one PENDING_PAYMENT, one stuck
// RUNNING), then a new job every 3 s up to 200 jobs in total. Error codes other than those of the
// fixtures are illustrative.
func DefaultScenario() Scenario {
	ecs, evs, bms, ims := huaweicloud.ECS, huaweicloud.EVS, huaweicloud.BMS, huaweicloud.IMS
	eip, sdrs, cce, elb, cfw := huaweicloud.EIP, huaweicloud.SDRS, huaweicloud.CCE, huaweicloud.ELB, huaweicloud.CFW
	fail, pending, stuck := huaweicloud.StatusFail, huaweicloud.StatusPendingPayment, huaweicloud.StatusRunning
	j := func(offset time.Duration, spec JobSpec) ScenarioJob { return ScenarioJob{Offset: offset, Spec: spec} }
	return Scenario{
		Initial: []ScenarioJob{
			// ECS
			j(-20*sec, JobSpec{Service: ecs, SubJobs: 1, InitFor: 2 * sec, RunFor: 20 * sec}),
			j(-8*sec, JobSpec{Service: ecs, SubJobs: 3, InitFor: 3 * sec, RunFor: 35 * sec}),
			j(-12*sec, JobSpec{Service: ecs, SubJobs: 5, FailedSubJobs: 2, InitFor: 2 * sec, RunFor: 40 * sec}),
			j(-5*sec, JobSpec{Service: ecs, SubJobs: 1, Outcome: fail, ErrorCode: "Ecs.0052", FailReason: "Quota exceeded: instances.", InitFor: 2 * sec, RunFor: 15 * sec}),
			j(-30*sec, JobSpec{Service: ecs, SubJobs: 1, Outcome: pending, InitFor: 2 * sec, RunFor: 4 * sec}),
			j(-15*sec, JobSpec{Service: ecs, SubJobs: 2, Outcome: stuck, InitFor: 2 * sec, RunFor: 30 * sec}),
			j(0, JobSpec{Service: ecs, JobType: "resizeServer", InitFor: 4 * sec, RunFor: 25 * sec}),
			j(-3*sec, JobSpec{Service: ecs, SubJobs: 2, FailedSubJobs: 1, Outcome: fail, ErrorCode: "Ecs.0005", InitFor: 1 * sec, RunFor: 30 * sec}),
			j(-1*sec, JobSpec{Service: ecs, SubJobs: 1, InitFor: 5 * sec, RunFor: 45 * sec}),
			j(-22*sec, JobSpec{Service: ecs, JobType: "changeOs", InitFor: 1 * sec, RunFor: 30 * sec}),
			j(-9*sec, JobSpec{Service: ecs, SubJobs: 2, InitFor: 2 * sec, RunFor: 18 * sec}),
			// EVS
			j(-18*sec, JobSpec{Service: evs, InitFor: 1 * sec, RunFor: 12 * sec}),
			j(-6*sec, JobSpec{Service: evs, InitFor: 2 * sec, RunFor: 20 * sec}),
			j(-10*sec, JobSpec{Service: evs, SubJobs: 4, InitFor: 2 * sec, RunFor: 30 * sec}),
			j(-4*sec, JobSpec{Service: evs, SubJobs: 3, FailedSubJobs: 1, InitFor: 1 * sec, RunFor: 25 * sec}),
			j(-9*sec, JobSpec{Service: evs, Outcome: fail, InitFor: 1 * sec, RunFor: 10 * sec}),
			j(-1*sec, JobSpec{Service: evs, JobType: "extendVolume", InitFor: 1 * sec, RunFor: 8 * sec}),
			j(-14*sec, JobSpec{Service: evs, Outcome: fail, ErrorCode: "EVS.2069", FailReason: "The disk quota is insufficient.", InitFor: 1 * sec, RunFor: 20 * sec}),
			j(-2*sec, JobSpec{Service: evs, JobType: "deleteVolume", InitFor: 1 * sec, RunFor: 6 * sec}),
			j(-16*sec, JobSpec{Service: evs, SubJobs: 2, InitFor: 3 * sec, RunFor: 40 * sec}),
			// BMS
			j(-25*sec, JobSpec{Service: bms, SubJobs: 2, InitFor: 5 * sec, RunFor: 50 * sec}),
			j(-7*sec, JobSpec{Service: bms, SubJobs: 3, FailedSubJobs: 1, InitFor: 3 * sec, RunFor: 45 * sec}),
			j(-2*sec, JobSpec{Service: bms, SubJobs: 1, Outcome: fail, ErrorCode: "BMS.0103", FailReason: "The flavor is sold out in the AZ.", InitFor: 2 * sec, RunFor: 30 * sec}),
			j(-11*sec, JobSpec{Service: bms, SubJobs: 1, InitFor: 4 * sec, RunFor: 35 * sec}),
			// IMS
			j(-16*sec, JobSpec{Service: ims, InitFor: 3 * sec, RunFor: 40 * sec}),
			j(-4*sec, JobSpec{Service: ims, InitFor: 2 * sec, RunFor: 30 * sec}),
			j(-11*sec, JobSpec{Service: ims, Outcome: fail, InitFor: 2 * sec, RunFor: 20 * sec}),
			j(-19*sec, JobSpec{Service: ims, InitFor: 1 * sec, RunFor: 25 * sec}),
			j(0, JobSpec{Service: ims, InitFor: 3 * sec, RunFor: 45 * sec}),
			j(-6*sec, JobSpec{Service: ecs, SubJobs: 4, FailedSubJobs: 1, ErrorCode: "Ecs.0052", FailReason: "Quota exceeded: instances.", InitFor: 2 * sec, RunFor: 40 * sec}),
			// EIP: batches of public IPs, one with a failed sub-job.
			j(-5*sec, JobSpec{Service: eip, SubJobs: 3, InitFor: 1 * sec, RunFor: 12 * sec}),
			j(-2*sec, JobSpec{Service: eip, SubJobs: 4, FailedSubJobs: 1, InitFor: 1 * sec, RunFor: 20 * sec}),
			j(-8*sec, JobSpec{Service: eip, JobType: "deleteBatchPublicip", SubJobs: 2, InitFor: 1 * sec, RunFor: 10 * sec}),
			// SDRS: a protection group, and a failover that fails for one protected instance.
			j(-10*sec, JobSpec{Service: sdrs, InitFor: 2 * sec, RunFor: 25 * sec}),
			j(-3*sec, JobSpec{Service: sdrs, JobType: "failoverProtectionGroupNoCG", SubJobs: 2, FailedSubJobs: 1, Outcome: fail, InitFor: 2 * sec, RunFor: 35 * sec}),
			// CCE: a cluster being created, a node pool whose nodes partly fail, a deletion.
			j(0, JobSpec{Service: cce, SubJobs: 3, InitFor: 3 * sec, RunFor: 45 * sec}),
			j(-6*sec, JobSpec{Service: cce, JobType: "CreateNode", SubJobs: 2, FailedSubJobs: 1, Outcome: fail, InitFor: 2 * sec, RunFor: 30 * sec}),
			j(-12*sec, JobSpec{Service: cce, JobType: "DeleteCluster", SubJobs: 1, InitFor: 1 * sec, RunFor: 20 * sec}),
			// ELB v3: an upgrade, and a copy that fails for one listener.
			j(-7*sec, JobSpec{Service: elb, InitFor: 1 * sec, RunFor: 15 * sec}),
			j(-1*sec, JobSpec{Service: elb, JobType: "cloneLoadbalancer", SubJobs: 2, FailedSubJobs: 1, Outcome: fail, InitFor: 1 * sec, RunFor: 25 * sec}),
			// CFW: pay-per-use firewalls being created.
			j(-9*sec, JobSpec{Service: cfw, InitFor: 2 * sec, RunFor: 30 * sec}),
			j(-2*sec, JobSpec{Service: cfw, Outcome: fail, InitFor: 1 * sec, RunFor: 20 * sec}),
			j(0, JobSpec{Service: cfw, InitFor: 1 * sec, RunFor: 40 * sec}),
		},
		Templates: []ScenarioTemplate{
			{Weight: 6, Spec: JobSpec{Service: ecs, SubJobs: 1, InitFor: 1 * sec, RunFor: 10 * sec}, InitJitter: 3 * sec, RunJitter: 30 * sec},
			{Weight: 3, Spec: JobSpec{Service: ecs, SubJobs: 3, InitFor: 1 * sec, RunFor: 20 * sec}, InitJitter: 3 * sec, RunJitter: 25 * sec},
			{Weight: 1, Spec: JobSpec{Service: ecs, SubJobs: 4, FailedSubJobs: 1, InitFor: 1 * sec, RunFor: 20 * sec}, InitJitter: 3 * sec, RunJitter: 25 * sec},
			{Weight: 1, Spec: JobSpec{Service: ecs, SubJobs: 1, Outcome: fail, ErrorCode: "Ecs.0052", FailReason: "Quota exceeded: instances.", InitFor: 1 * sec, RunFor: 5 * sec}, RunJitter: 15 * sec},
			{Weight: 5, Spec: JobSpec{Service: evs, InitFor: 1 * sec, RunFor: 5 * sec}, InitJitter: 2 * sec, RunJitter: 20 * sec},
			{Weight: 2, Spec: JobSpec{Service: evs, SubJobs: 2, InitFor: 1 * sec, RunFor: 10 * sec}, InitJitter: 2 * sec, RunJitter: 20 * sec},
			{Weight: 1, Spec: JobSpec{Service: evs, Outcome: fail, InitFor: 1 * sec, RunFor: 5 * sec}, RunJitter: 15 * sec},
			{Weight: 2, Spec: JobSpec{Service: bms, SubJobs: 2, InitFor: 2 * sec, RunFor: 25 * sec}, InitJitter: 3 * sec, RunJitter: 25 * sec},
			{Weight: 1, Spec: JobSpec{Service: bms, SubJobs: 3, FailedSubJobs: 1, InitFor: 2 * sec, RunFor: 25 * sec}, InitJitter: 3 * sec, RunJitter: 25 * sec},
			{Weight: 3, Spec: JobSpec{Service: ims, InitFor: 1 * sec, RunFor: 15 * sec}, InitJitter: 2 * sec, RunJitter: 30 * sec},
			{Weight: 1, Spec: JobSpec{Service: ims, Outcome: fail, InitFor: 1 * sec, RunFor: 10 * sec}, RunJitter: 20 * sec},
			{Weight: 1, Spec: JobSpec{Service: eip, SubJobs: 2, InitFor: 1 * sec, RunFor: 5 * sec}, RunJitter: 10 * sec},
			{Weight: 1, Spec: JobSpec{Service: sdrs, InitFor: 1 * sec, RunFor: 15 * sec}, RunJitter: 20 * sec},
			{Weight: 1, Spec: JobSpec{Service: cce, JobType: "CreateNode", SubJobs: 2, InitFor: 2 * sec, RunFor: 30 * sec}, RunJitter: 30 * sec},
			{Weight: 1, Spec: JobSpec{Service: elb, InitFor: 1 * sec, RunFor: 10 * sec}, RunJitter: 15 * sec},
			{Weight: 1, Spec: JobSpec{Service: cfw, InitFor: 1 * sec, RunFor: 20 * sec}, RunJitter: 20 * sec},
		},
		Interval: 3 * sec,
		MaxJobs:  200,
	}
}

// RunScenario creates the scenario's jobs and blocks until ctx is done. New jobs begin exactly at their
// scheduled time (start + k*Interval on the simulator's clock), however late the loop notices them.
func (s *Simulator) RunScenario(ctx context.Context, sc Scenario) {
	start := s.now()
	p := newPlanner(sc, s.seed, start)
	poll := sc.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	for {
		spec, due, ok := p.next()
		if !ok {
			<-ctx.Done()
			return
		}
		for {
			wait := due.Sub(s.now())
			if wait <= 0 {
				break
			}
			t := time.NewTimer(min(wait, poll))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if due.After(start) && ctx.Err() != nil {
			return
		}
		s.CreateJob(spec)
	}
}

// Plan lists the first n jobs that RunScenario creates on a simulator with this seed whose clock reads
// start when it begins, in creation order and with Begin set (fewer if the scenario ends sooner). A job is
// created at max(Begin, start). Tests use it to build the same cloud without a running loop.
func (sc Scenario) Plan(seed int64, start time.Time, n int) []JobSpec {
	p := newPlanner(sc, seed, start)
	var out []JobSpec
	for len(out) < n {
		spec, _, ok := p.next()
		if !ok {
			break
		}
		out = append(out, spec)
	}
	return out
}

// planner yields a scenario's jobs in creation order: the initial ones at the start, then one drawn from
// the templates per Interval. Its draws are seeded, so RunScenario and Plan agree.
type planner struct {
	sc          Scenario
	rng         *rand.Rand
	start       time.Time
	totalWeight int
	made        int
}

func newPlanner(sc Scenario, seed int64, start time.Time) *planner {
	p := &planner{sc: sc, rng: rand.New(rand.NewPCG(uint64(seed), 0x5ce7a210)), start: start}
	for _, t := range sc.Templates {
		p.totalWeight += max(0, t.Weight)
	}
	return p
}

// next is the next job and when it is due; ok is false when the scenario creates no more.
func (p *planner) next() (spec JobSpec, due time.Time, ok bool) {
	sc := &p.sc
	if sc.MaxJobs > 0 && p.made >= sc.MaxJobs {
		return JobSpec{}, time.Time{}, false
	}
	if p.made < len(sc.Initial) {
		j := sc.Initial[p.made]
		p.made++
		spec = j.Spec
		spec.Begin = p.start.Add(j.Offset)
		return spec, p.start, true
	}
	if sc.Interval <= 0 || p.totalWeight == 0 {
		return JobSpec{}, time.Time{}, false
	}
	k := p.made - len(sc.Initial) + 1
	p.made++
	due = p.start.Add(time.Duration(k) * sc.Interval)
	return pickTemplate(p.rng, sc.Templates, p.totalWeight, due), due, true
}

func pickTemplate(rng *rand.Rand, ts []ScenarioTemplate, total int, begin time.Time) JobSpec {
	n := rng.IntN(total)
	var t ScenarioTemplate
	for _, t = range ts {
		if n < max(0, t.Weight) {
			break
		}
		n -= max(0, t.Weight)
	}
	spec := t.Spec
	spec.JobID, spec.Begin = "", begin
	if t.InitJitter > 0 {
		spec.InitFor += time.Duration(rng.Int64N(int64(t.InitJitter)))
	}
	if t.RunJitter > 0 {
		spec.RunFor += time.Duration(rng.Int64N(int64(t.RunJitter)))
	}
	return spec
}
