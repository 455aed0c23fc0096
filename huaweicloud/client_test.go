package huaweicloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

const (
	testAK      = "HPUATESTAK0000000001"
	testSK      = "TestSecretKey000000000000000000000000001"
	testAK2     = "HPUATESTAK0000000002"
	testSK2     = "TestSecretKey000000000000000000000000002"
	testProject = "0123456789abcdef0123456789abcdef"
	testRegion  = "ap-southeast-1"
	testJobID   = "2c9eb2c5544cbf6101544f0602af2b4f"
)

type observation struct {
	service Service
	region  string
	code    string
}

type recordingObserver struct {
	mu    sync.Mutex
	calls []observation
}

func (o *recordingObserver) ObserveRequest(service Service, region, code string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if d < 0 {
		code += "(negative duration)"
	}
	o.calls = append(o.calls, observation{service, region, code})
}

func (o *recordingObserver) codes() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, c := range o.calls {
		out = append(out, c.code)
	}
	return out
}

// seenRequest is what the fake gateway recorded of one request.
type seenRequest struct {
	method, path, escapedPath, host string
	query                           url.Values
	header                          http.Header
	verifyErr                       error
}

// gateway is a fake Huawei API gateway on loopback: it checks every signature with Verify and answers
// 401 APIG.0301 like the real one when it fails, else hands the request to respond.
type gateway struct {
	srv     *httptest.Server
	now     func() time.Time
	keys    map[string]string
	respond func(w http.ResponseWriter, r *http.Request, n int) // n counts requests from 1
	onAuth  func(n int)                                         // called before a 401 is written

	mu   sync.Mutex
	reqs []seenRequest
}

func newGateway(t *testing.T, now func() time.Time, respond func(w http.ResponseWriter, r *http.Request, n int)) *gateway {
	t.Helper()
	if now == nil {
		now = time.Now
	}
	g := &gateway{now: now, respond: respond, keys: map[string]string{testAK: testSK, testAK2: testSK2}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	verr := Verify(r, body, func(ak string) (string, bool) { sk, ok := g.keys[ak]; return sk, ok }, g.now(), 15*time.Minute)
	g.mu.Lock()
	g.reqs = append(g.reqs, seenRequest{method: r.Method, path: r.URL.Path, escapedPath: r.URL.EscapedPath(), host: r.Host,
		query: r.URL.Query(), header: r.Header.Clone(), verifyErr: verr})
	n := len(g.reqs)
	g.mu.Unlock()
	var apiErr *APIError
	if errors.As(verr, &apiErr) {
		if g.onAuth != nil {
			g.onAuth(n)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", fmt.Sprintf("auth-%d", n))
		w.WriteHeader(apiErr.StatusCode)
		fmt.Fprintf(w, `{"error_code":%q,"error_msg":%q,"request_id":"auth-%d"}`, apiErr.Code, apiErr.Message, n)
		return
	}
	g.respond(w, r, n)
}

func (g *gateway) requests() []seenRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.reqs)
}

func (g *gateway) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.reqs)
}

func (g *gateway) target(svc Service, creds Credentials) Target {
	return Target{Service: svc, Region: testRegion, ProjectID: testProject, Endpoint: g.srv.URL, Credentials: creds}
}

var goodCreds = Credentials{AccessKey: testAK, SecretKey: testSK}

// answer is one canned HTTP answer.
type answer struct {
	status int
	body   string
	header map[string]string
}

func (a answer) write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

// script answers request n with answers[n-1], repeating the last one.
func script(answers ...answer) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, n int) {
		answers[min(n, len(answers))-1].write(w)
	}
}

func newTestClient(opts ...Option) *Client {
	return NewClient(nil, append([]Option{WithRetry(4, time.Millisecond, 5*time.Millisecond)}, opts...)...)
}

// sleepRecorder replaces Client.sleep: it records the waits and returns at once.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func fixtureString(t *testing.T, name string) string { return string(readFixture(t, name)) }

func TestGetJobRequest(t *testing.T) {
	tests := []struct {
		name       string
		opts       []Option
		creds      Credentials
		wantUA     string
		wantSigned string
	}{
		{name: "custom user agent", opts: []Option{WithUserAgent("job-exporter-test/1.2")}, creds: goodCreds,
			wantUA: "job-exporter-test/1.2", wantSigned: "host;user-agent;x-project-id;x-sdk-date"},
		{name: "default user agent", creds: goodCreds,
			wantUA: "huaweicloud-job-exporter", wantSigned: "host;user-agent;x-project-id;x-sdk-date"},
		{name: "temporary credentials", opts: []Option{WithUserAgent("ua")},
			creds:  Credentials{AccessKey: testAK, SecretKey: testSK, SecurityToken: "tok+/="},
			wantUA: "ua", wantSigned: "host;user-agent;x-project-id;x-sdk-date;x-security-token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := fakeclock.New(time.Date(2026, 3, 1, 10, 15, 30, 0, time.UTC))
			g := newGateway(t, clock.Now, script(answer{status: 200, body: fixtureString(t, "ecs-createServer-success.json")}))
			obs := &recordingObserver{}
			c := newTestClient(append([]Option{WithClock(clock.Now), WithObserver(obs)}, tc.opts...)...)

			job, err := c.GetJob(context.Background(), g.target(ECS, tc.creds), testJobID)
			if err != nil {
				t.Fatalf("GetJob: %v", err)
			}
			for _, d := range diffJob(job, jobFixtures["ecs-createServer-success.json"].want) {
				t.Error(d)
			}
			reqs := g.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.verifyErr != nil {
				t.Errorf("signature rejected: %v", r.verifyErr)
			}
			if r.method != "GET" || r.path != "/v1/"+testProject+"/jobs/"+testJobID || len(r.query) != 0 {
				t.Errorf("request %s %s ?%v", r.method, r.path, r.query)
			}
			srvHost := strings.TrimPrefix(g.srv.URL, "http://")
			wantHeaders := map[string]string{
				"User-Agent":       tc.wantUA,
				"X-Project-Id":     testProject,
				"X-Sdk-Date":       "20260301T101530Z",
				"Content-Type":     "application/json",
				"X-Security-Token": tc.creds.SecurityToken,
			}
			for k, want := range wantHeaders {
				if got := r.header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if r.host != srvHost {
				t.Errorf("Host = %q, want %q", r.host, srvHost)
			}
			ak, signed, _ := parseAuthorization(t, r.header.Get("Authorization"))
			if ak != testAK || signed != tc.wantSigned {
				t.Errorf("Authorization Access=%s SignedHeaders=%s, want %s %s", ak, signed, testAK, tc.wantSigned)
			}
			if got, want := obs.calls, []observation{{ECS, testRegion, "200"}}; !reflect.DeepEqual(got, want) {
				t.Errorf("observed %v, want %v", got, want)
			}
		})
	}
}

func TestGetJobEndpointWithPath(t *testing.T) {
	g := newGateway(t, nil, script(answer{status: 200, body: fixtureString(t, "evs-createVolume-running.json")}))
	c := newTestClient()
	for _, suffix := range []string{"/gw", "/gw/"} {
		tg := g.target(EVS, goodCreds)
		tg.Endpoint += suffix
		job, err := c.GetJob(context.Background(), tg, "4010a32d535527910153552b492c0002")
		if err != nil {
			t.Fatalf("endpoint %s: %v", tg.Endpoint, err)
		}
		if job.Service != EVS || job.Status != StatusRunning {
			t.Errorf("job %+v", job)
		}
	}
	for i, r := range g.requests() {
		if want := "/gw/v1/" + testProject + "/jobs/4010a32d535527910153552b492c0002"; r.path != want || r.verifyErr != nil {
			t.Errorf("request %d: path %q (want %q), verify %v", i, r.path, want, r.verifyErr)
		}
	}
}

func TestGetJobRetries(t *testing.T) {
	job := answer{status: 200, body: `{"status":"RUNNING","job_id":"` + testJobID + `","job_type":"createServer"}`}
	throttled429 := answer{status: 429, body: `{"error_code":"APIG.0308","error_msg":"The throttling threshold has been reached","request_id":"r"}`,
		header: map[string]string{"Retry-After": "0"}}
	flow202 := answer{status: 202, body: `{"code":"Common.0024","message":"Flow limit exceeded."}`}
	srvErr := answer{status: 500, body: `{"error":{"code":"Common.0500","message":"internal"}}`}
	tests := []struct {
		name      string
		attempts  int
		answers   []answer
		wantCodes []string // observed HTTP codes, one per request
		wantErr   *APIError
		reason    string
		waits     []time.Duration // exact waits; nil: jittered back-off within its bounds
	}{
		{name: "429 then 200", attempts: 4, answers: []answer{throttled429, job}, wantCodes: []string{"429", "200"}},
		{name: "Retry-After honoured", attempts: 4,
			answers:   []answer{{status: 429, body: `{"error_code":"APIG.0308","error_msg":"slow"}`, header: map[string]string{"Retry-After": "3"}}, job},
			wantCodes: []string{"429", "200"}, waits: []time.Duration{3 * time.Second}},
		{name: "Retry-After as HTTP date", attempts: 4,
			answers:   []answer{{status: 503, body: "busy", header: map[string]string{"Retry-After": "Sun, 01 Mar 2026 10:15:32 GMT"}}, job},
			wantCodes: []string{"503", "200"}, waits: []time.Duration{2 * time.Second}},
		{name: "202 Common.0024 then 200", attempts: 4, answers: []answer{flow202, job}, wantCodes: []string{"202", "200"}},
		{name: "200 carrying APIG.0308 retried", attempts: 4,
			answers: []answer{{status: 200, body: `{"error_code":"APIG.0308","error_msg":"slow"}`}, job}, wantCodes: []string{"200", "200"}},
		{name: "always 202 Common.0024", attempts: 3, answers: []answer{flow202}, wantCodes: []string{"202", "202", "202"},
			wantErr: &APIError{StatusCode: 202, Code: "Common.0024", Message: "Flow limit exceeded."}, reason: ReasonThrottled},
		{name: "always 429", attempts: 4, answers: []answer{throttled429}, wantCodes: []string{"429", "429", "429", "429"},
			wantErr: &APIError{StatusCode: 429, Code: "APIG.0308", Message: "The throttling threshold has been reached"}, reason: ReasonThrottled},
		{name: "500 then 200", attempts: 4, answers: []answer{srvErr, job}, wantCodes: []string{"500", "200"}},
		{name: "always 503", attempts: 2, answers: []answer{{status: 503, body: "<html>Service Unavailable</html>", header: map[string]string{"X-Request-Id": "rid-503"}}},
			wantCodes: []string{"503", "503"}, wantErr: &APIError{StatusCode: 503, Message: "<html>Service Unavailable</html>", RequestID: "rid-503"}, reason: ReasonServerError},
		{name: "one attempt only", attempts: 1, answers: []answer{srvErr, job}, wantCodes: []string{"500"},
			wantErr: &APIError{StatusCode: 500, Code: "Common.0500", Message: "internal"}, reason: ReasonServerError},
		{name: "400 Common.0011 not retried", attempts: 4,
			answers:   []answer{{status: 400, body: fixtureString(t, "ecs-job-not-found.json"), header: map[string]string{"X-Request-Id": "rid-1"}}, job},
			wantCodes: []string{"400"}, wantErr: &APIError{StatusCode: 400, Code: "Common.0011", Message: "Failed to query system tasks.", RequestID: "rid-1"}, reason: ReasonNotFound},
		{name: "bare 404 not retried, not a job answer", attempts: 4, answers: []answer{{status: 404, body: ""}, job}, wantCodes: []string{"404"},
			wantErr: &APIError{StatusCode: 404}, reason: ReasonClientError},
		{name: "gateway 404 APIG.0101 is the endpoint", attempts: 4,
			answers:   []answer{{status: 404, body: `{"error_code":"APIG.0101","error_msg":"The API does not exist or has not been published in the environment"}`}, job},
			wantCodes: []string{"404"}, wantErr: &APIError{StatusCode: 404, Code: "APIG.0101", Message: "The API does not exist or has not been published in the environment"},
			reason: ReasonEndpoint},
		{name: "404 with the service's own code", attempts: 4,
			answers:   []answer{{status: 404, body: `{"error":{"code":"Ecs.0114","message":"job gone"}}`}, job},
			wantCodes: []string{"404"}, wantErr: &APIError{StatusCode: 404, Code: "Ecs.0114", Message: "job gone"}, reason: ReasonNotFound},
		{name: "Retry-After 999999 clamped", attempts: 2,
			answers:   []answer{{status: 429, body: `{"error_code":"APIG.0308","error_msg":"slow"}`, header: map[string]string{"Retry-After": "999999"}}, job},
			wantCodes: []string{"429", "200"}, waits: []time.Duration{maxRetryAfter}},
		{name: "Retry-After in 2100 clamped", attempts: 2,
			answers:   []answer{{status: 503, body: "busy", header: map[string]string{"Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"}}, job},
			wantCodes: []string{"503", "200"}, waits: []time.Duration{maxRetryAfter}},
		{name: "400 other code not retried", attempts: 4,
			answers:   []answer{{status: 400, body: `{"error":{"code":"Common.0021","message":"bad"}}`}, job},
			wantCodes: []string{"400"}, wantErr: &APIError{StatusCode: 400, Code: "Common.0021", Message: "bad"}, reason: ReasonClientError},
		{name: "403 not retried", attempts: 4, answers: []answer{{status: 403, body: `{"error_code":"APIG.0302","error_msg":"forbidden"}`}, job},
			wantCodes: []string{"403"}, wantErr: &APIError{StatusCode: 403, Code: "APIG.0302", Message: "forbidden"}, reason: ReasonPermission},
		{name: "500 then 401 stops", attempts: 4,
			answers:   []answer{srvErr, {status: 401, body: `{"error_code":"APIG.0301","error_msg":"no"}`}, job},
			wantCodes: []string{"500", "401"}, wantErr: &APIError{StatusCode: 401, Code: "APIG.0301", Message: "no"}, reason: ReasonAuth},
		{name: "429 then 400", attempts: 4, answers: []answer{throttled429, {status: 400, body: `{"code":"X.1","message":"m"}`}},
			wantCodes: []string{"429", "400"}, wantErr: &APIError{StatusCode: 400, Code: "X.1", Message: "m"}, reason: ReasonClientError},
		{name: "200 job gone not retried", attempts: 4, answers: []answer{{status: 200, body: fixtureString(t, "ecs-job-not-found.json")}, job},
			wantCodes: []string{"200"}, wantErr: &APIError{StatusCode: 200, Code: "Common.0011", Message: "Failed to query system tasks."}, reason: ReasonNotFound},
		{name: "200 EVS error body", attempts: 4, answers: []answer{{status: 200, body: fixtureString(t, "evs-error.json")}, job},
			wantCodes: []string{"200"}, wantErr: &APIError{StatusCode: 200, Code: "EVS.5400", Message: "The job does not exist or has been deleted."}, reason: ReasonBadResponse},
		{name: "200 malformed not retried", attempts: 4, answers: []answer{{status: 200, body: fixtureString(t, "malformed.json")}, job},
			wantCodes: []string{"200"}, reason: ReasonBadResponse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := fakeclock.New(time.Date(2026, 3, 1, 10, 15, 30, 0, time.UTC))
			g := newGateway(t, clock.Now, script(tc.answers...))
			obs := &recordingObserver{}
			c := NewClient(nil, WithRetry(tc.attempts, time.Millisecond, 5*time.Millisecond), WithClock(clock.Now), WithObserver(obs))
			rec := &sleepRecorder{}
			c.sleep = rec.sleep

			job, err := c.GetJob(context.Background(), g.target(ECS, goodCreds), testJobID)
			if got := obs.codes(); !slices.Equal(got, tc.wantCodes) {
				t.Errorf("observed codes %v, want %v", got, tc.wantCodes)
			}
			if got := g.count(); got != len(tc.wantCodes) {
				t.Errorf("%d requests, want %d", got, len(tc.wantCodes))
			}
			for i, r := range g.requests() {
				if r.verifyErr != nil {
					t.Errorf("request %d: signature rejected: %v", i+1, r.verifyErr)
				}
			}
			if len(rec.waits) != len(tc.wantCodes)-1 {
				t.Errorf("slept %d times (%v), want %d", len(rec.waits), rec.waits, len(tc.wantCodes)-1)
			}
			if tc.waits != nil {
				if !slices.Equal(rec.waits, tc.waits) {
					t.Errorf("waits %v, want %v", rec.waits, tc.waits)
				}
			} else {
				for i, w := range rec.waits {
					if bound := min(time.Millisecond<<i, 5*time.Millisecond); w < 0 || w > bound {
						t.Errorf("wait %d = %v, want within [0, %v]", i+1, w, bound)
					}
				}
			}
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("GetJob: %v", err)
				}
				if job.Status != StatusRunning || job.JobID != testJobID || job.Service != ECS {
					t.Errorf("job %+v", job)
				}
				return
			}
			if err == nil {
				t.Fatalf("GetJob = %+v, want an error", job)
			}
			if got := Reason(err); got != tc.reason {
				t.Errorf("Reason(%v) = %q, want %q", err, got, tc.reason)
			}
			if tc.wantErr != nil {
				var apiErr *APIError
				if !errors.As(err, &apiErr) {
					t.Fatalf("error %v (%T) is not an *APIError", err, err)
				}
				got := *apiErr
				if got.Service != ECS {
					t.Errorf("APIError.Service = %q, want ecs", got.Service)
				}
				got.Service, got.Host = "", ""
				if got != *tc.wantErr {
					t.Errorf("APIError %+v, want %+v", got, *tc.wantErr)
				}
			}
		})
	}
}

// TestGetJobRetryRealSleep runs a retry through the real sleep: Retry-After: 0 does not hold it up.
func TestGetJobRetryRealSleep(t *testing.T) {
	g := newGateway(t, nil, script(
		answer{status: 429, body: `{"error_code":"APIG.0308","error_msg":"slow"}`, header: map[string]string{"Retry-After": "0"}},
		answer{status: 200, body: fixtureString(t, "ecs-init.json")}))
	obs := &recordingObserver{}
	c := newTestClient(WithObserver(obs))
	start := time.Now()
	job, err := c.GetJob(context.Background(), g.target(ECS, goodCreds), "ff80808288d41e1b018937c1d6ae4000")
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != StatusInit || !slices.Equal(obs.codes(), []string{"429", "200"}) {
		t.Errorf("status %s, codes %v", job.Status, obs.codes())
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestGetJobRetryAfterBeyondDeadline(t *testing.T) {
	g := newGateway(t, nil, script(answer{status: 429, body: `{"error_code":"APIG.0308","error_msg":"slow"}`,
		header: map[string]string{"Retry-After": "5"}}))
	c := newTestClient()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetJob(ctx, g.target(ECS, goodCreds), testJobID)
	elapsed := time.Since(start)
	if got := Reason(err); got != ReasonThrottled {
		t.Errorf("Reason(%v) = %q, want throttled", err, got)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != 5*time.Second {
		t.Errorf("error %v, want an *APIError with RetryAfter 5s", err)
	}
	if elapsed > 2*time.Second {
		t.Errorf("gave up after %v, want well before the deadline", elapsed)
	}
	if ctx.Err() != nil && elapsed < 200*time.Millisecond {
		t.Errorf("context ended before the deadline")
	}
	if n := g.count(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// TestGetJobRetryAfterVersusDeadline: the client sleeps for Retry-After only when the deadline leaves room
// for another attempt after it.
func TestGetJobRetryAfterVersusDeadline(t *testing.T) {
	tests := []struct {
		name      string
		timeout   time.Duration
		wantWaits []time.Duration
		wantReqs  int
	}{
		{"deadline before Retry-After", 2 * time.Second, nil, 1},
		{"deadline after Retry-After", time.Minute, []time.Duration{5 * time.Second}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, nil, script(answer{status: 429, body: `{"error_code":"APIG.0308","error_msg":"slow"}`,
				header: map[string]string{"Retry-After": "5"}}))
			c := NewClient(nil, WithRetry(2, time.Millisecond, time.Millisecond))
			rec := &sleepRecorder{}
			c.sleep = rec.sleep
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			_, err := c.GetJob(ctx, g.target(ECS, goodCreds), testJobID)
			if Reason(err) != ReasonThrottled {
				t.Errorf("err %v, want throttled", err)
			}
			if !slices.Equal(rec.waits, tc.wantWaits) {
				t.Errorf("waits %v, want %v", rec.waits, tc.wantWaits)
			}
			if n := g.count(); n != tc.wantReqs {
				t.Errorf("%d requests, want %d", n, tc.wantReqs)
			}
		})
	}
}

// TestGetJobCanceledWhileWaiting: a context canceled during the back-off ends the call with the last
// answer's error, not with a generic cancellation.
func TestGetJobCanceledWhileWaiting(t *testing.T) {
	g := newGateway(t, nil, script(answer{status: 503, body: `{"error":{"code":"Common.0503","message":"busy"}}`,
		header: map[string]string{"Retry-After": "5"}}))
	c := newTestClient()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.GetJob(ctx, g.target(ECS, goodCreds), testJobID)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %v", d)
	}
	if got := Reason(err); got != ReasonServerError {
		t.Errorf("Reason(%v) = %q, want server_error", err, got)
	}
	if n := g.count(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestBackoffBounds(t *testing.T) {
	c := NewClient(nil, WithRetry(10, 10*time.Millisecond, 100*time.Millisecond))
	for attempt, bound := range map[int]time.Duration{1: 10 * time.Millisecond, 2: 20 * time.Millisecond, 4: 80 * time.Millisecond,
		5: 100 * time.Millisecond, 40: 100 * time.Millisecond, 41: 100 * time.Millisecond, 42: 100 * time.Millisecond, 64: 100 * time.Millisecond, 100: 100 * time.Millisecond} {
		var maxSeen time.Duration
		for range 2000 {
			d := c.backoff(attempt)
			if d < 0 || d > bound {
				t.Fatalf("backoff(%d) = %v, want within [0, %v]", attempt, d, bound)
			}
			maxSeen = max(maxSeen, d)
		}
		if maxSeen < bound/2 {
			t.Errorf("backoff(%d) never exceeded %v in 2000 draws: not jittered over [0, %v]", attempt, maxSeen, bound)
		}
	}
	if d := NewClient(nil, WithRetry(3, 0, 0)).backoff(2); d != 0 {
		t.Errorf("backoff without bounds = %v, want 0", d)
	}
	if got := NewClient(nil, WithRetry(0, 0, 0)).attempts; got != 1 {
		t.Errorf("WithRetry(0) attempts = %d, want 1", got)
	}
}

func TestAuthBackoff(t *testing.T) {
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := fakeclock.New(start)
	g := newGateway(t, clock.Now, script(answer{status: 200, body: fixtureString(t, "ecs-init.json")}))
	obs := &recordingObserver{}
	c := newTestClient(WithClock(clock.Now), WithObserver(obs), WithAuthBackoff(time.Minute, 10*time.Minute))
	wrong := g.target(ECS, Credentials{AccessKey: testAK, SecretKey: "not the secret"})
	right := g.target(ECS, goodCreds)
	ctx := context.Background()

	// expectBackoff checks that a call is refused without a request, until the given time.
	expectBackoff := func(step string, tg Target, until time.Time) {
		t.Helper()
		before := g.count()
		_, err := c.GetJob(ctx, tg, testJobID)
		if !errors.Is(err, ErrAuthBackoff) || Reason(err) != ReasonAuthBackoff {
			t.Fatalf("%s: err %v, want ErrAuthBackoff", step, err)
		}
		if want := until.Format(time.RFC3339); !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %q does not name the end of the back-off %s", step, err, want)
		}
		if g.count() != before {
			t.Errorf("%s: a request was sent during the back-off", step)
		}
	}
	// expectAuthFailure checks that exactly one request is sent and rejected.
	expectAuthFailure := func(step string) {
		t.Helper()
		before := g.count()
		_, err := c.GetJob(ctx, wrong, testJobID)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Code != "APIG.0301" || Reason(err) != ReasonAuth {
			t.Fatalf("%s: err %v, want 401 APIG.0301", step, err)
		}
		if !strings.Contains(apiErr.Message, "signature mismatch") {
			t.Errorf("%s: message %q", step, apiErr.Message)
		}
		if n := g.count() - before; n != 1 {
			t.Errorf("%s: %d requests, want 1", step, n)
		}
	}

	expectAuthFailure("first failure")
	expectBackoff("right after", wrong, start.Add(time.Minute))
	expectBackoff("the right secret is backed off too: the key is", right, start.Add(time.Minute))
	if _, err := c.ListTraces(ctx, g.target(CTS, Credentials{AccessKey: testAK, SecretKey: testSK}), TraceQuery{}); !errors.Is(err, ErrAuthBackoff) {
		t.Errorf("ListTraces during the back-off: %v", err)
	}
	// Another access key is not affected.
	if _, err := c.GetJob(ctx, g.target(ECS, Credentials{AccessKey: testAK2, SecretKey: testSK2}), testJobID); err != nil {
		t.Errorf("other key: %v", err)
	}
	clock.Add(time.Minute - time.Second)
	expectBackoff("one second before the end", wrong, start.Add(time.Minute))

	// Every further failure doubles the rest, up to the maximum, and a third failure never comes within
	// five minutes of the one before the last: failures at 0, 1m, 5m (not 3m), 9m, 17m, 27m, 37m.
	end := start.Add(time.Minute)
	for i, rest := range []time.Duration{4 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute} {
		clock.Set(end) // exactly at the end of the back-off a request goes
		expectAuthFailure(fmt.Sprintf("failure %d", i+2))
		end = clock.Now().Add(rest)
		clock.Add(rest - time.Second)
		expectBackoff(fmt.Sprintf("after failure %d", i+2), wrong, end)
	}

	// The right secret after the back-off proves the key and resets the count ...
	clock.Set(end)
	if _, err := c.GetJob(ctx, right, testJobID); err != nil {
		t.Fatalf("right secret after the back-off: %v", err)
	}
	// ... so the next failure rests the initial minute again, even for a key known to work.
	expectAuthFailure("failure of a proven key")
	expectBackoff("after the reset", right, clock.Now().Add(time.Minute))

	codes := obs.codes()
	if got := len(codes); got != g.count() {
		t.Errorf("observer saw %d attempts, server %d requests", got, g.count())
	}
}

func TestAuthProbeRejected(t *testing.T) {
	g := newGateway(t, nil, script(answer{status: 200, body: fixtureString(t, "ecs-init.json")}))
	g.onAuth = func(int) { time.Sleep(100 * time.Millisecond) } // keep the probe in flight while the others queue
	c := newTestClient()
	tg := g.target(ECS, Credentials{AccessKey: testAK, SecretKey: "wrong"})

	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	startGate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startGate
			_, errs[i] = c.GetJob(context.Background(), tg, testJobID)
		}()
	}
	close(startGate)
	wg.Wait()

	if got := g.count(); got != 1 {
		t.Errorf("%d requests reached the gateway, want exactly 1", got)
	}
	var auth, backoff int
	for _, err := range errs {
		switch {
		case Reason(err) == ReasonAuth:
			auth++
		case errors.Is(err, ErrAuthBackoff):
			backoff++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if auth != 1 || backoff != n-1 {
		t.Errorf("%d auth failures and %d back-offs, want 1 and %d", auth, backoff, n-1)
	}
}

func TestAuthProbeAccepted(t *testing.T) {
	var inflight, overlapped atomic.Int32
	body := fixtureString(t, "ecs-init.json")
	g := newGateway(t, nil, func(w http.ResponseWriter, _ *http.Request, n int) {
		inflight.Add(1)
		defer inflight.Add(-1)
		if n == 1 {
			time.Sleep(100 * time.Millisecond)
			if inflight.Load() != 1 {
				overlapped.Store(1)
			}
		}
		answer{status: 200, body: body}.write(w)
	})
	c := newTestClient()
	tg := g.target(ECS, goodCreds)

	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	startGate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startGate
			_, errs[i] = c.GetJob(context.Background(), tg, testJobID)
		}()
	}
	close(startGate)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if got := g.count(); got != n {
		t.Errorf("%d requests, want %d", got, n)
	}
	if overlapped.Load() != 0 {
		t.Error("other requests were sent while the probe of an unproven key was in flight")
	}
}

// TestAnswerProvesKey: any answer that is not an authentication failure shows that the gateway accepted
// the key, so later calls no longer wait for a probe and run concurrently.
func TestAnswerProvesKey(t *testing.T) {
	tests := []struct {
		name  string
		first answer
	}{
		{"200", answer{status: 200, body: `{"status":"RUNNING"}`}},
		{"404", answer{status: 404, body: `{"error":{"code":"Common.0011","message":"gone"}}`}},
		{"400", answer{status: 400, body: `{"error":{"code":"Common.0021","message":"bad"}}`}},
		{"throttled", answer{status: 429, body: `{"error_code":"APIG.0308","error_msg":"slow"}`}},
		{"500", answer{status: 500, body: `oops`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			arrivals := 0
			both := make(chan struct{})
			var sawBoth atomic.Int32
			g := newGateway(t, nil, func(w http.ResponseWriter, _ *http.Request, n int) {
				if n == 1 {
					tc.first.write(w)
					return
				}
				mu.Lock()
				arrivals++
				if arrivals == 2 {
					close(both)
				}
				mu.Unlock()
				select {
				case <-both:
					sawBoth.Add(1)
				case <-time.After(2 * time.Second):
				}
				answer{status: 200, body: `{"status":"RUNNING"}`}.write(w)
			})
			c := NewClient(nil, WithRetry(1, time.Millisecond, time.Millisecond))
			tg := g.target(ECS, goodCreds)
			if _, err := c.GetJob(context.Background(), tg, testJobID); (err == nil) != (tc.first.status == 200) {
				t.Fatalf("first call: %v", err)
			}
			var wg sync.WaitGroup
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := c.GetJob(context.Background(), tg, testJobID); err != nil {
						t.Errorf("GetJob: %v", err)
					}
				}()
			}
			wg.Wait()
			if sawBoth.Load() != 2 {
				t.Errorf("the two calls after a %s answer were serialised: the answer did not prove the key", tc.name)
			}
		})
	}
}

// TestAuthProbeWaiterDeadline: a call waiting for another call's probe gives up with its context.
func TestAuthProbeWaiterDeadline(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	body := fixtureString(t, "ecs-init.json")
	g := newGateway(t, nil, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			close(arrived)
			<-release
		}
		answer{status: 200, body: body}.write(w)
	})
	c := newTestClient()
	tg := g.target(ECS, goodCreds)

	probeErr := make(chan error, 1)
	go func() {
		_, err := c.GetJob(context.Background(), tg, testJobID)
		probeErr <- err
	}()
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		close(release)
		t.Fatal("the probe did not arrive")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.GetJob(ctx, tg, testJobID)
	if !errors.Is(err, context.DeadlineExceeded) || Reason(err) != ReasonTimeout {
		t.Errorf("waiter: %v, want a deadline error", err)
	}
	close(release)
	if err := <-probeErr; err != nil {
		t.Errorf("probe: %v", err)
	}
	if _, err := c.GetJob(context.Background(), tg, testJobID); err != nil {
		t.Errorf("after the probe: %v", err)
	}
	if got := g.count(); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
}

// TestAuthProbeWithoutAnswer: a probe that gets no answer proves nothing and backs nothing off.
func TestAuthProbeWithoutAnswer(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	g := newGateway(t, nil, script(answer{status: 200, body: fixtureString(t, "ecs-init.json")}))
	obs := &recordingObserver{}
	c := newTestClient(WithObserver(obs))

	tg := g.target(ECS, goodCreds)
	tg.Endpoint = deadURL
	if _, err := c.GetJob(context.Background(), tg, testJobID); Reason(err) != ReasonNetwork {
		t.Errorf("closed server: %v (reason %q), want network", err, Reason(err))
	}
	if _, err := c.GetJob(context.Background(), g.target(ECS, goodCreds), testJobID); err != nil {
		t.Errorf("after a probe without answer: %v", err)
	}
	if got, want := obs.codes(), []string{"error", "200"}; !slices.Equal(got, want) {
		t.Errorf("observed %v, want %v (network errors are not retried)", got, want)
	}
}

func TestGetJobBodyCap(t *testing.T) {
	const limit = 100
	jobBody := func(size int) string {
		b := `{"status":"RUNNING","job_id":"j"}`
		return b + strings.Repeat(" ", size-len(b))
	}
	tests := []struct {
		name   string
		answer answer
		reason string // "" success
		codes  []string
	}{
		{"exactly the cap", answer{status: 200, body: jobBody(limit)}, "", []string{"200"}},
		{"one byte over", answer{status: 200, body: jobBody(limit + 1)}, ReasonBadResponse, []string{"200"}},
		{"1000 bytes", answer{status: 200, body: jobBody(1000)}, ReasonBadResponse, []string{"200"}},
		{"big error body", answer{status: 400, body: `{"error_code":"Common.0021","error_msg":"m"}` + strings.Repeat(" ", 1000)}, ReasonClientError, []string{"400"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, nil, script(tc.answer))
			obs := &recordingObserver{}
			c := newTestClient(WithMaxBodyBytes(limit), WithObserver(obs))
			job, err := c.GetJob(context.Background(), g.target(ECS, goodCreds), testJobID)
			if got := Reason(err); got != tc.reason {
				t.Errorf("Reason(%v) = %q, want %q", err, got, tc.reason)
			}
			if tc.reason == "" && (job == nil || job.Status != StatusRunning) {
				t.Errorf("job %+v", job)
			}
			if !slices.Equal(obs.codes(), tc.codes) {
				t.Errorf("observed %v, want %v", obs.codes(), tc.codes)
			}
		})
	}
}

func TestGetJobContextDeadline(t *testing.T) {
	g := newGateway(t, nil, func(w http.ResponseWriter, r *http.Request, _ int) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
		answer{status: 200, body: `{"status":"RUNNING"}`}.write(w)
	})
	obs := &recordingObserver{}
	c := newTestClient(WithObserver(obs))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetJob(ctx, g.target(ECS, goodCreds), testJobID)
	elapsed := time.Since(start)
	if Reason(err) != ReasonTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v (reason %q), want a timeout", err, Reason(err))
	}
	if elapsed > 1500*time.Millisecond {
		t.Errorf("returned after %v, want promptly after the 50ms deadline", elapsed)
	}
	if got, want := obs.codes(), []string{"error"}; !slices.Equal(got, want) {
		t.Errorf("observed %v, want %v", got, want)
	}
}

func TestGetJobInvalidInput(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string
		creds    Credentials
		jobID    string
		wantMsg  string
	}{
		{"no scheme separator", "://bad", goodCreds, testJobID, "invalid"},
		{"ftp", "ftp://x", goodCreds, testJobID, "invalid"},
		{"empty endpoint", "", goodCreds, testJobID, "invalid"},
		{"no host", "http://", goodCreds, testJobID, "invalid"},
		{"no scheme", "ecs.ap-southeast-1.myhuaweicloud.com", goodCreds, testJobID, "invalid"},
		{"broken IPv6", "http://[::1", goodCreds, testJobID, "invalid"},
		{"no secret key", "http://127.0.0.1:9", Credentials{AccessKey: testAK}, testJobID, "secret key"},
		{"no access key", "http://127.0.0.1:9", Credentials{SecretKey: testSK}, testJobID, "access key"},
		{"empty job id", "http://127.0.0.1:9", goodCreds, "", "empty job id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obs := &recordingObserver{}
			c := newTestClient(WithObserver(obs))
			tg := Target{Service: ECS, Region: testRegion, ProjectID: testProject, Endpoint: tc.endpoint, Credentials: tc.creds}
			job, err := c.GetJob(context.Background(), tg, tc.jobID)
			if err == nil || job != nil {
				t.Fatalf("GetJob = %v, %v; want an error", job, err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tc.wantMsg)
			}
			if errors.Is(err, ErrAuthBackoff) {
				t.Errorf("error %v is an auth back-off", err)
			}
			if len(obs.codes()) != 0 {
				t.Errorf("requests were attempted: %v", obs.codes())
			}
			if tc.jobID != "" {
				if _, err := c.ListTraces(context.Background(), tg, TraceQuery{}); err == nil {
					t.Error("ListTraces: no error")
				}
			}
		})
	}
}

func TestGetJobEscapedIDs(t *testing.T) {
	tests := []struct {
		id, wantEscaped string
	}{
		{"job id:with%chars", "job%20id:with%25chars"},
		{"a/b", "a%2Fb"},
		{"q?x=1#frag", "q%3Fx=1%23frag"},
		{"ジョブ", "%E3%82%B8%E3%83%A7%E3%83%96"},
		{"plus+semi;", "plus+semi%3B"},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			g := newGateway(t, nil, script(answer{status: 200, body: `{"status":"SUCCESS","job_id":"x"}`}))
			c := newTestClient()
			if _, err := c.GetJob(context.Background(), g.target(ECS, goodCreds), tc.id); err != nil {
				t.Fatalf("GetJob: %v", err)
			}
			reqs := g.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			r := reqs[0]
			prefix := "/v1/" + testProject + "/jobs/"
			if r.path != prefix+tc.id {
				t.Errorf("server path %q, want %q", r.path, prefix+tc.id)
			}
			if r.escapedPath != prefix+tc.wantEscaped {
				t.Errorf("wire path %q, want %q", r.escapedPath, prefix+tc.wantEscaped)
			}
			if len(r.query) != 0 {
				t.Errorf("query %v leaked from the id", r.query)
			}
			if r.verifyErr != nil {
				t.Errorf("signature rejected: %v", r.verifyErr)
			}
		})
	}
}

func TestListTracesQuery(t *testing.T) {
	from := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	to := time.Date(2026, 3, 1, 11, 0, 0, 999_000_000, time.FixedZone("UTC+8", 8*3600))
	tests := []struct {
		name string
		q    TraceQuery
		want url.Values
	}{
		{"defaults", TraceQuery{}, url.Values{"trace_type": {"system"}, "limit": {"200"}}},
		{"everything", TraceQuery{TraceType: "user", ServiceType: "ECS", Next: "a/b+c=d", Limit: 50, From: from, To: to},
			url.Values{"trace_type": {"user"}, "limit": {"50"}, "service_type": {"ECS"}, "next": {"a/b+c=d"},
				"from": {"1772359200000"}, "to": {"1772334000999"}}},
		{"limit 1", TraceQuery{Limit: 1}, url.Values{"trace_type": {"system"}, "limit": {"1"}}},
		{"limit 200", TraceQuery{Limit: 200}, url.Values{"trace_type": {"system"}, "limit": {"200"}}},
		{"limit above 200", TraceQuery{Limit: 201}, url.Values{"trace_type": {"system"}, "limit": {"200"}}},
		{"negative limit", TraceQuery{Limit: -5}, url.Values{"trace_type": {"system"}, "limit": {"200"}}},
		{"only from", TraceQuery{ServiceType: "EVS", From: from}, url.Values{"trace_type": {"system"}, "limit": {"200"},
			"service_type": {"EVS"}, "from": {"1772359200000"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, nil, script(answer{status: 200, body: `{"traces":[],"meta_data":{"count":0}}`}))
			c := newTestClient()
			page, err := c.ListTraces(context.Background(), g.target(CTS, goodCreds), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			reqs := g.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			r := reqs[0]
			if r.path != "/v3/"+testProject+"/traces" {
				t.Errorf("path %q", r.path)
			}
			if !reflect.DeepEqual(r.query, tc.want) {
				t.Errorf("query %v, want %v", r.query, tc.want)
			}
			for _, k := range []string{"from", "to"} {
				if v := r.query.Get(k); v != "" && len(v) != 13 {
					t.Errorf("%s = %q, want 13-digit milliseconds", k, v)
				}
			}
			if r.verifyErr != nil {
				t.Errorf("signature rejected: %v", r.verifyErr)
			}
			if r.header.Get("X-Project-Id") != testProject {
				t.Errorf("X-Project-Id %q", r.header.Get("X-Project-Id"))
			}
			if page.Traces == nil || len(page.Traces) != 0 || page.Marker != "" || page.Count != 0 {
				t.Errorf("page %+v, want an empty last page", page)
			}
		})
	}
}

func TestListTracesDecode(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		want   *TracePage
		reason string
	}{
		{
			name: "one trace",
			body: `{"traces":[{"trace_id":"4a3b2c1d-0000-4000-8000-000000000001","trace_name":"createServer","service_type":"ECS",` +
				`"resource_type":"ecs","resource_id":"bae51750-0089-41a1-9b18-5c777978ff6d","code":"202",` +
				`"response":"{\"job_id\":\"2c9eb2c5544cbf6101544f0602af2b4f\"}","time":1772359200000}],"meta_data":{"count":1,"marker":"abc"}}`,
			want: &TracePage{Marker: "abc", Count: 1, Traces: []Trace{{
				TraceID: "4a3b2c1d-0000-4000-8000-000000000001", TraceName: "createServer", ServiceType: "ECS",
				ResourceType: "ecs", ResourceID: "bae51750-0089-41a1-9b18-5c777978ff6d", Code: "202",
				Response: `{"job_id":"2c9eb2c5544cbf6101544f0602af2b4f"}`, Time: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
			}}},
		},
		{
			name: "loose types",
			body: `{"traces":[{"trace_id":"t1","code":202,"time":"1772359200123","response":null},{"trace_id":"t2","time":null}],"meta_data":{"count":2,"marker":null}}`,
			want: &TracePage{Count: 2, Traces: []Trace{
				{TraceID: "t1", Code: "202", Time: time.Date(2026, 3, 1, 10, 0, 0, 123_000_000, time.UTC)},
				{TraceID: "t2"},
			}},
		},
		{name: "no traces", body: `{}`, want: &TracePage{Traces: []Trace{}}},
		{name: "not JSON", body: `<html>`, reason: ReasonBadResponse},
		{name: "traces not a list", body: `{"traces":{}}`, reason: ReasonBadResponse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, nil, script(answer{status: 200, body: tc.body}))
			c := newTestClient()
			page, err := c.ListTraces(context.Background(), g.target(CTS, goodCreds), TraceQuery{ServiceType: "ECS"})
			if tc.want == nil {
				if Reason(err) != tc.reason {
					t.Errorf("err %v (reason %q), want %q", err, Reason(err), tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(page, tc.want) {
				t.Errorf("page\n got %+v\nwant %+v", page, tc.want)
			}
		})
	}
}

func TestListTracesErrors(t *testing.T) {
	g := newGateway(t, nil, script(
		answer{status: 429, body: `{"error_code":"APIG.0308","error_msg":"slow"}`},
		answer{status: 400, body: `{"error_code":"CTS.0001","error_msg":"bad marker"}`}))
	obs := &recordingObserver{}
	c := newTestClient(WithObserver(obs))
	_, err := c.ListTraces(context.Background(), g.target(CTS, goodCreds), TraceQuery{Next: "zzz"})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "CTS.0001" || Reason(err) != ReasonClientError {
		t.Errorf("err %v, want CTS.0001 client_error", err)
	}
	if got, want := obs.codes(), []string{"429", "400"}; !slices.Equal(got, want) {
		t.Errorf("observed %v, want %v", got, want)
	}
	if obs.calls[0].service != CTS || obs.calls[0].region != testRegion {
		t.Errorf("observation %+v", obs.calls[0])
	}
}
