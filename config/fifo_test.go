//go:build unix

package config_test

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
)

// Issue 22 item 4: a FIFO as --config.file blocked the start, then every reload and SIGHUP, waiting for
// a writer. It is refused at once, naming the file.
func TestLoadRefusesAFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yml")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := config.Load(path); done <- err }()
	if err := <-done; err == nil || err.Error() != path+": is a named pipe (FIFO); only regular files are read" {
		t.Errorf("err %v, want the FIFO named and refused", err)
	}
}
