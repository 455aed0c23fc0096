package simulator

import (
	"fmt"
	"strings"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// The identity of the demo cloud that the exporter's --demo and cmd/hwsim start. These credentials open
// nothing but a loopback simulator.
const (
	DemoAccessKey = "DEMOACCESSKEY0000001"
	DemoSecretKey = "DemoSecretKeyOnlyForTheLoopbackSimulator"
	DemoProjectID = "0123456789abcdef0123456789abcdef"
	DemoRegion    = "ap-southeast-1"
)

// ExporterConfig is an exporter configuration that watches a simulator at url through CTS discovery,
// the way a real deployment finds its jobs. The --demo mode and cmd/hwsim both hand it out, so the
// demo and the standalone simulator cannot drift apart. Every service of the exporter's service table
// points at the simulator, and CTS discovery reads the traces of all of them (the opt-in ones too: the
// simulator records their job ids).
func ExporterConfig(url, accessKey, secretKey, region, projectID string) string {
	return exporterConfig(fmt.Sprintf("credentials:\n  access_key: %s\n  secret_key: %s\n", accessKey, secretKey), url, region, projectID)
}

// exporterConfig is the demo configuration with the given credentials block. Every service of the table
// has its endpoint at the simulator: a service left out would be asked at its public endpoint, which a
// demo or a test must never reach.
func exporterConfig(credentials, url, region, projectID string) string {
	var endpoints, svcs []string
	for _, s := range huaweicloud.EndpointServices {
		endpoints = append(endpoints, string(s)+": "+url)
	}
	for _, s := range huaweicloud.JobServices {
		svcs = append(svcs, string(s))
	}
	return credentials + fmt.Sprintf(`min_query_interval: 2s
projects:
  - region: %s
    project_id: %s
    endpoints: {%s}
    discovery:
      cts: {enabled: true, interval: 10s, lookback: 1h, services: [%s]}
`, region, projectID, strings.Join(endpoints, ", "), strings.Join(svcs, ", "))
}
