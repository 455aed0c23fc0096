package collector

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

// TestWriteTextEscapes feeds label values that need escaping through the fast path: the result must
// parse and equal what client_golang's own encoder says.
func TestWriteTextEscapes(t *testing.T) {
	g := newFakeGetter()
	j := job("esc", "FAIL")
	j.ErrorCode = `Ecs."0005"`
	j.FailReason = "quota \"instances\" exceeded\nsee C:\\docs"
	j.JobType = `create"Server`
	g.set("esc", parsed(t, j), nil) // the parser makes the newline a space
	c := New(g, Options{Concurrency: 1, FinalJobTTL: 1 << 62}, nil, WithClock(func() time.Time { return t0 }))
	c.SetJobs("config", watched("esc"))
	c.Refresh(t.Context())
	var buf bytes.Buffer
	if err := c.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `fail_reason="quota \"instances\" exceeded see C:\\docs"`) {
		t.Errorf("fail_reason not escaped as the text format wants (newlines become spaces):\n%s", buf.String())
	}
	if err := testutil.CollectAndCompare(c, &buf); err != nil {
		t.Fatalf("WriteText differs from Collect: %v", err)
	}
}

// TestWriteTextEveryFamily: jobs with samples of every family, label values that need escaping in every
// base label, and a job whose type changes between two answers: the streamed text (rendered label
// blocks spliced per family) must say exactly what Collect says, and never the old job type.
func TestWriteTextEveryFamily(t *testing.T) {
	g := newFakeGetter()
	failed := job(`fail"1`, "FAIL")
	failed.ErrorCode, failed.FailReason, failed.ResourceID = "Ecs.0005", `no "capacity"`, `res\1`
	failed.SubJobsTotal = 3
	failed.SubJobs = []huaweicloud.SubJob{{Status: "FAIL", ErrorCode: "Ecs.0005"}, {Status: "SUCCESS"}, {Status: "WEIRD"}}
	progress := job("img", "RUNNING")
	progress.Service, progress.HasProgress, progress.Progress = huaweicloud.IMS, true, 0.4
	changing := job("chg", "RUNNING")
	g.set(`fail"1`, failed, nil)
	g.set("img", progress, nil)
	g.set("chg", changing, nil)
	jobs := []WatchedJob{
		{Target: huaweicloud.Target{Service: huaweicloud.ECS, Region: `re"gion`, ProjectID: `pro\ject`}, JobID: `fail"1`},
		{Target: huaweicloud.Target{Service: huaweicloud.IMS, Region: "ap-southeast-1", ProjectID: "p"}, JobID: "img"},
		{Target: huaweicloud.Target{Service: huaweicloud.EVS, Region: "ap-southeast-1", ProjectID: "p"}, JobID: "chg"},
		{Target: huaweicloud.Target{Service: huaweicloud.EVS, Region: "ap-southeast-1", ProjectID: "p"}, JobID: "never\nanswered"},
	}
	clk := fakeclock.New(t0)
	c := New(g, Options{Concurrency: 1, FinalJobTTL: 1 << 62}, nil, WithClock(clk.Now))
	c.SetJobs("config", jobs)
	for _, jobType := range []string{"createVolume", `resize"Volume`} {
		changing.JobType = jobType
		g.set("chg", changing, nil)
		clk.Add(time.Minute)
		c.Refresh(t.Context())
		var buf bytes.Buffer
		if err := c.WriteText(&buf); err != nil {
			t.Fatal(err)
		}
		text := buf.String()
		for _, f := range families {
			if f != vanishedFam && !strings.Contains(text, "# TYPE "+f.name+" ") {
				t.Errorf("no %s in the exposition", f.name)
			}
		}
		if err := testutil.CollectAndCompare(c, &buf); err != nil {
			t.Fatalf("job type %s: WriteText differs from Collect: %v", jobType, err)
		}
	}
}

// TestPlan: the label steps of each family write its labels in name order, base labels in runs.
func TestPlan(t *testing.T) {
	id := newJobIdent(WatchedJob{Target: huaweicloud.Target{Service: "ecs", Region: "r", ProjectID: "p"}, JobID: "j"}, "t")
	for _, tc := range []struct {
		f    *family
		want string
	}{
		{querySuccessFam, `job_id="j"|project_id="p",region="r",service="ecs"`},
		{durationFam, `job_id="j",job_type="t",project_id="p",region="r",service="ecs"`},
		{statusFam, `job_id="j",job_type="t",project_id="p",region="r",service="ecs"|status`},
		{failuresFam, `error_code|job_id="j",job_type="t",project_id="p",region="r",service="ecs"`},
		{failureInfoFam, `error_code|fail_reason|job_id="j",job_type="t",project_id="p",region="r"|resource_id|service="ecs"`},
		{vanishedFam, `job_id="j",job_type="t"|last_status|project_id="p",region="r",service="ecs"`},
	} {
		var steps []string
		for _, it := range tc.f.plan {
			if it.label >= 0 {
				steps = append(steps, tc.f.labels[it.label])
			} else {
				steps = append(steps, id.segment(it.from, it.to))
			}
		}
		if got := strings.Join(steps, "|"); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.f.name, got, tc.want)
		}
	}
}
