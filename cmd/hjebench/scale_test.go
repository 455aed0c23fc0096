package main

import (
	"strings"
	"testing"
	"time"
)

// scanAnswer decides two figures of the table (jobs with a status, unfinished jobs refreshed by a pull):
// it must count exactly the lines that say so, whatever else the answer holds.
func TestScanAnswer(t *testing.T) {
	since := time.UnixMilli(1_765_000_000_500)
	answer := strings.Join([]string{
		`# HELP huaweicloud_job_status Job status.`,
		`# TYPE huaweicloud_job_status gauge`,
		`huaweicloud_job_status{service="ecs",region="r",project_id="p",job_id="a",job_type="t",status="RUNNING"} 1`,
		`huaweicloud_job_status{service="ecs",region="r",project_id="p",job_id="a",job_type="t",status="SUCCESS"} 0`,
		`huaweicloud_job_status{service="ecs",region="r",project_id="p",job_id="b",job_type="t",status="RUNNING"} 1`,
		`huaweicloud_job_status{service="ecs",region="r",project_id="p",job_id="c",job_type="",status="RUNNING"} 0`,
		`huaweicloud_job_status{service="ecs",region="r",project_id="p",job_id="d",job_type="t",status="SUCCESS"} 1`,
		`huaweicloud_job_status_other{job_id="e"} 1`,
		`huaweicloud_job_last_query_timestamp_seconds{service="ecs",region="r",project_id="p",job_id="a"} 1.7650000005e+09`,
		`huaweicloud_job_last_query_timestamp_seconds{service="ecs",region="r",project_id="p",job_id="b"} 1765000000.499`,
		`huaweicloud_job_last_query_timestamp_seconds{service="ecs",region="r",project_id="p",job_id="d"} 1765000009`,
		`huaweicloud_job_last_query_timestamp_seconds{service="ecs",region="r",project_id="p",job_id="x"} 1765000009`,
	}, "\n") + "\n"
	for _, tc := range []struct {
		name          string
		unfinished    map[string]bool
		wantStatus    int
		wantRefreshed int
	}{
		{"statuses only", nil, 3, 0},
		// a: answered at since exactly; b: a millisecond before; d is final, x not watched.
		{"unfinished a and b", map[string]bool{"a": true, "b": true}, 3, 1},
		{"unfinished a, b and c", map[string]bool{"a": true, "b": true, "c": true}, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, refreshed, err := scanAnswer(strings.NewReader(answer), tc.unfinished, since)
			if err != nil || status != tc.wantStatus || refreshed != tc.wantRefreshed {
				t.Errorf("scanAnswer = %d with a status, %d refreshed, %v; want %d, %d", status, refreshed, err, tc.wantStatus, tc.wantRefreshed)
			}
		})
	}
}

// The warn-lines figure counts warn and error lines of either log format, lines split across writes
// included, and nothing else.
func TestLogTally(t *testing.T) {
	writes := []string{
		"ts=2026-12-07T13:00:00Z level=info msg=\"listening\" address=127.0.0.1:1\n",
		"ts=2026-12-07T13:00:01Z level=warn msg=\"job query held back\" job_id=a\nts=2026-12-07T13:00:01Z lev",
		"el=warn msg=\"job query held back\" job_id=b\n",
		"ts=2026-12-07T13:00:02Z level=error msg=oops\n",
		`{"level":"warn","msg":"json line","ts":"2026-12-07T13:00:03Z"}` + "\n",
		"ts=2026-12-07T13:00:04Z level=debug msg=\"level=warn inside\"\n",
		"ts=2026-12-07T13:00:05Z level=warn msg=\"unterminated",
	}
	tally := newLogTally()
	for _, w := range writes {
		if n, err := tally.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if got := tally.count(); got != 4 {
		t.Errorf("count = %d, want 4 (two warn, one error, one JSON warn)", got)
	}
	if got, want := tally.top(), `; most: "job query held back" x 2`; got != want {
		t.Errorf("top = %q, want %q", got, want)
	}
}
