package huaweicloud

import (
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestParseJobInvalidUTF8: Go's decoder replaces invalid bytes inside JSON strings, but not inside the raw
// array or object that text keeps where a string belongs; every stored text must be valid UTF-8.
func TestParseJobInvalidUTF8(t *testing.T) {
	tests := []struct {
		name, body string
		field      func(*Job) string
	}{
		{"job_type array", `{"status":"RUNNING","job_type":["create` + "\xff" + `Server"]}`, func(j *Job) string { return j.JobType }},
		{"job_id object", `{"status":"RUNNING","job_id":{"id":"a` + "\xfe\xfe" + `"}}`, func(j *Job) string { return j.JobID }},
		{"status array", `{"status":["RUN` + "\xc3" + `NING"]}`, func(j *Job) string { return j.Status }},
		{"error_code in a string", `{"status":"FAIL","error_code":"Ecs` + "\xff" + `.1"}`, func(j *Job) string { return j.ErrorCode }},
		{"fail_reason object", `{"status":"FAIL","fail_reason":{"m":"` + "\xe2\x82" + `"}}`, func(j *Job) string { return j.FailReason }},
		{"resource id array", `{"status":"FAIL","entities":{"server_id":["` + "\xff" + `"]}}`, func(j *Job) string { return j.ResourceID }},
		{"sub-job type array", `{"status":"FAIL","entities":{"sub_jobs":[{"status":"FAIL","job_type":["x` + "\xff" + `"]}]}}`,
			func(j *Job) string { return firstSubJob(j).JobType }},
		{"ims sub-job result array", `{"status":"FAIL","entities":{"sub_jobs_result":[{"status":["F` + "\xff" + `"]}]}}`,
			func(j *Job) string { return firstSubJob(j).Status }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j, err := ParseJob(ECS, 200, []byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.field(j); !utf8.ValidString(got) || !strings.Contains(got, "\uFFFD") {
				t.Errorf("stored %q: want valid UTF-8 with the bad bytes replaced", got)
			}
		})
	}
	// The exact case of the issue: a compact, readable value.
	j, err := ParseJob(ECS, 200, []byte("{\"status\":\"RUNNING\",\"job_type\":[ \"create\xffServer\" ]}"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `["create` + "\uFFFD" + `Server"]`; j.JobType != want {
		t.Errorf("JobType = %q, want %q", j.JobType, want)
	}
}

// TestParseJobCaps: hostile sizes are cut to the documented caps, on rune boundaries, and reported.
func TestParseJobCaps(t *testing.T) {
	huge := strings.Repeat("x", 100<<10)
	body := `{"status":"FAIL","job_id":"` + strings.Repeat("9", 300) + `","job_type":"` + huge + `",` +
		`"error_code":"` + strings.Repeat("E", 1000) + `","fail_reason":"` + strings.Repeat("é", 900<<10/2) + `",` +
		`"entities":{"server_id":"` + huge + `"}}`
	j, err := ParseJob(ECS, 200, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		field string
		v     string
	}{
		{"job_id", j.JobID}, {"job_type", j.JobType}, {"error_code", j.ErrorCode}, {"fail_reason", j.FailReason}, {"resource_id", j.ResourceID},
	} {
		max := fieldCaps[c.field]
		if len(c.v) > max || len(c.v) < max-utf8.UTFMax || !utf8.ValidString(c.v) {
			t.Errorf("%s: %d bytes (valid %v), want at most %d, cut on a rune boundary", c.field, len(c.v), utf8.ValidString(c.v), max)
		}
		if !slices.Contains(j.Truncated, c.field) {
			t.Errorf("Truncated = %v, want it to name %s", j.Truncated, c.field)
		}
	}
	if len(j.FailReason)%2 != 0 {
		t.Errorf("fail_reason of 2-byte runes cut to %d bytes: inside a rune", len(j.FailReason))
	}

	// One entry per cut text: the parser is the only place that cuts (the collector counts these).
	if want := []string{"job_id", "job_type", "error_code", "fail_reason", "resource_id"}; !slices.Equal(j.Truncated, want) {
		t.Errorf("Truncated = %v, want %v", j.Truncated, want)
	}

	// Short texts are not reported.
	j, err = ParseJob(ECS, 200, []byte(`{"status":"RUNNING","job_type":"createServer"}`))
	if err != nil || j.Truncated != nil {
		t.Errorf("short job: %v, Truncated %v", err, j.Truncated)
	}
}

// TestTruncatedOncePerText: Truncated names each cut text once: a CCE or ELB job id, read once as the
// job's and once as the top entry, is one text (it counted as sub_job_id and job_id before), and the
// texts of sub-jobs past maxSubJobs are not read, so not counted ("sub_jobs" says they were dropped).
func TestTruncatedOncePerText(t *testing.T) {
	long := strings.Repeat("u", 300)
	var subs strings.Builder
	for i := range maxSubJobs + 5 {
		if i > 0 {
			subs.WriteByte(',')
		}
		subs.WriteString(`{"status":"FAIL","fail_reason":"` + long + `"}`)
	}
	for _, tc := range []struct {
		name string
		svc  Service
		body string
		want map[string]int
	}{
		{"cce job id", CCE, `{"metadata":{"uid":"` + long + `"},"status":{"phase":"Running"}}`, map[string]int{"job_id": 1}},
		{"elb job id", ELB, `{"job":{"job_id":"` + long + `","status":"RUNNING"}}`, map[string]int{"job_id": 1}},
		{"elb sub-job id", ELB, `{"job":{"job_id":"j","status":"RUNNING","sub_jobs":[{"job_id":"` + long + `","status":"RUNNING"}]}}`,
			map[string]int{"sub_job_id": 1}},
		{"sub-jobs past the cap", ECS, `{"status":"FAIL","entities":{"sub_jobs":[` + subs.String() + `]}}`,
			map[string]int{"fail_reason": maxSubJobs, "sub_jobs": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := ParseJob(tc.svc, 200, []byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, f := range j.Truncated {
				got[f]++
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("Truncated counts %v, want %v", got, tc.want)
			}
		})
	}
}

// TestParseJobSubJobCap: at most maxSubJobs sub-jobs are kept; the total still says how many there are.
func TestParseJobSubJobCap(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"status":"RUNNING","entities":{"sub_jobs":[`)
	for i := range maxSubJobs + 5 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"status":"SUCCESS","job_id":"` + strconv.Itoa(i) + `"}`)
	}
	b.WriteString(`]}}`)
	j, err := ParseJob(ECS, 200, []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(j.SubJobs) != maxSubJobs || j.SubJobsTotal != maxSubJobs+5 || !slices.Contains(j.Truncated, "sub_jobs") {
		t.Errorf("%d sub-jobs kept, total %d, Truncated %v", len(j.SubJobs), j.SubJobsTotal, j.Truncated)
	}
	if j.SubJobs[maxSubJobs-1].JobID != strconv.Itoa(maxSubJobs-1) {
		t.Errorf("last kept sub-job %q: not the first ones in order", j.SubJobs[maxSubJobs-1].JobID)
	}
}

// TestAPIErrorMessageCap: a 900 KB error_msg is not kept whole in an error that is logged on every query.
func TestAPIErrorMessageCap(t *testing.T) {
	msg := strings.Repeat("ü", 900<<10/2) // 900 KB of 2-byte runes
	body := []byte(`{"error_code":"Ecs.0001","error_msg":"` + msg + `"}`)
	for _, tc := range []struct {
		name string
		err  func() *APIError
	}{
		{"error answer", func() *APIError {
			return newAPIError(&http.Response{StatusCode: 400, Header: http.Header{}}, body, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		}},
		{"error body on 2xx", func() *APIError {
			_, err := ParseJob(ECS, 200, body)
			e, _ := err.(*APIError)
			return e
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.err()
			if e == nil {
				t.Fatal("no *APIError")
			}
			if len(e.Message) > maxMessageBytes || len(e.Message) < maxMessageBytes-1 || !utf8.ValidString(e.Message) {
				t.Errorf("message of %d bytes (valid %v), want at most %d", len(e.Message), utf8.ValidString(e.Message), maxMessageBytes)
			}
			if len(e.Error()) > 1024 {
				t.Errorf("Error() is %d bytes", len(e.Error()))
			}
		})
	}
}

func TestProgressRatio(t *testing.T) {
	tests := []struct {
		in   float64
		want float64
		ok   bool
	}{
		{0, 0, true}, {0.45, 0.45, true}, {1, 1, true}, // the documented ratio
		{45, 0.45, true}, {100, 1, true}, // read as a percentage
		{250, 1, true}, {math.Inf(1), 1, true}, // clamped
		{-0.1, 0, false}, {math.Inf(-1), 0, false}, {math.NaN(), 0, false},
	}
	for _, tc := range tests {
		got, ok := progressRatio(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("progressRatio(%v) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestParseJobIMSEntities: IMS's entities in the shapes the SDK model allows and in odd ones.
func TestParseJobIMSEntities(t *testing.T) {
	tests := []struct {
		name, entities string
		want           Job
	}{
		{"progress as string", `{"process_percent":"0.5"}`, Job{Progress: 0.5, HasProgress: true}},
		{"progress null", `{"process_percent":null}`, Job{}},
		{"progress negative", `{"process_percent":-3}`, Job{}},
		{"progress garbage", `{"process_percent":"half"}`, Job{}},
		{"progress object", `{"process_percent":{"v":1}}`, Job{}},
		{"sub_jobs_result not a list", `{"sub_jobs_result":{"job_id":"a"}}`, Job{}},
		{"sub_jobs_list only", `{"sub_jobs_list":["a","b","a",""]}`, Job{SubJobsTotal: 2, SubJobs: []SubJob{{JobID: "a"}, {JobID: "b"}}}},
		{"results of a batch", `{"results":[{"image_id":"i1","project_id":"p1","status":"SUCCESS"},{"image_id":"i1","project_id":"p2","status":"FAIL"}]}`,
			Job{ResourceID: "", SubJobsTotal: 2, SubJobs: []SubJob{{Status: "SUCCESS", ResourceID: "i1"}, {Status: "FAIL", ResourceID: "i1"}}}},
		{"sub_jobs wins over IMS lists", `{"sub_jobs":[{"status":"INIT"}],"sub_jobs_list":["a","b"],"results":[{"status":"FAIL"}]}`,
			Job{SubJobsTotal: 1, SubJobs: []SubJob{{Status: "INIT"}}}},
		{"sub_jobs_result wins over results", `{"sub_jobs_result":[{"job_id":"a","status":"RUNNING"}],"results":[{"status":"FAIL"}]}`,
			Job{SubJobsTotal: 1, SubJobs: []SubJob{{JobID: "a", Status: "RUNNING"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j, err := ParseJob(IMS, 200, []byte(`{"status":"RUNNING","entities":`+tc.entities+`}`))
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			want.Service, want.Status = IMS, "RUNNING"
			for _, d := range diffJob(j, &want) {
				t.Error(d)
			}
		})
	}
}

// TestListTracesTexts: trace texts are valid UTF-8 and capped like job texts.
func TestListTracesTexts(t *testing.T) {
	g := newGateway(t, nil, script(answer{status: 200, body: `{"traces":[{"trace_id":"` + strings.Repeat("t", 500) +
		`","trace_name":["create` + "\xff" + `Server"],"resource_id":"r` + "\xff" + `","response":{"job_id":"` + "\xfe" + `"},"code":"200"}],` +
		`"meta_data":{"count":1,"marker":"m"}}`}))
	page, err := newTestClient().ListTraces(t.Context(), g.target(CTS, goodCreds), TraceQuery{})
	if err != nil {
		t.Fatal(err)
	}
	tr := page.Traces[0]
	for name, v := range map[string]string{"trace_id": tr.TraceID, "trace_name": tr.TraceName, "resource_id": tr.ResourceID, "response": tr.Response} {
		if !utf8.ValidString(v) {
			t.Errorf("%s %q is not valid UTF-8", name, v)
		}
	}
	if len(tr.TraceID) != maxIDBytes || tr.TraceName != `["create`+"\uFFFD"+`Server"]` {
		t.Errorf("trace id of %d bytes, name %q", len(tr.TraceID), tr.TraceName)
	}
}

func firstSubJob(j *Job) SubJob {
	if len(j.SubJobs) == 0 {
		return SubJob{}
	}
	return j.SubJobs[0]
}
