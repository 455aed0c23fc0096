package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/selfmetrics"
)

// Every secret of every source, each marked so a leak is found by grep.
var leakable = map[string]string{
	"static secret":          "static-secret-LEAK",
	"static token":           "static-token-LEAK",
	"file secret":            "file-secret-LEAK",
	"file token":             "file-token-LEAK",
	"metadata secret":        "meta-secret-LEAK",
	"metadata token":         "meta-token-LEAK",
	"metadata session token": "session-LEAK",
	"bad answer secret":      "bad-answer-secret-LEAK",
	"id_token":               "id-token-LEAK",
	"IAM token":              "iam-token-LEAK",
	"IAM secret":             "iam-secret-LEAK",
	"IAM security token":     "iam-sts-LEAK",
}

func tempCredJSON(ak, sk, token, expires string) string {
	return fmt.Sprintf(`{"credential":{"access":%q,"secret":%q,"securitytoken":%q,"expires_at":%q}}`, ak, sk, token, expires)
}

// No secret appears in any output: /metrics, /exporter-metrics, the /config page, --config.check, the
// logs at debug level, and the errors the providers return, for every source, with the cloud refusing
// the keys and a metadata service answering nonsense around a secret.
func TestNoSecretInAnyOutput(t *testing.T) {
	expires := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error_code":"APIG.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail"}`)
	}))
	t.Cleanup(gateway.Close)
	metadata := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case huaweicloud.MetadataTokenPath:
			io.WriteString(w, leakable["metadata session token"])
		default:
			io.WriteString(w, tempCredJSON("METAAK", leakable["metadata secret"], leakable["metadata token"], expires))
		}
	}))
	t.Cleanup(metadata.Close)
	badMetadata := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == huaweicloud.MetadataTokenPath {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		io.WriteString(w, tempCredJSON("BADAK", leakable["bad answer secret"], leakable["bad answer secret"], "soon, "+leakable["bad answer secret"]))
	}))
	t.Cleanup(badMetadata.Close)
	iam := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case huaweicloud.IAMIDTokenPath:
			w.Header().Set("X-Subject-Token", leakable["IAM token"])
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"token":{"expires_at":"`+expires+`"}}`)
		default:
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, tempCredJSON("IAMAK", leakable["IAM secret"], leakable["IAM security token"], expires))
		}
	}))
	t.Cleanup(iam.Close)

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	akFile, skFile, tokFile := write("ak", "FILEAK"), write("sk", leakable["file secret"]), write("tok", leakable["file token"])
	idToken := write("id_token", leakable["id_token"])

	project := func(i int, creds string) string {
		return fmt.Sprintf(`
  - region: ap-southeast-1
    project_id: %032x
    endpoints: {ecs: %s}
    jobs: [{service: ecs, id: job-%d}]
    credentials: %s`, i+1, gateway.URL, i, creds)
	}
	yml := "projects:" +
		project(0, fmt.Sprintf("{access_key: STATICAK, secret_key: %s, security_token: %s}", leakable["static secret"], leakable["static token"])) +
		project(1, fmt.Sprintf("{access_key_file: %s, secret_key_file: %s, security_token_file: %s}", akFile, skFile, tokFile)) +
		project(2, "{source: metadata, metadata_url: '"+metadata.URL+"'}") +
		project(3, "{source: metadata, metadata_url: '"+badMetadata.URL+"'}") +
		project(4, "{source: federated, idp_id: idp, id_token_file: "+idToken+", iam_endpoint: '"+iam.URL+"'}") + "\n"
	cfg, err := config.Decode(strings.NewReader(yml))
	if err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	logger, _ := NewLoggers(&logs, "debug", "logfmt")
	noEnv := func(string) string { return "" }
	if err := CheckCredentials(cfg, noEnv, logger); err != nil {
		t.Fatalf("--config.check failed: %v\n%s", err, logs.String())
	}
	reg := prometheus.NewRegistry()
	ex := New(t.Context(), selfmetrics.New(reg), logger)
	if err := ex.Apply(cfg, noEnv); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ex.Stop(context.Background()) })
	RegisterSelfMetrics(reg, ex)

	var out strings.Builder
	get := func(h http.Handler, path string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Fprintf(&out, "== %s %d\n%s\n", path, rec.Code, rec.Body.String())
	}
	get(ex.Collector().Handler(reg, 0, ex.Timeout, logger), "/metrics")
	get(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), "/exporter-metrics")
	out.WriteString(ex.ConfigText())
	for i := range cfg.Projects {
		cc, _ := cfg.CredentialsSource(i, noEnv)
		out.WriteString(cc.String() + "\n")
		p, err := ex.credentials.Provider(cc)
		if err != nil {
			fmt.Fprintf(&out, "provider error: %v\n", err)
			continue
		}
		if _, err := p.Credentials(t.Context()); err != nil {
			fmt.Fprintf(&out, "credentials error: %v\n", err)
		}
	}
	all := out.String() + logs.String()

	// The test must see the paths it claims to cover.
	for _, want := range []string{
		`huaweicloud_job_exporter_credentials_info{project_id="00000000000000000000000000000003",region="ap-southeast-1",source="metadata"} 1`,
		`source="federated"`, `source="file"`, `source="static"`,
		`msg="credentials refresh failed"`, `msg="job query failed"`, `credentials error: no usable credentials`, "<secret>",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for what, secret := range leakable {
		if strings.Contains(all, secret) {
			t.Errorf("the %s leaks:\n%s", what, grepLines(all, secret))
		}
	}
}

func grepLines(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
