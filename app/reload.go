package app

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-kit/log/level"
)

// reload loads the configuration again and applies it; on error the running one stays, and
// config_last_reload_successful says 0.
func (a *app) reload() error {
	c, err := a.src.load()
	if err == nil {
		err = a.ex.Apply(c, os.Getenv)
	}
	if err != nil {
		a.metrics.ReloadSuccess.Set(0)
		level.Error(a.logger).Log("msg", "reload failed, keeping the previous configuration", "file", a.src.name, "err", err)
		return err
	}
	a.metrics.ReloadSuccess.Set(1)
	a.metrics.ReloadSuccessTime.SetToCurrentTime()
	level.Info(a.logger).Log("msg", "configuration reloaded", "file", a.src.name)
	return nil
}

// reloadLoop serialises reloads from SIGHUP and /-/reload so that two never overlap: this one goroutine
// runs them all, one after the other.
func reloadLoop(ctx context.Context, reqs <-chan chan error, reload func() error) {
	for {
		select {
		case done := <-reqs:
			done <- reload()
		case <-ctx.Done():
			return
		}
	}
}

// reloadOnSIGHUP asks reloadLoop for a reload on each SIGHUP until ctx ends.
func reloadOnSIGHUP(ctx context.Context, reloads chan<- chan error) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	for {
		select {
		case <-hup:
			done := make(chan error, 1)
			select {
			case reloads <- done:
			case <-ctx.Done():
				return
			}
			select {
			case <-done:
			case <-ctx.Done():
				return
			}
		case <-ctx.Done():
			return
		}
	}
}
