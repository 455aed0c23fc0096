package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/simulator"
)

// demoCloud is the simulated Huawei Cloud behind --demo.
type demoCloud struct {
	sim         *simulator.Simulator
	URL         string
	credentials string
	cancel      context.CancelFunc
}

// demoCredentialsTTL is the lifetime of the demo's metadata credentials: short, so that refreshes and
// the expiry metric move while one watches.
const demoCredentialsTTL = 10 * time.Minute

// startDemo starts the simulator on a free loopback port with jobs in motion.
func startDemo(ctx context.Context, seed int64, credentials string, logger log.Logger) (*demoCloud, error) {
	opts := simulator.Options{
		Seed:        seed,
		Credentials: map[string]string{simulator.DemoAccessKey: simulator.DemoSecretKey},
		ProjectID:   simulator.DemoProjectID,
		Region:      simulator.DemoRegion,
	}
	if credentials == "metadata" {
		opts.Metadata = &simulator.MetadataOptions{TTL: demoCredentialsTTL, SessionTokens: true}
	}
	sim := simulator.New(opts)
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	go sim.RunScenario(ctx, simulator.DefaultScenario())
	level.Info(logger).Log("msg", "demo simulator started", "url", url, "project_id", simulator.DemoProjectID, "region", simulator.DemoRegion)
	return &demoCloud{sim: sim, URL: url, credentials: credentials, cancel: cancel}, nil
}

// Config is the demo's configuration: every service and CTS discovery point at the simulator. It goes
// through the same decoding and validation as a file, so the demo exercises the real path.
func (d *demoCloud) Config() (*config.Config, error) {
	yml := simulator.ExporterConfig(d.URL, simulator.DemoAccessKey, simulator.DemoSecretKey, simulator.DemoRegion, simulator.DemoProjectID)
	if d.credentials == "metadata" {
		yml = simulator.MetadataExporterConfig(d.URL, simulator.DemoRegion, simulator.DemoProjectID)
	}
	cfg, err := config.Decode(strings.NewReader(yml))
	if err != nil {
		return nil, err
	}
	// The demo never asks the real cloud, whatever services the table grows.
	if err := simulator.LoopbackOnly(cfg); err != nil {
		return nil, fmt.Errorf("demo configuration: %w", err)
	}
	return cfg, nil
}

// Close stops the scenario and the simulator.
func (d *demoCloud) Close() {
	d.cancel()
	_ = d.sim.Close()
}

// The demo pulls its own metrics as a usual Prometheus would: every 15 s (the scrape_interval of
// Prometheus' example configuration, prometheus.yml in its release archives) with a 10 s budget (its
// default scrape_timeout), sent in the header Prometheus sends it in. Jobs are queried only on pulls,
// so without this a demo opened in a browser, with no Prometheus running, shows jobs never asked.
const (
	DemoPullInterval = 15 * time.Second
	demoPullTimeout  = 10 * time.Second
)

// selfPullURL is the metrics URL of the first listen address, on loopback when it listens on all
// addresses; "" when the exporter serves TLS or asks for auth (--web.config.file), which the demo's pull
// does not speak.
func selfPullURL(listen []string, webConfig, metricsPath string) string {
	if len(listen) == 0 || webConfig != "" {
		return ""
	}
	u, err := loopbackURL("http", listen[0], metricsPath)
	if err != nil {
		return ""
	}
	return u
}

// selfPull pulls url at once (retrying briefly while the server starts) and then every interval until
// ctx ends. A failed pull is logged once until one succeeds again.
func selfPull(ctx context.Context, url string, interval, timeout time.Duration, logger log.Logger) {
	hc := &http.Client{Timeout: timeout + time.Second}
	failing := false
	pull := func() bool {
		rctx, cancel := context.WithTimeout(ctx, timeout+time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
		if err != nil {
			return false
		}
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64))
		req.Header.Set("User-Agent", "huaweicloud-job-exporter-demo-pull")
		resp, err := hc.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<20))
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("HTTP %d", resp.StatusCode)
			}
		}
		if err != nil && ctx.Err() == nil && !failing {
			level.Warn(logger).Log("msg", "demo pull of its own metrics failed", "url", url, "err", err)
		}
		failing = err != nil
		return err == nil
	}
	// The listener may not be up yet: a few quick tries, then the regular interval.
	for range 25 {
		if pull() {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pull()
		}
	}
}
