package huaweicloud

// CCE's job, GET /api/v3/projects/{project_id}/jobs/{job_id}: a Kubernetes-style object (SDK
// services/cce/v3/model/model_show_job_response.go, model_job.go, model_job_metadata.go,
// model_job_spec.go, model_job_status.go; doc "Obtaining Job Information", cce_02_0247):
//
//	{"kind":"Job","apiVersion":"v3",
//	 "metadata":{"uid","creationTimestamp","updateTimestamp"},
//	 "spec":{"type","clusterUID","resourceID","resourceName","extendParam":{},"subJobs":[<Job>...]},
//	 "status":{"phase","reason"}}
//
// phase is Initializing, Running, Failed or Success (model_job_status.go); reason is why the job is in
// its phase, the failure reason of a failed one. There is no error code and no end time: a finished
// job's updateTimestamp is when it reached its final phase. Sub-jobs have the same shape; the exporter
// reads one level of them (a sub-job's own subJobs only add detail to that sub-job).
type cceJob struct {
	Metadata struct {
		UID               text `json:"uid"`
		CreationTimestamp text `json:"creationTimestamp"`
		UpdateTimestamp   text `json:"updateTimestamp"`
	} `json:"metadata"`
	Spec struct {
		Type       text         `json:"type"`
		ClusterUID text         `json:"clusterUID"`
		ResourceID text         `json:"resourceID"`
		SubJobs    list[cceJob] `json:"subJobs"`
	} `json:"spec"`
	Status struct {
		Phase  *text `json:"phase"`
		Reason text  `json:"reason"`
	} `json:"status"`
}

// cceStatuses maps CCE's phases (model_job_status.go: Initializing, Running, Failed, Success).
var cceStatuses = map[string]string{
	"INITIALIZING": StatusInit,
	"RUNNING":      StatusRunning,
	"SUCCESS":      StatusSuccess,
	"FAILED":       StatusFail,
}

// common reads what a job and its sub-jobs share; idField names the id's field for truncated_values_total
// ("job_id" for the job, "sub_job_id" for a sub-job), so that one id cut counts once.
func (w *cceJob) common(c *cutter, idField string) (status string, sj SubJob) {
	status = c.status(mapStatus(string(deref(w.Status.Phase)), cceStatuses))
	sj = SubJob{
		JobID:      c.text(idField, w.Metadata.UID),
		JobType:    c.text("job_type", w.Spec.Type),
		Status:     status,
		BeginTime:  parseTime(string(w.Metadata.CreationTimestamp)),
		ResourceID: c.text("resource_id", text(firstNonEmpty(w.Spec.ResourceID, w.Spec.ClusterUID))),
	}
	// updateTimestamp is the end only once the job can no longer change.
	if status == StatusSuccess || status == StatusFail {
		sj.EndTime = parseTime(string(w.Metadata.UpdateTimestamp))
	}
	// reason explains the phase; only a failure's reason is a fail_reason.
	if status == StatusFail {
		sj.FailReason = c.text("fail_reason", w.Status.Reason)
	}
	return status, sj
}

func parseCCEJob(s Service, status int, body []byte) (*Job, error) {
	var w cceJob
	if err := decodeJobBody(s, status, body, &w, func() bool { return present(w.Status.Phase) }); err != nil {
		return nil, err
	}
	var c cutter
	st, top := w.common(&c, "job_id")
	j := &Job{
		Service: s, JobID: top.JobID, JobType: top.JobType, Status: st,
		BeginTime: top.BeginTime, EndTime: top.EndTime, FailReason: top.FailReason, ResourceID: top.ResourceID,
	}
	for i := range w.Spec.SubJobs {
		if j.room(&c) {
			_, sj := w.Spec.SubJobs[i].common(&c, "sub_job_id")
			j.SubJobs = append(j.SubJobs, sj)
		}
	}
	j.Truncated = c.cut
	return j, nil
}

func deref(t *text) text {
	if t == nil {
		return ""
	}
	return *t
}
