package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func readRepoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The image says which version and revision it is: .git is not in the build context, so the Dockerfile
// takes them as build args, and every documented way to build it passes them.
func TestDockerfileStampsVersion(t *testing.T) {
	dockerfile := readRepoFile(t, "Dockerfile")
	// Instructions with their continuation lines joined.
	joined := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(dockerfile, " ")
	var args []string
	var build, healthcheck string
	for line := range strings.SplitSeq(joined, "\n") {
		switch f := strings.Fields(line); {
		case len(f) > 1 && f[0] == "ARG":
			args = append(args, strings.SplitN(f[1], "=", 2)[0])
		case len(f) > 1 && f[0] == "RUN" && strings.Contains(line, "go build"):
			build = line
		case len(f) > 1 && f[0] == "HEALTHCHECK":
			healthcheck = line
		}
	}
	for _, arg := range []string{"VERSION", "REVISION"} {
		if !slices.Contains(args, arg) {
			t.Errorf("Dockerfile declares no ARG %s", arg)
		}
	}
	for _, x := range []string{"version.Version=${VERSION}", "version.Revision=${REVISION}"} {
		if !strings.Contains(build, "-X github.com/prometheus/common/"+x) {
			t.Errorf("the go build of the Dockerfile does not set %s:\n%s", x, build)
		}
	}
	if !strings.Contains(healthcheck, `CMD ["/bin/huaweicloud-job-exporter", "--healthcheck"]`) {
		t.Errorf("no exec-form HEALTHCHECK running --healthcheck (the image has no shell): %q", healthcheck)
	}

	// The build commands documented in the Dockerfile, README.md and the Makefile's docker target.
	makefile := readRepoFile(t, "Makefile")
	target := makefile[strings.Index(makefile, "\ndocker:"):]
	target = target[:strings.Index(target[1:], "\n\n")+1]
	readme := readRepoFile(t, "README.md")
	for where, text := range map[string]string{"Dockerfile": dockerfile, "Makefile docker target": target, "README.md": readme} {
		for _, line := range strings.Split(regexp.MustCompile(`\\\n[#\s]*`).ReplaceAllString(text, " "), "\n") {
			if !strings.Contains(line, "docker build") {
				continue
			}
			for _, arg := range []string{"--build-arg VERSION=", "--build-arg REVISION="} {
				if !strings.Contains(line, arg) {
					t.Errorf("%s: %q does not pass %s", where, strings.TrimSpace(line), arg)
				}
			}
		}
	}
	if !strings.Contains(target, "docker build") {
		t.Errorf("the Makefile has no docker target running docker build:\n%s", target)
	}
}

// docker compose starts each service once what it depends on is healthy, and the exporter's check runs
// the binary's own probe (its image has no shell).
func TestComposeWaitsForHealthyServices(t *testing.T) {
	var compose struct {
		Services map[string]struct {
			DependsOn   any `yaml:"depends_on"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "examples/docker-compose.yml")), &compose); err != nil {
		t.Fatal(err)
	}
	exporter := compose.Services["exporter"].Healthcheck.Test
	if !slices.Contains(exporter, "--healthcheck") || exporter[0] != "CMD" {
		t.Errorf("exporter healthcheck %q does not run --healthcheck in exec form", exporter)
	}
	for name, s := range compose.Services {
		if s.DependsOn == nil {
			continue
		}
		deps, ok := s.DependsOn.(map[string]any)
		if !ok {
			t.Errorf("%s: depends_on is a list, without conditions", name)
			continue
		}
		for dep, v := range deps {
			cond, _ := v.(map[string]any)
			if cond["condition"] != "service_healthy" {
				t.Errorf("%s: depends_on %s without condition: service_healthy", name, dep)
			}
			if len(compose.Services[dep].Healthcheck.Test) == 0 {
				t.Errorf("%s depends on %s being healthy, but %s has no healthcheck", name, dep, dep)
			}
		}
	}
}
