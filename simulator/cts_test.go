package simulator

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// TestCTSPaging walks the traces page by page with from/to/next and sees every trace exactly once,
// newest first, including traces created out of time order and sharing a millisecond.
func TestCTSPaging(t *testing.T) {
	e := newEnv(t, Options{Seed: 20})
	type created struct {
		svc   huaweicloud.Service
		begin time.Time
	}
	jobs := map[string]created{}
	order := rand.New(rand.NewPCG(1, 2)).Perm(57)
	for _, i := range order {
		svc := huaweicloud.JobServices[i%4]
		begin := base.Add(-time.Duration(i) * 7 * time.Second)
		jobs[e.sim.CreateJob(JobSpec{Service: svc, Begin: begin, SubJobs: i % 2})] = created{svc, begin}
	}
	for range 3 { // three traces in the same millisecond
		jobs[e.sim.CreateJob(JobSpec{Service: huaweicloud.EVS, Begin: base.Add(-100 * time.Second)})] = created{huaweicloud.EVS, base.Add(-100 * time.Second)}
	}
	old := e.sim.CreateJob(JobSpec{Service: huaweicloud.ECS, Begin: base.Add(-2 * time.Hour)}) // outside the window
	e.clock.Set(base.Add(time.Minute))
	c := e.client()
	cts := e.target(huaweicloud.CTS)

	walk := func(t *testing.T, q huaweicloud.TraceQuery) ([]huaweicloud.Trace, int) {
		var all []huaweicloud.Trace
		for page := 1; ; page++ {
			p, err := c.ListTraces(context.Background(), cts, q)
			if err != nil {
				t.Fatal(err)
			}
			if p.Count != len(p.Traces) || len(p.Traces) > q.Limit {
				t.Fatalf("page %d: count %d, %d traces", page, p.Count, len(p.Traces))
			}
			all = append(all, p.Traces...)
			if p.Marker == "" {
				return all, page
			}
			if p.Marker != p.Traces[len(p.Traces)-1].TraceID {
				t.Fatalf("marker %s is not the last trace", p.Marker)
			}
			q.Next = p.Marker
			if page > 100 {
				t.Fatal("endless paging")
			}
		}
	}
	for _, tc := range []struct {
		name    string
		q       huaweicloud.TraceQuery
		want    func(id string, j created) bool
		wantLen int
	}{
		{"all, pages of 10", huaweicloud.TraceQuery{Limit: 10, From: base.Add(-time.Hour), To: base.Add(time.Second)}, func(string, created) bool { return true }, 60},
		{"all, pages of 7", huaweicloud.TraceQuery{Limit: 7, From: base.Add(-time.Hour), To: base.Add(time.Second)}, func(string, created) bool { return true }, 60},
		{"one page of 200", huaweicloud.TraceQuery{Limit: 200, From: base.Add(-time.Hour), To: base.Add(time.Second)}, func(string, created) bool { return true }, 60},
		{"ECS only", huaweicloud.TraceQuery{Limit: 4, ServiceType: "ECS", From: base.Add(-time.Hour), To: base.Add(time.Second)}, func(_ string, j created) bool { return j.svc == huaweicloud.ECS }, 15},
		{"EVS only", huaweicloud.TraceQuery{Limit: 5, ServiceType: "EVS", From: base.Add(-time.Hour), To: base.Add(time.Second)}, func(_ string, j created) bool { return j.svc == huaweicloud.EVS }, 17},
		// Exclusive bounds: from = the trace at -7s, to = the trace at 0.
		{"exclusive bounds", huaweicloud.TraceQuery{Limit: 3, From: base.Add(-70 * time.Second), To: base},
			func(_ string, j created) bool {
				return j.begin.After(base.Add(-70*time.Second)) && j.begin.Before(base)
			}, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, pages := walk(t, tc.q)
			if want := (tc.wantLen + tc.q.Limit - 1) / tc.q.Limit; pages != want {
				t.Errorf("%d pages, want %d: the last full page must not hand out a marker", pages, want)
			}
			seen := map[string]bool{}
			for i, tr := range got {
				var resp struct {
					JobID string `json:"job_id"`
				}
				if err := json.Unmarshal([]byte(tr.Response), &resp); err != nil {
					t.Fatalf("response %q: %v", tr.Response, err)
				}
				j, ok := jobs[resp.JobID]
				if !ok || seen[resp.JobID] || !tc.want(resp.JobID, j) {
					t.Fatalf("trace %d for job %s (known %t, seen %t)", i, resp.JobID, ok, seen[resp.JobID])
				}
				seen[resp.JobID] = true
				if i > 0 && tr.Time.After(got[i-1].Time) {
					t.Errorf("trace %d is newer than trace %d", i, i-1)
				}
				if !tr.Time.Equal(j.begin.Truncate(time.Millisecond)) || tr.Code != "202" || tr.ServiceType != strings.ToUpper(string(j.svc)) ||
					tr.ResourceType != string(j.svc) || tr.ResourceID == "" || tr.TraceName == "" || len(tr.TraceID) != 36 {
					t.Errorf("trace %+v for %+v", tr, j)
				}
			}
			if len(seen) != tc.wantLen {
				t.Errorf("%d traces, want %d", len(seen), tc.wantLen)
			}
			if seen[old] {
				t.Error("trace outside the window")
			}
		})
	}
}

// TestCTSDefaultsAndErrors covers the default window and limit, the raw trace shape and parameter errors.
func TestCTSDefaultsAndErrors(t *testing.T) {
	e := newEnv(t, Options{Seed: 21})
	for i := range 15 {
		e.sim.CreateJob(JobSpec{Service: huaweicloud.BMS, JobType: "baremetalBatchCreate", Begin: base.Add(-time.Duration(i) * time.Minute)})
	}
	e.sim.CreateJob(JobSpec{Service: huaweicloud.IMS, Begin: base.Add(-90 * time.Minute)})
	path := "/v3/" + testProject + "/traces"
	get := func(q url.Values) (int, map[string]any) {
		code, _, body := e.raw(t, path+"?"+q.Encode(), e.creds(), e.clock.Now())
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		return code, m
	}
	code, m := get(url.Values{"trace_type": {"system"}})
	traces, _ := m["traces"].([]any)
	meta, _ := m["meta_data"].(map[string]any)
	if code != 200 || len(traces) != 10 || meta["count"] != 10.0 || meta["marker"] == "" {
		t.Fatalf("default page: %d %v", code, m)
	}
	tr := traces[0].(map[string]any)
	for k, want := range map[string]any{"trace_type": "ApiCall", "trace_rating": "normal", "trace_name": "createBareMetalServers", "service_type": "BMS",
		"resource_type": "bms", "code": "202", "time": float64(base.UnixMilli()), "record_time": float64(base.UnixMilli())} {
		if tr[k] != want {
			t.Errorf("trace %s = %v, want %v", k, tr[k], want)
		}
	}
	if u, _ := tr["user"].(map[string]any); u["access_key_id"] != testAK || u["name"] == "" {
		t.Errorf("user %v", tr["user"])
	}
	// model_traces.go: resource_url has no endpoint; resource_account_id only for cross-account operations.
	if u, _ := tr["resource_url"].(string); !strings.HasPrefix(u, "/v1/"+testProject+"/baremetalservers/") || strings.Contains(u, "://") {
		t.Errorf("resource_url %q, want the resource path without the endpoint", u)
	}
	if v, ok := tr["resource_account_id"]; ok {
		t.Errorf("resource_account_id %v on an operation in the caller's own account", v)
	}
	// The default window is the last hour: 15 BMS traces, but -60m is on the exclusive bound.
	code, m = get(url.Values{"trace_type": {"system"}, "limit": {"200"}})
	if n := len(m["traces"].([]any)); code != 200 || n != 15 {
		t.Errorf("last hour: %d traces", n)
	}
	// The last page's marker is null (model_meta_data.go), not "".
	if marker, ok := m["meta_data"].(map[string]any)["marker"]; !ok || marker != nil {
		t.Errorf("last page marker %#v (present %t), want null", marker, ok)
	}
	code, m = get(url.Values{"trace_type": {"data"}})
	if code != 200 || len(m["traces"].([]any)) != 0 {
		t.Errorf("data traces: %v", m)
	}
	// trace_id overrides every other filter.
	id := tr["trace_id"].(string)
	code, m = get(url.Values{"trace_type": {"system"}, "trace_id": {id}, "service_type": {"ECS"}})
	if n := len(m["traces"].([]any)); code != 200 || n != 1 {
		t.Errorf("trace_id: %v", m)
	}
	for _, tc := range []struct {
		name string
		q    url.Values
		word string
	}{
		{"no trace_type", url.Values{"limit": {"10"}}, "trace_type"},
		{"bad trace_type", url.Values{"trace_type": {"both"}}, "trace_type"},
		{"limit 0", url.Values{"trace_type": {"system"}, "limit": {"0"}}, "limit"},
		{"limit 201", url.Values{"trace_type": {"system"}, "limit": {"201"}}, "limit"},
		{"from not ms", url.Values{"trace_type": {"system"}, "from": {"yesterday"}}, "from"},
		{"to not ms", url.Values{"trace_type": {"system"}, "to": {"1.5"}}, "to"},
		{"unknown marker", url.Values{"trace_type": {"system"}, "next": {"00000000-0000-4000-8000-000000000000"}}, "next"},
		{"bad marker", url.Values{"trace_type": {"system"}, "next": {"zzz"}}, "next"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, m := get(tc.q)
			msg, _ := m["error_msg"].(string)
			if code != 400 || m["error_code"] != "CTS.0202" || !strings.Contains(msg, tc.word) {
				t.Errorf("%d %v", code, m)
			}
		})
	}
	// Through the client: a 400 is a client error.
	_, err := e.client().ListTraces(context.Background(), e.target(huaweicloud.CTS), huaweicloud.TraceQuery{Next: "nope"})
	if huaweicloud.Reason(err) != "client_error" {
		t.Errorf("bad marker via client: %v", err)
	}
}

// TestClientReadsEitherLastPageMarker keeps the exporter's client safe for both last-page markers: null,
// which the SDK documents and the simulator sends, and "", which earlier simulators sent and a service
// might. Either ends the paging; a real marker is passed through.
func TestClientReadsEitherLastPageMarker(t *testing.T) {
	for _, tc := range []struct {
		name, meta, want string
	}{
		{"null", `{"count":1,"marker":null}`, ""},
		{"empty string", `{"count":1,"marker":""}`, ""},
		{"absent", `{"count":1}`, ""},
		{"next page", `{"count":1,"marker":"4a3b2c1d-0000-4000-8000-000000000002"}`, "4a3b2c1d-0000-4000-8000-000000000002"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", contentType)
				_, _ = io.WriteString(w, `{"traces":[{"trace_id":"4a3b2c1d-0000-4000-8000-000000000001","trace_name":"createServer",`+
					`"service_type":"ECS","code":"202","response":"{\"job_id\":\"j1\"}","time":1772359200000}],"meta_data":`+tc.meta+`}`)
			}))
			t.Cleanup(srv.Close)
			c := huaweicloud.NewClient(srv.Client(), huaweicloud.WithRetry(1, 0, 0))
			target := huaweicloud.Target{Service: huaweicloud.CTS, Region: testRegion, ProjectID: testProject, Endpoint: srv.URL,
				Credentials: huaweicloud.Credentials{AccessKey: testAK, SecretKey: testSK}}
			p, err := c.ListTraces(context.Background(), target, huaweicloud.TraceQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Marker != tc.want || len(p.Traces) != 1 || p.Traces[0].TraceName != "createServer" {
				t.Errorf("page %+v, want marker %q", p, tc.want)
			}
		})
	}
}
