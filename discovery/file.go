package discovery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"gopkg.in/yaml.v2"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// File reads job ids from YAML or JSON files matching globs, written by deployment tooling right after it
// creates a job. Each file is a list of {service, id}, the shape of a project's `jobs` in the config:
//
//   - {service: ecs, id: 2c9eb2c5544cbf6101544f0602af2b4f}
//
// A file that cannot be read or parsed keeps its last good content and fails the run, like Prometheus'
// file_sd; a file that disappears takes its jobs with it.
type File struct {
	globs   []string
	targets map[huaweicloud.Service]huaweicloud.Target

	mu       sync.Mutex
	lastGood map[string][]collector.WatchedJob // by file path
}

// NewFile watches the files matching globs; their jobs are queried at targets[service].
func NewFile(globs []string, targets map[huaweicloud.Service]huaweicloud.Target) *File {
	return &File{globs: globs, targets: targets, lastGood: map[string][]collector.WatchedJob{}}
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
		got, err := f.readFile(p)
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

func (f *File) readFile(path string) ([]collector.WatchedJob, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var entries []fileJob
	if err := yaml.UnmarshalStrict(b, &entries); err != nil {
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
