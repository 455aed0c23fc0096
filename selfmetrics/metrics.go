// Package selfmetrics holds the exporter's own health metrics (huaweicloud_job_exporter_*): API traffic,
// query failures, discovery runs, the watch set's losses, scrape and reload outcomes, and the source and
// expiry of each project's credentials. They live on the exporter's own registry, apart from the job
// metrics the collector serves.
//
// Contract:
//   - Metrics is the observer of the other packages: huaweicloud.Observer (ObserveRequest), the discovery
//     observer and forgetter (ObserveDiscovery, ForgetDiscovery), and the collector's accounting methods
//     (QueryFailed, JobVanished, ...). Every method is safe for concurrent use and never blocks on I/O.
//   - Its vectors are unexported: a caller changes a series only through a method named after the event,
//     so that each metric has one place that says what counts in it.
//   - Labels carry no secret and only bounded values (service, region, project id, reason, source,
//     field); a method is never called with a job id or a text from an API answer.
//   - InitLabels creates the known series at 0 (rate() and alerts see a zero before the first event);
//     ForgetDiscovery drops those of a removed source.
//   - Metric names, help texts and label sets are part of the exporter's interface (README "Metrics",
//     the alert rules, the dashboards): a change here is a user-visible change.
package selfmetrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

const (
	namespace         = "huaweicloud"
	exporterSubsystem = "job_exporter"
)

// FutureFields are the job fields the collector may clamp when they lie in the future: the values of
// the field label of huaweicloud_job_exporter_future_timestamps_clamped_total.
var FutureFields = []string{"begin_time", "end_time"}

// Metrics is the exporter's own health: API traffic, query failures, the watch set, scrape and
// reload outcomes. It lives on its own registry, apart from the job metrics.
type Metrics struct {
	apiRequests       *prometheus.CounterVec
	apiDuration       *prometheus.HistogramVec
	queryFailures     *prometheus.CounterVec
	scrapeDuration    prometheus.Gauge
	discoveryRuns     *prometheus.CounterVec
	discoveredJobs    *prometheus.GaugeVec
	discoveryLastOK   *prometheus.GaugeVec
	jobsVanished      *prometheus.CounterVec
	discoveredDropped *prometheus.CounterVec
	truncatedValues   *prometheus.CounterVec
	futureTimes       *prometheus.CounterVec
	ReloadSuccess     prometheus.Gauge
	ReloadSuccessTime prometheus.Gauge

	// Flow control: queries a pull deferred, and how fresh the answers are.
	queriesDeferred *prometheus.CounterVec
	oldestAnswerAge prometheus.Gauge
	unansweredJobs  prometheus.Gauge
}

var _ huaweicloud.Observer = (*Metrics)(nil)

// New registers the exporter's own metrics on reg.
func New(reg prometheus.Registerer) *Metrics {
	name := func(n string) string { return prometheus.BuildFQName(namespace, exporterSubsystem, n) }
	m := &Metrics{
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("api_requests_total"),
			Help: "HTTP requests sent to Huawei Cloud APIs, retries included, by HTTP status code (\"error\" when no response arrived).",
		}, []string{"service", "region", "code"}),
		apiDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    name("api_request_duration_seconds"),
			Help:    "Latency of HTTP requests sent to Huawei Cloud APIs, retries counted one by one.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"service", "region"}),
		queryFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("job_query_failures_total"),
			Help: "Job queries that failed after retries, by project and reason (auth, auth_backoff, permission, throttled, not_found, endpoint, server_error, client_error, timeout, network, bad_response; README lists what each means).",
		}, []string{"service", "region", "project_id", "reason"}),
		scrapeDuration: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: name("scrape_duration_seconds"),
			Help: "Wall time the last scrape spent refreshing jobs from the API.",
		}),
		discoveryRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("discovery_refreshes_total"),
			Help: "Runs of job discovery, by source and result (success or failure).",
		}, []string{"source", "result"}),
		discoveredJobs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: name("discovered_jobs"),
			Help: "Jobs the last successful run of a discovery source found.",
		}, []string{"source"}),
		discoveryLastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: name("discovery_last_success_timestamp_seconds"),
			Help: "Time of the last successful run of a discovery source, in seconds since the epoch; 0 before the first.",
		}, []string{"source"}),
		jobsVanished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("jobs_vanished_total"),
			Help: "Unfinished jobs that the job API stopped knowing (not found, confirmed), so their outcome is unknown.",
		}, []string{"service", "region"}),
		discoveredDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("discovered_jobs_dropped_total"),
			Help: "Discovered job ids that the job API did not know at their first query (deleted before discovery found them); they are not asked again. source is the discovery source that listed the job.",
		}, []string{"service", "region", "source"}),
		truncatedValues: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("truncated_values_total"),
			Help: "Texts of job answers cut to the exporter's caps before export, once per text, by JSON field.",
		}, []string{"field"}),
		futureTimes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("future_timestamps_clamped_total"),
			Help: "Jobs whose begin_time or end_time lay more than 5 minutes ahead of the exporter's clock (a service answering in local time without an offset), exported as the time of the answer instead; counted once per job and field.",
		}, []string{"service", "region", "field"}),
		ReloadSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: name("config_last_reload_successful"),
			Help: "Whether the last configuration reload attempt was successful.",
		}),
		ReloadSuccessTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: name("config_last_reload_success_timestamp_seconds"),
			Help: "Timestamp of the last successful configuration reload.",
		}),
		queriesDeferred: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("job_queries_deferred_total"),
			Help: "Job queries a pull did not send, left to a later pull, by reason (timeout: the pull's deadline came first or its client went away; throttled: a rate limit had no room before it). Not failures: the job keeps its last answer.",
		}, []string{"reason"}),
		oldestAnswerAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: name("oldest_answer_age_seconds"),
			Help: "Age at the end of the last pull of the oldest last good answer among unfinished jobs (PENDING_PAYMENT jobs left out: they are asked every pending_payment_query_interval).",
		}),
		unansweredJobs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: name("unanswered_jobs"),
			Help: "Watched jobs that had no good answer yet at the end of the last pull.",
		}),
	}
	reg.MustRegister(m.queriesDeferred, m.oldestAnswerAge, m.unansweredJobs)
	reg.MustRegister(m.apiRequests, m.apiDuration, m.queryFailures, m.scrapeDuration,
		m.discoveryRuns, m.discoveredJobs, m.discoveryLastOK, m.jobsVanished, m.discoveredDropped, m.truncatedValues,
		m.futureTimes, m.ReloadSuccess, m.ReloadSuccessTime)
	return m
}

// InitLabels creates the series of every known label value at 0, so that rate() and alerts see a zero
// before the first failure rather than nothing.
func (m *Metrics) InitLabels(targets []huaweicloud.Target, discoverySources []string) {
	for _, t := range targets {
		s := string(t.Service)
		for _, r := range huaweicloud.Reasons {
			m.queryFailures.WithLabelValues(s, t.Region, t.ProjectID, r)
		}
		m.jobsVanished.WithLabelValues(s, t.Region)
		for _, src := range discoverySources {
			m.discoveredDropped.WithLabelValues(s, t.Region, src)
		}
		for _, f := range FutureFields {
			m.futureTimes.WithLabelValues(s, t.Region, f)
		}
		m.apiDuration.WithLabelValues(s, t.Region)
	}
	for _, r := range []string{huaweicloud.ReasonTimeout, huaweicloud.ReasonThrottled} {
		m.queriesDeferred.WithLabelValues(r)
	}
	for _, src := range discoverySources {
		m.discoveryRuns.WithLabelValues(src, "success")
		m.discoveryRuns.WithLabelValues(src, "failure")
		m.discoveryLastOK.WithLabelValues(src)
	}
}

// ObserveRequest implements huaweicloud.Observer.
func (m *Metrics) ObserveRequest(service huaweicloud.Service, region, code string, d time.Duration) {
	m.apiRequests.WithLabelValues(string(service), region, code).Inc()
	m.apiDuration.WithLabelValues(string(service), region).Observe(d.Seconds())
}

// ObserveDiscovery records one discovery run.
func (m *Metrics) ObserveDiscovery(source string, found int, err error) {
	if err != nil {
		m.discoveryRuns.WithLabelValues(source, "failure").Inc()
		return
	}
	m.discoveryRuns.WithLabelValues(source, "success").Inc()
	m.discoveredJobs.WithLabelValues(source).Set(float64(found))
	m.discoveryLastOK.WithLabelValues(source).SetToCurrentTime()
}

// ForgetDiscovery drops the series of a discovery source the configuration no longer has
// (discovery.Forgetter).
func (m *Metrics) ForgetDiscovery(source string) {
	m.discoveryRuns.DeleteLabelValues(source, "success")
	m.discoveryRuns.DeleteLabelValues(source, "failure")
	m.discoveredJobs.DeleteLabelValues(source)
	m.discoveryLastOK.DeleteLabelValues(source)
	m.discoveredDropped.DeletePartialMatch(prometheus.Labels{"source": source})
}

// QueryFailed counts a job query that failed after retries (huaweicloud.Reasons names the reasons).
func (m *Metrics) QueryFailed(service huaweicloud.Service, region, projectID, reason string) {
	m.queryFailures.WithLabelValues(string(service), region, projectID, reason).Inc()
}

// JobVanished counts an unfinished job the job API stopped knowing (confirmed not found).
func (m *Metrics) JobVanished(service huaweicloud.Service, region string) {
	m.jobsVanished.WithLabelValues(string(service), region).Inc()
}

// DiscoveredDropped counts a discovered job id the job API did not know at its first query; source is
// the discovery source that listed it.
func (m *Metrics) DiscoveredDropped(service huaweicloud.Service, region, source string) {
	m.discoveredDropped.WithLabelValues(string(service), region, source).Inc()
}

// ValueTruncated counts a text of a job answer cut to its cap, by JSON field.
func (m *Metrics) ValueTruncated(field string) {
	m.truncatedValues.WithLabelValues(field).Inc()
}

// FutureTimeClamped counts a job whose field (one of FutureFields) lay in the future and was clamped.
func (m *Metrics) FutureTimeClamped(service huaweicloud.Service, region, field string) {
	m.futureTimes.WithLabelValues(string(service), region, field).Inc()
}

// Pull is what one pull of the collector reports at its end.
type Pull struct {
	Duration        time.Duration  // wall time spent refreshing jobs
	Deferred        map[string]int // queries left to a later pull, by reason
	OldestAnswerAge time.Duration  // age of the oldest last good answer among unfinished jobs
	Unanswered      int            // watched jobs with no good answer yet
}

// ObservePull records the end of a pull.
func (m *Metrics) ObservePull(p Pull) {
	m.scrapeDuration.Set(p.Duration.Seconds())
	for reason, n := range p.Deferred {
		m.queriesDeferred.WithLabelValues(reason).Add(float64(n))
	}
	m.oldestAnswerAge.Set(p.OldestAnswerAge.Seconds())
	m.unansweredJobs.Set(float64(p.Unanswered))
}
