package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBinaryDemoListensOnLoopback: --demo without --web.listen-address serves 127.0.0.1:19866 only, as
// README says; the demo needs no other machine.
func TestBinaryDemoListensOnLoopback(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:19866")
	if err != nil {
		t.Skipf("port 19866 is taken (%v): cannot run the demo on its default address", err)
	}
	l.Close()
	p := start(t, exporterBin, "--demo")
	eventually(t, 30*time.Second, `"Listening on" in the log`, func() (bool, string) {
		if p.exited() {
			t.Fatalf("demo exited: %s", p.out.String())
		}
		return strings.Contains(p.out.String(), "Listening on"), ""
	})
	if !strings.Contains(p.out.String(), `msg="Listening on" address=127.0.0.1:19866`) {
		t.Errorf("the demo does not listen on 127.0.0.1:19866 only:\n%s", p.out.String())
	}
}

// gitOutput runs git in the repository and returns its trimmed output.
func gitOutput(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

func versionOf(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, out)
	}
	return string(out)
}

// TestMakeBuildStampsVersion: README's build command stamps the version and revision from git.
func TestMakeBuildStampsVersion(t *testing.T) {
	requireTool(t, "make")
	requireTool(t, "git")
	bin := filepath.Join(t.TempDir(), "huaweicloud-job-exporter")
	cmd := exec.Command("make", "build", "BINARY="+bin)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	got := versionOf(t, bin)
	for _, want := range []string{
		"version " + gitOutput(t, "describe", "--tags", "--always", "--dirty") + " ",
		"revision: " + gitOutput(t, "rev-parse", "HEAD") + ")",
		"branch: " + gitOutput(t, "rev-parse", "--abbrev-ref", "HEAD") + ",",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("--version of make build lacks %q:\n%s", want, got)
		}
	}
}

// TestGoBuildStampsRevision: a plain "go build" in a git checkout reports the commit it was built from,
// from the VCS information Go records (app.SetVersionFromBuildInfo). The checkout is a fresh clone
// of the committed HEAD: Go does not record VCS information in a git worktree, whose .git is a file.
func TestGoBuildStampsRevision(t *testing.T) {
	requireTool(t, "git")
	head := gitOutput(t, "rev-parse", "HEAD")
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if out, err := exec.Command("git", "clone", "--quiet", "--no-hardlinks", "..", src).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "huaweicloud-job-exporter")
	// -buildvcs=auto is go build's default, spelled out so that a GOFLAGS=-buildvcs=false on the test
	// machine does not change what is tested.
	build := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, ".")
	build.Dir = src
	build.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	got := versionOf(t, bin)
	if !strings.Contains(got, "revision: "+head+")") {
		t.Errorf("--version of a plain go build lacks revision %s:\n%s", head, got)
	}
	if strings.Contains(got, "version dev ") {
		t.Errorf("--version of a plain go build says dev, not the pseudo-version Go derives from git:\n%s", got)
	}
}
