package simulator

import (
	"fmt"
	"net"
	"net/url"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// LoopbackOnly returns an error naming the first project and service whose endpoint is not on loopback.
// The demo, the benchmarks and the tests run it on the configurations they build: a service missing from
// `endpoints` gets its public Huawei Cloud endpoint, and a job of that service would then be asked on the
// real cloud (or hang on a machine without network). Credential endpoints (metadata, IAM) are checked too.
func LoopbackOnly(cfg *config.Config) error {
	for i, p := range cfg.Projects {
		for _, s := range huaweicloud.EndpointServices {
			if err := loopbackURL(cfg.Endpoint(i, s)); err != nil {
				return fmt.Errorf("projects[%d].endpoints.%s: %w", i, s, err)
			}
		}
		for _, cr := range []*config.Credentials{cfg.Credentials, p.Credentials} {
			if cr == nil {
				continue
			}
			for field, u := range map[string]string{"metadata_url": cr.MetadataURL, "iam_endpoint": cr.IAMEndpoint} {
				if u == "" {
					continue
				}
				if err := loopbackURL(u); err != nil {
					return fmt.Errorf("credentials.%s: %w", field, err)
				}
			}
		}
	}
	return nil
}

// LoopbackURL returns an error unless raw names a loopback host, for URLs that reach the simulator
// without an exporter configuration (the benchmark's json_exporter targets).
func LoopbackURL(raw string) error { return loopbackURL(raw) }

func loopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
		return nil
	}
	return fmt.Errorf("%s is not on loopback", raw)
}
