package huaweicloud

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// benchJobBody is an ECS batch job with two sub-jobs: the fixture ecs-batch-partial-failure.json cut to
// its first two sub-jobs, compact as the simulator sends it (the fixtures are indented copies of the
// documentation's examples; that the cloud answers compact JSON is an assumption, and indentation
// only adds work to decoding).
func benchJobBody(b *testing.B) []byte {
	b.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFixture(b, "ecs-batch-partial-failure.json"), &m); err != nil {
		b.Fatal(err)
	}
	e := m["entities"].(map[string]any)
	e["sub_jobs"] = e["sub_jobs"].([]any)[:2]
	e["sub_jobs_total"] = 2
	body, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	return body
}

type nopObserver struct{}

func (nopObserver) ObserveRequest(Service, string, string, time.Duration) {}

// BenchmarkGetJob measures one GetJob the way the exporter sends it (credentials from a provider, an
// observer, the adaptive limiter) against a loopback server that only writes a canned answer, so that
// the figures are the client's cost plus net/http's, not the server's.
func BenchmarkGetJob(b *testing.B) {
	body := benchJobBody(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "0123456789abcdef0123456789abcdef")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	c := NewClient(srv.Client(), WithUserAgent("huaweicloud-job-exporter/bench"), WithObserver(nopObserver{}),
		WithAdaptiveRateLimit())
	tg := Target{Service: ECS, Region: testRegion, ProjectID: testProject, Endpoint: srv.URL,
		Provider: StaticCredentials(goodCreds)}
	ctx := b.Context()
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		j, err := c.GetJob(ctx, tg, testJobID)
		if err != nil || len(j.SubJobs) != 2 {
			b.Fatalf("GetJob: %v", err)
		}
	}
	// The CPU time of the whole process (client, server, garbage collector) per call is a steadier
	// figure than ns/op on a machine shared with other work.
	if d := processCPU() - cpu; d > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkSign signs the request GetJob sends.
func BenchmarkSign(b *testing.B) {
	req, err := http.NewRequest(http.MethodGet, "https://ecs.ap-southeast-1.myhuaweicloud.com/v1/"+testProject+"/jobs/"+testJobID, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("User-Agent", "huaweicloud-job-exporter/bench")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Project-Id", testProject)
	req.Header.Set("Host", req.URL.Host)
	now := time.Date(2026, 3, 1, 10, 15, 30, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		// A fresh date every time, as in GetJob, so the date is formatted and not reused.
		req.Header.Del(headerDate)
		if err := Sign(req, nil, goodCreds, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseJob decodes the answer of BenchmarkGetJob.
func BenchmarkParseJob(b *testing.B) {
	body := benchJobBody(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		j, err := ParseJob(ECS, http.StatusOK, body)
		if err != nil || len(j.SubJobs) != 2 {
			b.Fatalf("ParseJob: %v", err)
		}
	}
}
