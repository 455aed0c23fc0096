package web

import (
	"net/http"
	"sync/atomic"
	"time"
)

// Pulls remembers when the metrics were last pulled. Jobs are queried only when /metrics is pulled
// (usually by Prometheus), so the landing page tells when that last happened: a page opened before the
// first pull shows jobs that were never asked, not jobs that failed.
type Pulls struct {
	last atomic.Int64 // Unix nanoseconds of the start of the latest pull; 0: none yet
	now  func() time.Time
}

// Wrap returns next, recording the start of every request to it.
func (p *Pulls) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now
		if p.now != nil {
			now = p.now
		}
		p.last.Store(now().UnixNano())
		next.ServeHTTP(w, r)
	})
}

// Last returns the start of the latest pull, zero before the first.
func (p *Pulls) Last() time.Time {
	n := p.last.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
