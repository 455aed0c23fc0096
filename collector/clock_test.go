package collector

import (
	"bytes"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

// TestFutureTimesAreClamped: a service answering in local time without an offset puts end_time hours
// ahead; exported as given it would keep a FAIL page firing past final_job_ttl (issue 18). A time beyond
// maxFutureSkew is exported as the time of the answer, counted and logged once per job and field; a time
// within the skew is exported as given.
func TestFutureTimesAreClamped(t *testing.T) {
	tests := []struct {
		name              string
		status            string
		begin, end        time.Duration // from the time of the answer
		wantBegin         time.Duration
		wantEnd           time.Duration
		wantBeginN, wantN float64
	}{
		{"end_time 8 h ahead", "FAIL", -time.Minute, 8 * time.Hour, -time.Minute, 0, 0, 1},
		{"begin_time and end_time 8 h ahead", "FAIL", 8 * time.Hour, 8*time.Hour + time.Minute, 0, 0, 1, 1},
		{"begin_time of a running job 8 h ahead", "RUNNING", 8 * time.Hour, 0, 0, 0, 1, 0},
		{"end_time within the skew", "SUCCESS", -time.Minute, 4 * time.Minute, -time.Minute, 4 * time.Minute, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := fakeclock.New(t0)
			g := newFakeGetter()
			j := job("a", tt.status)
			j.BeginTime = t0.Add(tt.begin)
			if tt.end != 0 {
				j.EndTime = t0.Add(tt.end)
			}
			g.set("a", j, nil)
			var logs bytes.Buffer
			m, self := newSelfMetrics()
			c := New(g, Options{Concurrency: 1, FinalJobTTL: 24 * time.Hour}, log.NewLogfmtLogger(&logs), WithMetrics(m), WithClock(clk.Now))
			c.SetJobs(ConfigSource, watched("a"))
			for range 3 { // a running job is asked again: still counted and logged once
				c.Refresh(t.Context())
				clk.Add(time.Minute)
			}
			mfs := exposition(t, c)
			if v, _ := sample(mfs, "huaweicloud_job_start_timestamp_seconds", nil); v != float64(t0.Add(tt.wantBegin).Unix()) {
				t.Errorf("start_timestamp = %v, want %v (answer time %v)", v, t0.Add(tt.wantBegin).Unix(), t0.Unix())
			}
			if tt.status != "RUNNING" {
				if v, _ := sample(mfs, "huaweicloud_job_end_timestamp_seconds", nil); v != float64(t0.Add(tt.wantEnd).Unix()) {
					t.Errorf("end_timestamp = %v, want %v (answer time %v)", v, t0.Add(tt.wantEnd).Unix(), t0.Unix())
				}
			}
			for field, want := range map[string]float64{"begin_time": tt.wantBeginN, "end_time": tt.wantN} {
				if v := self.value(t, "future_timestamps_clamped_total", "service", "ecs", "region", "ap-southeast-1", "field", field); v != want {
					t.Errorf("future_timestamps_clamped_total{field=%q} = %v, want %v", field, v, want)
				}
			}
			if n := bytes.Count(logs.Bytes(), []byte("ahead of the exporter's clock")); n != min(int(tt.wantBeginN+tt.wantN), 1) {
				t.Errorf("logged %d times, want once per job:\n%s", n, logs.String())
			}
		})
	}
}
