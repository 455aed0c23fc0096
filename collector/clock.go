package collector

import (
	"time"

	"github.com/go-kit/log/level"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/selfmetrics"
)

// maxFutureSkew is how far ahead of the exporter's clock a job's begin_time or end_time may lie and still
// be exported as given: ordinary clock skew between the exporter and Huawei Cloud. A time further ahead
// is taken as a service answering in local time without an offset (issue 18: 8 hours ahead; CFW sends
// +0800, which parseTime honours, so the assumption is that another service could send the same time
// without it). Exported as it is, such an end_time would keep a FAIL page firing 8 hours past
// final_job_ttl (the rules count 24 hours from end_time).
const maxFutureSkew = 5 * time.Minute

// futureFields are the fields clampFuture may change, in the order of its loop; the values of the
// counter's field label.
var futureFields = selfmetrics.FutureFields

// clampFuture replaces a begin_time or end_time more than maxFutureSkew ahead of now (the time of the
// answer) with now: the job was seen begun or finished at now, so it did not begin or end later. The
// begin_time of a job asked again keeps the value it was first given, so its duration grows. The first
// time a job needs it for a field, that field is counted and logged (once per job and field). Called
// with c.mu held; job is the exporter's own copy (sanitize), never the caller's.
func (c *Collector) clampFuture(e *entry, job *huaweicloud.Job, now time.Time) {
	limit := now.Add(maxFutureSkew)
	var kv []any
	for i, t := range [...]*time.Time{&job.BeginTime, &job.EndTime} {
		if !t.After(limit) {
			continue
		}
		bit := uint8(1) << i
		if e.futureLogged&bit == 0 {
			e.futureLogged |= bit
			kv = append(kv, futureFields[i], t.UTC().Format(time.RFC3339))
			if c.metrics != nil {
				c.metrics.FutureTimeClamped(e.target.Service, e.target.Region, futureFields[i])
			}
		}
		*t = now
		if i == 0 && e.job != nil && !e.job.BeginTime.IsZero() && e.job.BeginTime.Before(now) {
			*t = e.job.BeginTime // an unfinished job asked again keeps the begin_time first exported
		}
	}
	if len(kv) == 0 {
		return
	}
	w := e.watched()
	level.Warn(c.logger).Log(append([]any{"msg", "job time ahead of the exporter's clock; exported as the time of the answer",
		"service", w.Target.Service, "region", w.Target.Region, "project_id", w.Target.ProjectID, "job_id", w.JobID,
		"now", now.UTC().Format(time.RFC3339), "max_skew", maxFutureSkew}, kv...)...)
}
