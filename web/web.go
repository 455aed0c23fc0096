// Package web serves the exporter's human-facing pages: the landing page with links and a table of the
// watched jobs (so an operator can look without Grafana), and the /config page.
package web

import (
	"embed"
	"html/template"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/collector"
)

//go:embed templates/*.html
var templates embed.FS

var pageTemplates = template.Must(template.New("").Funcs(template.FuncMap{
	"age":         age,
	"statusClass": statusClass,
	"short":       func(s string, n int) string { return shorten(s, n) },
}).ParseFS(templates, "templates/*.html"))

// Pages holds what the pages show; the funcs are called on every request so reloads show at once.
type Pages struct {
	Name        string
	Version     string
	MetricsPath string
	Demo        bool
	Jobs        func() []collector.JobState
	Config      func() string
	Now         func() time.Time
	// LastPull is when the metrics were last pulled, zero before the first pull (Pulls.Last); nil when
	// unknown. Jobs are queried on pulls only, so the page says when the answers it shows were asked.
	LastPull func() time.Time
	// SelfPull is the interval at which the exporter pulls its own metrics (--demo, where no Prometheus
	// may be running); 0 when it does not.
	SelfPull time.Duration
	// Status is the state of discovery, credentials and back-offs shown above the table; nil: none.
	Status func() Status
}

type landingData struct {
	*Pages
	Jobs       []jobRow
	Counts     []statusCount
	Failing    int
	NotQueried int
	Total      int
	Rendered   time.Time
	PullKnown  bool   // LastPull is set
	PulledAgo  string // "12s ago"; "" before the first pull
	PulledAt   string // RFC 3339, UTC

	Sources     []sourceRow
	Credentials []credentialsRow
	Failures    []failureRow
}

// jobRow adds the two times a person reads, each meaning one thing: how long ago the job started, and
// how long it ran (or has been running).
type jobRow struct {
	collector.JobState
	Started string
	RunTime string
	Running bool
	// NotQueried: no answer and no error yet. Jobs are asked on pulls of the metrics only, so a job
	// found since the last pull (or any job before the first) has not been asked: neutral, not failed.
	NotQueried bool
}

// notQueried tells a job that was never answered nor failed: asked by no pull yet, or asked by the pull
// in flight.
func notQueried(j collector.JobState) bool {
	return !j.QuerySuccess && j.LastError == "" && j.LastSuccess.IsZero() && j.Status == "" && !j.Vanished && !j.Dropped
}

type statusCount struct {
	Status string
	N      int
}

// maxRows bounds the table: an exporter watching 100,000 jobs must not render a 50 MB page. Failed and
// failing jobs are shown first since they are what a person comes to look at.
const maxRows = 500

// LandingHandler serves "/": links, a summary by status and the watched-jobs table.
func (p *Pages) LandingHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		now := p.now()
		jobs := p.Jobs()
		d := landingData{Pages: p, Total: len(jobs), Rendered: now, PullKnown: p.LastPull != nil}
		if p.LastPull != nil {
			if t := p.LastPull(); !t.IsZero() {
				d.PulledAgo, d.PulledAt = age(now.Sub(t))+" ago", t.UTC().Format(time.RFC3339)
			}
		}
		d.Sources, d.Credentials, d.Failures = p.statusRows(now)
		counts := map[string]int{}
		for i, j := range jobs {
			// Lifecycle states the API does not have, named so the table cannot pass them for a live status.
			switch {
			case j.Dropped:
				j.Status = "DROPPED (unknown to the API)"
			case j.Vanished:
				j.Status = "VANISHED (last " + j.Status + ")"
				j.EndTime = j.LastSuccess
			}
			jobs[i] = j
			st := j.Status
			switch {
			case notQueried(j):
				// Counted apart: "UNKNOWN" would read as an answer.
				d.NotQueried++
				continue
			case !j.QuerySuccess:
				d.Failing++
			}
			if st == "" {
				st = "UNKNOWN"
			}
			counts[st]++
		}
		for st, n := range counts {
			d.Counts = append(d.Counts, statusCount{st, n})
		}
		sort.Slice(d.Counts, func(i, k int) bool { return d.Counts[i].Status < d.Counts[k].Status })
		// A stable order by rank, in one pass: rank has four values, and a comparison sort called rank
		// (two JobState copies) O(n log n) times per page view of 100,000 jobs.
		var byRank [4][]collector.JobState
		for _, j := range jobs {
			r := rank(j)
			byRank[r] = append(byRank[r], j)
		}
		jobs = slices.Concat(byRank[:]...)
		for i, j := range jobs {
			if i == maxRows {
				break
			}
			row := jobRow{JobState: j, NotQueried: notQueried(j)}
			if !j.BeginTime.IsZero() {
				end := j.EndTime
				if end.IsZero() {
					end = now
					row.Running = j.Status != "SUCCESS" && j.Status != "FAIL" && !j.Vanished && !j.Dropped
				}
				row.Started = age(now.Sub(j.BeginTime))
				row.RunTime = age(end.Sub(j.BeginTime))
			}
			d.Jobs = append(d.Jobs, row)
		}
		render(w, "landing.html", d)
	})
}

// ConfigHandler serves "/config": the loaded configuration with secrets shown as <secret>. A browser
// gets the page; curl and scripts get the YAML itself as text/plain (?format=yaml, or an Accept header
// that does not ask for HTML), so `curl /config > running.yml` gives a file.
func (p *Pages) ConfigHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wantsYAML(r) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, p.Config())
			return
		}
		render(w, "config.html", struct {
			*Pages
			Text string
		}{p, p.Config()})
	})
}

func wantsYAML(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "yaml", "text":
		return true
	case "html":
		return false
	}
	accept := r.Header.Get("Accept")
	return !strings.Contains(accept, "text/html") && !strings.Contains(accept, "application/xhtml")
}

func render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplates.ExecuteTemplate(w, name, data); err != nil {
		http.Error(w, "rendering page: "+err.Error(), http.StatusInternalServerError)
	}
}

func (p *Pages) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// rank orders the table: failing queries, failed jobs, unfinished jobs, then the rest (jobs not asked
// yet among the unfinished).
func rank(j collector.JobState) int {
	switch {
	case !j.QuerySuccess && !notQueried(j):
		return 0
	case j.Status == "FAIL" || j.SubJobsFail > 0 || j.Vanished:
		return 1
	case j.Status != "SUCCESS":
		return 2
	default:
		return 3
	}
}

func age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return d.Truncate(time.Second).String()
}

func statusClass(s string) string {
	switch s {
	case "SUCCESS":
		return "ok"
	case "FAIL":
		return "fail"
	case "RUNNING", "INIT":
		return "run"
	case "PENDING_PAYMENT":
		return "wait"
	default:
		return "unknown"
	}
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
