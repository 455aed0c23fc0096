package app

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fileread"
)

// ServerLimits bound what HTTP clients can make the exporter hold (issue 22 item 5): only
// ReadHeaderTimeout was set, and 15,000 idle keep-alive connections took RSS from 17 to 307 MB, 200
// unfinished 1 MB headers to 336 MB.
type ServerLimits struct {
	MaxConnections int           // open connections at once; past it, an idle one is closed for a new one
	IdleTimeout    time.Duration // a keep-alive connection with no request for this long is closed
	MaxHeaderBytes int           // the request line and headers of one request
}

// Defaults of the --web.* limit flags. Prometheus' own --web.max-connections is 512: a few scrapers, a
// probe and a person each hold one or two. The idle timeout is over the longest usual scrape interval
// (1 m), so Prometheus keeps reusing its connection. Prometheus sends well under 1 KiB of headers and a
// browser a few KiB; 16 KiB is Apache's and nginx' order of magnitude, against Go's 1 MiB.
const (
	DefaultMaxConnections = "512"
	DefaultIdleTimeout    = "2m"
	DefaultMaxHeaderBytes = "16KiB"
)

// Check refuses limits that would leave the server without one; the error names the flag.
func (l ServerLimits) Check() error {
	switch {
	case l.MaxConnections < 0:
		return fmt.Errorf("--web.max-connections must be 0 (no limit) or more, got %d", l.MaxConnections)
	case l.IdleTimeout <= 0:
		return fmt.Errorf("--web.idle-timeout must be greater than 0, got %v", l.IdleTimeout)
	case l.MaxHeaderBytes < 1<<10 || l.MaxHeaderBytes > 1<<20:
		return fmt.Errorf("--web.max-header-bytes must be between 1KiB and 1MiB, got %d bytes", l.MaxHeaderBytes)
	}
	return nil
}

// newServer is the exporter's HTTP server with limits applied.
func newServer(h http.Handler, l ServerLimits) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
	}
	if l.MaxConnections > 0 {
		cl := &connLimit{max: l.MaxConnections, conns: map[net.Conn]http.ConnState{}}
		srv.ConnState = cl.track
	}
	return srv
}

// connLimit bounds the open connections of a server. At the bound, a new connection takes the place of
// an idle keep-alive one (the longest idle first), so that a client holding hundreds of idle connections
// cannot lock Prometheus out; when none is idle, the new connection is closed at once. A connection still
// sending its headers counts too, and is ended by ReadHeaderTimeout. Unlike netutil.LimitListener, which
// leaves the excess waiting in the kernel's backlog, this works behind exporter-toolkit's listeners
// (TLS, systemd sockets, vsock) untouched.
type connLimit struct {
	max   int
	mu    sync.Mutex
	conns map[net.Conn]http.ConnState
	idle  []net.Conn // in the order they went idle; may hold stale entries, checked against conns
}

func (l *connLimit) track(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch s {
	case http.StateClosed, http.StateHijacked:
		delete(l.conns, c)
		return
	case http.StateIdle:
		l.idle = append(l.idle, c)
	case http.StateNew:
		if len(l.conns) >= l.max && !l.closeIdle() {
			c.Close() // the server sees the error on its first read and reports StateClosed
		}
	}
	l.conns[c] = s
	if len(l.idle) > 2*l.max { // drop stale entries now and then, so idle stays bounded
		l.compact()
	}
}

// closeIdle closes the connection idle the longest; false when none is.
func (l *connLimit) closeIdle() bool {
	for len(l.idle) > 0 {
		c := l.idle[0]
		l.idle = l.idle[1:]
		if l.conns[c] == http.StateIdle {
			c.Close()
			delete(l.conns, c) // its StateClosed comes later; the place is free now
			return true
		}
	}
	return false
}

func (l *connLimit) compact() {
	kept := l.idle[:0]
	for _, c := range l.idle {
		if l.conns[c] == http.StateIdle {
			kept = append(kept, c)
		}
	}
	l.idle = kept
}

// readOnly answers 405 to any method but GET and HEAD: the read endpoints answered TRACE, PUT and DELETE
// with 200 (issue 22).
func readOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: use GET", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// lifecycleGuard lets a /-/reload request through only when --web.enable-lifecycle is set (off by
// default, as in Prometheus), by POST, and not from a web page of another site: a cross-site form post
// carries an Origin (or Sec-Fetch-Site) that names another host.
func lifecycleGuard(enabled bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case !enabled:
			http.Error(w, "Lifecycle API is not enabled: start the exporter with --web.enable-lifecycle, or send it SIGHUP", http.StatusForbidden)
		case r.Method != http.MethodPost:
			w.Header().Set("Allow", "POST")
			http.Error(w, "use POST to reload the configuration", http.StatusMethodNotAllowed)
		case crossSite(r):
			http.Error(w, "cross-site request refused", http.StatusForbidden)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// crossSite tells a request sent by a browser on behalf of a page of another origin.
func crossSite(r *http.Request) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false // not a browser's cross-origin request: curl, a script, Kubernetes
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host != r.Host
}

// stuckReadLimit is how long a file read may stay blocked before the exporter reports itself unhealthy.
var stuckReadLimit = time.Minute

// healthHandler serves /-/healthy, the liveness probe. Live means the process can still do its work
// after a restart would not do it better: it answers HTTP (this handler runs), and no file read (config,
// credential or job-id file) has been blocked in the kernel for longer than stuckReadLimit. Such a read
// is a hung network mount (NFS, a CSI secret volume); the exporter serves its last good credentials
// meanwhile, but they age out, and only a new pod gets a fresh mount, so the probe says 503. Failures of
// the cloud API are not a liveness matter (a restart cannot fix them) and never make this fail.
func healthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if n, oldest := fileread.Stuck(stuckReadLimit); n > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "Unhealthy: %d file reads blocked for over %v (oldest: %s)\n", n, stuckReadLimit, oldest)
			return
		}
		fmt.Fprintln(w, "Healthy")
	})
}
