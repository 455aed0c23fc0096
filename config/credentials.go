package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// validSources lists the values of credentials.source.
const validSources = "static, file, metadata, federated"

// source is the block's source, inferred when left out (see Credentials).
func (cr *Credentials) source() string {
	if cr.Source != "" {
		return cr.Source
	}
	if cr.AccessKeyFile != "" || cr.SecretKeyFile != "" || cr.SecurityTokenFile != "" {
		return huaweicloud.SourceFile
	}
	return huaweicloud.SourceStatic
}

// CredentialsField is where the credentials of project i are configured: "projects[i].credentials",
// "credentials", or "environment" when no block applies.
func (c *Config) CredentialsField(i int) string {
	switch {
	case i >= 0 && i < len(c.Projects) && c.Projects[i].Credentials != nil:
		return fmt.Sprintf("projects[%d].credentials", i)
	case c.Credentials != nil:
		return "credentials"
	}
	return "environment"
}

// CredentialsSource describes the credentials of project i: the project's block, else the top-level one,
// else the environment (through getenv), where the SDK's variables name an AK/SK pair
// (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_SECURITY_TOKEN) or a federated identity
// (HUAWEICLOUD_SDK_IDP_ID, HUAWEICLOUD_SDK_ID_TOKEN_FILE), in that order like the SDK's env provider
// (core/auth/provider/env_provider.go). It reads no file and calls no network; the result may be
// incomplete (see huaweicloud.CredentialsConfig.Complete) when nothing is configured.
func (c *Config) CredentialsSource(i int, getenv func(string) string) (huaweicloud.CredentialsConfig, error) {
	if i < 0 || i >= len(c.Projects) {
		return huaweicloud.CredentialsConfig{}, fmt.Errorf("projects[%d]: no such project", i)
	}
	p := c.Projects[i]
	cr := p.Credentials
	if cr == nil {
		cr = c.Credentials
	}
	if cr == nil {
		if ak, sk := getenv(EnvAccessKey), getenv(EnvSecretKey); ak != "" || sk != "" || getenv(huaweicloud.EnvIdpID) == "" {
			return huaweicloud.CredentialsConfig{Source: huaweicloud.SourceEnvironment, Static: huaweicloud.Credentials{
				AccessKey: ak, SecretKey: sk, SecurityToken: getenv(EnvSecurityToken)}}, nil
		}
		return federated(&Credentials{}, p.ProjectID, getenv), nil
	}
	switch src := cr.source(); src {
	case huaweicloud.SourceMetadata:
		u := cr.MetadataURL
		if u == "" {
			u = huaweicloud.DefaultMetadataURL
		}
		return huaweicloud.CredentialsConfig{Source: src, MetadataURL: strings.TrimRight(u, "/")}, nil
	case huaweicloud.SourceFederated:
		return federated(cr, p.ProjectID, getenv), nil
	default:
		return huaweicloud.CredentialsConfig{Source: src,
			Static: huaweicloud.Credentials{
				AccessKey: string(cr.AccessKey), SecretKey: string(cr.SecretKey), SecurityToken: string(cr.SecurityToken)},
			AccessKeyFile: cr.AccessKeyFile, SecretKeyFile: cr.SecretKeyFile, SecurityTokenFile: cr.SecurityTokenFile,
		}, nil
	}
}

func federated(cr *Credentials, projectID string, getenv func(string) string) huaweicloud.CredentialsConfig {
	out := huaweicloud.CredentialsConfig{Source: huaweicloud.SourceFederated, IdpID: cr.IdpID, IDTokenFile: cr.IDTokenFile,
		IAMEndpoint: cr.IAMEndpoint, ProjectID: projectID}
	if out.IdpID == "" {
		out.IdpID = getenv(huaweicloud.EnvIdpID)
	}
	if out.IDTokenFile == "" {
		out.IDTokenFile = getenv(huaweicloud.EnvIDTokenFile)
	}
	if out.IAMEndpoint == "" {
		// The SDK puts https:// in front of a bare host name (core/auth/internal/iam_service.go, GetIamEndpoint).
		if e := getenv(huaweicloud.EnvIAMEndpoint); e != "" {
			if !strings.Contains(e, "://") {
				e = "https://" + e
			}
			out.IAMEndpoint = e
		} else {
			out.IAMEndpoint = huaweicloud.DefaultIAMEndpoint
		}
	}
	out.IAMEndpoint = strings.TrimRight(out.IAMEndpoint, "/")
	return out
}

// ErrCredentialsNotConfigured is wrapped by CheckCredentials for a project that has no credentials
// configured at all (no block, nothing in the environment): start-up then suggests --demo. It is not
// huaweicloud.ErrNoCredentials, which a configured source that yields nothing usable wraps (a
// half-configured federated source, a metadata service that never answered): that one gets no --demo
// hint. The text stays "no credentials", as logged before the rename.
var ErrCredentialsNotConfigured = errors.New("no credentials")

// CheckCredentials says, for every project, where its credentials will come from, the way start-up
// resolves them: it reads the environment and the files (the *_file keys, the id_token file) but never
// calls the network, so a metadata source is only checked for being configured. The lines name no
// secret. The error lists every project whose credentials cannot be resolved, each with its field path,
// and wraps ErrCredentialsNotConfigured when one has none at all.
func (c *Config) CheckCredentials(getenv func(string) string) ([]string, error) {
	var lines []string
	var errs []error
	for i, p := range c.Projects {
		cc, err := c.CredentialsSource(i, getenv)
		if cc.Source != huaweicloud.SourceMetadata && cc.Source != huaweicloud.SourceFederated {
			// An AK/SK pair: name the half that is missing, and where it was looked for.
			if kerr := c.keyPair(i, getenv); kerr != nil {
				errs = append(errs, kerr)
				continue
			}
		}
		if err == nil {
			err = cc.Check()
		}
		field := c.CredentialsField(i)
		if err != nil {
			if errors.Is(err, huaweicloud.ErrNoCredentials) && field == "environment" {
				err = fmt.Errorf("%w: set credentials in the config file, or %s and %s (or %s and %s) in the environment",
					ErrCredentialsNotConfigured, EnvAccessKey, EnvSecretKey, huaweicloud.EnvIdpID, huaweicloud.EnvIDTokenFile)
			}
			errs = append(errs, fmt.Errorf("projects[%d] (%s): %s: %w", i, field, cc.Source, err))
			continue
		}
		from := ", from " + field
		if field == cc.Source {
			from = "" // "environment (HUAWEICLOUD_SDK_AK, ...)" says it already
		}
		lines = append(lines, fmt.Sprintf("projects[%d] %s/%s: %s%s", i, p.Region, p.ProjectID, cc, from))
	}
	return lines, errors.Join(errs...)
}

// validateCredentials checks a credentials block for its source. It runs inside Validate.
func (v *validator) credentials(path string, cr *Credentials) {
	src := cr.source()
	keys := cr.AccessKey != "" || cr.AccessKeyFile != "" || cr.SecretKey != "" || cr.SecretKeyFile != "" ||
		cr.SecurityToken != "" || cr.SecurityTokenFile != ""
	notFor := func(field string, set bool) {
		if set {
			v.addf("%s.%s: not used by source %s", path, field, src)
		}
	}
	switch src {
	case huaweicloud.SourceStatic, huaweicloud.SourceFile:
		for _, f := range []struct {
			name         string
			inline, file bool
		}{
			{"access_key", cr.AccessKey != "", cr.AccessKeyFile != ""},
			{"secret_key", cr.SecretKey != "", cr.SecretKeyFile != ""},
			{"security_token", cr.SecurityToken != "", cr.SecurityTokenFile != ""},
		} {
			if f.inline && f.file {
				v.addf("%s: only one of %s and %[2]s_file may be set", path, f.name)
			}
		}
		// A block is used whole (see staticCredentials), so half a key pair cannot be completed from elsewhere.
		if cr.AccessKey == "" && cr.AccessKeyFile == "" {
			v.addf("%s: access_key or access_key_file is required", path)
		}
		if cr.SecretKey == "" && cr.SecretKeyFile == "" {
			v.addf("%s: secret_key or secret_key_file is required", path)
		}
		files := cr.AccessKeyFile != "" || cr.SecretKeyFile != "" || cr.SecurityTokenFile != ""
		if src == huaweicloud.SourceStatic && cr.Source != "" && files {
			v.addf("%s.source: static takes no *_file keys (use source: file, whose files are re-read when they change)", path)
		}
		if src == huaweicloud.SourceFile && !files {
			v.addf("%s.source: file needs at least one of access_key_file, secret_key_file and security_token_file", path)
		}
		notFor("metadata_url", cr.MetadataURL != "")
		notFor("idp_id", cr.IdpID != "")
		notFor("id_token_file", cr.IDTokenFile != "")
		notFor("iam_endpoint", cr.IAMEndpoint != "")
	case huaweicloud.SourceMetadata:
		if keys {
			v.addf("%s: source metadata takes no access_key, secret_key or security_token (the metadata service hands them out)", path)
		}
		notFor("idp_id", cr.IdpID != "")
		notFor("id_token_file", cr.IDTokenFile != "")
		notFor("iam_endpoint", cr.IAMEndpoint != "")
		if cr.MetadataURL != "" {
			v.baseURL(path+".metadata_url", cr.MetadataURL)
		}
	case huaweicloud.SourceFederated:
		if keys {
			v.addf("%s: source federated takes no access_key, secret_key or security_token (IAM hands them out)", path)
		}
		notFor("metadata_url", cr.MetadataURL != "")
		if cr.IAMEndpoint != "" {
			v.baseURL(path+".iam_endpoint", cr.IAMEndpoint)
		}
	default:
		v.addf("%s.source: unknown source %q (valid: %s)", path, cr.Source, validSources)
	}
}

// baseURL checks a URL that paths are appended to: http(s)://host[:port], no path, query or credentials.
func (v *validator) baseURL(path, raw string) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(raw, "?#") {
		v.addf("%s: %q is not a base URL (expected http(s)://host[:port], no path, query or fragment)", path, raw)
	}
}
