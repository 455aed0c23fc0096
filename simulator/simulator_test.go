package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

func statuses(subs []huaweicloud.SubJob) string {
	var out []string
	for _, s := range subs {
		out = append(out, s.Status)
	}
	return strings.Join(out, ",")
}

// TestLifecycle follows one batch job from INIT through RUNNING (sub-jobs finishing one by one) to SUCCESS
// and past its retention, with exact times.
func TestLifecycle(t *testing.T) {
	e := newEnv(t, Options{Seed: 1})
	id := e.sim.CreateJob(JobSpec{Service: huaweicloud.ECS, SubJobs: 3, InitFor: 10 * time.Second, RunFor: 100 * time.Second, Begin: base})
	if !huaweicloud.ValidJobID(id) || len(id) != 32 {
		t.Fatalf("job id %q is not 32 hex digits", id)
	}
	start := base.Add(10 * time.Second)
	subEnd := func(i int) time.Time { return start.Add(time.Duration(i+1) * 30 * time.Second) }
	for _, tc := range []struct {
		at       time.Duration
		status   string
		subs     string
		end      time.Time
		finished int // sub-jobs with end times
	}{
		{0, "INIT", "", time.Time{}, 0},
		{10*time.Second - time.Millisecond, "INIT", "", time.Time{}, 0},
		{10 * time.Second, "RUNNING", "RUNNING,RUNNING,RUNNING", time.Time{}, 0},
		{40*time.Second - time.Millisecond, "RUNNING", "RUNNING,RUNNING,RUNNING", time.Time{}, 0},
		{40 * time.Second, "RUNNING", "SUCCESS,RUNNING,RUNNING", time.Time{}, 1},
		{70 * time.Second, "RUNNING", "SUCCESS,SUCCESS,RUNNING", time.Time{}, 2},
		{100 * time.Second, "RUNNING", "SUCCESS,SUCCESS,SUCCESS", time.Time{}, 3},
		{110*time.Second - time.Millisecond, "RUNNING", "SUCCESS,SUCCESS,SUCCESS", time.Time{}, 3},
		{110 * time.Second, "SUCCESS", "SUCCESS,SUCCESS,SUCCESS", base.Add(110 * time.Second), 3},
		{110*time.Second + 24*time.Hour - time.Millisecond, "SUCCESS", "SUCCESS,SUCCESS,SUCCESS", base.Add(110 * time.Second), 3},
	} {
		t.Run(tc.at.String(), func(t *testing.T) {
			e.clock.Set(base.Add(tc.at))
			j := e.mustJob(t, huaweicloud.ECS, id)
			if j.Status != tc.status || statuses(j.SubJobs) != tc.subs {
				t.Fatalf("status %s subs [%s], want %s [%s]", j.Status, statuses(j.SubJobs), tc.status, tc.subs)
			}
			if !j.BeginTime.Equal(base) || !j.EndTime.Equal(tc.end) {
				t.Errorf("begin %v end %v, want %v %v", j.BeginTime, j.EndTime, base, tc.end)
			}
			if j.JobID != id || j.JobType != "createServer" || j.ErrorCode != "" || j.FailReason != "" {
				t.Errorf("job %+v", j)
			}
			if tc.status != "INIT" && j.SubJobsTotal != 3 {
				t.Errorf("sub_jobs_total %d, want 3", j.SubJobsTotal)
			}
			for i, sj := range j.SubJobs {
				if !sj.BeginTime.Equal(start.Add(time.Duration(i) * 10 * time.Millisecond)) {
					t.Errorf("sub-job %d begins %v", i, sj.BeginTime)
				}
				if i < tc.finished && !sj.EndTime.Equal(subEnd(i)) || i >= tc.finished && !sj.EndTime.IsZero() {
					t.Errorf("sub-job %d ends %v (finished: %t)", i, sj.EndTime, i < tc.finished)
				}
				if sj.JobType != "createSingleServer" || sj.ResourceID == "" || sj.JobID == "" || sj.JobID == id {
					t.Errorf("sub-job %d: %+v", i, sj)
				}
			}
			if st, ok := e.sim.JobStatus(id); !ok || st != tc.status {
				t.Errorf("JobStatus = %s %t", st, ok)
			}
		})
	}
	t.Run("retention", func(t *testing.T) {
		e.clock.Set(base.Add(110*time.Second + 24*time.Hour))
		_, err := e.getJob(t, huaweicloud.ECS, id)
		ae := apiError(t, err)
		if ae.StatusCode != 400 || ae.Code != "Common.0011" || ae.Message != "Failed to query system tasks." || huaweicloud.Reason(err) != "not_found" {
			t.Errorf("after retention: %v (reason %s)", err, huaweicloud.Reason(err))
		}
		if _, ok := e.sim.JobStatus(id); ok {
			t.Error("JobStatus still knows the job")
		}
	})
}

// TestSubJobFailures covers batch jobs with failed sub-jobs in each service's shape: partial failure
// (job SUCCESS) and FAIL.
func TestSubJobFailures(t *testing.T) {
	for _, tc := range []struct {
		name       string
		spec       JobSpec
		wantStatus string
		wantFailed int
		code       string
		reason     string
	}{
		{"ecs partial", JobSpec{Service: huaweicloud.ECS, SubJobs: 4, FailedSubJobs: 2}, "SUCCESS", 2, "Ecs.0005", "Insufficient resources for the flavor in the AZ."},
		{"bms partial", JobSpec{Service: huaweicloud.BMS, SubJobs: 3, FailedSubJobs: 1, ErrorCode: "BMS.0103", FailReason: "sold out"}, "SUCCESS", 1, "BMS.0103", "sold out"},
		{"evs partial", JobSpec{Service: huaweicloud.EVS, SubJobs: 3, FailedSubJobs: 2}, "SUCCESS", 2, "EVS.2024", "Insufficient capacity of the storage pool."},
		{"ecs fail", JobSpec{Service: huaweicloud.ECS, SubJobs: 1, Outcome: huaweicloud.StatusFail, ErrorCode: "Ecs.0052", FailReason: "Quota exceeded: instances."}, "FAIL", 1, "Ecs.0052", "Quota exceeded: instances."},
		{"ecs fail with some sub-jobs done", JobSpec{Service: huaweicloud.ECS, SubJobs: 3, FailedSubJobs: 1, Outcome: huaweicloud.StatusFail}, "FAIL", 1, "Ecs.0005", "Insufficient resources for the flavor in the AZ."},
		{"all sub-jobs failed", JobSpec{Service: huaweicloud.EVS, SubJobs: 2, FailedSubJobs: 2}, "FAIL", 2, "EVS.2024", "Insufficient capacity of the storage pool."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{Seed: 2})
			tc.spec.Begin, tc.spec.RunFor = base, time.Minute
			id := e.sim.CreateJob(tc.spec)
			e.clock.Set(base.Add(time.Minute))
			j := e.mustJob(t, tc.spec.Service, id)
			if j.Status != tc.wantStatus || j.EndTime.IsZero() {
				t.Fatalf("status %s end %v, want %s", j.Status, j.EndTime, tc.wantStatus)
			}
			if tc.wantStatus == "SUCCESS" && (j.ErrorCode != "" || j.FailReason != "") {
				t.Errorf("successful job has error %q %q", j.ErrorCode, j.FailReason)
			}
			if tc.wantStatus == "FAIL" && (j.ErrorCode != tc.code || j.FailReason != tc.reason) {
				t.Errorf("job error %q %q, want %q %q", j.ErrorCode, j.FailReason, tc.code, tc.reason)
			}
			failed := 0
			for i, sj := range j.SubJobs {
				switch sj.Status {
				case "FAIL":
					failed++
					if sj.ErrorCode != tc.code || sj.FailReason != tc.reason || sj.EndTime.IsZero() {
						t.Errorf("failed sub-job %d: %+v", i, sj)
					}
				case "SUCCESS":
					if sj.ErrorCode != "" || sj.FailReason != "" {
						t.Errorf("successful sub-job %d has an error: %+v", i, sj)
					}
				default:
					t.Errorf("sub-job %d is %s", i, sj.Status)
				}
			}
			if failed != tc.wantFailed {
				t.Errorf("%d failed sub-jobs, want %d", failed, tc.wantFailed)
			}
			// Wire details: ECS names the reason in entities.errorcode_message (fail_reason on every other
			// failed sub-job); the BMS and EVS models have no errorcode_message, so fail_reason only.
			_, m := e.rawJob(t, id)
			sub0 := m["entities"].(map[string]any)["sub_jobs"].([]any)[0].(map[string]any)
			msg, hasMsg := sub0["entities"].(map[string]any)["errorcode_message"]
			if tc.spec.Service != huaweicloud.ECS {
				if hasMsg || sub0["fail_reason"] != tc.reason {
					t.Errorf("%s sub-job 0: %v", tc.spec.Service, sub0)
				}
			} else if msg != tc.reason || sub0["fail_reason"] != nil {
				t.Errorf("%s sub-job 0: %v", tc.spec.Service, sub0)
			}
		})
	}
}

// TestOutcomes covers PENDING_PAYMENT (and its 14-day retention), stuck, INIT-forever and unknown statuses.
func TestOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spec   JobSpec
		at     time.Duration
		status string
		subs   string
		gone   bool
	}{
		{"pending payment", JobSpec{Service: huaweicloud.ECS, SubJobs: 1, Outcome: huaweicloud.StatusPendingPayment, RunFor: time.Second}, time.Hour, "PENDING_PAYMENT", "", false},
		{"bms pending payment", JobSpec{Service: huaweicloud.BMS, SubJobs: 2, Outcome: huaweicloud.StatusPendingPayment, RunFor: time.Second}, time.Hour, "PENDING_PAYMENT", "", false},
		{"pending payment after 14 days", JobSpec{Service: huaweicloud.ECS, SubJobs: 1, Outcome: huaweicloud.StatusPendingPayment}, 14 * 24 * time.Hour, "", "", true},
		{"stuck", JobSpec{Service: huaweicloud.BMS, SubJobs: 2, Outcome: huaweicloud.StatusRunning, RunFor: time.Minute}, 10 * 24 * time.Hour, "RUNNING", "SUCCESS,RUNNING", false},
		{"init forever", JobSpec{Service: huaweicloud.EVS, Outcome: huaweicloud.StatusInit}, 10 * 24 * time.Hour, "INIT", "", false},
		{"unknown status", JobSpec{Service: huaweicloud.ECS, JobType: "changeOs", Outcome: "ROLLING_BACK", RunFor: time.Minute}, 2 * time.Minute, "ROLLING_BACK", "", false},
		{"fail without sub-jobs", JobSpec{Service: huaweicloud.IMS, Outcome: huaweicloud.StatusFail, RunFor: time.Minute}, time.Minute, "FAIL", "", false},
		{"retention never", JobSpec{Service: huaweicloud.ECS, RunFor: time.Minute}, 400 * 24 * time.Hour, "SUCCESS", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Seed: 3}
			if tc.name == "retention never" {
				opts.Retention = -1
			}
			e := newEnv(t, opts)
			tc.spec.Begin = base
			id := e.sim.CreateJob(tc.spec)
			e.clock.Set(base.Add(tc.at))
			j, err := e.getJob(t, tc.spec.Service, id)
			if tc.gone {
				if huaweicloud.Reason(err) != "not_found" {
					t.Fatalf("want not_found, got %v %v", j, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if j.Status != tc.status || statuses(j.SubJobs) != tc.subs {
				t.Fatalf("status %s [%s], want %s [%s]", j.Status, statuses(j.SubJobs), tc.status, tc.subs)
			}
			if j.Final() != (tc.status == "SUCCESS" || tc.status == "FAIL") || j.Final() == j.EndTime.IsZero() {
				t.Errorf("final %t with end %v", j.Final(), j.EndTime)
			}
			switch tc.status {
			case "PENDING_PAYMENT":
				// An unpaid order has created nothing: no sub-job is counted that the list lacks. ECS
				// answers entities {}, BMS its documented empty form.
				if j.SubJobsTotal != 0 || j.SubJobs != nil {
					t.Errorf("sub_jobs_total %d, sub-jobs %v, want none", j.SubJobsTotal, j.SubJobs)
				}
				_, m := e.rawJob(t, id)
				want := `map[]`
				if tc.spec.Service == huaweicloud.BMS {
					want = `map[sub_jobs:[] sub_jobs_total:0]`
				}
				if got := fmt.Sprint(m["entities"]); got != want || (tc.spec.Service == huaweicloud.ECS) != (m["end_time"] == nil) {
					t.Errorf("pending job entities %s, want %s: %v", got, want, m)
				}
			case "FAIL":
				if j.ErrorCode != "IMS.0124" || j.FailReason == "" {
					t.Errorf("IMS failure %q %q", j.ErrorCode, j.FailReason)
				}
			}
		})
	}
}

var timeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// TestAnswerShapes checks each service's wire shape against the documented examples and that
// huaweicloud.ParseJob reads the expected fields.
func TestAnswerShapes(t *testing.T) {
	e := newEnv(t, Options{Seed: 4})
	type check func(t *testing.T, m map[string]any, j *huaweicloud.Job)
	ent := func(m map[string]any) map[string]any { return m["entities"].(map[string]any) }
	for _, tc := range []struct {
		name string
		spec JobSpec
		at   time.Duration
		want string // status
		typ  string
		chk  check
	}{
		{"ecs init", JobSpec{Service: huaweicloud.ECS, SubJobs: 1, InitFor: time.Minute}, 0, "INIT", "createServer", func(t *testing.T, m map[string]any, j *huaweicloud.Job) {
			if len(ent(m)) != 0 || m["end_time"] != nil {
				t.Errorf("INIT: %v", m)
			}
		}},
		{"ecs running", JobSpec{Service: huaweicloud.ECS, SubJobs: 2, RunFor: time.Minute}, 0, "RUNNING", "createServer", func(t *testing.T, m map[string]any, j *huaweicloud.Job) {
			if m["end_time"] != nil || ent(m)["sub_jobs_total"] != 2.0 || m["error_code"] != nil || m["fail_reason"] != nil {
				t.Errorf("ECS running: %v", m)
			}
			if _, ok := m["error_code"]; !ok {
				t.Error("error_code missing (must be null)")
			}
			sub := ent(m)["sub_jobs"].([]any)[0].(map[string]any)
			if sub["end_time"] != nil || sub["entities"].(map[string]any)["server_id"] == "" {
				t.Errorf("ECS running sub-job: %v", sub)
			}
			if _, ok := sub["message"]; ok {
				t.Error("ECS sub-job has BMS's message field")
			}
		}},
		{"ecs single", JobSpec{Service: huaweicloud.ECS, JobType: "resizeServer", RunFor: time.Minute}, time.Minute, "SUCCESS", "resizeServer", func(t *testing.T, m map[string]any, j *huaweicloud.Job) {
			if ent(m)["server_id"] != j.ResourceID || j.ResourceID == "" || j.SubJobs != nil {
				t.Errorf("ECS single: %v", m)
			}
		}},
		{"evs running", JobSpec{Service: huaweicloud.EVS, RunFor: time.Minute}, time.Second, "RUNNING", "createVolume", func(t *testing.T, m map[string]any, j *huaweicloud.Job) {
			if m["end_time"] != "" || ent(m)["volume_id"] != j.ResourceID || j.ResourceID == "" {
				t.Errorf("EVS running: %v", m)
			}
		}},
		{"evs batch", JobSpec{Service: huaweicloud.EVS, SubJobs: 2, RunFor: time.Minute}, time.Second, "RUNNING", "batchCreateVolume", func(t *testing.T, m map[string]any, j *huaweicloud.Job) {
			if _, ok := ent(m)["sub_jobs_total"]; ok || j.SubJobsTotal != 2 {
				t.Errorf("EVS has no sub_jobs_total: %v", m)
			}
			sub := ent(m)["sub_jobs"].([]any)[0].(map[string]any)
			if sub["end_time"] != "" || sub["job_type"] != "createVolume" || j.SubJobs[0].ResourceID == "" {
				t.Errorf("EVS sub-job: %v", sub)
			}
		}},
		{"bms running", JobSpec{Service: huaweicloud.BMS, SubJobs: 2, RunFor: time.Minute}, time.Second, "RUNNING", "baremetalBatchCreate", func(t *testing.T, m map[string]any, j *huaweicloud.Job) {
			sub := ent(m)["sub_jobs"].([]any)[0].(map[string]any)
			_, hasMsg := sub["message"]
			_, hasCode := sub["code"]
			if m["end_time"] != "" || !hasMsg || !hasCode || sub["job_type"] != "baremetalSingleCreate" || ent(m)["sub_jobs_total"] != 2.0 {
				t.Errorf("BMS: %v", m)
			}
			if se := sub["entities"].(map[string]any); len(se) != 1 || se["server_id"] != j.SubJobs[0].ResourceID {
				t.Errorf("BMS sub-job entities %v, want server_id only", se)
			}
		}},
		{"bms single", JobSpec{Service: huaweicloud.BMS, JobType: "baremetalAttachVolume", RunFor: time.Minute}, time.Minute, "SUCCESS", "baremetalAttachVolume", func(t *testing.T, m map[string]any, j *huaweicloud.Job) {
			// The BMS model's entities hold only sub_jobs_total and sub_jobs, 0 and [] without sub-jobs.
			if got := fmt.Sprint(ent(m)); got != "map[sub_jobs:[] sub_jobs_total:0]" || j.SubJobsTotal != 0 {
				t.Errorf("BMS without sub-jobs: %v", m)
			}
		}},
		{"bms init", JobSpec{Service: huaweicloud.BMS, SubJobs: 2, InitFor: time.Minute}, 0, "INIT", "baremetalBatchCreate", func(t *testing.T, m map[string]any, j *huaweicloud.Job) {
			if got := fmt.Sprint(ent(m)); got != "map[sub_jobs:[] sub_jobs_total:0]" || m["end_time"] != "" {
				t.Errorf("BMS INIT: %v", m)
			}
		}},
		{"ims running", JobSpec{Service: huaweicloud.IMS, RunFor: 100 * time.Second}, 50 * time.Second, "RUNNING", "createImageByInstance", func(t *testing.T, m map[string]any, j *huaweicloud.Job) {
			if m["end_time"] != nil || ent(m)["process_percent"] != 0.5 || ent(m)["image_name"] == "" || j.ResourceID == "" {
				t.Errorf("IMS running: %v", m)
			}
		}},
		{"ims success", JobSpec{Service: huaweicloud.IMS, RunFor: time.Minute}, time.Minute, "SUCCESS", "createImageByInstance", func(t *testing.T, m map[string]any, j *huaweicloud.Job) {
			res := ent(m)["results"].([]any)[0].(map[string]any)
			if ent(m)["process_percent"] != 1.0 || res["project_id"] != testProject || res["image_id"] != j.ResourceID {
				t.Errorf("IMS success: %v", m)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Set(base)
			tc.spec.Begin = base
			id := e.sim.CreateJob(tc.spec)
			e.clock.Set(base.Add(tc.at))
			j := e.mustJob(t, tc.spec.Service, id)
			if j.Status != tc.want || j.JobType != tc.typ || j.Service != tc.spec.Service {
				t.Errorf("parsed %+v, want %s %s", j, tc.want, tc.typ)
			}
			code, hdr, body := e.raw(t, "/v1/"+testProject+"/jobs/"+id, e.creds(), e.clock.Now())
			if code != 200 || hdr.Get("Content-Type") != "application/json;charset=UTF-8" || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(hdr.Get("X-Request-Id")) {
				t.Errorf("status %d headers %v", code, hdr)
			}
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"status", "entities", "job_id", "job_type", "begin_time", "end_time", "error_code", "fail_reason"} {
				if _, ok := m[k]; !ok {
					t.Errorf("answer lacks %s: %s", k, body)
				}
			}
			for _, k := range []string{"begin_time", "end_time"} {
				if s, _ := m[k].(string); s != "" && !timeRE.MatchString(s) {
					t.Errorf("%s %q is not like 2016-04-25T20:04:47.591Z", k, s)
				}
			}
			tc.chk(t, m, j)
			// Same answer twice: derived ids are stable.
			j2 := e.mustJob(t, tc.spec.Service, id)
			if j2.ResourceID != j.ResourceID || fmt.Sprint(j2.SubJobs) != fmt.Sprint(j.SubJobs) {
				t.Error("answers differ between two queries at the same time")
			}
		})
	}
}

// TestNotFound: unknown ids and expired EVS jobs.
func TestNotFound(t *testing.T) {
	e := newEnv(t, Options{Seed: 5, Retention: time.Hour})
	evs := e.sim.CreateJob(JobSpec{Service: huaweicloud.EVS, Begin: base, RunFor: time.Minute})
	ims := e.sim.CreateJob(JobSpec{Service: huaweicloud.IMS, Begin: base, RunFor: time.Minute})
	e.clock.Set(base.Add(time.Minute + time.Hour))
	for _, tc := range []struct {
		name, id string
		svc      huaweicloud.Service
		status   int
		code     string
	}{
		{"unknown id", "ff80808288d41e1b018937c1d6ae9999", huaweicloud.ECS, 400, "Common.0011"},
		{"unknown id asked as evs", "ff80808288d41e1b018937c1d6ae9999", huaweicloud.EVS, 400, "Common.0011"},
		{"expired evs", evs, huaweicloud.EVS, 404, "EVS.5400"},
		{"expired ims", ims, huaweicloud.IMS, 400, "Common.0011"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.getJob(t, tc.svc, tc.id)
			ae := apiError(t, err)
			if ae.StatusCode != tc.status || ae.Code != tc.code || huaweicloud.Reason(err) != "not_found" || ae.RequestID == "" {
				t.Errorf("%v (reason %s)", err, huaweicloud.Reason(err))
			}
		})
	}
}

// TestAuth: the gateway checks signature, access key, X-Sdk-Date skew and project.
func TestAuth(t *testing.T) {
	e := newEnv(t, Options{Seed: 6})
	id := e.sim.CreateJob(JobSpec{Service: huaweicloud.ECS, Begin: base, RunFor: time.Minute})
	good := e.creds()
	for _, tc := range []struct {
		name    string
		creds   huaweicloud.Credentials
		skew    time.Duration
		project string
		status  int
		code    string
		reason  string
	}{
		{"valid", good, 0, testProject, 200, "", ""},
		{"valid within 14m skew", good, -14 * time.Minute, testProject, 200, "", ""},
		{"wrong secret key", huaweicloud.Credentials{AccessKey: testAK, SecretKey: "wrong"}, 0, testProject, 401, "APIG.0301", "auth"},
		{"unknown access key", huaweicloud.Credentials{AccessKey: "NOSUCHKEY", SecretKey: testSK}, 0, testProject, 401, "APIG.0301", "auth"},
		{"date 20m ahead", good, 20 * time.Minute, testProject, 401, "APIG.0301", "auth"},
		{"date 20m behind", good, -20 * time.Minute, testProject, 401, "APIG.0301", "auth"},
		// The key is fine; it is not authorised for that project: a permission gap, not a bad key.
		{"other project", good, 0, "fedcba9876543210fedcba9876543210", 403, "APIG.0302", "permission"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			skewed := func() time.Time { return e.clock.Now().Add(tc.skew) }
			c := huaweicloud.NewClient(e.srv.Client(), huaweicloud.WithClock(skewed), huaweicloud.WithRetry(1, 0, 0))
			target := e.target(huaweicloud.ECS)
			target.Credentials, target.ProjectID = tc.creds, tc.project
			_, err := c.GetJob(context.Background(), target, id)
			if tc.status == 200 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			ae := apiError(t, err)
			if ae.StatusCode != tc.status || ae.Code != tc.code || huaweicloud.Reason(err) != tc.reason {
				t.Errorf("%v (reason %s)", err, huaweicloud.Reason(err))
			}
			// The gateway's body names the request id of the header.
			path := "/v1/" + tc.project + "/jobs/" + id
			code, hdr, body := e.raw(t, path, tc.creds, skewed())
			var gw struct{ ErrorCode, ErrorMsg, RequestID string }
			if err := json.Unmarshal(body, &gw); err != nil || code != tc.status {
				t.Fatalf("%d %s", code, body)
			}
			var m map[string]string
			_ = json.Unmarshal(body, &m)
			if m["error_code"] != tc.code || m["request_id"] != hdr.Get("X-Request-Id") || !strings.Contains(m["error_msg"], "I") {
				t.Errorf("body %s, X-Request-Id %s", body, hdr.Get("X-Request-Id"))
			}
		})
	}
	if st := e.sim.Stats(); st.AuthFailures != 10 || st.ByCode[401] != 8 || st.ByCode[403] != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestRateLimit: with 5 requests/s, 20 quick requests get 5 answers and 15 throttles in both shapes,
// which the client classifies as throttled; a second later there are 5 tokens again.
func TestRateLimit(t *testing.T) {
	e := newEnv(t, Options{Seed: 7, RateLimit: 5, FlowControlShare: 0.5})
	id := e.sim.CreateJob(JobSpec{Service: huaweicloud.ECS, Begin: base, RunFor: time.Hour})
	run := func(n int) (ok int, throttled map[int]int) {
		throttled = map[int]int{}
		for range n {
			_, err := e.getJob(t, huaweicloud.ECS, id)
			if err == nil {
				ok++
				continue
			}
			ae := apiError(t, err)
			if huaweicloud.Reason(err) != "throttled" {
				t.Fatalf("%v: reason %s", err, huaweicloud.Reason(err))
			}
			switch {
			case ae.StatusCode == 429 && ae.Code == "APIG.0308" && ae.RetryAfter == time.Second && strings.Contains(ae.Message, "limit:5,time:1 second"):
			case ae.StatusCode == 202 && ae.Code == "Common.0024" && ae.Message == "Flow limit exceeded.":
			default:
				t.Errorf("unexpected throttle %+v", ae)
			}
			throttled[ae.StatusCode]++
		}
		return ok, throttled
	}
	ok, thr := run(20)
	if ok != 5 || thr[429]+thr[202] != 15 || thr[429] == 0 || thr[202] == 0 {
		t.Errorf("%d ok, throttled %v", ok, thr)
	}
	st := e.sim.Stats()
	if st.Throttled != 15 || st.ByCode[200] != 5 || st.ByCode[429]+st.ByCode[202] != 15 || st.Requests != 20 {
		t.Errorf("stats %+v", st)
	}
	// ParseJob sees the 202 body as throttling too.
	if _, err := huaweicloud.ParseJob(huaweicloud.ECS, 202, []byte(`{"code":"Common.0024","message":"Flow limit exceeded."}`)); huaweicloud.Reason(err) != "throttled" {
		t.Errorf("ParseJob of 202: %v", err)
	}
	// CTS shares the bucket and is throttled with 429 only.
	if _, err := e.client().ListTraces(context.Background(), e.target(huaweicloud.CTS), huaweicloud.TraceQuery{}); huaweicloud.Reason(err) != "throttled" {
		t.Errorf("CTS while throttled: %v", err)
	}
	e.clock.Add(time.Second)
	if ok, _ := run(6); ok != 5 {
		t.Errorf("after a second: %d ok, want 5", ok)
	}
}

// TestFaultsReproducible: 5xx and malformed answers follow the seed and the request order.
func TestFaultsReproducible(t *testing.T) {
	run := func(seed int64) ([]string, Stats) {
		e := newEnv(t, Options{Seed: seed, ServerErrorRate: 0.2, MalformedRate: 0.1})
		id := e.sim.CreateJob(JobSpec{Service: huaweicloud.EVS, Begin: base, RunFor: time.Hour})
		var out []string
		for range 200 {
			_, err := e.getJob(t, huaweicloud.EVS, id)
			out = append(out, huaweicloud.Reason(err))
		}
		return out, e.sim.Stats()
	}
	a, st := run(11)
	b, _ := run(11)
	c, _ := run(12)
	if !slices.Equal(a, b) {
		t.Error("same seed, different faults")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds, same faults")
	}
	count := map[string]int{}
	for _, r := range a {
		count[r]++
	}
	if count["server_error"] < 20 || count["server_error"] > 65 || count["bad_response"] < 8 || count["bad_response"] > 40 || count[""]+count["server_error"]+count["bad_response"] != 200 {
		t.Errorf("fault mix %v", count)
	}
	if st.ByCode[500] != int64(count["server_error"]) || st.ByCode[200] != int64(count[""]+count["bad_response"]) {
		t.Errorf("stats %v vs %v", st.ByCode, count)
	}
	// The 5xx body is the services' error shape.
	e := newEnv(t, Options{Seed: 1, ServerErrorRate: 1})
	code, _, body := e.raw(t, "/v1/"+testProject+"/jobs/x", e.creds(), base)
	if code != 500 || string(body) != `{"error":{"message":"Internal server error.","code":"Common.0002"}}` {
		t.Errorf("%d %s", code, body)
	}
	e = newEnv(t, Options{Seed: 1, MalformedRate: 1})
	id := e.sim.CreateJob(JobSpec{Begin: base})
	code, _, body = e.raw(t, "/v1/"+testProject+"/jobs/"+id, e.creds(), base)
	if code != 200 || json.Valid(body) || len(body) < 10 {
		t.Errorf("malformed: %d %s", code, body)
	}
}

// TestStats counts exactly, per job and code, and resets.
func TestStats(t *testing.T) {
	e := newEnv(t, Options{Seed: 8})
	a := e.sim.CreateJob(JobSpec{Service: huaweicloud.ECS, Begin: base})
	b := e.sim.CreateJob(JobSpec{Service: huaweicloud.IMS, Begin: base})
	for range 3 {
		e.mustJob(t, huaweicloud.ECS, a)
	}
	for range 2 {
		e.mustJob(t, huaweicloud.IMS, b)
	}
	_, _ = e.getJob(t, huaweicloud.ECS, "unknown")
	e.raw(t, "/v1/"+testProject+"/jobs/"+a, huaweicloud.Credentials{AccessKey: testAK, SecretKey: "bad"}, base)
	for range 2 {
		if _, err := e.client().ListTraces(context.Background(), e.target(huaweicloud.CTS), huaweicloud.TraceQuery{}); err != nil {
			t.Fatal(err)
		}
	}
	e.raw(t, "/nothing/here", e.creds(), base)
	st := e.sim.Stats()
	want := Stats{Requests: 7, ByCode: map[int]int64{200: 5, 400: 1, 401: 1}, ByJob: map[string]int64{a: 4, b: 2, "unknown": 1},
		AuthFailures: 1, TraceRequests: 2, TraceByCode: map[int]int64{200: 2}, Unrouted: 1}
	if fmt.Sprint(st) != fmt.Sprint(want) {
		t.Errorf("stats\n%+v\nwant\n%+v", st, want)
	}
	st.ByJob[a] = 100 // a copy
	if e.sim.Stats().ByJob[a] != 4 {
		t.Error("Stats shares its maps")
	}
	e.sim.ResetStats()
	if st := e.sim.Stats(); st.Requests != 0 || len(st.ByJob) != 0 || len(st.ByCode) != 0 || st.TraceRequests != 0 {
		t.Errorf("after reset %+v", st)
	}
}

// TestRoutes: unknown APIs and methods get the gateway's JSON errors.
func TestRoutes(t *testing.T) {
	e := newEnv(t, Options{Seed: 9})
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/v2/" + testProject + "/servers", 404},
		{"GET", "/v1/" + testProject + "/jobs", 404},
		{"GET", "/", 404},
		{"POST", "/v1/" + testProject + "/jobs/abc", 405},
		{"DELETE", "/v3/" + testProject + "/traces", 405},
	} {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.srv.URL+tc.path, nil)
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var m map[string]string
			if resp.StatusCode != tc.status || json.Unmarshal(body, &m) != nil || m["error_code"] != "APIG.0101" || resp.Header.Get("X-Request-Id") == "" ||
				resp.Header.Get("Content-Type") != "application/json;charset=UTF-8" {
				t.Errorf("%d %v %s", resp.StatusCode, resp.Header, body)
			}
		})
	}
}

// TestSetJobOutcomeNow finishes stuck jobs on demand and refuses nonsense.
func TestSetJobOutcomeNow(t *testing.T) {
	e := newEnv(t, Options{Seed: 10})
	stuck := e.sim.CreateJob(JobSpec{Service: huaweicloud.ECS, SubJobs: 2, Outcome: huaweicloud.StatusRunning, Begin: base, RunFor: time.Minute})
	ok := e.sim.CreateJob(JobSpec{Service: huaweicloud.EVS, Outcome: huaweicloud.StatusRunning, Begin: base, RunFor: time.Hour})
	e.clock.Set(base.Add(2 * time.Minute))
	if err := e.sim.SetJobOutcomeNow(stuck, huaweicloud.StatusFail, "Ecs.0005", "no capacity"); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.SetJobOutcomeNow(ok, huaweicloud.StatusSuccess, "", ""); err != nil {
		t.Fatal(err)
	}
	j := e.mustJob(t, huaweicloud.ECS, stuck)
	if j.Status != "FAIL" || j.ErrorCode != "Ecs.0005" || j.FailReason != "no capacity" || !j.EndTime.Equal(base.Add(2*time.Minute)) ||
		statuses(j.SubJobs) != "SUCCESS,FAIL" || j.SubJobs[1].ErrorCode != "Ecs.0005" || !j.SubJobs[1].EndTime.Equal(j.EndTime) {
		t.Errorf("overridden job %+v", j)
	}
	if j := e.mustJob(t, huaweicloud.EVS, ok); j.Status != "SUCCESS" || j.ErrorCode != "" || j.EndTime.IsZero() {
		t.Errorf("overridden job %+v", j)
	}
	for _, tc := range []struct{ id, status string }{
		{stuck, huaweicloud.StatusSuccess}, // already final
		{"nope", huaweicloud.StatusFail},
		{ok, huaweicloud.StatusRunning},
	} {
		if err := e.sim.SetJobOutcomeNow(tc.id, tc.status, "", ""); err == nil {
			t.Errorf("SetJobOutcomeNow(%s, %s) accepted", tc.id, tc.status)
		}
	}
}

// TestLatency: answers wait Latency+jitter; a client that gives up is not counted.
func TestLatency(t *testing.T) {
	e := newEnv(t, Options{Seed: 11, Latency: 40 * time.Millisecond, LatencyJitter: 20 * time.Millisecond})
	id := e.sim.CreateJob(JobSpec{Begin: base})
	start := time.Now()
	e.mustJob(t, huaweicloud.ECS, id)
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("answer after %v, want >= 40ms", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := e.client().GetJob(ctx, e.target(huaweicloud.ECS), id); err == nil {
		t.Error("no timeout")
	}
	time.Sleep(80 * time.Millisecond) // let the handler notice
	if st := e.sim.Stats(); st.Requests != 1 {
		t.Errorf("%d requests counted, want 1", st.Requests)
	}
}

// TestStartClose serves on a loopback port until Close.
func TestStartClose(t *testing.T) {
	clock := fakeclock.New(base)
	sim := New(Options{Seed: 12, Credentials: map[string]string{testAK: testSK}, ProjectID: testProject, Now: clock.Now})
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Errorf("url %s", url)
	}
	id := sim.CreateJob(JobSpec{Service: huaweicloud.BMS, SubJobs: 2})
	c := huaweicloud.NewClient(nil, huaweicloud.WithClock(clock.Now), huaweicloud.WithRetry(1, 0, 0))
	target := huaweicloud.Target{Service: huaweicloud.BMS, Region: testRegion, ProjectID: testProject, Endpoint: url,
		Credentials: huaweicloud.Credentials{AccessKey: testAK, SecretKey: testSK}}
	if j, err := c.GetJob(context.Background(), target, id); err != nil || j.Status != "SUCCESS" {
		t.Fatalf("%v %v", j, err)
	}
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sim.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := c.GetJob(context.Background(), target, id); huaweicloud.Reason(err) != "network" {
		t.Errorf("after Close: %v", err)
	}
}

// TestConcurrency hammers every entry point at once (run with -race).
func TestConcurrency(t *testing.T) {
	e := newEnv(t, Options{Seed: 13, RateLimit: 1000, ServerErrorRate: 0.05, LatencyJitter: time.Millisecond})
	var wg sync.WaitGroup
	ids := make(chan string, 400)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				ids <- e.sim.CreateJob(JobSpec{Service: huaweicloud.JobServices[(g+i)%4], SubJobs: i % 3, Begin: base.Add(-time.Duration(i) * time.Second), RunFor: time.Minute})
			}
		}()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.client()
			for range 50 {
				select {
				case id := <-ids:
					_, _ = c.GetJob(context.Background(), e.target(huaweicloud.ECS), id)
					_, _ = e.sim.JobStatus(id)
					_ = e.sim.SetJobOutcomeNow(id, huaweicloud.StatusSuccess, "", "")
				default:
				}
				_, _ = c.ListTraces(context.Background(), e.target(huaweicloud.CTS), huaweicloud.TraceQuery{Limit: 50})
				_ = e.sim.Stats()
				e.clock.Add(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if n := len(e.sim.JobIDs()); n != 400 {
		t.Errorf("%d jobs, want 400", n)
	}
}

// TestMemoryPerJob reports the heap cost of a job (no assertion on the figure).
func TestMemoryPerJob(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const n = 100_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	sim := New(Options{Seed: 14, Now: func() time.Time { return base }})
	for i := range n {
		sim.CreateJob(JobSpec{Service: huaweicloud.JobServices[i%4], SubJobs: i % 3, Begin: base, RunFor: time.Minute})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("%d jobs: %.0f bytes of heap per job (job, id, index and CTS trace)", n, float64(after.HeapAlloc-before.HeapAlloc)/n)
	runtime.KeepAlive(sim)
}

func BenchmarkCreateJob(b *testing.B) {
	sim := New(Options{Seed: 15, Now: func() time.Time { return base }})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sim.CreateJob(JobSpec{Service: huaweicloud.JobServices[i%4], SubJobs: i % 3, Begin: base, RunFor: time.Minute})
	}
}

func BenchmarkGetJob(b *testing.B) {
	e := newEnv(b, Options{Seed: 16})
	id := e.sim.CreateJob(JobSpec{Service: huaweicloud.ECS, SubJobs: 3, Begin: base, RunFor: time.Hour})
	c := e.client()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetJob(context.Background(), e.target(huaweicloud.ECS), id); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPendingPaymentOnlyWhereDocumented: ecs_02_0901 and bms_api_0640 list PENDING_PAYMENT, the EVS and IMS
// job documents do not, so the simulator refuses to make such a job.
func TestPendingPaymentOnlyWhereDocumented(t *testing.T) {
	for _, tc := range []struct {
		svc   huaweicloud.Service
		panic bool
	}{
		{huaweicloud.ECS, false}, {huaweicloud.BMS, false}, {huaweicloud.EVS, true}, {huaweicloud.IMS, true},
	} {
		t.Run(string(tc.svc), func(t *testing.T) {
			sim := New(Options{Seed: 17, Now: func() time.Time { return base }})
			var got any
			func() {
				defer func() { got = recover() }()
				sim.CreateJob(JobSpec{Service: tc.svc, Outcome: huaweicloud.StatusPendingPayment, Begin: base})
			}()
			if (got != nil) != tc.panic {
				t.Errorf("panic %v, want panic %t", got, tc.panic)
			}
		})
	}
}

// TestFlowControlPerService: the gateway's 429 APIG.0308 throttles every service; ECS's own 202
// Common.0024 is sent for ECS jobs only, since no other service documents it.
func TestFlowControlPerService(t *testing.T) {
	for _, svc := range []huaweicloud.Service{huaweicloud.ECS, huaweicloud.EVS, huaweicloud.BMS, huaweicloud.IMS} {
		t.Run(string(svc), func(t *testing.T) {
			e := newEnv(t, Options{Seed: 18, RateLimit: 1, FlowControlShare: 1})
			id := e.sim.CreateJob(JobSpec{Service: svc, Begin: base, RunFor: time.Hour})
			e.mustJob(t, svc, id) // takes the only token
			code, hdr, body := e.raw(t, "/v1/"+testProject+"/jobs/"+id, e.creds(), base)
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			if svc == huaweicloud.ECS {
				if code != 202 || m["code"] != "Common.0024" || len(m) != 2 {
					t.Errorf("ECS throttled: %d %s", code, body)
				}
				return
			}
			if code != 429 || m["error_code"] != "APIG.0308" || hdr.Get("Retry-After") != "1" {
				t.Errorf("%s throttled: %d %s", svc, code, body)
			}
		})
	}
	// An unknown id cannot be an ECS job's answer: the gateway throttles it.
	e := newEnv(t, Options{Seed: 18, RateLimit: 1, FlowControlShare: 1})
	e.raw(t, "/v1/"+testProject+"/jobs/unknown", e.creds(), base)
	if code, _, body := e.raw(t, "/v1/"+testProject+"/jobs/unknown", e.creds(), base); code != 429 {
		t.Errorf("unknown id throttled: %d %s", code, body)
	}
}
