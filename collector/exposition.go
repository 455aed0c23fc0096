package collector

import (
	"io"
	"math"
	"strconv"
	"sync"
)

// baseLabels is the number of labels every job sample starts with: service, region, project_id, job_id
// and (for job families) job_type.
const baseLabels = 5

// WriteText writes the job metrics in the Prometheus text format 0.0.4.
//
// It is the fast path of /metrics, the way kube-state-metrics writes its object metrics: 10,000 watched
// jobs are about 150,000 series, and building a const metric, a protobuf message and a registry
// consistency check for each costs several times the 50 ms of CPU per scrape we allow ourselves. The
// samples come from the same eachSample as Collect, and the golden tests compare both outputs, so the
// fast path cannot drift from the prometheus.Collector.
//
// Families are written one after the other but samples arrive job by job, so each family collects its
// lines in a chain of fixed-size chunks: no buffer ever grows by copying, and chunks go back to a pool.
// A job's base label values are escaped once, not once per sample.
func (c *Collector) WriteText(w io.Writer) error {
	fams := make([]chunks, len(families))
	var esc [baseLabels][]byte
	c.eachSample(func(base []string) {
		for i, v := range base {
			esc[i] = appendEscaped(esc[i][:0], v)
		}
	}, func(f *family, lv []string, v float64) {
		b := fams[f.index].reserve()
		b = append(b, f.name...)
		b = append(b, '{')
		for i, li := range f.order {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, f.labels[li]...)
			b = append(b, '=', '"')
			if li < baseLabels {
				b = append(b, esc[li]...)
			} else {
				b = appendEscaped(b, lv[li])
			}
			b = append(b, '"')
		}
		b = append(b, '}', ' ')
		b = appendFloat(b, v)
		fams[f.index].commit(append(b, '\n'))
	})
	var err error
	var hdr []byte
	for _, f := range families {
		fc := &fams[f.index]
		if err == nil && len(fc.list) > 0 {
			hdr = append(hdr[:0], "# HELP "...)
			hdr = append(hdr, f.name...)
			hdr = append(hdr, ' ')
			hdr = appendHelp(hdr, f.help)
			hdr = append(hdr, "\n# TYPE "...)
			hdr = append(hdr, f.name...)
			hdr = append(hdr, " gauge\n"...)
			_, err = w.Write(hdr)
			for _, ch := range fc.list {
				if err == nil {
					_, err = w.Write(*ch)
				}
			}
		}
		fc.release()
	}
	return err
}

const (
	chunkSize = 64 << 10
	// maxLine is the room a sample line is given; label values are cut well below it, and a longer
	// line still works (append grows that one chunk).
	maxLine = 4 << 10
)

var chunkPool = sync.Pool{New: func() any {
	b := make([]byte, 0, chunkSize)
	return &b
}}

// chunks is one family's lines.
type chunks struct{ list []*[]byte }

// reserve returns the tail of the last chunk, starting a new one when less than maxLine is left.
func (c *chunks) reserve() []byte {
	if n := len(c.list); n > 0 {
		if last := *c.list[n-1]; cap(last)-len(last) >= maxLine {
			return last
		}
	}
	b := chunkPool.Get().(*[]byte)
	*b = (*b)[:0]
	c.list = append(c.list, b)
	return *b
}

// commit records the chunk as extended by a line appended to reserve's result.
func (c *chunks) commit(b []byte) { *c.list[len(c.list)-1] = b }

func (c *chunks) release() {
	for _, b := range c.list {
		if cap(*b) <= 2*chunkSize {
			chunkPool.Put(b)
		}
	}
	c.list = nil
}

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
