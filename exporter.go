package main

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/common/version"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/discovery"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// fileDiscoveryInterval is how often job-id files are read.
const fileDiscoveryInterval = 30 * time.Second

// exporter applies a configuration to the long-lived parts: the API client, the collector's watch set
// and the discovery manager. apply is all-or-nothing: on error nothing changes, so a bad reload keeps the
// running configuration.
//
// Nothing that serves a request waits for apply: apply does its file I/O (credential files) before it
// changes anything, the running config is swapped atomically, and the discovery manager never waits for
// a source. So a stuck read can hold up at most the reload that does it, never /metrics, /config or
// shutdown.
type exporter struct {
	metrics   *collector.ExporterMetrics
	logger    log.Logger
	collector *collector.Collector
	discovery *discovery.Manager

	cfg atomic.Pointer[config.Config] // the running configuration

	applyMu    sync.Mutex // serialises apply
	client     *huaweicloud.Client
	httpClient config.HTTPClientConfig // the settings client was built from

	credentials        *huaweicloud.CredentialsProviders
	credentialsMetrics *collector.CredentialsCollector

	pageState // what the landing page shows above the table (status.go)
}

// newExporter returns an exporter with nothing to watch yet; its discovery sources run until ctx ends
// or stop is called.
func newExporter(ctx context.Context, metrics *collector.ExporterMetrics, logger log.Logger, opts ...collector.Option) *exporter {
	// The API client arrives with the first apply; nothing queries before it. opts: e.g. the shard.
	c := collector.New(nil, collector.Options{}, logger, append([]collector.Option{collector.WithMetrics(metrics)}, opts...)...)
	states := discovery.NewStates(metrics)
	return &exporter{
		metrics:   metrics,
		logger:    logger,
		collector: c,
		discovery: discovery.NewManager(ctx, c, states, logger),
		pageState: pageState{sources: states},

		credentials:        huaweicloud.NewCredentialsProviders(huaweicloud.WithProviderLogger(log.With(logger, "component", "credentials"))),
		credentialsMetrics: collector.NewCredentialsCollector(),
	}
}

// apply makes cfg the running configuration.
func (e *exporter) apply(cfg *config.Config, getenv func(string) string) error {
	e.applyMu.Lock()
	defer e.applyMu.Unlock()

	// The same check as --config.check, so that the two never disagree.
	if _, err := cfg.CheckCredentials(getenv); err != nil {
		return err
	}
	type project struct {
		targets map[huaweicloud.Service]huaweicloud.Target
		cts     huaweicloud.Target
	}
	projects := make([]project, len(cfg.Projects))
	var jobs []collector.WatchedJob
	var allTargets []huaweicloud.Target
	var credEntries []collector.CredentialsEntry
	var credConfigs []huaweicloud.CredentialsConfig
	for i, p := range cfg.Projects {
		provider, cc, err := e.projectCredentials(cfg, i, getenv)
		if err != nil {
			return err
		}
		credEntries = append(credEntries, collector.CredentialsEntry{ProjectID: p.ProjectID, Region: p.Region, Provider: provider})
		credConfigs = append(credConfigs, cc)
		target := func(s huaweicloud.Service) huaweicloud.Target {
			return huaweicloud.Target{Service: s, Region: p.Region, ProjectID: p.ProjectID, Endpoint: cfg.Endpoint(i, s), Provider: provider,
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

	// The client is kept while the HTTP settings are: a fresh one forgets the auth back-off state, and
	// the discovery manager restarts the sources that use a new one.
	client := e.client
	if client == nil || !reflect.DeepEqual(cfg.HTTPClient, e.httpClient) {
		hc, err := newAPIHTTPClient(cfg.HTTPClient)
		if err != nil {
			return fmt.Errorf("http_client: %w", err)
		}
		client = huaweicloud.NewClient(hc,
			huaweicloud.WithUserAgent("huaweicloud-job-exporter/"+version.Version),
			huaweicloud.WithObserver(e.metrics),
			huaweicloud.WithAdaptiveRateLimit())
	}

	// Every source with everything it depends on; the manager decides what to keep.
	var sources []discovery.Config
	for i, p := range cfg.Projects {
		pr := projects[i]
		if c := p.Discovery.CTS; c != nil && c.Enabled {
			sources = append(sources, discovery.Config{
				Name:     "cts/" + p.Region + "/" + p.ProjectID,
				Interval: time.Duration(c.Interval),
				CTS: &discovery.CTSConfig{Lister: client, CTS: pr.cts, Targets: pr.targets, Options: discovery.CTSOptions{
					Services: c.Services,
					Lookback: time.Duration(c.Lookback),
					Retain:   time.Duration(cfg.FinalJobTTL),
				}},
			})
		}
		if len(p.Discovery.Files) > 0 {
			sources = append(sources, discovery.Config{
				Name:     "file/" + p.Region + "/" + p.ProjectID,
				Interval: fileDiscoveryInterval,
				File:     &discovery.FileConfig{Globs: p.Discovery.Files, Targets: pr.targets},
			})
		}
	}
	// Before the sources start, so that their first jobs meet the cap; put back if the sources fail.
	oldCap := e.collector.SetMaxWatchedJobs(cfg.MaxWatchedJobs)
	if err := e.discovery.ApplyConfig(sources); err != nil {
		e.collector.SetMaxWatchedJobs(oldCap)
		return err
	}

	e.collector.SetOptions(collector.OptionsFrom(*cfg))
	e.collector.SetGetter(client)
	e.collector.SetJobs(collector.ConfigSource, jobs)
	e.client, e.httpClient = client, cfg.HTTPClient
	e.cfg.Store(cfg)
	e.metrics.InitLabels(allTargets, e.discovery.Sources())
	for _, w := range cfg.Warnings() {
		level.Warn(e.logger).Log("msg", "configuration warning", "warning", w)
	}
	e.credentialsMetrics.Set(credEntries)
	e.pageState.set(client, credEntries)
	e.credentials.Retain(credConfigs)
	return nil
}

// stop ends discovery, waiting for the sources until ctx ends.
func (e *exporter) stop(ctx context.Context) error {
	return e.discovery.Stop(ctx)
}

// timeout is the scrape budget used when Prometheus does not send its scrape timeout.
func (e *exporter) timeout() time.Duration {
	return time.Duration(e.cfg.Load().Timeout)
}

// configText is the running configuration as YAML with secrets hidden, for the /config page.
func (e *exporter) configText() string {
	return e.cfg.Load().String()
}
