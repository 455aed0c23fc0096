// Package discovery finds jobs to watch besides the config's static list: in the Cloud Trace Service's
// record of job-creating calls, and in job-id files that deployment tooling writes.
package discovery

import (
	"context"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
)

// Source finds jobs. Discover returns everything the source currently knows, not a delta. A non-nil
// error with a non-nil slice is a partial answer: the jobs are used and the run is reported as failed
// (a file source keeps serving a broken file's last good content, as Prometheus' file_sd does).
type Source interface {
	Name() string
	Discover(ctx context.Context) ([]collector.WatchedJob, error)
}

// Sink receives each source's jobs; the collector is one.
type Sink interface {
	SetJobs(source string, jobs []collector.WatchedJob)
}

// Observer counts discovery runs; the exporter's self-metrics are one.
type Observer interface {
	ObserveDiscovery(source string, found int, err error)
}

// Run discovers at once and then every interval until ctx ends. A failed run keeps the jobs of the last
// good one, so a CTS hiccup does not make jobs vanish from the metrics.
func Run(ctx context.Context, src Source, interval time.Duration, sink Sink, obs Observer, logger log.Logger) {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		runOnce(ctx, src, interval, sink, obs, logger)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func runOnce(ctx context.Context, src Source, interval time.Duration, sink Sink, obs Observer, logger log.Logger) {
	// A run may take the whole interval but not more, or runs would pile up behind a hung endpoint.
	rctx, cancel := context.WithTimeout(ctx, interval)
	defer cancel()
	start := time.Now()
	jobs, err := src.Discover(rctx)
	if ctx.Err() != nil {
		return // shutting down or source removed by a reload: not a failure
	}
	if err == nil || jobs != nil {
		sink.SetJobs(src.Name(), jobs)
	}
	if obs != nil {
		obs.ObserveDiscovery(src.Name(), len(jobs), err)
	}
	if err != nil {
		level.Warn(logger).Log("msg", "discovery failed; keeping the jobs found before", "source", src.Name(), "err", err)
		return
	}
	level.Debug(logger).Log("msg", "discovery done", "source", src.Name(), "jobs", len(jobs), "duration", time.Since(start))
}
