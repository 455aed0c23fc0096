package huaweicloud

// CFW's job, GET /v3/{project_id}/jobs/{job_id} (SDK services/cfw/v1/model/model_list_job_response.go,
// model_get_create_firewall_job_response_data.go; doc "List Job Status" / "获取CFW任务执行状态 - ListJob",
// https://support.huaweicloud.com/api-cfw/ListJob.html):
//
//	{"data":{"id","status","begin_time","end_time"}}   (the 200 schema also lists error_code, error_msg)
//
// status is Running, Success or Failed. The times are documented as "yyyy-mm-ddThh:mm:ssZ" with an
// offset such as +0800, but the document's own example sends epoch milliseconds as JSON numbers
// ("begin_time" : 1641370501000): both are read. There is no job type, error code or reason: the only
// CFW job is the creation of a pay-per-use firewall (the job_id of CreateFirewall, per the same page),
// so the job type is that operation's name.
type cfwWire struct {
	Data *struct {
		ID        text  `json:"id"`
		Status    *text `json:"status"`
		BeginTime text  `json:"begin_time"`
		EndTime   text  `json:"end_time"`
	} `json:"data"`
}

// cfwJobType names the one operation whose jobs CFW reports (SDK cfw/v1 CreateFirewall).
const cfwJobType = "createFirewall"

var cfwStatuses = map[string]string{
	"RUNNING": StatusRunning,
	"SUCCESS": StatusSuccess,
	"FAILED":  StatusFail,
}

func parseCFWJob(s Service, status int, body []byte) (*Job, error) {
	var w cfwWire
	if err := decodeJobBody(s, status, body, &w, func() bool { return w.Data != nil && present(w.Data.Status) }); err != nil {
		return nil, err
	}
	var c cutter
	d := w.Data
	j := &Job{
		Service:   s,
		JobID:     c.text("job_id", d.ID),
		JobType:   cfwJobType,
		Status:    c.status(mapStatus(string(*d.Status), cfwStatuses)),
		BeginTime: parseTime(string(d.BeginTime)),
		EndTime:   parseTime(string(d.EndTime)),
	}
	j.Truncated = c.cut
	return j, nil
}
