package discovery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

const (
	idA = "2c9eb2c5544cbf6101544f0602af2b4f"
	idB = "4010b39d58b855980158b8574b270018"
	idC = "ff80808288d41e1b018f8e8e5c8b1fb2"
	idD = "ff80808288d41e1b018f8e8e5c8b1fb3"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newTestFile writes files (by name under a temporary directory) and returns the directory and a File
// source for globs relative to it.
func newTestFile(t *testing.T, files map[string]string, globs ...string) (string, *File) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	abs := make([]string, 0, len(globs))
	for _, g := range globs {
		abs = append(abs, filepath.Join(dir, g))
	}
	return dir, NewFile(abs, testTargets())
}

func TestFileDiscover(t *testing.T) {
	ecs, evs, bms, ims := huaweicloud.ECS, huaweicloud.EVS, huaweicloud.BMS, huaweicloud.IMS
	tests := []struct {
		name  string
		files map[string]string
		globs []string
		want  []collector.WatchedJob
	}{
		{
			name: "YAML and JSON",
			files: map[string]string{
				"a.yml": "- {service: ecs, id: " + idA + "}\n- service: evs\n  id: " + idB + "\n",
				// json.MarshalIndent's tab indentation, as tooling writes it.
				"b.json": "[\n\t{\n\t\t\"service\": \"bms\",\n\t\t\"id\": \"" + idC + "\"\n\t},\n\t{\"service\": \"IMS\", \"id\": \"" + idD + "\"}\n]\n",
			},
			globs: []string{"*.yml", "*.json"},
			want:  []collector.WatchedJob{watched(ecs, idA), watched(evs, idB), watched(bms, idC), watched(ims, idD)},
		},
		{
			name: "files in path order whatever the order of the globs",
			files: map[string]string{
				"a.json": `[{"service":"evs","id":"` + idB + `"}]`,
				"b.yml":  "- {service: ecs, id: " + idA + "}\n",
			},
			globs: []string{"*.yml", "*.json"},
			want:  []collector.WatchedJob{watched(evs, idB), watched(ecs, idA)},
		},
		{
			name: "duplicates across files and globs",
			files: map[string]string{
				"a.yml": "- {service: ecs, id: " + idA + "}\n- {service: ecs, id: " + idA + "}\n",
				"b.yml": "- {service: ECS, id: " + idA + "}\n- {service: ecs, id: " + idB + "}\n- {service: evs, id: " + idA + "}\n",
			},
			globs: []string{"*.yml", "a.*", "b.yml"},
			want:  []collector.WatchedJob{watched(ecs, idA), watched(ecs, idB), watched(evs, idA)},
		},
		{
			name:  "subdirectories",
			files: map[string]string{"p1/jobs.yml": "- {service: ecs, id: " + idA + "}\n", "p2/jobs.yml": "- {service: ecs, id: " + idB + "}\n", "p2/other.txt": "x"},
			globs: []string{"*/jobs.yml"},
			want:  []collector.WatchedJob{watched(ecs, idA), watched(ecs, idB)},
		},
		{
			name:  "empty files and lists",
			files: map[string]string{"a.yml": "", "b.yml": "[]\n", "c.json": "[]", "d.yml": "# nothing yet\n"},
			globs: []string{"*"},
			want:  []collector.WatchedJob{},
		},
		{
			name:  "glob matching nothing",
			files: map[string]string{"a.yml": "- {service: ecs, id: " + idA + "}\n"},
			globs: []string{"*.json", "none/*.yml"},
			want:  []collector.WatchedJob{},
		},
		{
			name: "no globs",
			want: []collector.WatchedJob{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, f := newTestFile(t, tc.files, tc.globs...)
			for run := 1; run <= 2; run++ {
				jobs, err := f.Discover(t.Context())
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				if jobs == nil || !reflect.DeepEqual(jobs, tc.want) {
					t.Errorf("run %d: jobs %v, want %v", run, keysOrNil(jobs), keys(tc.want))
				}
			}
		})
	}
}

func keysOrNil(jobs []collector.WatchedJob) any {
	if jobs == nil {
		return nil
	}
	return keys(jobs)
}

func TestFileErrors(t *testing.T) {
	good := "- {service: ecs, id: " + idA + "}\n- {service: evs, id: " + idB + "}\n"
	goodJobs := []collector.WatchedJob{watched(huaweicloud.ECS, idA), watched(huaweicloud.EVS, idB)}
	tests := []struct {
		name    string
		bad     string
		wantErr func(path string) string // exact, or a prefix when it ends in "..."
	}{
		{
			name: "bad service",
			bad:  "- {service: ecs, id: " + idA + "}\n- {service: rds, id: " + idB + "}\n",
			wantErr: func(p string) string {
				return p + `: [1].service: unknown service "rds" (valid: ecs, evs, bms, ims, eip, sdrs, cce, elb, cfw)`
			},
		},
		{
			name: "missing service",
			bad:  "- {id: " + idA + "}\n",
			wantErr: func(p string) string {
				return p + `: [0].service: unknown service "" (valid: ecs, evs, bms, ims, eip, sdrs, cce, elb, cfw)`
			},
		},
		{
			name: "bad id",
			bad:  "- {service: ecs, id: " + idA + "}\n- {service: ecs, id: " + idB + "}\n- {service: evs, id: has/slash}\n",
			wantErr: func(p string) string {
				return p + `: [2].id: "has/slash" is not a job id (1 to 128 of A-Z a-z 0-9 . _ -)`
			},
		},
		{
			name: "missing id",
			bad:  "- {service: ecs}\n",
			wantErr: func(p string) string {
				return p + `: [0].id: "" is not a job id (1 to 128 of A-Z a-z 0-9 . _ -)`
			},
		},
		{
			name: "every bad entry is named",
			bad:  "- {service: cts, id: " + idA + "}\n- {service: ecs, id: ..}\n",
			wantErr: func(p string) string {
				return p + `: [0].service: unknown service "cts" (valid: ecs, evs, bms, ims, eip, sdrs, cce, elb, cfw)` + "\n" +
					p + `: [1].id: ".." is not a job id (1 to 128 of A-Z a-z 0-9 . _ -)`
			},
		},
		{
			name: "unknown key",
			bad:  "- {service: ecs, id: " + idA + ", zone: ap-southeast-1a}\n",
			wantErr: func(p string) string {
				return p + ": yaml: unmarshal errors:\n  line 1: field zone not found in type discovery.fileJob"
			},
		},
		{
			name:    "invalid YAML",
			bad:     "- {service: ecs, id: " + idA + "\n",
			wantErr: func(p string) string { return p + ": yaml: ..." },
		},
		{
			name:    "invalid JSON",
			bad:     `[{"service":"ecs","id":"` + idA + `"}`,
			wantErr: func(p string) string { return p + ": yaml: ..." },
		},
		{
			name: "not a list",
			bad:  "service: ecs\nid: " + idA + "\n",
			wantErr: func(p string) string {
				return p + ": yaml: unmarshal errors:\n  line 1: cannot unmarshal !!map into []discovery.fileJob"
			},
		},
		{
			name: "id not a string",
			bad:  "- {service: ecs, id: [a]}\n",
			wantErr: func(p string) string {
				return p + ": yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into string"
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, f := newTestFile(t, map[string]string{
				"a.yml":  good,
				"z.json": `[{"service":"ims","id":"` + idC + `"}]`,
			}, "*.yml", "*.json")
			path := filepath.Join(dir, "a.yml")
			other := watched(huaweicloud.IMS, idC)
			want := append(append([]collector.WatchedJob{}, goodJobs...), other)

			jobs, err := f.Discover(t.Context())
			if err != nil || !reflect.DeepEqual(jobs, want) {
				t.Fatalf("good files: %v, %v; want %v", keysOrNil(jobs), err, keys(want))
			}

			// Broken: the last good content is still served, and the run fails naming the file.
			writeFile(t, path, tc.bad)
			for run := 1; run <= 2; run++ {
				jobs, err = f.Discover(t.Context())
				checkErr(t, err, tc.wantErr(path))
				if !reflect.DeepEqual(jobs, want) {
					t.Errorf("broken file, run %d: jobs %v, want the last good %v", run, keysOrNil(jobs), keys(want))
				}
			}

			// Fixed with new content: served, no error.
			writeFile(t, path, "- {service: bms, id: "+idD+"}\n")
			jobs, err = f.Discover(t.Context())
			if want := []collector.WatchedJob{watched(huaweicloud.BMS, idD), other}; err != nil || !reflect.DeepEqual(jobs, want) {
				t.Errorf("fixed file: %v, %v; want %v, nil", keysOrNil(jobs), err, keys(want))
			}

			// Broken before it was ever good: nothing from it.
			fresh := filepath.Join(dir, "b.yml")
			writeFile(t, fresh, tc.bad)
			jobs, err = f.Discover(t.Context())
			checkErr(t, err, tc.wantErr(fresh))
			if want := []collector.WatchedJob{watched(huaweicloud.BMS, idD), other}; !reflect.DeepEqual(jobs, want) {
				t.Errorf("new broken file: jobs %v, want %v", keysOrNil(jobs), keys(want))
			}

			// Removed while broken: its error and its jobs go.
			if err := os.Remove(fresh); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			jobs, err = f.Discover(t.Context())
			if want := []collector.WatchedJob{other}; err != nil || !reflect.DeepEqual(jobs, want) {
				t.Errorf("after removal: %v, %v; want %v, nil", keysOrNil(jobs), err, keys(want))
			}
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("no error, want %q", want)
	case strings.HasSuffix(want, "..."):
		if !strings.HasPrefix(err.Error(), strings.TrimSuffix(want, "...")) {
			t.Errorf("error %q, want it to start with %q", err, strings.TrimSuffix(want, "..."))
		}
	case err.Error() != want:
		t.Errorf("error\n got %q\nwant %q", err, want)
	}
}

func TestFileRemoved(t *testing.T) {
	dir, f := newTestFile(t, map[string]string{
		"a.yml": "- {service: ecs, id: " + idA + "}\n- {service: ecs, id: " + idB + "}\n",
		"b.yml": "- {service: ecs, id: " + idB + "}\n- {service: evs, id: " + idC + "}\n",
	}, "*.yml")
	steps := []struct {
		name   string
		change func()
		want   []collector.WatchedJob
	}{
		{"both", func() {}, []collector.WatchedJob{watched(huaweicloud.ECS, idA), watched(huaweicloud.ECS, idB), watched(huaweicloud.EVS, idC)}},
		// idB stays: b.yml still names it.
		{"a removed", func() { os.Remove(filepath.Join(dir, "a.yml")) }, []collector.WatchedJob{watched(huaweicloud.ECS, idB), watched(huaweicloud.EVS, idC)}},
		{"b emptied", func() { writeFile(t, filepath.Join(dir, "b.yml"), "[]\n") }, []collector.WatchedJob{}},
		{"a back", func() { writeFile(t, filepath.Join(dir, "a.yml"), "- {service: ims, id: "+idD+"}\n") }, []collector.WatchedJob{watched(huaweicloud.IMS, idD)}},
		{"all removed", func() { os.Remove(filepath.Join(dir, "a.yml")); os.Remove(filepath.Join(dir, "b.yml")) }, []collector.WatchedJob{}},
	}
	for _, s := range steps {
		s.change()
		jobs, err := f.Discover(t.Context())
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if jobs == nil || !reflect.DeepEqual(jobs, s.want) {
			t.Errorf("%s: jobs %v, want %v", s.name, keysOrNil(jobs), keys(s.want))
		}
	}
}

func TestFileUnreadable(t *testing.T) {
	dir, f := newTestFile(t, map[string]string{"a.yml": "- {service: ecs, id: " + idA + "}\n"}, "*")
	// A directory matching the glob cannot be read: the run fails, the other files are still served.
	if err := os.Mkdir(filepath.Join(dir, "b.yml"), 0o755); err != nil {
		t.Fatal(err)
	}
	jobs, err := f.Discover(t.Context())
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "b.yml")) {
		t.Errorf("err %v, want one naming %s", err, filepath.Join(dir, "b.yml"))
	}
	if want := []collector.WatchedJob{watched(huaweicloud.ECS, idA)}; !reflect.DeepEqual(jobs, want) {
		t.Errorf("jobs %v, want %v", keysOrNil(jobs), keys(want))
	}
}

func TestFileBadGlob(t *testing.T) {
	dir, _ := newTestFile(t, map[string]string{"a.yml": "- {service: ecs, id: " + idA + "}\n"})
	f := NewFile([]string{filepath.Join(dir, "[a-.yml"), filepath.Join(dir, "*.yml")}, testTargets())
	jobs, err := f.Discover(t.Context())
	if want := `glob "` + filepath.Join(dir, "[a-.yml") + `": syntax error in pattern`; err == nil || err.Error() != want {
		t.Errorf("err %v, want %q", err, want)
	}
	if want := []collector.WatchedJob{watched(huaweicloud.ECS, idA)}; !reflect.DeepEqual(jobs, want) {
		t.Errorf("jobs %v, want the good glob's %v", keysOrNil(jobs), keys(want))
	}
}

func TestFileCancelled(t *testing.T) {
	_, f := newTestFile(t, map[string]string{"a.yml": "- {service: ecs, id: " + idA + "}\n"}, "*.yml")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	jobs, err := f.Discover(ctx)
	if jobs != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("Discover(cancelled) = %v, %v; want nil, context.Canceled", keysOrNil(jobs), err)
	}
}

func TestFileName(t *testing.T) {
	if got := NewFile(nil, nil).Name(); got != "file" {
		t.Errorf("Name() = %q, want file", got)
	}
}

// discoverWithin runs f.Discover and fails the test if it does not return: a hostile file must cost an
// error, never a hung run.
func discoverWithin(t *testing.T, f *File) ([]collector.WatchedJob, error) {
	t.Helper()
	type result struct {
		jobs []collector.WatchedJob
		err  error
	}
	done := make(chan result, 1)
	go func() {
		jobs, err := f.Discover(t.Context())
		done <- result{jobs, err}
	}()
	r := receive(t, done, "Discover result")
	return r.jobs, r.err
}

// TestFileHostile: whatever sits in a glob, the run returns with an error naming the file, and the
// regular files are still read. Before, a FIFO blocked the run (and every reload) forever and a link to
// /dev/zero read until memory ran out.
func TestFileHostile(t *testing.T) {
	tests := []struct {
		name    string
		make    func(t *testing.T, path string)
		wantErr func(path string) string
	}{
		{
			name: "FIFO",
			make: func(t *testing.T, path string) {
				if err := syscall.Mkfifo(path, 0o644); err != nil {
					t.Skipf("no FIFOs here: %v", err)
				}
			},
			wantErr: func(p string) string { return p + ": is a named pipe (FIFO); only regular files are read" },
		},
		{
			name: "symlink to /dev/zero",
			make: func(t *testing.T, path string) {
				if _, err := os.Stat("/dev/zero"); err != nil {
					t.Skip("no /dev/zero here")
				}
				if err := os.Symlink("/dev/zero", path); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: func(p string) string { return p + ": links to a device; only regular files are read" },
		},
		{
			name: "file over the size cap",
			make: func(t *testing.T, path string) {
				// Sparse: 4 MiB + 1 of zeros costs no disk.
				fd, err := os.Create(path)
				if err != nil {
					t.Fatal(err)
				}
				defer fd.Close()
				if err := fd.Truncate(DefaultMaxFileSize + 1); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: func(p string) string {
				return p + ": 4194305 bytes, larger than 4194304 bytes, the most a job-id file may have"
			},
		},
		{
			name: "directory",
			make: func(t *testing.T, path string) {
				if err := os.Mkdir(path, 0o755); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: func(p string) string { return p + ": is a directory; only regular files are read" },
		},
		{
			name: "dangling symlink",
			make: func(t *testing.T, path string) {
				if err := os.Symlink(filepath.Join(filepath.Dir(path), "nowhere"), path); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: func(p string) string { return "stat " + p + ": no such file or directory" },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			dir, f := newTestFile(t, map[string]string{
				"a.yml": "- {service: ecs, id: " + idA + "}\n",
				"c.yml": "- {service: evs, id: " + idB + "}\n",
			}, "*.yml")
			bad := filepath.Join(dir, "b.yml")
			tc.make(t, bad)
			jobs, err := discoverWithin(t, f)
			if want := tc.wantErr(bad); err == nil || err.Error() != want {
				t.Errorf("err %v, want %q", err, want)
			}
			if want := []collector.WatchedJob{watched(huaweicloud.ECS, idA), watched(huaweicloud.EVS, idB)}; !reflect.DeepEqual(jobs, want) {
				t.Errorf("jobs %v, want the regular files' %v", keysOrNil(jobs), keys(want))
			}
		})
	}
}

func TestFileSizeCap(t *testing.T) {
	content := "- {service: ecs, id: " + idA + "}\n"
	for _, tc := range []struct {
		name    string
		max     int64
		wantErr bool
	}{
		{"at the cap", int64(len(content)), false},
		{"one byte over", int64(len(content)) - 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "a.yml")
			writeFile(t, path, content)
			f := NewFile([]string{path}, testTargets(), WithMaxFileSize(tc.max))
			jobs, err := f.Discover(t.Context())
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error: %v", err, tc.wantErr)
			}
			if want := fmt.Sprintf("%s: %d bytes, larger than %d bytes, the most a job-id file may have", path, len(content), tc.max); tc.wantErr && err.Error() != want {
				t.Errorf("err %q, want %q", err, want)
			}
			if !tc.wantErr && len(jobs) != 1 {
				t.Errorf("jobs %v, want one", keysOrNil(jobs))
			}
		})
	}
}

// TestFileReadHangs: a read that never returns (a stuck network mount) fails its file after the read
// timeout, the files after it are read, the next run skips that file at once instead of stacking a
// second stuck read, and once the read returns the file is read again.
func TestFileReadHangs(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	hung, good := filepath.Join(dir, "a.yml"), filepath.Join(dir, "b.yml")
	writeFile(t, hung, "- {service: ims, id: "+idC+"}\n")
	writeFile(t, good, "- {service: ecs, id: "+idA+"}\n")
	release := make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	var mu sync.Mutex
	hungReads := 0
	// The timeout only has to outlast the read of a small regular file.
	f := NewFile([]string{filepath.Join(dir, "*.yml")}, testTargets(), WithReadTimeout(500*time.Millisecond))
	f.read = func(path string, max int64) ([]byte, error) {
		if path == hung {
			mu.Lock()
			hungReads++
			mu.Unlock()
			<-release
		}
		return readRegular(path, max)
	}

	jobs, err := discoverWithin(t, f)
	if want := hung + ": read did not finish: context deadline exceeded"; err == nil || err.Error() != want {
		t.Errorf("run 1: err %v, want %q", err, want)
	}
	if want := []collector.WatchedJob{watched(huaweicloud.ECS, idA)}; !reflect.DeepEqual(jobs, want) {
		t.Errorf("run 1: jobs %v, want %v", keysOrNil(jobs), keys(want))
	}

	jobs, err = discoverWithin(t, f)
	if want := hung + ": skipped: an earlier read has not returned yet"; err == nil || err.Error() != want {
		t.Errorf("run 2: err %v, want %q", err, want)
	}
	if want := []collector.WatchedJob{watched(huaweicloud.ECS, idA)}; !reflect.DeepEqual(jobs, want) {
		t.Errorf("run 2: jobs %v, want %v", keysOrNil(jobs), keys(want))
	}
	mu.Lock()
	if hungReads != 1 {
		t.Errorf("%d reads of the hung file, want 1 (no second stuck read)", hungReads)
	}
	mu.Unlock()

	releaseOnce.Do(func() { close(release) })
	want := []collector.WatchedJob{watched(huaweicloud.IMS, idC), watched(huaweicloud.ECS, idA)} // in path order
	eventually(t, "the released file is read again", func() bool {
		jobs, err := discoverWithin(t, f)
		return err == nil && reflect.DeepEqual(jobs, want)
	})
}
