package app

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
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/selfmetrics"
)

// fileDiscoveryInterval is how often job-id files are read.
const fileDiscoveryInterval = 30 * time.Second

// Exporter applies a configuration to the long-lived parts: the API client, the collector's watch set
// and the discovery manager. Apply is all-or-nothing: on error nothing changes, so a bad reload keeps the
// running configuration.
//
// Nothing that serves a request waits for Apply: Apply does its file I/O (credential files) before it
// changes anything, the running config is swapped atomically, and the discovery manager never waits for
// a source. So a stuck read can hold up at most the reload that does it, never /metrics, /config or
// shutdown.
type Exporter struct {
	metrics   *selfmetrics.Metrics
	logger    log.Logger
	collector *collector.Collector
	discovery *discovery.Manager

	cfg atomic.Pointer[config.Config] // the running configuration

	applyMu    sync.Mutex // serialises Apply
	client     *huaweicloud.Client
	httpClient config.HTTPClientConfig // the settings client was built from
	clientOpts []huaweicloud.Option    // flow control of the client, after its user agent and observer

	credentials        *huaweicloud.CredentialsProviders
	credentialsMetrics *selfmetrics.CredentialsCollector

	pageState // what the landing page shows above the table (status.go)
}

// Option configures an Exporter.
type Option func(*options)

type options struct {
	collector []collector.Option
	client    []huaweicloud.Option
}

// WithCollectorOptions passes options to the collector, e.g. collector.WithShard.
func WithCollectorOptions(opts ...collector.Option) Option {
	return func(o *options) { o.collector = append(o.collector, opts...) }
}

// WithClientOptions replaces the flow control of the API client, by default
// huaweicloud.WithAdaptiveRateLimit() (the exporter's setting): hjebench measures the client with
// retries only against it. The user agent and the observer of the self-metrics are always set.
func WithClientOptions(opts ...huaweicloud.Option) Option {
	return func(o *options) { o.client = opts }
}

// New returns an Exporter with nothing to watch yet; its discovery sources run until ctx ends or Stop
// is called. metrics are the self-metrics the collector, the client and discovery report to.
func New(ctx context.Context, metrics *selfmetrics.Metrics, logger log.Logger, opts ...Option) *Exporter {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	o := options{client: []huaweicloud.Option{huaweicloud.WithAdaptiveRateLimit()}}
	for _, opt := range opts {
		opt(&o)
	}
	// The API client arrives with the first Apply; nothing queries before it.
	c := collector.New(nil, collector.Options{}, logger, append([]collector.Option{collector.WithMetrics(metrics)}, o.collector...)...)
	states := discovery.NewStates(metrics)
	return &Exporter{
		metrics:    metrics,
		logger:     logger,
		collector:  c,
		discovery:  discovery.NewManager(ctx, c, states, logger),
		clientOpts: o.client,
		pageState:  pageState{sources: states},

		credentials:        huaweicloud.NewCredentialsProviders(huaweicloud.WithProviderLogger(log.With(logger, "component", "credentials"))),
		credentialsMetrics: selfmetrics.NewCredentialsCollector(),
	}
}

// plan is what Apply derives from a configuration before it changes anything.
type plan struct {
	projects    []projectTargets
	jobs        []collector.WatchedJob // the config's own jobs
	targets     []huaweicloud.Target   // every (project, job service), for the self-metrics' labels
	credEntries []selfmetrics.CredentialsEntry
	credConfigs []huaweicloud.CredentialsConfig
}

// projectTargets are the API targets of one project.
type projectTargets struct {
	targets map[huaweicloud.Service]huaweicloud.Target
	cts     huaweicloud.Target
}

// Apply makes cfg the running configuration.
func (e *Exporter) Apply(cfg *config.Config, getenv func(string) string) error {
	e.applyMu.Lock()
	defer e.applyMu.Unlock()

	// The same check as --config.check, so that the two never disagree.
	if _, err := cfg.CheckCredentials(getenv); err != nil {
		return err
	}
	p, err := e.plan(cfg, getenv)
	if err != nil {
		return err
	}
	client, err := e.apiClient(cfg.HTTPClient)
	if err != nil {
		return err
	}
	// Before the sources start, so that their first jobs meet the cap; put back if the sources fail.
	oldCap := e.collector.SetMaxWatchedJobs(cfg.MaxWatchedJobs)
	if err := e.discovery.ApplyConfig(discoverySources(cfg, p.projects, client)); err != nil {
		e.collector.SetMaxWatchedJobs(oldCap)
		return err
	}
	e.commit(cfg, client, p)
	return nil
}

// plan resolves each project's credentials (reading files, never the network) and builds its targets
// and jobs.
func (e *Exporter) plan(cfg *config.Config, getenv func(string) string) (plan, error) {
	p := plan{projects: make([]projectTargets, len(cfg.Projects))}
	for i, proj := range cfg.Projects {
		provider, cc, err := e.projectCredentials(cfg, i, getenv)
		if err != nil {
			return plan{}, err
		}
		p.credEntries = append(p.credEntries, selfmetrics.CredentialsEntry{ProjectID: proj.ProjectID, Region: proj.Region, Provider: provider})
		p.credConfigs = append(p.credConfigs, cc)
		target := func(s huaweicloud.Service) huaweicloud.Target {
			return huaweicloud.Target{Service: s, Region: proj.Region, ProjectID: proj.ProjectID, Endpoint: cfg.Endpoint(i, s), Provider: provider,
				RateLimit: cfg.ProjectRateLimit(i)}
		}
		p.projects[i].targets = map[huaweicloud.Service]huaweicloud.Target{}
		for _, s := range huaweicloud.JobServices {
			p.projects[i].targets[s] = target(s)
			p.targets = append(p.targets, target(s))
		}
		p.projects[i].cts = target(huaweicloud.CTS)
		for _, j := range proj.Jobs {
			p.jobs = append(p.jobs, collector.WatchedJob{Target: p.projects[i].targets[j.Service], JobID: j.ID})
		}
	}
	return p, nil
}

// apiClient is the API client for the config's HTTP settings: the running one while they are the same,
// as a fresh one forgets the auth back-off state, and the discovery manager restarts the sources that
// use a new one.
func (e *Exporter) apiClient(settings config.HTTPClientConfig) (*huaweicloud.Client, error) {
	if e.client != nil && reflect.DeepEqual(settings, e.httpClient) {
		return e.client, nil
	}
	hc, err := newAPIHTTPClient(settings)
	if err != nil {
		return nil, fmt.Errorf("http_client: %w", err)
	}
	opts := append([]huaweicloud.Option{
		huaweicloud.WithUserAgent("huaweicloud-job-exporter/" + version.Version),
		huaweicloud.WithObserver(e.metrics),
	}, e.clientOpts...)
	return huaweicloud.NewClient(hc, opts...), nil
}

// discoverySources is every source of cfg with everything it depends on; the manager decides what to
// keep.
func discoverySources(cfg *config.Config, projects []projectTargets, client *huaweicloud.Client) []discovery.Config {
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
	return sources
}

// commit makes the checked cfg running; it cannot fail.
func (e *Exporter) commit(cfg *config.Config, client *huaweicloud.Client, p plan) {
	e.collector.SetOptions(collector.OptionsFrom(*cfg))
	e.collector.SetGetter(client)
	e.collector.SetJobs(collector.ConfigSource, p.jobs)
	e.client, e.httpClient = client, cfg.HTTPClient
	e.cfg.Store(cfg)
	e.metrics.InitLabels(p.targets, e.discovery.Sources())
	for _, w := range cfg.Warnings() {
		level.Warn(e.logger).Log("msg", "configuration warning", "warning", w)
	}
	e.credentialsMetrics.Set(p.credEntries)
	e.pageState.set(client, p.credEntries)
	e.credentials.Retain(p.credConfigs)
}

// Collector is the exporter's collector: its watch set and its /metrics handler.
func (e *Exporter) Collector() *collector.Collector { return e.collector }

// Stop ends discovery, waiting for the sources until ctx ends.
func (e *Exporter) Stop(ctx context.Context) error {
	return e.discovery.Stop(ctx)
}

// Timeout is the scrape budget used when Prometheus does not send its scrape timeout.
func (e *Exporter) Timeout() time.Duration {
	return time.Duration(e.cfg.Load().Timeout)
}

// ConfigText is the running configuration as YAML with secrets hidden, for the /config page.
func (e *Exporter) ConfigText() string {
	return e.cfg.Load().String()
}
