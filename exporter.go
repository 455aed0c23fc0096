package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-kit/log"
	commonconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/discovery"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// exporter applies a configuration to the long-lived parts: the API client, the collector's watch set
// and the discovery sources. apply is all-or-nothing: on error nothing changes, so a bad reload keeps the
// running configuration.
type exporter struct {
	metrics   *collector.ExporterMetrics
	logger    log.Logger
	collector *collector.Collector
	// collectorOptions are given to the collector when the first apply creates it (e.g. its shard).
	collectorOptions []collector.Option

	mu         sync.Mutex
	cfg        *config.Config
	httpConfig string
	client     *huaweicloud.Client
	discovery  map[string]*runningSource
}

type runningSource struct {
	fingerprint string
	cancel      context.CancelFunc
	done        chan struct{}
}

func newExporter(metrics *collector.ExporterMetrics, logger log.Logger) *exporter {
	return &exporter{metrics: metrics, logger: logger, discovery: map[string]*runningSource{}}
}

// apply makes cfg the running configuration.
func (e *exporter) apply(ctx context.Context, cfg *config.Config, getenv func(string) string) error {
	e.mu.Lock()
	defer e.mu.Unlock()

	// The same check as --config.check, so that the two never disagree.
	if err := cfg.CheckCredentials(getenv); err != nil {
		return err
	}
	type project struct {
		targets map[huaweicloud.Service]huaweicloud.Target
		cts     huaweicloud.Target
	}
	projects := make([]project, len(cfg.Projects))
	var jobs []collector.WatchedJob
	var allTargets []huaweicloud.Target
	for i, p := range cfg.Projects {
		creds, err := cfg.ResolveCredentials(i, getenv)
		if err != nil {
			return err
		}
		target := func(s huaweicloud.Service) huaweicloud.Target {
			return huaweicloud.Target{Service: s, Region: p.Region, ProjectID: p.ProjectID, Endpoint: cfg.Endpoint(i, s), Credentials: creds,
				RateLimit: cfg.ProjectRateLimit(i)}
		}
		projects[i].targets = map[huaweicloud.Service]huaweicloud.Target{}
		for _, s := range huaweicloud.JobServices {
			projects[i].targets[s] = target(s)
			allTargets = append(allTargets, target(s))
		}
		projects[i].cts = target(huaweicloud.CTS)
		for _, j := range p.Jobs {
			jobs = append(jobs, collector.WatchedJob{Target: projects[i].targets[j.Service], JobID: j.ID})
		}
	}

	httpConfig := fmt.Sprintf("%+v", cfg.HTTPClient)
	client := e.client
	if client == nil || httpConfig != e.httpConfig {
		hc, err := commonconfig.NewClientFromConfig(commonconfig.HTTPClientConfig{
			TLSConfig:   cfg.HTTPClient.TLSConfig,
			ProxyConfig: cfg.HTTPClient.ProxyConfig,
		}, "huaweicloud-job-exporter")
		if err != nil {
			return fmt.Errorf("http_client: %w", err)
		}
		// A fresh client forgets auth back-off state; that only happens when the HTTP settings change.
		client = huaweicloud.NewClient(hc,
			huaweicloud.WithUserAgent("huaweicloud-job-exporter/"+version.Version),
			huaweicloud.WithObserver(e.metrics),
			huaweicloud.WithAdaptiveRateLimit())
	}

	opts := collector.Options{
		Concurrency:      cfg.Concurrency,
		MinQueryInterval: time.Duration(cfg.MinQueryInterval),
		FinalJobTTL:      time.Duration(cfg.FinalJobTTL),

		PendingPaymentInterval: time.Duration(cfg.PendingPaymentQueryInterval),
	}
	if e.collector == nil {
		e.collector = collector.New(client, opts, e.logger, append([]collector.Option{collector.WithMetrics(e.metrics)}, e.collectorOptions...)...)
	} else {
		e.collector.SetOptions(opts)
		e.collector.SetGetter(client)
	}
	e.collector.SetJobs(collector.ConfigSource, jobs)
	e.client, e.httpConfig, e.cfg = client, httpConfig, cfg

	// Discovery: keep sources whose settings did not change (they remember what they found), start new
	// ones, stop and forget the jobs of removed ones.
	want := map[string]func() (discovery.Source, time.Duration){}
	fingerprints := map[string]string{}
	for i, p := range cfg.Projects {
		pr := projects[i]
		if c := p.Discovery.CTS; c != nil && c.Enabled {
			src := discovery.NewCTS(client, pr.cts, pr.targets, discovery.CTSOptions{
				Services: c.Services,
				Lookback: time.Duration(c.Lookback),
				Retain:   time.Duration(cfg.FinalJobTTL),
			})
			want[src.Name()] = func() (discovery.Source, time.Duration) { return src, time.Duration(c.Interval) }
			fingerprints[src.Name()] = fmt.Sprintf("%+v|%+v|%v", pr.cts, *c, cfg.FinalJobTTL)
		}
		if len(p.Discovery.Files) > 0 {
			src := discovery.NewFile(p.Discovery.Files, pr.targets)
			name := fmt.Sprintf("%s/%s/%s", src.Name(), p.Region, p.ProjectID)
			named := namedSource{name, src}
			want[name] = func() (discovery.Source, time.Duration) { return named, 30 * time.Second }
			fingerprints[name] = fmt.Sprintf("%v|%+v", p.Discovery.Files, pr.targets)
		}
	}
	for name, rs := range e.discovery {
		if _, ok := want[name]; ok && fingerprints[name] == rs.fingerprint {
			delete(want, name)
			continue
		}
		rs.cancel()
		<-rs.done
		delete(e.discovery, name)
		e.collector.SetJobs(name, nil)
	}
	names := make([]string, 0, len(want))
	for name, mk := range want {
		src, interval := mk()
		dctx, cancel := context.WithCancel(ctx)
		rs := &runningSource{fingerprint: fingerprints[name], cancel: cancel, done: make(chan struct{})}
		e.discovery[name] = rs
		names = append(names, name)
		go func() {
			defer close(rs.done)
			discovery.Run(dctx, src, interval, e.collector, e.metrics, log.With(e.logger, "discovery", name))
		}()
	}
	e.metrics.InitLabels(allTargets, names)
	return nil
}

// namedSource gives a file source one name per project, since each project has its own file globs.
type namedSource struct {
	name string
	discovery.Source
}

func (n namedSource) Name() string { return n.name }

func (e *exporter) stopDiscovery() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for name, rs := range e.discovery {
		rs.cancel()
		<-rs.done
		delete(e.discovery, name)
	}
}

// timeout is the scrape budget used when Prometheus does not send its scrape timeout.
func (e *exporter) timeout() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return time.Duration(e.cfg.Timeout)
}

// configText is the running configuration as YAML with secrets hidden, for the /config page.
func (e *exporter) configText() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfg.String()
}
