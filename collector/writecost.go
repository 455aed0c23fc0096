package collector

import (
	"sync"
	"time"
)

// writeCosts remembers how long the latest answers of /metrics took to write and send, so that a pull
// leaves that long of Prometheus' scrape timeout for it. The fixed --scrape.timeout-offset (500 ms) is
// plenty at 10,000 jobs (the answer takes tens of milliseconds), but a 100,000-job answer takes seconds:
// with only the offset reserved, the refresh used the whole budget and every pull then missed Prometheus'
// timeout, so Prometheus stored nothing at all.
//
// Only pulls carrying Prometheus' scrape-timeout header are measured, and an answer the client gave up
// on counts double (it took longer than measured), so a reserve that is too short grows until answers
// fit. The reserve is the least of the last few writes: a client that reads slowly (on purpose or not) makes
// its own write long, and must not shrink the refresh budget of Prometheus' pulls, whose writes stay
// short. It never exceeds half the timeout, so the refresh always keeps the other half.
type writeCosts struct {
	mu   sync.Mutex
	last [4]time.Duration // a ring of the latest writes; 0: none yet
	next int
}

// observe records the time one answer took to write.
func (w *writeCosts) observe(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last[w.next] = max(d, 1)
	w.next = (w.next + 1) % len(w.last)
}

// reserve is how much of a scrape timeout to leave for writing the answer: the fixed offset, or the
// least recent write time with a quarter more if that is larger, at most half the timeout.
func (w *writeCosts) reserve(offset, timeout time.Duration) time.Duration {
	w.mu.Lock()
	least := time.Duration(0)
	for _, d := range w.last {
		if d == 0 {
			// Fewer writes than the ring holds: the first pulls go by the offset alone.
			least = 0
			break
		}
		if least == 0 || d < least {
			least = d
		}
	}
	w.mu.Unlock()
	learned := min(least+least/4, timeout/2)
	return max(offset, learned)
}
