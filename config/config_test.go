package config_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	commonconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

const testdata = "../testdata/config"

func dur(d time.Duration) model.Duration { return model.Duration(d) }

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestLoadGood(t *testing.T) {
	got, err := config.Load(filepath.Join(testdata, "good.yml"))
	if err != nil {
		t.Fatal(err)
	}
	want := &config.Config{
		Credentials: &config.Credentials{
			AccessKey:     "GOODACCESSKEY0000001",
			SecretKey:     "good-secret-key-value-0001",
			SecurityToken: "good-security-token-0001",
		},
		Timeout:          dur(20 * time.Second),
		Concurrency:      8,
		MinQueryInterval: 0,
		FinalJobTTL:      dur(12 * time.Hour),

		PendingPaymentQueryInterval: dur(5 * time.Minute),
		MaxWatchedJobs:              20000,
		RateLimit:                   config.RateLimit{RequestsPerSecond: 50, Burst: 80},
		HTTPClient: config.HTTPClientConfig{
			TLSConfig: commonconfig.TLSConfig{
				CAFile:     "/etc/huaweicloud-job-exporter/ca.pem",
				ServerName: "ecs.internal.example",
			},
			ProxyConfig: commonconfig.ProxyConfig{
				ProxyURL:           commonconfig.URL{URL: mustParseURL(t, "http://proxy.example:3128")},
				NoProxy:            "127.0.0.1,localhost",
				ProxyConnectHeader: commonconfig.ProxyHeader{"Proxy-Authorization": {"good-proxy-password-0001"}},
			},
		},
		Projects: []config.Project{
			{
				Region:    "ap-southeast-1",
				ProjectID: "0123456789abcdef0123456789abcdef",
				Credentials: &config.Credentials{
					AccessKeyFile:     "/run/secrets/ak",
					SecretKeyFile:     "/run/secrets/sk",
					SecurityTokenFile: "/run/secrets/token",
				},
				Endpoints: map[string]string{
					"ecs": "https://ecs.ap-southeast-1.myhuaweicloud.com", // trailing slash trimmed
					"evs": "http://127.0.0.1:18002",
					"bms": "https://bms.internal.example:8443",
					"ims": "https://ims.internal.example",
					"cts": "https://cts.internal.example",
				},
				Jobs: []config.JobRef{
					{Service: huaweicloud.ECS, ID: "2c9eb2c5544cbf6101544f0602af2b4f"},
					{Service: huaweicloud.EVS, ID: "21917a8d52a19b040152a9f2f1eb003e"}, // "EVS" in the file
					{Service: huaweicloud.BMS, ID: "2c9eb2c5544cbf6101544f0602af2b4f"},
				},
				Discovery: config.Discovery{
					CTS: &config.CTSDiscovery{
						Enabled:  true,
						Services: []huaweicloud.Service{huaweicloud.ECS, huaweicloud.EVS},
						Interval: dur(2 * time.Minute),
						Lookback: dur(6 * time.Hour),
					},
					Files: []string{"/etc/huaweicloud-job-exporter/jobs/*.yml"},
				},
				RateLimit: &config.RateLimit{RequestsPerSecond: 2.5, Burst: 5}, // burst: two seconds' worth
			},
			{
				Region:    "cn-north-4",
				ProjectID: "fedcba9876543210fedcba9876543210",
				Discovery: config.Discovery{
					CTS: &config.CTSDiscovery{
						Enabled:  true,
						Services: huaweicloud.CTSDefaultServices, // ecs, evs, bms, ims, cce
						Interval: dur(time.Minute),
						Lookback: dur(24 * time.Hour),
					},
				},
			},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("good.yml decoded to\n%s\n%+v\nwant\n%s\n%+v", got, got, want, want)
	}
}

func TestDefaults(t *testing.T) {
	c, err := config.Decode(strings.NewReader(`
projects:
  - region: cn-north-4
    project_id: 0123456789abcdef0123456789abcdef
    discovery: {cts: {enabled: true}}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"credentials", c.Credentials, (*config.Credentials)(nil)},
		{"timeout", c.Timeout, dur(10 * time.Second)},
		{"concurrency", c.Concurrency, 16},
		{"min_query_interval", c.MinQueryInterval, dur(10 * time.Second)},
		{"final_job_ttl", c.FinalJobTTL, dur(24 * time.Hour)},
		{"pending_payment_query_interval", c.PendingPaymentQueryInterval, dur(5 * time.Minute)},
		{"max_watched_jobs", c.MaxWatchedJobs, 20000},
		{"cts.interval", c.Projects[0].Discovery.CTS.Interval, dur(time.Minute)},
		{"cts.lookback", c.Projects[0].Discovery.CTS.Lookback, dur(24 * time.Hour)},
		{"cts.services", c.Projects[0].Discovery.CTS.Services, huaweicloud.CTSDefaultServices},
		{"rate_limit", c.RateLimit, config.RateLimit{}},
		{"projects[0].rate_limit", c.ProjectRateLimit(0), huaweicloud.RateLimit{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}

	t.Run("cts services are a copy", func(t *testing.T) {
		orig := huaweicloud.CTSDefaultServices[0]
		t.Cleanup(func() { huaweicloud.CTSDefaultServices[0] = orig })
		c.Projects[0].Discovery.CTS.Services[0] = "changed"
		if huaweicloud.CTSDefaultServices[0] != orig {
			t.Errorf("changing a decoded config changed huaweicloud.CTSDefaultServices to %v", huaweicloud.CTSDefaultServices)
		}
	})
}

// badConfigs maps every testdata/config/bad-*.yml to the exact error Load gives after "<path>: ".
var badConfigs = map[string]string{
	"bad-empty.yml":              `empty config`,
	"bad-malformed.yml":          `yaml: line 2: did not find expected '-' indicator`,
	"bad-unknown-key.yml":        `line 2: foo: unknown field (valid: credentials, timeout, concurrency, min_query_interval, final_job_ttl, pending_payment_query_interval, max_watched_jobs, rate_limit, http_client, projects)`,
	"bad-unknown-nested-key.yml": `line 6: projects[0].discovery.cts.intervall: unknown field (valid: enabled, services, interval, lookback)`,
	"bad-unknown-key-flow.yml":   `line 5: projects[0].discovery.cts.enable: unknown field (valid: enabled, services, interval, lookback)`,
	"bad-duplicate-key.yml":      `line 2: timeout: set twice`,
	"bad-endpoint-duplicate.yml": `line 6: projects[0].endpoints.ecs: set twice`,
	"bad-duration.yml":           `line 1: timeout: not a valid duration string: <value>`,
	"bad-duration-unit.yml":      `line 7: projects[0].discovery.cts.interval: unknown unit <value> in duration <value>`,
	"bad-duration-no-unit.yml":   `line 5: projects[0].discovery.cts.lookback: not a valid duration string: <value>`,
	"bad-type-int.yml":           "line 1: concurrency: expected an integer, got a string",
	"bad-type-list.yml":          `line 5: projects[0].jobs: expected a list, got a mapping`,
	"bad-type-errors.yml": strings.Join([]string{
		`line 2: concurrency: expected an integer, got a list`,
		`line 6: projects[0].jobs[0].wait: unknown field (valid: service, id)`,
		"line 7: projects[0].discovery.cts.enabled: expected true or false, got a string",
	}, "; "),
	"bad-no-projects.yml":         `projects: at least one project is required`,
	"bad-region-missing.yml":      `projects[0].region: required`,
	"bad-region-invalid.yml":      `projects[0].region: not a Huawei Cloud region id (lower-case, like cn-north-4 or ap-southeast-1)`,
	"bad-region-typo.yml":         `projects[0].region: not a known region: did you mean cn-north-4?`,
	"bad-region-misspelt.yml":     `projects[0].region: not a known region: did you mean cn-north-4?`,
	"bad-project-id-missing.yml":  `projects[0].project_id: required`,
	"bad-project-id-invalid.yml":  `projects[0].project_id: not a project id (expected 32 lower-case hex characters)`,
	"bad-project-duplicate.yml":   `projects[1]: duplicate of projects[0] (same region and project_id)`,
	"bad-endpoint-service.yml":    `projects[0].endpoints: unknown service "rds" (valid: ecs, evs, bms, ims, eip, sdrs, cce, elb, cfw, cts)`,
	"bad-endpoint-path.yml":       `projects[0].endpoints.ecs: not an endpoint (expected http(s)://host[:port], no user info, path, query or fragment)`,
	"bad-endpoint-scheme.yml":     `projects[0].endpoints.evs: not an endpoint (expected http(s)://host[:port], no user info, path, query or fragment)`,
	"bad-job-service.yml":         `projects[0].jobs[2].service: unknown service (valid: ecs, evs, bms, ims, eip, sdrs, cce, elb, cfw)`,
	"bad-job-service-missing.yml": `projects[0].jobs[0].service: required`,
	"bad-job-id-missing.yml":      `projects[0].jobs[0].id: required`,
	"bad-job-id-invalid.yml":      `projects[0].jobs[0].id: not a job id (1 to 128 of A-Z a-z 0-9 . _ -)`,
	"bad-job-duplicate.yml":       `projects[0].jobs[3]: duplicate of jobs[0]`,

	"bad-credentials-access-key-both.yml":     `credentials: only one of access_key and access_key_file may be set`,
	"bad-credentials-secret-key-both.yml":     `credentials: only one of secret_key and secret_key_file may be set`,
	"bad-credentials-security-token-both.yml": `projects[0].credentials: only one of security_token and security_token_file may be set`,
	"bad-credentials-no-secret-key.yml":       `credentials: secret_key or secret_key_file is required`,
	"bad-credentials-no-access-key.yml":       `projects[0].credentials: access_key or access_key_file is required`,
	"bad-credentials-source.yml":              `credentials.source: unknown source "vault" (valid: static, file, metadata, federated)`,
	"bad-credentials-metadata-keys.yml":       `projects[0].credentials: source metadata takes no access_key, secret_key or security_token (the metadata service hands them out)`,
	"bad-credentials-metadata-url.yml":        `credentials.metadata_url: "169.254.169.254" is not a base URL (expected http(s)://host[:port], no path, query or fragment)`,
	"bad-credentials-static-file.yml":         `credentials.source: static takes no *_file keys (use source: file, whose files are re-read when they change)`,
	"bad-credentials-federated.yml":           `credentials.metadata_url: not used by source federated; credentials.iam_endpoint: "iam.example.com" is not a base URL (expected http(s)://host[:port], no path, query or fragment)`,

	"bad-timeout-zero.yml":         `timeout: must be greater than 0 and at most 5m (got 0s)`,
	"bad-timeout-too-long.yml":     `timeout: must be greater than 0 and at most 5m (got 10m)`,
	"bad-concurrency-zero.yml":     `concurrency: must be between 1 and 1024 (got 0)`,
	"bad-concurrency-too-high.yml": `concurrency: must be between 1 and 1024 (got 1025)`,
	"bad-final-job-ttl.yml":        `final_job_ttl: must be at least 1m (got 30s)`,
	"bad-rate-limit.yml": `rate_limit.requests_per_second: must be between 0 (no limit) and 100000 (got -1); ` +
		`projects[0].rate_limit.burst: must be at least 1 (got -5)`,
	"bad-http-client-proxy.yml":     `http_client: if no_proxy is configured, proxy_url must also be configured`,
	"bad-http-client-tls.yml":       `line 3: http_client.tls_config: at most one of ca, ca_file & ca_ref must be configured`,
	"bad-http-client-proxy-url.yml": `line 2: http_client.proxy_url: parse <value>: invalid character <value> in host name`,
	"bad-cts-interval.yml":          `projects[0].discovery.cts.interval: must be between 10s and 15m (got 5s)`,
	"bad-cts-interval-too-long.yml": `projects[0].discovery.cts.interval: must be between 10s and 15m (got 1h)`,
	"bad-cts-lookback.yml":          `projects[0].discovery.cts.lookback: must be between 1m and 24h, the time jobs are kept after they end (got 25h)`,
	"bad-cts-services.yml":          `projects[0].discovery.cts.services[1]: unknown service (valid: ecs, evs, bms, ims, eip, sdrs, cce, elb, cfw); projects[0].discovery.cts.services[2]: duplicate of services[0]`,
	"bad-cts-services-empty.yml":    `projects[0].discovery.cts.services: at least one service is required`,
	"bad-files-glob.yml":            `projects[0].discovery.files[1]: invalid glob`,
	"bad-nothing-to-watch.yml":      `projects[0]: no jobs and no discovery: nothing to watch`,
	"bad-many.yml": strings.Join([]string{
		`timeout: must be greater than 0 and at most 5m (got 6m)`,
		`concurrency: must be between 1 and 1024 (got 2000)`,
		`projects[0].region: not a Huawei Cloud region id (lower-case, like cn-north-4 or ap-southeast-1)`,
		`projects[0].project_id: not a project id (expected 32 lower-case hex characters)`,
		`projects[0].jobs[0].service: unknown service (valid: ecs, evs, bms, ims, eip, sdrs, cce, elb, cfw)`,
		`projects[0].jobs[0].id: required`,
		`projects[1].region: required`,
		`projects[1].project_id: required`,
		`projects[1]: no jobs and no discovery: nothing to watch`,
	}, "; "),
}

func TestLoadBad(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testdata, "bad-*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	onDisk := map[string]bool{}
	for _, f := range files {
		onDisk[filepath.Base(f)] = true
	}
	for name := range badConfigs {
		if !onDisk[name] {
			t.Errorf("%s: expected error listed, but there is no such file", name)
		}
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			want, ok := badConfigs[name]
			if !ok {
				t.Fatalf("no expected error for %s: add it to badConfigs", name)
			}
			c, err := config.Load(path)
			if err == nil {
				t.Fatalf("loaded without error:\n%s", c)
			}
			if got, want := err.Error(), path+": "+want; got != want {
				t.Errorf("error\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// Every problem in a bad config names the field it is about, so that a user never has to guess where
// "not a valid duration string" is; problems the decoder finds also give the line. Only a file that is
// not YAML at all, or is empty, has no field to name.
func TestBadConfigErrorsNameTheField(t *testing.T) {
	noField := map[string]bool{"bad-empty.yml": true, "bad-malformed.yml": true}
	problem := regexp.MustCompile(`^(line \d+: )?([a-z_]+(\[\d+\])*)(\.[a-z_]+(\[\d+\])*)*: \S`)
	for name, msg := range badConfigs {
		if noField[name] {
			continue
		}
		t.Run(name, func(t *testing.T) {
			for p := range strings.SplitSeq(msg, "; ") {
				if !problem.MatchString(p) {
					t.Errorf("problem %q does not start with a field path", p)
				}
				if strings.Contains(p, "not found") || strings.Contains(p, "cannot unmarshal") || strings.Contains(p, " in type ") {
					t.Errorf("problem %q is in yaml.v2's words", p)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "missing.yml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want an error matching fs.ErrNotExist", err)
	}
}

func TestDecodeEmpty(t *testing.T) {
	for _, in := range []string{"", "   \n\n", "# nothing\n", "---\n", "null\n", "~"} {
		t.Run(fmt.Sprintf("%q", in), func(t *testing.T) {
			_, err := config.Decode(strings.NewReader(in))
			if !errors.Is(err, config.ErrEmpty) || err.Error() != "empty config" {
				t.Errorf("got %v, want empty config", err)
			}
		})
	}
}

func validConfig(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Load(filepath.Join(testdata, "good.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestValidate covers what a file cannot express: model.Duration has no negative syntax.
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(c *config.Config)
		want   string
	}{
		{"valid", func(*config.Config) {}, ""},
		{"min_query_interval zero", func(c *config.Config) { c.MinQueryInterval = 0 }, ""},
		{"negative min_query_interval", func(c *config.Config) { c.MinQueryInterval = dur(-time.Second) },
			"min_query_interval: must not be negative (got -1s)"},
		{"lookback in minutes", func(c *config.Config) { c.Projects[0].Discovery.CTS.Lookback = dur(30 * time.Second) },
			"projects[0].discovery.cts.lookback: must be between 1m and 24h, the time jobs are kept after they end (got 30s)"},
		{"lookback at the retention", func(c *config.Config) { c.Projects[0].Discovery.CTS.Lookback = dur(24 * time.Hour) }, ""},
		{"lookback past the retention", func(c *config.Config) { c.Projects[0].Discovery.CTS.Lookback = dur(24*time.Hour + time.Minute) },
			"projects[0].discovery.cts.lookback: must be between 1m and 24h, the time jobs are kept after they end (got 24h1m)"},
		{"timeout just over", func(c *config.Config) { c.Timeout = dur(5*time.Minute + time.Second) },
			"timeout: must be greater than 0 and at most 5m (got 5m1s)"},
		{"empty glob", func(c *config.Config) { c.Projects[0].Discovery.Files = []string{""} },
			`projects[0].discovery.files[0]: invalid glob`},
		{"endpoint with user info", func(c *config.Config) { c.Projects[0].Endpoints["ecs"] = "https://u:p@ecs.example" },
			`projects[0].endpoints.ecs: not an endpoint (expected http(s)://host[:port], no user info, path, query or fragment)`},
		{"negative max_watched_jobs", func(c *config.Config) { c.MaxWatchedJobs = -1 }, "max_watched_jobs: must be between 0 (no cap) and 1000000 (got -1)"},
		{"zero config", func(c *config.Config) { *c = config.Config{} }, strings.Join([]string{
			"timeout: must be greater than 0 and at most 5m (got 0s)",
			"concurrency: must be between 1 and 1024 (got 0)",
			"pending_payment_query_interval: must be between 1s and 24h (got 0s)",
			"final_job_ttl: must be at least 1m (got 0s)",
			"projects: at least one project is required",
		}, "; ")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig(t)
			tc.modify(c)
			err := c.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestStringHidesSecrets(t *testing.T) {
	c := validConfig(t)
	c.Projects[1].Credentials = &config.Credentials{AccessKey: "PROJECTACCESSKEY0002", SecretKey: "project-secret-key-0002"}
	s := c.String()
	for _, secret := range []string{
		"GOODACCESSKEY0000001", "good-secret-key-value-0001", "good-security-token-0001",
		"good-proxy-password-0001", "PROJECTACCESSKEY0002", "project-secret-key-0002",
	} {
		if strings.Contains(s, secret) {
			t.Errorf("String() shows secret %q:\n%s", secret, s)
		}
	}
	if n := strings.Count(s, "<secret>"); n != 6 {
		t.Errorf("String() has %d <secret>, want 6 (3 top-level, 2 project, 1 proxy header):\n%s", n, s)
	}
	// The /config page should show paths, which are not secret.
	if !strings.Contains(s, "access_key_file: /run/secrets/ak") {
		t.Errorf("String() lacks access_key_file:\n%s", s)
	}
}

func TestStringRoundTrips(t *testing.T) {
	c := validConfig(t)
	c.Credentials = nil // inline secrets would come back as the literal "<secret>"
	c.HTTPClient.ProxyConnectHeader = nil
	again, err := config.Decode(strings.NewReader(c.String()))
	if err != nil {
		t.Fatalf("String() output does not decode: %v\n%s", err, c)
	}
	if !reflect.DeepEqual(again, c) {
		t.Errorf("round trip changed the config:\n%s\nwant\n%s", again, c)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolveCredentials(t *testing.T) {
	dir := t.TempDir()
	akFile := writeFile(t, dir, "ak", "  FILEAK\n")
	skFile := writeFile(t, dir, "sk", "FILESK\r\n")
	tokenFile := writeFile(t, dir, "token", "FILETOKEN")
	emptyFile := writeFile(t, dir, "empty", "\n")
	missing := filepath.Join(dir, "missing")

	env := map[string]string{
		"HUAWEICLOUD_SDK_AK":             "ENVAK",
		"HUAWEICLOUD_SDK_SK":             "ENVSK",
		"HUAWEICLOUD_SDK_SECURITY_TOKEN": "ENVTOKEN",
	}
	getenv := func(k string) string { return env[k] }
	noEnv := func(string) string { return "" }
	topLevel := &config.Credentials{AccessKey: "TOPAK", SecretKey: "TOPSK"}

	for _, tc := range []struct {
		name    string
		top     *config.Credentials
		project *config.Credentials
		getenv  func(string) string
		index   int
		want    huaweicloud.Credentials
		wantErr string
	}{
		{name: "environment", getenv: getenv,
			want: huaweicloud.Credentials{AccessKey: "ENVAK", SecretKey: "ENVSK", SecurityToken: "ENVTOKEN"}},
		{name: "nothing anywhere", getenv: noEnv},
		{name: "top-level beats environment", top: topLevel, getenv: getenv,
			want: huaweicloud.Credentials{AccessKey: "TOPAK", SecretKey: "TOPSK"}},
		{name: "project beats top-level", top: topLevel, getenv: getenv,
			project: &config.Credentials{AccessKey: "PAK", SecretKey: "PSK", SecurityToken: "PTOKEN"},
			want:    huaweicloud.Credentials{AccessKey: "PAK", SecretKey: "PSK", SecurityToken: "PTOKEN"}},
		{name: "other project falls back to top-level", top: topLevel, getenv: getenv, index: 1,
			project: &config.Credentials{AccessKey: "PAK", SecretKey: "PSK"},
			want:    huaweicloud.Credentials{AccessKey: "TOPAK", SecretKey: "TOPSK"}},
		{name: "files trimmed", getenv: getenv,
			project: &config.Credentials{AccessKeyFile: akFile, SecretKeyFile: skFile, SecurityTokenFile: tokenFile},
			want:    huaweicloud.Credentials{AccessKey: "FILEAK", SecretKey: "FILESK", SecurityToken: "FILETOKEN"}},
		{name: "inline and file mixed", getenv: getenv,
			top:  &config.Credentials{AccessKey: "TOPAK", SecretKeyFile: skFile},
			want: huaweicloud.Credentials{AccessKey: "TOPAK", SecretKey: "FILESK"}},
		{name: "missing file", getenv: getenv,
			project: &config.Credentials{AccessKeyFile: akFile, SecretKeyFile: missing},
			wantErr: "projects[0].credentials.secret_key_file: stat " + missing + ": no such file or directory"},
		{name: "missing top-level file", getenv: getenv,
			top:     &config.Credentials{AccessKey: "TOPAK", SecretKey: "TOPSK", SecurityTokenFile: missing},
			wantErr: "credentials.security_token_file: stat " + missing + ": no such file or directory"},
		{name: "empty file", getenv: getenv,
			top:     &config.Credentials{AccessKeyFile: emptyFile, SecretKey: "TOPSK"},
			wantErr: "credentials.access_key_file: " + emptyFile + " is empty"},
		{name: "no such project", getenv: getenv, index: 2, wantErr: "projects[2]: no such project"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &config.Config{
				Credentials: tc.top,
				Projects: []config.Project{
					{Region: "cn-north-4", ProjectID: "0123456789abcdef0123456789abcdef", Credentials: tc.project},
					{Region: "cn-north-4", ProjectID: "fedcba9876543210fedcba9876543210"},
				},
			}
			got, err := c.ResolveCredentials(tc.index, tc.getenv)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error\n got: %v\nwant: %s", err, tc.wantErr)
				}
				if strings.Contains(tc.wantErr, "no such file") && !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("error %v does not wrap fs.ErrNotExist", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestEndpoint(t *testing.T) {
	c := validConfig(t)
	for _, tc := range []struct {
		project int
		service huaweicloud.Service
		want    string
	}{
		{0, huaweicloud.ECS, "https://ecs.ap-southeast-1.myhuaweicloud.com"},
		{0, huaweicloud.EVS, "http://127.0.0.1:18002"},
		{0, huaweicloud.CTS, "https://cts.internal.example"},
		{1, huaweicloud.IMS, "https://ims.cn-north-4.myhuaweicloud.com"},
		{1, huaweicloud.CTS, "https://cts.cn-north-4.myhuaweicloud.com"},
		{2, huaweicloud.ECS, ""},
		{-1, huaweicloud.ECS, ""},
	} {
		t.Run(fmt.Sprintf("%d/%s", tc.project, tc.service), func(t *testing.T) {
			if got := c.Endpoint(tc.project, tc.service); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Decode takes operator input: whatever the bytes, it returns a config or an error, never panics, and a
// config it accepts survives its own String round trip.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testdata, "*.yml"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("projects: [{region: r, project_id: x, jobs: [{service: ecs, id: \"\"}]}]")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := config.Decode(strings.NewReader(in))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if c == nil {
			t.Fatal("nil config without error")
		}
		_ = c.String()
	})
}

// TestWarnings: a region the SDK's tables do not list is valid (Huawei adds regions) but named, with the
// field to set; an override of the endpoint silences it for that service.
func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		yml  string
		want string
	}{
		{"known region", "projects: [{region: cn-north-4, project_id: fedcba9876543210fedcba9876543210, jobs: [{service: ecs, id: a}]}]", ""},
		{"unknown region", "projects: [{region: xx-moon-1, project_id: fedcba9876543210fedcba9876543210, jobs: [{service: ecs, id: a}]}]",
			`projects[0].region: "xx-moon-1" is not in the official SDK's region table of ecs, evs, bms, ims`},
		{"unknown region, all overridden", `projects: [{region: xx-moon-1, project_id: fedcba9876543210fedcba9876543210, jobs: [{service: ecs, id: a}],
  endpoints: {ecs: "https://e", evs: "https://e", bms: "https://e", ims: "https://e"}}]`, ""},
		// SDRS is in 7 regions: a project that does not use it is not warned about it...
		{"sdrs unused", "projects: [{region: ap-southeast-1, project_id: fedcba9876543210fedcba9876543210, jobs: [{service: ecs, id: a}]}]", ""},
		// ...one that does is, with SDRS' own endpoint pattern.
		{"sdrs used", "projects: [{region: ap-southeast-1, project_id: fedcba9876543210fedcba9876543210, jobs: [{service: sdrs, id: a}]}]",
			`projects[0].region: "ap-southeast-1" is not in the official SDK's region table of sdrs; the default endpoint (e.g. https://sdrs.ap-southeast-1.myhuaweicloud.com)`},
		{"sdrs in cts services", "projects: [{region: ap-southeast-1, project_id: fedcba9876543210fedcba9876543210, discovery: {cts: {enabled: true, services: [sdrs]}}}]",
			`region table of sdrs`},
		// Issue 21: a near miss of a known region is named, and the example's placeholder project id.
		{"new region numbered like its siblings", "projects: [{region: cn-north-13, project_id: fedcba9876543210fedcba9876543210, jobs: [{service: ecs, id: a}]}]",
			`"cn-north-13" is not in the official SDK's region table of ecs, evs, bms, ims (did you mean cn-north-1?)`},
		{"placeholder project id", "projects: [{region: cn-north-4, project_id: 0123456789abcdef0123456789abcdef, jobs: [{service: ecs, id: a}]}]",
			`projects[0].project_id: 0123456789abcdef0123456789abcdef is the example's placeholder: put the id of your project in cn-north-4`},
		{"placeholder at a private endpoint (the demo, tests)", `projects: [{region: cn-north-4, project_id: 0123456789abcdef0123456789abcdef, jobs: [{service: ecs, id: a}], endpoints: {ecs: "http://127.0.0.1:1"}}]`, ""},
		{"elb overridden", `projects: [{region: cn-north-11, project_id: fedcba9876543210fedcba9876543210, jobs: [{service: elb, id: a}], endpoints: {elb: "https://e"}}]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Decode(strings.NewReader(tt.yml))
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(cfg.Warnings(), "; ")
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("warnings = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDecodeProblems: problems the bad-*.yml files do not show. Every problem of a document is listed,
// each with its path, including several failures of types with their own UnmarshalYAML (which stopped
// yaml.v2 at the first); anchors, aliases and merge keys are followed, each anchored value once.
func TestDecodeProblems(t *testing.T) {
	const project = `{region: cn-north-4, project_id: 0123456789abcdef0123456789abcdef, jobs: [{service: ecs, id: a}]}`
	for _, tc := range []struct {
		name, in, want string
	}{
		{"not a mapping", "- a\n- b\n", "line 1: expected a mapping, got a list"},
		{"several custom failures", "timeout: ten\nfinal_job_ttl: 1 day\nhttp_client: {proxy_url: {a: 1}}\nprojects: [" + project + "]\n", strings.Join([]string{
			`line 1: timeout: not a valid duration string: <value>`,
			`line 2: final_job_ttl: unknown unit <value> in duration <value>`,
			`line 3: http_client.proxy_url: expected a URL, got a mapping`,
		}, "; ")},
		{"type words", "timeout: [1]\nprojects: [{region: cn-north-4, project_id: 0123456789abcdef0123456789abcdef, credentials: {access_key: [x]}, rate_limit: {burst: x}, discovery: {cts: {enabled: true, services: ecs}}}]\n", strings.Join([]string{
			"line 1: timeout: expected a duration, got a list",
			"line 2: projects[0].credentials.access_key: expected a string, got a list",
			"line 2: projects[0].rate_limit.burst: expected an integer, got a string",
			"line 2: projects[0].discovery.cts.services: expected a list, got a string",
		}, "; ")},
		{"inside an anchored value", "projects: &p [{region: cn-north-4, jobs: *p}]\n", strings.Join([]string{
			"line 1: projects[0].jobs[0].region: unknown field (valid: service, id)",
			"line 1: projects[0].jobs[0].jobs: unknown field (valid: service, id)",
		}, "; ")},
		{"self-referring", "projects: &a [*a]\n", "line 1: projects[0]: expected a mapping, got a list"},
		{"merge key", "defaults: &d {concurrency: x}\n", "line 1: defaults: unknown field (valid: credentials, timeout, concurrency, min_query_interval, final_job_ttl, pending_payment_query_interval, max_watched_jobs, rate_limit, http_client, projects)"},
		{"merged values are checked", "<<: {concurrency: x, foo: 1}\nprojects: [" + project + "]\n",
			"line 1: concurrency: expected an integer, got a string; line 1: foo: unknown field (valid: credentials, timeout, concurrency, min_query_interval, final_job_ttl, pending_payment_query_interval, max_watched_jobs, rate_limit, http_client, projects)"},
		{"a value is never quoted (it may be a secret on the wrong line)", "concurrency: " + strings.Repeat("é", 100) + "\nprojects: [" + project + "]\n",
			"line 1: concurrency: expected an integer, got a string"},
		{"merge key decodes", "<<: {concurrency: 3}\nprojects: [" + project + "]\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Decode(strings.NewReader(tc.in))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}

	t.Run("aliases of aliases", func(t *testing.T) {
		// 2,000 projects that are one anchored project whose 2,000 jobs are one anchored job: a few tens
		// of kilobytes that are 4 million jobs if every alias is walked anew.
		const n = 2000
		var b strings.Builder
		b.WriteString("projects:\n  - &p {region: cn-north-4, project_id: 0123456789abcdef0123456789abcdef, jobs: [&j {service: ecs, id: a}")
		b.WriteString(strings.Repeat(", *j", n-1))
		b.WriteString("]}\n")
		b.WriteString(strings.Repeat("  - *p\n", n-1))
		_, err := config.Decode(strings.NewReader(b.String()))
		if err == nil {
			t.Fatal("decoded 4 million jobs without error")
		}
		t.Log(err)
	})
}
