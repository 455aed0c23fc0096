package huaweicloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// refusedError dials a loopback port that was just closed, for a genuine "connection refused".
func refusedError(t *testing.T) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		conn.Close()
		t.Skip("a closed loopback port accepted a connection")
	}
	return &url.Error{Op: "Get", URL: "http://" + addr + "/", Err: err}
}

func TestReason(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"401", &APIError{StatusCode: 401}, ReasonAuth},
		{"403 service denial is a permission gap", &APIError{StatusCode: 403, Code: "IAM.0002"}, ReasonPermission},
		{"403 APIG.0302 is a permission gap", &APIError{StatusCode: 403, Code: "APIG.0302"}, ReasonPermission},
		{"403 APIGW.0302", &APIError{StatusCode: 403, Code: "APIGW.0302"}, ReasonPermission},
		{"403 without code", &APIError{StatusCode: 403}, ReasonPermission},
		{"403 APIG.0301 is a key failure", &APIError{StatusCode: 403, Code: "APIG.0301"}, ReasonAuth},
		{"APIGW.0301", &APIError{StatusCode: 401, Code: "APIGW.0301"}, ReasonAuth},
		{"APIGW.0307 token must be updated", &APIError{StatusCode: 400, Code: "APIGW.0307"}, ReasonAuth},
		{"apig.0303 lower case", &APIError{StatusCode: 400, Code: "apig.0303"}, ReasonAuth},
		{"permission back-off", fmt.Errorf("%w: ecs in project p until x", ErrPermissionBackoff), ReasonPermission},
		{"APIG.0301 with 401", &APIError{StatusCode: 401, Code: "APIG.0301"}, ReasonAuth},
		{"APIG.0301 with 400", &APIError{StatusCode: 400, Code: "APIG.0301"}, ReasonAuth},
		{"APIG.0305 other auth code", &APIError{StatusCode: 400, Code: "APIG.0305"}, ReasonAuth},
		{"wrapped 401", fmt.Errorf("query job: %w", &APIError{StatusCode: 401, Code: "APIG.0301"}), ReasonAuth},
		{"auth back-off", ErrAuthBackoff, ReasonAuthBackoff},
		{"auth back-off wrapped", fmt.Errorf("%w until %s", ErrAuthBackoff, "2026-03-01T10:00:00Z"), ReasonAuthBackoff},
		{"auth back-off wrapped twice", fmt.Errorf("ecs: %w", fmt.Errorf("%w until x", ErrAuthBackoff)), ReasonAuthBackoff},
		{"429", &APIError{StatusCode: 429}, ReasonThrottled},
		{"APIG.0308 with 429", &APIError{StatusCode: 429, Code: "APIG.0308"}, ReasonThrottled},
		{"APIG.0308 with 400", &APIError{StatusCode: 400, Code: "APIG.0308"}, ReasonThrottled},
		{"APIGW.0308", &APIError{StatusCode: 429, Code: "APIGW.0308"}, ReasonThrottled},
		{"Common.0024 with 202", &APIError{StatusCode: 202, Code: "Common.0024"}, ReasonThrottled},
		{"Common.1503 with 429", &APIError{StatusCode: 429, Code: "Common.1503"}, ReasonThrottled},
		{"Common.1503 with 500", &APIError{StatusCode: 500, Code: "Common.1503"}, ReasonThrottled},
		{"bare 404 is not a job answer", &APIError{StatusCode: 404}, ReasonClientError},
		{"404 gateway APIG.0101", &APIError{StatusCode: 404, Code: "APIG.0101", Service: ECS}, ReasonEndpoint},
		{"404 gateway APIGW.0101", &APIError{StatusCode: 404, Code: "APIGW.0101", Service: EVS}, ReasonEndpoint},
		{"APIG.0101 on another status", &APIError{StatusCode: 400, Code: "APIG.0101"}, ReasonEndpoint},
		{"404 the service's own code", &APIError{StatusCode: 404, Code: "EVS.5400", Service: EVS}, ReasonNotFound},
		{"404 own code, service unknown", &APIError{StatusCode: 404, Code: "Ims.0100"}, ReasonNotFound},
		{"404 another service's code", &APIError{StatusCode: 404, Code: "EVS.5400", Service: ECS}, ReasonClientError},
		{"404 code of no job service", &APIError{StatusCode: 404, Code: "VPC.0101", Service: ECS}, ReasonClientError},
		{"common.0011 lower case (VBS spelling)", &APIError{StatusCode: 400, Code: "common.0011"}, ReasonNotFound},
		{"paced past its deadline", fmt.Errorf("%w: %w", errPaced, context.DeadlineExceeded), ReasonThrottled},
		{"Common.0011 with 400", &APIError{StatusCode: 400, Code: "Common.0011"}, ReasonNotFound},
		{"Common.0011 with 200", &APIError{StatusCode: 200, Code: "Common.0011"}, ReasonNotFound},
		{"500", &APIError{StatusCode: 500}, ReasonServerError},
		{"503", &APIError{StatusCode: 503, Code: "Common.0002"}, ReasonServerError},
		{"504", &APIError{StatusCode: 504}, ReasonServerError},
		{"400 other code", &APIError{StatusCode: 400, Code: "Common.0021"}, ReasonClientError},
		{"400 no code", &APIError{StatusCode: 400}, ReasonClientError},
		{"409", &APIError{StatusCode: 409, Code: "Ecs.0000"}, ReasonClientError},
		{"error body on 200", &APIError{StatusCode: 200, Code: "EVS.5400"}, ReasonBadResponse},
		{"deadline", context.DeadlineExceeded, ReasonTimeout},
		{"canceled", context.Canceled, ReasonTimeout},
		{"deadline in url.Error", &url.Error{Op: "Get", URL: "http://x/", Err: context.DeadlineExceeded}, ReasonTimeout},
		{"net timeout (DNS)", &url.Error{Op: "Get", URL: "http://x/", Err: &net.DNSError{Err: "i/o timeout", Name: "x", IsTimeout: true}}, ReasonTimeout},
		{"net timeout (deadline)", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, ReasonTimeout},
		{"connection refused", refusedError(t), ReasonNetwork},
		{"DNS failure without timeout", &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, ReasonNetwork},
		{"unexpected EOF", &url.Error{Op: "Get", URL: "http://x/", Err: io.ErrUnexpectedEOF}, ReasonNetwork},
		{"plain error", errors.New("boom"), ReasonNetwork},
		{"bad response", errBadResponse, ReasonBadResponse},
		{"bad response wrapped", fmt.Errorf("%w: job body has no status", errBadResponse), ReasonBadResponse},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Reason(tc.err); got != tc.want {
				t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
		seen[tc.want] = true
	}
	for _, r := range Reasons {
		if !seen[r] {
			t.Errorf("reason %q is not covered by the table", r)
		}
	}
	want := []string{"auth", "auth_backoff", "permission", "throttled", "not_found", "endpoint", "server_error", "client_error", "timeout", "network", "bad_response"}
	if !slices.Equal(Reasons, want) {
		t.Errorf("Reasons = %v, want %v", Reasons, want)
	}
}

func TestAPIErrorClassifiers(t *testing.T) {
	tests := []struct {
		err                                     APIError
		throttled, authFailure, notFound, retry bool
	}{
		{APIError{StatusCode: 429}, true, false, false, true},
		{APIError{StatusCode: 429, Code: "APIG.0308"}, true, false, false, true},
		{APIError{StatusCode: 202, Code: "Common.0024"}, true, false, false, true},
		{APIError{StatusCode: 429, Code: "Common.1503"}, true, false, false, true},
		{APIError{StatusCode: 401, Code: "APIG.0301"}, false, true, false, false},
		{APIError{StatusCode: 403}, false, false, false, false},
		{APIError{StatusCode: 400, Code: "APIG.0302"}, false, false, false, false},
		{APIError{StatusCode: 401, Code: "APIGW.0301"}, false, true, false, false},
		{APIError{StatusCode: 404}, false, false, false, false},
		{APIError{StatusCode: 404, Code: "APIG.0101"}, false, false, false, false},
		{APIError{StatusCode: 404, Code: "Ecs.0114", Service: ECS}, false, false, true, false},
		{APIError{StatusCode: 400, Code: "Common.0011"}, false, false, true, false},
		{APIError{StatusCode: 500}, false, false, false, true},
		{APIError{StatusCode: 503}, false, false, false, true},
		{APIError{StatusCode: 400, Code: "Common.0021"}, false, false, false, false},
		{APIError{StatusCode: 499}, false, false, false, false},
		{APIError{StatusCode: 200}, false, false, false, false},
	}
	for _, tc := range tests {
		e := tc.err
		if got := e.Throttled(); got != tc.throttled {
			t.Errorf("%+v Throttled() = %v, want %v", e, got, tc.throttled)
		}
		if got := e.AuthFailure(); got != tc.authFailure {
			t.Errorf("%+v AuthFailure() = %v, want %v", e, got, tc.authFailure)
		}
		if got := e.NotFound(); got != tc.notFound {
			t.Errorf("%+v NotFound() = %v, want %v", e, got, tc.notFound)
		}
		if got := e.Retryable(); got != tc.retry {
			t.Errorf("%+v Retryable() = %v, want %v", e, got, tc.retry)
		}
	}
}

func TestAPIErrorError(t *testing.T) {
	tests := []struct {
		err  APIError
		want string
	}{
		{APIError{StatusCode: 429, Code: "APIG.0308", Message: "slow down", RequestID: "8a3c", RetryAfter: time.Second},
			"HTTP 429 APIG.0308: slow down (request id 8a3c)"},
		{APIError{StatusCode: 500}, "HTTP 500"},
		{APIError{StatusCode: 502, Message: "Bad Gateway"}, "HTTP 502: Bad Gateway"},
		{APIError{StatusCode: 202, Code: "Common.0024"}, "HTTP 202 Common.0024"},
		{APIError{StatusCode: 404, RequestID: "r1"}, "HTTP 404 (request id r1)"},
		{APIError{StatusCode: 404, Code: "APIGW.0101", Message: "The API does not exist", Host: "ecs.xx-1.example.com", RequestID: "r2"},
			"HTTP 404 APIGW.0101: The API does not exist (the gateway at ecs.xx-1.example.com has no such API: check the endpoint) (request id r2)"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestParseAPIError(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		code     string
		msg      string
		wantFind bool
	}{
		{"gateway shape", `{"error_code":"APIG.0301","error_msg":"Incorrect IAM authentication information","request_id":"4f0c"}`, "APIG.0301", "Incorrect IAM authentication information", true},
		{"code and message", `{"code":"Common.0024","message":"Flow limit exceeded."}`, "Common.0024", "Flow limit exceeded.", true},
		{"nested error", `{"error":{"message":"Failed to query system tasks.","code":"Common.0011"}}`, "Common.0011", "Failed to query system tasks.", true},
		{"nested under another key", `{"badRequest":{"code":"Ecs.0005","message":"no"}}`, "Ecs.0005", "no", true},
		{"error_code wins over code", `{"code":"B","message":"b","error_code":"A","error_msg":"a"}`, "A", "a", true},
		{"top level wins over nested", `{"error":{"code":"B","message":"b"},"code":"A","message":"a"}`, "A", "a", true},
		{"error_code without error_msg falls back to code", `{"error_code":"A","code":"B","message":"b"}`, "B", "b", true},
		{"three levels deep", `{"a":{"b":{"c":{"code":"X","message":"y"}}}}`, "X", "y", true},
		{"four levels deep is too deep", `{"a":{"b":{"c":{"d":{"code":"X","message":"y"}}}}}`, "", "", false},
		{"code without message", `{"code":"Common.0024"}`, "", "", false},
		{"empty message", `{"error_code":"APIG.0301","error_msg":""}`, "", "", false},
		{"numeric code", `{"code":24,"message":"x"}`, "", "", false},
		{"job body", `{"status":"RUNNING","job_id":"j","entities":{"server_id":"s"}}`, "", "", false},
		{"error list", `{"error":[{"code":"X","message":"y"}]}`, "", "", false},
		{"non-JSON", `<html><body>502 Bad Gateway</body></html>`, "", "", false},
		{"array", `[{"code":"X","message":"y"}]`, "", "", false},
		{"empty", ``, "", "", false},
		{"null", `null`, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, msg, ok := parseAPIError([]byte(tc.body))
			if code != tc.code || msg != tc.msg || ok != tc.wantFind {
				t.Errorf("parseAPIError = (%q, %q, %v), want (%q, %q, %v)", code, msg, ok, tc.code, tc.msg, tc.wantFind)
			}
		})
	}
}

func TestNewAPIError(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	long := strings.Repeat("x", 300)
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   APIError
	}{
		{"gateway throttling", 429, http.Header{"X-Request-Id": {"8a3c"}, "Retry-After": {"3"}},
			`{"error_code":"APIG.0308","error_msg":"slow down","request_id":"8a3c"}`,
			APIError{StatusCode: 429, Code: "APIG.0308", Message: "slow down", RequestID: "8a3c", RetryAfter: 3 * time.Second}},
		{"non-JSON body kept trimmed", 502, nil, "  <html>Bad Gateway</html>\n",
			APIError{StatusCode: 502, Message: "<html>Bad Gateway</html>"}},
		{"long body cut", 500, nil, long, APIError{StatusCode: 500, Message: strings.Repeat("x", 200) + "..."}},
		{"cut inside a UTF-8 sequence", 500, nil, strings.Repeat("x", 199) + "错误",
			APIError{StatusCode: 500, Message: strings.Repeat("x", 199) + "\uFFFD..."}},
		{"binary body made printable", 502, nil, "bad\xff\xfegateway",
			APIError{StatusCode: 502, Message: "bad\uFFFDgateway"}},
		{"empty body", 503, http.Header{"Retry-After": {"Sun, 01 Mar 2026 10:00:30 GMT"}}, "",
			APIError{StatusCode: 503, RetryAfter: 30 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tc.status, Header: tc.header}
			if resp.Header == nil {
				resp.Header = http.Header{}
			}
			if got := newAPIError(resp, []byte(tc.body), now); *got != tc.want {
				t.Errorf("newAPIError = %+v, want %+v", *got, tc.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"1", time.Second},
		{"60", time.Minute},
		{"120", maxRetryAfter},
		{"999999", maxRetryAfter},
		{"99999999999999999999999999", maxRetryAfter},
		{" 7 ", 7 * time.Second},
		{"Fri, 01 Jan 2100 00:00:00 GMT", maxRetryAfter},
		{"-1", 0},
		{"1.5", 0},
		{"soon", 0},
		{now.Add(45 * time.Second).Format(http.TimeFormat), 45 * time.Second},
		{"Sun, 01 Mar 2026 10:02:00 GMT", maxRetryAfter},
		{"Sun, 01 Mar 2026 10:00:30 GMT", 30 * time.Second},
		{"Sunday, 01-Mar-26 10:00:10 GMT", 10 * time.Second}, // RFC 850
		{"Sun Mar  1 10:00:05 2026", 5 * time.Second},        // ANSI C
		{now.Format(http.TimeFormat), 0},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tc := range tests {
		if got := retryAfter(tc.v, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
}
