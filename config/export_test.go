package config

import "github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"

// ResolveCredentials exposes staticCredentials to the external tests (TestResolveCredentials).
func (c *Config) ResolveCredentials(i int, getenv func(string) string) (huaweicloud.Credentials, error) {
	return c.staticCredentials(i, getenv)
}
