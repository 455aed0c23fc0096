package huaweicloud

// ELB's v3 job, GET /v3/{project_id}/elb/jobs/{job_id} (SDK services/elb/v3/model/model_show_job_response.go,
// model_main_job.go, model_sub_job.go, model_job_entities.go; doc "Querying the Status of an Asynchronous
// Task", https://support.huaweicloud.com/intl/en-us/api-elb/ShowJob.html):
//
//	{"job":{"status","begin_time","end_time","job_id","job_type","error_code","error_msg","project_id",
//	        "resource_id","sub_jobs":[{...same..., "entities":[{"resource_id","resource_type"}]}]},
//	 "request_id":"..."}
//
// The failure text is error_msg (not fail_reason), and the statuses are the MainJob/SubJob enums:
// INIT, RUNNING, FAIL, SUCCESS, ROLLBACKING, COMPLETE, ROLLBACK_FAIL, CANCEL.
type elbJob struct {
	Status     *text `json:"status"`
	BeginTime  text  `json:"begin_time"`
	EndTime    text  `json:"end_time"`
	JobID      text  `json:"job_id"`
	JobType    text  `json:"job_type"`
	ErrorCode  text  `json:"error_code"`
	ErrorMsg   text  `json:"error_msg"`
	ResourceID text  `json:"resource_id"`
	Entities   list[struct {
		ResourceID text `json:"resource_id"`
	}] `json:"entities"`
}

// elbWire is the answer; the sub_jobs tag lives here so that a sub-job's own sub_jobs (none documented)
// are not read.
type elbWire struct {
	Job *struct {
		elbJob
		SubJobs list[elbJob] `json:"sub_jobs"`
	} `json:"job"`
}

// elbStatuses maps the ELB enums. No document explains the four beyond INIT/RUNNING/FAIL/SUCCESS; the
// exporter maps only what their names leave no doubt about: ROLLBACKING is a job still changing
// (undoing itself), ROLLBACK_FAIL a job that failed and whose undoing failed too. COMPLETE and CANCEL
// are kept verbatim (exported as their own state): mapping them would be a guess.
var elbStatuses = map[string]string{
	"INIT":          StatusInit,
	"RUNNING":       StatusRunning,
	"SUCCESS":       StatusSuccess,
	"FAIL":          StatusFail,
	"ROLLBACKING":   StatusRunning,
	"ROLLBACK_FAIL": StatusFail,
}

// subJob reads the job or one of its sub-jobs; idField names the id's field for truncated_values_total
// ("job_id" or "sub_job_id"), so that one id cut counts once.
func (w *elbJob) subJob(c *cutter, idField string) SubJob {
	sj := SubJob{
		JobID:      c.text(idField, w.JobID),
		JobType:    c.text("job_type", w.JobType),
		Status:     c.status(mapStatus(string(deref(w.Status)), elbStatuses)),
		BeginTime:  parseTime(string(w.BeginTime)),
		EndTime:    parseTime(string(w.EndTime)),
		ErrorCode:  c.text("error_code", w.ErrorCode),
		FailReason: c.text("fail_reason", w.ErrorMsg),
	}
	rid := w.ResourceID
	if rid == "" && len(w.Entities) > 0 {
		rid = w.Entities[0].ResourceID
	}
	sj.ResourceID = c.text("resource_id", rid)
	return sj
}

func parseELBJob(s Service, status int, body []byte) (*Job, error) {
	var w elbWire
	if err := decodeJobBody(s, status, body, &w, func() bool { return w.Job != nil && present(w.Job.Status) }); err != nil {
		return nil, err
	}
	var c cutter
	top := w.Job.subJob(&c, "job_id")
	j := &Job{
		Service: s, JobID: top.JobID, JobType: top.JobType, Status: top.Status,
		BeginTime: top.BeginTime, EndTime: top.EndTime, ErrorCode: top.ErrorCode, FailReason: top.FailReason,
		ResourceID: top.ResourceID,
	}
	for i := range w.Job.SubJobs {
		if j.room(&c) {
			j.SubJobs = append(j.SubJobs, w.Job.SubJobs[i].subJob(&c, "sub_job_id"))
		}
	}
	j.Truncated = c.cut
	return j, nil
}
