package huaweicloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/labeltext"
)

// The job statuses Huawei Cloud documents. Status strings outside this list are passed through verbatim.
const (
	StatusInit           = "INIT"
	StatusRunning        = "RUNNING"
	StatusSuccess        = "SUCCESS"
	StatusFail           = "FAIL"
	StatusPendingPayment = "PENDING_PAYMENT"
)

// Statuses lists the documented statuses in lifecycle order.
var Statuses = []string{StatusInit, StatusRunning, StatusSuccess, StatusFail, StatusPendingPayment}

// Job is a job as every service's parser reports it (the answer of GET /v1/{project_id}/jobs/{job_id} of
// ECS, EVS, BMS, IMS, EIP and SDRS, and CCE's, ELB's and CFW's own shapes mapped onto it). Its texts are
// valid UTF-8 and capped (see the caps below).
type Job struct {
	Service      Service
	JobID        string
	JobType      string
	Status       string    // verbatim
	BeginTime    time.Time // zero when absent, null or ""
	EndTime      time.Time // zero when absent, null or "" (not finished)
	ErrorCode    string
	FailReason   string
	ResourceID   string // server_id, volume_id or image_id of the job's entities
	SubJobsTotal int    // what the API says there are (entities.sub_jobs_total), else the number it listed
	SubJobs      []SubJob
	// Progress is how far the job is, 0 to 1, where the API says so (IMS entities.process_percent);
	// HasProgress tells a job at 0 from a job without progress.
	Progress    float64
	HasProgress bool
	// Truncated names the field of each text of the answer that was cut to its cap ("job_type",
	// "fail_reason" ...), once per text (five long sub-job fail_reasons: five times), and "sub_jobs" once
	// when sub-jobs were dropped, for a counter of cut values.
	Truncated []string
}

// SubJob is one entry of entities.sub_jobs (ECS, EVS, BMS, EIP, SDRS), of IMS's entities.sub_jobs_result,
// results and sub_jobs_list, of CCE's spec.subJobs or of ELB's job.sub_jobs.
type SubJob struct {
	JobID      string
	JobType    string
	Status     string // "" for an IMS sub-job known only by its id (sub_jobs_list)
	BeginTime  time.Time
	EndTime    time.Time
	ErrorCode  string
	FailReason string // falls back to entities.errorcode_message (ECS, BMS)
	ResourceID string // server_id, volume_id, image_id or nic_id
}

// Final reports whether the job can no longer change: SUCCESS or FAIL.
func (j *Job) Final() bool { return j.Status == StatusSuccess || j.Status == StatusFail }

// Caps on what is kept of an answer. The API, or whatever answers in its place, may send anything up to
// the body cap (1 MiB by default); stored texts end up in label values, logs and memory for as long as a
// job is kept, so each is cut (on a rune boundary, after invalid UTF-8 is replaced by U+FFFD) to:
//
//   - ids (job_id, resource ids, request id) and job_type: 128 bytes; Huawei's are 32 to 40 ASCII bytes and
//     job types short camel-case words;
//   - status and error_code: 64 bytes; the documented ones are below 20;
//   - fail_reason (and a sub-job's errorcode_message): 256 bytes as a job's, because it is a label value;
//     1 KiB elsewhere (a CTS marker, a metadata error), enough for any documented message;
//   - APIError.Message: 512 bytes, as it is logged on every failed query;
//   - sub-jobs: the first 10,000 of a job are kept (ECS batches are at most 500 servers); SubJobsTotal
//     still reports the API's total.
//
// CTS traces get the same id and code caps; a trace's response body is kept whole (it is what names the
// job id, and it is bounded by the body cap) but made valid UTF-8.
const (
	maxIDBytes         = 128
	maxJobTypeBytes    = 128
	maxStatusBytes     = 64
	maxErrorCodeBytes  = 64
	maxFailReasonBytes = 1 << 10
	maxMessageBytes    = 512
	maxSubJobs         = 10000
)

// fieldCaps is the one table of caps for the texts of a job answer, by the field name that
// truncated_values_total counts. A job's texts become label values as they are, so each is cut once, here,
// by labeltext.Cut (valid UTF-8, one line, no controls or bidi overrides, trimmed): the collector only
// counts what was cut and exports the texts unchanged.
var fieldCaps = map[string]int{
	"job_id":      maxIDBytes,
	"sub_job_id":  maxIDBytes,
	"resource_id": maxIDBytes,
	"job_type":    maxJobTypeBytes,
	"status":      maxStatusBytes,
	"error_code":  maxErrorCodeBytes,
	"fail_reason": 256, // a label value: 256 bytes show any documented message
}

// capText makes s valid UTF-8 and cuts it to at most n bytes on a rune boundary, for the texts that are not
// a job's (errors, CTS traces): they keep their line breaks and spaces.
func capText(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// text accepts a JSON string, null, a number or a boolean, because the documented types are not always
// what the services send (error_code is null on success, EVS sends "" for an unset end_time).
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
	case len(b) > 1 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b):
		// The common case, without a second decoder: the document was checked before this is called, so
		// a string without escapes is its bytes between the quotes.
		*t = plainText(b[1 : len(b)-1])
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		// An object where a string belongs carries nothing the exporter can show; keep it compact. The
		// decoder replaces invalid UTF-8 in the strings it decodes, not in these raw bytes: do it here, or
		// "job_type":["create\xffServer"] reaches a label value as invalid UTF-8.
		var c bytes.Buffer
		if json.Compact(&c, b) == nil {
			b = c.Bytes()
		}
		*t = text(strings.ToValidUTF8(string(b), "\uFFFD"))
	default:
		*t = text(strings.ToValidUTF8(string(b), "\uFFFD"))
	}
	return nil
}

// plainText is the text of the bytes between the quotes of a JSON string without escapes, valid UTF-8.
// The statuses every job and sub-job carries are the constants, not one more copy each.
func plainText(v []byte) text {
	switch string(v) {
	case StatusSuccess:
		return StatusSuccess
	case StatusRunning:
		return StatusRunning
	case StatusFail:
		return StatusFail
	case StatusInit:
		return StatusInit
	case StatusPendingPayment:
		return StatusPendingPayment
	}
	return text(v)
}

// list decodes a JSON array and reads anything else (an object, a string) as empty: one odd field of an
// IMS answer must not cost the whole job.
type list[T any] []T

func (l *list[T]) UnmarshalJSON(b []byte) error {
	var v []T
	if json.Unmarshal(b, &v) != nil {
		v = nil
	}
	*l = v
	return nil
}

// percent reads a number that may come as a JSON number or a string; ok is false for anything else.
type percent struct {
	v  float64
	ok bool
}

func (p *percent) UnmarshalJSON(b []byte) error {
	var t text
	_ = t.UnmarshalJSON(b)
	v, err := strconv.ParseFloat(strings.TrimSpace(string(t)), 64)
	*p = percent{v, err == nil}
	return nil
}

type wireEntities struct {
	ServerID         text      `json:"server_id"`
	VolumeID         text      `json:"volume_id"`
	ImageID          text      `json:"image_id"`
	NicID            text      `json:"nic_id"`
	ErrorcodeMessage text      `json:"errorcode_message"`
	SubJobsTotal     *int      `json:"sub_jobs_total"`
	SubJobs          []wireJob `json:"sub_jobs"`

	// SDRS (services/sdrs/v1/model/model_job_entities.go, model_sub_job_entities.go): the protection
	// group, protected instance or replication pair a job works on.
	ServerGroupID       text `json:"server_group_id"`
	ProtectedInstanceID text `json:"protected_instance_id"`
	ReplicationPairID   text `json:"replication_pair_id"`

	// IMS (SDK services/ims/v2/model/model_job_entities.go: JobEntities): process_percent (float64),
	// results []JobEntitiesResult{image_id, project_id, status} (model_job_entities_result.go),
	// sub_jobs_result []SubJobResult{status, job_id, job_type, begin_time, end_time, error_code,
	// fail_reason, entities{image_id, image_name}} (model_sub_job_result.go, model_sub_job_entities.go) and
	// sub_jobs_list []string, the sub-job ids.
	ProcessPercent percent          `json:"process_percent"`
	Results        list[wireResult] `json:"results"`
	SubJobsResult  list[wireJob]    `json:"sub_jobs_result"`
	SubJobsList    list[text]       `json:"sub_jobs_list"`
}

type wireResult struct {
	ImageID   text `json:"image_id"`
	ProjectID text `json:"project_id"`
	Status    text `json:"status"`
}

type wireJob struct {
	Status     *text        `json:"status"`
	JobID      text         `json:"job_id"`
	JobType    text         `json:"job_type"`
	BeginTime  text         `json:"begin_time"`
	EndTime    text         `json:"end_time"`
	ErrorCode  text         `json:"error_code"`
	FailReason text         `json:"fail_reason"`
	Entities   wireEntities `json:"entities"`
}

// wirePool keeps wireJobs with their arrays of sub-jobs: the decoder grew entities.sub_jobs element by
// element, a third of what decoding a job answer allocated. The decoder reuses a slice's capacity but not
// zeroed (fields absent from the new answer would keep the old values), so release clears everything.
var wirePool = sync.Pool{New: func() any { return new(wireJob) }}

// maxPooledSubJobs bounds the sub-job array a pooled wireJob keeps; larger batches allocate their own.
const maxPooledSubJobs = 64

func newWireJob() *wireJob { return wirePool.Get().(*wireJob) }

// release clears w and returns it to the pool. Nothing decoded into it may be used afterwards; the Job
// built from it holds only strings, which are copies.
func (w *wireJob) release() {
	w.reset()
	wirePool.Put(w)
}

// reset clears w but keeps (up to maxPooledSubJobs) the capacity of its sub-jobs.
func (w *wireJob) reset() {
	subs := w.Entities.SubJobs
	if cap(subs) > maxPooledSubJobs {
		subs = nil
	}
	clear(subs[:cap(subs)])
	*w = wireJob{}
	w.Entities.SubJobs = subs[:0]
}

// cutter makes the texts of one answer label values (see fieldCaps) and names the field of each text it had
// to shorten, once per text, for truncated_values_total.
type cutter struct {
	cut            []string
	droppedSubJobs bool // "sub_jobs" is in cut
}

func (c *cutter) text(field string, v text) string {
	n, ok := fieldCaps[field]
	if !ok {
		n = maxStatusBytes // a field missing from the table gets the smallest cap, not none
	}
	s, cut := labeltext.Cut(string(v), n)
	if cut {
		c.cut = append(c.cut, field)
	}
	return s
}

// status is a status as exported: trimmed, capped, and trimmed again, because the cap can fall just
// after a blank inside a long value (an object where the status belongs, compacted to text).
func (c *cutter) status(raw string) string {
	return strings.TrimSpace(c.text("status", text(raw)))
}

func (c *cutter) subJob(sw *wireJob) SubJob {
	sj := SubJob{
		JobID:      c.text("sub_job_id", sw.JobID),
		JobType:    c.text("job_type", sw.JobType),
		BeginTime:  parseTime(string(sw.BeginTime)),
		EndTime:    parseTime(string(sw.EndTime)),
		ErrorCode:  c.text("error_code", sw.ErrorCode),
		FailReason: c.text("fail_reason", text(firstNonEmpty(sw.FailReason, sw.Entities.ErrorcodeMessage))),
		ResourceID: c.text("resource_id", text(firstNonEmpty(sw.Entities.ServerID, sw.Entities.VolumeID, sw.Entities.ImageID,
			sw.Entities.ProtectedInstanceID, sw.Entities.ReplicationPairID, sw.Entities.ServerGroupID, sw.Entities.NicID))),
	}
	if sw.Status != nil {
		sj.Status = c.status(string(*sw.Status))
	}
	return sj
}

// parseV1Job is the parser of GET /v1/{project_id}/jobs/{job_id} (ECS, EVS, BMS, IMS, EIP, SDRS: the
// same shape, the statuses already the documented ones). See ParseJob for error bodies.
func parseV1Job(s Service, status int, body []byte) (*Job, error) {
	w := newWireJob()
	defer w.release()
	if err := decodeV1Job(body, w); err != nil {
		if code, msg, ok := parseAPIError(body); ok {
			return nil, bodyError(s, status, code, msg)
		}
		return nil, fmt.Errorf("%w: job body is not valid JSON: %v", errBadResponse, err)
	}
	if w.Status == nil || strings.TrimSpace(string(*w.Status)) == "" {
		if code, msg, ok := parseAPIError(body); ok {
			return nil, bodyError(s, status, code, msg)
		}
		return nil, fmt.Errorf("%w: job body has no status", errBadResponse)
	}
	var c cutter
	e := &w.Entities
	j := &Job{
		Service:    s,
		JobID:      c.text("job_id", w.JobID),
		JobType:    c.text("job_type", w.JobType),
		Status:     c.status(string(*w.Status)),
		BeginTime:  parseTime(string(w.BeginTime)),
		EndTime:    parseTime(string(w.EndTime)),
		ErrorCode:  c.text("error_code", w.ErrorCode),
		FailReason: c.text("fail_reason", w.FailReason),
		ResourceID: c.text("resource_id", text(firstNonEmpty(e.ServerID, e.VolumeID, e.ImageID,
			e.ProtectedInstanceID, e.ReplicationPairID, e.ServerGroupID))),
	}
	j.collectSubJobs(&c, e) // sets SubJobsTotal to the number listed
	if t := e.SubJobsTotal; t != nil && *t >= 0 {
		j.SubJobsTotal = *t
	}
	if p := e.ProcessPercent; p.ok {
		j.Progress, j.HasProgress = progressRatio(p.v)
	}
	j.Truncated = c.cut
	return j, nil
}

// collectSubJobs fills j.SubJobs, at most maxSubJobs of them, and sets j.SubJobsTotal to how many the
// answer listed.
//
// ECS, EVS and BMS list entities.sub_jobs. IMS lists entities.sub_jobs_result (full sub-jobs), and may name
// sub-jobs by id only in sub_jobs_list (those without a result yet are kept with an empty status) or
// report a batch job's outcome per image in results ({image_id, project_id, status}, read as sub-jobs of
// that image). The first of these that has entries wins, sub_jobs_list completing sub_jobs_result:
// one answer never counts a sub-job twice.
func (j *Job) collectSubJobs(c *cutter, e *wireEntities) {
	switch {
	case len(e.SubJobs) > 0:
		j.SubJobs = make([]SubJob, 0, min(len(e.SubJobs), maxSubJobs))
		for i := range e.SubJobs {
			if j.room(c) {
				j.SubJobs = append(j.SubJobs, c.subJob(&e.SubJobs[i]))
			}
		}
	case len(e.SubJobsResult) > 0 || len(e.SubJobsList) > 0:
		seen := make(map[text]bool, len(e.SubJobsResult))
		for i := range e.SubJobsResult {
			seen[e.SubJobsResult[i].JobID] = true
			if j.room(c) {
				j.SubJobs = append(j.SubJobs, c.subJob(&e.SubJobsResult[i]))
			}
		}
		for _, id := range e.SubJobsList {
			if id != "" && !seen[id] {
				seen[id] = true
				if j.room(c) {
					j.SubJobs = append(j.SubJobs, SubJob{JobID: c.text("sub_job_id", id)})
				}
			}
		}
	default:
		for _, r := range e.Results {
			if j.room(c) {
				j.SubJobs = append(j.SubJobs, SubJob{Status: c.status(string(r.Status)), ResourceID: c.text("resource_id", r.ImageID)})
			}
		}
	}
}

// progressRatio turns IMS's process_percent into a ratio in [0, 1]. Despite its name the value is a
// ratio: every finished job in the examples of the IMS API reference ("Querying the Progress of an
// Asynchronous Job", GET /v1/cloudimages/job/{job_id}, OTC copy en-us_topic_0000001263414852) carries
// "process_percent": 1, and the SDK types it float64 (model_job_entities.go). A value above 1 and up to
// 100 is read as a percentage, which no source shows (an assumption that keeps a percent-speaking
// service from exporting 4500%); above 100 is clamped to 1. Negative values and NaN carry no progress.
func progressRatio(v float64) (float64, bool) {
	switch {
	case math.IsNaN(v) || v < 0:
		return 0, false
	case v <= 1:
		return v, true
	case v <= 100:
		return v / 100, true
	}
	return 1, true
}

func firstNonEmpty(vals ...text) string {
	for _, v := range vals {
		if v != "" {
			return string(v)
		}
	}
	return ""
}

// timeLayouts are the shapes seen in Huawei job answers: ms precision with "Z" in the documents, offsets
// without a colon ("+0800": CFW's ListJob document), Go's time.String form that CCE's Kubernetes-style
// objects carry ("2016-08-01 10:11:02.139235173 +0000 UTC", OTC CCE API reference), other precisions
// defensively, and zone-less values read as UTC. Epoch milliseconds (CTS, DCS, CFW's example) are read
// by parseTime.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999 -0700 MST", "2006-01-02 15:04:05.999999999Z07:00"}

// parseTime returns the zero time for empty, null or unparsable values: a job whose times cannot be read
// is still worth exporting.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	// Epoch milliseconds, as CTS uses.
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms > 0 {
		return time.UnixMilli(ms).UTC()
	}
	return time.Time{}
}

// ValidJobID reports whether id looks like a job id: Huawei's are 32 hex characters, but other shapes
// are accepted as long as they are safe in a URL path segment and a label value.
func ValidJobID(id string) bool {
	if len(id) == 0 || len(id) > 128 || id == "." || id == ".." {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
