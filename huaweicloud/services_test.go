package huaweicloud

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The fixtures of the services of the service table's second half (sources: testdata/api/README.md).
// They join jobFixtures, so TestParseJobFixtures checks them like the seeds.
func init() {
	for name, tc := range serviceFixtures {
		jobFixtures[name] = tc
	}
}

func hm(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
}

var serviceFixtures = map[string]fixtureCase{
	// EIP: the document's example, and its sub-jobs in the shape of the main job.
	"eip-createBatchPublicip-success.json": {service: EIP, status: 200, final: true, want: &Job{
		Service: EIP, JobID: "ff808082843684110184e155fdb36461", JobType: "createBatchPublicip", Status: "SUCCESS",
		BeginTime: ms(2022, 12, 5, 8, 10, 19, 951), EndTime: ms(2022, 12, 5, 8, 10, 21, 864),
	}},
	"eip-batch-partial-failure.json": {service: EIP, status: 200, final: true, want: &Job{
		Service: EIP, JobID: "ff808082843684110184e155fdb36500", JobType: "createBatchPublicip", Status: "SUCCESS",
		BeginTime: ms(2026, 3, 1, 10, 0, 1, 120), EndTime: ms(2026, 3, 1, 10, 0, 4, 310), SubJobsTotal: 2,
		SubJobs: []SubJob{
			{JobID: "ff808082843684110184e155fdb36501", JobType: "createPublicip", Status: "SUCCESS",
				BeginTime: ms(2026, 3, 1, 10, 0, 1, 200), EndTime: ms(2026, 3, 1, 10, 0, 2, 950)},
			{JobID: "ff808082843684110184e155fdb36502", JobType: "createPublicip", Status: "FAIL",
				BeginTime: ms(2026, 3, 1, 10, 0, 1, 210), EndTime: ms(2026, 3, 1, 10, 0, 3, 400),
				ErrorCode: "VPC.0521", FailReason: "The EIP quota is insufficient."},
		},
	}},
	"eip-running.json": {service: EIP, status: 200, want: &Job{
		Service: EIP, JobID: "ff808082843684110184e155fdb36600", JobType: "deleteBatchPublicip", Status: "RUNNING",
		BeginTime: ms(2026, 3, 1, 10, 14, 58, 0),
	}},
	// SDRS: the document's example (server_group_id is the resource), and a failover with sub-jobs.
	"sdrs-createProtectionGroupNoCG-success.json": {service: SDRS, status: 200, final: true, want: &Job{
		Service: SDRS, JobID: "0000000062db92d70162db9d200f000a", JobType: "createProtectionGroupNoCG", Status: "SUCCESS",
		BeginTime: ms(2018, 4, 19, 1, 55, 30, 443), EndTime: ms(2018, 4, 19, 1, 55, 45, 493),
		ResourceID: "a59d008e-4bad-4bf3-9b17-6cc25e7da483",
	}},
	"sdrs-failover-partial-failure.json": {service: SDRS, status: 200, final: true, want: &Job{
		Service: SDRS, JobID: "0000000062db92d70162db9d200f0100", JobType: "failoverProtectionGroupNoCG", Status: "FAIL",
		BeginTime: ms(2026, 3, 1, 10, 2, 0, 0), EndTime: ms(2026, 3, 1, 10, 5, 31, 0),
		ErrorCode: "SDRS.1014", FailReason: "Failed to fail over 1 of 2 protected instances.",
		ResourceID: "a59d008e-4bad-4bf3-9b17-6cc25e7da483", SubJobsTotal: 2,
		SubJobs: []SubJob{
			{JobID: "0000000062db92d70162db9d200f0101", JobType: "failoverProtectionGroupNoCG", Status: "SUCCESS",
				BeginTime: ms(2026, 3, 1, 10, 2, 0, 10), EndTime: ms(2026, 3, 1, 10, 4, 11, 500),
				ResourceID: "0e1a6ad7-2a70-4b8f-9a5c-7a2d5e4f1b01"},
			{JobID: "0000000062db92d70162db9d200f0102", JobType: "failoverProtectionGroupNoCG", Status: "FAIL",
				BeginTime: ms(2026, 3, 1, 10, 2, 0, 20), EndTime: ms(2026, 3, 1, 10, 5, 30, 0),
				ErrorCode: "SDRS.1014", FailReason: "The replication pair is not in a state that allows failover.",
				ResourceID: "0e1a6ad7-2a70-4b8f-9a5c-7a2d5e4f1b02"},
		},
	}},
	// CCE: phases mapped, time.String timestamps, updateTimestamp an end only once final, reason a
	// fail_reason only of a failure.
	"cce-CreateCluster-running.json": {service: CCE, status: 200, want: &Job{
		Service: CCE, JobID: "73ce052c-8b1b-11ee-b0f3-0255ac10004f", JobType: "CreateCluster", Status: "RUNNING",
		BeginTime:  time.Date(2026, 3, 1, 10, 6, 10, 264357000, time.UTC),
		ResourceID: "6951e3e1-8b1b-11ee-8e7f-0255ac10004f", SubJobsTotal: 2,
		SubJobs: []SubJob{
			{JobID: "73d09c0f-8b1b-11ee-b0f3-0255ac10004f", JobType: "PreCheckCluster", Status: "SUCCESS",
				BeginTime: time.Date(2026, 3, 1, 10, 6, 10, 301812000, time.UTC), EndTime: time.Date(2026, 3, 1, 10, 7, 44, 112040000, time.UTC),
				ResourceID: "6951e3e1-8b1b-11ee-8e7f-0255ac10004f"},
			{JobID: "73d2d1a7-8b1b-11ee-b0f3-0255ac10004f", JobType: "CreateMaster", Status: "RUNNING",
				BeginTime:  time.Date(2026, 3, 1, 10, 7, 44, 201934000, time.UTC),
				ResourceID: "6951e3e1-8b1b-11ee-8e7f-0255ac10004f"},
		},
	}},
	"cce-CreateNode-fail.json": {service: CCE, status: 200, final: true, want: &Job{
		Service: CCE, JobID: "9a1f4c2e-8b1c-11ee-b0f3-0255ac10004f", JobType: "CreateNode", Status: "FAIL",
		BeginTime: time.Date(2026, 3, 1, 10, 1, 0, 1000, time.UTC), EndTime: time.Date(2026, 3, 1, 10, 9, 30, 500002000, time.UTC),
		FailReason: "Failed to create 1 of 2 nodes: Insufficient ECS quota: instances.",
		ResourceID: "6951e3e1-8b1b-11ee-8e7f-0255ac10004f", SubJobsTotal: 2,
		SubJobs: []SubJob{
			{JobID: "9a21a0b3-8b1c-11ee-b0f3-0255ac10004f", JobType: "CreateNodeVM", Status: "SUCCESS",
				BeginTime: time.Date(2026, 3, 1, 10, 1, 0, 100000000, time.UTC), EndTime: hm(2026, 3, 1, 10, 5, 0),
				ResourceID: "c1d2e3f4-8b1c-11ee-b0f3-0255ac10004f"},
			{JobID: "9a2213aa-8b1c-11ee-b0f3-0255ac10004f", JobType: "CreateNodeVM", Status: "FAIL",
				BeginTime: time.Date(2026, 3, 1, 10, 1, 0, 200000000, time.UTC), EndTime: time.Date(2026, 3, 1, 10, 9, 30, 400000000, time.UTC),
				FailReason: "Insufficient ECS quota: instances.", ResourceID: "c1d2e3f5-8b1c-11ee-b0f3-0255ac10004f"},
		},
	}},
	"cce-DeleteCluster-success.json": {service: CCE, status: 200, final: true, want: &Job{
		Service: CCE, JobID: "5b0a8e77-8b1d-11ee-b0f3-0255ac10004f", JobType: "DeleteCluster", Status: "SUCCESS",
		BeginTime: hm(2026, 3, 1, 9, 50, 0), EndTime: hm(2026, 3, 1, 9, 58, 20),
		ResourceID: "11f0e3e1-8b1b-11ee-8e7f-0255ac10004f",
	}},
	// ELB v3: the job under "job", error_msg as the reason, sub-job resources from entities.
	"elb-upgradeLoadbalancer-success.json": {service: ELB, status: 200, final: true, want: &Job{
		Service: ELB, JobID: "0f2a3b4c-5d6e-4f70-8a9b-0c1d2e3f4a50", JobType: "upgradeLoadbalancer", Status: "SUCCESS",
		BeginTime: hm(2026, 3, 1, 10, 0, 0), EndTime: hm(2026, 3, 1, 10, 3, 12), ResourceID: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
	}},
	"elb-cloneLoadbalancer-partial-failure.json": {service: ELB, status: 200, final: true, want: &Job{
		Service: ELB, JobID: "0f2a3b4c-5d6e-4f70-8a9b-0c1d2e3f4a60", JobType: "cloneLoadbalancer", Status: "FAIL",
		BeginTime: hm(2026, 3, 1, 10, 4, 0), EndTime: hm(2026, 3, 1, 10, 6, 40),
		ErrorCode: "ELB.8902", FailReason: "Failed to copy 1 of 2 listeners.",
		ResourceID: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c60", SubJobsTotal: 2,
		SubJobs: []SubJob{
			{JobID: "0f2a3b4c-5d6e-4f70-8a9b-0c1d2e3f4a61", JobType: "cloneListener", Status: "SUCCESS",
				BeginTime: hm(2026, 3, 1, 10, 4, 1), EndTime: hm(2026, 3, 1, 10, 5, 0), ResourceID: "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d61"},
			{JobID: "0f2a3b4c-5d6e-4f70-8a9b-0c1d2e3f4a62", JobType: "cloneListener", Status: "FAIL",
				BeginTime: hm(2026, 3, 1, 10, 4, 1), EndTime: hm(2026, 3, 1, 10, 6, 39),
				ErrorCode: "ELB.8902", FailReason: "The certificate of the listener cannot be copied."},
		},
	}},
	"elb-rollbacking.json": {service: ELB, status: 200, want: &Job{
		Service: ELB, JobID: "0f2a3b4c-5d6e-4f70-8a9b-0c1d2e3f4a70", JobType: "upgradeLoadbalancer", Status: "RUNNING",
		BeginTime: hm(2026, 3, 1, 10, 10, 0), ResourceID: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c70",
	}},
	// CFW: the document's example with epoch-ms numbers, and "+0800" strings.
	"cfw-createFirewall-success.json": {service: CFW, status: 200, final: true, want: &Job{
		Service: CFW, JobID: "f588ce71-e26c-400d-8981-f854355f6849", JobType: "createFirewall", Status: "SUCCESS",
		BeginTime: time.UnixMilli(1641370501000).UTC(), EndTime: time.UnixMilli(1641370515000).UTC(),
	}},
	"cfw-createFirewall-running.json": {service: CFW, status: 200, want: &Job{
		Service: CFW, JobID: "f588ce71-e26c-400d-8981-f854355f6850", JobType: "createFirewall", Status: "RUNNING",
		BeginTime: hm(2026, 3, 1, 10, 12, 0),
	}},
	"cfw-createFirewall-failed.json": {service: CFW, status: 200, final: true, want: &Job{
		Service: CFW, JobID: "f588ce71-e26c-400d-8981-f854355f6851", JobType: "createFirewall", Status: "FAIL",
		BeginTime: hm(2026, 3, 1, 10, 0, 0), EndTime: hm(2026, 3, 1, 10, 4, 30),
	}},
	"cfw-error.json": {service: CFW, status: 200, wantCode: "CFW.00200005", wantMsg: "Object not found.", wantReason: ReasonBadResponse},
}

// TestStatusMapping: every service's statuses onto the documented ones; what maps to nothing is kept.
func TestStatusMapping(t *testing.T) {
	body := map[Service]func(st string) string{
		ECS:  func(st string) string { return `{"status":"` + st + `"}` },
		EIP:  func(st string) string { return `{"status":"` + st + `"}` },
		SDRS: func(st string) string { return `{"status":"` + st + `"}` },
		CCE:  func(st string) string { return `{"kind":"Job","status":{"phase":"` + st + `"}}` },
		ELB:  func(st string) string { return `{"job":{"status":"` + st + `"}}` },
		CFW:  func(st string) string { return `{"data":{"status":"` + st + `"}}` },
	}
	tests := []struct {
		svc       Service
		raw, want string
	}{
		{ECS, "PENDING_PAYMENT", StatusPendingPayment},
		{ECS, "ROLLING_BACK", "ROLLING_BACK"},
		{EIP, "SUCCESS", StatusSuccess}, {EIP, "RUNNING", StatusRunning}, {EIP, "FAIL", StatusFail}, {EIP, "INIT", StatusInit},
		{SDRS, "SUCCESS", StatusSuccess}, {SDRS, "RUNNING", StatusRunning}, {SDRS, "FAIL", StatusFail}, {SDRS, "INIT", StatusInit},
		{CCE, "Initializing", StatusInit}, {CCE, "Running", StatusRunning}, {CCE, "Success", StatusSuccess},
		{CCE, "Failed", StatusFail}, {CCE, "FAILED", StatusFail}, {CCE, " Success ", StatusSuccess},
		{CCE, "Pending", "Pending"},
		{ELB, "INIT", StatusInit}, {ELB, "RUNNING", StatusRunning}, {ELB, "SUCCESS", StatusSuccess}, {ELB, "FAIL", StatusFail},
		{ELB, "ROLLBACKING", StatusRunning}, {ELB, "ROLLBACK_FAIL", StatusFail},
		{ELB, "COMPLETE", "COMPLETE"}, {ELB, "CANCEL", "CANCEL"},
		{CFW, "Running", StatusRunning}, {CFW, "Success", StatusSuccess}, {CFW, "Failed", StatusFail},
		{CFW, "Fail", "Fail"},
	}
	for _, tc := range tests {
		j, err := ParseJob(tc.svc, 200, []byte(body[tc.svc](tc.raw)))
		if err != nil {
			t.Errorf("%s %q: %v", tc.svc, tc.raw, err)
			continue
		}
		if j.Status != tc.want {
			t.Errorf("%s %q -> %q, want %q", tc.svc, tc.raw, j.Status, tc.want)
		}
	}
}

// TestOddFields: nulls, empty strings, wrong types and missing parts of the new services' bodies.
func TestOddFields(t *testing.T) {
	tests := []struct {
		name    string
		svc     Service
		body    string
		want    *Job   // compared field by field
		wantErr string // Reason of the error
	}{
		{"eip entities null", EIP, `{"status":"RUNNING","job_id":"j","entities":null,"end_time":null}`,
			&Job{Service: EIP, JobID: "j", Status: "RUNNING"}, ""},
		{"eip sub_jobs not a list", EIP, `{"status":"SUCCESS","job_id":"j","entities":{"sub_jobs":{}}}`, nil, ReasonBadResponse},
		{"sdrs no entities", SDRS, `{"status":"INIT","job_id":"j","begin_time":""}`, &Job{Service: SDRS, JobID: "j", Status: "INIT"}, ""},
		{"cce no spec, no metadata", CCE, `{"kind":"Job","status":{"phase":"Running","reason":null}}`,
			&Job{Service: CCE, Status: "RUNNING"}, ""},
		{"cce subJobs null and a sub-job without status", CCE,
			`{"metadata":{"uid":"u","creationTimestamp":null},"spec":{"type":"T","subJobs":[{"metadata":{"uid":"s"}}]},"status":{"phase":"Running"}}`,
			&Job{Service: CCE, JobID: "u", JobType: "T", Status: "RUNNING", SubJobsTotal: 1, SubJobs: []SubJob{{JobID: "s"}}}, ""},
		{"cce subJobs an object", CCE, `{"spec":{"subJobs":{}},"status":{"phase":"Success"}}`,
			&Job{Service: CCE, Status: "SUCCESS"}, ""},
		{"cce reason of a success is no fail_reason", CCE, `{"status":{"phase":"Success","reason":"done"}}`,
			&Job{Service: CCE, Status: "SUCCESS"}, ""},
		{"cce no phase", CCE, `{"kind":"Job","status":{}}`, nil, ReasonBadResponse},
		{"cce empty phase", CCE, `{"kind":"Job","status":{"phase":""}}`, nil, ReasonBadResponse},
		{"cce status null", CCE, `{"kind":"Job","status":null}`, nil, ReasonBadResponse},
		{"elb job null", ELB, `{"job":null,"request_id":"r"}`, nil, ReasonBadResponse},
		// A 2xx carrying an error instead of a job: an *APIError of reason bad_response, as for ECS/EVS.
		{"elb error body", ELB, `{"error_code":"ELB.1001","error_msg":"Job not found.","request_id":"r"}`, nil, ReasonBadResponse},
		{"elb sub_jobs null, entities odd", ELB, `{"job":{"status":"RUNNING","job_id":"j","sub_jobs":null,"resource_id":null}}`,
			&Job{Service: ELB, JobID: "j", Status: "RUNNING"}, ""},
		{"elb sub-job entities an object", ELB, `{"job":{"status":"RUNNING","job_id":"j","sub_jobs":[{"status":"INIT","entities":{}}]}}`,
			&Job{Service: ELB, JobID: "j", Status: "RUNNING", SubJobsTotal: 1, SubJobs: []SubJob{{Status: "INIT"}}}, ""},
		{"cfw data null", CFW, `{"data":null}`, nil, ReasonBadResponse},
		{"cfw times empty and null", CFW, `{"data":{"id":"i","status":"Running","begin_time":"","end_time":null}}`,
			&Job{Service: CFW, JobID: "i", JobType: "createFirewall", Status: "RUNNING"}, ""},
		{"cfw time garbage", CFW, `{"data":{"id":"i","status":"Running","begin_time":"yesterday"}}`,
			&Job{Service: CFW, JobID: "i", JobType: "createFirewall", Status: "RUNNING"}, ""},
		{"not json", CCE, `<html>`, nil, ReasonBadResponse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j, err := ParseJob(tc.svc, 200, []byte(tc.body))
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseJob = %+v, want an error", j)
				}
				if got := Reason(err); got != tc.wantErr {
					t.Errorf("Reason(%v) = %q, want %q", err, got, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseJob: %v", err)
			}
			for _, d := range diffJob(j, tc.want) {
				t.Error(d)
			}
		})
	}
}

// TestGetJobPaths: GetJob asks each service at its own path and decodes the answer with its parser.
func TestGetJobPaths(t *testing.T) {
	const project = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		svc     Service
		path    string
		fixture string
		wantID  string
	}{
		{ECS, "/v1/" + project + "/jobs/J", "ecs-createServer-success.json", "2c9eb2c5544cbf6101544f0602af2b4f"},
		{EIP, "/v1/" + project + "/jobs/J", "eip-createBatchPublicip-success.json", "ff808082843684110184e155fdb36461"},
		{SDRS, "/v1/" + project + "/jobs/J", "sdrs-createProtectionGroupNoCG-success.json", "0000000062db92d70162db9d200f000a"},
		{CCE, "/api/v3/projects/" + project + "/jobs/J", "cce-DeleteCluster-success.json", "5b0a8e77-8b1d-11ee-b0f3-0255ac10004f"},
		{ELB, "/v3/" + project + "/elb/jobs/J", "elb-upgradeLoadbalancer-success.json", "0f2a3b4c-5d6e-4f70-8a9b-0c1d2e3f4a50"},
		{CFW, "/v3/" + project + "/jobs/J", "cfw-createFirewall-success.json", "f588ce71-e26c-400d-8981-f854355f6849"},
	}
	for _, tc := range tests {
		t.Run(string(tc.svc), func(t *testing.T) {
			body := readFixture(t, tc.fixture)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != tc.path {
					w.WriteHeader(http.StatusNotFound)
					_, _ = w.Write([]byte(`{"error_code":"APIG.0101","error_msg":"The API does not exist"}`))
					return
				}
				_, _ = w.Write(body)
			}))
			t.Cleanup(srv.Close)
			c := NewClient(srv.Client(), WithRetry(1, 0, 0))
			j, err := c.GetJob(t.Context(), Target{Service: tc.svc, Region: "ap-southeast-1", ProjectID: project, Endpoint: srv.URL,
				Credentials: Credentials{AccessKey: "AK", SecretKey: "SK"}}, "J")
			if err != nil {
				t.Fatalf("GetJob: %v", err)
			}
			if j.JobID != tc.wantID || j.Service != tc.svc {
				t.Errorf("GetJob = %s %s, want %s %s", j.Service, j.JobID, tc.svc, tc.wantID)
			}
			if got := JobPath(tc.svc, project, "J"); got != tc.path {
				t.Errorf("JobPath = %q, want %q", got, tc.path)
			}
		})
	}
	// CTS and unknown names have no job API.
	for _, s := range []Service{CTS, "dcs"} {
		_, err := NewClient(nil).GetJob(t.Context(), Target{Service: s, Endpoint: "http://127.0.0.1:1"}, "J")
		if err == nil || !strings.Contains(err.Error(), "no job API") {
			t.Errorf("GetJob(%s) = %v, want a no-job-API error", s, err)
		}
	}
}

// TestServiceCodeNotFound: a 404 with the service's own code prefix is that service saying "no such job".
func TestServiceCodeNotFound(t *testing.T) {
	for _, tc := range []struct {
		svc  Service
		code string
		want bool
	}{
		{CCE, "CCE.01404001", true}, {ELB, "ELB.1001", true}, {SDRS, "SDRS.1001", true}, {CFW, "CFW.00200005", true},
		{EIP, "VPC.0101", true}, {CCE, "ELB.1001", false}, {ELB, "APIG.0101", false},
	} {
		e := &APIError{StatusCode: http.StatusNotFound, Code: tc.code, Service: tc.svc}
		if got := e.NotFound(); got != tc.want {
			t.Errorf("%s %s NotFound() = %v, want %v", tc.svc, tc.code, got, tc.want)
		}
	}
}

// FuzzParseJobServices: no body makes any service's parser panic, and a job it returns has a status and
// valid UTF-8 texts within their caps.
func FuzzParseJobServices(f *testing.F) {
	for name := range serviceFixtures {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"job":{"status":"RUNNING","sub_jobs":[{"entities":[{"resource_id":7}]}]}}`))
	f.Add([]byte(`{"spec":{"subJobs":[{"spec":{"subJobs":[]}}]},"status":{"phase":["x"]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, s := range JobServices {
			j, err := ParseJob(s, 200, body)
			if err != nil {
				continue
			}
			if j.Status == "" || len(j.Status) > maxStatusBytes || !utf8.ValidString(j.Status) || !utf8.ValidString(j.FailReason) ||
				!utf8.ValidString(j.JobType) || len(j.JobID) > maxIDBytes || len(j.SubJobs) > maxSubJobs {
				t.Fatalf("%s: bad job %+v", s, j)
			}
		}
	})
}
