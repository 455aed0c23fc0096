package huaweicloud

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// TestPooledBodyNotAliased: no job, trace or error the client returns refers to the bytes of the pooled
// body it was read from. Released bodies are overwritten, so an alias shows as X's.
func TestPooledBodyNotAliased(t *testing.T) {
	scribbleReleasedBodies = true
	t.Cleanup(func() { scribbleReleasedBodies = false })

	job := `{"status":"RUNNING","job_id":"job-1","job_type":"createServer","fail_reason":"still \"running\"",` +
		`"entities":{"server_id":"srv-1","sub_jobs":[{"status":"SUCCESS","job_id":"sub-1","job_type":"createSingleServer"}]}}`
	tests := []struct {
		name  string
		ans   answer
		check func(t *testing.T, j *Job, err error)
	}{
		{name: "job", ans: answer{status: 200, body: job}, check: func(t *testing.T, j *Job, err error) {
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprint(j.Status, j.JobID, j.JobType, j.FailReason, j.ResourceID, j.SubJobs[0].Status, j.SubJobs[0].JobID, j.SubJobs[0].JobType)
			if want := `RUNNINGjob-1createServerstill "running"srv-1SUCCESSsub-1createSingleServer`; got != want {
				t.Errorf("job fields %q, want %q", got, want)
			}
		}},
		{name: "job through encoding/json", ans: answer{status: 200, body: strings.Replace(job, `"RUNNING"`, `"RUNN\u0049NG"`, 1)},
			check: func(t *testing.T, j *Job, err error) {
				if err != nil || j.Status != "RUNNING" || j.JobID != "job-1" || j.SubJobs[0].JobType != "createSingleServer" {
					t.Errorf("job %+v, %v", j, err)
				}
			}},
		{name: "error body", ans: answer{status: 404, body: `{"error_code":"Common.0011","error_msg":"Failed to query system tasks"}`, header: map[string]string{"X-Request-Id": "req-1"}},
			check: func(t *testing.T, _ *Job, err error) {
				var e *APIError
				if !errors.As(err, &e) || e.Code != "Common.0011" || e.Message != "Failed to query system tasks" || e.RequestID != "req-1" {
					t.Errorf("error %#v", err)
				}
			}},
		{name: "raw error body", ans: answer{status: 502, body: "<html>bad gateway</html>"}, check: func(t *testing.T, _ *Job, err error) {
			var e *APIError
			if !errors.As(err, &e) || e.Message != "<html>bad gateway</html>" {
				t.Errorf("error %#v", err)
			}
		}},
		{name: "throttled 202", ans: answer{status: 202, body: `{"code":"Common.0024","message":"Api flow control"}`}, check: func(t *testing.T, _ *Job, err error) {
			var e *APIError
			if !errors.As(err, &e) || e.Code != "Common.0024" || e.Message != "Api flow control" {
				t.Errorf("error %#v", err)
			}
		}},
		{name: "error in a 200 body", ans: answer{status: 200, body: `{"error":{"code":"EVS.0001","message":"query failed"}}`}, check: func(t *testing.T, _ *Job, err error) {
			var e *APIError
			if !errors.As(err, &e) || e.Code != "EVS.0001" || e.Message != "query failed" {
				t.Errorf("error %#v", err)
			}
		}},
		{name: "malformed", ans: answer{status: 200, body: `{"status":"RUNNING",` + "\x01"}, check: func(t *testing.T, _ *Job, err error) {
			if err == nil || strings.Contains(err.Error(), "XX") {
				t.Errorf("error %v", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, nil, script(tc.ans, tc.ans, tc.ans, tc.ans))
			j, err := newTestClient(WithRetry(1, 0, 0)).GetJob(t.Context(), g.target(ECS, goodCreds), testJobID)
			tc.check(t, j, err)
		})
	}

	t.Run("traces", func(t *testing.T) {
		g := newGateway(t, nil, script(answer{status: 200, body: `{"traces":[{"trace_id":"tr-1","trace_name":"createServer",` +
			`"resource_id":"r-1","response":"{\"job_id\":\"job-1\"}","code":"200","time":1700000000000}],"meta_data":{"count":1,"marker":"m-1"}}`}))
		page, err := newTestClient().ListTraces(t.Context(), g.target(CTS, goodCreds), TraceQuery{})
		if err != nil {
			t.Fatal(err)
		}
		tr := page.Traces[0]
		if got := tr.TraceID + tr.TraceName + tr.ResourceID + tr.Response + tr.Code + page.Marker; got != `tr-1createServerr-1{"job_id":"job-1"}200m-1` {
			t.Errorf("trace fields %q", got)
		}
	})
}

// TestHMACCacheBounded: however many secret keys sign, the cache keeps at most maxSecrets of them and
// maxIdle states each, and a reused state signs like a fresh one.
func TestHMACCacheBounded(t *testing.T) {
	c := &hmacCache{maxSecrets: 3, maxIdle: 2}
	reference := func(secret, msg string) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(msg))
		return hex.EncodeToString(m.Sum(nil))
	}
	sign := func(m *keyedMAC, msg string) string {
		m.h.Write([]byte(msg))
		return hex.EncodeToString(m.h.Sum(nil))
	}
	for round := range 3 {
		for i := range 10 { // rotating keys, each used twice by five requests at once
			secret := fmt.Sprintf("secret-%d", i)
			for pass := range 2 {
				var held []*keyedMAC
				for range 5 {
					held = append(held, c.get(secret))
				}
				for k, m := range held {
					msg := fmt.Sprintf("round %d pass %d request %d", round, pass, k)
					if got, want := sign(m, msg), reference(secret, msg); got != want {
						t.Fatalf("%s: signature %s, want %s", secret, got, want)
					}
					c.put(m)
				}
			}
			if len(c.entries) > c.maxSecrets {
				t.Fatalf("%d secrets kept, at most %d", len(c.entries), c.maxSecrets)
			}
			for _, e := range c.entries {
				if len(e.idle) > c.maxIdle {
					t.Fatalf("%d idle states, at most %d", len(e.idle), c.maxIdle)
				}
			}
		}
	}
	// The keys used last are the ones kept.
	for _, e := range c.entries {
		if e.secret < "secret-7" {
			t.Errorf("kept %s, not one of the last three", e.secret)
		}
	}
}

// TestSignatureAcrossKeys: signatures through the shared cache, with one key used all along and more
// others than it keeps, equal HMAC-SHA256 computed afresh.
func TestSignatureAcrossKeys(t *testing.T) {
	for i := range 40 {
		secret := "sk-hot"
		if i%2 == 1 {
			secret = fmt.Sprintf("sk-%d", i)
		}
		canonical := fmt.Sprintf("GET\n/v1/p/jobs/%d/\n\n", i)
		sum := sha256.Sum256([]byte(canonical))
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(Algorithm + "\n20260301T101530Z\n" + hex.EncodeToString(sum[:])))
		if got, want := signature(secret, "20260301T101530Z", canonical), hex.EncodeToString(m.Sum(nil)); got != want {
			t.Fatalf("signature %d with %s = %s, want %s", i, secret, got, want)
		}
	}
}

// TestEndpointURL: the request URL built from the cached endpoint is the one url.Parse made of the old
// string form, escaped segments, endpoint paths and an empty port included.
func TestEndpointURL(t *testing.T) {
	segs := [][]string{
		{"v1", testProject, "jobs", testJobID},
		{"v1", "p", "jobs", "job id/with:odd,chars;%é"},
		{"v3", "p", "traces"},
	}
	for _, endpoint := range []string{"https://ecs.ap-southeast-1.myhuaweicloud.com", "http://127.0.0.1:8080/", "https://h/prefix/",
		"https://h/a%2Fb/c", "http://u:p@h:", "https://[::1]:"} {
		for _, s := range segs {
			// What the client did before: parse the endpoint, append each segment, format and parse again.
			base, err := url.Parse(endpoint)
			if err != nil {
				t.Fatal(err)
			}
			old := *base
			old.Path, old.RawPath = strings.TrimSuffix(base.Path, "/"), strings.TrimSuffix(base.EscapedPath(), "/")
			for _, seg := range s {
				old.Path += "/" + seg
				old.RawPath += "/" + url.PathEscape(seg)
			}
			want, err := http.NewRequest(http.MethodGet, old.String(), nil)
			if err != nil {
				t.Fatal(err)
			}

			c := NewClient(nil)
			ep, err := c.endpoint(Target{Service: ECS, Endpoint: endpoint})
			if err != nil {
				t.Fatal(err)
			}
			u := ep.url(s)
			if u.Host != old.Host || u.Path != old.Path || u.EscapedPath() != old.EscapedPath() {
				t.Errorf("%s %q: URL %q %q, want %q %q", endpoint, s, u.Path, u.EscapedPath(), old.Path, old.EscapedPath())
			}
			var seen *http.Request
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				seen = r
				return nil, errors.New("not sent")
			})}
			c = NewClient(hc)
			_, _, _ = c.once(t.Context(), Target{Service: ECS, ProjectID: "p"}, goodCreds, u)
			if seen == nil {
				t.Fatal("no request")
			}
			if seen.URL.String() != want.URL.String() || seen.Host != want.Host || seen.URL.RequestURI() != want.URL.RequestURI() {
				t.Errorf("%s %q: request %q host %q, want %q host %q", endpoint, s, seen.URL, seen.Host, want.URL, want.Host)
			}
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestEndpointCacheBounded: parsed endpoints are kept up to maxEndpoints, invalid ones not at all.
func TestEndpointCacheBounded(t *testing.T) {
	c := NewClient(nil)
	for i := range 3 * maxEndpoints {
		if _, err := c.endpoint(Target{Service: ECS, Endpoint: fmt.Sprintf("https://h%d.example.com", i)}); err != nil {
			t.Fatal(err)
		}
		if len(c.endpoints) > maxEndpoints {
			t.Fatalf("%d endpoints kept, at most %d", len(c.endpoints), maxEndpoints)
		}
	}
	for _, bad := range []string{"ftp://h", "https://", "::"} {
		if _, err := c.endpoint(Target{Service: ECS, Endpoint: bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
		if c.endpoints[bad] != nil {
			t.Errorf("%q kept", bad)
		}
	}
}

// TestMayBeThrottledSinglePass: the two-scan test says what the five-scan formula said.
func TestMayBeThrottledSinglePass(t *testing.T) {
	fiveScans := func(b []byte) bool {
		return (bytes.Contains(b, []byte(`"code"`)) || bytes.Contains(b, []byte(`"error_code"`))) &&
			(bytes.Contains(b, []byte("0308")) || bytes.Contains(b, []byte("Common.0024")) || bytes.Contains(b, []byte("Common.1503")))
	}
	for _, body := range []string{``, `"code"`, `"code":"Common.0024"`, `"code":"Common.0025"`, `"code":"Common.Common.1503"`,
		`"error_code":"Common.00"`, `"error_code":"Common.0025","x":"Common.1503"`, `"code":"Common."`, `Common.0024`,
		`"error_code":"APIGW.0308"`, `"x":"Commo.0024","code":1`, `"code":"common.0024"`, `"code":"Common.0024Common.`} {
		if got, want := mayBeThrottled([]byte(body)), fiveScans([]byte(body)); got != want {
			t.Errorf("%s: %v, want %v", body, got, want)
		}
	}
}

// TestSignatureConcurrentKeys: requests signing at once with two long-lived keys and a stream of rotated
// ones (more than the cache keeps, so keys are dropped while their states are in use) each get the
// HMAC-SHA256 of their own key (for -race, and against a state returned under another key).
func TestSignatureConcurrentKeys(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				secret := []string{"sk-a", "sk-b"}[(g+i)%2]
				if i%3 == 0 {
					secret = fmt.Sprintf("sk-rotated-%d-%d", g, i/3)
				}
				canonical := fmt.Sprintf("GET\n/v1/p/jobs/%d-%d/\n\n", g, i)
				sum := sha256.Sum256([]byte(canonical))
				m := hmac.New(sha256.New, []byte(secret))
				m.Write([]byte(Algorithm + "\n20260301T101530Z\n" + hex.EncodeToString(sum[:])))
				if got, want := signature(secret, "20260301T101530Z", canonical), hex.EncodeToString(m.Sum(nil)); got != want {
					t.Errorf("goroutine %d request %d with %s: signature %s, want %s", g, i, secret, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestPooledBodyNotAliasedByAnyParser: every fixture of every service, fetched through the client with
// released bodies overwritten, gives the job (or error) ParseJob gives on a private copy of the body:
// no parser (v1 fast path, encoding/json, CCE, ELB, CFW, IMS) keeps bytes of the pooled buffer. An
// answer over the body cap is an error that holds none of it.
func TestPooledBodyNotAliasedByAnyParser(t *testing.T) {
	scribbleReleasedBodies = true
	t.Cleanup(func() { scribbleReleasedBodies = false })
	for name, fc := range jobFixtures {
		t.Run(name, func(t *testing.T) {
			body := string(readFixture(t, name))
			want, wantErr := ParseJob(fc.service, fc.status, []byte(body))
			g := newGateway(t, nil, script(answer{status: fc.status, body: body}))
			got, err := newTestClient(WithRetry(1, 0, 0)).GetJob(t.Context(), g.target(fc.service, goodCreds), testJobID)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
				t.Errorf("through the client:\n%+v, %v\nfrom a private copy:\n%+v, %v", got, err, want, wantErr)
			}
		})
	}
	t.Run("over the body cap", func(t *testing.T) {
		g := newGateway(t, nil, script(answer{status: 200, body: `{"status":"RUNNING","fail_reason":"` + strings.Repeat("r", 100) + `"}`}))
		_, err := newTestClient(WithRetry(1, 0, 0), WithMaxBodyBytes(32)).GetJob(t.Context(), g.target(ECS, goodCreds), testJobID)
		if err == nil || strings.Contains(err.Error(), "XX") || strings.Contains(err.Error(), "rrr") {
			t.Errorf("error %v", err)
		}
	})
}
