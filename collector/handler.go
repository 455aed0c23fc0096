package collector

import (
	"bufio"
	"context"
	"crypto/sha256"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	// klauspost/compress' gzip (BSD-3-Clause, as the Go standard library) writes the same format about
	// twice as fast as compress/gzip at the same level; the answer of many jobs is megabytes per pull.
	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// scrapeTimeoutHeader is set by Prometheus on every scrape to the scrape_timeout of the job.
const scrapeTimeoutHeader = "X-Prometheus-Scrape-Timeout-Seconds"

var textFormat = expfmt.NewFormat(expfmt.TypeTextPlain)

// Handler serves /metrics: it refreshes the due jobs within the scrape's budget, then writes the job
// metrics (WriteText) followed by everything self holds (the exporter's own metrics). The budget is
// Prometheus' scrape timeout minus offset, leaving room to encode and send the answer, or fallback()
// when the request does not say (curl, an older Prometheus).
func (c *Collector) Handler(self prometheus.Gatherer, offset time.Duration, fallback func() time.Duration, logger log.Logger) http.Handler {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	var costs writeCosts
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get(scrapeTimeoutHeader)
		total, err := scrapeTimeout(header, 0, fallback())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		timeout := total
		if header != "" {
			// As scrapeTimeout does with an offset: a reserve of the whole timeout leaves half of it.
			if timeout = total - costs.reserve(offset, total); timeout <= 0 {
				timeout = total / 2
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		c.RefreshFor(ctx, pullScraper(r))
		cancel()
		// Only pulls that say they are Prometheus' teach the reserve (a curl or a browser reading slowly
		// must not shrink Prometheus' refresh budget). An answer the client gave up on took longer than
		// what was measured: it counts double, so that answers cut by the timeout grow the reserve until
		// they fit instead of keeping it as short as the cut.
		start, cut := time.Now(), false
		if header != "" {
			defer func() {
				d := time.Since(start)
				if cut {
					d *= 2
				}
				costs.observe(d)
			}()
		}

		w.Header().Set("Content-Type", string(textFormat))
		var bw *bufio.Writer
		gzipped := acceptsGzip(r.Header.Get("Accept-Encoding"))
		if gzipped {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Add("Vary", "Accept-Encoding")
		}
		switch {
		case gzipped && readsGzipMembers(r):
			// A series of gzip members, most of them cached (expoCache), through one buffer.
			raw := bufio.NewWriterSize(w, 64<<10)
			gz := gzipWriters.Get().(*gzip.Writer)
			z := &gzStream{w: raw, gz: gz}
			defer func() { z.Close(); raw.Flush(); gzipWriters.Put(gz) }()
			bw = bufio.NewWriterSize(z, 4<<10)
			err = c.writeText(z, z)
		case gzipped:
			// One gzip member: curl --compressed, for one, stops after the first member and would show the
			// first family only.
			raw := bufio.NewWriterSize(w, 64<<10)
			gz := gzipWriters.Get().(*gzip.Writer)
			gz.Reset(raw)
			defer func() { gz.Close(); raw.Flush(); gzipWriters.Put(gz) }()
			bw = bufio.NewWriterSize(gz, 64<<10)
			err = c.WriteText(bw)
		default:
			bw = bufio.NewWriterSize(w, 64<<10)
			err = c.WriteText(bw)
		}
		defer bw.Flush()
		if err != nil {
			cut = true
			level.Debug(logger).Log("msg", "writing job metrics", "err", err)
			return
		}
		mfs, err := self.Gather()
		if err != nil {
			// Like promhttp.ContinueOnError: serve what could be gathered.
			level.Error(logger).Log("msg", "gathering exporter metrics", "err", err)
		}
		enc := expfmt.NewEncoder(bw, textFormat)
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				cut = true
				level.Debug(logger).Log("msg", "writing exporter metrics", "err", err)
				return
			}
		}
	})
}

// gzipLevel is klauspost's stateless compression: each Write is compressed on its own, with no window
// kept between writes. The exposition is written in 32-64 KB pieces (a cached segment is one), which
// compress ~20:1 alone as well as with a window, at the speed of BestSpeed, while a BestSpeed writer
// holds 820 KB of tables and history: one per concurrent pull, 2.5 MB of a 15 MB heap at 10,000 jobs.
const gzipLevel = gzip.StatelessCompression

var gzipWriters = sync.Pool{New: func() any {
	gz, _ := gzip.NewWriterLevel(nil, gzipLevel)
	return gz
}}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// readsGzipMembers tells whether the client is known to read a gzip answer of several members as one
// stream, as RFC 1952 allows: Prometheus (server and agent), whose scrape loop reads with Go's
// gzip.Reader. Others get one member: curl --compressed stops after the first member, and the answer of
// a scraper this exporter does not know must not depend on its gzip decoder.
func readsGzipMembers(r *http.Request) bool {
	return strings.HasPrefix(r.UserAgent(), "Prometheus/")
}

// scraperID tells scrapers apart, so that each is served answers newer than its own previous pull (see
// RefreshFor): the address without the port (a new connection per scrape changes the port) and the
// User-Agent. Two scrapers behind one address and agent look like one that pulls twice as often, which
// costs API calls but never serves one of them a stale answer.
//
// The identity is kept as a 16-byte SHA-256 prefix, not the text: the table holds up to maxScrapers of
// them, and a client sending 1 MB User-Agents kept 254 MB in it (issue 22). A cryptographic hash, so
// that no client can choose an agent that passes for Prometheus' identity.
func scraperID(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return scraperKey(host + " " + r.UserAgent())
}

// pullScraper is the scraper identity RefreshFor serves a pull by, or "" for a client that is not a
// scraper: a request without Prometheus' scrape-timeout header (curl, a browser, watch -n1) is served
// from memory (see scraperActiveFor in collector.go), so that it cannot multiply the API calls.
func pullScraper(r *http.Request) string {
	if r.Header.Get(scrapeTimeoutHeader) == "" {
		return ""
	}
	return scraperID(r)
}

// scraperKey is the fixed-size key of a scraper identity of any length.
func scraperKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return string(sum[:scraperIDLen])
}

// scraperIDLen is the bytes of a scraper key: 128 bits, no accidental collision among maxScrapers.
const scraperIDLen = 16

// scrapeTimeout derives the refresh budget the way blackbox_exporter does.
func scrapeTimeout(header string, offset, fallback time.Duration) (time.Duration, error) {
	if header == "" {
		return fallback, nil
	}
	secs, err := strconv.ParseFloat(header, 64)
	// Written so that NaN fails too: it passed "<= 0 || > 3600" and became a budget of 292 years.
	if err != nil || !(secs > 0 && secs <= 3600) {
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
