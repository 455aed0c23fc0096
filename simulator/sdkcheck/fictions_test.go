package sdkcheck

import (
	"net/http"
	"strings"
	"testing"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// TestCheckerCatchesFictions: the answers the simulator used to send that no Huawei service does (issue
// 13), and the failures the check exists for, are each reported.
func TestCheckerCatchesFictions(t *testing.T) {
	hdr := http.Header{"X-Request-Id": {"0123456789abcdef0123456789abcdef"}, "Content-Type": {"application/json;charset=UTF-8"}}
	for _, tc := range []struct {
		name   string
		api    huaweicloud.Service
		status int
		body   string
		want   string // part of a reported problem
	}{
		{"BMS job with a top-level server_id", huaweicloud.BMS, 200,
			`{"status":"SUCCESS","entities":{"server_id":"s1"},"job_id":"j","job_type":"baremetalAttachVolume","begin_time":"","end_time":"","error_code":null,"fail_reason":null}`,
			`field "server_id" is not in model.Entities`},
		{"BMS sub-job with errorcode_message", huaweicloud.BMS, 200,
			`{"status":"FAIL","entities":{"sub_jobs_total":1,"sub_jobs":[{"status":"FAIL","entities":{"server_id":"s1","errorcode_message":"x"},"job_type":"baremetalSingleCreate"}]},"job_type":"baremetalBatchCreate"}`,
			`field "errorcode_message" is not in model.Entitie`},
		{"BMS sub-job type no document lists", huaweicloud.BMS, 200,
			`{"status":"RUNNING","entities":{"sub_jobs_total":1,"sub_jobs":[{"status":"RUNNING","entities":{"server_id":"s1"},"job_type":"createSingleBaremetalServer"}]},"job_type":"baremetalBatchCreate"}`,
			`entities.sub_jobs[0].job_type = createSingleBaremetalServer: not a value`},
		{"EVS flow control in ECS's shape", huaweicloud.EVS, 202, `{"code":"Common.0024","message":"Flow limit exceeded."}`,
			`field "code" is not in model.ShowJobResponse`},
		{"IMS flow control in ECS's shape", huaweicloud.IMS, 202, `{"code":"Common.0024","message":"Flow limit exceeded."}`,
			`field "code" is not in model.ShowJobResponse`},
		{"BMS flow control in ECS's shape", huaweicloud.BMS, 202, `{"code":"Common.0024","message":"Flow limit exceeded."}`,
			`without a job status, which only ECS's 202 Common.0024 may be`},
		{"EVS PENDING_PAYMENT", huaweicloud.EVS, 200, `{"status":"PENDING_PAYMENT","entities":{},"job_type":"createVolume"}`,
			`status = PENDING_PAYMENT: not a value`},
		{"IMS PENDING_PAYMENT", huaweicloud.IMS, 200, `{"status":"PENDING_PAYMENT","entities":{}}`, `status = PENDING_PAYMENT: not a value`},
		{"pending job counting a sub-job it does not list", huaweicloud.ECS, 200,
			`{"status":"PENDING_PAYMENT","entities":{"sub_jobs_total":1,"sub_jobs":[]},"job_type":"createServer"}`,
			`entities.sub_jobs_total 1 with 0 sub_jobs listed`},
		{"last CTS page with marker \"\"", huaweicloud.CTS, 200, `{"traces":[],"meta_data":{"count":0,"marker":""}}`, `meta_data.marker "" on an empty page`},
		{"CTS marker that is not the last trace", huaweicloud.CTS, 200, `{"traces":[{"trace_id":"a"}],"meta_data":{"count":1,"marker":""}}`,
			`is not the last trace's id`},
		{"CTS resource_url with the endpoint", huaweicloud.CTS, 200,
			`{"traces":[{"trace_id":"a","endpoint":"ecs.ap-southeast-1.myhuaweicloud.com","resource_url":"https://ecs.ap-southeast-1.myhuaweicloud.com/v1/p/cloudservers"}],"meta_data":{"count":1,"marker":null}}`,
			`resource_url "https://ecs.ap-southeast-1.myhuaweicloud.com/v1/p/cloudservers" includes the endpoint`},
		{"CTS resource_account_id of the caller's own account", huaweicloud.CTS, 200,
			`{"traces":[{"trace_id":"a","user":{"account_id":"d1"},"resource_account_id":"d1"}],"meta_data":{"count":1,"marker":null}}`,
			`resource_account_id d1 is the caller's own account`},
		{"a type the SDK cannot decode", huaweicloud.ECS, 200, `{"status":"SUCCESS","entities":{"sub_jobs_total":"one"}}`, `the SDK cannot decode it`},
		{"an error body without code and message", huaweicloud.EVS, 500, `{"oops":true}`, `the SDK reads no error code and message`},
		{"truncated JSON outside the faults scenario", huaweicloud.ECS, 200, `{"status":"SUCC`, `the body is not JSON`},
		// The services of the second half of the service table.
		{"ELB job with fail_reason (ELB says error_msg)", huaweicloud.ELB, 200,
			`{"job":{"status":"FAIL","job_id":"j","fail_reason":"x"},"request_id":"r"}`, `field "fail_reason" is not in model.MainJob`},
		{"ELB job at the top level", huaweicloud.ELB, 200, `{"status":"SUCCESS","job_id":"j"}`, `field "status" is not in model.ShowJobResponse`},
		{"CCE phase in capitals", huaweicloud.CCE, 200, `{"kind":"Job","status":{"phase":"RUNNING"}}`, `status.phase = RUNNING: not a value`},
		{"CCE error code", huaweicloud.CCE, 200, `{"kind":"Job","status":{"phase":"Failed","error_code":"CCE.1"}}`, `field "error_code" is not in model.JobStatus`},
		{"CFW status in capitals", huaweicloud.CFW, 200, `{"data":{"id":"i","status":"SUCCESS"}}`, `data.status = SUCCESS: not a value`},
		{"CFW INIT", huaweicloud.CFW, 200, `{"data":{"id":"i","status":"Init"}}`, `data.status = Init: not a value`},
		{"CFW job without data", huaweicloud.CFW, 200, `{"id":"i","status":"Success"}`, `field "id" is not in model.ListJobResponse`},
		{"SDRS PENDING_PAYMENT", huaweicloud.SDRS, 200, `{"status":"PENDING_PAYMENT","job_type":"createProtectionGroupNoCG"}`, `status = PENDING_PAYMENT: not a value`},
		{"SDRS job type no document lists", huaweicloud.SDRS, 200, `{"status":"RUNNING","job_type":"failoverProtectedInstance"}`, `job_type = failoverProtectedInstance: not a value`},
		{"EIP entities with a server_id", huaweicloud.EIP, 200, `{"status":"RUNNING","entities":{"server_id":"s"}}`, `field "server_id" is not in model.SubJobsInfo`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			probs, _ := problems(answer{what: tc.name, api: tc.api, status: tc.status, header: hdr, body: []byte(tc.body)}, checkOpts{})
			for _, p := range probs {
				if strings.Contains(p, tc.want) {
					return
				}
			}
			t.Errorf("problems %q, want one containing %q", probs, tc.want)
		})
	}
	// And what Huawei documents passes: the ECS seed's example answer (ecs_02_0901) and ECS's 202.
	for _, ok := range []answer{
		{api: huaweicloud.ECS, status: 200, body: []byte(`{"status":"SUCCESS","entities":{"sub_jobs_total":1,"sub_jobs":[{"status":"SUCCESS","entities":{"server_id":"bae51750-0089-41a1-9b18-5c777978ff6d"},"job_id":"2c9eb2c5544cbf6101544f0635672b60","job_type":"createSingleServer","begin_time":"2016-04-25T20:04:47.591Z","end_time":"2016-04-25T20:08:21.328Z","error_code":null,"fail_reason":null}]},"job_id":"2c9eb2c5544cbf6101544f0602af2b4f","job_type":"createServer","begin_time":"2016-04-25T20:04:34.604Z","end_time":"2016-04-25T20:08:41.593Z","error_code":null,"fail_reason":null}`)},
		{api: huaweicloud.ECS, status: 202, body: []byte(`{"code":"Common.0024","message":"Flow limit exceeded."}`)},
	} {
		if probs, _ := problems(ok, checkOpts{}); len(probs) != 0 {
			t.Errorf("documented answer flagged: %q", probs)
		}
	}
}
