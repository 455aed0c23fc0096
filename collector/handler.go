package collector

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// scrapeTimeoutHeader is set by Prometheus on every scrape to the scrape_timeout of the job.
const scrapeTimeoutHeader = "X-Prometheus-Scrape-Timeout-Seconds"

// Handler serves /metrics: it refreshes the due jobs within the scrape's budget, then writes everything
// gatherer holds. The budget is Prometheus' scrape timeout minus offset (room to encode and send the
// answer), or fallback() when the request does not say (curl, an older Prometheus).
func (c *Collector) Handler(gatherer prometheus.Gatherer, offset time.Duration, fallback func() time.Duration, logger log.Logger) http.Handler {
	metrics := promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{
		ErrorLog:      promhttpLogger{logger},
		ErrorHandling: promhttp.ContinueOnError,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		timeout, err := scrapeTimeout(r.Header.Get(scrapeTimeoutHeader), offset, fallback())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		c.Refresh(ctx)
		metrics.ServeHTTP(w, r)
	})
}

// scrapeTimeout derives the refresh budget the way blackbox_exporter does.
func scrapeTimeout(header string, offset, fallback time.Duration) (time.Duration, error) {
	if header == "" {
		return fallback, nil
	}
	secs, err := strconv.ParseFloat(header, 64)
	if err != nil || secs <= 0 || secs > 3600 {
		return 0, &headerError{header}
	}
	t := time.Duration(secs*float64(time.Second)) - offset
	if t <= 0 {
		// An offset larger than the whole timeout would leave nothing; use half the timeout instead.
		t = time.Duration(secs * float64(time.Second) / 2)
	}
	return t, nil
}

type headerError struct{ value string }

func (e *headerError) Error() string {
	return "invalid " + scrapeTimeoutHeader + " header " + strconv.Quote(e.value) + ": want seconds between 0 and 3600"
}

// promhttpLogger adapts go-kit/log to promhttp's Println-style error log.
type promhttpLogger struct{ logger log.Logger }

func (l promhttpLogger) Println(v ...interface{}) {
	level.Error(l.logger).Log("msg", "error encoding metrics", "err", fmtArgs(v))
}

func fmtArgs(v []interface{}) string { return strings.TrimSuffix(fmt.Sprintln(v...), "\n") }
