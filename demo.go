package main

import (
	"context"
	"fmt"
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
