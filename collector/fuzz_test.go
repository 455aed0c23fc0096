package collector

import (
	"bytes"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// FuzzExposition: whatever texts an answer carries (any bytes, any length, in any field that becomes a
// label value), the exposition parses with Prometheus' text parser, so one job never costs the scrape,
// and the gzip answer of cached segments says the same.
// go test -run '^$' -fuzz FuzzExposition -fuzztime 60s ./collector
func FuzzExposition(f *testing.F) {
	f.Add("RUNNING", "create\xffServer", "Ecs.0001", "quota\nexceeded \"x\" \\", "i-1", "FAIL", "Ecs.\xc3")
	f.Add("FAIL", `["createServer"]`, "", "", "", "", "")
	f.Add("\x00ROLLING\tBACK", "", "other", "\r\n", "\xe2\x80", "unknown", "other")
	f.Fuzz(func(t *testing.T, status, jobType, code, reason, resource, subStatus, subCode string) {
		if status == "" {
			status = "RUNNING" // ParseJob rejects a job without a status
		}
		j := &huaweicloud.Job{Service: huaweicloud.ECS, JobID: "a", JobType: jobType, Status: status, ErrorCode: code,
			FailReason: reason, ResourceID: resource, BeginTime: t0.Add(-time.Minute),
			SubJobs: []huaweicloud.SubJob{{Status: subStatus, ErrorCode: subCode, FailReason: reason, ResourceID: resource}}}
		j.SubJobsTotal = 1
		g := newFakeGetter()
		g.set("a", parsed(t, j), nil) // texts reach the collector only through the parser
		c := New(g, Options{Concurrency: 1, FinalJobTTL: 1 << 62}, nil, WithClock(func() time.Time { return t0 }))
		c.SetJobs(ConfigSource, watched("a"))
		c.Refresh(t.Context())
		var buf bytes.Buffer
		if err := c.WriteText(&buf); err != nil {
			t.Fatal(err)
		}
		// The gzip answer to Prometheus (cached segments) must say the same, twice: made, then copied.
		for range 2 {
			if got, _ := gzipAnswer(t, c); got != buf.String() {
				t.Fatalf("gzip answer differs from the text answer\n%s", lineDiff(got, buf.String()))
			}
		}
		p := expfmt.NewTextParser(model.LegacyValidation)
		if _, err := p.TextToMetricFamilies(bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatalf("exposition does not parse: %v\n%q", err, buf.String())
		}
	})
}
