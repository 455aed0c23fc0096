package collector

import (
	"maps"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// historyBuckets are the upper bounds, in seconds, of huaweicloud_job_history_duration_seconds. They span
// what the sources show of job run times:
//   - seconds to minutes: the ECS seed's examples (../shared/seeds/000_*.txt, the job API page) run
//     25-31 s (createServer sub-jobs, begin_time 01:43:37 to end_time 01:44:02-08) and 3.5-4 min (a job
//     of 2016-04-25, 20:04:47 to 20:08:21); the official SDK waits 120 s for a job by default
//     (../shared/huawei-api.md, "SDK defaults").
//   - hours: image exports and bare-metal installs, for which the Stuck tiers already allow 3 h, and
//     batches of >= 20 sub-jobs (6 h) (alerts/huaweicloud-jobs.rules.yml, stuck_threshold_seconds).
//   - days: finished jobs are kept one day (ECS seed: "Jobs in the SUCCESS or FAIL state will be
//     automatically deleted one day later"), and a PENDING_PAYMENT job may wait up to 14 days for its order
//     to be paid before it runs and finishes (../shared/huawei-api.md, job status section).
//
// About a factor of 2-3 between bounds, so that histogram_quantile (linear within a bucket) is off by
// less than the factor k=3 of the "running too long" rule (docs/runbook.md); 18 series per group with
// +Inf, plus _sum and _count.
var historyBuckets = [...]float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 259200, 1209600}

// maxHistoryJobTypes bounds the job types one project and service has in the history; the least frequent
// ones beyond it are folded into job_type="other". The documented job types are a few dozen per service
// (README "Services"), so the cap only bites on an API that sends a distinct job_type per job, which
// would otherwise make one histogram (20 series) per job.
const maxHistoryJobTypes = 64

var historyLabels = []string{"service", "region", "project_id", "job_type", "outcome"}

const historyHelp = "Run time (end_time minus begin_time) of the finished jobs the exporter holds now, by outcome (the job API's status, SUCCESS or FAIL): the jobs that ended within final_job_ttl (default 24h). Recomputed on every pull from those jobs, so it falls when a job is retired: a gauge histogram, exposed with the histogram type because the text format has no other; read it directly, never with rate() or increase(). Jobs without begin_time or end_time, and vanished jobs, are not in it."

var historyDesc = prometheus.NewDesc(prometheus.BuildFQName(namespace, "job", "history_duration_seconds"), historyHelp,
	historyLabels, nil)

// historyKey identifies one histogram of the history.
type historyKey struct {
	service, region, projectID, jobType, outcome string
}

// historyAgg is one histogram: counts per bucket (not cumulative; the last one is +Inf), sum and count.
type historyAgg struct {
	buckets [len(historyBuckets) + 1]uint64
	sum     float64
	count   uint64
}

func (a *historyAgg) add(d float64) {
	i := sort.SearchFloat64s(historyBuckets[:], d) // first bound >= d: le is inclusive
	a.buckets[i]++
	a.sum += d
	a.count++
}

func (a *historyAgg) merge(b *historyAgg) {
	for i := range a.buckets {
		a.buckets[i] += b.buckets[i]
	}
	a.sum += b.sum
	a.count += b.count
}

// cumulative returns the buckets as Prometheus wants them: upper bound -> jobs at or below it.
func (a *historyAgg) cumulative() map[float64]uint64 {
	m := make(map[float64]uint64, len(historyBuckets))
	var n uint64
	for i, le := range historyBuckets {
		n += a.buckets[i]
		m[le] = n
	}
	return m
}

// historyCollector computes the history from the jobs held at gather time. It is not part of the job
// families' cached exposition (familyCache): it is a handful of histograms per project, gathered with the
// exporter's own metrics.
type historyCollector struct{ c *Collector }

// HistoryCollector returns the collector of huaweicloud_job_history_duration_seconds, for the registry
// whose metrics Handler writes after the job metrics (main's self registry).
//
// Why recomputed and not counted: a counter bumped when a job turns final counts again every job that a
// restarted exporter re-discovers through CTS (a day of them), never forgets a retired one, and differs
// between two exporters that saw different transitions. The finished jobs held are the same set on every
// exporter watching the same jobs, after a restart as before it, and split exactly across shards; so is a
// histogram computed from them.
func (c *Collector) HistoryCollector() prometheus.Collector { return historyCollector{c} }

func (h historyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- historyDesc }

func (h historyCollector) Collect(ch chan<- prometheus.Metric) {
	keys, aggs := h.c.history()
	for i, k := range keys {
		a := aggs[i]
		ch <- prometheus.MustNewConstHistogram(historyDesc, a.count, a.sum, a.cumulative(),
			k.service, k.region, k.projectID, k.jobType, k.outcome)
	}
}

// history returns the histograms of the finished jobs currently exported, sorted by key.
func (c *Collector) history() ([]historyKey, []*historyAgg) {
	now := c.now()
	c.mu.Lock()
	ttl := c.opts.FinalJobTTL
	type group struct {
		target *huaweicloud.Target
		aggs   map[historyKey]*historyAgg
	}
	same := func(a, b *huaweicloud.Target) bool {
		return a.Service == b.Service && a.Region == b.Region && a.ProjectID == b.ProjectID
	}
	// Entries are sorted by key (service, region, project, job id), and the jobs of one project and
	// service share one target: a new group starts where the target changes, and a project met again
	// (another source's target of it) finds its group by a scan of the few groups.
	var groups []*group
	var cur *group
	for _, e := range c.order {
		d, outcome, ok := finishedRun(e, now, ttl)
		if !ok {
			continue
		}
		if cur == nil || cur.target != e.target {
			i := slices.IndexFunc(groups, func(g *group) bool { return same(g.target, e.target) })
			if i < 0 {
				groups = append(groups, &group{target: e.target, aggs: map[historyKey]*historyAgg{}})
				i = len(groups) - 1
			}
			cur = groups[i]
		}
		k := historyKey{string(e.target.Service), e.target.Region, e.target.ProjectID, e.job.JobType, outcome}
		a := cur.aggs[k]
		if a == nil {
			a = new(historyAgg)
			cur.aggs[k] = a
		}
		a.add(d)
	}
	c.mu.Unlock()

	// A group is one (service, region, project) and every key names its own, so groups never share a key.
	merged := map[historyKey]*historyAgg{}
	for _, g := range groups {
		maps.Copy(merged, foldJobTypes(g.aggs))
	}
	keys := slices.Collect(maps.Keys(merged))
	sort.Slice(keys, func(i, j int) bool { return lessHistoryKey(keys[i], keys[j]) })
	aggs := make([]*historyAgg, len(keys))
	for i, k := range keys {
		aggs[i] = merged[k]
	}
	return keys, aggs
}

func lessHistoryKey(a, b historyKey) bool {
	if a.service != b.service {
		return a.service < b.service
	}
	if a.region != b.region {
		return a.region < b.region
	}
	if a.projectID != b.projectID {
		return a.projectID < b.projectID
	}
	if a.jobType != b.jobType {
		return a.jobType < b.jobType
	}
	return a.outcome < b.outcome
}

// finishedRun returns the run time and outcome of a job that counts in the history: final (SUCCESS or
// FAIL), still exported (not retired, not dropped), with begin_time and end_time from the API. A job
// without end_time is left out: its exported duration stops when this exporter first saw it final, which
// a restarted exporter or a second one sees later, so it would make the history differ between them.
// Called with c.mu held.
func finishedRun(e *entry, now time.Time, ttl time.Duration) (float64, string, bool) {
	j := e.job
	if j == nil || e.dropped || e.vanished || !j.Final() || e.expired(now, ttl) || j.BeginTime.IsZero() || j.EndTime.IsZero() {
		return 0, "", false
	}
	d := j.EndTime.Sub(j.BeginTime).Seconds()
	if d < 0 || math.IsNaN(d) {
		// An end before the begin (a clock or time-zone error of the service): no run time to count.
		return 0, "", false
	}
	return d, j.Status, true
}

// foldJobTypes keeps at most maxHistoryJobTypes job types of one project and service, folding the least
// frequent others into job_type="other" (foldTail's choice: by number of jobs, then name).
func foldJobTypes(aggs map[historyKey]*historyAgg) map[historyKey]*historyAgg {
	perType := map[string]int{}
	for k, a := range aggs {
		perType[k.jobType] += int(a.count)
	}
	if len(perType) <= maxHistoryJobTypes {
		return aggs
	}
	kept := map[string]bool{}
	for _, kv := range foldTail(perType, maxHistoryJobTypes) {
		kept[kv.key] = kv.key != otherLabel
	}
	out := make(map[historyKey]*historyAgg, maxHistoryJobTypes*2)
	for k, a := range aggs {
		if !kept[k.jobType] {
			k.jobType = otherLabel
		}
		if m := out[k]; m != nil {
			m.merge(a)
		} else {
			c := *a
			out[k] = &c
		}
	}
	return out
}
