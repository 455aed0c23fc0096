package huaweicloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Observer sees every HTTP attempt, retries included. code is the HTTP status code ("200", "429", ...)
// or "error" when no response arrived.
type Observer interface {
	ObserveRequest(service Service, region, code string, d time.Duration)
}

// Client queries the job and CTS APIs. One Client is shared by all scrapes: it holds the keep-alive
// connections and the authentication state of every access key.
type Client struct {
	hc          *http.Client
	userAgent   string
	obs         Observer
	now         func() time.Time
	maxBody     int64
	attempts    int
	retryBase   time.Duration
	retryMax    time.Duration
	authInitial time.Duration
	authMax     time.Duration
	sleep       func(ctx context.Context, d time.Duration) error

	adaptive bool

	mu       sync.Mutex
	keys     map[string]*keyState
	perms    map[permKey]*permState
	limiters map[limiterKey]*adaptiveLimiter

	endpointsMu sync.Mutex
	endpoints   map[string]*endpoint // parsed Target.Endpoint, at most maxEndpoints

	projects projectLimiters // the configured rate limit of each project and region

	failures failureLog // authentication and permission failures with their causes (Failures)
}

// keyState guards one access key. It is a gate with three states:
//
//   - open (good, and a request of the key succeeded less than keyFresh ago): requests go concurrently.
//     A key that has been quiet longer (between two scrapes) is probed again: revocation between scrapes
//     costs one failure, not one per request of the next scrape, for one round trip per scrape.
//   - closed (until in the future): an authentication failure closed it; nothing is sent until then.
//   - probing: a key not (or no longer) known to work lets a single probe request through and the others
//     wait for its outcome, so a wrong key costs one failure per back-off period, not one per watched job.
//
// The gate is asked before every attempt, not once per call: a call that waits (for the rate limiter, for
// a retry) after the key stopped working sends nothing. The first failure closes it; the failures of
// requests already on the wire at that moment (admitted in the same epoch) are one event, not one each,
// for the back-off. Those requests cannot be recalled: they are the only failures the client cannot
// prevent, at most one per request in flight for the key.
//
// Five failures in a row lock a key for five minutes ("How Do I Handle the Error APIG.0301?"), and the
// same key may be used by other tools. So besides the doubling back-off, a probe is never sent less than
// authWindow after the failure event before the previous one: at most two failure events per key in any
// five minutes, whatever the back-off settings.
type keyState struct {
	good     bool
	lastOK   time.Time // last success in the current epoch
	failures int       // consecutive failure events, for the doubling back-off
	until    time.Time
	probe    chan struct{} // non-nil while a probe is in flight, closed when it ends
	epoch    uint64        // incremented by every failure event
	events   [2]time.Time  // the latest two failure events, newest first
	rtt      time.Duration // round trip of the latest success: how long waiting for a probe takes
}

// keyFresh is how long a success keeps the gate open for concurrent requests. Within a scrape answers
// come much faster than this (at concurrency 16 one lands every few milliseconds); between two scrapes,
// including the two pulls of an HA pair a second apart, the key goes stale and the next pull probes it
// first. Short, so that a key revoked between two pulls costs one failure, not one per request in flight.
const keyFresh = 500 * time.Millisecond

// authWindow is the span in which at most two failure events of a key are allowed: Huawei locks a key
// after five consecutive failures for five minutes.
const authWindow = 5 * time.Minute

// pass is what admit hands out: the epoch of the gate when the request went through, and whether it is
// the probe.
type pass struct {
	probe bool
	epoch uint64
	at    time.Time // when the gate let the request through
}

// limiterKey names the unit of the adaptive rate limit: an endpoint host and an access key.
type limiterKey struct{ host, ak string }

// permKey names one service of one project as seen by one access key, the unit of a permission back-off.
type permKey struct {
	ak      string
	service Service
	project string
}

// permState backs a (key, service, project) off after a permission denial (403).
type permState struct {
	failures int
	until    time.Time
}

// Option configures a Client.
type Option func(*Client)

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithObserver reports every HTTP attempt to o.
func WithObserver(o Observer) Option { return func(c *Client) { c.obs = o } }

// WithClock replaces time.Now, for signing dates and back-off deadlines in tests.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithMaxBodyBytes caps the size of an answer; bigger answers are errors. Default 1 MiB.
func WithMaxBodyBytes(n int64) Option { return func(c *Client) { c.maxBody = n } }

// WithRetry sets how often throttled and 5xx answers are tried again (attempts in total, at least 1) and
// the bounds of the exponential back-off between attempts, which is jittered over [0, bound].
func WithRetry(maxAttempts int, base, max time.Duration) Option {
	return func(c *Client) {
		c.attempts, c.retryBase, c.retryMax = max1(maxAttempts), base, max
	}
}

// WithAdaptiveRateLimit paces requests per endpoint and access key once the cloud throttles them (see
// adaptiveLimiter), instead of answering every 429 with more concurrent retries.
func WithAdaptiveRateLimit() Option { return func(c *Client) { c.adaptive = true } }

// WithAuthBackoff sets how long an access key rests after an authentication failure: initial, doubling
// on every further failure up to max (and never less than needed to keep two failures per five minutes).
// A permission denial rests its (key, service, project) by the same schedule.
func WithAuthBackoff(initial, max time.Duration) Option {
	return func(c *Client) { c.authInitial, c.authMax = initial, max }
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// NewClient returns a Client sending requests through hc (nil: a client with default transport).
func NewClient(hc *http.Client, opts ...Option) *Client {
	if hc == nil {
		hc = &http.Client{}
	}
	c := &Client{
		hc:          hc,
		userAgent:   "huaweicloud-job-exporter",
		now:         time.Now,
		maxBody:     1 << 20,
		attempts:    4,
		retryBase:   200 * time.Millisecond,
		retryMax:    5 * time.Second,
		authInitial: time.Minute,
		authMax:     15 * time.Minute,
		sleep:       sleepCtx,
		keys:        map[string]*keyState{},
		perms:       map[permKey]*permState{},
		limiters:    map[limiterKey]*adaptiveLimiter{},
		endpoints:   map[string]*endpoint{},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// GetJob asks for one job at the path of its service's row in the service table (services.go), e.g.
// GET {Endpoint}/v1/{ProjectID}/jobs/{jobID}, and decodes it with the row's parser.
func (c *Client) GetJob(ctx context.Context, t Target, jobID string) (*Job, error) {
	if jobID == "" {
		return nil, errors.New("empty job id")
	}
	spec, ok := Spec(t.Service)
	if !ok || spec.Path == "" {
		return nil, fmt.Errorf("%s has no job API", t.Service)
	}
	var segs [8]string
	status, body, err := c.get(ctx, t, spec.appendJobPath(segs[:0], t.ProjectID, jobID), nil)
	c.failures.note(c.now(), t, err)
	if err != nil {
		return nil, err
	}
	defer body.release()
	return ParseJob(t.Service, status, body.b)
}

// TraceQuery selects CTS traces. From and To bound the record time (exclusive); Next is the marker of
// the previous page.
type TraceQuery struct {
	TraceType   string // "system" when empty
	ServiceType string // "ECS", "EVS" ...
	Next        string
	Limit       int // 1..200, default 200
	From, To    time.Time
}

// TracePage is one page of ListTraces. Marker is empty on the last page.
type TracePage struct {
	Traces []Trace
	Marker string
	Count  int
}

// Trace is the part of a CTS trace that discovery needs.
type Trace struct {
	TraceID      string
	TraceName    string
	ServiceType  string
	ResourceType string
	ResourceID   string
	Code         string // HTTP status of the traced request
	Response     string // body of the traced answer: for job-creating calls it names the job_id
	Time         time.Time
}

type wireTrace struct {
	TraceID      text `json:"trace_id"`
	TraceName    text `json:"trace_name"`
	ServiceType  text `json:"service_type"`
	ResourceType text `json:"resource_type"`
	ResourceID   text `json:"resource_id"`
	Code         text `json:"code"`
	Response     text `json:"response"`
	Time         text `json:"time"`
}

// ListTraces reads one page of CTS traces: GET {Endpoint}/v3/{ProjectID}/traces.
func (c *Client) ListTraces(ctx context.Context, t Target, q TraceQuery) (*TracePage, error) {
	v := url.Values{}
	v.Set("trace_type", q.TraceType)
	if q.TraceType == "" {
		v.Set("trace_type", "system")
	}
	limit := q.Limit
	if limit <= 0 || limit > 200 {
		limit = 200
	}
	v.Set("limit", strconv.Itoa(limit))
	if q.ServiceType != "" {
		v.Set("service_type", q.ServiceType)
	}
	if q.Next != "" {
		v.Set("next", q.Next)
	}
	if !q.From.IsZero() {
		v.Set("from", strconv.FormatInt(q.From.UnixMilli(), 10))
	}
	if !q.To.IsZero() {
		v.Set("to", strconv.FormatInt(q.To.UnixMilli(), 10))
	}
	_, body, err := c.get(ctx, t, []string{"v3", t.ProjectID, "traces"}, v)
	c.failures.note(c.now(), t, err)
	if err != nil {
		return nil, err
	}
	defer body.release()
	var w struct {
		Traces   []wireTrace `json:"traces"`
		MetaData struct {
			Count  int  `json:"count"`
			Marker text `json:"marker"`
		} `json:"meta_data"`
	}
	if err := json.Unmarshal(body.b, &w); err != nil {
		return nil, fmt.Errorf("%w: traces body is not valid JSON: %v", errBadResponse, err)
	}
	page := &TracePage{Marker: capText(string(w.MetaData.Marker), maxFailReasonBytes), Count: w.MetaData.Count, Traces: make([]Trace, 0, len(w.Traces))}
	for _, wt := range w.Traces {
		page.Traces = append(page.Traces, Trace{
			TraceID: capText(string(wt.TraceID), maxIDBytes), TraceName: capText(string(wt.TraceName), maxJobTypeBytes),
			ServiceType: capText(string(wt.ServiceType), maxJobTypeBytes), ResourceType: capText(string(wt.ResourceType), maxJobTypeBytes),
			ResourceID: capText(string(wt.ResourceID), maxIDBytes), Code: capText(string(wt.Code), maxErrorCodeBytes),
			// Whole, see the caps in job.go: it is what names the job id.
			Response: strings.ToValidUTF8(string(wt.Response), "\uFFFD"), Time: parseTime(string(wt.Time)),
		})
	}
	return page, nil
}

// get sends a signed GET with retries and returns the status and body of a 2xx answer. The body is a
// pooled buffer: the caller releases it once nothing refers to its bytes any more.
func (c *Client) get(ctx context.Context, t Target, segments []string, query url.Values) (int, *bodyBuffer, error) {
	ep, err := c.endpoint(t)
	if err != nil {
		return 0, nil, err
	}
	// Asked once per call, not per attempt: retries of one call sign with one key, and the key's
	// authentication state below is that of the key the provider hands out now, so after a rotation the
	// new key starts with its own state.
	creds, err := t.credentials(ctx)
	if err != nil {
		return 0, nil, err
	}
	u := ep.url(segments)
	u.RawQuery = query.Encode()

	// The request path is a retry loop around one attempt: the admission's gates, the attempt, what the
	// gates learn from it, and whether and when to try again.
	a := c.admission(t, u.Host, creds.AccessKey)
	var last error // the answer of the previous attempt, if one was sent
	// A retry that is not sent leaves the answer the call had as its outcome: the call did ask.
	outcome := func(err error) error {
		if last != nil && Deferred(err) {
			return last
		}
		return err
	}
	for attempt := 1; ; attempt++ {
		p, err := a.enter(ctx)
		if err != nil {
			return 0, nil, outcome(err)
		}
		status, body, err := c.once(ctx, t, creds, u)
		a.leave(p, err)
		if err == nil {
			return status, body, nil
		}
		wait, again := c.retryWait(ctx, err, attempt)
		if !again {
			return 0, nil, outcome(err)
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return 0, nil, err
		}
		last = err
	}
}

// endpoint is a parsed Target.Endpoint with its path as the prefix of every request's path.
type endpoint struct {
	base              url.URL
	prefix, rawPrefix string // the endpoint's path without a trailing "/", decoded and escaped
}

// maxEndpoints bounds the parsed endpoints kept: a config names one per project and service, and each
// reload may name new ones. A full cache starts afresh.
const maxEndpoints = 1024

// endpoint parses t.Endpoint once instead of on every call; an invalid one is not kept.
func (c *Client) endpoint(t Target) (*endpoint, error) {
	c.endpointsMu.Lock()
	ep := c.endpoints[t.Endpoint]
	c.endpointsMu.Unlock()
	if ep != nil {
		return ep, nil
	}
	base, err := url.Parse(t.Endpoint)
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, fmt.Errorf("invalid %s endpoint %q", t.Service, t.Endpoint)
	}
	ep = &endpoint{base: *base, prefix: strings.TrimSuffix(base.Path, "/"), rawPrefix: strings.TrimSuffix(base.EscapedPath(), "/")}
	c.endpointsMu.Lock()
	if len(c.endpoints) >= maxEndpoints {
		clear(c.endpoints)
	}
	c.endpoints[t.Endpoint] = ep
	c.endpointsMu.Unlock()
	return ep, nil
}

// url returns a new URL of the endpoint with segments appended to its path, each escaped as one path
// segment.
func (ep *endpoint) url(segments []string) *url.URL {
	u := new(url.URL)
	*u = ep.base
	var pathBuf, rawBuf [256]byte
	p := append(pathBuf[:0], ep.prefix...)
	r := append(rawBuf[:0], ep.rawPrefix...)
	for _, s := range segments {
		p = append(append(p, '/'), s...)
		r = append(append(r, '/'), url.PathEscape(s)...)
	}
	u.Path = string(p)
	u.RawPath = u.Path
	if !bytes.Equal(p, r) {
		u.RawPath = string(r)
	}
	return u
}

func (c *Client) limiter(host, ak string) *adaptiveLimiter {
	if !c.adaptive {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := limiterKey{host, ak}
	l := c.limiters[k]
	if l == nil {
		l = &adaptiveLimiter{}
		c.limiters[k] = l
	}
	return l
}

// backoff is "full jitter": uniform in [0, min(max, base*2^(attempt-1))], which spreads the retries of
// many concurrent queries instead of synchronising them against a rate limit.
func (c *Client) backoff(attempt int) time.Duration {
	bound := c.retryBase << (attempt - 1)
	if bound > c.retryMax || bound <= 0 {
		bound = c.retryMax
	}
	if bound <= 0 {
		return 0
	}
	return rand.N(bound + 1)
}

// once sends one attempt.
func (c *Client) once(ctx context.Context, t Target, creds Credentials, u *url.URL) (int, *bodyBuffer, error) {
	// A request that never left is not an API request: it must not count as one with code "error".
	st := &sendTrace{}
	st.trace.WroteHeaders = func() { st.wrote.Store(true) }
	ctx = httptrace.WithClientTrace(ctx, &st.trace)
	// The URL is built, not parsed from a string: url.Parse of the whole URL cost as much as the rest of
	// the request. What http.NewRequestWithContext would do with u.String() is done here: u is copied
	// (the request owns its URL) and an empty port is removed from the URL's host and the request's.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "", nil)
	if err != nil {
		return 0, nil, err
	}
	ru := *u
	ru.Host = strings.TrimSuffix(u.Host, ":")
	req.URL, req.Host = &ru, ru.Host
	// Header.Set with canonical names is exactly this; one backing array instead of one per value.
	vals := [...]string{c.userAgent, "application/json", t.ProjectID, u.Host}
	req.Header["User-Agent"] = vals[0:1:1]
	req.Header["Content-Type"] = vals[1:2:2]
	req.Header["X-Project-Id"] = vals[2:3:3]
	req.Header["Host"] = vals[3:4:4]
	if err := Sign(req, nil, creds, c.now()); err != nil {
		return 0, nil, err
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() == nil || st.wrote.Load() {
			c.observe(t, "error", time.Since(start))
			return 0, nil, err
		}
		return 0, nil, deferred(err)
	}
	body := newBodyBuffer()
	rerr := c.readBody(resp, body)
	c.observe(t, statusCode(resp.StatusCode), time.Since(start))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := newAPIError(resp, body.b, c.now())
		body.release()
		e.Service, e.Host = t.Service, u.Host
		return 0, nil, e
	}
	if rerr != nil {
		body.release()
		return 0, nil, rerr
	}
	if e := c.throttledBody(t, resp, body.b, u.Host); e != nil {
		body.release()
		return 0, nil, e
	}
	return resp.StatusCode, body, nil
}

// throttledBody returns the error a 2xx answer carries when it is flow control, else nil. ECS answers
// flow control with HTTP 202 and an error body; it must not pass for a job. Only a throttling code makes
// a 2xx body an error here, so a body that names none is not parsed twice: job answers carry
// "error_code" too, and parsing each of them again cost a tenth of the CPU of a scrape cycle.
func (c *Client) throttledBody(t Target, resp *http.Response, body []byte, host string) *APIError {
	if !mayBeThrottled(body) {
		return nil
	}
	code, msg, ok := parseAPIError(body)
	if !ok {
		return nil
	}
	e := bodyError(t.Service, resp.StatusCode, code, msg)
	e.RequestID, e.Host = capText(resp.Header.Get("X-Request-Id"), maxIDBytes), host
	e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), c.now())
	if !e.Throttled() {
		return nil
	}
	return e
}

// sendTrace tells whether a request's headers were written, in one allocation with its trace.
type sendTrace struct {
	trace httptrace.ClientTrace
	wrote atomic.Bool
}

// statusCodes are the status codes as label values, so that observing a request allocates nothing.
var statusCodes = func() (s [600]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func statusCode(code int) string {
	if code >= 0 && code < len(statusCodes) {
		return statusCodes[code]
	}
	return strconv.Itoa(code)
}

// mayBeThrottled tells whether a 2xx body may hold an error that APIError.Throttled accepts: it names
// Common.0024, Common.1503 or a gateway's 0308 (APIG.0308, APIGW.0308), and a "code" or "error_code".
// The rare codes are looked for first, and "Common." once for both of its codes: a job answer is
// scanned twice, not five times.
func mayBeThrottled(body []byte) bool {
	return (bytes.Contains(body, []byte("0308")) || containsCommonThrottle(body)) &&
		(bytes.Contains(body, []byte(`"code"`)) || bytes.Contains(body, []byte(`"error_code"`)))
}

// containsCommonThrottle tells whether body contains Common.0024 or Common.1503.
func containsCommonThrottle(body []byte) bool {
	for {
		i := bytes.Index(body, []byte("Common."))
		if i < 0 {
			return false
		}
		body = body[i+len("Common."):]
		if bytes.HasPrefix(body, []byte("0024")) || bytes.HasPrefix(body, []byte("1503")) {
			return true
		}
	}
}

// readBody reads at most maxBody bytes into body and always leaves the connection reusable. An answer
// larger than maxBody leaves its first maxBody bytes in body and is an error.
func (c *Client) readBody(resp *http.Response, body *bodyBuffer) error {
	eof := false
	defer func() {
		if !eof {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 256<<10))
		}
		resp.Body.Close()
	}()
	b := body.b[:0]
	if n := resp.ContentLength; n > 0 && n <= c.maxBody && int64(cap(b)) <= n {
		// Room for the answer and for seeing its end without growing.
		b = slices.Grow(b, int(n)+1)
	}
	// Like io.ReadAll of io.LimitReader(resp.Body, maxBody+1), into the pooled buffer.
	limit := c.maxBody + 1
	var err error
	for int64(len(b)) < limit {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		room := b[len(b):min(int64(cap(b)), limit)]
		var n int
		n, err = resp.Body.Read(room)
		b = b[:len(b)+n]
		if err != nil {
			break
		}
	}
	body.b = b
	if err == io.EOF {
		eof, err = true, nil
	}
	if err != nil {
		return err
	}
	if int64(len(b)) > c.maxBody {
		body.b = b[:c.maxBody]
		return fmt.Errorf("%w: answer larger than %d bytes", errBadResponse, c.maxBody)
	}
	return nil
}

// bodyBuffer holds an answer's body. Its bytes are reused once released, so nothing kept after the
// release may alias them: the JSON decoder copies the strings it decodes, and the errors built from a
// body (newAPIError, bodyError, the decoder's) hold copies.
type bodyBuffer struct{ b []byte }

// maxPooledBody is the largest buffer kept for reuse: a job answer is a few KiB, and the rare large one
// (a batch of hundreds of servers, up to the body cap) should not stay in the pool.
const maxPooledBody = 64 << 10

var bodyPool = sync.Pool{New: func() any { return &bodyBuffer{b: make([]byte, 0, 4<<10)} }}

func newBodyBuffer() *bodyBuffer { return bodyPool.Get().(*bodyBuffer) }

func (b *bodyBuffer) release() {
	if scribbleReleasedBodies {
		for i := range b.b {
			b.b[i] = 'X'
		}
	}
	if cap(b.b) > maxPooledBody {
		return
	}
	b.b = b.b[:0]
	bodyPool.Put(b)
}

// scribbleReleasedBodies is set by tests: a released body is overwritten, so that a job or an error
// that still aliases it shows it, whether or not the pool hands the buffer out again.
var scribbleReleasedBodies bool

func (c *Client) observe(t Target, code string, d time.Duration) {
	if c.obs != nil {
		c.obs.ObserveRequest(t.Service, t.Region, code, d)
	}
}

// admit lets a request for access key ak go ahead, or refuses it while the key is backed off. The pass
// says whether this request is the probe that finds out whether a key not known to work works.
func (c *Client) admit(ctx context.Context, ak string) (pass, error) {
	for {
		c.mu.Lock()
		st := c.keys[ak]
		if st == nil {
			st = &keyState{}
			c.keys[ak] = st
		}
		now := c.now()
		switch {
		case st.good && (now.Sub(st.lastOK) < keyFresh || probeTooLate(ctx, st, now)):
			p := pass{epoch: st.epoch, at: now}
			c.mu.Unlock()
			return p, nil
		case now.Before(st.until):
			until := st.until
			c.mu.Unlock()
			return pass{}, fmt.Errorf("%w until %s", ErrAuthBackoff, until.UTC().Format(time.RFC3339))
		case st.probe == nil:
			st.probe = make(chan struct{})
			p := pass{probe: true, epoch: st.epoch, at: now}
			c.mu.Unlock()
			return p, nil
		}
		wait := st.probe
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return pass{}, ctx.Err()
		}
	}
}

// probeTooLate tells whether a request of a key that worked (st.good) and went quiet would wait for the
// probe in vain: the probe's answer (one round trip, as long as the latest success took) and then the
// request's own round trip would end after ctx's deadline, so waiting could only make it time out. It
// goes at once instead: at 2 s of latency and a 2.5 s budget, every job of a pull can still be answered,
// where waiting refreshed one. The cost, if the key was revoked meanwhile, is at most one failure per
// request in flight, one event for the back-off (settle); with st.good false (a key not known to work)
// every request still waits for the probe.
func probeTooLate(ctx context.Context, st *keyState, now time.Time) bool {
	if st.probe == nil || st.rtt <= 0 {
		return false
	}
	dl, ok := ctx.Deadline()
	return ok && now.Add(2*st.rtt).After(dl)
}

// settle records what a request learnt about its key: 1 works, -1 rejected, 0 nothing (no answer, or
// not sent). Only a request admitted in the current epoch speaks: a success that was on the wire when
// another request's failure closed the gate must not reopen it, and the failures of requests that were
// on the wire together are one event.
func (c *Client) settle(ak string, p pass, outcome int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.keys[ak]
	if st == nil {
		return
	}
	if p.epoch == st.epoch {
		switch {
		case outcome > 0:
			st.good, st.lastOK, st.failures, st.until = true, c.now(), 0, time.Time{}
			if !p.at.IsZero() {
				st.rtt = st.lastOK.Sub(p.at)
			}
		case outcome < 0:
			now := c.now()
			st.good = false
			st.epoch++
			st.failures++
			d := c.authInitial << (st.failures - 1)
			if d > c.authMax || d <= 0 {
				d = c.authMax
			}
			st.until = now.Add(d)
			// With this failure and the previous one, a third must wait until the previous one is
			// authWindow old.
			if prev := st.events[0]; !prev.IsZero() && prev.Add(authWindow).After(st.until) {
				st.until = prev.Add(authWindow)
			}
			st.events = [2]time.Time{now, st.events[0]}
		}
	}
	if p.probe && st.probe != nil {
		close(st.probe)
		st.probe = nil
	}
}

// permitted refuses a request for a (key, service, project) backed off after a permission denial.
func (c *Client) permitted(k permKey) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := c.perms[k]
	if ps == nil || !c.now().Before(ps.until) {
		return nil
	}
	return fmt.Errorf("%w: %s in project %s until %s", ErrPermissionBackoff, k.service, k.project, ps.until.UTC().Format(time.RFC3339))
}

// denied backs a (key, service, project) off after a permission denial, by the key back-off's schedule:
// the policy will not change by itself within seconds, and every denied query is noise in the cloud's
// audit trail.
func (c *Client) denied(k permKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := c.perms[k]
	if ps == nil {
		ps = &permState{}
		c.perms[k] = ps
	}
	ps.failures++
	d := c.authInitial << (ps.failures - 1)
	if d > c.authMax || d <= 0 {
		d = c.authMax
	}
	ps.until = c.now().Add(d)
}

// allowed forgets a permission back-off once the (key, service, project) is answered again.
func (c *Client) allowed(k permKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.perms, k)
}
