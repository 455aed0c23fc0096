package collector

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/selfmetrics"
)

var notFoundErr = &huaweicloud.APIError{StatusCode: 400, Code: "Common.0011", Message: "Failed to query system tasks"}

// exposition writes the job metrics through the fast path and parses them back, failing the test on
// anything a Prometheus server would reject.
func exposition(t *testing.T, c *Collector) map[string]*dto.MetricFamily {
	t.Helper()
	var buf bytes.Buffer
	if err := c.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, buf.String())
	}
	return mfs
}

// sample returns the value of the series of family name whose labels include want, and whether it exists.
func sample(mfs map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m.GetGauge().GetValue(), true
	}
	return 0, false
}

// selfRegistry is the registry of a test's self-metrics, read back as a scrape of it would.
type selfRegistry struct{ reg *prometheus.Registry }

// newSelfMetrics returns self-metrics on a registry of their own, and that registry.
func newSelfMetrics() (*selfmetrics.Metrics, selfRegistry) {
	reg := prometheus.NewRegistry()
	return selfmetrics.New(reg), selfRegistry{reg}
}

// value is the value of the series huaweicloud_job_exporter_<name> whose labels are exactly labels
// (name, value, name, value, ...); 0 when the series does not exist (a counter never increased).
func (s selfRegistry) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, mf := range mfs {
		if mf.GetName() != "huaweicloud_job_exporter_"+name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(want) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if v, ok := want[lp.GetName()]; !ok || v != lp.GetValue() {
					continue next
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// TestNotFoundIsConfirmedBeforeAJobIsGivenUp: one not-found answer (a lagging replica, a gateway that
// misroutes) must not end the watch of a RUNNING job, whose later FAIL would then never page. Only
// notFoundConfirmations answers over notFoundConfirmSpan make it vanished: no series claims RUNNING any
// more, huaweicloud_job_vanished names its last status, its duration stops, and after final_job_ttl it
// is retired. It is never asked again once vanished.
func TestNotFoundIsConfirmedBeforeAJobIsGivenUp(t *testing.T) {
	g := newFakeGetter()
	g.set("a", job("a", "RUNNING"), nil)
	clk := fakeclock.New(t0)
	m, self := newSelfMetrics()
	c := New(g, Options{Concurrency: 1, MinQueryInterval: 10 * time.Second, FinalJobTTL: time.Hour}, nil,
		WithClock(clk.Now), WithMetrics(m))
	c.SetJobs(ConfigSource, watched("a"))
	c.Refresh(t.Context())

	g.set("a", nil, notFoundErr)
	clk.Add(10 * time.Second)
	c.Refresh(t.Context()) // 1st not-found
	mfs := exposition(t, c)
	if v, _ := sample(mfs, "huaweicloud_job_status", map[string]string{"status": "RUNNING"}); v != 1 {
		t.Fatalf("after one not-found answer RUNNING = %v, want 1: one answer is not proof", v)
	}
	if _, ok := sample(mfs, "huaweicloud_job_vanished", nil); ok {
		t.Fatal("vanished after one not-found answer")
	}

	// The job comes back: the stray answer is forgotten.
	g.set("a", job("a", "RUNNING"), nil)
	clk.Add(notFoundBackoffMin)
	c.Refresh(t.Context())
	if got := g.count("a"); got != 3 {
		t.Fatalf("API calls = %d, want 3: a job after one not-found answer is asked again after the back-off", got)
	}
	lastSeen := clk.Now()

	g.set("a", nil, notFoundErr)
	for i := 0; i < 20 && !c.Snapshot()[0].Vanished; i++ {
		clk.Add(notFoundBackoffMax)
		c.Refresh(t.Context())
	}
	calls := g.count("a")
	if calls != 3+notFoundConfirmations {
		t.Errorf("API calls = %d, want %d: vanished after exactly %d not-found answers spanning %s", calls,
			3+notFoundConfirmations, notFoundConfirmations, notFoundConfirmSpan)
	}
	mfs = exposition(t, c)
	for _, st := range knownStatuses {
		if v, ok := sample(mfs, "huaweicloud_job_status", map[string]string{"status": st}); !ok || v != 0 {
			t.Errorf("vanished job status %s = %v (present %v), want 0: nothing may claim it is still running", st, v, ok)
		}
	}
	if v, ok := sample(mfs, "huaweicloud_job_vanished", map[string]string{"last_status": "RUNNING", "job_id": "a"}); !ok || v != 1 {
		t.Errorf("huaweicloud_job_vanished{last_status=RUNNING} = %v (present %v), want 1", v, ok)
	}
	wantDur := lastSeen.Sub(t0.Add(-time.Minute)).Seconds()
	if v, _ := sample(mfs, "huaweicloud_job_duration_seconds", nil); v != wantDur {
		t.Errorf("vanished duration = %v, want %v (frozen when last seen)", v, wantDur)
	}
	if v := self.value(t, "jobs_vanished_total", "service", "ecs", "region", "ap-southeast-1"); v != 1 {
		t.Errorf("jobs_vanished_total = %v, want 1", v)
	}

	clk.Add(30 * time.Minute)
	c.Refresh(t.Context())
	if got := g.count("a"); got != calls {
		t.Errorf("API calls after vanishing = %d, want %d: never asked again", got, calls)
	}
	clk.Add(31 * time.Minute)
	c.Refresh(t.Context()) // the refresh of the next pull retires it
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Errorf("series of a vanished job after final_job_ttl = %d, want 0 (retired)", n)
	}
}

// TestDiscoveredJobUnknownToTheAPIIsDropped: CTS or a job file may name a job deleted before the exporter
// asked. It is dropped at its first not-found answer, counted, not exported and never asked again while
// discovery lists it; the same id in the config file stays visible and is retried.
func TestDiscoveredJobUnknownToTheAPIIsDropped(t *testing.T) {
	g := newFakeGetter() // every id: Common.0011
	clk := fakeclock.New(t0)
	m, self := newSelfMetrics()
	c := New(g, Options{Concurrency: 1, MinQueryInterval: 10 * time.Second, FinalJobTTL: time.Hour}, nil,
		WithClock(clk.Now), WithMetrics(m))
	c.SetJobs("cts/ap-southeast-1", watched("old"))
	c.SetJobs(ConfigSource, watched("typo"))
	for range 10 {
		c.Refresh(t.Context())
		clk.Add(10 * time.Minute)
		c.SetJobs("cts/ap-southeast-1", watched("old")) // discovery lists it again on every run
	}
	if got := g.count("old"); got != 1 {
		t.Errorf("API calls for a dropped discovered job = %d, want 1", got)
	}
	if got := g.count("typo"); got < 5 {
		t.Errorf("API calls for a config job not found = %d, want it retried with back-off", got)
	}
	mfs := exposition(t, c)
	if _, ok := sample(mfs, "huaweicloud_job_query_success", map[string]string{"job_id": "old"}); ok {
		t.Error("a dropped discovered job is exported")
	}
	if v, ok := sample(mfs, "huaweicloud_job_query_success", map[string]string{"job_id": "typo"}); !ok || v != 0 {
		t.Errorf("config job not found: query_success = %v (present %v), want 0", v, ok)
	}
	if v := self.value(t, "discovered_jobs_dropped_total", "service", "ecs", "region", "ap-southeast-1", "source", "cts/ap-southeast-1"); v != 1 {
		t.Errorf("discovered_jobs_dropped_total = %v, want 1", v)
	}
	// The operator then names it in the config: it is watched again.
	c.SetJobs(ConfigSource, watched("old", "typo"))
	c.Refresh(t.Context())
	if got := g.count("old"); got != 2 {
		t.Errorf("API calls after the config names the dropped job = %d, want 2", got)
	}
}

// TestPendingPaymentIsAskedAtItsOwnCadence: a PENDING_PAYMENT job waits for a person, for up to 14 days.
func TestPendingPaymentIsAskedAtItsOwnCadence(t *testing.T) {
	g := newFakeGetter()
	g.set("p", job("p", "PENDING_PAYMENT"), nil)
	clk := fakeclock.New(t0)
	c := New(g, Options{Concurrency: 1, MinQueryInterval: 10 * time.Second, FinalJobTTL: time.Hour,
		PendingPaymentInterval: 5 * time.Minute}, nil, WithClock(clk.Now))
	c.SetJobs(ConfigSource, watched("p"))
	for range 30 { // 5 minutes of 10 s scrapes
		c.Refresh(t.Context())
		clk.Add(10 * time.Second)
	}
	if got := g.count("p"); got != 1 {
		t.Errorf("API calls in the first 5 minutes = %d, want 1", got)
	}
	c.Refresh(t.Context())
	if got := g.count("p"); got != 2 {
		t.Errorf("API calls after 5 minutes = %d, want 2", got)
	}
	// Paid: the job runs and is asked at the scrape cadence again.
	g.set("p", job("p", "RUNNING"), nil)
	clk.Add(5 * time.Minute)
	for range 3 {
		c.Refresh(t.Context())
		clk.Add(10 * time.Second)
	}
	if got := g.count("p"); got != 5 {
		t.Errorf("API calls = %d, want 5: a RUNNING job is asked at every scrape", got)
	}
}

// TestFinalJobWithoutEndTimeStopsItsDuration: the API may leave end_time empty on a final job; its run
// time must stop when the exporter first saw it final, not grow for a day.
func TestFinalJobWithoutEndTimeStopsItsDuration(t *testing.T) {
	g := newFakeGetter()
	j := job("f", "SUCCESS")
	j.EndTime = time.Time{}
	g.set("f", j, nil)
	clk := fakeclock.New(t0)
	c := New(g, Options{Concurrency: 1, FinalJobTTL: time.Hour}, nil, WithClock(clk.Now))
	c.SetJobs(ConfigSource, watched("f"))
	c.Refresh(t.Context())
	clk.Add(30 * time.Minute)
	mfs := exposition(t, c)
	if v, _ := sample(mfs, "huaweicloud_job_duration_seconds", nil); v != 60 {
		t.Errorf("duration 30 min after the job was seen final = %v, want 60 (begin to first seen final)", v)
	}
	clk.Add(31 * time.Minute)
	c.Refresh(t.Context()) // the refresh of the next pull retires it
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Errorf("series after final_job_ttl from first seen final = %d, want 0", n)
	}
}

// TestEveryPullOfOneScraperRefreshes: with the default min_query_interval (10s), a single Prometheus
// scraping every 5, 10 or 15 s whose pulls arrive a little early (jitter) must get fresh answers on
// every pull. The old rule (elapsed >= min_query_interval) served the old answer to a pull 1 ms early.
func TestEveryPullOfOneScraperRefreshes(t *testing.T) {
	jitters := []time.Duration{0, -time.Millisecond, -200 * time.Millisecond, 150 * time.Millisecond, -time.Millisecond}
	for _, interval := range []time.Duration{5 * time.Second, 10 * time.Second, 15 * time.Second} {
		t.Run(interval.String(), func(t *testing.T) {
			g := newFakeGetter()
			g.set("a", job("a", "RUNNING"), nil)
			clk := fakeclock.New(t0)
			c := New(g, Options{Concurrency: 1, MinQueryInterval: DefaultOptions.MinQueryInterval, FinalJobTTL: time.Hour},
				nil, WithClock(clk.Now))
			c.SetJobs(ConfigSource, watched("a"))
			pulls := 40
			for i := range pulls {
				c.RefreshFor(t.Context(), "10.0.0.1 Prometheus/3.5.0")
				clk.Add(interval + jitters[i%len(jitters)])
			}
			if got := g.count("a"); got != pulls {
				t.Errorf("API calls = %d for %d pulls every %s: a pull was served an answer its scraper had already seen", got, pulls, interval)
			}
		})
	}
}

// TestHAPairSharesQueries: two Prometheus replicas scraping every 10 s, offset from each other, cost one
// API call per job per interval, wherever the second falls in the interval.
func TestHAPairSharesQueries(t *testing.T) {
	for _, offset := range []time.Duration{100 * time.Millisecond, 3 * time.Second, 5 * time.Second, 9 * time.Second} {
		t.Run(offset.String(), func(t *testing.T) {
			g := newFakeGetter()
			g.set("a", job("a", "RUNNING"), nil)
			clk := fakeclock.New(t0)
			c := New(g, Options{Concurrency: 1, MinQueryInterval: 10 * time.Second, FinalJobTTL: time.Hour}, nil, WithClock(clk.Now))
			c.SetJobs(ConfigSource, watched("a"))
			intervals := 30
			for range intervals {
				c.RefreshFor(t.Context(), "10.0.0.1 Prometheus/3.5.0")
				clk.Add(offset)
				c.RefreshFor(t.Context(), "10.0.0.2 Prometheus/3.5.0")
				clk.Add(10*time.Second - offset)
			}
			// The first pull of the second replica is a scraper not seen before: it may cost one call.
			if got := g.count("a"); got > intervals+1 {
				t.Errorf("API calls = %d over %d intervals of an HA pair, want at most %d", got, intervals, intervals+1)
			}
		})
	}
}

// TestThrottledIsNotCountedAsTimeout: a query held back by the rate limit until the scrape deadline was
// throttled; only network errors caused by the deadline are timeouts.
func TestThrottledIsNotCountedAsTimeout(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"throttled until the deadline", fmt.Errorf("%w: %w", &huaweicloud.APIError{StatusCode: 429, Code: "APIG.0308"}, context.DeadlineExceeded), huaweicloud.ReasonThrottled},
		{"network cut by the deadline", fmt.Errorf("dial tcp: %w", context.DeadlineExceeded), huaweicloud.ReasonTimeout},
		{"server error", &huaweicloud.APIError{StatusCode: 503}, huaweicloud.ReasonServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGetter()
			g.set("a", nil, tt.err)
			m, self := newSelfMetrics()
			c := New(g, Options{Concurrency: 1, FinalJobTTL: time.Hour}, nil, WithMetrics(m))
			c.SetJobs(ConfigSource, watched("a"))
			c.Refresh(t.Context())
			if v := self.value(t, "job_query_failures_total", "service", "ecs", "region", "ap-southeast-1", "project_id", "0123456789abcdef0123456789abcdef", "reason", tt.want); v != 1 {
				t.Errorf("job_query_failures_total{reason=%q} = %v, want 1", tt.want, v)
			}
		})
	}
}

// TestTruncatedCountsEachTextOnce: truncated_values_total counts a text once, however many caps it passes
// (the parser is the only place that cuts). Before, a 2 KiB fail_reason was cut at parse (1 KiB) and again
// for its label (256 bytes) and counted twice, and long sub-job fail_reasons once per answer plus once each.
func TestTruncatedCountsEachTextOnce(t *testing.T) {
	long := strings.Repeat("r", 2<<10)
	for _, tc := range []struct {
		name    string
		subJobs int
		want    float64
	}{
		{"2 KiB fail_reason", 0, 1},
		{"and five long sub-job fail_reasons", 5, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := job("a", "FAIL")
			j.FailReason = long
			for range tc.subJobs {
				j.SubJobs = append(j.SubJobs, huaweicloud.SubJob{Status: "FAIL", FailReason: long})
			}
			j.SubJobsTotal = len(j.SubJobs)
			g := newFakeGetter()
			g.set("a", parsed(t, j), nil)
			m, self := newSelfMetrics()
			c := New(g, Options{Concurrency: 1, FinalJobTTL: 1 << 62}, nil, WithClock(func() time.Time { return t0 }), WithMetrics(m))
			c.SetJobs(ConfigSource, watched("a"))
			c.Refresh(t.Context())
			if v := self.value(t, "truncated_values_total", "field", "fail_reason"); v != tc.want {
				t.Errorf("truncated_values_total{field=fail_reason} = %v, want %v", v, tc.want)
			}
		})
	}
}

// TestHostileTextsKeepTheExpositionValid: whatever bytes and sizes an answer carries, /metrics parses,
// label values are capped, and one job cannot emit thousands of series.
func TestHostileTextsKeepTheExpositionValid(t *testing.T) {
	j := job("h", "FAIL")
	j.JobType = "create\xffServer" + strings.Repeat("x", 100<<10)
	j.ErrorCode = "Ecs.\xc3"
	j.FailReason = strings.Repeat("é", 1<<20)
	j.ResourceID = strings.Repeat("r", 100<<10)
	for i := range 8000 {
		j.SubJobs = append(j.SubJobs, huaweicloud.SubJob{Status: "FAIL", ErrorCode: fmt.Sprintf("Ecs.%04d", i)})
	}
	for i := range 50 {
		j.SubJobs = append(j.SubJobs, huaweicloud.SubJob{Status: fmt.Sprintf("WEIRD_%d\xfe", i)})
	}
	j.SubJobsTotal = len(j.SubJobs)
	g := newFakeGetter()
	g.set("h", parsed(t, j), nil)
	m, self := newSelfMetrics()
	c := New(g, Options{Concurrency: 1, FinalJobTTL: 1 << 62}, nil, WithClock(func() time.Time { return t0 }), WithMetrics(m))
	c.SetJobs(ConfigSource, watched("h"))
	c.Refresh(t.Context())

	mfs := exposition(t, c)
	for name, mf := range mfs {
		for _, s := range mf.GetMetric() {
			for _, lp := range s.GetLabel() {
				if len(lp.GetValue()) > maxReasonLen {
					t.Errorf("%s label %s is %d bytes, want <= %d", name, lp.GetName(), len(lp.GetValue()), maxReasonLen)
				}
			}
		}
	}
	if n := len(mfs["huaweicloud_job_failures"].GetMetric()); n != maxCodesPerJob {
		t.Errorf("failures series = %d, want %d", n, maxCodesPerJob)
	}
	var sum float64
	for _, s := range mfs["huaweicloud_job_failures"].GetMetric() {
		sum += s.GetGauge().GetValue()
	}
	if sum != 8000 {
		t.Errorf("failures summed over error_code = %v, want 8000: folding must keep the total", sum)
	}
	if v, ok := sample(mfs, "huaweicloud_job_sub_jobs_by_status", map[string]string{"status": otherLabel}); !ok || v == 0 {
		t.Errorf("sub_jobs_by_status{status=other} = %v (present %v), want the folded unknown statuses", v, ok)
	}
	if n := len(mfs["huaweicloud_job_sub_jobs_by_status"].GetMetric()); n != len(knownStatuses)+maxOtherStatuses {
		t.Errorf("sub_jobs_by_status series = %d, want %d", n, len(knownStatuses)+maxOtherStatuses)
	}
	if v := self.value(t, "truncated_values_total", "field", "job_type"); v != 1 {
		t.Errorf("truncated_values_total{field=job_type} = %v, want 1", v)
	}
	var buf bytes.Buffer
	if err := c.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if err := testutil.CollectAndCompare(c, &buf); err != nil {
		t.Errorf("Collect differs from WriteText for hostile texts: %v", err)
	}
	if probs, err := testutil.CollectAndLint(c); err != nil || len(probs) > 0 {
		t.Errorf("lint: %v %v", probs, err)
	}
}

// TestFoldTail covers the folding rule itself, including an API error code that is literally "other".
func TestFoldTail(t *testing.T) {
	tests := []struct {
		name  string
		in    map[string]int
		limit int
		want  []keyCount
	}{
		{"under the limit", map[string]int{"b": 1, "a": 2}, 3, []keyCount{{"a", 2}, {"b", 1}}},
		{"at the limit", map[string]int{"b": 1, "a": 2, "c": 3}, 3, []keyCount{{"a", 2}, {"b", 1}, {"c", 3}}},
		{"over the limit", map[string]int{"a": 5, "b": 1, "c": 3, "d": 1}, 3, []keyCount{{"a", 5}, {"c", 3}, {"other", 2}}},
		{"literal other folds in", map[string]int{"other": 9, "a": 5, "b": 1, "z": 3}, 3, []keyCount{{"a", 5}, {"other", 10}, {"z", 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := foldTail(tt.in, tt.limit)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("foldTail = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSetJobsPicksTheSameTargetEveryTime: a job listed by several sources is watched with the config
// file's target when it lists the job, else the first source's by name, whatever the order of calls.
func TestSetJobsPicksTheSameTargetEveryTime(t *testing.T) {
	withEndpoint := func(ep string) []WatchedJob {
		w := watched("a")
		w[0].Target.Endpoint = ep
		return w
	}
	for i := range 20 {
		c := New(newFakeGetter(), Options{Concurrency: 1, FinalJobTTL: time.Hour}, nil)
		calls := []func(){
			func() { c.SetJobs("file/x", withEndpoint("https://file")) },
			func() { c.SetJobs("cts/x", withEndpoint("https://cts")) },
		}
		if i%2 == 1 {
			calls[0], calls[1] = calls[1], calls[0]
		}
		for _, f := range calls {
			f()
		}
		if got := c.entries[withEndpoint("")[0].Key()].target.Endpoint; got != "https://cts" {
			t.Fatalf("order %d: endpoint = %s, want https://cts (first source by name)", i, got)
		}
		c.SetJobs(ConfigSource, withEndpoint("https://config"))
		c.SetJobs("cts/x", withEndpoint("https://cts"))
		if got := c.entries[withEndpoint("")[0].Key()].target.Endpoint; got != "https://config" {
			t.Fatalf("order %d: endpoint = %s, want the config file's", i, got)
		}
	}
}
