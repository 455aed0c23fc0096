package config

import (
	"fmt"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// keyPair resolves the AK/SK pair of project i, for the static and file sources, as start-up does (the
// config block, *_file secrets, the environment through getenv; no network), and says precisely what is
// missing and where it was looked for: with only the access key set, that the secret key is missing.
func (c *Config) keyPair(i int, getenv func(string) string) error {
	creds, err := c.staticCredentials(i, getenv)
	if err != nil {
		// A file that cannot be read: CheckCredentials reports it with the source.
		return nil
	}
	if creds.AccessKey != "" && creds.SecretKey != "" {
		return nil
	}
	// Which source staticCredentials took, to name the fields it read.
	ak, sk := EnvAccessKey, EnvSecretKey
	switch {
	case c.Projects[i].Credentials != nil:
		ak, sk = fmt.Sprintf("projects[%d].credentials.access_key", i), fmt.Sprintf("projects[%d].credentials.secret_key", i)
	case c.Credentials != nil:
		ak, sk = "credentials.access_key", "credentials.secret_key"
	}
	switch {
	case creds.AccessKey == "" && creds.SecretKey == "":
		return fmt.Errorf("projects[%d]: %w: set credentials in the config file or %s and %s (or %s and %s for a federated identity)",
			i, ErrCredentialsNotConfigured, EnvAccessKey, EnvSecretKey, huaweicloud.EnvIdpID, huaweicloud.EnvIDTokenFile)
	case creds.SecretKey == "":
		return fmt.Errorf("projects[%d]: secret key missing: %s is set but %s is empty", i, ak, sk)
	default:
		return fmt.Errorf("projects[%d]: access key missing: %s is set but %s is empty", i, sk, ak)
	}
}
