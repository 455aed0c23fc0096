//go:build unix

package fileread

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRegularRefuses(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 11), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"FIFO", fifo, fifo + ": is a named pipe (FIFO); only regular files are read"},
		{"link to a FIFO", link, link + ": links to a named pipe (FIFO); only regular files are read"},
		{"device", "/dev/zero", "/dev/zero: is a device; only regular files are read"},
		{"directory", dir, dir + ": is a directory; only regular files are read"},
		{"too big", big, big + ": 11 bytes, larger than 10 bytes, the most a test file may have"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(t.Context(), tc.path, 10, 0, "a test file")
			if err == nil || err.Error() != tc.want {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// A read that hangs is abandoned at its timeout, the same key is refused until it returns, and Stuck
// reports it to the liveness probe.
func TestBoundedAbandonsAHungRead(t *testing.T) {
	release := make(chan struct{})
	returned := make(chan struct{})
	hung := func() (int, error) { <-release; close(returned); return 1, nil }
	_, err := Bounded(t.Context(), "k", 50*time.Millisecond, hung)
	if err == nil || !strings.Contains(err.Error(), "k: read did not finish") {
		t.Fatalf("err %v, want the timeout", err)
	}
	if _, err := Bounded(t.Context(), "k", 0, hung); !errors.Is(err, ErrPending) {
		t.Errorf("second read: err %v, want ErrPending", err)
	}
	if n, oldest := Stuck(0); n != 1 || oldest != "k" {
		t.Errorf("Stuck = %d %q, want 1 \"k\"", n, oldest)
	}
	close(release)
	<-returned
	for { // finish runs just after the read returns
		if n, _ := Stuck(0); n == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if v, err := Bounded(t.Context(), "k", 0, func() (int, error) { return 2, nil }); v != 2 || err != nil {
		t.Errorf("after the release: %v %v", v, err)
	}
}

// Two reads of one key that merely run at the same time (a reload reading a secret file while the
// credentials check re-reads it) both go ahead: only a read given up on refuses its key.
func TestBoundedConcurrentReadsOfOneKey(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := Bounded(t.Context(), "shared", time.Hour, func() (int, error) { close(started); <-release; return 1, nil })
		first <- err
	}()
	<-started
	v, err := Bounded(t.Context(), "shared", time.Hour, func() (int, error) { return 2, nil })
	close(release)
	if v != 2 || err != nil {
		t.Errorf("second read while the first runs: %v, %v; want 2, nil", v, err)
	}
	if err := <-first; err != nil {
		t.Errorf("first read: %v", err)
	}
	if n, _ := Stuck(0); n != 0 {
		t.Errorf("Stuck = %d after both returned, want 0", n)
	}
}
