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
	Message    string
	RequestID  string        // X-Request-Id, what Huawei support asks for
	RetryAfter time.Duration // from Retry-After, 0 if none
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
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// Throttled reports flow control: the gateway's 429/APIG.0308, ECS's Common.0024 (sent with HTTP 202) and
// Common.1503.
func (e *APIError) Throttled() bool {
	switch e.Code {
	case "APIG.0308", "Common.0024", "Common.1503", "APIGW.0308":
		return true
	}
	return e.StatusCode == http.StatusTooManyRequests
}

// AuthFailure reports a rejected identity. These are never retried: five failures in a row lock the
// access key for five minutes.
func (e *APIError) AuthFailure() bool {
	if e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden {
		return true
	}
	return strings.HasPrefix(e.Code, "APIG.03") && e.Code != "APIG.0308"
}

// NotFound reports a job the service does not know (any more): 404, or Common.0011 which ECS answers for
// an invalid or expired job id.
func (e *APIError) NotFound() bool {
	return e.StatusCode == http.StatusNotFound || e.Code == "Common.0011"
}

// Retryable reports errors worth another attempt within the same deadline.
func (e *APIError) Retryable() bool {
	return e.Throttled() || e.StatusCode >= 500
}

// ErrAuthBackoff is returned without sending a request while an access key is backed off after an
// authentication failure.
var ErrAuthBackoff = errors.New("access key backed off after an authentication failure")

// errPaced marks a query given up while the adaptive rate limit held it back after throttling: it is
// throttling, seen from this side.
var errPaced = errors.New("held back by the rate limit after throttling")

// errBadResponse marks answers that are not what the API documents (malformed JSON, no job in the body).
var errBadResponse = errors.New("bad response")

// The reasons of Reason, a fixed set so that they can label a counter.
const (
	ReasonAuth        = "auth"
	ReasonAuthBackoff = "auth_backoff"
	ReasonThrottled   = "throttled"
	ReasonNotFound    = "not_found"
	ReasonServerError = "server_error"
	ReasonClientError = "client_error"
	ReasonTimeout     = "timeout"
	ReasonNetwork     = "network"
	ReasonBadResponse = "bad_response"
)

// Reasons lists every value Reason returns, for initialising counters at zero.
var Reasons = []string{ReasonAuth, ReasonAuthBackoff, ReasonThrottled, ReasonNotFound, ReasonServerError,
	ReasonClientError, ReasonTimeout, ReasonNetwork, ReasonBadResponse}

// Reason classifies an error of the client into a low-cardinality reason.
func Reason(err error) string {
	var apiErr *APIError
	var netErr net.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrAuthBackoff):
		return ReasonAuthBackoff
	case errors.Is(err, errPaced):
		return ReasonThrottled
	case errors.As(err, &apiErr):
		switch {
		case apiErr.AuthFailure():
			return ReasonAuth
		case apiErr.Throttled():
			return ReasonThrottled
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
	e := &APIError{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	if code, msg, ok := parseAPIError(body); ok {
		e.Code, e.Message = code, msg
	} else {
		e.Message = strings.TrimSpace(truncate(string(body), 200))
	}
	e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
	return e
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
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
