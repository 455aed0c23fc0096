package simulator

import "fmt"

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
// demo and the standalone simulator cannot drift apart.
func ExporterConfig(url, accessKey, secretKey, region, projectID string) string {
	return fmt.Sprintf(`credentials:
  access_key: %s
  secret_key: %s
min_query_interval: 2s
projects:
  - region: %s
    project_id: %s
    endpoints: {ecs: %[5]s, evs: %[5]s, bms: %[5]s, ims: %[5]s, cts: %[5]s}
    discovery:
      cts: {enabled: true, interval: 10s, lookback: 1h}
`, accessKey, secretKey, region, projectID, url)
}
