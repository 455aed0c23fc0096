package discovery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fileread"
)

// File reads job ids from YAML or JSON files matching globs, written by deployment tooling right after it
// creates a job. Each file is a list of {service, id}, the shape of a project's `jobs` in the config:
//
//   - {service: ecs, id: 2c9eb2c5544cbf6101544f0602af2b4f}
//
// A file that cannot be read or parsed keeps its last good content and fails the run, like Prometheus'
// file_sd; a file that disappears takes its jobs with it.
//
// Only regular files are read (a symlink to one is fine), at most MaxFileSize bytes each and within
// ReadTimeout: a FIFO, a device, a directory, a huge file or a read that hangs (a stuck network mount) is
// an error naming the file, and the other files are still read. A read that outlives its timeout is left
// to finish on its own and that file is skipped until it has; it never holds up the run, a reload or
// shutdown.
type File struct {
	globs   []string
	targets map[huaweicloud.Service]huaweicloud.Target
	maxSize int64
	timeout time.Duration
	read    func(path string, max int64) ([]byte, error) // readRegular; tests make it hang

	mu       sync.Mutex
	lastGood map[string][]collector.WatchedJob // by file path
}

// Limits of a job-id file. A job-id line takes about 50 bytes, so 4 MiB holds some 80,000 jobs, far more
// than one exporter should watch; a bigger file is a mistake (or /dev/zero) and must not fill memory.
const (
	DefaultMaxFileSize     = 4 << 20
	DefaultFileReadTimeout = 5 * time.Second
)

// FileOption configures a File.
type FileOption func(*File)

// WithMaxFileSize bounds the size of each file; n <= 0 means DefaultMaxFileSize.
func WithMaxFileSize(n int64) FileOption {
	return func(f *File) {
		if n > 0 {
			f.maxSize = n
		}
	}
}

// WithReadTimeout bounds the read of each file; d <= 0 means DefaultFileReadTimeout.
func WithReadTimeout(d time.Duration) FileOption {
	return func(f *File) {
		if d > 0 {
			f.timeout = d
		}
	}
}

// NewFile watches the files matching globs; their jobs are queried at targets[service].
func NewFile(globs []string, targets map[huaweicloud.Service]huaweicloud.Target, opts ...FileOption) *File {
	f := &File{
		globs: globs, targets: targets, maxSize: DefaultMaxFileSize, timeout: DefaultFileReadTimeout,
		read: readRegular, lastGood: map[string][]collector.WatchedJob{},
	}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Name is "file"; the exporter gives each project's file source its own name.
func (f *File) Name() string { return "file" }

type fileJob struct {
	Service string `yaml:"service"`
	ID      string `yaml:"id"`
}

// Discover reads every matching file.
func (f *File) Discover(ctx context.Context) ([]collector.WatchedJob, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	paths := map[string]bool{}
	for _, g := range f.globs {
		matches, err := filepath.Glob(g)
		if err != nil {
			errs = append(errs, fmt.Errorf("glob %q: %w", g, err))
			continue
		}
		for _, m := range matches {
			paths[m] = true
		}
	}
	for p := range f.lastGood {
		if !paths[p] {
			delete(f.lastGood, p)
		}
	}
	seen := map[string]bool{}
	jobs := []collector.WatchedJob{}
	sorted := make([]string, 0, len(paths))
	for p := range paths {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	for _, p := range sorted {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		got, err := f.readFile(ctx, p)
		if err != nil {
			errs = append(errs, err)
			got = f.lastGood[p]
		} else {
			f.lastGood[p] = got
		}
		for _, j := range got {
			if k := j.Key(); !seen[k] {
				seen[k] = true
				jobs = append(jobs, j)
			}
		}
	}
	return jobs, errors.Join(errs...)
}

func (f *File) readFile(ctx context.Context, path string) ([]collector.WatchedJob, error) {
	b, err := f.readBounded(ctx, path)
	if err != nil {
		return nil, err
	}
	var entries []fileJob
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&entries); err != nil && err != io.EOF { // io.EOF: an empty file, no jobs
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	jobs := make([]collector.WatchedJob, 0, len(entries))
	var errs []error
	for i, e := range entries {
		svc, err := huaweicloud.ParseService(e.Service)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: [%d].service: %w", path, i, err))
			continue
		}
		if !huaweicloud.ValidJobID(e.ID) {
			errs = append(errs, fmt.Errorf("%s: [%d].id: %q is not a job id (1 to 128 of A-Z a-z 0-9 . _ -)", path, i, e.ID))
			continue
		}
		jobs = append(jobs, collector.WatchedJob{Target: f.targets[svc], JobID: e.ID})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return jobs, nil
}

// readBounded reads path within the timeout (see package fileread).
func (f *File) readBounded(ctx context.Context, path string) ([]byte, error) {
	return fileread.Bounded(ctx, path, f.timeout, func() ([]byte, error) { return f.read(path, f.maxSize) })
}

// readRegular reads a job-id file of at most max bytes.
func readRegular(path string, max int64) ([]byte, error) {
	return fileread.Regular(path, max, "a job-id file")
}
