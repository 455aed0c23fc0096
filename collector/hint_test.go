package collector

import (
	"bytes"
	"strings"
	"testing"

	"github.com/go-kit/log"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// TestQueryHints: each failure the log hints at gets the hint that fits it, through the collector's own
// log line (issue 21: a wrong project_id logged the hint of a missing permission; Common.0011 got none).
func TestQueryHints(t *testing.T) {
	const project = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name       string
		err        error
		discovered bool
		want, not  []string
	}{
		{name: "wrong project id",
			err: &huaweicloud.APIError{StatusCode: 403, Code: "APIG.0302",
				Message: "The IAM user is not authorized to access the API: project " + project + " is not a project of this account"},
			want: []string{"hint=", "projects[].project_id " + project + " is not accepted", "My Credentials"},
			not:  []string{"ReadOnlyAccess"}},
		{name: "missing permission",
			err:  &huaweicloud.APIError{StatusCode: 403, Code: "Ecs.0013", Message: "Insufficient permission"},
			want: []string{"ECS ReadOnlyAccess", "check that projects[].project_id", "other services keep working"}},
		{name: "job id unknown to the API, listed in the config",
			err:  &huaweicloud.APIError{StatusCode: 400, Code: "Common.0011", Message: "Failed to query system tasks"},
			want: []string{"reason=not_found", "most likely a typo in projects[].jobs"}},
		{name: "wrong endpoint",
			err:  &huaweicloud.APIError{StatusCode: 404, Code: "APIG.0101", Message: "The API does not exist"},
			want: []string{"check projects[].endpoints", "endpoint="}},
		{name: "throttled: no hint",
			err:  &huaweicloud.APIError{StatusCode: 429, Code: "APIG.0308", Message: "The throttling threshold has been reached"},
			want: []string{"reason=throttled"}, not: []string{"hint="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			g := newFakeGetter()
			g.set("j1", nil, tt.err)
			c := New(g, DefaultOptions, log.NewLogfmtLogger(&buf))
			c.SetJobs(ConfigSource, watched("j1"))
			c.Refresh(t.Context())
			out := buf.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("log lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("log has %q:\n%s", n, out)
				}
			}
		})
	}
}

// TestNotFoundHintOnlyForConfigJobs: a discovered job the API does not know is dropped quietly (it was
// deleted before it was asked); the typo hint is for ids a person wrote.
func TestNotFoundHintOnlyForConfigJobs(t *testing.T) {
	err := &huaweicloud.APIError{StatusCode: 400, Code: "Common.0011", Message: "Failed to query system tasks"}
	tg := huaweicloud.Target{Service: huaweicloud.ECS}
	if kv := queryHint(tg, huaweicloud.ReasonNotFound, err, false); kv != nil {
		t.Errorf("hint for a discovered job: %v", kv)
	}
	if kv := queryHint(tg, huaweicloud.ReasonNotFound, err, true); len(kv) != 2 {
		t.Errorf("no hint for a config job: %v", kv)
	}
}
