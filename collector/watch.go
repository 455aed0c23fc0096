package collector

import "github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"

// WatchedJob is one job the exporter follows, with where and as whom to query it.
type WatchedJob struct {
	Target huaweicloud.Target
	JobID  string
}

// Key identifies a job across reloads and sources: the same job found in the config and by discovery is
// one job.
func (w WatchedJob) Key() string {
	return string(w.Target.Service) + "/" + w.Target.Region + "/" + w.Target.ProjectID + "/" + w.JobID
}
