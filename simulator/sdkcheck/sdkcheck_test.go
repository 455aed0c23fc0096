package sdkcheck

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/simulator"
)

const (
	testAK      = "SDKCHECKACCESSKEY001"
	testSK      = "SdkCheckSecretKeyForTheLoopbackSimulator"
	testProject = "0123456789abcdef0123456789abcdef"
	testRegion  = "ap-southeast-1"
)

var base = time.Date(2026, 3, 1, 10, 0, 0, 123e6, time.UTC)

// jobServices are the services whose jobs the simulator serves: every job service of the exporter's
// service table (a row there without the simulator learning it fails TestServicesLifecycle there and
// newModel here).
var jobServices = huaweicloud.JobServices

// clock is moved by hand (the exporter's internal/fakeclock cannot be imported from another module).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// cloud is a simulator listening on a loopback port, and what its jobs are.
type cloud struct {
	sim   *simulator.Simulator
	url   string
	clock *clock
	jobs  map[string]huaweicloud.Service
	order []string
}

func newCloud(t *testing.T, opts simulator.Options) *cloud {
	t.Helper()
	c := &clock{t: base}
	opts.Credentials = map[string]string{testAK: testSK}
	opts.ProjectID, opts.Region, opts.Now = testProject, testRegion, c.Now
	sim := simulator.New(opts)
	u, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return &cloud{sim: sim, url: u, clock: c, jobs: map[string]huaweicloud.Service{}}
}

func (c *cloud) create(spec simulator.JobSpec) string {
	id := c.sim.CreateJob(spec)
	if _, ok := c.jobs[id]; !ok {
		c.order = append(c.order, id)
	}
	c.jobs[id] = spec.Service
	return id
}

var creds = huaweicloud.Credentials{AccessKey: testAK, SecretKey: testSK}

// get sends a request signed like the SDK's (User-Agent, X-Project-Id and X-Sdk-Date signed) and returns
// the answer for api.
func (c *cloud) get(t *testing.T, api huaweicloud.Service, method, pathQuery string, cr huaweicloud.Credentials) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, c.url+pathQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Project-Id", testProject)
	if err := huaweicloud.Sign(req, nil, cr, c.clock.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{what: method + " " + pathQuery, api: api, status: resp.StatusCode, header: resp.Header, body: body}
}

func (c *cloud) job(t *testing.T, id string) answer {
	t.Helper()
	return c.get(t, c.jobs[id], http.MethodGet, huaweicloud.JobPath(c.jobs[id], testProject, id), creds)
}

// tally counts what a scenario served, so that each scenario can show it covered what it meant to.
type tally struct {
	answers   int
	status    map[int]int
	jobStatus map[string]int // service/status
	malformed int
	pages     int
}

func newTally() *tally { return &tally{status: map[int]int{}, jobStatus: map[string]int{}} }

// check runs every check on a and records it. wantEnum names the only enum violation the answer may
// have (an undocumented status the simulator was asked to send verbatim), "" for none.
func (tl *tally) check(t *testing.T, a answer, opts checkOpts, wantEnum string) {
	t.Helper()
	tl.answers++
	tl.status[a.status]++
	probs, malformed := problems(a, opts)
	if malformed {
		tl.malformed++
		return
	}
	// The job's status as the exporter reads it (mapped onto INIT/RUNNING/SUCCESS/FAIL, an unknown value
	// kept verbatim), so that one tally speaks for every shape.
	var m struct{ Status string }
	if a.api != huaweicloud.CTS && a.status < 300 {
		if j, err := huaweicloud.ParseJob(a.api, a.status, a.body); err == nil {
			m.Status = j.Status
			tl.jobStatus[string(a.api)+"/"+m.Status]++
		}
	}
	if wantEnum != "" {
		var rest []string
		found := false
		for _, p := range probs {
			if strings.Contains(p, "= "+wantEnum+":") {
				found = true
				continue
			}
			rest = append(rest, p)
		}
		if m.Status == wantEnum && !found {
			t.Errorf("%s: the undocumented status %s was not flagged", a.what, wantEnum)
		}
		probs = rest
	}
	for _, p := range probs {
		t.Errorf("%s: HTTP %d: %s\n%s", a.what, a.status, p, a.body)
	}
}

// traces pages through every CTS trace of the last week with small pages and checks each page.
func (c *cloud) traces(t *testing.T, tl *tally, opts checkOpts, limit int) {
	t.Helper()
	now := c.clock.Now()
	q := url.Values{"trace_type": {"system"}, "limit": {strconv.Itoa(limit)},
		"from": {strconv.FormatInt(now.Add(-7*24*time.Hour).UnixMilli(), 10)}, "to": {strconv.FormatInt(now.UnixMilli()+1, 10)}}
	for range 1000 {
		a := c.get(t, huaweicloud.CTS, http.MethodGet, "/v3/"+testProject+"/traces?"+q.Encode(), creds)
		tl.check(t, a, opts, "")
		tl.pages++
		if a.status != http.StatusOK {
			return
		}
		var page struct {
			MetaData struct {
				Marker *string `json:"marker"`
			} `json:"meta_data"`
		}
		// "" ends the paging too (the check has reported it), as it does in the exporter.
		if err := json.Unmarshal(a.body, &page); err != nil || page.MetaData.Marker == nil || *page.MetaData.Marker == "" {
			return
		}
		q.Set("next", *page.MetaData.Marker)
	}
	t.Fatal("endless CTS paging")
}

// TestDemoScenario: the --demo and cmd/hwsim cloud, every job at every stage of its life, and its CTS
// pages, until the final jobs have vanished.
func TestDemoScenario(t *testing.T) {
	for _, seed := range []int64{1, 2} {
		t.Run("seed "+strconv.FormatInt(seed, 10), func(t *testing.T) {
			c := newCloud(t, simulator.Options{Seed: seed})
			sc := simulator.DefaultScenario()
			plan := sc.Plan(seed, base, sc.MaxJobs)
			tl := newTally()
			created := 0
			for _, at := range []time.Duration{0, 2 * time.Second, 5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second,
				time.Minute, 3 * time.Minute, 10 * time.Minute, 25 * time.Hour, 15 * 24 * time.Hour} {
				now := base.Add(at)
				c.clock.Set(now)
				for ; created < len(plan) && !plan[created].Begin.After(now); created++ {
					c.create(plan[created])
				}
				for _, id := range c.order {
					tl.check(t, c.job(t, id), checkOpts{}, "")
				}
				c.traces(t, tl, checkOpts{}, 50)
			}
			if created != sc.MaxJobs {
				t.Errorf("%d of %d demo jobs created", created, sc.MaxJobs)
			}
			t.Logf("%d answers (%d CTS pages): %v %v", tl.answers, tl.pages, tl.status, tl.jobStatus)
			for _, want := range []string{"ecs/INIT", "ecs/RUNNING", "ecs/SUCCESS", "ecs/FAIL", "ecs/PENDING_PAYMENT", "evs/SUCCESS", "evs/FAIL",
				"bms/RUNNING", "bms/SUCCESS", "bms/FAIL", "ims/RUNNING", "ims/SUCCESS", "ims/FAIL",
				"eip/RUNNING", "eip/SUCCESS", "sdrs/RUNNING", "sdrs/SUCCESS", "sdrs/FAIL", "cce/INIT", "cce/RUNNING", "cce/SUCCESS", "cce/FAIL",
				"elb/RUNNING", "elb/SUCCESS", "elb/FAIL", "cfw/RUNNING", "cfw/SUCCESS", "cfw/FAIL"} {
				if tl.jobStatus[want] == 0 {
					t.Errorf("the demo never answered %s", want)
				}
			}
			if tl.status[400] == 0 || tl.status[404] == 0 {
				t.Errorf("no vanished jobs seen: %v", tl.status)
			}
		})
	}
}

// catalog creates a job of every service in every state the simulator can put it in, beginning at base.
// It returns the undocumented statuses it asked for, by job id.
func catalog(c *cloud) map[string]string {
	odd := map[string]string{}
	for _, svc := range jobServices {
		subCounts := []int{0, 1, 3}
		if svc == huaweicloud.IMS || svc == huaweicloud.CFW {
			subCounts = []int{0} // IMS and CFW answers have no sub-jobs
		}
		for _, subs := range subCounts {
			spec := simulator.JobSpec{Service: svc, SubJobs: subs, Begin: base, InitFor: 10 * time.Second, RunFor: time.Minute}
			variants := []simulator.JobSpec{spec}
			with := func(f func(*simulator.JobSpec)) {
				s := spec
				f(&s)
				variants = append(variants, s)
			}
			with(func(s *simulator.JobSpec) { s.Outcome = huaweicloud.StatusFail })
			with(func(s *simulator.JobSpec) { s.Outcome = huaweicloud.StatusRunning })
			with(func(s *simulator.JobSpec) { s.Outcome = huaweicloud.StatusInit })
			if svc == huaweicloud.ECS || svc == huaweicloud.BMS {
				with(func(s *simulator.JobSpec) { s.Outcome = huaweicloud.StatusPendingPayment })
			}
			if subs > 0 {
				with(func(s *simulator.JobSpec) { s.FailedSubJobs = 1 })
				with(func(s *simulator.JobSpec) { s.FailedSubJobs = subs })
				with(func(s *simulator.JobSpec) {
					s.Outcome, s.FailedSubJobs, s.ErrorCode, s.FailReason = huaweicloud.StatusFail, 1, "Err.0001", "given reason"
				})
			}
			for _, v := range variants {
				c.create(v)
			}
		}
		if svc == huaweicloud.EVS {
			for _, jt := range []string{"extendVolume", "deleteVolume"} {
				c.create(simulator.JobSpec{Service: svc, JobType: jt, Begin: base, RunFor: time.Minute})
			}
		}
		// A status no document lists, which the simulator sends verbatim to test the exporter: the check
		// must flag exactly it.
		odd[c.create(simulator.JobSpec{Service: svc, Outcome: "ROLLING_BACK", Begin: base, RunFor: time.Minute})] = "ROLLING_BACK"
	}
	return odd
}

// TestEveryServiceAndState: every job state of every service over its life, outcomes set by hand,
// vanished jobs, and every error the gateway and the services answer.
func TestEveryServiceAndState(t *testing.T) {
	c := newCloud(t, simulator.Options{Seed: 3})
	odd := catalog(c)
	tl := newTally()
	sweep := func() {
		for _, id := range c.order {
			tl.check(t, c.job(t, id), checkOpts{}, odd[id])
		}
		c.traces(t, tl, checkOpts{}, 17)
	}
	for _, at := range []time.Duration{0, 30 * time.Second, 45 * time.Second, 2 * time.Minute} {
		c.clock.Set(base.Add(at))
		sweep()
	}
	// Finish the stuck and never-starting jobs by hand, both ways.
	for i, id := range c.order {
		outcome := huaweicloud.StatusSuccess
		if i%2 == 1 {
			outcome = huaweicloud.StatusFail
		}
		_ = c.sim.SetJobOutcomeNow(id, outcome, "", "") // final jobs refuse, as they should
	}
	c.clock.Set(base.Add(3 * time.Minute))
	sweep()
	for _, at := range []time.Duration{25 * time.Hour, 15 * 24 * time.Hour} {
		c.clock.Set(base.Add(at))
		sweep()
	}
	for _, want := range []string{"INIT", "RUNNING", "SUCCESS", "FAIL"} {
		for _, svc := range jobServices {
			if svc == huaweicloud.CFW && want == "INIT" {
				continue // CFW has no INIT: Running, Success, Failed (cfw/v1 model)
			}
			if tl.jobStatus[string(svc)+"/"+want] == 0 {
				t.Errorf("never answered %s/%s", svc, want)
			}
		}
	}
	for _, k := range []string{"ecs/PENDING_PAYMENT", "bms/PENDING_PAYMENT"} {
		if tl.jobStatus[k] == 0 {
			t.Errorf("never answered %s", k)
		}
	}

	// Errors, each through the SDK's error handler.
	c.clock.Set(base.Add(3 * time.Minute))
	id := c.order[0]
	jobPath := "/v1/" + testProject + "/jobs/"
	for _, tc := range []struct {
		name   string
		api    huaweicloud.Service
		method string
		path   string
		creds  huaweicloud.Credentials
		status int
	}{
		{"unknown job", huaweicloud.ECS, "GET", jobPath + "ff80808288d41e1b018937c1d6ae9999", creds, 400},
		{"wrong secret key", huaweicloud.ECS, "GET", jobPath + id, huaweicloud.Credentials{AccessKey: testAK, SecretKey: "wrong"}, 401},
		{"unknown access key", huaweicloud.EVS, "GET", jobPath + id, huaweicloud.Credentials{AccessKey: "NOSUCHKEY", SecretKey: testSK}, 401},
		{"other project", huaweicloud.BMS, "GET", "/v1/fedcba9876543210fedcba9876543210/jobs/" + id, creds, 403},
		{"unknown API", huaweicloud.ECS, "GET", "/v2/" + testProject + "/servers", creds, 404},
		{"POST on the job API", huaweicloud.IMS, "POST", jobPath + id, creds, 405},
		{"CTS without trace_type", huaweicloud.CTS, "GET", "/v3/" + testProject + "/traces?limit=10", creds, 400},
		{"CTS limit 201", huaweicloud.CTS, "GET", "/v3/" + testProject + "/traces?trace_type=system&limit=201", creds, 400},
		{"CTS unknown marker", huaweicloud.CTS, "GET", "/v3/" + testProject + "/traces?trace_type=system&next=00000000-0000-4000-8000-000000000000", creds, 400},
		{"CTS data traces", huaweicloud.CTS, "GET", "/v3/" + testProject + "/traces?trace_type=data", creds, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := c.get(t, tc.api, tc.method, tc.path, tc.creds)
			if a.status != tc.status {
				t.Errorf("HTTP %d, want %d: %s", a.status, tc.status, a.body)
			}
			tl.check(t, a, checkOpts{}, "")
		})
	}
	t.Logf("%d answers (%d CTS pages): %v %v", tl.answers, tl.pages, tl.status, tl.jobStatus)
}

// TestThrottling: the gateway's 429 for every API and ECS's 202 Common.0024, both read by the SDK.
func TestThrottling(t *testing.T) {
	c := newCloud(t, simulator.Options{Seed: 5, RateLimit: 3, FlowControlShare: 0.5})
	odd := catalog(c)
	c.clock.Set(base.Add(30 * time.Second))
	tl := newTally()
	for round := range 3 {
		for _, id := range c.order {
			tl.check(t, c.job(t, id), checkOpts{}, odd[id])
		}
		c.traces(t, tl, checkOpts{}, 50)
		c.clock.Set(base.Add(30*time.Second + time.Duration(round+1)*time.Second))
	}
	if tl.status[429] == 0 || tl.status[202] == 0 || tl.status[200] == 0 {
		t.Errorf("want 200, 202 and 429 answers: %v", tl.status)
	}
	t.Logf("%d answers: %v", tl.answers, tl.status)
}

// TestFaults: 500s through the SDK's error handler; the deliberately truncated answers are the only
// bodies allowed not to decode.
func TestFaults(t *testing.T) {
	c := newCloud(t, simulator.Options{Seed: 6, ServerErrorRate: 0.2, MalformedRate: 0.2})
	odd := catalog(c)
	tl := newTally()
	for _, at := range []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute} {
		c.clock.Set(base.Add(at))
		for _, id := range c.order {
			tl.check(t, c.job(t, id), checkOpts{malformedOK: true}, odd[id])
		}
		c.traces(t, tl, checkOpts{malformedOK: true}, 50)
	}
	if tl.status[500] == 0 || tl.malformed == 0 || tl.status[200] <= tl.malformed {
		t.Errorf("want 500s, truncated and whole answers: %v, %d truncated", tl.status, tl.malformed)
	}
	t.Logf("%d answers: %v, %d truncated", tl.answers, tl.status, tl.malformed)
}
