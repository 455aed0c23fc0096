package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/app"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/selfmetrics"
)

const minimalConfig = `projects:
  - region: cn-north-4
    project_id: 0123456789abcdef0123456789abcdef
    jobs: [{service: ecs, id: job-1}]
`

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// setCredentialsEnv sets (or, with "", clears) the SDK's credential variables for one test.
func setCredentialsEnv(t *testing.T, ak, sk string) {
	t.Helper()
	t.Setenv(config.EnvAccessKey, ak)
	t.Setenv(config.EnvSecretKey, sk)
	t.Setenv(config.EnvSecurityToken, "")
}

// The shipped example must pass --config.check as a user runs it: with credentials in the environment
// and nothing else (no network is touched by the check).
func TestExampleConfigChecks(t *testing.T) {
	setCredentialsEnv(t, "EXAMPLEACCESSKEY0001", "example-secret-key-0001")
	var out bytes.Buffer
	if code := run([]string{"--config.check", "--config.file=examples/huaweicloud-job-exporter.yml"}, &out); code != 0 {
		t.Fatalf("--config.check of the example exited %d:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "configuration is valid") {
		t.Errorf("output does not say the configuration is valid:\n%s", out.String())
	}
}

// --config.check resolves credentials as start-up does, and fails with start-up's message: a config the
// check passes is not then refused, and half a key pair is named as such.
func TestConfigCheckResolvesCredentials(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing-sk")
	withFile := minimalConfig + "credentials:\n  access_key: AK\n  secret_key_file: " + missing + "\n"
	for _, tc := range []struct {
		name, config, ak, sk string
		wantCode             int
		want                 []string
	}{
		{name: "environment", config: minimalConfig, ak: "AK", sk: "SK", wantCode: 0,
			want: []string{"configuration is valid"}},
		{name: "nothing anywhere", config: minimalConfig, wantCode: 1,
			want: []string{"projects[0]: no credentials", "HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK", "--demo"}},
		{name: "only the access key", config: minimalConfig, ak: "AK", wantCode: 1,
			want: []string{"projects[0]: secret key missing: HUAWEICLOUD_SDK_AK is set but HUAWEICLOUD_SDK_SK is empty"}},
		{name: "only the secret key", config: minimalConfig, sk: "SK", wantCode: 1,
			want: []string{"projects[0]: access key missing: HUAWEICLOUD_SDK_SK is set but HUAWEICLOUD_SDK_AK is empty"}},
		{name: "secret key file missing", config: withFile, ak: "AK", sk: "SK", wantCode: 1,
			want: []string{"secret_key_file: stat " + missing}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setCredentialsEnv(t, tc.ak, tc.sk)
			path := writeTemp(t, "config.yml", tc.config)
			var out bytes.Buffer
			code := run([]string{"--config.check", "--config.file=" + path}, &out)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d", code, tc.wantCode)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if tc.wantCode == 0 {
				return
			}
			// Start-up refuses the same config with the same words.
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			ex := app.New(t.Context(), selfmetrics.New(prometheus.NewRegistry()), log.NewNopLogger())
			defer func() { _ = ex.Stop(t.Context()) }()
			applyErr := ex.Apply(cfg, os.Getenv)
			if applyErr == nil || !strings.Contains(out.String(), applyErr.Error()) {
				t.Errorf("start-up says %v, which --config.check did not say:\n%s", applyErr, out.String())
			}
		})
	}
}

// TestConfigCheckWithoutFile: --config.check of a missing file offers the two ways forward a plain start
// offers, not only "no such file or directory".
func TestConfigCheckWithoutFile(t *testing.T) {
	var out bytes.Buffer
	missing := filepath.Join(t.TempDir(), "huaweicloud-job-exporter.yml")
	if code := run([]string{"--config.check", "--config.file=" + missing}, &out); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out.String())
	}
	for _, want := range []string{"no such file", "Two ways forward", "--demo"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
