package app

import (
	"fmt"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// projectCredentials returns the provider of project i's credentials, the one of the previous
// configuration when the source did not change (so temporary credentials and their refresh state
// survive a reload). It reads credential files but calls no network: metadata and IAM are asked on the
// first request.
func (e *Exporter) projectCredentials(cfg *config.Config, i int, getenv func(string) string) (huaweicloud.CredentialsProvider, huaweicloud.CredentialsConfig, error) {
	cc, err := cfg.CredentialsSource(i, getenv)
	if err != nil {
		return nil, cc, err
	}
	field := cfg.CredentialsField(i)
	if !cc.Complete() {
		if field == "environment" {
			return nil, cc, fmt.Errorf("projects[%d]: %w: set credentials in the config file or HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK", i, config.ErrCredentialsNotConfigured)
		}
		return nil, cc, fmt.Errorf("%s: %w: the %s source is incomplete", field, config.ErrCredentialsNotConfigured, cc.Source)
	}
	p, err := e.credentials.Provider(cc)
	if err != nil {
		// Only reading a *_file fails here, and its error starts with the key's name.
		return nil, cc, fmt.Errorf("%s.%w", field, err)
	}
	return p, cc, nil
}

// CheckCredentials logs where each project's credentials will come from, for --config.check, and
// returns the error start-up would refuse the config with. It reads the environment and files, never the
// network.
func CheckCredentials(cfg *config.Config, getenv func(string) string, logger log.Logger) error {
	lines, err := cfg.CheckCredentials(getenv)
	for _, l := range lines {
		level.Info(logger).Log("msg", "credentials", "project", l)
	}
	return err
}
