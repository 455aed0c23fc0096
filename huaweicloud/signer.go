package huaweicloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Algorithm is the signing scheme the official SDKs use by default and the API gateway accepts.
const Algorithm = "SDK-HMAC-SHA256"

// DateFormat is the layout of X-Sdk-Date.
const DateFormat = "20060102T150405Z"

const (
	headerDate          = "X-Sdk-Date"
	headerAuthorization = "Authorization"
	headerSecurityToken = "X-Security-Token"
	headerContentSHA256 = "X-Sdk-Content-Sha256"
	unsignedPayload     = "UNSIGNED-PAYLOAD"
)

// Sign signs req in place exactly like the official SDK: it sets X-Sdk-Date (unless a parsable one is
// present), X-Security-Token when creds has one, then Authorization. The signed headers are the headers
// present in req.Header, so a caller that wants "host" signed puts a Host entry there.
func Sign(req *http.Request, body []byte, creds Credentials, now time.Time) error {
	if creds.AccessKey == "" || creds.SecretKey == "" {
		return fmt.Errorf("sign: access key and secret key are required")
	}
	if ct := req.Header.Get("Content-Type"); ct != "" && !strings.Contains(ct, "application/json") && !strings.Contains(ct, "application/bson") {
		req.Header.Set(headerContentSHA256, unsignedPayload)
	}
	date := req.Header.Get(headerDate)
	if _, err := time.Parse(DateFormat, date); err != nil {
		date = now.UTC().Format(DateFormat)
		req.Header.Set(headerDate, date)
	}
	if creds.SecurityToken != "" {
		req.Header.Set(headerSecurityToken, creds.SecurityToken)
	}
	signed := signedHeaders(req.Header)
	sig := signature(creds.SecretKey, date, canonicalRequest(req, req.Header.Get("Host"), signed, body))
	req.Header.Set(headerAuthorization, fmt.Sprintf("%s Access=%s, SignedHeaders=%s, Signature=%s",
		Algorithm, creds.AccessKey, strings.Join(signed, ";"), sig))
	return nil
}

// Verify checks an incoming request's signature the way the API gateway does: the Authorization header
// names the access key and the signed headers, X-Sdk-Date must lie within maxSkew of now, and "host" (when
// signed) is taken from req.Host because servers move it out of req.Header. secretFor returns the secret
// key of an access key. The error is an *APIError (401, APIG.0301) that a fake gateway can write back.
func Verify(req *http.Request, body []byte, secretFor func(ak string) (sk string, ok bool), now time.Time, maxSkew time.Duration) error {
	fail := func(format string, args ...any) error {
		return &APIError{StatusCode: http.StatusUnauthorized, Code: "APIG.0301",
			Message: "Incorrect IAM authentication information: " + fmt.Sprintf(format, args...)}
	}
	auth := req.Header.Get(headerAuthorization)
	if auth == "" {
		return fail("Authorization header missing")
	}
	rest, ok := strings.CutPrefix(auth, Algorithm+" ")
	if !ok {
		return fail("unsupported signing algorithm")
	}
	var ak, signedList, sig string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Access":
			ak = v
		case "SignedHeaders":
			signedList = v
		case "Signature":
			sig = v
		}
	}
	if ak == "" || signedList == "" || sig == "" {
		return fail("malformed Authorization header")
	}
	sk, ok := secretFor(ak)
	if !ok {
		return fail("unknown access key")
	}
	date := req.Header.Get(headerDate)
	t, err := time.Parse(DateFormat, date)
	if err != nil {
		return fail("X-Sdk-Date missing or malformed")
	}
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return fail("X-Sdk-Date %s is more than %s away from server time", date, maxSkew)
	}
	signed := strings.Split(signedList, ";")
	if !containsString(signed, "x-sdk-date") {
		return fail("x-sdk-date is not signed")
	}
	want := signature(sk, date, canonicalRequest(req, req.Host, signed, body))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return fail("signature mismatch")
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// signedHeaders follows the SDK: every header but Content-Type and names with "_", lowercased, sorted.
func signedHeaders(h http.Header) []string {
	out := make([]string, 0, len(h))
	for k := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "content-type") || strings.Contains(lk, "_") || lk == "authorization" {
			continue
		}
		out = append(out, lk)
	}
	sort.Strings(out)
	return out
}

func canonicalRequest(req *http.Request, host string, signed []string, body []byte) string {
	var b strings.Builder
	b.WriteString(req.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(req.URL.Path))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(req.URL.Query()))
	b.WriteByte('\n')
	for _, name := range signed {
		v := req.Header.Get(name)
		if name == "host" {
			v = host
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.TrimSpace(v))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	if p := req.Header.Get(headerContentSHA256); p != "" {
		b.WriteString(p)
	} else {
		sum := sha256.Sum256(body)
		b.WriteString(hex.EncodeToString(sum[:]))
	}
	return b.String()
}

// canonicalURI escapes each segment and always ends with "/", although the wire path does not.
func canonicalURI(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = escape(s)
	}
	u := strings.Join(segs, "/")
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

func canonicalQuery(q map[string][]string) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vals := append([]string(nil), q[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			parts = append(parts, escape(k)+"="+escape(v))
		}
	}
	return strings.Join(parts, "&")
}

// escape percent-encodes every byte but the unreserved set, with upper-case hex, like the SDK.
func escape(s string) string {
	const hexdigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdigits[c>>4])
		b.WriteByte(hexdigits[c&15])
	}
	return b.String()
}

func signature(sk, date, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	sts := Algorithm + "\n" + date + "\n" + hex.EncodeToString(sum[:])
	mac := hmac.New(sha256.New, []byte(sk))
	mac.Write([]byte(sts))
	return hex.EncodeToString(mac.Sum(nil))
}
