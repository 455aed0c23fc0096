package collector

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

// gzipAnswer is the gzip answer of the job metrics read back as Prometheus' scrape loop reads it (Go's
// gzip.Reader, which reads a series of members as one stream), with the number of parts made for it.
func gzipAnswer(t *testing.T, c *Collector) (string, int) {
	t.Helper()
	before := c.builds()
	var buf bytes.Buffer
	gz, _ := kgzip.NewWriterLevel(nil, kgzip.BestSpeed)
	z := &gzStream{w: &buf, gz: gz}
	if err := c.writeText(z, z); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), c.builds() - before
}

func (c *Collector) builds() int {
	c.expo.builds.Lock()
	defer c.expo.builds.Unlock()
	return c.expo.builds.n
}

func plainAnswer(t *testing.T, c *Collector) string {
	t.Helper()
	var b bytes.Buffer
	if err := c.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestGzipAnswerFollowsEveryChange: the gzip answer copies unchanged parts from the exposition cache
// (expoCache). After each change of the watched jobs it must say exactly what the uncompressed answer
// says, and a pull that follows no change must make no part (only the run times are written afresh).
func TestGzipAnswerFollowsEveryChange(t *testing.T) {
	g := newFakeGetter()
	clk := fakeclock.New(t0)
	failed := job("c", "FAIL")
	failed.ErrorCode, failed.FailReason = "Ecs.0005", "no capacity"
	failed.SubJobsTotal, failed.SubJobs = 2, []huaweicloud.SubJob{{JobID: "c1", Status: "SUCCESS"}, {JobID: "c2", Status: "FAIL", ErrorCode: "Ecs.0005"}}
	progress := job("d", "RUNNING")
	progress.HasProgress, progress.Progress = true, 0.25
	for id, j := range map[string]*huaweicloud.Job{"a": job("a", "RUNNING"), "b": job("b", "SUCCESS"), "c": failed, "d": progress, "e": job("e", "RUNNING")} {
		g.set(id, j, nil)
	}
	c := New(g, Options{Concurrency: 1, MinQueryInterval: time.Second, FinalJobTTL: time.Hour}, nil, WithClock(clk.Now))
	c.SetJobs(ConfigSource, watched("a", "b", "c", "d", "e"))

	steps := []struct {
		name      string
		change    func()
		wantBuild bool // some part must be made again
	}{
		{"first pull", func() {}, true},
		{"nothing changed", func() {}, false},
		{"time passes: only run times change", func() { clk.Add(30 * time.Second) }, false},
		{"a running job is asked again: its last query time changes", func() { clk.Add(2 * time.Second); c.Refresh(t.Context()) }, true},
		{"the same again without a query", func() {}, false},
		{"a job finishes", func() {
			g.set("a", job("a", "SUCCESS"), nil)
			clk.Add(2 * time.Second)
			c.Refresh(t.Context())
		}, true},
		{"progress moves", func() {
			p := *progress
			p.Progress = 0.5
			g.set("d", &p, nil)
			clk.Add(2 * time.Second)
			c.Refresh(t.Context())
		}, true},
		{"a query fails", func() {
			g.set("e", nil, &huaweicloud.APIError{StatusCode: 500, Code: "SYS.0001", Message: "boom"})
			clk.Add(2 * time.Second)
			c.Refresh(t.Context())
		}, true},
		{"the job type changes", func() {
			j := job("d", "RUNNING")
			j.JobType = "deleteServer"
			g.set("d", j, nil)
			clk.Add(2 * time.Second)
			c.Refresh(t.Context())
		}, true},
		{"discovery lists the same jobs again", func() {
			c.SetJobs(ConfigSource, watched("a", "b", "c", "d", "e"))
			c.SetJobs("cts/x", watched("b", "c"))
		}, false},
		{"a job leaves the watch and another joins", func() {
			g.set("f", job("f", "INIT"), nil)
			c.SetJobs(ConfigSource, watched("a", "b", "c", "d", "f"))
			c.Refresh(t.Context())
		}, true},
		// Retiring is the last step of every refresh; alone here, so that it alone makes the parts.
		{"final jobs retire", func() { clk.Add(2 * time.Hour); c.retire() }, true},
		{"a running job vanishes", func() {
			g.set("f", nil, nil) // the fake answers "not found"
			for range notFoundConfirmations + 1 {
				clk.Add(notFoundBackoffMax)
				c.Refresh(t.Context())
			}
		}, true},
	}
	for _, st := range steps {
		st.change()
		got, built := gzipAnswer(t, c)
		if want := plainAnswer(t, c); got != want {
			t.Fatalf("%s: gzip answer differs from the text answer\n%s", st.name, lineDiff(got, want))
		}
		if (built > 0) != st.wantBuild {
			t.Errorf("%s: %d parts made, want some: %v", st.name, built, st.wantBuild)
		}
	}
}

// TestGzipAnswerIsOneStreamForPrometheus: through the handler, the answer of several members is one
// valid gzip stream that Go's gzip.Reader (Prometheus' scrape loop) reads whole, job and exporter metrics
// included, on a first pull and on one served from the cache.
func TestGzipAnswerIsOneStreamForPrometheus(t *testing.T) {
	c := populated(t, 100)
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "huaweicloud_job_exporter_test_gauge", Help: "A test gauge."}))
	h := c.Handler(reg, 0, func() time.Duration { return time.Second }, nil)
	want := plainAnswer(t, c) + "# HELP huaweicloud_job_exporter_test_gauge A test gauge.\n# TYPE huaweicloud_job_exporter_test_gauge gauge\nhuaweicloud_job_exporter_test_gauge 0\n"
	tests := []struct {
		agent string
		// firstMemberOnly decodes as curl --compressed does: the first gzip member, nothing after it.
		firstMemberOnly bool
		wantMembers     string // "one" or "several"
	}{
		{"Prometheus/3.5.0", false, "several"},
		{"curl/7.88.1", true, "one"},
		{"", true, "one"},
		{"Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", true, "one"},
	}
	for _, tt := range tests {
		t.Run(tt.agent, func(t *testing.T) {
			for pull := range 2 {
				req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				req.Header.Set("Accept-Encoding", "gzip")
				req.Header.Set("User-Agent", tt.agent)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				body := rec.Body.Bytes()
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				zr.Multistream(!tt.firstMemberOnly)
				b, err := io.ReadAll(zr)
				if err != nil {
					t.Fatalf("pull %d: %v", pull, err)
				}
				if string(b) != want {
					t.Errorf("pull %d: answer differs from the text answer and the exporter metrics:\n%s", pull, lineDiff(string(b), want))
				}
				// Whether more members follow the first.
				zr, _ = gzip.NewReader(bytes.NewReader(body))
				zr.Multistream(false)
				_, _ = io.Copy(io.Discard, zr)
				members := "one"
				if zr.Reset(bytes.NewReader(body[len(body)-rest(t, body):])) == nil {
					members = "several"
				}
				if members != tt.wantMembers {
					t.Errorf("pull %d: %s gzip member(s), want %s", pull, members, tt.wantMembers)
				}
			}
		})
	}
}

// rest is the number of bytes after the first gzip member of body.
func rest(t *testing.T, body []byte) int {
	t.Helper()
	br := bytes.NewReader(body)
	zr, err := gzip.NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	if _, err := io.Copy(io.Discard, zr); err != nil {
		t.Fatal(err)
	}
	return br.Len()
}

func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for i := range max(len(g), len(w)) {
		var x, y string
		if i < len(g) {
			x = g[i]
		}
		if i < len(w) {
			y = w[i]
		}
		if x != y {
			fmt.Fprintf(&b, "line %d:\n gzip: %s\n text: %s\n", i+1, x, y)
		}
	}
	return b.String()
}

// TestPrintFollowsSamples: invariant 2 of expoCache for one job. Two random states of one job in one
// segment write the same samples of a family exactly when their prints of that family are equal (no
// change the cache would miss, no rebuild for nothing), and a family without samples prints 0. The states
// range over every field a sample shows.
func TestPrintFollowsSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 2))
	tgt := huaweicloud.Target{Service: huaweicloud.ECS, Region: "ap-southeast-1", ProjectID: "p"}
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	ago := func(n int, unit time.Duration) time.Time { return t0.Add(-time.Duration(rng.IntN(n)) * unit) }
	state := func() *entry {
		e := &entry{target: &tgt, jobID: "j", ok: rng.IntN(2) == 0, retired: rng.IntN(10) == 0, dropped: rng.IntN(10) == 0}
		if rng.IntN(3) > 0 {
			e.lastSuccess = unixNanos(ago(3, time.Millisecond))
		}
		if rng.IntN(5) == 0 {
			return e // never answered
		}
		j := &huaweicloud.Job{Status: pick("RUNNING", "SUCCESS", "FAIL", "WEIRD"), JobType: pick("a", "b"),
			ErrorCode: pick("", "E1"), FailReason: pick("", "r"), ResourceID: pick("", "i-1"), SubJobsTotal: rng.IntN(3)}
		if rng.IntN(2) == 0 {
			j.BeginTime = ago(2, time.Minute)
		}
		if rng.IntN(2) == 0 {
			j.EndTime = ago(2, time.Second)
		}
		if rng.IntN(2) == 0 {
			j.HasProgress, j.Progress = true, float64(rng.IntN(3))/2
		}
		for range rng.IntN(3) {
			j.SubJobs = append(j.SubJobs, huaweicloud.SubJob{Status: pick("SUCCESS", "FAIL", "X"),
				ErrorCode: pick("", "E2"), FailReason: pick("", "q"), ResourceID: pick("", "v-1")})
		}
		e.job, e.vanished = j, rng.IntN(4) == 0
		if j.Final() {
			e.seenFinalAt = unixNanos(ago(2, time.Second))
		}
		return e
	}
	text := func(e *entry, f *family) string {
		if !e.exported() {
			return ""
		}
		v := e.view(unixNanos(t0))
		jobType := ""
		if e.job != nil {
			jobType = e.job.JobType
		}
		v.id, v.fams = newJobIdent(e.watched(), jobType), v.families()
		var b bytes.Buffer
		out := &lineWriter{w: &b}
		writeSamples(out, f, []jobView{v}, make([]string, baseLabels, 8))
		if err := out.flush(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	x := newExpoCache()
	for range 5000 {
		a, b := state(), state()
		pa, pb := x.printOf(a), x.printOf(b)
		if pa.seg != pb.seg {
			continue // a move bumps every family the job has samples of, in both segments
		}
		for _, f := range families {
			if clockBound(f, pa.seg) {
				continue
			}
			ta, tb := text(a, f), text(b, f)
			if (ta == "") != (pa.sums[f.index] == 0) {
				t.Fatalf("%s: print %x for samples %q", f.name, pa.sums[f.index], ta)
			}
			if (ta == tb) != (pa.sums[f.index] == pb.sums[f.index]) {
				t.Fatalf("%s: samples equal %v but prints equal %v:\n%s\n%s", f.name, ta == tb, pa.sums[f.index] == pb.sums[f.index], ta, tb)
			}
		}
	}
}
