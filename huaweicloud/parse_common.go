package huaweicloud

import (
	"encoding/json"
	"fmt"
	"strings"
)

// decodeJobBody unmarshals a job answer into w. A body that is not JSON, or whose job part is missing
// (hasJob false), is a query error when it carries one ({"error_code","error_msg"} of the gateway and
// of CFW and ELB, {"error":{...}} ...), else a bad response.
func decodeJobBody(s Service, status int, body []byte, w any, hasJob func() bool) error {
	if err := json.Unmarshal(body, w); err != nil {
		if code, msg, ok := parseAPIError(body); ok {
			return bodyError(s, status, code, msg)
		}
		return fmt.Errorf("%w: job body is not valid JSON: %v", errBadResponse, err)
	}
	if !hasJob() {
		if code, msg, ok := parseAPIError(body); ok {
			return bodyError(s, status, code, msg)
		}
		return fmt.Errorf("%w: job body has no status", errBadResponse)
	}
	return nil
}

// present reports a status that says something.
func present(t *text) bool { return t != nil && strings.TrimSpace(string(*t)) != "" }

// room counts one more sub-job listed by the answer in j.SubJobsTotal and tells whether it is kept: the
// first maxSubJobs are. A sub-job past the cap is not read, so its texts are neither kept nor counted as
// cut; "sub_jobs" is counted once per answer instead.
func (j *Job) room(c *cutter) bool {
	j.SubJobsTotal++
	if len(j.SubJobs) < maxSubJobs {
		return true
	}
	if !c.droppedSubJobs {
		c.droppedSubJobs = true
		c.cut = append(c.cut, "sub_jobs")
	}
	return false
}
