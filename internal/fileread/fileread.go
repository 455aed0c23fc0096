// Package fileread reads the files the exporter is given (the config, credential files, job-id files)
// so that no file can hang or swamp it: only regular files are read (a symlink to one is fine), each up to
// a size cap, and each read within a time bound. A FIFO, a device, a directory or /dev/zero is an error
// naming the file; a read that hangs (a stuck NFS or CSI mount) is abandoned after its timeout, and the
// same file is refused until that read returns, so a stuck mount costs one goroutine, not one per try.
//
// Reads never run under a lock that serves a request: callers read first, then take their lock to store
// what they read. Stuck tells the liveness probe about reads that never return.
package fileread

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// DefaultTimeout bounds a read of a small local file; a healthy disk answers in milliseconds.
const DefaultTimeout = 5 * time.Second

// Regular reads path if it is a regular file of at most max bytes. what names the kind of file in the
// errors ("a job-id file"). The type is checked before the open, so a FIFO or device is never opened, and
// again on the open file, in case path was replaced in between; O_NONBLOCK makes even that racing open
// of a FIFO return at once instead of waiting for a writer. Errors name the file, never its content.
func Regular(path string, max int64, what string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err // *PathError names the file
	}
	verb := "is"
	if lfi, err := os.Lstat(path); err == nil && lfi.Mode()&os.ModeSymlink != 0 {
		verb = "links to"
	}
	if err := check(path, verb, fi, max, what); err != nil {
		return nil, err
	}
	fd, err := os.OpenFile(path, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	if fi, err = fd.Stat(); err != nil {
		return nil, err
	}
	if err := check(path, "is", fi, max, what); err != nil {
		return nil, err
	}
	// The file may grow after Stat: read one byte past the cap to tell.
	b, err := io.ReadAll(io.LimitReader(fd, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes, the most %s may have", path, max, what)
	}
	return b, nil
}

// check says why path, which verb ("is", "links to") fi, will not be read, or nil.
func check(path, verb string, fi os.FileInfo, max int64, what string) error {
	m := fi.Mode()
	if !m.IsRegular() {
		kind := "not a regular file"
		switch {
		case m.IsDir():
			kind = "a directory"
		case m&os.ModeNamedPipe != 0:
			kind = "a named pipe (FIFO)"
		case m&os.ModeDevice != 0:
			kind = "a device"
		case m&os.ModeSocket != 0:
			kind = "a socket"
		}
		return fmt.Errorf("%s: %s %s; only regular files are read", path, verb, kind)
	}
	if fi.Size() > max {
		return fmt.Errorf("%s: %d bytes, larger than %d bytes, the most %s may have", path, fi.Size(), max, what)
	}
	return nil
}

// Read is Regular within timeout (DefaultTimeout if <= 0) or ctx, whichever ends first.
func Read(ctx context.Context, path string, max int64, timeout time.Duration, what string) ([]byte, error) {
	return Bounded(ctx, path, timeout, func() ([]byte, error) { return Regular(path, max, what) })
}

// ErrPending is returned for a key whose earlier read outlived its timeout and has not returned yet.
var ErrPending = errors.New("skipped: an earlier read has not returned yet")

// Bounded runs read on its own goroutine and waits for it until timeout (DefaultTimeout if <= 0) or ctx
// ends; key names what read reads (a path). A read cannot be interrupted (os.File deadlines only work on
// pipes and sockets), so one that outlives the wait is left to finish on its own, and key is refused with
// ErrPending until it has: a stuck mount costs one goroutine, not one per try. Reads of one key that are
// merely running at the same time (a reload and a credentials check of one secret file) both go ahead.
func Bounded[T any](ctx context.Context, key string, timeout time.Duration, read func() (T, error)) (T, error) {
	var zero T
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if abandonedKey(key) {
		return zero, fmt.Errorf("%s: %w", key, ErrPending)
	}
	type result struct {
		v   T
		err error
	}
	r := &run{start: time.Now()}
	done := make(chan result, 1)
	go func() {
		v, err := read()
		r.finish(key)
		done <- result{v, err}
	}()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	select {
	case res := <-done:
		return res.v, res.err
	case <-ctx.Done():
		r.abandon(key)
		return zero, fmt.Errorf("%s: read did not finish: %w", key, ctx.Err())
	}
}

// run is one read; mu guards its finished flag and the abandoned table.
type run struct {
	start    time.Time
	finished bool
}

var (
	mu        sync.Mutex
	abandoned = map[string]*run{} // key -> the read given up on that has not returned yet
)

func abandonedKey(key string) bool {
	mu.Lock()
	defer mu.Unlock()
	_, ok := abandoned[key]
	return ok
}

// abandon records r as given up on, unless it returned meanwhile.
func (r *run) abandon(key string) {
	mu.Lock()
	defer mu.Unlock()
	if !r.finished {
		abandoned[key] = r
	}
}

// finish marks r returned and frees its key if r is the read it was refused for.
func (r *run) finish(key string) {
	mu.Lock()
	defer mu.Unlock()
	r.finished = true
	if abandoned[key] == r {
		delete(abandoned, key)
	}
}

// Stuck returns the reads of the process that started more than d ago and have not returned, and the
// oldest such key: a read blocked that long is a hung mount, which only a restart (a fresh mount) ends.
func Stuck(d time.Duration) (n int, oldest string) {
	mu.Lock()
	defer mu.Unlock()
	var first time.Time
	for k, r := range abandoned {
		if time.Since(r.start) > d {
			n++
			if first.IsZero() || r.start.Before(first) {
				first, oldest = r.start, k
			}
		}
	}
	return n, oldest
}
