package web

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
)

var now = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

func TestLandingPage(t *testing.T) {
	jobs := []collector.JobState{
		{Service: "ecs", Region: "ap-southeast-1", ProjectID: "0123456789abcdef0123456789abcdef", JobID: "ok-job", JobType: "createServer",
			Status: "SUCCESS", BeginTime: now.Add(-5 * time.Minute), EndTime: now.Add(-time.Minute), QuerySuccess: true},
		{Service: "evs", Region: "ap-southeast-1", ProjectID: "0123456789abcdef0123456789abcdef", JobID: "failed-job", JobType: "batchCreateVolume",
			Status: "FAIL", SubJobs: 3, SubJobsFail: 1, ErrorCode: "EVS.2024", FailReason: "<script>alert(1)</script>", QuerySuccess: true},
		{Service: "ecs", Region: "ap-southeast-1", ProjectID: "0123456789abcdef0123456789abcdef", JobID: "unreachable-job",
			QuerySuccess: false, LastError: "query ecs job: APIG.0301 Incorrect IAM authentication information"},
		{Service: "ecs", Region: "ap-southeast-1", ProjectID: "0123456789abcdef0123456789abcdef", JobID: "vanished-job", JobType: "createServer",
			Status: "RUNNING", Vanished: true, QuerySuccess: false},
	}
	p := &Pages{Name: "Huawei Cloud Job Exporter", Version: "v1", MetricsPath: "/metrics", Demo: true,
		Jobs: func() []collector.JobState { return append([]collector.JobState(nil), jobs...) }, Now: func() time.Time { return now }}
	code, body := get(t, p.LandingHandler(), "/")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{
		`href="/metrics"`, `href="/config"`, `href="/-/healthy"`, `id="demo-banner"`,
		"4 watched", "FAIL: 1", "SUCCESS: 1", "2 failing to query", "VANISHED (last RUNNING)",
		"EVS.2024", "(1 failed)", "5m0s ago", ">4m0s<", "APIG.0301",
		"&lt;script&gt;", // failure reasons come from the API: escaped, never markup
	} {
		if !strings.Contains(body, want) {
			t.Errorf("landing page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("landing page renders API text as HTML")
	}
	// Failing queries first, then failed jobs, then the rest.
	if a, b, c := strings.Index(body, "unreachable-job"), strings.Index(body, "failed-job"), strings.Index(body, "ok-job"); !(a < b && b < c) {
		t.Errorf("row order: unreachable %d, failed %d, ok %d", a, b, c)
	}
	if code, _ := get(t, p.LandingHandler(), "/nothing-here"); code != http.StatusNotFound {
		t.Errorf("unknown path: status %d, want 404", code)
	}
}

func TestLandingPageBoundsRows(t *testing.T) {
	var jobs []collector.JobState
	for i := range maxRows + 10 {
		jobs = append(jobs, collector.JobState{Service: "ecs", JobID: fmt.Sprintf("job-%05d", i), Status: "SUCCESS", QuerySuccess: true})
	}
	p := &Pages{Name: "x", MetricsPath: "/metrics", Jobs: func() []collector.JobState { return jobs }}
	_, body := get(t, p.LandingHandler(), "/")
	if n := strings.Count(body, "<tr>") - 1; n != maxRows {
		t.Errorf("rows = %d, want %d", n, maxRows)
	}
	if !strings.Contains(body, fmt.Sprintf("first %d of %d", maxRows, maxRows+10)) {
		t.Error("no note that the table is cut")
	}
}

func TestConfigPage(t *testing.T) {
	const yml = "credentials:\n  secret_key: <secret>\n"
	p := &Pages{Name: "x", MetricsPath: "/metrics", Config: func() string { return yml }}
	tests := []struct {
		name, target, accept string
		wantType, wantBody   string
	}{
		{"browser", "/config", "text/html,application/xhtml+xml,*/*;q=0.8", "text/html", "secret_key: &lt;secret&gt;"},
		{"curl", "/config", "*/*", "text/plain", yml},
		{"no accept header", "/config", "", "text/plain", yml},
		{"format=yaml from a browser", "/config?format=yaml", "text/html", "text/plain", yml},
		{"format=html from curl", "/config?format=html", "*/*", "text/html", "secret_key: &lt;secret&gt;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, tt.target, nil)
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			p.ConfigHandler().ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), tt.wantType) {
				t.Fatalf("%d %s, want 200 %s", rec.Code, rec.Header().Get("Content-Type"), tt.wantType)
			}
			if tt.wantType == "text/plain" && body != tt.wantBody || !strings.Contains(body, tt.wantBody) {
				t.Errorf("body %q, want %q", body, tt.wantBody)
			}
		})
	}
}
