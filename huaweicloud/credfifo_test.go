//go:build unix

package huaweicloud

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Issue 22 item 4: a FIFO put in place of secret_key_file (or a read stuck on a hung mount) held the
// provider's lock across the open, and every request waited for it: /metrics never answered. The
// provider must answer with the last good credentials and count the failure.
func TestFileProviderFIFODoesNotHang(t *testing.T) {
	dir := t.TempDir()
	ak, sk := filepath.Join(dir, "ak"), filepath.Join(dir, "sk")
	writeSecret(t, ak, "FILEAK1")
	writeSecret(t, sk, "file-secret-1")
	clock := &credClock{t: credEpoch}
	p := newTestProvider(t, CredentialsConfig{Source: SourceFile, AccessKeyFile: ak, SecretKeyFile: sk}, clock, nil)
	if err := os.Remove(sk); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(sk, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	// A writer that never comes would keep an open of the FIFO waiting forever; let the test end.
	t.Cleanup(func() {
		if f, err := os.OpenFile(sk, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	type answer struct {
		c   Credentials
		err error
	}
	done := make(chan answer, 2)
	for range 2 { // the second waits for the first's lock on the old code
		go func() {
			c, err := p.Credentials(t.Context())
			done <- answer{c, err}
		}()
	}
	want := Credentials{AccessKey: "FILEAK1", SecretKey: "file-secret-1"}
	for range 2 {
		select {
		case a := <-done:
			if a.err != nil || a.c != want {
				t.Errorf("got %+v, %v; want the last good %+v", a.c, a.err, want)
			}
		case <-time.After(time.Minute): // a hang, not a timing: fileread's bound is 5 s
			t.Fatal("Credentials did not return: the FIFO's open blocks the provider")
		}
	}
	if f := p.Status().RefreshFailures; f != 1 {
		t.Errorf("%d refresh failures, want 1 (the FIFO is refused once, then not retried until it changes)", f)
	}
}
