package simulator

import (
	"strings"
	"testing"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
)

// TestGeneratedConfigsStayOnLoopback: the configurations the demo, hwsim and the tests are given point
// every service of the table (and the credential endpoints) at the simulator, so adding a service to the
// table can never make a demo ask the real cloud.
func TestGeneratedConfigsStayOnLoopback(t *testing.T) {
	const url = "http://127.0.0.1:18000"
	for name, yml := range map[string]string{
		"static":   ExporterConfig(url, "AK", "SK", "ap-southeast-1", "0123456789abcdef0123456789abcdef"),
		"metadata": MetadataExporterConfig(url, "ap-southeast-1", "0123456789abcdef0123456789abcdef"),
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := config.Decode(strings.NewReader(yml))
			if err != nil {
				t.Fatal(err)
			}
			if err := LoopbackOnly(cfg); err != nil {
				t.Fatal(err)
			}
		})
	}
	// And the check itself sees a service left out.
	cfg, err := config.Decode(strings.NewReader(`credentials: {access_key: AK, secret_key: SK}
projects:
  - region: ap-southeast-1
    project_id: 0123456789abcdef0123456789abcdef
    endpoints: {ecs: "http://127.0.0.1:1", evs: "http://127.0.0.1:1", bms: "http://127.0.0.1:1", ims: "http://127.0.0.1:1", cts: "http://127.0.0.1:1"}
    jobs: [{service: cce, id: 35135603-a281-4e5a-a2b4-8778886e27b0}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := LoopbackOnly(cfg); err == nil || !strings.Contains(err.Error(), "myhuaweicloud") {
		t.Errorf("LoopbackOnly = %v, want the public endpoint of a service left out named", err)
	}
}

func TestLoopbackURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:18000/v1/p/jobs/j", true},
		{"http://[::1]:18000/v1/p/jobs/j", true},
		{"http://localhost:18000/", true},
		{"https://ecs.ap-southeast-1.myhuaweicloud.com/v1/p/jobs/j", false},
		{"http://169.254.169.254/openstack/latest/securitykey", false},
		{"http://10.0.0.1:18000/", false},
	} {
		if err := LoopbackURL(tc.url); (err == nil) != tc.ok {
			t.Errorf("LoopbackURL(%q) = %v, want ok %v", tc.url, err, tc.ok)
		}
	}
}
