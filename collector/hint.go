package collector

import (
	"errors"
	"strings"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// queryHint returns the log keys that tell an operator what to do about a failed job query ("hint" and
// what it refers to), or nothing when the error speaks for itself. fromConfig: the job is listed in the
// configuration (a typo there is the likely cause of a not-found answer).
func queryHint(t huaweicloud.Target, reason string, err error, fromConfig bool) []any {
	svc := strings.ToUpper(string(t.Service))
	switch reason {
	case huaweicloud.ReasonPermission:
		if deniedProject(t, err) {
			// The denial names the project id it was asked for: the id, not a policy, is what is wrong.
			return []any{"hint", "projects[].project_id " + t.ProjectID + " is not accepted for this key in region " + t.Region +
				": check it is this account's project id of that region (console: My Credentials > API Credentials)"}
		}
		return []any{"hint", "grant the credentials read-only access to " + svc + " in this project (e.g. the " + svc +
			" ReadOnlyAccess policy), and check that projects[].project_id is this account's project of region " + t.Region +
			"; other services keep working"}
	case huaweicloud.ReasonEndpoint:
		return []any{"endpoint", t.Endpoint, "hint", "the endpoint has no such API: check projects[].endpoints and the region"}
	case huaweicloud.ReasonNotFound:
		if fromConfig {
			// ECS answers Common.0011 to an invalid job id (ECS API reference, "Error Codes"), and deletes
			// finished jobs one day after they end (ECS seed, status field).
			return []any{"hint", "the API does not know this job id: most likely a typo in projects[].jobs (or the id of another " +
				"service or project); a job finished more than a day ago is deleted by the API, remove it from the list"}
		}
	}
	return nil
}

// deniedProject reports a permission denial whose message names the asked project id. The simulator
// says "project <id> is not a project of this account"; what the real gateway says to a project id of
// another account is not documented in the material found, so this is an assumption: when it does not
// hold, the general permission hint (which names project_id too) is logged instead.
func deniedProject(t huaweicloud.Target, err error) bool {
	var apiErr *huaweicloud.APIError
	return t.ProjectID != "" && errors.As(err, &apiErr) && strings.Contains(apiErr.Message, t.ProjectID)
}
