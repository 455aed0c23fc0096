package huaweicloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
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
	// An absent date (every request of the client) cannot parse: skipping time.Parse spares its error.
	if date == "" || !validDate(date) {
		date = now.UTC().Format(DateFormat)
		req.Header.Set(headerDate, date)
	}
	if creds.SecurityToken != "" {
		req.Header.Set(headerSecurityToken, creds.SecurityToken)
	}
	// Every request is signed, so the work happens in buffers on the stack: one string, the
	// Authorization value, is all that is allocated for the signature.
	var names [16]string
	signed := appendSignedHeaders(names[:0], req.Header)
	var crBuf [1024]byte
	cr := appendCanonicalRequest(crBuf[:0], req, req.Header.Get("Host"), signed, body)
	var auth [256]byte
	a := append(auth[:0], Algorithm+" Access="...)
	a = append(a, creds.AccessKey...)
	a = append(a, ", SignedHeaders="...)
	a = appendJoined(a, signed)
	a = append(a, ", Signature="...)
	a = appendSignature(a, creds.SecretKey, date, cr)
	req.Header.Set(headerAuthorization, string(a))
	return nil
}

func validDate(date string) bool {
	_, err := time.Parse(DateFormat, date)
	return err == nil
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
	var crBuf [1024]byte
	var want [2 * sha256.Size]byte
	mac := appendSignature(want[:0], sk, date, appendCanonicalRequest(crBuf[:0], req, req.Host, signed, body))
	if !hmac.Equal(mac, []byte(sig)) {
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

// appendSignedHeaders follows the SDK: every header but Content-Type and names with "_", lowercased,
// sorted. It appends to dst so that Sign can keep the names on its stack.
func appendSignedHeaders(dst []string, h http.Header) []string {
	for k := range h {
		lk := lowerHeaderName(k)
		if strings.HasPrefix(lk, "content-type") || strings.Contains(lk, "_") || lk == "authorization" {
			continue
		}
		dst = append(dst, lk)
	}
	slices.Sort(dst)
	return dst
}

// lowerHeaderName is strings.ToLower without an allocation for the headers every request carries.
func lowerHeaderName(k string) string {
	switch k {
	case "User-Agent":
		return "user-agent"
	case "X-Project-Id":
		return "x-project-id"
	case "X-Sdk-Date":
		return "x-sdk-date"
	case "Host":
		return "host"
	case "Content-Type":
		return "content-type"
	case "Authorization":
		return "authorization"
	case "X-Security-Token":
		return "x-security-token"
	case "X-Sdk-Content-Sha256":
		return "x-sdk-content-sha256"
	}
	return strings.ToLower(k)
}

// headerValue is h.Get(name) for a lower-case name, without the allocation of canonicalising the names
// every request signs: for them the canonical key is spelt out.
func headerValue(h http.Header, name string) string {
	var k string
	switch name {
	case "user-agent":
		k = "User-Agent"
	case "x-project-id":
		k = "X-Project-Id"
	case "x-sdk-date":
		k = "X-Sdk-Date"
	case "x-security-token":
		k = "X-Security-Token"
	case "x-sdk-content-sha256":
		k = "X-Sdk-Content-Sha256"
	default:
		return h.Get(name)
	}
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func appendJoined(dst []byte, names []string) []byte {
	for i, n := range names {
		if i > 0 {
			dst = append(dst, ';')
		}
		dst = append(dst, n...)
	}
	return dst
}

func canonicalRequest(req *http.Request, host string, signed []string, body []byte) string {
	return string(appendCanonicalRequest(nil, req, host, signed, body))
}

// emptySHA256 is the payload hash of a request without a body, every GET.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func appendCanonicalRequest(b []byte, req *http.Request, host string, signed []string, body []byte) []byte {
	b = append(b, req.Method...)
	b = append(b, '\n')
	b = appendCanonicalURI(b, req.URL.Path)
	b = append(b, '\n')
	if req.URL.RawQuery != "" { // an empty query parses to an empty map, and that is ""
		b = append(b, canonicalQuery(req.URL.Query())...)
	}
	b = append(b, '\n')
	for _, name := range signed {
		v := host
		if name != "host" {
			v = headerValue(req.Header, name)
		}
		b = append(b, name...)
		b = append(b, ':')
		b = append(b, strings.TrimSpace(v)...)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	b = appendJoined(b, signed)
	b = append(b, '\n')
	switch p := req.Header.Get(headerContentSHA256); {
	case p != "":
		b = append(b, p...)
	case len(body) == 0:
		b = append(b, emptySHA256...)
	default:
		sum := sha256.Sum256(body)
		b = hex.AppendEncode(b, sum[:])
	}
	return b
}

// canonicalURI escapes each segment and always ends with "/", although the wire path does not.
func canonicalURI(path string) string { return string(appendCanonicalURI(nil, path)) }

// appendCanonicalURI is canonicalURI appended to b: escaping every byte but "/" is escaping each segment
// of the path split at "/", as the SDK does.
func appendCanonicalURI(b []byte, path string) []byte {
	start := len(b)
	for i := 0; i < len(path); i++ {
		if c := path[i]; c == '/' {
			b = append(b, c)
		} else {
			b = appendEscaped(b, c)
		}
	}
	if len(b) == start || b[len(b)-1] != '/' {
		b = append(b, '/')
	}
	return b
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
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		var enc [3]byte
		b.Write(appendEscaped(enc[:0], s[i]))
	}
	return b.String()
}

func appendEscaped(b []byte, c byte) []byte {
	const hexdigits = "0123456789ABCDEF"
	if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
		return append(b, c)
	}
	return append(b, '%', hexdigits[c>>4], hexdigits[c&15])
}

func signature(sk, date, canonical string) string {
	return string(appendSignature(nil, sk, date, []byte(canonical)))
}

// appendSignature appends hex(HMAC-SHA256(sk, string to sign)) to dst.
func appendSignature(dst []byte, sk, date string, canonical []byte) []byte {
	sum := sha256.Sum256(canonical)
	m := macs.get(sk)
	m.sts = append(m.sts[:0], Algorithm+"\n"...)
	m.sts = append(m.sts, date...)
	m.sts = append(m.sts, '\n')
	m.sts = hex.AppendEncode(m.sts, sum[:])
	m.h.Write(m.sts)
	m.sum = m.h.Sum(m.sum[:0])
	dst = hex.AppendEncode(dst, m.sum)
	macs.put(m)
	return dst
}

// macs keeps keyed HMAC-SHA256 states: hmac.New hashes the key into two SHA-256 states and allocates
// both, on every request of the same few keys. A state is used by one signature at a time; Reset brings
// it back to just after the key.
var macs = hmacCache{maxSecrets: 8, maxIdle: 16}

// hmacCache holds, for the maxSecrets secret keys used last, up to maxIdle idle states each (as many as
// the requests that sign at once). Bounded both ways, so rotated or refreshed temporary credentials
// cannot grow it: a key not used among the last maxSecrets is dropped with its states. The secrets are
// compared, never printed or logged.
type hmacCache struct {
	maxSecrets, maxIdle int

	mu      sync.Mutex
	tick    uint64
	entries []*hmacEntry
}

type hmacEntry struct {
	secret string
	used   uint64
	idle   []*keyedMAC
}

// keyedMAC is one keyed state with the buffers of the signature it computes, so that they are not
// allocated per signature either.
type keyedMAC struct {
	secret string
	h      hash.Hash
	sts    []byte // string to sign
	sum    []byte
}

func (c *hmacCache) get(secret string) *keyedMAC {
	c.mu.Lock()
	if e := c.find(secret); e != nil {
		if n := len(e.idle); n > 0 {
			m := e.idle[n-1]
			e.idle[n-1] = nil
			e.idle = e.idle[:n-1]
			c.mu.Unlock()
			return m
		}
	}
	c.mu.Unlock()
	return &keyedMAC{secret: secret, h: hmac.New(sha256.New, []byte(secret)), sts: make([]byte, 0, 128), sum: make([]byte, 0, sha256.Size)}
}

// put takes a state back after use, unless its key was dropped meanwhile or enough are idle.
func (c *hmacCache) put(m *keyedMAC) {
	m.h.Reset()
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.find(m.secret)
	if e == nil {
		e = &hmacEntry{secret: m.secret, used: c.tick}
		if len(c.entries) < c.maxSecrets {
			c.entries = append(c.entries, e)
		} else {
			lru := 0
			for i, x := range c.entries {
				if x.used < c.entries[lru].used {
					lru = i
				}
			}
			c.entries[lru] = e
		}
	}
	if len(e.idle) < c.maxIdle {
		e.idle = append(e.idle, m)
	}
}

// find returns the entry of secret and marks it used; c.mu is held.
func (c *hmacCache) find(secret string) *hmacEntry {
	c.tick++
	for _, e := range c.entries {
		if e.secret == secret {
			e.used = c.tick
			return e
		}
	}
	return nil
}
