package config

import (
	"errors"
	"fmt"
)

// ErrNoCredentials is wrapped by CheckCredentials when a project has no credentials from any source, so
// that callers can say how to provide them.
var ErrNoCredentials = errors.New("no credentials")

// CheckCredentials resolves the credentials of every project as start-up and reloads do (config blocks,
// *_file secrets, the environment through getenv; no network) and reports the first project whose
// credentials are incomplete, naming what is missing and where it was looked for. Start-up and
// --config.check both call it, so a config that passes the check is not then refused.
func (c *Config) CheckCredentials(getenv func(string) string) error {
	for i := range c.Projects {
		creds, err := c.ResolveCredentials(i, getenv)
		if err != nil {
			return err
		}
		if creds.AccessKey != "" && creds.SecretKey != "" {
			continue
		}
		// Which source ResolveCredentials took, to name the fields it read.
		ak, sk := EnvAccessKey, EnvSecretKey
		switch {
		case c.Projects[i].Credentials != nil:
			ak, sk = fmt.Sprintf("projects[%d].credentials.access_key", i), fmt.Sprintf("projects[%d].credentials.secret_key", i)
		case c.Credentials != nil:
			ak, sk = "credentials.access_key", "credentials.secret_key"
		}
		switch {
		case creds.AccessKey == "" && creds.SecretKey == "":
			return fmt.Errorf("projects[%d]: %w: set credentials in the config file or %s and %s", i, ErrNoCredentials, EnvAccessKey, EnvSecretKey)
		case creds.SecretKey == "":
			return fmt.Errorf("projects[%d]: secret key missing: %s is set but %s is empty", i, ak, sk)
		default:
			return fmt.Errorf("projects[%d]: access key missing: %s is set but %s is empty", i, sk, ak)
		}
	}
	return nil
}
