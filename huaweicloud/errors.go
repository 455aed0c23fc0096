package huaweicloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// APIError is an error answer of Huawei Cloud, from the API gateway or from the service itself.
type APIError struct {
	StatusCode int
	Code       string // Huawei error code: APIG.0308, Common.0024, EVS.2024 ...
	Message    string // at most maxMessageBytes, valid UTF-8
	RequestID  string // X-Request-Id, what Huawei support asks for
	// RetryAfter is Retry-After, clamped to maxRetryAfter; 0 if none.
	RetryAfter time.Duration
	// Service is the API that was asked; it tells a service's own not-found code from another's. Empty
	// when unknown (an APIError built by hand or by ParseJob for an unnamed service).
	Service Service
	// Host is the endpoint host that answered, named in the message of an endpoint error so that the log
	// line tells the operator which configured endpoint is wrong.
	Host string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Endpoint() && e.Host != "" {
		b.WriteString(" (the gateway at " + e.Host + " has no such API: check the endpoint)")
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// gatewayCode reports whether code is one of the API gateway's codes with the given number, in either
// spelling: the APIG user guide's table says "APIG.0xxx" ("Error Codes", usermanual-apig apig_03_0048),
// the API signing guide's table says "APIGW.0xxx" ("Error Codes", devg-apisign api-sign-errorcode).
func gatewayCode(code string, numbers ...string) bool {
	var n string
	switch {
	case len(code) > 6 && strings.EqualFold(code[:6], "APIGW."):
		n = code[6:]
	case len(code) > 5 && strings.EqualFold(code[:5], "APIG."):
		n = code[5:]
	default:
		return false
	}
	return slices.Contains(numbers, n)
}

// Throttled reports flow control: the gateway's 429/APIG.0308, ECS's Common.0024 (sent with HTTP 202) and
// Common.1503.
func (e *APIError) Throttled() bool {
	switch e.Code {
	case "Common.0024", "Common.1503":
		return true
	}
	return gatewayCode(e.Code, "0308") || e.StatusCode == http.StatusTooManyRequests
}

// AuthFailure reports a rejected identity: the access key, its signature, the security token or its
// expiry. These lock the key (five failures in a row lock it for five minutes: "How Do I Handle the Error
// APIG.0301?", ocr_faq ocr_01_0063), so they are never retried and back the whole key off.
//
// They are HTTP 401 whatever the code, and the gateway codes that the APIG error table lists as wrong
// authentication information with 401: 0301 (IAM authentication information: AK/SK signature, unknown AK,
// token; ocr_01_0063 and apig-faq-0003), 0303 (app authentication information), 0305 (authentication
// information of a custom authorizer) and 0307 (the token must be updated; ocr_faq ocr_01_0089). The
// numbers are matched even with another status, in both spellings. A 403 without one of these codes is
// not a key failure but a permission gap (Permission).
func (e *APIError) AuthFailure() bool {
	return e.StatusCode == http.StatusUnauthorized || gatewayCode(e.Code, "0301", "0303", "0305", "0307")
}

// Permission reports an identity that was recognised but is not allowed to do this: HTTP 403 (such as
// APIG.0302 "The IAM user is not authorized to access the API", or a service's own denial when a policy
// lacks ecs:jobs:get or CTS access was not granted) that is not an AuthFailure. It concerns one service
// and project of the key, not the key: the client backs off only that (key, service, project).
func (e *APIError) Permission() bool {
	if e.AuthFailure() || e.Throttled() {
		return false
	}
	return e.StatusCode == http.StatusForbidden || gatewayCode(e.Code, "0302", "0304", "0306")
}

// Endpoint reports the gateway's "The API does not exist or has not been published in the environment"
// (APIG.0101 / APIGW.0101, HTTP 404, apig_03_0048 and api-sign-errorcode): the host or the path is wrong,
// the job is not the question. It is a configuration error of the endpoint, never "job not found".
func (e *APIError) Endpoint() bool { return gatewayCode(e.Code, "0101") }

// NotFound reports an answer that says the job is unknown (any more), and nothing else. A job given up
// on a wrong answer freezes on its last state, so the rule is narrow:
//
//   - Common.0011 "Failed to query system tasks", any status: documented for ECS as the answer to an
//     invalid job id (ECS API reference, appendix "Error Codes"; testdata/api/ecs-job-not-found.json). The
//     volume backup service, a sibling of EVS on the same job API, documents the same code ("common.0011
//     Failed to query the task", OTC docs vbs/api-reference/error-codes.md), so the code is matched for
//     every job service and case-insensitively. For EVS, BMS and IMS no job-not-found code is documented
//     in the material found: assuming they share the job framework's Common.0011 is an assumption.
//   - HTTP 404 carrying the asked service's own error code (EVS.xxxx for EVS ...): the service itself,
//     behind the gateway, answered that the only resource in the path, the job, does not exist. No code
//     is documented for this; it is an assumption, kept because it is the service speaking, not the
//     gateway. The simulator answers expired EVS jobs this way.
//
// Everything else is not "not found": a gateway 404 (APIG.0101) is Endpoint, and a bare 404 without a
// code, or with a code of no job service, is a client error (a proxy or a wrong path answers like that
// too). The collector in addition gives a job up only after several not-found answers over minutes, so
// a wrong guess here costs a few queries, not a job.
func (e *APIError) NotFound() bool {
	if strings.EqualFold(e.Code, "Common.0011") {
		return true
	}
	if e.StatusCode != http.StatusNotFound || e.Endpoint() {
		return false
	}
	// The prefixes of the services' own error codes ("Ecs.0052" in ECS job answers, "EVS.2024" ...) are
	// the CodePrefix of the service table, matched case-insensitively.
	for _, row := range services {
		p := row.CodePrefix
		if p != "" && (e.Service == "" || e.Service == row.Name) && len(e.Code) > len(p) && strings.EqualFold(e.Code[:len(p)], p) {
			return true
		}
	}
	return false
}

// Retryable reports errors worth another attempt within the same deadline.
func (e *APIError) Retryable() bool {
	return e.Throttled() || e.StatusCode >= 500
}

// ErrAuthBackoff is returned without sending a request while an access key is backed off after an
// authentication failure.
var ErrAuthBackoff = errors.New("access key backed off after an authentication failure")

// ErrPermissionBackoff is returned without sending a request while one service and project of an access
// key is backed off after a permission denial (HTTP 403). Its reason is ReasonPermission like the denial
// itself; a caller that logs denials once can tell the repetitions by this error.
var ErrPermissionBackoff = errors.New("service and project backed off after a permission denial")

// errPaced marks a query given up while the adaptive rate limit held it back after throttling: it is
// throttling, seen from this side.
var errPaced = errors.New("held back by the rate limit after throttling")

// errBadResponse marks answers that are not what the API documents (malformed JSON, no job in the body).
var errBadResponse = errors.New("bad response")

// The reasons of Reason, a fixed set so that they can label a counter.
const (
	ReasonAuth        = "auth"         // the key was rejected (401, APIG.0301 and kin): the key is backed off
	ReasonAuthBackoff = "auth_backoff" // not sent: the key is backed off after ReasonAuth
	ReasonPermission  = "permission"   // 403: the key may not use this service in this project; not sent while backed off
	ReasonThrottled   = "throttled"    // flow control, or held back by the adaptive rate limit after it
	ReasonNotFound    = "not_found"    // the service says the job does not exist (see APIError.NotFound)
	ReasonEndpoint    = "endpoint"     // the gateway has no such API (APIG.0101): a wrong endpoint or path
	ReasonServerError = "server_error"
	ReasonClientError = "client_error" // other 4xx, a bare 404 included
	ReasonTimeout     = "timeout"
	ReasonNetwork     = "network"
	ReasonBadResponse = "bad_response"
)

// Reasons lists every value Reason returns, for initialising counters at zero.
var Reasons = []string{ReasonAuth, ReasonAuthBackoff, ReasonPermission, ReasonThrottled, ReasonNotFound,
	ReasonEndpoint, ReasonServerError, ReasonClientError, ReasonTimeout, ReasonNetwork, ReasonBadResponse}

// Reason classifies an error of the client into a low-cardinality reason.
func Reason(err error) string {
	var apiErr *APIError
	var netErr net.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrAuthBackoff):
		return ReasonAuthBackoff
	case errors.Is(err, ErrNoCredentials):
		// Nothing was sent, but the fix is the same as for a rejected key: the credentials.
		return ReasonAuth
	case errors.Is(err, ErrPermissionBackoff):
		return ReasonPermission
	case errors.Is(err, errPaced):
		return ReasonThrottled
	case errors.As(err, &apiErr):
		switch {
		case apiErr.AuthFailure():
			return ReasonAuth
		case apiErr.Throttled():
			return ReasonThrottled
		case apiErr.Permission():
			return ReasonPermission
		case apiErr.Endpoint():
			return ReasonEndpoint
		case apiErr.NotFound():
			return ReasonNotFound
		case apiErr.StatusCode >= 500:
			return ReasonServerError
		case apiErr.StatusCode >= 400:
			return ReasonClientError
		}
		return ReasonBadResponse
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return ReasonTimeout
	case errors.Is(err, errBadResponse):
		return ReasonBadResponse
	case errors.As(err, &netErr) && netErr.Timeout():
		return ReasonTimeout
	}
	return ReasonNetwork
}

// parseAPIError reads an error body the way the SDK does: top-level error_code/error_msg, else
// code/message, else the first nested object carrying code and message ({"error":{...}}). ok is false
// when the body names no error.
func parseAPIError(body []byte) (code, msg string, ok bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return "", "", false
	}
	return findError(top, 0)
}

func findError(obj map[string]json.RawMessage, depth int) (code, msg string, ok bool) {
	str := func(key string) string {
		var s string
		if raw, present := obj[key]; present && json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	if c, m := str("error_code"), str("error_msg"); c != "" && m != "" {
		return c, m, true
	}
	if c, m := str("code"), str("message"); c != "" && m != "" {
		return c, m, true
	}
	if depth > 2 {
		return "", "", false
	}
	// Keys in order, so that a body with two nested errors always yields the same one.
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		raw := obj[k]
		var nested map[string]json.RawMessage
		if len(raw) > 0 && raw[0] == '{' && json.Unmarshal(raw, &nested) == nil {
			if c, m, ok := findError(nested, depth+1); ok {
				return c, m, true
			}
		}
	}
	return "", "", false
}

// newAPIError builds the error of a non-2xx answer, keeping a raw (cut) body when it names no error.
func newAPIError(resp *http.Response, body []byte, now time.Time) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, RequestID: capText(resp.Header.Get("X-Request-Id"), maxIDBytes)}
	if code, msg, ok := parseAPIError(body); ok {
		e.Code, e.Message = capText(code, maxErrorCodeBytes), capText(msg, maxMessageBytes)
	} else {
		e.Message = strings.TrimSpace(truncate(string(body), 200))
	}
	e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
	return e
}

// maxRetryAfter bounds Retry-After. Huawei documents no Retry-After values; APIG.0308's advice is to
// retry after 2 to 5 seconds ("How Do I Handle the Error APIG.0308?") and its limits are per second or
// per minute, so a minute covers every limit the gateway names. A larger value (one 999999 or a date in
// 2100, from a broken proxy) would otherwise pause an endpoint's queries for days.
const maxRetryAfter = time.Minute

// retryAfter reads Retry-After as seconds or an HTTP date, clamped to [0, maxRetryAfter].
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		// A number too large for uint64 is still a number of seconds: the largest.
		if err != nil || s > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// truncate cuts a raw body for an error message; the body may be anything (an HTML error page, binary), so
// the result is made valid UTF-8 for logs, JSON log lines and the landing page.
func truncate(s string, n int) string {
	if len(s) <= n {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ToValidUTF8(s[:n], "\uFFFD") + "..."
}

// bodyError is the error named in the body of a 2xx answer of service s.
func bodyError(s Service, status int, code, msg string) *APIError {
	return &APIError{StatusCode: status, Code: capText(code, maxErrorCodeBytes), Message: capText(msg, maxMessageBytes), Service: s}
}
