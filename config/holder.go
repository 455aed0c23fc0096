package config

import "sync/atomic"

// Holder holds the running configuration. Scrapes read it while a reload replaces it, so it is swapped
// atomically: a reader sees the old or the new config whole, never a mix.
type Holder struct {
	cfg atomic.Pointer[Config]
}

// NewHolder returns a holder of c.
func NewHolder(c *Config) *Holder {
	h := &Holder{}
	h.cfg.Store(c)
	return h
}

// Get returns the current configuration. Callers must treat it as read-only: it is shared.
func (h *Holder) Get() *Config {
	return h.cfg.Load()
}

// Set makes c the current configuration.
func (h *Holder) Set(c *Config) {
	h.cfg.Store(c)
}
