package collector

import (
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
)

// WriteText writes the job metrics in the Prometheus text format 0.0.4.
//
// It is the fast path of /metrics, the way kube-state-metrics writes its object metrics: 10,000 watched
// jobs are about 120,000 series, and building a const metric, a protobuf message and a registry
// consistency check for each costs several times the 50 ms of CPU per scrape we allow ourselves. The
// samples come from the same eachSample as Collect, and the golden tests compare both outputs, so the
// fast path cannot drift from the prometheus.Collector.
func (c *Collector) WriteText(w io.Writer) error {
	bp := textBufs.Get().(*[][]byte)
	bufs := *bp
	for i := range bufs {
		bufs[i] = bufs[i][:0]
	}
	c.eachSample(func(f *family, lv []string, v float64) {
		b := append(bufs[f.index], f.name...)
		b = append(b, '{')
		for i, li := range f.order {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, f.labels[li]...)
			b = append(b, '=', '"')
			b = appendEscaped(b, lv[li], true)
			b = append(b, '"')
		}
		b = append(b, '}', ' ')
		b = appendFloat(b, v)
		bufs[f.index] = append(b, '\n')
	})
	var err error
	var hdr []byte
	for _, f := range families {
		if len(bufs[f.index]) == 0 {
			continue
		}
		hdr = append(hdr[:0], "# HELP "...)
		hdr = append(hdr, f.name...)
		hdr = append(hdr, ' ')
		hdr = appendEscaped(hdr, f.help, false)
		hdr = append(hdr, "\n# TYPE "...)
		hdr = append(hdr, f.name...)
		hdr = append(hdr, " gauge\n"...)
		if _, err = w.Write(hdr); err != nil {
			break
		}
		if _, err = w.Write(bufs[f.index]); err != nil {
			break
		}
	}
	// Very large buffers are not kept: one scrape of a huge watch set should not pin its memory forever.
	for i := range bufs {
		if cap(bufs[i]) > 8<<20 {
			bufs[i] = nil
		}
	}
	textBufs.Put(bp)
	return err
}

var textBufs = sync.Pool{New: func() any {
	b := make([][]byte, len(families))
	return &b
}}

// appendEscaped escapes as the text format requires: backslash and newline always, double quotes in
// label values.
func appendEscaped(b []byte, s string, quote bool) []byte {
	if !strings.ContainsAny(s, "\\\n\"") {
		return append(b, s...)
	}
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
