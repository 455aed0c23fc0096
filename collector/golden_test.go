package collector

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/metrics")

const (
	goldenAK      = "HPUAEXAMPLEAK0000001"
	goldenSK      = "ExampleSecretKey0000000000000000000000001"
	goldenProject = "0123456789abcdef0123456789abcdef"
)

// apiCase is one answer of the fake job API.
type apiCase struct {
	name    string
	service huaweicloud.Service
	jobID   string
	fixture string // file in testdata/api, or "" for an empty body
	status  int
	header  map[string]string
	delay   time.Duration // answer this late (past the scrape deadline in the slow case)
	sk      string        // secret key the exporter signs with; a wrong one must fail
	now     time.Time     // the collector's clock when not goldenNow: a fixture recorded later than it
}

// fakeJobAPI serves fixtures at their service's job path (cases are keyed by it), verifying every request's signature
// the way the API gateway does.
func fakeJobAPI(t *testing.T, cases map[string]apiCase) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if err := huaweicloud.Verify(r, nil, func(ak string) (string, bool) { return goldenSK, ak == goldenAK }, time.Now(), 15*time.Minute); err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error_code":"APIG.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail","request_id":"4f0c7e6a"}`))
			return
		}
		// Each job is served at its own service's path only (the service table's Path): asking a CCE
		// job at the v1 path is a 404, as it would be in the cloud.
		c, ok := cases[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if c.delay > 0 {
			select {
			case <-time.After(c.delay):
			case <-r.Context().Done():
				return
			}
		}
		var body []byte
		if c.fixture != "" {
			var err error
			body, err = os.ReadFile(filepath.Join("..", "testdata", "api", c.fixture))
			if err != nil {
				t.Errorf("fixture: %v", err)
			}
		}
		for k, v := range c.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req-"+c.name)
		w.WriteHeader(c.status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

// goldenNow is "now" for the collector: durations of unfinished jobs are measured against it.
var goldenNow = time.Date(2026, 3, 1, 10, 15, 30, 0, time.UTC)

// imsNow is "now" for the IMS examples (testdata/api/ims-*.json), recorded on 2026-04-02: against
// goldenNow their times would lie a month ahead of the clock, which the collector clamps (clock.go).
var imsNow = time.Date(2026, 4, 2, 4, 0, 0, 0, time.UTC)

func TestGoldenExposition(t *testing.T) {
	cases := []apiCase{
		// The three example answers of the seed documents.
		{name: "ecs-createServer-success", service: huaweicloud.ECS, jobID: "", fixture: "ecs-createServer-success.json", status: 200},
		{name: "evs-createVolume-running", service: huaweicloud.EVS, jobID: "", fixture: "evs-createVolume-running.json", status: 200},
		{name: "evs-batchCreateVolume-success", service: huaweicloud.EVS, jobID: "", fixture: "evs-batchCreateVolume-success.json", status: 200},
		{name: "ecs-fail", service: huaweicloud.ECS, jobID: "", fixture: "ecs-fail.json", status: 200},
		{name: "ecs-batch-partial-failure", service: huaweicloud.ECS, jobID: "", fixture: "ecs-batch-partial-failure.json", status: 200},
		{name: "ecs-pending-payment", service: huaweicloud.ECS, jobID: "", fixture: "ecs-pending-payment.json", status: 200},
		{name: "ecs-init", service: huaweicloud.ECS, jobID: "", fixture: "ecs-init.json", status: 200},
		{name: "ecs-unknown-status", service: huaweicloud.ECS, jobID: "", fixture: "ecs-unknown-status.json", status: 200},
		{name: "bms-createServer-running", service: huaweicloud.BMS, jobID: "", fixture: "bms-createServer-running.json", status: 200},
		{name: "ims-createImage-success", service: huaweicloud.IMS, jobID: "", fixture: "ims-createImage-success.json", status: 200},
		{name: "ims-importOvaImage-success", service: huaweicloud.IMS, jobID: "", fixture: "ims-importOvaImage-success.json", status: 200, now: imsNow},
		{name: "ims-volumesToSysDataImages-running", service: huaweicloud.IMS, jobID: "", fixture: "ims-volumesToSysDataImages-running.json", status: 200, now: imsNow},
		// The services of the second half of the service table (sources: testdata/api/README.md).
		{name: "eip-createBatchPublicip-success", service: huaweicloud.EIP, fixture: "eip-createBatchPublicip-success.json", status: 200},
		{name: "eip-batch-partial-failure", service: huaweicloud.EIP, fixture: "eip-batch-partial-failure.json", status: 200},
		{name: "eip-running", service: huaweicloud.EIP, fixture: "eip-running.json", status: 200},
		{name: "sdrs-createProtectionGroupNoCG-success", service: huaweicloud.SDRS, fixture: "sdrs-createProtectionGroupNoCG-success.json", status: 200},
		{name: "sdrs-failover-partial-failure", service: huaweicloud.SDRS, fixture: "sdrs-failover-partial-failure.json", status: 200},
		{name: "cce-CreateCluster-running", service: huaweicloud.CCE, fixture: "cce-CreateCluster-running.json", status: 200},
		{name: "cce-CreateNode-fail", service: huaweicloud.CCE, fixture: "cce-CreateNode-fail.json", status: 200},
		{name: "cce-DeleteCluster-success", service: huaweicloud.CCE, fixture: "cce-DeleteCluster-success.json", status: 200},
		{name: "elb-upgradeLoadbalancer-success", service: huaweicloud.ELB, fixture: "elb-upgradeLoadbalancer-success.json", status: 200},
		{name: "elb-cloneLoadbalancer-partial-failure", service: huaweicloud.ELB, fixture: "elb-cloneLoadbalancer-partial-failure.json", status: 200},
		{name: "elb-rollbacking", service: huaweicloud.ELB, fixture: "elb-rollbacking.json", status: 200},
		{name: "cfw-createFirewall-success", service: huaweicloud.CFW, fixture: "cfw-createFirewall-success.json", status: 200},
		{name: "cfw-createFirewall-running", service: huaweicloud.CFW, fixture: "cfw-createFirewall-running.json", status: 200},
		{name: "cfw-createFirewall-failed", service: huaweicloud.CFW, fixture: "cfw-createFirewall-failed.json", status: 200},
		// Answers that are not a job: each leaves query_success 0 and nothing else.
		{name: "evs-error-body", service: huaweicloud.EVS, jobID: "ff80808288d41e1b018937c1d6ae0f81", fixture: "evs-error.json", status: 400},
		{name: "not-found-404", service: huaweicloud.ECS, jobID: "ff80808288d41e1b018937c1d6ae0f82", fixture: "", status: 404},
		{name: "job-gone-common-0011", service: huaweicloud.ECS, jobID: "ff80808288d41e1b018937c1d6ae0f83", fixture: "ecs-job-not-found.json", status: 400},
		{name: "unauthorized-401", service: huaweicloud.ECS, jobID: "ff80808288d41e1b018937c1d6ae0f84", fixture: "apig-auth.json", status: 401, sk: "WrongSecretKey"},
		{name: "throttled-429", service: huaweicloud.ECS, jobID: "ff80808288d41e1b018937c1d6ae0f85", fixture: "apig-throttled.json", status: 429},
		{name: "flow-control-202", service: huaweicloud.ECS, jobID: "ff80808288d41e1b018937c1d6ae0f86", fixture: "ecs-flow-control-202.json", status: 202},
		{name: "server-error-500", service: huaweicloud.ECS, jobID: "ff80808288d41e1b018937c1d6ae0f87", fixture: "", status: 500},
		{name: "malformed-json", service: huaweicloud.ECS, jobID: "ff80808288d41e1b018937c1d6ae0f88", fixture: "malformed.json", status: 200},
		{name: "slow-past-deadline", service: huaweicloud.ECS, jobID: "ff80808288d41e1b018937c1d6ae0f89", fixture: "ecs-init.json", status: 200, delay: 5 * time.Second},
	}
	byPath := map[string]apiCase{}
	for i, c := range cases {
		if c.jobID == "" {
			// A job answer must carry the id that was asked for, so the id comes from the fixture.
			cases[i].jobID = fixtureJobID(t, c.service, c.fixture)
			c = cases[i]
		}
		byPath[huaweicloud.JobPath(c.service, goldenProject, c.jobID)] = c
	}
	srv, _ := fakeJobAPI(t, byPath)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sk := goldenSK
			if c.sk != "" {
				sk = c.sk
			}
			client := huaweicloud.NewClient(srv.Client(), huaweicloud.WithRetry(2, time.Millisecond, 2*time.Millisecond))
			now := goldenNow
			if !c.now.IsZero() {
				now = c.now
			}
			col := New(client, Options{Concurrency: 2, FinalJobTTL: 24 * time.Hour}, nil, WithClock(func() time.Time { return now }))
			col.SetJobs("config", []WatchedJob{{
				Target: huaweicloud.Target{Service: c.service, Region: "ap-southeast-1", ProjectID: goldenProject, Endpoint: srv.URL,
					Credentials: huaweicloud.Credentials{AccessKey: goldenAK, SecretKey: sk}},
				JobID: c.jobID,
			}})
			ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
			defer cancel()
			col.Refresh(ctx)

			golden := filepath.Join("..", "testdata", "metrics", c.name+".prom")
			if *update {
				writeGolden(t, col, golden)
			}
			f, err := os.Open(golden)
			if err != nil {
				t.Fatalf("golden file (run go test ./collector -update to create): %v", err)
			}
			defer f.Close()
			if err := testutil.CollectAndCompare(col, f); err != nil {
				t.Fatal(err)
			}
			// The /metrics fast path must say exactly what the prometheus.Collector says.
			var fast bytes.Buffer
			if err := col.WriteText(&fast); err != nil {
				t.Fatal(err)
			}
			if err := testutil.CollectAndCompare(col, &fast); err != nil {
				t.Fatalf("WriteText differs from Collect: %v", err)
			}
			problems, err := testutil.CollectAndLint(col)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("promlint: %s: %s", p.Metric, p.Text)
			}
		})
	}
}

// fixtureJobID reads the job id of a fixture with its service's parser (the id is job_id, metadata.uid,
// job.job_id or data.id depending on the service).
func fixtureJobID(t *testing.T, svc huaweicloud.Service, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "api", name))
	if err != nil {
		t.Fatal(err)
	}
	j, err := huaweicloud.ParseJob(svc, 200, b)
	if err != nil || j.JobID == "" {
		t.Fatalf("fixture %s has no job id: %v", name, err)
	}
	return j.JobID
}

// collectedText is what c exposes, gathered by a pedantic registry and written in the text format.
func collectedText(t *testing.T, c prometheus.Collector) []byte {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func writeGolden(t *testing.T, c prometheus.Collector, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, collectedText(t, c), 0o644); err != nil {
		t.Fatal(err)
	}
}
