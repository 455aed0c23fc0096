package huaweicloud

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// apiFixtures is where the recorded API answers live, shared with the other packages' tests.
var apiFixtures = filepath.Join("..", "testdata", "api")

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(apiFixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ms builds a UTC time with millisecond precision.
func ms(y int, mo time.Month, d, h, mi, s, milli int) time.Time {
	return time.Date(y, mo, d, h, mi, s, milli*int(time.Millisecond), time.UTC)
}

// diffJob lists the differences between two jobs field by field; times must be equal instants in UTC.
func diffJob(got, want *Job) []string {
	var diffs []string
	add := func(field string, g, w any) { diffs = append(diffs, fmt.Sprintf("%s = %#v, want %#v", field, g, w)) }
	cmpTime := func(field string, g, w time.Time) {
		if !g.Equal(w) || g.IsZero() != w.IsZero() {
			add(field, g.Format(time.RFC3339Nano), w.Format(time.RFC3339Nano))
		} else if !g.IsZero() && g.Location() != time.UTC {
			add(field+".Location", g.Location().String(), "UTC")
		}
	}
	if got.Service != want.Service {
		add("Service", got.Service, want.Service)
	}
	if got.JobID != want.JobID {
		add("JobID", got.JobID, want.JobID)
	}
	if got.JobType != want.JobType {
		add("JobType", got.JobType, want.JobType)
	}
	if got.Status != want.Status {
		add("Status", got.Status, want.Status)
	}
	cmpTime("BeginTime", got.BeginTime, want.BeginTime)
	cmpTime("EndTime", got.EndTime, want.EndTime)
	if got.ErrorCode != want.ErrorCode {
		add("ErrorCode", got.ErrorCode, want.ErrorCode)
	}
	if got.FailReason != want.FailReason {
		add("FailReason", got.FailReason, want.FailReason)
	}
	if got.ResourceID != want.ResourceID {
		add("ResourceID", got.ResourceID, want.ResourceID)
	}
	if got.SubJobsTotal != want.SubJobsTotal {
		add("SubJobsTotal", got.SubJobsTotal, want.SubJobsTotal)
	}
	if got.Progress != want.Progress || got.HasProgress != want.HasProgress {
		add("Progress, HasProgress", fmt.Sprint(got.Progress, got.HasProgress), fmt.Sprint(want.Progress, want.HasProgress))
	}
	if !slices.Equal(got.Truncated, want.Truncated) {
		add("Truncated", got.Truncated, want.Truncated)
	}
	if (got.SubJobs == nil) != (want.SubJobs == nil) || len(got.SubJobs) != len(want.SubJobs) {
		add("SubJobs", got.SubJobs, want.SubJobs)
		return diffs
	}
	for i := range want.SubJobs {
		g, w := got.SubJobs[i], want.SubJobs[i]
		p := fmt.Sprintf("SubJobs[%d].", i)
		if g.JobID != w.JobID {
			add(p+"JobID", g.JobID, w.JobID)
		}
		if g.JobType != w.JobType {
			add(p+"JobType", g.JobType, w.JobType)
		}
		if g.Status != w.Status {
			add(p+"Status", g.Status, w.Status)
		}
		cmpTime(p+"BeginTime", g.BeginTime, w.BeginTime)
		cmpTime(p+"EndTime", g.EndTime, w.EndTime)
		if g.ErrorCode != w.ErrorCode {
			add(p+"ErrorCode", g.ErrorCode, w.ErrorCode)
		}
		if g.FailReason != w.FailReason {
			add(p+"FailReason", g.FailReason, w.FailReason)
		}
		if g.ResourceID != w.ResourceID {
			add(p+"ResourceID", g.ResourceID, w.ResourceID)
		}
	}
	return diffs
}

// fixtureCase is the expected outcome of ParseJob on one fixture: a job, or an error.
type fixtureCase struct {
	service    Service
	status     int
	want       *Job
	final      bool
	wantCode   string // *APIError with this code
	wantMsg    string
	wantReason string
	throttled  bool
}

var jobFixtures = map[string]fixtureCase{
	"ecs-createServer-success.json": {service: ECS, status: 200, final: true, want: &Job{
		Service: ECS, JobID: "2c9eb2c5544cbf6101544f0602af2b4f", JobType: "createServer", Status: "SUCCESS",
		BeginTime: ms(2016, 4, 25, 20, 4, 34, 604), EndTime: ms(2016, 4, 25, 20, 8, 41, 593),
		SubJobsTotal: 1,
		SubJobs: []SubJob{{
			JobID: "2c9eb2c5544cbf6101544f0635672b60", JobType: "createSingleServer", Status: "SUCCESS",
			BeginTime: ms(2016, 4, 25, 20, 4, 47, 591), EndTime: ms(2016, 4, 25, 20, 8, 21, 328),
			ResourceID: "bae51750-0089-41a1-9b18-5c777978ff6d",
		}},
	}},
	"ecs-batch-partial-failure.json": {service: ECS, status: 200, final: true, want: &Job{
		Service: ECS, JobID: "ff80808288d41e1b018937c1d6ae1000", JobType: "createServer", Status: "SUCCESS",
		BeginTime: ms(2026, 3, 1, 10, 0, 4, 891), EndTime: ms(2026, 3, 1, 10, 3, 45, 2),
		SubJobsTotal: 3,
		SubJobs: []SubJob{
			{JobID: "ff80808288d41e1b018937c1d6ae1001", JobType: "createSingleServer", Status: "SUCCESS",
				BeginTime: ms(2026, 3, 1, 10, 0, 5, 120), EndTime: ms(2026, 3, 1, 10, 3, 40, 512),
				ResourceID: "6b9b1ab1-6b1c-4f3f-9a55-0f2cf7e3a001"},
			{JobID: "ff80808288d41e1b018937c1d6ae1002", JobType: "createSingleServer", Status: "FAIL",
				BeginTime: ms(2026, 3, 1, 10, 0, 5, 130), EndTime: ms(2026, 3, 1, 10, 1, 12, 7),
				ErrorCode: "Ecs.0005", FailReason: "Insufficient resources for the flavor in the AZ.", // from errorcode_message
				ResourceID: "6b9b1ab1-6b1c-4f3f-9a55-0f2cf7e3a002"},
			{JobID: "ff80808288d41e1b018937c1d6ae1003", JobType: "createSingleServer", Status: "FAIL",
				BeginTime: ms(2026, 3, 1, 10, 0, 5, 140), EndTime: ms(2026, 3, 1, 10, 1, 30, 250),
				ErrorCode: "Ecs.0005", FailReason: "Insufficient resources for the flavor in the AZ.",
				ResourceID: "6b9b1ab1-6b1c-4f3f-9a55-0f2cf7e3a003"},
		},
	}},
	"ecs-fail.json": {service: ECS, status: 200, final: true, want: &Job{
		Service: ECS, JobID: "ff80808288d41e1b018937c1d6ae2000", JobType: "createServer", Status: "FAIL",
		BeginTime: ms(2026, 3, 1, 9, 58, 9, 600), EndTime: ms(2026, 3, 1, 9, 58, 32, 118),
		ErrorCode: "Ecs.0052", FailReason: "Quota exceeded: instances.",
		SubJobsTotal: 1,
		SubJobs: []SubJob{{
			JobID: "ff80808288d41e1b018937c1d6ae2001", JobType: "createSingleServer", Status: "FAIL",
			BeginTime: ms(2026, 3, 1, 9, 58, 10, 1), EndTime: ms(2026, 3, 1, 9, 58, 31, 742),
			ErrorCode: "Ecs.0052", FailReason: "Quota exceeded: instances.",
			ResourceID: "9a1e3c55-2d7e-4d3a-8c0b-5e7f1a2b3c01",
		}},
	}},
	"ecs-init.json": {service: ECS, status: 200, want: &Job{
		Service: ECS, JobID: "ff80808288d41e1b018937c1d6ae4000", JobType: "resizeServer", Status: "INIT",
		BeginTime: ms(2026, 3, 1, 10, 15, 0, 250),
	}},
	"ecs-pending-payment.json": {service: ECS, status: 200, want: &Job{
		Service: ECS, JobID: "ff80808288d41e1b018937c1d6ae3000", JobType: "createServer", Status: "PENDING_PAYMENT",
		BeginTime:    ms(2026, 3, 1, 8, 30, 0, 0), // end_time null
		SubJobsTotal: 1,                           // sub_jobs_total wins over an empty list
	}},
	"ecs-unknown-status.json": {service: ECS, status: 200, want: &Job{
		Service: ECS, JobID: "ff80808288d41e1b018937c1d6ae5000", JobType: "changeOs", Status: "ROLLING_BACK",
		BeginTime: ms(2026, 3, 1, 10, 5, 0, 0), ResourceID: "0c4d2f6e-8a1b-4c3d-9e5f-6a7b8c9d0e11",
	}},
	"bms-createServer-running.json": {service: BMS, status: 200, want: &Job{
		Service: BMS, JobID: "ff80808288d41e1b018937c1d6ae6000", JobType: "baremetalBatchCreate", Status: "RUNNING",
		BeginTime:    ms(2026, 3, 1, 9, 39, 59, 500),
		SubJobsTotal: 2,
		SubJobs: []SubJob{
			{JobID: "ff80808288d41e1b018937c1d6ae6001", JobType: "createSingleBaremetalServer", Status: "SUCCESS",
				BeginTime: ms(2026, 3, 1, 9, 40, 0, 0), EndTime: ms(2026, 3, 1, 10, 2, 11, 0),
				ResourceID: "1d2c3b4a-0000-4000-8000-00000000b001"},
			{JobID: "ff80808288d41e1b018937c1d6ae6002", JobType: "createSingleBaremetalServer", Status: "RUNNING",
				BeginTime: ms(2026, 3, 1, 9, 40, 0, 10), ResourceID: "1d2c3b4a-0000-4000-8000-00000000b002"},
		},
	}},
	"evs-batchCreateVolume-success.json": {service: EVS, status: 200, final: true, want: &Job{
		Service: EVS, JobID: "21917a8d52a19b040152a9f2f1eb003e", JobType: "batchCreateVolume", Status: "SUCCESS",
		BeginTime: ms(2016, 2, 4, 1, 43, 37, 193), EndTime: ms(2016, 2, 4, 1, 44, 8, 283),
		SubJobsTotal: 2, // no sub_jobs_total: len(sub_jobs)
		SubJobs: []SubJob{
			{JobID: "21917a8d52a19b040152a9f2f2e50041", JobType: "createVolume", Status: "SUCCESS",
				BeginTime: ms(2016, 2, 4, 1, 43, 37, 445), EndTime: ms(2016, 2, 4, 1, 44, 2, 239),
				ResourceID: "0b549095-4937-4849-8e4c-52aa027d64f7"},
			{JobID: "21917a8d52a19b040152a9f2f2f60042", JobType: "createVolume", Status: "SUCCESS",
				BeginTime: ms(2016, 2, 4, 1, 43, 37, 462), EndTime: ms(2016, 2, 4, 1, 44, 2, 245),
				ResourceID: "e7bca1a2-d3ed-434f-86f4-a1f11aa80072"},
		},
	}},
	"evs-createVolume-running.json": {service: EVS, status: 200, want: &Job{
		Service: EVS, JobID: "4010a32d535527910153552b492c0002", JobType: "createVolume", Status: "RUNNING",
		BeginTime: ms(2016, 3, 8, 7, 40, 13, 219), ResourceID: "bdf1bb37-f20f-4266-9a04-f43e0a127376",
	}},
	"ims-createImage-success.json": {service: IMS, status: 200, final: true, want: &Job{
		Service: IMS, JobID: "ff80808288d41e1b018937c1d6ae7000", JobType: "createImageByInstance", Status: "SUCCESS",
		BeginTime: ms(2026, 3, 1, 9, 0, 0, 123), EndTime: ms(2026, 3, 1, 9, 7, 42, 456),
		ResourceID: "e1d2c3b4-a5f6-4789-8abc-def012345678", Progress: 1, HasProgress: true,
		// entities.results, the per-image outcome of the (here one-image) batch.
		SubJobsTotal: 1, SubJobs: []SubJob{{Status: "SUCCESS", ResourceID: "e1d2c3b4-a5f6-4789-8abc-def012345678"}},
	}},
	// The IMS API reference's example of an OVA import (GET /v1/cloudimages/job/{job_id}, same entities as
	// ShowJob): the sub-jobs are in entities.sub_jobs_result, not entities.sub_jobs.
	"ims-importOvaImage-success.json": {service: IMS, status: 200, final: true, want: &Job{
		Service: IMS, JobID: "9a175ac79d2a54ad019d4c35cf71260b", JobType: "imsImportOvaImageJob", Status: "SUCCESS",
		BeginTime: ms(2026, 4, 2, 3, 21, 28, 174), EndTime: ms(2026, 4, 2, 3, 59, 13, 786), SubJobsTotal: 2,
		SubJobs: []SubJob{
			{JobID: "9a175ac79d2a54ad019d4c37b9772673", JobType: "imsImportImageJob", Status: "SUCCESS",
				BeginTime: ms(2026, 4, 2, 3, 23, 33, 620), EndTime: ms(2026, 4, 2, 3, 58, 55, 831), ResourceID: "6d0c5c0e-5505-4ba8-ab65-7e78efe77130"},
			{JobID: "9a175ac79d2a54ad019d4c37b9862674", JobType: "imsImportDataImageJob", Status: "SUCCESS",
				BeginTime: ms(2026, 4, 2, 3, 23, 33, 635), EndTime: ms(2026, 4, 2, 3, 25, 45, 953), ResourceID: "3e0c2b6c-e56f-435a-bcb5-e6a45cccdd75"},
		},
	}},
	// Running, with progress, a failed sub-job, and sub_jobs_list naming one sub-job without a result yet.
	"ims-volumesToSysDataImages-running.json": {service: IMS, status: 200, want: &Job{
		Service: IMS, JobID: "9a175ac69d2a5466019d4c2294462ed9", JobType: "imsVolumesToSysDataImagesJob", Status: "RUNNING",
		BeginTime: ms(2026, 4, 2, 3, 0, 27, 845), Progress: 0.45, HasProgress: true, SubJobsTotal: 3,
		SubJobs: []SubJob{
			{JobID: "9a175ac69d2a5466019d4c2299782edd", JobType: "imsCopyVolumeToImageJob", Status: "SUCCESS",
				BeginTime: ms(2026, 4, 2, 3, 0, 29, 173), EndTime: ms(2026, 4, 2, 3, 3, 5, 904), ResourceID: "51a2a39b-622e-411f-a1a3-9745393baf3d"},
			{JobID: "9a175ac69d2a5466019d4c2299782ede", JobType: "imsCopyVolumeToImageJob", Status: "FAIL",
				BeginTime: ms(2026, 4, 2, 3, 0, 29, 201), EndTime: ms(2026, 4, 2, 3, 4, 11, 2), ErrorCode: "IMS.0010", FailReason: "The volume is not available."},
			{JobID: "9a175ac69d2a5466019d4c2299782edf"},
		},
	}},
	"evs-error.json": {service: EVS, status: 200, wantCode: "EVS.5400",
		wantMsg: "The job does not exist or has been deleted.", wantReason: ReasonBadResponse},
	"ecs-job-not-found.json": {service: ECS, status: 400, wantCode: "Common.0011",
		wantMsg: "Failed to query system tasks.", wantReason: ReasonNotFound},
	"ecs-flow-control-202.json": {service: ECS, status: 202, wantCode: "Common.0024",
		wantMsg: "Flow limit exceeded.", wantReason: ReasonThrottled, throttled: true},
	"apig-auth.json": {service: ECS, status: 401, wantCode: "APIG.0301",
		wantMsg: "Incorrect IAM authentication information: verify aksk signature fail", wantReason: ReasonAuth},
	"apig-throttled.json": {service: ECS, status: 429, wantCode: "APIG.0308",
		wantMsg: "The throttling threshold has been reached: policy user over ratelimit,limit:20,time:1 second", wantReason: ReasonThrottled, throttled: true},
	"malformed.json": {service: ECS, status: 200, wantReason: ReasonBadResponse},
}

func TestParseJobFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(apiFixtures, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no fixtures in %s", apiFixtures)
	}
	for _, f := range files {
		if _, ok := jobFixtures[filepath.Base(f)]; !ok {
			t.Errorf("fixture %s has no expected outcome in jobFixtures", filepath.Base(f))
		}
	}
	for name, tc := range jobFixtures {
		t.Run(name, func(t *testing.T) {
			job, err := ParseJob(tc.service, tc.status, readFixture(t, name))
			if tc.want != nil {
				if err != nil {
					t.Fatalf("ParseJob: %v", err)
				}
				for _, d := range diffJob(job, tc.want) {
					t.Error(d)
				}
				if job.Final() != tc.final {
					t.Errorf("Final() = %v, want %v", job.Final(), tc.final)
				}
				return
			}
			if job != nil {
				t.Errorf("ParseJob returned a job %+v with the error", job)
			}
			if err == nil {
				t.Fatal("ParseJob: no error")
			}
			if got := Reason(err); got != tc.wantReason {
				t.Errorf("Reason(%v) = %q, want %q", err, got, tc.wantReason)
			}
			var apiErr *APIError
			isAPI := errors.As(err, &apiErr)
			if tc.wantCode == "" {
				if isAPI {
					t.Errorf("error %v is an *APIError, want a bad response", err)
				}
				if !errors.Is(err, errBadResponse) {
					t.Errorf("error %v does not wrap errBadResponse", err)
				}
				return
			}
			if !isAPI {
				t.Fatalf("error %v (%T) is not an *APIError", err, err)
			}
			want := APIError{StatusCode: tc.status, Code: tc.wantCode, Message: tc.wantMsg, Service: tc.service}
			if *apiErr != want {
				t.Errorf("APIError = %+v, want %+v", *apiErr, want)
			}
			if apiErr.Throttled() != tc.throttled {
				t.Errorf("Throttled() = %v, want %v", apiErr.Throttled(), tc.throttled)
			}
		})
	}
}

func TestParseJobBodies(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    *Job   // nil: an error is expected
		wantErr string // Reason of the error
		code    string // Code of the *APIError, if one is expected
	}{
		{name: "empty body", body: ``, wantErr: ReasonBadResponse},
		{name: "null", body: `null`, wantErr: ReasonBadResponse},
		{name: "empty object", body: `{}`, wantErr: ReasonBadResponse},
		{name: "array", body: `[]`, wantErr: ReasonBadResponse},
		{name: "string", body: `"SUCCESS"`, wantErr: ReasonBadResponse},
		{name: "no status", body: `{"job_id":"j","job_type":"t","entities":{}}`, wantErr: ReasonBadResponse},
		{name: "null status", body: `{"status":null,"job_id":"j"}`, wantErr: ReasonBadResponse},
		{name: "empty status", body: `{"status":"","job_id":"j"}`, wantErr: ReasonBadResponse},
		{name: "blank status", body: `{"status":"   ","job_id":"j"}`, wantErr: ReasonBadResponse},
		{name: "entities not an object", body: `{"status":"RUNNING","entities":[]}`, wantErr: ReasonBadResponse},
		{name: "sub_jobs not a list", body: `{"status":"RUNNING","entities":{"sub_jobs":{}}}`, wantErr: ReasonBadResponse},
		{name: "trailing garbage", body: `{"status":"RUNNING"} x`, wantErr: ReasonBadResponse},
		{name: "nested error on 200", status: 200, body: `{"error":{"code":"Common.0011","message":"gone"}}`, wantErr: ReasonNotFound, code: "Common.0011"},
		{name: "top-level error_code", status: 200, body: `{"error_code":"APIG.0308","error_msg":"slow down"}`, wantErr: ReasonThrottled, code: "APIG.0308"},
		{name: "code without message is no error", status: 202, body: `{"code":"Common.0024"}`, wantErr: ReasonBadResponse},
		{name: "number status", body: `{"status": 5}`, want: &Job{Status: "5"}},
		{name: "bool status", body: `{"status": true}`, want: &Job{Status: "true"}},
		{name: "object status", body: `{"status": {"a":1}}`, want: &Job{Status: `{"a":1}`}},
		{name: "status padded", body: `{"status":" SUCCESS\n"}`, want: &Job{Status: "SUCCESS"}},
		{name: "status kept verbatim", body: `{"status":"running"}`, want: &Job{Status: "running"}},
		{name: "job with code and message stays a job", status: 200, body: `{"status":"FAIL","code":"Ecs.0001","message":"m","error_code":"Ecs.0001"}`,
			want: &Job{Status: "FAIL", ErrorCode: "Ecs.0001"}},
		{name: "numbers where strings belong", body: `{"status":"RUNNING","job_id":123,"job_type":false,"error_code":0}`,
			want: &Job{Status: "RUNNING", JobID: "123", JobType: "false", ErrorCode: "0"}},
		{name: "times in other shapes", body: `{"status":"SUCCESS","begin_time":"2026-03-01T18:00:00.123456+08:00","end_time":"2026-03-01 10:05:00.5"}`,
			want: &Job{Status: "SUCCESS", BeginTime: time.Date(2026, 3, 1, 10, 0, 0, 123456000, time.UTC), EndTime: ms(2026, 3, 1, 10, 5, 0, 500)}},
		{name: "times without zone and compact offset", body: `{"status":"SUCCESS","begin_time":"2026-03-01T10:00:00","end_time":"2026-03-01T12:00:00.000+0200"}`,
			want: &Job{Status: "SUCCESS", BeginTime: ms(2026, 3, 1, 10, 0, 0, 0), EndTime: ms(2026, 3, 1, 10, 0, 0, 0)}},
		{name: "epoch milliseconds as string and number", body: `{"status":"SUCCESS","begin_time":"1772359200000","end_time":1772359200123}`,
			want: &Job{Status: "SUCCESS", BeginTime: ms(2026, 3, 1, 10, 0, 0, 0), EndTime: ms(2026, 3, 1, 10, 0, 0, 123)}},
		{name: "unreadable times are zero", body: `{"status":"RUNNING","begin_time":"yesterday","end_time":{"t":1}}`,
			want: &Job{Status: "RUNNING"}},
		{name: "null and blank times are zero", body: `{"status":"RUNNING","begin_time":null,"end_time":"  "}`,
			want: &Job{Status: "RUNNING"}},
		{name: "resource id order server, volume, image", body: `{"status":"RUNNING","entities":{"image_id":"i","volume_id":"v","server_id":"s"}}`,
			want: &Job{Status: "RUNNING", ResourceID: "s"}},
		{name: "volume before image", body: `{"status":"RUNNING","entities":{"image_id":"i","volume_id":"v"}}`,
			want: &Job{Status: "RUNNING", ResourceID: "v"}},
		{name: "nic_id is not a job resource", body: `{"status":"RUNNING","entities":{"nic_id":"n"}}`,
			want: &Job{Status: "RUNNING"}},
		{name: "sub-job resources and fail reasons", body: `{"status":"RUNNING","entities":{"sub_jobs":[
			{"status":"FAIL","entities":{"nic_id":"n1","errorcode_message":"from entities"},"fail_reason":null},
			{"status":"FAIL","entities":{"volume_id":"v2","nic_id":"n2","errorcode_message":"ignored"},"fail_reason":"own"},
			{"status":null,"entities":{"image_id":"i3"}},
			{}
		]}}`,
			want: &Job{Status: "RUNNING", SubJobsTotal: 4, SubJobs: []SubJob{
				{Status: "FAIL", FailReason: "from entities", ResourceID: "n1"},
				{Status: "FAIL", FailReason: "own", ResourceID: "v2"},
				{ResourceID: "i3"},
				{},
			}}},
		{name: "negative sub_jobs_total ignored", body: `{"status":"RUNNING","entities":{"sub_jobs_total":-1,"sub_jobs":[{"status":"INIT"}]}}`,
			want: &Job{Status: "RUNNING", SubJobsTotal: 1, SubJobs: []SubJob{{Status: "INIT"}}}},
		{name: "sub_jobs_total zero wins", body: `{"status":"RUNNING","entities":{"sub_jobs_total":0,"sub_jobs":[{"status":"INIT"}]}}`,
			want: &Job{Status: "RUNNING", SubJobsTotal: 0, SubJobs: []SubJob{{Status: "INIT"}}}},
		{name: "sub_jobs_total larger than the list", body: `{"status":"RUNNING","entities":{"sub_jobs_total":10,"sub_jobs":[{"status":"INIT"}]}}`,
			want: &Job{Status: "RUNNING", SubJobsTotal: 10, SubJobs: []SubJob{{Status: "INIT"}}}},
		{name: "null sub_jobs", body: `{"status":"RUNNING","entities":{"sub_jobs":null,"sub_jobs_total":null}}`,
			want: &Job{Status: "RUNNING"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status := tc.status
			if status == 0 {
				status = 200
			}
			job, err := ParseJob(EVS, status, []byte(tc.body))
			if tc.want != nil {
				if err != nil {
					t.Fatalf("ParseJob: %v", err)
				}
				want := *tc.want
				want.Service = EVS
				for _, d := range diffJob(job, &want) {
					t.Error(d)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseJob = %+v, want an error", job)
			}
			if job != nil {
				t.Errorf("ParseJob returned a job with the error")
			}
			if got := Reason(err); got != tc.wantErr {
				t.Errorf("Reason(%v) = %q, want %q", err, got, tc.wantErr)
			}
			var apiErr *APIError
			if isAPI := errors.As(err, &apiErr); isAPI != (tc.code != "") {
				t.Fatalf("error %v: *APIError %v, want %v", err, isAPI, tc.code != "")
			}
			if apiErr != nil && (apiErr.Code != tc.code || apiErr.StatusCode != status) {
				t.Errorf("APIError %d %s, want %d %s", apiErr.StatusCode, apiErr.Code, status, tc.code)
			}
		})
	}
}

func TestJobFinal(t *testing.T) {
	tests := []struct {
		status string
		want   bool
	}{
		{StatusInit, false}, {StatusRunning, false}, {StatusSuccess, true}, {StatusFail, true},
		{StatusPendingPayment, false}, {"ROLLING_BACK", false}, {"success", false}, {"", false},
	}
	for _, tc := range tests {
		if got := (&Job{Status: tc.status}).Final(); got != tc.want {
			t.Errorf("Final() with status %q = %v, want %v", tc.status, got, tc.want)
		}
	}
	if want := []string{"INIT", "RUNNING", "SUCCESS", "FAIL", "PENDING_PAYMENT"}; !slices.Equal(Statuses, want) {
		t.Errorf("Statuses = %v, want %v", Statuses, want)
	}
}

func TestValidJobID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"2c9eb2c5544cbf6101544f0602af2b4f", true},
		{"job-1_A.b", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{"a/b", false},
		{"a b", false},
		{"a%2F", false},
		{"a?b", false},
		{"ジョブ", false},
		{"a\nb", false},
		{".", false}, // dot segments are not safe in a path: /jobs/.. is /v1/{project}/ after normalisation
		{"..", false},
		{"...", true},
		{".a", true},
	}
	for _, tc := range tests {
		if got := ValidJobID(tc.id); got != tc.want {
			t.Errorf("ValidJobID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

// FuzzParseJob checks that no body makes ParseJob panic and that its answers keep their promises.
// Without -fuzz it runs the seeds: every API fixture and a few odd shapes.
func FuzzParseJob(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(apiFixtures, "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(200, b)
		f.Add(202, b)
	}
	for _, s := range []string{``, `null`, `{}`, `{"status": 5}`, `{"status":[1]}`, `{"status":"  "}`,
		`{"status":"RUNNING","entities":{"sub_jobs":[{"entities":{"sub_jobs":[{}]}}]}}`,
		`{"a":{"b":{"c":{"code":"x","message":"y"}}}}`, `{"status":"X","begin_time":"99999999999999999999"}`,
		`{"status":"X","entities":{"sub_jobs_total":9223372036854775807}}`} {
		f.Add(200, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		job, err := ParseJob(ECS, status, body)
		if err != nil {
			if job != nil {
				t.Fatalf("job and error: %+v, %v", job, err)
			}
			if r := Reason(err); !slices.Contains(Reasons, r) {
				t.Fatalf("Reason(%v) = %q, not in Reasons", err, r)
			}
			var apiErr *APIError
			if errors.As(err, &apiErr) && (apiErr.StatusCode != status || apiErr.Code == "" || apiErr.Message == "") {
				t.Fatalf("APIError %+v for status %d", apiErr, status)
			}
			return
		}
		if job == nil {
			t.Fatal("no job and no error")
		}
		if job.Service != ECS {
			t.Fatalf("Service = %q", job.Service)
		}
		if job.Status == "" || job.Status != strings.TrimSpace(job.Status) {
			t.Fatalf("Status %q is empty or not trimmed", job.Status)
		}
		if job.SubJobsTotal < 0 {
			t.Fatalf("SubJobsTotal = %d", job.SubJobsTotal)
		}
		if job.SubJobs != nil && len(job.SubJobs) == 0 {
			t.Fatal("SubJobs is empty but not nil")
		}
		for _, tm := range []time.Time{job.BeginTime, job.EndTime} {
			if !tm.IsZero() && tm.Location() != time.UTC {
				t.Fatalf("time %v not in UTC", tm)
			}
		}
	})
}

// TestParseJobStatusCapIsTrimmed: a status longer than its cap (an object where the status belongs,
// compacted to text) is cut, and the cut may fall just after a blank; the status must still come out
// trimmed, as every shorter one does (found by FuzzParseJob).
func TestParseJobStatusCapIsTrimmed(t *testing.T) {
	// 63 bytes of the compacted object, then a blank at the cap: `{"x":"000 ... 0 y"}`.
	long := `{"x":"` + strings.Repeat("0", 57) + ` y"}`
	tests := []struct {
		name    string
		service Service
		body    string
		sub     bool // the status checked is the first sub-job's
	}{
		{"v1 job", ECS, `{"status":` + long + `}`, false},
		{"v1 job, key in other case", ECS, `{"stAtus":` + long + `}`, false},
		{"v1 sub-job", ECS, `{"status":"RUNNING","entities":{"sub_jobs":[{"status":` + long + `}]}}`, true},
		{"IMS result", IMS, `{"status":"RUNNING","entities":{"results":[{"image_id":"i","status":` + long + `}]}}`, true},
		{"ELB job", ELB, `{"job":{"status":` + long + `}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := ParseJob(tt.service, 200, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			got := j.Status
			if tt.sub {
				if len(j.SubJobs) == 0 {
					t.Fatal("no sub-job")
				}
				got = j.SubJobs[0].Status
			}
			if got == "" || got != strings.TrimSpace(got) || len(got) > maxStatusBytes {
				t.Errorf("status %q: empty, not trimmed or longer than %d bytes", got, maxStatusBytes)
			}
		})
	}
}
