package selfmetrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

type statusOnly huaweicloud.CredentialsStatus

func (s statusOnly) Credentials(context.Context) (huaweicloud.Credentials, error) {
	return huaweicloud.Credentials{AccessKey: "AK", SecretKey: "the-secret"}, nil
}
func (s statusOnly) Status() huaweicloud.CredentialsStatus { return huaweicloud.CredentialsStatus(s) }

func TestCredentialsCollector(t *testing.T) {
	c := NewCredentialsCollector()
	c.Set([]CredentialsEntry{
		{ProjectID: "p1", Region: "cn-north-4", Provider: huaweicloud.StaticCredentials(huaweicloud.Credentials{AccessKey: "AK", SecretKey: "the-secret"})},
		{ProjectID: "p2", Region: "ap-southeast-1", Provider: statusOnly{Source: huaweicloud.SourceMetadata,
			Expires: time.Unix(1767322800, 500e6), RefreshFailures: 3}},
	})
	want := `
# HELP huaweicloud_job_exporter_credentials_expiry_timestamp_seconds Expiry of the project's current temporary credentials (expires_at of the metadata service or IAM), in Unix seconds. Absent for credentials that do not expire or before the first fetch.
# TYPE huaweicloud_job_exporter_credentials_expiry_timestamp_seconds gauge
huaweicloud_job_exporter_credentials_expiry_timestamp_seconds{project_id="p2",region="ap-southeast-1",source="metadata"} 1.7673228005e+09
# HELP huaweicloud_job_exporter_credentials_info Where the credentials of a project come from: static (configuration), file (re-read when changed), environment, metadata (ECS agency) or federated (id_token at IAM). Always 1.
# TYPE huaweicloud_job_exporter_credentials_info gauge
huaweicloud_job_exporter_credentials_info{project_id="p1",region="cn-north-4",source="static"} 1
huaweicloud_job_exporter_credentials_info{project_id="p2",region="ap-southeast-1",source="metadata"} 1
# HELP huaweicloud_job_exporter_credentials_refresh_failures_total Failed refreshes of the project's credentials: metadata or IAM answers that gave none, credential files that could not be re-read. The last good credentials stay in use until they expire.
# TYPE huaweicloud_job_exporter_credentials_refresh_failures_total counter
huaweicloud_job_exporter_credentials_refresh_failures_total{project_id="p1",region="cn-north-4",source="static"} 0
huaweicloud_job_exporter_credentials_refresh_failures_total{project_id="p2",region="ap-southeast-1",source="metadata"} 3
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}
