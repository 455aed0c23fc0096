package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/discovery"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

const project = "0123456789abcdef0123456789abcdef"

// TestLandingPageFirstImpression: what a newcomer sees, one case per message of issue 21.
func TestLandingPageFirstImpression(t *testing.T) {
	neverAsked := collector.JobState{Service: "ecs", Region: "cn-north-4", ProjectID: project, JobID: "new-job"}
	running := collector.JobState{Service: "ecs", Region: "cn-north-4", ProjectID: project, JobID: "run-job", Status: "RUNNING",
		BeginTime: now.Add(-90 * time.Minute), QuerySuccess: true, LastSuccess: now.Add(-5 * time.Second)}
	backedOff := collector.JobState{Service: "ecs", Region: "cn-north-4", ProjectID: project, JobID: "auth-job",
		LastError: "access key backed off after an authentication failure until 2026-03-01T10:05:00Z"}
	authFailure := huaweicloud.Failure{Reason: huaweicloud.ReasonAuth, Region: "cn-north-4", ProjectID: project, Service: "ecs",
		Cause:  "HTTP 401 APIG.0301: Incorrect IAM authentication information: verify aksk signature fail (request id r1)",
		Latest: "access key backed off after an authentication failure until 2026-03-01T10:05:00Z", Since: now.Add(-time.Minute)}
	permFailure := huaweicloud.Failure{Reason: huaweicloud.ReasonPermission, Region: "cn-north-4", ProjectID: project, Service: "cts",
		Cause:  "HTTP 403 APIG.0302: The IAM user is not authorized to access the API: project x is not a project of this account",
		Latest: "service and project backed off after a permission denial: cts in project x until 2026-03-01T10:05:00Z", Since: now.Add(-time.Minute)}
	ctsFailing := discovery.SourceState{Name: "cts/cn-north-4/" + project, Runs: 3,
		LastError: "list cts traces: access key backed off after an authentication failure until 2026-03-01T10:05:00Z", LastErrorAt: now.Add(-10 * time.Second)}
	ctsOK := discovery.SourceState{Name: "cts/cn-north-4/" + project, Runs: 3, Found: 46, LastSuccess: now.Add(-20 * time.Second)}
	metadataNearExpiry := Credentials{ProjectID: project, Region: "cn-north-4",
		CredentialsStatus:  huaweicloud.CredentialsStatus{Source: "metadata", Expires: now.Add(2 * time.Minute), RefreshFailures: 2},
		CredentialsRefresh: huaweicloud.CredentialsRefresh{LastSuccess: now.Add(-8 * time.Minute), LastError: "metadata /openstack/latest/securitykey: HTTP 500: unavailable"}}
	metadataFresh := Credentials{ProjectID: project, Region: "cn-north-4",
		CredentialsStatus:  huaweicloud.CredentialsStatus{Source: "metadata", Expires: now.Add(9 * time.Minute)},
		CredentialsRefresh: huaweicloud.CredentialsRefresh{LastSuccess: now.Add(-time.Minute)}}
	expired := Credentials{ProjectID: project, Region: "cn-north-4",
		CredentialsStatus: huaweicloud.CredentialsStatus{Source: "federated", Expires: now.Add(-3 * time.Second)}}

	tests := []struct {
		name      string
		jobs      []collector.JobState
		lastPull  time.Time
		selfPull  time.Duration
		status    Status
		want, not []string
	}{
		{name: "right after start: never asked is neutral",
			jobs:     []collector.JobState{neverAsked, neverAsked},
			selfPull: 15 * time.Second,
			want: []string{`id="no-pull"`, "No pull of", "Jobs are queried when Prometheus pulls /metrics", "pulls itself every 15s",
				"2 not queried yet", "not queried yet</span>"},
			not: []string{"failing to query", ">failed<", "UNKNOWN"}},
		{name: "after a pull: when, and the answers",
			jobs: []collector.JobState{running, neverAsked}, lastPull: now.Add(-12 * time.Second),
			want: []string{`id="last-pull"`, "12s ago", "2026-03-01T09:59:48Z", "RUNNING: 1", "1 not queried yet", "1h30m0s <span"},
			not:  []string{"failing to query", "pulls itself"}},
		{name: "wrong key: the original 401 above the table",
			jobs: []collector.JobState{backedOff}, lastPull: now,
			status: Status{Failures: []huaweicloud.Failure{authFailure}, Discovery: []discovery.SourceState{ctsFailing}},
			want: []string{`id="failures"`, "Access key of project " + project, "401 APIG.0301", "verify aksk signature fail", "now: access key backed off",
				"1 failing to query", ">failed<", `id="discovery"`, "list cts traces: access key backed off", "never"}},
		{name: "wrong project: a permission denial names project_id",
			jobs: []collector.JobState{running}, lastPull: now,
			status: Status{Failures: []huaweicloud.Failure{permFailure}},
			want:   []string{"cts in project " + project, "403 APIG.0302", "is not a project of this account", "check projects[].project_id"}},
		{name: "discovery failing with nothing watched",
			status: Status{Discovery: []discovery.SourceState{ctsFailing}},
			want:   []string{`id="discovery"`, "cts/cn-north-4/" + project, ">never<", "list cts traces", `id="no-jobs"`, "discovery sources above"}},
		{name: "discovery working",
			status: Status{Discovery: []discovery.SourceState{ctsOK, {Name: "file/cn-north-4/" + project}}},
			want:   []string{">46<", "20s ago", "not run yet"}, not: []string{">never<"}},
		{name: "credentials near expiry with a failing refresh",
			status: Status{Credentials: []Credentials{metadataNearExpiry}},
			want:   []string{`id="credentials"`, "near-expiry", "in 2m0s, refresh due", "HTTP 500: unavailable", "8m0s ago", "<td>2</td>"}},
		{name: "fresh and expired credentials",
			status: Status{Credentials: []Credentials{metadataFresh, expired}},
			want:   []string{"in 9m0s", "expired 3s ago"}, not: []string{"refresh due"}},
		{name: "static credentials do not expire",
			status: Status{Credentials: []Credentials{{ProjectID: project, Region: "cn-north-4", CredentialsStatus: huaweicloud.CredentialsStatus{Source: "static"}}}},
			want:   []string{"does not expire"}, not: []string{"near-expiry"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Pages{Name: "x", MetricsPath: "/metrics", Now: func() time.Time { return now }, SelfPull: tt.selfPull,
				Jobs:     func() []collector.JobState { return append([]collector.JobState(nil), tt.jobs...) },
				LastPull: func() time.Time { return tt.lastPull },
				Status:   func() Status { return tt.status }}
			_, body := get(t, p.LandingHandler(), "/")
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(body, n) {
					t.Errorf("page has %q", n)
				}
			}
			if t.Failed() {
				t.Log(body)
			}
		})
	}
}

// TestLandingPageProjectAndRunTime: the project id is shown whole, and "Run time" cannot wrap.
func TestLandingPageProjectAndRunTime(t *testing.T) {
	p := &Pages{Name: "x", MetricsPath: "/metrics", Now: func() time.Time { return now }, Jobs: func() []collector.JobState {
		return []collector.JobState{{Service: "ecs", ProjectID: project, JobID: "j", Status: "RUNNING", QuerySuccess: true, BeginTime: now.Add(-time.Hour)}}
	}}
	_, body := get(t, p.LandingHandler(), "/")
	for _, want := range []string{`<td class="id project">` + project + `</td>`, `<th class="nowrap" title=`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<br><span class=\"run\">so far") {
		t.Error(`"so far" is still on a line of its own`)
	}
}

func TestPulls(t *testing.T) {
	var p Pulls
	if !p.Last().IsZero() {
		t.Fatal("a pull before any request")
	}
	at := now
	p.now = func() time.Time { return at }
	var served bool
	h := p.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served = true }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if !served || !p.Last().Equal(now) {
		t.Errorf("served %v, last %v, want %v", served, p.Last(), now)
	}
}

func TestNearExpiry(t *testing.T) {
	tests := []struct {
		name    string
		expires time.Duration // from now; 0: does not expire
		fetched time.Duration // before now; 0: unknown
		want    bool
	}{
		{"static", 0, 0, false},
		{"a day left", 24 * time.Hour, time.Hour, false},
		{"39m left of a day: past the SDK's 40 minutes", 39 * time.Minute, 23 * time.Hour, true},
		{"6m left of 10: before half-life", 6 * time.Minute, 4 * time.Minute, false},
		{"4m left of 10: past half-life", 4 * time.Minute, 6 * time.Minute, true},
		{"expired", -time.Second, time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Credentials
			if tt.expires != 0 {
				c.Expires = now.Add(tt.expires)
			}
			if tt.fetched != 0 {
				c.LastSuccess = now.Add(-tt.fetched)
			}
			if got := c.nearExpiry(now); got != tt.want {
				t.Errorf("nearExpiry = %v, want %v", got, tt.want)
			}
		})
	}
}
