// Package simulator is a loopback Huawei Cloud: it serves the asynchronous-job API of every service of
// the exporter's service table (ECS, EVS, BMS, IMS, EIP and SDRS at GET /v1/{project_id}/jobs/{job_id};
// CCE, ELB and CFW at their own paths and in their own shapes, see services.go) and CTS traces
// (GET /v3/{project_id}/traces) the way the real
// cloud answers, behind a fake API gateway that checks SDK-HMAC-SHA256 signatures, throttles, injects
// latency, 5xx and malformed answers, and counts every request. It is used by the tests, the benchmarks
// and the exporter's --demo; cmd/hwsim runs it on its own.
//
// Jobs are stored as compact specs and their state is a pure function of the clock: nothing runs per job.
//
// Every answer decodes with the response models of the official Go SDK (huaweicloud-sdk-go-v3 v0.1.207)
// without a field the model lacks or a status the service's document does not list; the test module in
// simulator/sdkcheck checks this for every scenario. Shapes, with their sources:
//
//   - ECS (services/ecs/v2/model, doc ecs_02_0901): entities.server_id for a job without sub-jobs, else
//     sub_jobs_total and sub_jobs; a failed sub-job carries entities.errorcode_message, and fail_reason on
//     every other one (both fields are documented; which one the service fills is not). end_time null
//     until the end.
//   - BMS (services/bms/v1/model, doc bms_api_0640): entities has only sub_jobs_total and sub_jobs, 0 and
//     [] when there are no sub-jobs (also while INIT); sub-jobs are baremetalSingleCreate with entities
//     {server_id}, error_code and fail_reason, and message/code null. end_time "" until the end, as EVS.
//   - EVS (services/evs/v2/model, doc evs_04_0054 and its example): entities.volume_id, or sub_jobs only
//     (no sub_jobs_total); end_time "" until the end.
//   - IMS (services/ims/v2/model): entities image_name, current_task, process_percent, image_id and
//     results once done.
//   - PENDING_PAYMENT exists only for ECS and BMS, whose documents (ecs_02_0901, bms_api_0640) list it;
//     the SDK enums of both omit it (they accept any string). What an unpaid job's entities hold is not
//     documented: the order has created nothing yet, so ECS answers entities {} and BMS its empty form
//     {"sub_jobs_total":0,"sub_jobs":[]}. The exporter reads sub_jobs_total falling back to the length of
//     sub_jobs, so either reading is safe.
//
// The gateway and the errors, and the choices made where Huawei's documentation is silent:
//
//   - Every request is first checked like the API gateway does (huaweicloud.Verify): a missing, unknown,
//     wrong or stale (X-Sdk-Date more than MaxSkew away) signature gets 401
//     {"error_code":"APIG.0301","error_msg":"Incorrect IAM authentication information: ...","request_id":...}.
//   - Token authentication: an unsigned request with X-Auth-Token naming one of Options.Tokens is served
//     like a signed one; any other token gets the same 401 APIG.0301, with error_msg "Incorrect IAM
//     authentication information: decrypt token fail" (FAQ "How Do I Handle the Error APIG.0301?",
//     https://support.huaweicloud.com/intl/en-us/ocr_faq/ocr_01_0063.html; API Gateway FAQ "Common Errors
//     Related to IAM Authentication Information", apig-faq-0003, gives the same body).
//     The services' API references offer this beside AK/SK signing, e.g. CTS "Authentication",
//     https://support.huaweicloud.com/intl/en-us/api-cts/cts_api_0004.html: a token from IAM's
//     "Obtaining a User Token", sent as X-Auth-Token. The exporter always signs; the benchmark's
//     json_exporter, which cannot, uses a token.
//   - A request for another project than Options.ProjectID (path segment, or a signed X-Project-Id header
//     naming another project) gets 403 {"error_code":"APIG.0302","error_msg":"The IAM user is not authorized
//     to access the API: ..."}: the key is valid but has no rights in that project (the exporter counts it
//     as reason permission, not as a bad key). An empty
//     Options.ProjectID accepts every project.
//   - Flow control: the gateway's 429 APIG.0308 with Retry-After: 1 for every API (docs "How Do I Handle
//     the Error APIG.0308?"). Only for ECS jobs, FlowControlShare of throttled queries get ECS's own HTTP
//     202 {"code":"Common.0024","message":"Flow limit exceeded."} instead (ECS error-code appendix; the
//     ECS ShowJob model has top-level code/message). The EVS, BMS and IMS documents name no flow-control
//     code of their own, so they are throttled by the gateway only; the exporter also reads a 2xx
//     {"error":{...}} body (the EVS job document's error shape) or a BMS top-level code/message as an
//     error, should a service send one. CTS is always 429.
//   - Server errors: 500 {"error":{"message":"Internal server error.","code":"Common.0002"}}.
//   - Malformed answers: HTTP 200 with the first half of the real answer (truncated JSON).
//   - An unknown job id, whatever the service: 400 {"error":{"message":"Failed to query system tasks.",
//     "code":"Common.0011"}} (the simulator cannot tell which service the client meant). A known job past
//     its retention answers the same for ECS, BMS and IMS; an expired EVS job answers 404
//     {"error":{"message":"The job does not exist or has been deleted.","code":"EVS.5400"}}, the EVS error
//     shape of testdata/api/evs-error.json. Both are "not_found" for huaweicloud.Reason.
//   - Routes other than the two above: 404 {"error_code":"APIG.0101","error_msg":"The API does not exist or
//     has not been published in the environment"}; other methods than GET on them: 405 with the same code
//     and an Allow: GET header.
//   - CTS errors are 400 {"error_code":"CTS.0202","error_msg":"Invalid parameter: ..."} naming the
//     parameter: trace_type missing or not system|data, limit not in 1..200, from/to not ms timestamps,
//     next not a marker this CTS handed out.
//   - CTS pages (services/cts/v3/model): meta_data.marker is null on the last page (model_meta_data.go);
//     the exporter treats "" the same. resource_url is the resource's API path without the endpoint
//     (model_traces.go: "不含endpoint"; no document shows an example, the path is an assumption the
//     exporter never reads), endpoint the service's API host (also undocumented by example), and
//     resource_account_id is absent: model_traces.go fills it only for cross-account operations.
package simulator

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// Options configure a Simulator. The zero value is a usable cloud that accepts no credentials.
type Options struct {
	Seed        int64
	Credentials map[string]string // access key -> secret key; requests signed otherwise get 401 APIG.0301
	ProjectID   string            // requests for other projects get 403 APIG.0302; "" accepts any project
	Region      string            // used in CTS traces (endpoint) only

	MaxSkew       time.Duration // X-Sdk-Date tolerance, default 15m
	Latency       time.Duration // base latency added to every answer (0 = none)
	LatencyJitter time.Duration // extra uniform random [0,LatencyJitter), seeded

	RateLimit        float64 // requests per second over job and CTS requests (token bucket, burst max(1, RateLimit)); 0 = unlimited
	FlowControlShare float64 // share of throttled ECS job answers sent as HTTP 202 Common.0024 instead of 429 APIG.0308
	ServerErrorRate  float64 // share of answers that are 500 Common.0002
	MalformedRate    float64 // share of answers that are truncated JSON with 200

	// Retention: final jobs vanish this long after their end_time (default 24h, negative: never).
	// PENDING_PAYMENT jobs vanish 14 days after they began.
	Retention time.Duration
	Now       func() time.Time // clock, default time.Now

	// Metadata and IAM, when set, serve temporary credentials on the simulator's address (metadata.go,
	// iam.go); the gateway accepts them with their X-Security-Token until they expire.
	Metadata *MetadataOptions
	IAM      *IAMOptions

	// Tokens are IAM tokens the gateway accepts in X-Auth-Token on an unsigned request (token
	// authentication, see the package comment). Clients that cannot sign, such as json_exporter in the
	// side-by-side benchmark, authenticate this way.
	Tokens []string
}

// PendingPaymentRetention is how long an unpaid job is kept (ECS documentation: deleted after 14 days).
const PendingPaymentRetention = 14 * 24 * time.Hour

// Simulator is a simulated Huawei Cloud. All methods are safe for concurrent use.
type Simulator struct {
	opts Options
	now  func() time.Time
	seed int64

	store  jobStore
	bucket tokenBucket
	stats  statsCounter

	faultMu  sync.Mutex
	faultRNG *rand.Rand // fault and flow-control decisions, one draw sequence per request order
	jitterMu sync.Mutex
	jitter   *rand.Rand
	reqIDMu  sync.Mutex
	reqIDRNG *rand.Rand

	identity traceIdentity
	temp     tempStore
	tokens   map[string]bool

	srvMu   sync.Mutex
	servers []*http.Server
}

// New returns a Simulator with no jobs.
func New(opts Options) *Simulator {
	if opts.MaxSkew <= 0 {
		opts.MaxSkew = 15 * time.Minute
	}
	if opts.Retention == 0 {
		opts.Retention = 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	creds := make(map[string]string, len(opts.Credentials))
	for k, v := range opts.Credentials {
		creds[k] = v
	}
	opts.Credentials = creds
	tokens := make(map[string]bool, len(opts.Tokens))
	for _, t := range opts.Tokens {
		tokens[t] = true
	}
	seed := uint64(opts.Seed)
	s := &Simulator{
		opts:     opts,
		now:      opts.Now,
		seed:     opts.Seed,
		faultRNG: rand.New(rand.NewPCG(seed, 0xfa0170)),
		jitter:   rand.New(rand.NewPCG(seed, 0x717e)),
		reqIDRNG: rand.New(rand.NewPCG(seed, 0x4e9d)),
		tokens:   tokens,
	}
	s.store.init(seed)
	s.bucket = tokenBucket{rate: opts.RateLimit, burst: max(1, opts.RateLimit)}
	s.bucket.tokens = s.bucket.burst
	s.stats.reset()
	s.identity = newTraceIdentity(opts)
	return s
}

// Handler serves the simulated cloud, e.g. for httptest.NewServer.
func (s *Simulator) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start listens on addr (e.g. "127.0.0.1:0"), serves in the background and returns the base URL
// "http://host:port". Close stops every server started this way.
func (s *Simulator) Start(addr string) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.srvMu.Lock()
	s.servers = append(s.servers, srv)
	s.srvMu.Unlock()
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), nil
}

// Close stops the servers started by Start, interrupting requests in flight. It is safe to call twice.
func (s *Simulator) Close() error {
	s.srvMu.Lock()
	servers := s.servers
	s.servers = nil
	s.srvMu.Unlock()
	var errs []error
	for _, srv := range servers {
		if err := srv.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Stats counts the requests served. Requests, ByCode, ByJob, Throttled and AuthFailures cover the job API
// (GET /v1/{project_id}/jobs/{job_id}); CTS requests are counted in TraceRequests and TraceByCode;
// requests matching no route in Unrouted.
type Stats struct {
	Requests      int64            // all job-API requests served
	ByCode        map[int]int64    // HTTP status code -> count (202 flow control counted as 202)
	ByJob         map[string]int64 // job id -> requests
	Throttled     int64            // 429 + 202 Common.0024 answers
	AuthFailures  int64            // 401 APIG.0301 and 403 APIG.0302 answers (signature and permission denials)
	TraceRequests int64            // CTS requests
	TraceByCode   map[int]int64    // CTS: HTTP status code -> count
	Unrouted      int64            // requests for no known API (404 APIG.0101, 405)
}

type statsCounter struct {
	mu sync.Mutex
	st Stats
}

func (c *statsCounter) reset() {
	c.mu.Lock()
	c.st = Stats{ByCode: map[int]int64{}, ByJob: map[string]int64{}, TraceByCode: map[int]int64{}}
	c.mu.Unlock()
}

// Stats returns a copy of the counters.
func (s *Simulator) Stats() Stats {
	c := &s.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.st
	out.ByCode = make(map[int]int64, len(c.st.ByCode))
	for k, v := range c.st.ByCode {
		out.ByCode[k] = v
	}
	out.ByJob = make(map[string]int64, len(c.st.ByJob))
	for k, v := range c.st.ByJob {
		out.ByJob[k] = v
	}
	out.TraceByCode = make(map[int]int64, len(c.st.TraceByCode))
	for k, v := range c.st.TraceByCode {
		out.TraceByCode[k] = v
	}
	return out
}

// ResetStats sets every counter to zero.
func (s *Simulator) ResetStats() { s.stats.reset() }

// requestKind is what a request asks for.
type requestKind int

const (
	kindNone requestKind = iota
	kindJob
	kindTraces
)

// outcome of one request, for the counters.
type served struct {
	kind      requestKind
	jobID     string
	code      int
	throttled bool
	auth      bool
}

func (s *Simulator) record(r served) {
	c := &s.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	switch r.kind {
	case kindJob:
		c.st.Requests++
		c.st.ByCode[r.code]++
		c.st.ByJob[r.jobID]++
		if r.throttled {
			c.st.Throttled++
		}
		if r.auth {
			c.st.AuthFailures++
		}
	case kindTraces:
		c.st.TraceRequests++
		c.st.TraceByCode[r.code]++
	default:
		c.st.Unrouted++
	}
}

// route splits a path into the API it names: a job API of the exporter's service table (api is its
// path template), or CTS traces.
func route(path string) (kind requestKind, api, project, jobID string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) == 3 && segs[0] == "v3" && segs[1] != "" && segs[2] == "traces" {
		return kindTraces, "", segs[1], ""
	}
	for _, tmpl := range jobAPIs {
		if project, jobID, ok := matchPath(tmpl, segs); ok {
			return kindJob, tmpl, project, jobID
		}
	}
	return kindNone, "", "", ""
}

const (
	contentType    = "application/json;charset=UTF-8"
	maxRequestBody = 1 << 20
)

func (s *Simulator) serveHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := s.requestID()
	h := w.Header()
	h.Set("X-Request-Id", reqID)
	h.Set("Content-Type", contentType)

	if s.serveMetadata(w, r) || s.serveIAM(w, r) {
		return
	}
	kind, api, project, jobID := route(r.URL.Path)
	if kind == kindNone {
		s.writeJSON(w, http.StatusNotFound, gatewayError{"APIG.0101", "The API does not exist or has not been published in the environment", reqID})
		s.record(served{kind: kindNone})
		return
	}
	if r.Method != http.MethodGet {
		h.Set("Allow", http.MethodGet)
		s.writeJSON(w, http.StatusMethodNotAllowed, gatewayError{"APIG.0101",
			"The API does not exist or has not been published in the environment: method " + r.Method + " is not allowed", reqID})
		s.record(served{kind: kindNone})
		return
	}
	if !s.delay(r.Context()) {
		return // the client is gone; nothing was served
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		return
	}
	res := served{kind: kind, jobID: jobID}
	defer func() { s.record(res) }()
	now := s.now()

	if msg := s.authenticate(r, body, now); msg != "" {
		res.code, res.auth = http.StatusUnauthorized, true
		s.writeJSON(w, res.code, gatewayError{"APIG.0301", msg, reqID})
		return
	}
	if p := s.opts.ProjectID; p != "" {
		hp := r.Header.Get("X-Project-Id")
		if project != p || (hp != "" && hp != p) {
			other := project
			if other == p {
				other = hp
			}
			res.code, res.auth = http.StatusForbidden, true
			s.writeJSON(w, res.code, gatewayError{"APIG.0302",
				"The IAM user is not authorized to access the API: project " + other + " is not a project of this account", reqID})
			return
		}
	}
	// One draw per request decides faults and the flavour of flow control, so a seed and a request order
	// give the same answers.
	u := s.draw()
	if !s.bucket.take(now) {
		res.throttled = true
		if kind == kindJob && u < s.opts.FlowControlShare && s.store.serviceOf(jobID) == svcECS {
			res.code = http.StatusAccepted
			s.writeJSON(w, res.code, codeMessage{"Common.0024", "Flow limit exceeded."})
			return
		}
		res.code = http.StatusTooManyRequests
		h.Set("Retry-After", "1")
		s.writeJSON(w, res.code, gatewayError{"APIG.0308", fmt.Sprintf(
			"The throttling threshold has been reached: policy user over ratelimit,limit:%d,time:1 second", max(1, int(s.opts.RateLimit))), reqID})
		return
	}
	if u < s.opts.ServerErrorRate {
		res.code = http.StatusInternalServerError
		s.writeJSON(w, res.code, errorEnvelope{errorBody{"Internal server error.", "Common.0002"}})
		return
	}
	var code int
	var answer []byte
	if kind == kindJob {
		code, answer = s.jobAnswer(api, jobID, now)
	} else {
		code, answer = s.tracesAnswer(r, now)
	}
	if u < s.opts.ServerErrorRate+s.opts.MalformedRate {
		code, answer = http.StatusOK, answer[:len(answer)/2]
	}
	res.code = code
	w.WriteHeader(code)
	_, _ = w.Write(answer)
}

// authenticate is the gateway's identity check: "" when the request may go on, else the error_msg of
// the 401. An unsigned request carrying X-Auth-Token is token-authenticated; a request with an
// Authorization header is judged by its signature alone, so a token cannot rescue a bad signature.
func (s *Simulator) authenticate(r *http.Request, body []byte, now time.Time) string {
	if tok := r.Header.Get("X-Auth-Token"); tok != "" && r.Header.Get("Authorization") == "" {
		if !s.tokens[tok] {
			// The message of a token the gateway cannot read (see the package comment); the simulator's
			// tokens never expire, so "token expires" is never sent.
			return "Incorrect IAM authentication information: decrypt token fail"
		}
		return ""
	}
	err := huaweicloud.Verify(r, body, s.secretFor, now, s.opts.MaxSkew)
	if err == nil {
		if m := s.checkSecurityToken(r); m != "" {
			return "Incorrect IAM authentication information: " + m
		}
		return ""
	}
	var apiErr *huaweicloud.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Message
	}
	return "Incorrect IAM authentication information"
}

func (s *Simulator) secretFor(ak string) (string, bool) {
	if sk, ok := s.opts.Credentials[ak]; ok {
		return sk, ok
	}
	c, ok := s.tempCredential(ak)
	return c.secret, ok
}

// draw returns the uniform [0,1) number that decides this request's faults.
func (s *Simulator) draw() float64 {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.faultRNG.Float64()
}

// delay sleeps Latency plus jitter; false when the client went away meanwhile.
func (s *Simulator) delay(ctx context.Context) bool {
	d := s.opts.Latency
	if j := s.opts.LatencyJitter; j > 0 {
		s.jitterMu.Lock()
		d += time.Duration(s.jitter.Int64N(int64(j)))
		s.jitterMu.Unlock()
	}
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// requestID is a 32-hex-digit id like the gateway's X-Request-Id.
func (s *Simulator) requestID() string {
	var b [16]byte
	s.reqIDMu.Lock()
	for i := 0; i < 16; i += 8 {
		v := s.reqIDRNG.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	s.reqIDMu.Unlock()
	return hex.EncodeToString(b[:])
}

// gatewayError is the API gateway's error body.
type gatewayError struct {
	Code      string `json:"error_code"`
	Msg       string `json:"error_msg"`
	RequestID string `json:"request_id"`
}

// codeMessage is the top-level code/message body of ECS flow control (the code and message fields of
// services/ecs/v2/model/model_show_job_response.go).
type codeMessage struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorEnvelope is the services' own error body {"error":{"message","code"}}.
type errorEnvelope struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Message string `json:"message"`
	Code    string `json:"code"`
}

func (s *Simulator) writeJSON(w http.ResponseWriter, code int, v any) {
	w.WriteHeader(code)
	_, _ = w.Write(marshal(v))
}

// marshal encodes like the services do: no HTML escaping, no trailing newline.
func marshal(v any) []byte {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("simulator: encode answer: " + err.Error())
	}
	return []byte(strings.TrimSuffix(b.String(), "\n"))
}

// tokenBucket limits requests per second on the simulator's clock.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func (b *tokenBucket) take(now time.Time) bool {
	if b.rate <= 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last.IsZero() {
		b.last = now
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(b.burst, b.tokens+el.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}
