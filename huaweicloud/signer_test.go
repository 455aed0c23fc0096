package huaweicloud

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// signingVector is one entry of testdata/signing-vectors.json.
type signingVector struct {
	Name                  string            `json:"name"`
	AccessKey             string            `json:"access_key"`
	SecretKey             string            `json:"secret_key"`
	Method                string            `json:"method"`
	Endpoint              string            `json:"endpoint"`
	Path                  string            `json:"path"`
	Query                 map[string]string `json:"query"`
	Headers               map[string]string `json:"headers"`
	Body                  *string           `json:"body"`
	ExpectedSignedHeaders string            `json:"expected_signed_headers"`
	ExpectedAuthorization string            `json:"expected_authorization"`
}

func loadSigningVectors(t testing.TB) []signingVector {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "signing-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		About   string          `json:"about"`
		Vectors []signingVector `json:"vectors"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // a field this test does not know would be silently ignored
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("signing-vectors.json: %v", err)
	}
	if len(file.Vectors) < 10 {
		t.Fatalf("signing-vectors.json holds %d vectors, expected at least 10", len(file.Vectors))
	}
	return file.Vectors
}

// newVectorRequest builds the request of a vector. The path may hold spaces, '%' and ':', so the URL is
// assembled from its parts instead of being parsed from a string.
func newVectorRequest(t testing.TB, method, endpoint, path string, query url.Values, headers map[string]string, body []byte) *http.Request {
	t.Helper()
	ep, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	u := &url.URL{Scheme: ep.Scheme, Host: ep.Host, Path: path, RawQuery: query.Encode()}
	req, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if req.URL.Path != path {
		t.Fatalf("request path %q, want %q", req.URL.Path, path)
	}
	for k, v := range headers {
		req.Header[k] = []string{v} // exactly as given, no canonicalisation
	}
	return req
}

var sdkDateRe = regexp.MustCompile(`^\d{8}T\d{6}Z$`)

func TestSignVectorsFile(t *testing.T) {
	for _, v := range loadSigningVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			q := url.Values{}
			for k, val := range v.Query {
				q.Set(k, val)
			}
			var body []byte
			if v.Body != nil {
				body = []byte(*v.Body)
			}
			req := newVectorRequest(t, v.Method, v.Endpoint, v.Path, q, v.Headers, body)
			// The vectors fix the date in X-Sdk-Date; the clock must not matter.
			now := time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)
			if err := Sign(req, body, Credentials{AccessKey: v.AccessKey, SecretKey: v.SecretKey}, now); err != nil {
				t.Fatal(err)
			}
			if got := req.Header.Get("Authorization"); got != v.ExpectedAuthorization {
				t.Errorf("Authorization\n got %s\nwant %s", got, v.ExpectedAuthorization)
			}
			if !strings.Contains(v.ExpectedAuthorization, "SignedHeaders="+v.ExpectedSignedHeaders+",") {
				t.Errorf("vector inconsistent: expected_signed_headers %q not in expected_authorization", v.ExpectedSignedHeaders)
			}
			if got, want := req.Header.Get("X-Sdk-Date"), v.Headers["X-Sdk-Date"]; got != want {
				t.Errorf("X-Sdk-Date = %q, want the vector's %q kept", got, want)
			}
			if got := req.Header.Get("X-Security-Token"); got != v.Headers["X-Security-Token"] {
				t.Errorf("X-Security-Token = %q, want %q", got, v.Headers["X-Security-Token"])
			}

			// The verifier accepts what the signer produced (req.Host is the endpoint host, as on a server).
			date, err := time.Parse(DateFormat, v.Headers["X-Sdk-Date"])
			if err != nil {
				t.Fatal(err)
			}
			secretFor := func(ak string) (string, bool) { return v.SecretKey, ak == v.AccessKey }
			if err := Verify(req, body, secretFor, date, 15*time.Minute); err != nil {
				t.Errorf("Verify of a vector request: %v", err)
			}
		})
	}
}

// TestSignSDKVectors holds the known answers of huawei-api.md section B: the official SDK's own signer
// tests, and vectors derived for the requests this exporter sends. None of them has a Host header.
func TestSignSDKVectors(t *testing.T) {
	const jobPath = "/v1/0123456789abcdef0123456789abcdef/jobs/ff8080816b5d7f9c016b5e5b3c1a0033"
	derivedHeaders := map[string]string{
		"User-Agent":   "huaweicloud-usdk-go/3.0",
		"X-Project-Id": "0123456789abcdef0123456789abcdef",
		"X-Sdk-Date":   "20240101T000000Z",
		"Content-Type": "application/json",
	}
	tests := []struct {
		name     string
		method   string
		endpoint string
		path     string
		query    url.Values
		headers  map[string]string
		body     string
		token    string
		want     string
	}{
		{
			name: "SDK GET with underscore header", method: "GET", endpoint: "https://example.huaweicloud.com",
			path: "/path", query: url.Values{"limit": {"1"}},
			headers: map[string]string{"X-Sdk-Date": "20060102T150405Z", "TEST_UNDERSCORE": "value"},
			want:    "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624",
		},
		{
			name: "SDK POST with JSON body", method: "POST", endpoint: "https://example.huaweicloud.com",
			path: "/path", query: url.Values{"key": {"value"}},
			headers: map[string]string{"X-Sdk-Date": "20060102T150405Z", "Content-Type": "application/json"},
			body:    "{\"Name\":\"test\",\"Id\":1}\n",
			want:    "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59",
		},
		{
			name: "derived ShowJob with X-Project-Id and User-Agent", method: "GET",
			endpoint: "https://ecs.ap-southeast-1.myhuaweicloud.com", path: jobPath, headers: derivedHeaders,
			want: "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=user-agent;x-project-id;x-sdk-date, Signature=226f8410404ab16d30f42d16bf876d0fdec591de2d13d3abd8628efb0e49628b",
		},
		{
			name: "derived ShowJob with security token", method: "GET",
			endpoint: "https://ecs.ap-southeast-1.myhuaweicloud.com", path: jobPath, headers: derivedHeaders, token: "tok",
			want: "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=user-agent;x-project-id;x-sdk-date;x-security-token, Signature=6fdd51629cdea6a278d4d43fb928b1ab2f7c6a01aae040b6a6927ca459a0167a",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := newVectorRequest(t, tc.method, tc.endpoint, tc.path, tc.query, tc.headers, []byte(tc.body))
			creds := Credentials{AccessKey: "AccessKey", SecretKey: "SecretKey", SecurityToken: tc.token}
			if err := Sign(req, []byte(tc.body), creds, time.Now()); err != nil {
				t.Fatal(err)
			}
			if got := req.Header.Get("Authorization"); got != tc.want {
				t.Errorf("Authorization\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestCanonicalRequestKnownHashes checks the hashed canonical requests of the SDK test and of the API
// signing guide, which signs content-type and host (the gateway accepts any signed header set).
func TestCanonicalRequestKnownHashes(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		headers map[string]string
		host    string
		signed  []string
		want    string
		wantReq string
	}{
		{
			name:    "SDK test GET",
			url:     "https://example.huaweicloud.com/path?limit=1",
			headers: map[string]string{"X-Sdk-Date": "20060102T150405Z"},
			signed:  []string{"x-sdk-date"},
			want:    "85c3b7730f308aee452b16138a42a914397e43a8f0d732dfa521c0ef2afa98a4",
			wantReq: "GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		},
		{
			name:    "API signing guide example",
			url:     "https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0",
			headers: map[string]string{"Content-Type": "application/json", "X-Sdk-Date": "20191115T033655Z"},
			host:    "service.region.example.com",
			signed:  []string{"content-type", "host", "x-sdk-date"},
			want:    "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a",
			wantReq: "GET\n/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\nlimit=2&marker=13551d6b-755d-4757-b956-536f674975c0\n" +
				"content-type:application/json\nhost:service.region.example.com\nx-sdk-date:20191115T033655Z\n\n" +
				"content-type;host;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.headers {
				req.Header[k] = []string{v}
			}
			cr := canonicalRequest(req, tc.host, tc.signed, nil)
			if cr != tc.wantReq {
				t.Errorf("canonical request\n got %q\nwant %q", cr, tc.wantReq)
			}
			if got := sha256Hex(cr); got != tc.want {
				t.Errorf("hash of canonical request = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct {
		name string
		q    url.Values
		want string
	}{
		{
			name: "SDK query encoding test",
			q: url.Values{
				"limit":  {"1"},
				"enable": {"true"},
				"test":   {"一 (&=?!#%.*)"},
				"path":   {"/tmp/123"},
				"multi":  {"3", "1", "2"},
			},
			want: "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29",
		},
		{name: "empty", q: url.Values{}, want: ""},
		{name: "nil", q: nil, want: ""},
		{name: "empty value", q: url.Values{"a": {""}}, want: "a="},
		{name: "keys sorted bytewise, upper case first", q: url.Values{"b": {"1"}, "B": {"2"}, "a_b": {"3"}, "a-b": {"4"}}, want: "B=2&a-b=4&a_b=3&b=1"},
		{name: "escaped keys and unreserved kept", q: url.Values{"k y": {"a+b=c/d~e_f-g.h"}}, want: "k%20y=a%2Bb%3Dc%2Fd~e_f-g.h"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := canonicalQuery(tc.q); got != tc.want {
				t.Errorf("canonicalQuery = %q\n                  want %q", got, tc.want)
			}
		})
	}
	// The SDK test's query, parsed from a URL the way a server sees it, gives the same answer.
	raw := "limit=1&enable=true&test=%E4%B8%80+%28%26%3D%3F%21%23%25.%2A%29&path=%2Ftmp%2F123&multi=2&multi=1&multi=3"
	q, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := canonicalQuery(q), tests[0].want; got != want {
		t.Errorf("canonicalQuery(parsed) = %q, want %q", got, want)
	}
}

func TestCanonicalURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/path", "/path/"},
		{"/v3/projects/", "/v3/projects/"},
		{"/v1/p/jobs/job id:with%chars", "/v1/p/jobs/job%20id%3Awith%25chars/"},
		{"/a~b_c-d.e/F", "/a~b_c-d.e/F/"},
		{"/ジョブ", "/%E3%82%B8%E3%83%A7%E3%83%96/"},
		{"/a//b", "/a//b/"},
		{"/a+b=c", "/a%2Bb%3Dc/"},
	}
	for _, tc := range tests {
		if got := canonicalURI(tc.in); got != tc.want {
			t.Errorf("canonicalURI(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"AZaz09-_.~", "AZaz09-_.~"},
		{" ", "%20"},
		{"+", "%2B"},
		{"*", "%2A"},
		{"/", "%2F"},
		{"\x00\xff", "%00%FF"},
		{"é", "%C3%A9"},
		{"%2f", "%252f"},
	}
	for _, tc := range tests {
		if got := escape(tc.in); got != tc.want {
			t.Errorf("escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

var authRe = regexp.MustCompile(`^SDK-HMAC-SHA256 Access=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$`)

func parseAuthorization(t testing.TB, h string) (ak, signed, sig string) {
	t.Helper()
	m := authRe.FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("Authorization %q does not have the SDK-HMAC-SHA256 shape", h)
	}
	return m[1], m[2], m[3]
}

func TestSignHeaders(t *testing.T) {
	creds := Credentials{AccessKey: "AK", SecretKey: "SK"}
	shanghai := time.FixedZone("UTC+8", 8*3600)
	now := time.Date(2026, 3, 1, 18, 15, 30, 999_000_000, shanghai) // 10:15:30.999 UTC
	tests := []struct {
		name        string
		headers     map[string]string
		creds       Credentials
		wantDate    string
		wantSigned  string
		wantToken   string
		wantPayload string // X-Sdk-Content-Sha256
	}{
		{
			name: "date set from now in UTC, seconds truncated", creds: creds,
			wantDate: "20260301T101530Z", wantSigned: "x-sdk-date",
		},
		{
			name: "parsable date kept", creds: creds, headers: map[string]string{"X-Sdk-Date": "20200101T000000Z"},
			wantDate: "20200101T000000Z", wantSigned: "x-sdk-date",
		},
		{
			name: "unparsable date replaced", creds: creds, headers: map[string]string{"X-Sdk-Date": "2020-01-01T00:00:00Z"},
			wantDate: "20260301T101530Z", wantSigned: "x-sdk-date",
		},
		{
			name: "security token set and signed", creds: Credentials{AccessKey: "AK", SecretKey: "SK", SecurityToken: "tok"},
			headers:  map[string]string{"X-Project-Id": "p"},
			wantDate: "20260301T101530Z", wantSigned: "x-project-id;x-sdk-date;x-security-token", wantToken: "tok",
		},
		{
			name: "security token replaces a stale one", creds: Credentials{AccessKey: "AK", SecretKey: "SK", SecurityToken: "new"},
			headers:  map[string]string{"X-Security-Token": "old"},
			wantDate: "20260301T101530Z", wantSigned: "x-sdk-date;x-security-token", wantToken: "new",
		},
		{
			name: "host, user-agent and project signed, content-type json not", creds: creds,
			headers: map[string]string{"Host": "ecs.example.com", "User-Agent": "ua", "X-Project-Id": "p",
				"Content-Type": "application/json"},
			wantDate: "20260301T101530Z", wantSigned: "host;user-agent;x-project-id;x-sdk-date",
		},
		{
			name: "non-JSON content type gets an unsigned payload", creds: creds,
			headers:  map[string]string{"Content-Type": "application/octet-stream"},
			wantDate: "20260301T101530Z", wantSigned: "x-sdk-content-sha256;x-sdk-date", wantPayload: "UNSIGNED-PAYLOAD",
		},
		{
			name: "bson content type signs the payload", creds: creds,
			headers:  map[string]string{"Content-Type": "application/bson"},
			wantDate: "20260301T101530Z", wantSigned: "x-sdk-date",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := newVectorRequest(t, "GET", "https://ecs.example.com", "/v1/p/jobs/j", nil, tc.headers, nil)
			if err := Sign(req, nil, tc.creds, now); err != nil {
				t.Fatal(err)
			}
			if got := req.Header.Get("X-Sdk-Date"); got != tc.wantDate {
				t.Errorf("X-Sdk-Date = %q, want %q", got, tc.wantDate)
			}
			if !sdkDateRe.MatchString(req.Header.Get("X-Sdk-Date")) {
				t.Errorf("X-Sdk-Date %q does not match %s", req.Header.Get("X-Sdk-Date"), sdkDateRe)
			}
			if got := req.Header.Get("X-Security-Token"); got != tc.wantToken {
				t.Errorf("X-Security-Token = %q, want %q", got, tc.wantToken)
			}
			if got := req.Header.Get("X-Sdk-Content-Sha256"); got != tc.wantPayload {
				t.Errorf("X-Sdk-Content-Sha256 = %q, want %q", got, tc.wantPayload)
			}
			ak, signed, sig := parseAuthorization(t, req.Header.Get("Authorization"))
			if ak != tc.creds.AccessKey || signed != tc.wantSigned {
				t.Errorf("Access=%s SignedHeaders=%s, want %s and %s", ak, signed, tc.creds.AccessKey, tc.wantSigned)
			}
			// The signature is the one of the documented algorithm over the final headers.
			want := signature(tc.creds.SecretKey, tc.wantDate, canonicalRequest(req, req.Header.Get("Host"), strings.Split(signed, ";"), nil))
			if sig != want {
				t.Errorf("Signature = %s, want %s", sig, want)
			}
		})
	}
}

func TestSignPayload(t *testing.T) {
	creds := Credentials{AccessKey: "AK", SecretKey: "SK"}
	sign := func(ct string, body string) string {
		h := map[string]string{"X-Sdk-Date": "20260301T101530Z"}
		if ct != "" {
			h["Content-Type"] = ct
		}
		req := newVectorRequest(t, "POST", "https://ecs.example.com", "/x", nil, h, []byte(body))
		if err := Sign(req, []byte(body), creds, time.Time{}); err != nil {
			t.Fatal(err)
		}
		return req.Header.Get("Authorization")
	}
	if sign("application/json", "a") == sign("application/json", "b") {
		t.Error("a JSON body is not covered by the signature")
	}
	if sign("", "a") == sign("", "b") {
		t.Error("a body without content type is not covered by the signature")
	}
	if sign("text/plain", "a") != sign("text/plain", "b") {
		t.Error("an UNSIGNED-PAYLOAD body changed the signature")
	}
}

func TestSignRequiresKeys(t *testing.T) {
	for _, creds := range []Credentials{{}, {AccessKey: "AK"}, {SecretKey: "SK"}, {SecurityToken: "t"}} {
		req := newVectorRequest(t, "GET", "https://ecs.example.com", "/", nil, nil, nil)
		if err := Sign(req, nil, creds, time.Now()); err == nil {
			t.Errorf("Sign with %+v: no error", creds)
		}
		if got := req.Header.Get("Authorization"); got != "" {
			t.Errorf("Sign with %+v set Authorization %q", creds, got)
		}
	}
}

// TestSignVerifyRoundTrip sends signed requests to a real server that verifies them with req.Host.
func TestSignVerifyRoundTrip(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 15, 30, 0, time.UTC)
	keys := map[string]string{"AK1": "SK1", "AK2": "SK2"}
	secretFor := func(ak string) (string, bool) { sk, ok := keys[ak]; return sk, ok }

	var mu sync.Mutex
	var verr error
	var gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		verr = Verify(r, body, secretFor, now.Add(3*time.Minute), 15*time.Minute)
		gotPath = r.URL.Path
		mu.Unlock()
	}))
	defer srv.Close()
	srvURL, _ := url.Parse(srv.URL)

	tests := []struct {
		name    string
		method  string
		path    string
		query   url.Values
		headers map[string]string
		body    string
		creds   Credentials
	}{
		{name: "GET job with host", method: "GET", path: "/v1/p/jobs/j",
			headers: map[string]string{"Host": srvURL.Host, "User-Agent": "ua", "X-Project-Id": "p", "Content-Type": "application/json"},
			creds:   Credentials{AccessKey: "AK1", SecretKey: "SK1"}},
		{name: "GET with query and token", method: "GET", path: "/v3/p/traces",
			query:   url.Values{"limit": {"200"}, "next": {"a/b+c=d"}, "z": {"2", "1"}},
			headers: map[string]string{"Host": srvURL.Host, "X-Project-Id": "p"},
			creds:   Credentials{AccessKey: "AK2", SecretKey: "SK2", SecurityToken: "tok"}},
		{name: "escaped path", method: "GET", path: "/v1/p/jobs/job id:with%chars",
			headers: map[string]string{"Host": srvURL.Host},
			creds:   Credentials{AccessKey: "AK1", SecretKey: "SK1"}},
		{name: "POST with body, host not signed", method: "POST", path: "/v1/p/cloudservers/action",
			headers: map[string]string{"Content-Type": "application/json;charset=UTF-8"}, body: `{"os-stop":{}}`,
			creds: Credentials{AccessKey: "AK1", SecretKey: "SK1"}},
		{name: "POST with unsigned payload", method: "POST", path: "/upload",
			headers: map[string]string{"Host": srvURL.Host, "Content-Type": "text/plain"}, body: "hello",
			creds: Credentials{AccessKey: "AK2", SecretKey: "SK2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := newVectorRequest(t, tc.method, srv.URL, tc.path, tc.query, tc.headers, []byte(tc.body))
			if err := Sign(req, []byte(tc.body), tc.creds, now); err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			if verr != nil {
				t.Errorf("Verify on the server: %v", verr)
			}
			if gotPath != tc.path {
				t.Errorf("server saw path %q, want %q", gotPath, tc.path)
			}
		})
	}
}

func TestVerifyFailures(t *testing.T) {
	signedAt := time.Date(2026, 3, 1, 10, 15, 30, 0, time.UTC)
	const maxSkew = 15 * time.Minute
	keys := map[string]string{"AK": "SK"}
	secretFor := func(ak string) (string, bool) { sk, ok := keys[ak]; return sk, ok }

	newSigned := func(t *testing.T) *http.Request {
		req := newVectorRequest(t, "GET", "https://ecs.example.com", "/v1/p/jobs/j", url.Values{"a": {"1"}},
			map[string]string{"Host": "ecs.example.com", "X-Project-Id": "p", "User-Agent": "ua"}, nil)
		if err := Sign(req, nil, Credentials{AccessKey: "AK", SecretKey: "SK"}, signedAt); err != nil {
			t.Fatal(err)
		}
		return req
	}
	// resign writes an Authorization with a correct signature over the given signed headers.
	resign := func(req *http.Request, signed []string) {
		sig := signature("SK", req.Header.Get("X-Sdk-Date"), canonicalRequest(req, req.Host, signed, nil))
		req.Header.Set("Authorization", "SDK-HMAC-SHA256 Access=AK, SignedHeaders="+strings.Join(signed, ";")+", Signature="+sig)
	}

	tests := []struct {
		name      string
		mutate    func(req *http.Request)
		secretFor func(string) (string, bool)
		now       time.Time
		body      []byte
		wantMsg   string // "" = accepted
	}{
		{name: "untouched", wantMsg: ""},
		{name: "skew exactly maxSkew ahead accepted", now: signedAt.Add(maxSkew)},
		{name: "skew exactly maxSkew behind accepted", now: signedAt.Add(-maxSkew)},
		{name: "unsigned header changed is accepted", mutate: func(r *http.Request) { r.Header.Set("Content-Type", "text/html"); r.Header.Set("X_Trace", "1") }},
		{name: "wrong SK", secretFor: func(string) (string, bool) { return "other", true }, wantMsg: "signature mismatch"},
		{name: "unknown AK", secretFor: func(string) (string, bool) { return "", false }, wantMsg: "unknown access key"},
		{name: "missing Authorization", mutate: func(r *http.Request) { r.Header.Del("Authorization") }, wantMsg: "Authorization header missing"},
		{name: "tampered path", mutate: func(r *http.Request) { r.URL.Path = "/v1/p/jobs/k" }, wantMsg: "signature mismatch"},
		{name: "tampered query", mutate: func(r *http.Request) { r.URL.RawQuery = "a=2" }, wantMsg: "signature mismatch"},
		{name: "tampered method", mutate: func(r *http.Request) { r.Method = "DELETE" }, wantMsg: "signature mismatch"},
		{name: "tampered body", body: []byte("x"), wantMsg: "signature mismatch"},
		{name: "tampered signed header value", mutate: func(r *http.Request) { r.Header.Set("X-Project-Id", "q") }, wantMsg: "signature mismatch"},
		{name: "tampered host", mutate: func(r *http.Request) { r.Host = "evil.example.com" }, wantMsg: "signature mismatch"},
		{name: "tampered date within skew", mutate: func(r *http.Request) { r.Header.Set("X-Sdk-Date", "20260301T101531Z") }, wantMsg: "signature mismatch"},
		{name: "tampered signature", mutate: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			last := "0"
			if strings.HasSuffix(a, "0") {
				last = "1"
			}
			r.Header.Set("Authorization", a[:len(a)-1]+last)
		}, wantMsg: "signature mismatch"},
		{name: "date too old", now: signedAt.Add(maxSkew + time.Second), wantMsg: "more than 15m0s away"},
		{name: "date in the future", now: signedAt.Add(-maxSkew - time.Second), wantMsg: "more than 15m0s away"},
		{name: "date missing", mutate: func(r *http.Request) { r.Header.Del("X-Sdk-Date") }, wantMsg: "X-Sdk-Date missing or malformed"},
		{name: "date malformed", mutate: func(r *http.Request) { r.Header.Set("X-Sdk-Date", "2026-03-01T10:15:30Z") }, wantMsg: "X-Sdk-Date missing or malformed"},
		{name: "other algorithm", mutate: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SDK-HMAC-SHA256", "SDK-HMAC-SM3", 1))
		}, wantMsg: "unsupported signing algorithm"},
		{name: "malformed Authorization", mutate: func(r *http.Request) { r.Header.Set("Authorization", "SDK-HMAC-SHA256 garbage") }, wantMsg: "malformed Authorization header"},
		{name: "Authorization without signature", mutate: func(r *http.Request) {
			r.Header.Set("Authorization", "SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date")
		}, wantMsg: "malformed Authorization header"},
		{name: "Authorization without access key", mutate: func(r *http.Request) {
			r.Header.Set("Authorization", "SDK-HMAC-SHA256 SignedHeaders=x-sdk-date, Signature=00")
		}, wantMsg: "malformed Authorization header"},
		{name: "x-sdk-date not signed", mutate: func(r *http.Request) { resign(r, []string{"host", "x-project-id"}) }, wantMsg: "x-sdk-date is not signed"},
		{name: "re-signed with fewer headers is accepted", mutate: func(r *http.Request) { resign(r, []string{"x-sdk-date"}) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := newSigned(t)
			if tc.mutate != nil {
				tc.mutate(req)
			}
			sf := secretFor
			if tc.secretFor != nil {
				sf = tc.secretFor
			}
			now := signedAt.Add(time.Minute)
			if !tc.now.IsZero() {
				now = tc.now
			}
			err := Verify(req, tc.body, sf, now, maxSkew)
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatalf("Verify: %v, want success", err)
				}
				return
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("Verify error %v (%T), want *APIError", err, err)
			}
			if apiErr.StatusCode != http.StatusUnauthorized || apiErr.Code != "APIG.0301" {
				t.Errorf("got %d %s, want 401 APIG.0301", apiErr.StatusCode, apiErr.Code)
			}
			if !strings.HasPrefix(apiErr.Message, "Incorrect IAM authentication information: ") || !strings.Contains(apiErr.Message, tc.wantMsg) {
				t.Errorf("message %q does not name %q", apiErr.Message, tc.wantMsg)
			}
			if Reason(err) != ReasonAuth {
				t.Errorf("Reason = %q, want auth", Reason(err))
			}
		})
	}
}
