package collector

import (
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

// TestEntryStaysSmall: an entry is held per watched job for as long as the job is watched, and a
// process at 10,000 jobs had to fit in 40 MiB (issue 14). It was 400 bytes with its own copy of the
// target and six time.Time; the target is shared and the times are Unix nanoseconds now.
func TestEntryStaysSmall(t *testing.T) {
	if n := unsafe.Sizeof(entry{}); n > 192 {
		t.Errorf("entry is %d bytes, want at most 192: keep per-job state out of it or share it", n)
	}
}

// TestEndTimeOutsideUnixNanos: entry keeps times as Unix nanoseconds; an end_time the API gets wrong by
// centuries must neither overflow nor read as "no end": one in the far future keeps the job exported, one
// in the far past retires it at once, as the time.Time arithmetic did.
func TestEndTimeOutsideUnixNanos(t *testing.T) {
	tests := []struct {
		name       string
		end        time.Time
		wantSeries bool
	}{
		{"year 9999 never expires", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), true},
		{"year 1 is long expired", time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), false},
		{"the epoch itself is an end, not none", time.Unix(0, 0), false},
		{"an ordinary end within the ttl", t0.Add(-10 * time.Second), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGetter()
			j := job("f", "SUCCESS")
			j.EndTime = tt.end
			g.set("f", j, nil)
			clk := fakeclock.New(t0)
			c := New(g, Options{Concurrency: 1, FinalJobTTL: time.Hour}, nil, WithClock(clk.Now))
			c.SetJobs(ConfigSource, watched("f"))
			c.Refresh(t.Context())
			clk.Add(time.Minute)
			if got := testutil.CollectAndCount(c) > 0; got != tt.wantSeries {
				t.Errorf("exported a minute after the answer = %v, want %v", got, tt.wantSeries)
			}
		})
	}
}

// TestGzipWriterIsSmall: a gzip writer is held by every concurrent pull. At BestSpeed one held 820 KB of
// tables and history, 2.5 MB of a 15 MB heap at 10,000 jobs with two scrapers (issue 14's 40 MiB).
func TestGzipWriterIsSmall(t *testing.T) {
	text := []byte(strings.Repeat(`huaweicloud_job_duration_seconds{job_id="ff80808288d41e1b0189",service="ecs"} 61`+"\n", 800))
	heap := func() int64 {
		// Twice: what sync.Pools hold survives one collection.
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	before := heap()
	gz := gzipWriters.New().(*gzip.Writer)
	gz.Reset(io.Discard) // the tables are made at the first write
	_, _ = gz.Write(text)
	_ = gz.Close()
	held := heap() - before
	runtime.KeepAlive(gz)
	if held > 256<<10 {
		t.Errorf("a gzip writer holds %d KB, want at most 256 KB", held>>10)
	}
}
