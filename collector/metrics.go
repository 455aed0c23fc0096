package collector

import (
	"cmp"
	"math"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

const namespace = "huaweicloud"

// The job statuses Huawei documents; PENDING_PAYMENT is only in the current ECS and BMS docs but every
// job's StateSet carries it so that queries need not care.
const (
	statusSuccess = huaweicloud.StatusSuccess
	statusFail    = huaweicloud.StatusFail
)

var knownStatuses = [...]string{huaweicloud.StatusInit, huaweicloud.StatusRunning, statusSuccess, statusFail, huaweicloud.StatusPendingPayment}

func knownStatus(s string) bool { return statusIndex(s) >= 0 }

// Caps on what one job can put into the exposition, so that one misbehaving answer (a 100 KB job_type,
// a sub-job list with thousands of distinct error codes) cannot blow up a scrape or Prometheus' index.
// Label values are cut on a rune boundary; README "Caps" lists them.
const (
	maxStatusLen   = 64  // status and error_code label values
	maxReasonLen   = 256 // fail_reason
	maxIDLen       = 128 // job_type and resource_id
	maxCodesPerJob = 20  // error_code series of huaweicloud_job_failures per job; the rest fold into "other"
	// maxOtherStatuses: sub-job statuses outside the documented ones, per job; the rest fold into "other".
	maxOtherStatuses = 10
	// maxLoggedErrLen cuts error texts in log lines and on the landing page.
	maxLoggedErrLen = 1024
	otherLabel      = "other"
)

var (
	jobLabels   = []string{"service", "region", "project_id", "job_id", "job_type"}
	queryLabels = []string{"service", "region", "project_id", "job_id"}
)

// family is one job metric family. The same table drives Collect (const metrics) and the text writer
// of the /metrics fast path, so the two cannot disagree.
type family struct {
	index  int
	name   string
	help   string
	labels []string // all label names, in the order of label values
	order  []int    // indexes of labels sorted by name: client_golang's exposition order, kept by WriteText
	plan   []planItem
	desc   *prometheus.Desc
}

// newFamily makes a family; its index is its place in families.
func newFamily(name, help string, labels []string) *family {
	f := &family{name: prometheus.BuildFQName(namespace, "job", name), help: help, labels: labels}
	f.desc = prometheus.NewDesc(f.name, help, labels, nil)
	f.order = make([]int, len(labels))
	for i := range f.order {
		f.order[i] = i
	}
	sort.Slice(f.order, func(a, b int) bool { return labels[f.order[a]] < labels[f.order[b]] })
	f.plan = plan(f)
	return f
}

func with(base []string, extra ...string) []string {
	return append(base[:len(base):len(base)], extra...)
}

var (
	durationFam = newFamily("duration_seconds",
		"Run time of the job: end_time minus begin_time once finished, now minus begin_time while unfinished.", jobLabels)
	endFam = newFamily("end_timestamp_seconds",
		"Time the job finished, from the job API's end_time (README maps each service's field); absent while the job is unfinished.", jobLabels)
	failureInfoFam = newFamily("failure_info",
		"Why a job failed, one series per failed job: error_code and fail_reason of the job, else of its first failed sub-job (fail_reason falls back to entities.errorcode_message, cut to 256 bytes), and the id of the failed resource.",
		with(jobLabels, "error_code", "fail_reason", "resource_id"))
	failuresFam = newFamily("failures",
		"Failed units of the job by error code: failed sub-jobs by their error_code, or the job itself by its error_code when it failed without failed sub-jobs.",
		with(jobLabels, "error_code"))
	lastQueryFam = newFamily("last_query_timestamp_seconds",
		"Time of the latest successful query of the job API for this job.", queryLabels)
	progressFam = newFamily("progress_ratio",
		"Progress of the job from 0 to 1, where the job API reports one (IMS entities.process_percent, and the services README names).", jobLabels)
	querySuccessFam = newFamily("query_success",
		"Whether the latest query of the job API for this job succeeded (1) or failed (0).", queryLabels)
	startFam = newFamily("start_timestamp_seconds",
		"Time the job started, from the job API's begin_time (README maps each service's field).", jobLabels)
	statusFam = newFamily("status",
		"Status of the job from the job API's status, mapped onto INIT, RUNNING, SUCCESS, FAIL and PENDING_PAYMENT (README: status mapping per service; a status that maps to none is its own state). StateSet: the series of the current status is 1.",
		with(jobLabels, "status"))
	subJobsFam = newFamily("sub_jobs",
		"Number of sub-jobs of the job, from entities.sub_jobs_total, else the number of sub-jobs listed (entities.sub_jobs; IMS sub_jobs_result, sub_jobs_list or results; README names the other services' fields).", jobLabels)
	subJobsByStatusFam = newFamily("sub_jobs_by_status",
		"Number of sub-jobs of the job in each status, from the statuses of the sub-jobs listed (entities.sub_jobs[].status; README names the other services' fields).", with(jobLabels, "status"))
	vanishedFam = newFamily("vanished",
		"1 for an unfinished job that the job API stopped knowing (not found, confirmed over 2 minutes): its outcome is unknown. last_status is the status it had. Exported for final_job_ttl, then retired.",
		with(jobLabels, "last_status"))
)

// families is every job family, sorted by name: the order of the text exposition. Its length sizes the
// tables of the exposition cache.
var families = [...]*family{durationFam, endFam, failureInfoFam, failuresFam, lastQueryFam, progressFam,
	querySuccessFam, startFam, statusFam, subJobsFam, subJobsByStatusFam, vanishedFam}

const numFamilies = len(families)

// jobView.fams has a bit per family: a 33rd family does not compile until it has more.
var _ [32 - numFamilies]struct{}

func init() {
	for i, f := range families {
		f.index = i
	}
}

// Describe sends every descriptor the collector may use.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families {
		ch <- f.desc
	}
}

// Collect sends the metrics of every watched job from memory; Refresh is what talks to the API.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	vs := c.expo.viewSet()
	defer c.expo.releaseViews(vs)
	c.views(vs, false)
	lv := make([]string, baseLabels, 8)
	for i := range vs.views {
		vs.views[i].id.values(lv)
		vs.views[i].samples(lv, nil, func(f *family, lv []string, v float64) {
			ch <- prometheus.MustNewConstMetric(f.desc, prometheus.GaugeValue, v, lv...)
		})
	}
}

// jobView is what the exposition needs of one job, copied under the lock so that writing the answer
// holds no lock: a slow scraper must not block the queries of another. The answer itself (job) is
// never changed once recorded, only replaced, so it is shared, not copied.
type jobView struct {
	id  *jobIdent
	job *huaweicloud.Job
	// lastSuccess (0: never) and end, where the run time of a job without end_time stops, in Unix
	// nanoseconds: a view is 40 bytes, and one is made per job and pull.
	lastSuccess, end int64
	fams             uint32 // bit f.index set: the job may have samples of family f (see families)
	ok, vanished     bool
}

// view is what a pull at nowNs writes of e, but its labels (id).
func (e *entry) view(nowNs int64) jobView {
	v := jobView{job: e.job, ok: e.ok, vanished: e.vanished, lastSuccess: e.lastSuccess, end: nowNs}
	if e.job != nil {
		switch {
		case e.vanished:
			v.end = e.lastSuccess // when it was last seen: its run time is unknown past that
		case e.job.Final():
			v.end = e.seenFinalAt // used only when the API gives no end_time
		}
	}
	return v
}

// samples calls fn with the samples of the job, of family want only when want is not nil. lv holds the
// job's five base label values (jobLabels order; WriteText, which writes them from the job's rendered
// labels, leaves them empty) with room for 3 more; the values fn is given are only valid during the call.
func (v *jobView) samples(lv []string, want *family, fn func(f *family, lv []string, v float64)) {
	if want != nil && v.fams&(1<<want.index) == 0 {
		return
	}
	if want == nil || want == querySuccessFam {
		fn(querySuccessFam, lv[:4], boolValue(v.ok))
	}
	if v.lastSuccess != 0 && (want == nil || want == lastQueryFam) {
		fn(lastQueryFam, lv[:4], float64(v.lastSuccess/1e6)/1e3)
	}
	if v.job != nil && want != querySuccessFam && want != lastQueryFam {
		jobSamples(lv[:5], v.job, time.Unix(0, v.end), v.vanished, want, fn)
	}
}

// families tells which families the job may have samples of, as a set of bits (1 << family.index):
// WriteText walks the views once per family, and testing a bit of the view spares it reading the
// answers of the many jobs without samples of the rarer families (failures, vanished, progress).
func (v *jobView) families() uint32 {
	set := func(fs ...*family) (m uint32) {
		for _, f := range fs {
			m |= 1 << f.index
		}
		return m
	}
	m := set(querySuccessFam)
	if v.lastSuccess != 0 {
		m |= set(lastQueryFam)
	}
	j := v.job
	if j == nil {
		return m
	}
	m |= set(statusFam, subJobsFam)
	if v.vanished {
		m |= set(vanishedFam)
	}
	if _, failed := firstFailure(j); failed {
		m |= set(failuresFam, failureInfoFam)
	}
	if j.HasProgress {
		m |= set(progressFam)
	}
	if !j.EndTime.IsZero() {
		m |= set(endFam)
	}
	if !j.BeginTime.IsZero() {
		m |= set(startFam, durationFam)
	}
	if len(j.SubJobs) > 0 {
		m |= set(subJobsByStatusFam)
	}
	return m
}

// jobSamples emits the samples of one answered job, of family want only when want is not nil; lv holds
// the job labels and has room to append. end is where the run time stops when the job has no end_time:
// now while it runs, when it was first seen final, or when it was last seen for a vanished job, whose
// status series are all 0: the API no longer says it is in any state.
func jobSamples(lv []string, j *huaweicloud.Job, end time.Time, vanished bool, want *family, fn func(f *family, lv []string, v float64)) {
	if want != nil {
		familySamples(want, lv, j, end, vanished, fn)
		return
	}
	for _, f := range families {
		if f != querySuccessFam && f != lastQueryFam {
			familySamples(f, lv, j, end, vanished, fn)
		}
	}
}

// familySamples emits the samples of family f of one answered job (see jobSamples). One family at a
// time, because WriteText writes the families one after the other.
func familySamples(f *family, lv []string, j *huaweicloud.Job, end time.Time, vanished bool, fn func(f *family, lv []string, v float64)) {
	n := len(lv)
	one := func(v float64, extra ...string) { fn(f, append(lv[:n], extra...), v) }
	switch f {
	case statusFam:
		for _, s := range knownStatuses {
			one(boolValue(s == j.Status && !vanished), s)
		}
		if !knownStatus(j.Status) {
			one(boolValue(!vanished), j.Status)
		}
	case vanishedFam:
		if vanished {
			one(1, j.Status)
		}
	case progressFam:
		if j.HasProgress {
			one(j.Progress)
		}
	case startFam:
		if !j.BeginTime.IsZero() {
			one(unixSeconds(j.BeginTime))
		}
	case durationFam:
		if j.BeginTime.IsZero() {
			return
		}
		if !j.EndTime.IsZero() {
			end = j.EndTime
		}
		if d := end.Sub(j.BeginTime).Seconds(); d >= 0 {
			one(d)
		}
	case endFam:
		if !j.EndTime.IsZero() {
			one(unixSeconds(j.EndTime))
		}
	case subJobsFam:
		one(float64(j.SubJobsTotal))
	case subJobsByStatusFam:
		if len(j.SubJobs) == 0 {
			return
		}
		var counts [len(knownStatuses)]int
		var other map[string]int
		for _, sj := range j.SubJobs {
			if i := statusIndex(sj.Status); i >= 0 {
				counts[i]++
				continue
			}
			if other == nil {
				other = map[string]int{}
			}
			// An empty label value is the same as no label to Prometheus: name the missing status.
			other[cmp.Or(sj.Status, "unknown")]++
		}
		// Known statuses are always present so that progress queries see zeros, not gaps.
		for i, s := range knownStatuses {
			one(float64(counts[i]), s)
		}
		for _, kv := range foldTail(other, maxOtherStatuses) {
			one(float64(kv.n), kv.key)
		}
	case failuresFam:
		var failures map[string]int
		for _, sj := range j.SubJobs {
			if sj.Status == statusFail {
				if failures == nil {
					failures = map[string]int{}
				}
				failures[errorCodeLabel(sj.ErrorCode)]++
			}
		}
		if failures == nil && j.Status == statusFail {
			failures = map[string]int{errorCodeLabel(j.ErrorCode): 1}
		}
		for _, kv := range foldTail(failures, maxCodesPerJob) {
			one(float64(kv.n), kv.key)
		}
	case failureInfoFam:
		if fl, ok := firstFailure(j); ok {
			one(1, errorCodeLabel(fl.code), fl.reason, fl.resource)
		}
	}
}

type keyCount struct {
	key string
	n   int
}

// foldTail returns m's entries sorted by key, at most limit of them: when there are more, the most
// frequent limit-1 keys and one otherLabel entry with the sum of the rest. A key that is itself
// otherLabel is folded too, so the label stays unique.
func foldTail(m map[string]int, limit int) []keyCount {
	out := make([]keyCount, 0, min(len(m), limit))
	for _, k := range sortedKeys(m) {
		out = append(out, keyCount{k, m[k]})
	}
	if len(out) <= limit {
		return out
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].n > out[b].n })
	rest := 0
	kept := out[:0]
	for _, kv := range out {
		if len(kept) < limit-1 && kv.key != otherLabel {
			kept = append(kept, kv)
		} else {
			rest += kv.n
		}
	}
	sort.Slice(kept, func(a, b int) bool { return kept[a].key < kept[b].key })
	i := sort.Search(len(kept), func(i int) bool { return kept[i].key >= otherLabel })
	kept = append(kept, keyCount{})
	copy(kept[i+1:], kept[i:])
	kept[i] = keyCount{otherLabel, rest}
	return kept
}

func statusIndex(s string) int {
	for i, k := range knownStatuses {
		if s == k {
			return i
		}
	}
	return -1
}

func sortedKeys(m map[string]int) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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
	return code
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1e3 }

// unixNanos is t in Unix nanoseconds, 0 for the zero time.
func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos undoes unixNanos.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Unix nanoseconds cover the years up to 2262; clampNanos keeps a time from the API inside 1970 to 2262,
// so that a garbage end_time stays in the far future (year 9999) or past (year 1, long expired) instead
// of overflowing, and is never 0 (no end).
var (
	minNanos = time.Unix(0, 1)
	maxNanos = time.Unix(0, math.MaxInt64)
)

func clampNanos(t time.Time) time.Time {
	switch {
	case t.IsZero():
		return t
	case t.Before(minNanos):
		return minNanos
	case t.After(maxNanos):
		return maxNanos
	}
	return t
}
