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

// addSubJob appends sj to j within the cap and counts it.
func (j *Job) addSubJob(c *cutter, sj SubJob) {
	j.SubJobsTotal++
	if len(j.SubJobs) < maxSubJobs {
		j.SubJobs = append(j.SubJobs, sj)
	} else if !contains(c.cut, "sub_jobs") {
		c.cut = append(c.cut, "sub_jobs")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
