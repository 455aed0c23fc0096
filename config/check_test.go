package config_test

import (
	"errors"
	"testing"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
)

func TestCheckCredentialsNamesTheMissingHalf(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	project := func(cr *config.Credentials) config.Project {
		return config.Project{Region: "cn-north-4", ProjectID: "0123456789abcdef0123456789abcdef", Credentials: cr}
	}
	for _, tc := range []struct {
		name     string
		cfg      config.Config
		getenv   func(string) string
		want     string
		wantNone bool // wraps ErrCredentialsNotConfigured
	}{
		{name: "environment", cfg: config.Config{Projects: []config.Project{project(nil)}},
			getenv: env(config.EnvAccessKey, "AK", config.EnvSecretKey, "SK")},
		{name: "nothing", cfg: config.Config{Projects: []config.Project{project(nil)}}, getenv: env(),
			want: "projects[0]: no credentials: set credentials in the config file or HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (or HUAWEICLOUD_SDK_IDP_ID and HUAWEICLOUD_SDK_ID_TOKEN_FILE for a federated identity)", wantNone: true},
		{name: "token alone is nothing", cfg: config.Config{Projects: []config.Project{project(nil)}}, getenv: env(config.EnvSecurityToken, "T"),
			want: "projects[0]: no credentials: set credentials in the config file or HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (or HUAWEICLOUD_SDK_IDP_ID and HUAWEICLOUD_SDK_ID_TOKEN_FILE for a federated identity)", wantNone: true},
		{name: "access key only", cfg: config.Config{Projects: []config.Project{project(nil)}}, getenv: env(config.EnvAccessKey, "AK"),
			want: "projects[0]: secret key missing: HUAWEICLOUD_SDK_AK is set but HUAWEICLOUD_SDK_SK is empty"},
		{name: "secret key only", cfg: config.Config{Projects: []config.Project{project(nil)}}, getenv: env(config.EnvSecretKey, "SK"),
			want: "projects[0]: access key missing: HUAWEICLOUD_SDK_SK is set but HUAWEICLOUD_SDK_AK is empty"},
		{name: "second project's block", getenv: env(config.EnvAccessKey, "AK", config.EnvSecretKey, "SK"),
			cfg:  config.Config{Projects: []config.Project{project(nil), project(&config.Credentials{AccessKey: "PAK"})}},
			want: "projects[1]: secret key missing: projects[1].credentials.access_key is set but projects[1].credentials.secret_key is empty"},
		{name: "top-level block is not mixed with the environment", getenv: env(config.EnvSecretKey, "SK"),
			cfg:  config.Config{Credentials: &config.Credentials{AccessKey: "TAK"}, Projects: []config.Project{project(nil)}},
			want: "projects[0]: secret key missing: credentials.access_key is set but credentials.secret_key is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.cfg.CheckCredentials(tc.getenv)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error\n got: %v\nwant: %s", err, tc.want)
			}
			if errors.Is(err, config.ErrCredentialsNotConfigured) != tc.wantNone {
				t.Errorf("errors.Is(err, ErrCredentialsNotConfigured) = %t, want %t", !tc.wantNone, tc.wantNone)
			}
		})
	}
}
