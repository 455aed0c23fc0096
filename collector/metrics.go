package collector

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

const namespace = "huaweicloud"

// The job statuses Huawei documents (ECS "Querying Job Execution Status"); PENDING_PAYMENT is only in the
// current ECS and BMS docs but every job's StateSet carries it so that queries need not care.
const (
	statusInit           = "INIT"
	statusRunning        = "RUNNING"
	statusSuccess        = "SUCCESS"
	statusFail           = "FAIL"
	statusPendingPayment = "PENDING_PAYMENT"
)

var knownStatuses = []string{statusInit, statusRunning, statusSuccess, statusFail, statusPendingPayment}

func knownStatus(s string) bool {
	for _, k := range knownStatuses {
		if s == k {
			return true
		}
	}
	return false
}

// maxStatusLen and maxReasonLen keep a misbehaving API from putting kilobytes into label values.
const (
	maxStatusLen = 64
	maxReasonLen = 256
)

var (
	jobLabels   = []string{"service", "region", "project_id", "job_id", "job_type"}
	queryLabels = []string{"service", "region", "project_id", "job_id"}

	statusDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "job", "status"),
		"Status of the job as reported in the job API's status field (StateSet: the series of the current status is 1).",
		append(jobLabels, "status"), nil)
	startDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "job", "start_timestamp_seconds"),
		"Time the job started, from the job API's begin_time field.", jobLabels, nil)
	endDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "job", "end_timestamp_seconds"),
		"Time the job finished, from the job API's end_time field; absent while the job is unfinished.", jobLabels, nil)
	durationDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "job", "duration_seconds"),
		"Run time of the job: end_time minus begin_time once finished, now minus begin_time while unfinished.", jobLabels, nil)
	subJobsDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "job", "sub_jobs"),
		"Number of sub-jobs of the job, from entities.sub_jobs_total, else the length of entities.sub_jobs.", jobLabels, nil)
	subJobsByStatusDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "job", "sub_jobs_by_status"),
		"Number of sub-jobs of the job in each status, from entities.sub_jobs[].status.", append(jobLabels, "status"), nil)
	failuresDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "job", "failures"),
		"Failed units of the job by error code: failed sub-jobs by their error_code, or the job itself by its error_code when it failed without failed sub-jobs.",
		append(jobLabels, "error_code"), nil)
	failureInfoDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "job", "failure_info"),
		"Why a job failed, one series per failed job: error_code and fail_reason of the job, else of its first failed sub-job (fail_reason falls back to entities.errorcode_message, cut to 256 bytes), and the id of the failed resource.",
		append(jobLabels, "error_code", "fail_reason", "resource_id"), nil)
	querySuccessDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "job", "query_success"),
		"Whether the latest query of the job API for this job succeeded (1) or failed (0).", queryLabels, nil)
	lastQueryDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "job", "last_query_timestamp_seconds"),
		"Time of the latest successful query of the job API for this job.", queryLabels, nil)

	allDescs = []*prometheus.Desc{statusDesc, startDesc, endDesc, durationDesc, subJobsDesc, subJobsByStatusDesc,
		failuresDesc, failureInfoDesc, querySuccessDesc, lastQueryDesc}
)

// Describe sends every descriptor the collector may use.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect sends the metrics of every watched job from memory; Refresh is what talks to the API.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	ttl := c.opts.FinalJobTTL
	for _, e := range c.entries {
		if e.expired(now, ttl) {
			e.retired, e.cached = true, nil
			continue
		}
		w := e.watched
		ch <- prometheus.MustNewConstMetric(querySuccessDesc, prometheus.GaugeValue, boolValue(e.ok),
			string(w.Target.Service), w.Target.Region, w.Target.ProjectID, w.JobID)
		if !e.lastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(lastQueryDesc, prometheus.GaugeValue, unixSeconds(e.lastSuccess),
				string(w.Target.Service), w.Target.Region, w.Target.ProjectID, w.JobID)
		}
		if e.job == nil {
			continue
		}
		if e.job.Final() {
			// Final answers never change: build their metrics once, send the same values every scrape.
			if e.cached == nil {
				e.cached = jobMetrics(w, e.job, now)
			}
			for _, m := range e.cached {
				ch <- m
			}
			continue
		}
		for _, m := range jobMetrics(w, e.job, now) {
			ch <- m
		}
	}
}

// jobMetrics builds the metrics of one answered job.
func jobMetrics(w WatchedJob, j *huaweicloud.Job, now time.Time) []prometheus.Metric {
	lv := []string{string(w.Target.Service), w.Target.Region, w.Target.ProjectID, w.JobID, j.JobType}
	gauge := func(d *prometheus.Desc, v float64, extra ...string) prometheus.Metric {
		return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append(lv[:len(lv):len(lv)], extra...)...)
	}
	ms := make([]prometheus.Metric, 0, 16)

	status := truncate(j.Status, maxStatusLen)
	for _, s := range knownStatuses {
		ms = append(ms, gauge(statusDesc, boolValue(s == status), s))
	}
	if !knownStatus(status) {
		ms = append(ms, gauge(statusDesc, 1, status))
	}

	if !j.BeginTime.IsZero() {
		ms = append(ms, gauge(startDesc, unixSeconds(j.BeginTime)))
		end := now
		if !j.EndTime.IsZero() {
			end = j.EndTime
		}
		if d := end.Sub(j.BeginTime).Seconds(); d >= 0 {
			ms = append(ms, gauge(durationDesc, d))
		}
	}
	if !j.EndTime.IsZero() {
		ms = append(ms, gauge(endDesc, unixSeconds(j.EndTime)))
	}

	ms = append(ms, gauge(subJobsDesc, float64(j.SubJobsTotal)))
	if len(j.SubJobs) > 0 {
		byStatus := map[string]int{}
		for _, sj := range j.SubJobs {
			byStatus[truncate(sj.Status, maxStatusLen)]++
		}
		// Known statuses are always present so that progress queries see zeros, not gaps.
		for _, s := range knownStatuses {
			ms = append(ms, gauge(subJobsByStatusDesc, float64(byStatus[s]), s))
			delete(byStatus, s)
		}
		for s, n := range byStatus {
			ms = append(ms, gauge(subJobsByStatusDesc, float64(n), s))
		}
	}

	failures := map[string]int{}
	for _, sj := range j.SubJobs {
		if sj.Status == statusFail {
			failures[errorCodeLabel(sj.ErrorCode)]++
		}
	}
	if len(failures) == 0 && j.Status == statusFail {
		failures[errorCodeLabel(j.ErrorCode)] = 1
	}
	for code, n := range failures {
		ms = append(ms, gauge(failuresDesc, float64(n), code))
	}
	if f, ok := firstFailure(j); ok {
		ms = append(ms, gauge(failureInfoDesc, 1, errorCodeLabel(f.code), truncate(f.reason, maxReasonLen), f.resource))
	}
	return ms
}

type failure struct{ code, reason, resource string }

// firstFailure is the failure an alert should name: the job's own error when it has one, else the first
// failed sub-job's. A FAIL job with neither still counts, with empty details.
func firstFailure(j *huaweicloud.Job) (failure, bool) {
	if j.ErrorCode != "" || j.FailReason != "" {
		f := failure{code: j.ErrorCode, reason: j.FailReason, resource: j.ResourceID}
		for _, sj := range j.SubJobs {
			if sj.Status == statusFail {
				if f.resource == "" {
					f.resource = sj.ResourceID
				}
				if f.reason == "" {
					f.reason = sj.FailReason
				}
				break
			}
		}
		return f, true
	}
	for _, sj := range j.SubJobs {
		if sj.Status == statusFail {
			return failure{code: sj.ErrorCode, reason: sj.FailReason, resource: sj.ResourceID}, true
		}
	}
	if j.Status == statusFail {
		return failure{resource: j.ResourceID}, true
	}
	return failure{}, false
}

// errorCodeLabel names a failure that came without an error code.
func errorCodeLabel(code string) string {
	if code == "" {
		return "unknown"
	}
	return truncate(code, maxStatusLen)
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence, and keeps label values on one line.
func truncate(s string, n int) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\n", " "))
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1e3 }
