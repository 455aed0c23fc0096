// Package config holds the exporter's configuration: its types, their defaults, strict YAML decoding,
// validation that names the offending field, and credential resolution.
// It does no network I/O; the only files it reads are the config itself and the *_file secrets.
package config

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fileread"
)

// Config is the whole configuration file.
type Config struct {
	Credentials      *Credentials   `yaml:"credentials,omitempty"`
	Timeout          model.Duration `yaml:"timeout"`
	Concurrency      int            `yaml:"concurrency"`
	MinQueryInterval model.Duration `yaml:"min_query_interval"`
	FinalJobTTL      model.Duration `yaml:"final_job_ttl"`
	// PendingPaymentQueryInterval: how often a PENDING_PAYMENT job is asked again (it may wait 14 days).
	PendingPaymentQueryInterval model.Duration `yaml:"pending_payment_query_interval"`
	// MaxWatchedJobs caps the watched jobs: config jobs always, then discovered jobs oldest first (see
	// collector/watchcap.go); 0 is no cap.
	MaxWatchedJobs int `yaml:"max_watched_jobs"`
	// RateLimit is the rate limit of every project without its own.
	RateLimit  RateLimit        `yaml:"rate_limit"`
	HTTPClient HTTPClientConfig `yaml:"http_client,omitempty"`
	Projects   []Project        `yaml:"projects"`
}

// HTTPClientConfig is the part of prometheus/common's HTTP client settings that makes sense for a client
// of Huawei Cloud: TLS (a private CA for a private endpoint) and a proxy. Authentication is AK/SK signing,
// so basic auth, bearer tokens and OAuth2 are deliberately not offered.
type HTTPClientConfig struct {
	TLSConfig          config.TLSConfig `yaml:"tls_config,omitempty"`
	config.ProxyConfig `yaml:",inline"`
}

// Credentials says where the credentials of the projects come from (see README, "Credentials"). Source
// is one of static, file, metadata and federated; left out, it is file when a *_file key is set and static
// otherwise, so the blocks written before sources existed keep their meaning. Static and file take an
// AK/SK pair and the security token of temporary credentials, each inline or as a file; files are
// re-read when they change, without a reload. Metadata asks the ECS metadata service for the temporary
// credentials of the instance's agency; federated exchanges an OpenID Connect id_token (CCE workload
// identity) at IAM for temporary credentials.
type Credentials struct {
	Source            string        `yaml:"source,omitempty"`
	AccessKey         config.Secret `yaml:"access_key,omitempty"`
	AccessKeyFile     string        `yaml:"access_key_file,omitempty"`
	SecretKey         config.Secret `yaml:"secret_key,omitempty"`
	SecretKeyFile     string        `yaml:"secret_key_file,omitempty"`
	SecurityToken     config.Secret `yaml:"security_token,omitempty"`
	SecurityTokenFile string        `yaml:"security_token_file,omitempty"`
	// MetadataURL is the metadata service of the metadata source (default http://169.254.169.254).
	MetadataURL string `yaml:"metadata_url,omitempty"`
	// The federated source: the identity provider and id_token file (default: the environment variables
	// HUAWEICLOUD_SDK_IDP_ID and HUAWEICLOUD_SDK_ID_TOKEN_FILE) and IAM (default:
	// HUAWEICLOUD_SDK_IAM_ENDPOINT, else https://iam.myhuaweicloud.com).
	IdpID       string `yaml:"idp_id,omitempty"`
	IDTokenFile string `yaml:"id_token_file,omitempty"`
	IAMEndpoint string `yaml:"iam_endpoint,omitempty"`
}

// Project is one Huawei Cloud project in one region, with the jobs to watch there.
type Project struct {
	Region      string            `yaml:"region"`
	ProjectID   string            `yaml:"project_id"`
	Credentials *Credentials      `yaml:"credentials,omitempty"`
	Endpoints   map[string]string `yaml:"endpoints,omitempty"`
	Jobs        []JobRef          `yaml:"jobs,omitempty"`
	Discovery   Discovery         `yaml:"discovery,omitempty"`
	RateLimit   *RateLimit        `yaml:"rate_limit,omitempty"`
}

// JobRef names one job to watch.
type JobRef struct {
	Service huaweicloud.Service `yaml:"service"`
	ID      string              `yaml:"id"`
}

// Discovery lists the sources that find jobs to watch besides the static list.
type Discovery struct {
	CTS   *CTSDiscovery `yaml:"cts,omitempty"`
	Files []string      `yaml:"files,omitempty"`
}

// CTSDiscovery finds jobs in the project's Cloud Trace Service traces.
type CTSDiscovery struct {
	Enabled  bool                  `yaml:"enabled"`
	Services []huaweicloud.Service `yaml:"services"`
	Interval model.Duration        `yaml:"interval"`
	Lookback model.Duration        `yaml:"lookback"`
}

// Defaults, set before decoding so that a key left out keeps them.
const (
	defaultTimeout          = model.Duration(10 * time.Second)
	defaultConcurrency      = 16
	defaultMinQueryInterval = model.Duration(10 * time.Second)
	defaultFinalJobTTL      = model.Duration(24 * time.Hour)
	defaultPendingPayment   = model.Duration(5 * time.Minute)
	// defaultMaxWatchedJobs is twice the 10,000 jobs README's Performance table measures (36.9 MiB peak
	// RSS, a 1.7 MB gzip answer), so an exporter at the cap stays near 80 MiB, within the chart's 256Mi,
	// and answers well inside a 10 s scrape timeout; 100,000 ids from CTS took 230 MB and a 10.9 s pull
	// (issue 22). More is a choice: raise it, or shard (README, "Running at scale").
	defaultMaxWatchedJobs = 20000
	defaultCTSInterval    = model.Duration(time.Minute)
	// defaultCTSLookback is the longest the API keeps a finished job (maxCTSLookback): a restarted
	// exporter finds again every job the API still knows.
	defaultCTSLookback = model.Duration(maxCTSLookback)
)

// Default is the configuration of a file that sets nothing but its projects: the product's defaults,
// defined here only (collector.DefaultOptions are taken from it).
func Default() Config {
	return defaultConfig()
}

func defaultConfig() Config {
	return Config{
		Timeout:          defaultTimeout,
		Concurrency:      defaultConcurrency,
		MinQueryInterval: defaultMinQueryInterval,
		FinalJobTTL:      defaultFinalJobTTL,

		PendingPaymentQueryInterval: defaultPendingPayment,
		MaxWatchedJobs:              defaultMaxWatchedJobs,
		RateLimit:                   RateLimit{RequestsPerSecond: defaultRateLimitRPS, Burst: defaultRateLimitBurst},
	}
}

// UnmarshalYAML sets the defaults of a cts block before decoding it.
func (c *CTSDiscovery) UnmarshalYAML(unmarshal func(any) error) error {
	*c = CTSDiscovery{
		// A copy: the decoder and Validate write into this slice, and CTSDefaultServices is shared. The
		// default is the services whose traces are known to name their jobs (huaweicloud/services.go).
		Services: append([]huaweicloud.Service(nil), huaweicloud.CTSDefaultServices...),
		Interval: defaultCTSInterval,
		Lookback: defaultCTSLookback,
	}
	type plain CTSDiscovery
	return unmarshal((*plain)(c))
}

// maxConfigBytes caps the config file: 20,000 listed jobs (the most one exporter watches by default, see
// MaxWatchedJobs) take about 1.1 MB; a bigger file is a mistake (or /dev/zero) and must not fill memory.
const maxConfigBytes = 16 << 20

// maxSecretFileBytes caps a *_file secret: an AK is 20 characters, a security token a few KiB.
const maxSecretFileBytes = 64 << 10

// Load reads, decodes and validates the configuration file at path. Only a regular file is read, within
// fileread.DefaultTimeout: a FIFO or a stuck mount as --config.file fails the start or the reload instead
// of blocking every later reload.
func Load(path string) (*Config, error) {
	b, err := fileread.Read(context.Background(), path, maxConfigBytes, 0, "a config file")
	if err != nil {
		return nil, err // names the file
	}
	c, err := Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Endpoint is the base URL of service s for project i: the configured override, else the public endpoint.
func (c *Config) Endpoint(i int, s huaweicloud.Service) string {
	if i < 0 || i >= len(c.Projects) {
		return ""
	}
	p := c.Projects[i]
	if e, ok := p.Endpoints[string(s)]; ok && e != "" {
		return strings.TrimRight(e, "/")
	}
	return huaweicloud.DefaultEndpoint(s, p.Region)
}

// Environment variables read when no credentials are configured; the names are the official SDK's.
const (
	EnvAccessKey     = "HUAWEICLOUD_SDK_AK"
	EnvSecretKey     = "HUAWEICLOUD_SDK_SK"
	EnvSecurityToken = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
)

// staticCredentials returns the static credentials of project i: the project's own block, else the
// top-level one, else the environment (through getenv). Metadata and federated sources have none (the
// result is empty): CredentialsSource describes every source. A block is taken whole, never mixed with another source.
// *_file values are read now, trimmed of surrounding whitespace. Missing credentials are not an error
// here: the result is then empty, and the caller says how to provide them.
func (c *Config) staticCredentials(i int, getenv func(string) string) (huaweicloud.Credentials, error) {
	if i < 0 || i >= len(c.Projects) {
		return huaweicloud.Credentials{}, fmt.Errorf("projects[%d]: no such project", i)
	}
	if cr := c.Projects[i].Credentials; cr != nil {
		return cr.resolve(fmt.Sprintf("projects[%d].credentials", i))
	}
	if c.Credentials != nil {
		return c.Credentials.resolve("credentials")
	}
	return huaweicloud.Credentials{
		AccessKey:     getenv(EnvAccessKey),
		SecretKey:     getenv(EnvSecretKey),
		SecurityToken: getenv(EnvSecurityToken),
	}, nil
}

func (cr *Credentials) resolve(path string) (huaweicloud.Credentials, error) {
	var out huaweicloud.Credentials
	if src := cr.source(); src == huaweicloud.SourceMetadata || src == huaweicloud.SourceFederated {
		return out, nil // fetched at run time, see CredentialsSource
	}
	for _, f := range []struct {
		name   string
		inline config.Secret
		file   string
		dst    *string
	}{
		{"access_key_file", cr.AccessKey, cr.AccessKeyFile, &out.AccessKey},
		{"secret_key_file", cr.SecretKey, cr.SecretKeyFile, &out.SecretKey},
		{"security_token_file", cr.SecurityToken, cr.SecurityTokenFile, &out.SecurityToken},
	} {
		if f.file == "" {
			*f.dst = string(f.inline)
			continue
		}
		b, err := fileread.Read(context.Background(), f.file, maxSecretFileBytes, 0, "a credential file")
		if err != nil {
			return huaweicloud.Credentials{}, fmt.Errorf("%s.%s: %w", path, f.name, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return huaweicloud.Credentials{}, fmt.Errorf("%s.%s: %s is empty", path, f.name, f.file)
		}
		*f.dst = v
	}
	return out, nil
}
