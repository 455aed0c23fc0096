package config_test

import (
	"strings"
	"testing"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
)

// Issue 22 item 7: a secret put on the wrong line must not be quoted by the error, which is logged and
// was the answer of /-/reload. Each row puts the secret where a value of another kind is expected.
func TestErrorsNeverQuoteAValue(t *testing.T) {
	const secret = "Zs3cr3tSKzs3cr3tSKzs3cr3tSKzs3cr3tSKzs3c"
	project := func(region, projectID, job, extra string) string {
		return "projects:\n  - region: " + region + "\n    project_id: " + projectID +
			"\n    jobs: [{service: ecs, id: " + job + "}]\n" + extra
	}
	good := project("cn-north-4", "0123456789abcdef0123456789abcdef", "job-1", "")
	for _, tc := range []struct{ name, yml string }{
		{"integer", "concurrency: " + secret + "\n" + good},
		{"boolean", good + "    discovery: {cts: {enabled: " + secret + "}}\n"},
		{"duration", "timeout: " + secret + "\n" + good},
		{"duration with a space", "timeout: 10 " + secret + "\n" + good},
		{"region", project(secret, "0123456789abcdef0123456789abcdef", "job-1", "")},
		{"project id", project("cn-north-4", secret+"/", "job-1", "")},
		{"job id", project("cn-north-4", "0123456789abcdef0123456789abcdef", secret+"/x", "")},
		{"job service", strings.Replace(good, "service: ecs", "service: "+secret, 1)},
		{"endpoint", good + "    endpoints: {ecs: " + secret + "}\n"},
		{"endpoint with user info", good + "    endpoints: {ecs: \"https://ak:" + secret + "@ecs.example\"}\n"},
		{"glob", good + "    discovery: {files: [\"[" + secret + "\"]}\n"},
		{"proxy url", "http_client: {proxy_url: \"http://a b/" + secret + "\"}\n" + good},
		{"a list where a string goes", "credentials: {access_key: [" + secret + "]}\n" + good},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Decode(strings.NewReader(tc.yml))
			if err == nil {
				t.Fatalf("decoded without error:\n%s", tc.yml)
			}
			if msg := err.Error(); strings.Contains(msg, secret[:6]) {
				t.Errorf("the error quotes the value: %s", msg)
			}
		})
	}
}
