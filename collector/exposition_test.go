package collector

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestWriteTextEscapes feeds label values that need escaping through the fast path: the result must
// parse and equal what client_golang's own encoder says.
func TestWriteTextEscapes(t *testing.T) {
	g := newFakeGetter()
	j := job("esc", "FAIL")
	j.ErrorCode = `Ecs."0005"`
	j.FailReason = "quota \"instances\" exceeded\nsee C:\\docs"
	j.JobType = `create"Server`
	g.set("esc", j, nil)
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
