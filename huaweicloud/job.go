package huaweicloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
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

// Job is the answer of GET /v1/{project_id}/jobs/{job_id}, common to ECS, EVS, BMS and IMS.
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
	SubJobsTotal int    // entities.sub_jobs_total when present, else len(SubJobs)
	SubJobs      []SubJob
	Progress     float64 // 0..1, valid when HasProgress
	HasProgress  bool
}

// SubJob is one entry of entities.sub_jobs.
type SubJob struct {
	JobID      string
	JobType    string
	Status     string
	BeginTime  time.Time
	EndTime    time.Time
	ErrorCode  string
	FailReason string // falls back to entities.errorcode_message (ECS, BMS)
	ResourceID string // server_id, volume_id or nic_id
}

// Final reports whether the job can no longer change: SUCCESS or FAIL.
func (j *Job) Final() bool { return j.Status == StatusSuccess || j.Status == StatusFail }

// text accepts a JSON string, null, a number or a boolean, because the documented types are not always
// what the services send (error_code is null on success, EVS sends "" for an unset end_time).
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		// An object where a string belongs carries nothing the exporter can show; keep it compact.
		*t = text(b)
	default:
		*t = text(b)
	}
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

// ParseJob decodes a 2xx job answer. A body that carries a query error instead of a job (ECS answers
// flow control with HTTP 202 and {"code":"Common.0024",...}; EVS documents {"error":{...}}) is returned
// as *APIError, so throttling is never mistaken for a job.
func ParseJob(s Service, status int, body []byte) (*Job, error) {
	var w wireJob
	if err := json.Unmarshal(body, &w); err != nil {
		if code, msg, ok := parseAPIError(body); ok {
			return nil, &APIError{StatusCode: status, Code: code, Message: msg}
		}
		return nil, fmt.Errorf("%w: job body is not valid JSON: %v", errBadResponse, err)
	}
	if w.Status == nil || strings.TrimSpace(string(*w.Status)) == "" {
		if code, msg, ok := parseAPIError(body); ok {
			return nil, &APIError{StatusCode: status, Code: code, Message: msg}
		}
		return nil, fmt.Errorf("%w: job body has no status", errBadResponse)
	}
	j := &Job{
		Service:    s,
		JobID:      string(w.JobID),
		JobType:    string(w.JobType),
		Status:     strings.TrimSpace(string(*w.Status)),
		BeginTime:  parseTime(string(w.BeginTime)),
		EndTime:    parseTime(string(w.EndTime)),
		ErrorCode:  string(w.ErrorCode),
		FailReason: string(w.FailReason),
		ResourceID: firstNonEmpty(w.Entities.ServerID, w.Entities.VolumeID, w.Entities.ImageID),
	}
	j.SubJobs = make([]SubJob, 0, len(w.Entities.SubJobs))
	for _, sw := range w.Entities.SubJobs {
		sj := SubJob{
			JobID:      string(sw.JobID),
			JobType:    string(sw.JobType),
			BeginTime:  parseTime(string(sw.BeginTime)),
			EndTime:    parseTime(string(sw.EndTime)),
			ErrorCode:  string(sw.ErrorCode),
			FailReason: firstNonEmpty(sw.FailReason, sw.Entities.ErrorcodeMessage),
			ResourceID: firstNonEmpty(sw.Entities.ServerID, sw.Entities.VolumeID, sw.Entities.ImageID, sw.Entities.NicID),
		}
		if sw.Status != nil {
			sj.Status = strings.TrimSpace(string(*sw.Status))
		}
		j.SubJobs = append(j.SubJobs, sj)
	}
	if len(j.SubJobs) == 0 {
		j.SubJobs = nil
	}
	j.SubJobsTotal = len(j.SubJobs)
	if t := w.Entities.SubJobsTotal; t != nil && *t >= 0 {
		j.SubJobsTotal = *t
	}
	return j, nil
}

func firstNonEmpty(vals ...text) string {
	for _, v := range vals {
		if v != "" {
			return string(v)
		}
	}
	return ""
}

// timeLayouts are the shapes seen in Huawei job answers: ms precision with "Z" in the documents, other
// offsets and precisions defensively, and zone-less values read as UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700"}

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
