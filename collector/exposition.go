package collector

import (
	"io"
	"math"
	"strconv"
	"sync"
)

// WriteText writes the job metrics in the Prometheus text format 0.0.4.
//
// It is the fast path of /metrics, the way kube-state-metrics writes its object metrics: 10,000 watched
// jobs are about 150,000 series, and building a const metric, a protobuf message and a registry
// consistency check for each costs several times the CPU of writing the lines. The samples come from the
// same jobView.samples as Collect, and the golden tests compare both outputs, so the fast path cannot
// drift from the prometheus.Collector.
//
// The answer is streamed through one bounded buffer, never held whole: ~2.9 KB per job uncompressed,
// 29 MB at 10,000 jobs, which buffered per answer made the process' memory grow with the answer rather
// than with the jobs. The text format wants each family's samples together while a job yields samples of
// every family, so the jobs are walked once per family, from a view of them taken once under the lock
// (about 130 bytes per job, pooled); walking a view costs far less than keeping the lines.
func (c *Collector) WriteText(w io.Writer) error { return c.writeText(w, nil) }

// writeText is WriteText, or with z (then w is z) the gzip answer for a reader of gzip member series: each
// family's header and parts as members, the parts copied from the exposition cache (expoCache) when their
// samples did not change since they were made.
func (c *Collector) writeText(w io.Writer, z *gzStream) error {
	vs := c.expo.viewSet()
	defer c.expo.releaseViews(vs)
	if z != nil {
		c.views(vs, true)
		return c.expo.write(z, vs)
	}
	c.views(vs, false)
	bp := linePool.Get().(*[]byte)
	defer linePool.Put(bp)
	out := &lineWriter{w: w, b: (*bp)[:0]}
	defer func() { *bp = out.b[:0] }()
	lv := make([]string, baseLabels, 8) // base values stay empty: sample writes them from the job's jobIdent
	for _, f := range families {
		// The views are in segment order, so the text is the same as the members' (tests compare them).
		if writeFamily(out, f, vs.views, lv); out.err != nil {
			return out.err
		}
	}
	return out.flush()
}

// writeFamily writes family f of the views, with its header if it has samples, and tells whether it had.
func writeFamily(out *lineWriter, f *family, views []jobView, lv []string) bool {
	return writeLines(out, f, views, lv, true)
}

// writeSamples writes the samples of family f of the views, without header, and tells whether it had any.
func writeSamples(out *lineWriter, f *family, views []jobView, lv []string) bool {
	return writeLines(out, f, views, lv, false)
}

func writeLines(out *lineWriter, f *family, views []jobView, lv []string, header bool) bool {
	started := false
	emit := func(f *family, lv []string, v float64) {
		if !started {
			started = true
			if header {
				out.header(f)
			}
		}
		out.sample(f, lv, v)
	}
	for i := range views {
		out.id = views[i].id
		views[i].samples(lv, f, emit)
		if out.err != nil {
			return started
		}
	}
	return started
}

// flushAt is the size at which the line buffer is handed to the writer: large enough that gzip and the
// connection see few, big writes, small enough to be nothing next to the jobs themselves.
const flushAt = 32 << 10

var (
	linePool = sync.Pool{New: func() any { b := make([]byte, 0, flushAt+4<<10); return &b }}
)

// lineWriter formats sample lines into b and hands b to w whenever it holds flushAt bytes.
type lineWriter struct {
	w   io.Writer
	b   []byte
	err error
	id  *jobIdent // the job whose samples are being written
}

func (l *lineWriter) header(f *family) {
	l.b = append(l.b, "# HELP "...)
	l.b = append(l.b, f.name...)
	l.b = append(l.b, ' ')
	l.b = appendHelp(l.b, f.help)
	l.b = append(l.b, "\n# TYPE "...)
	l.b = append(l.b, f.name...)
	l.b = append(l.b, " gauge\n"...)
}

func (l *lineWriter) sample(f *family, lv []string, v float64) {
	b := append(l.b, f.name...)
	b = append(b, '{')
	for i, it := range f.plan {
		if i > 0 {
			b = append(b, ',')
		}
		if it.label < 0 {
			b = append(b, l.id.segment(it.from, it.to)...)
			continue
		}
		b = append(b, f.labels[it.label]...)
		b = append(b, '=', '"')
		b = appendEscaped(b, lv[it.label])
		b = append(b, '"')
	}
	b = append(b, '}', ' ')
	b = appendFloat(b, v)
	l.b = append(b, '\n')
	if len(l.b) >= flushAt && l.err == nil {
		l.err = l.flush()
	}
}

func (l *lineWriter) flush() error {
	if l.err != nil {
		return l.err
	}
	_, err := l.w.Write(l.b)
	l.b = l.b[:0]
	return err
}

// baseLabels is the number of labels every job sample starts with: service, region, project_id, job_id
// and (for job families) job_type.
const baseLabels = 5

// appendEscaped escapes a label value as the text format requires: backslash, double quote, newline.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if ch := s[i]; ch == '\\' || ch == '"' || ch == '\n' {
			return appendEscapedSlow(b, s, true)
		}
	}
	return append(b, s...)
}

// appendHelp escapes HELP text: backslash and newline only.
func appendHelp(b []byte, s string) []byte { return appendEscapedSlow(b, s, false) }

func appendEscapedSlow(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\\':
			b = append(b, '\\', '\\')
		case ch == '\n':
			b = append(b, '\\', 'n')
		case ch == '"' && quote:
			b = append(b, '\\', '"')
		default:
			b = append(b, ch)
		}
	}
	return b
}

// appendFloat formats like expfmt.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case f == 1:
		return append(b, '1')
	case f == 0:
		return append(b, '0')
	case f == -1:
		return append(b, '-', '1')
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, +1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}
