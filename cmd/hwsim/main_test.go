package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/discovery"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/simulator"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/testkit"
)

// TestRun starts the command on a free loopback port, queries it with the printed configuration's
// credentials as the exporter would, and stops it like SIGINT does.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testkit.Buffer
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"--listen-address=127.0.0.1:0", "--seed=3"}, &stdout, &stderr) }()

	urlRE := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var url string
	for deadline := time.Now().Add(5 * time.Second); url == ""; time.Sleep(5 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no URL printed:\n%s\n%s", stdout.String(), stderr.String())
		}
	}
	for !strings.Contains(stdout.String(), "discovery:") {
		time.Sleep(5 * time.Millisecond)
	}
	// stdout is only the configuration, so "hwsim > hwsim.yml" gives a file the exporter loads; it names
	// the simulator and the demo credentials.
	snippet := stdout.String()
	if _, err := config.Decode(strings.NewReader(snippet)); err != nil {
		t.Fatalf("stdout is not a valid exporter configuration: %v\n%s", err, snippet)
	}
	var cfg struct {
		Credentials struct{ AccessKey, SecretKey string } `yaml:"credentials"`
		Projects    []struct {
			Region    string            `yaml:"region"`
			ProjectID string            `yaml:"project_id"`
			Endpoints map[string]string `yaml:"endpoints"`
		} `yaml:"projects"`
	}
	if err := yaml.Unmarshal([]byte(snippet), &cfg); err != nil {
		t.Fatalf("snippet is not YAML: %v\n%s", err, snippet)
	}
	if len(cfg.Projects) != 1 || cfg.Projects[0].Endpoints["cts"] != url || cfg.Projects[0].ProjectID != simulator.DemoProjectID {
		t.Fatalf("snippet: %+v\n%s", cfg, snippet)
	}

	c := huaweicloud.NewClient(nil, huaweicloud.WithRetry(1, 0, 0))
	target := huaweicloud.Target{Service: huaweicloud.CTS, Region: simulator.DemoRegion, ProjectID: simulator.DemoProjectID, Endpoint: url,
		Credentials: huaweicloud.Credentials{AccessKey: simulator.DemoAccessKey, SecretKey: simulator.DemoSecretKey}}
	var page *huaweicloud.TracePage
	for deadline := time.Now().Add(5 * time.Second); page == nil || len(page.Traces) == 0; time.Sleep(10 * time.Millisecond) {
		var err error
		if page, err = c.ListTraces(ctx, target, huaweicloud.TraceQuery{Limit: 100}); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the scenario created no jobs")
		}
	}
	// The trace's service_type names the service through the service table (VPC is EIP's), and its
	// response the job, as CTS discovery reads it.
	tr := page.Traces[0]
	for _, s := range huaweicloud.JobServices {
		if spec, _ := huaweicloud.Spec(s); spec.CTSServiceType == tr.ServiceType {
			target.Service = s
		}
	}
	ids := discovery.JobIDs(tr.Response)
	if len(ids) != 1 {
		t.Fatalf("trace response %q names %v", tr.Response, ids)
	}
	id := ids[0]
	if j, err := c.GetJob(ctx, target, id); err != nil || j.JobID != id {
		t.Fatalf("job %s: %v %v", id, j, err)
	}

	cancel()
	select {
	case rc := <-code:
		if rc != 0 {
			t.Errorf("exit code %d\n%s", rc, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not stop")
	}
	if !strings.Contains(stderr.String(), "hwsim: stopping after 1 job queries") {
		t.Errorf("no summary:\n%s", stderr.String())
	}
	if stdout.String() != snippet {
		t.Errorf("stdout got more than the configuration:\n%s", stdout.String())
	}
}

func TestRunRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string
		code int
		want string
	}{
		{"non-loopback from the environment", nil, "0.0.0.0:18000", 2, "not a loopback address"},
		{"empty host from the environment", nil, ":18000", 2, "not a loopback address"},
		{"bad rate", []string{"--listen-address=127.0.0.1:0", "--server-error-rate=2"}, "", 2, "server-error-rate"},
		{"unknown flag", []string{"--nope"}, "", 2, "unknown long flag"},
		{"help", []string{"--help"}, "", 0, "--listen-address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("HWSIM_LISTEN_ADDRESS", tc.env)
			}
			var stdout, stderr testkit.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if rc := run(ctx, tc.args, &stdout, &stderr); rc != tc.code || !strings.Contains(stdout.String()+stderr.String(), tc.want) {
				t.Errorf("exit %d, want %d; output:\n%s%s", rc, tc.code, stdout.String(), stderr.String())
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:18000": true, "127.0.0.2:1": true, "[::1]:80": true, "localhost:9": true,
		"0.0.0.0:18000": false, ":18000": false, "10.1.2.3:80": false, "[::]:80": false, "example.com:80": false, "nonsense": false,
	} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %t, want %t", addr, got, want)
		}
	}
}
