package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --config.check says where each project's credentials come from and fails when one has none, without
// calling the network (nothing listens on the metadata URL).
func TestConfigCheckSaysWhereCredentialsComeFrom(t *testing.T) {
	for _, k := range []string{"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN",
		"HUAWEICLOUD_SDK_IDP_ID", "HUAWEICLOUD_SDK_ID_TOKEN_FILE", "HUAWEICLOUD_SDK_IAM_ENDPOINT"} {
		t.Setenv(k, "")
	}
	projects := `
  - region: cn-north-4
    project_id: 0123456789abcdef0123456789abcdef
    jobs: [{service: ecs, id: job-1}]
`
	for _, tc := range []struct {
		name, yml string
		code      int
		want      string
	}{
		{"metadata", "credentials: {source: metadata, metadata_url: 'http://127.0.0.1:1'}\nprojects:" + projects, 0,
			"metadata (agency credentials from http://127.0.0.1:1), from credentials"},
		{"none", "projects:" + projects, 1, "no credentials: set credentials in the config file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yml")
			if err := os.WriteFile(path, []byte(tc.yml), 0o600); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			if code := run([]string{"--config.check", "--config.file=" + path}, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s", code, tc.code, tc.want, stderr.String())
			}
		})
	}
}
