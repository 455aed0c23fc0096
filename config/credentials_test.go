package config_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

const credProject = "0123456789abcdef0123456789abcdef"

func decodeCreds(t *testing.T, credentials string) *config.Config {
	t.Helper()
	c, err := config.Decode(strings.NewReader(credentials + `
projects:
  - region: cn-north-4
    project_id: ` + credProject + `
    jobs: [{service: ecs, id: job-1}]
`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCredentialsSource(t *testing.T) {
	envOf := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		name  string
		yml   string
		env   map[string]string
		want  huaweicloud.CredentialsConfig
		field string
	}{
		{name: "environment AK/SK", env: map[string]string{"HUAWEICLOUD_SDK_AK": "AK", "HUAWEICLOUD_SDK_SK": "SK", "HUAWEICLOUD_SDK_IDP_ID": "idp"},
			want:  huaweicloud.CredentialsConfig{Source: "environment", Static: huaweicloud.Credentials{AccessKey: "AK", SecretKey: "SK"}},
			field: "environment"},
		{name: "environment federated, bare IAM host", env: map[string]string{"HUAWEICLOUD_SDK_IDP_ID": "idp",
			"HUAWEICLOUD_SDK_ID_TOKEN_FILE": "/var/run/token", "HUAWEICLOUD_SDK_IAM_ENDPOINT": "iam.cn-north-4.myhuaweicloud.com"},
			want: huaweicloud.CredentialsConfig{Source: "federated", IdpID: "idp", IDTokenFile: "/var/run/token",
				IAMEndpoint: "https://iam.cn-north-4.myhuaweicloud.com", ProjectID: credProject},
			field: "environment"},
		{name: "nothing", want: huaweicloud.CredentialsConfig{Source: "environment"}, field: "environment"},
		{name: "inline is static", yml: "credentials: {access_key: AK, secret_key: SK}",
			want:  huaweicloud.CredentialsConfig{Source: "static", Static: huaweicloud.Credentials{AccessKey: "AK", SecretKey: "SK"}},
			field: "credentials"},
		{name: "a file makes it file", yml: "credentials: {access_key: AK, secret_key_file: /run/sk}",
			want:  huaweicloud.CredentialsConfig{Source: "file", Static: huaweicloud.Credentials{AccessKey: "AK"}, SecretKeyFile: "/run/sk"},
			field: "credentials"},
		{name: "metadata default URL", yml: "credentials: {source: metadata}",
			want: huaweicloud.CredentialsConfig{Source: "metadata", MetadataURL: "http://169.254.169.254"}, field: "credentials"},
		{name: "metadata URL", yml: "credentials: {source: metadata, metadata_url: 'http://127.0.0.1:9/'}",
			want: huaweicloud.CredentialsConfig{Source: "metadata", MetadataURL: "http://127.0.0.1:9"}, field: "credentials"},
		{name: "federated from config and environment", yml: "credentials: {source: federated, idp_id: cfg-idp}",
			env: map[string]string{"HUAWEICLOUD_SDK_IDP_ID": "env-idp", "HUAWEICLOUD_SDK_ID_TOKEN_FILE": "/var/run/token"},
			want: huaweicloud.CredentialsConfig{Source: "federated", IdpID: "cfg-idp", IDTokenFile: "/var/run/token",
				IAMEndpoint: "https://iam.myhuaweicloud.com", ProjectID: credProject},
			field: "credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := decodeCreds(t, tc.yml)
			got, err := c.CredentialsSource(0, envOf(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %s %#v\nwant %s %#v", got, got, tc.want, tc.want)
			}
			if f := c.CredentialsField(0); f != tc.field {
				t.Errorf("field %q, want %q", f, tc.field)
			}
		})
	}
}

// --config.check reads the environment and the files but never calls the network: a metadata URL that
// nothing listens on passes.
func TestCheckCredentials(t *testing.T) {
	dir := t.TempDir()
	ak := writeFile(t, dir, "ak", "FILEAK")
	empty := writeFile(t, dir, "empty", "\n")
	token := writeFile(t, dir, "token", "id-token-secret")
	missing := filepath.Join(dir, "missing")
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		name, yml string
		wantLine  string
		wantErr   string
		noCreds   bool
	}{
		{name: "metadata, never called", yml: "credentials: {source: metadata, metadata_url: 'http://127.0.0.1:1'}",
			wantLine: "projects[0] cn-north-4/" + credProject + ": metadata (agency credentials from http://127.0.0.1:1), from credentials"},
		{name: "files", yml: "credentials: {access_key_file: " + ak + ", secret_key: SK}",
			wantLine: "file (access key from " + ak + "; re-read when changed)"},
		{name: "missing file", yml: "credentials: {access_key_file: " + missing + ", secret_key: SK}",
			wantErr: "projects[0] (credentials): file: access_key_file: stat " + missing + ": no such file or directory"},
		{name: "empty file", yml: "credentials: {access_key: AK, secret_key_file: " + empty + "}",
			wantErr: "projects[0] (credentials): file: secret_key_file: " + empty + " is empty"},
		{name: "federated", yml: "credentials: {source: federated, idp_id: idp, id_token_file: " + token + "}",
			wantLine: "federated (id_token " + token + " for identity provider idp at https://iam.myhuaweicloud.com)"},
		{name: "federated without id_token file", yml: "credentials: {source: federated, idp_id: idp}",
			wantErr: "projects[0] (credentials): federated: no usable credentials: federated source is incomplete"},
		{name: "nothing at all", noCreds: true,
			wantErr: "projects[0]: no credentials: set credentials in the config file or HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (or HUAWEICLOUD_SDK_IDP_ID and HUAWEICLOUD_SDK_ID_TOKEN_FILE for a federated identity)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, err := decodeCreds(t, tc.yml).CheckCredentials(noEnv)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error\n got: %v\nwant: %s", err, tc.wantErr)
				}
				if tc.noCreds != errors.Is(err, config.ErrCredentialsNotConfigured) {
					t.Errorf("errors.Is(err, ErrCredentialsNotConfigured) = %v", !tc.noCreds)
				}
				return
			}
			if err != nil || len(lines) != 1 || !strings.Contains(lines[0], tc.wantLine) {
				t.Errorf("got %q, %v; want a line containing %q", lines, err, tc.wantLine)
			}
			for _, l := range lines {
				if strings.Contains(l, "id-token-secret") || strings.Contains(l, "FILEAK") {
					t.Errorf("line leaks a secret: %s", l)
				}
			}
		})
	}
}

// The environment source is named once (issue 21: "environment (...), from environment").
func TestCheckCredentialsEnvironmentLine(t *testing.T) {
	env := map[string]string{config.EnvAccessKey: "ENVAK", config.EnvSecretKey: "ENVSK"}
	lines, err := decodeCreds(t, "").CheckCredentials(func(k string) string { return env[k] })
	want := "projects[0] cn-north-4/" + credProject + ": environment (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK)"
	if err != nil || len(lines) != 1 || lines[0] != want {
		t.Errorf("got %q, %v; want %q", lines, err, want)
	}
}
