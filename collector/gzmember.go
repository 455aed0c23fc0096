package collector

import (
	"bytes"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// A gzip stream may be a series of members (RFC 1952, 2.2); Go's gzip.Reader, which Prometheus' scrape
// loop uses, reads it as one stream by default. The gzip answer to Prometheus is such a series: each
// family's header and each of its parts (expoCache) a member of its own, so that a cached part is copied
// as it is. Members hold about the compressed answer (a few percent of the uncompressed one), never the
// text.

var memberBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// buildMember renders family f of the views, with its header if header is set, and compresses it as one
// gzip member; nil when the views have no samples of f.
func buildMember(f *family, views []jobView, gz *gzip.Writer, header bool) []byte {
	buf := memberBufs.Get().(*bytes.Buffer)
	defer memberBufs.Put(buf)
	buf.Reset()
	gz.Reset(buf)
	bp := linePool.Get().(*[]byte)
	defer linePool.Put(bp)
	out := &lineWriter{w: gz, b: (*bp)[:0]}
	if header {
		out.header(f)
	} else if !writeSamples(out, f, views, make([]string, baseLabels, 8)) {
		*bp = out.b[:0]
		return nil
	}
	// Writes to a bytes.Buffer do not fail.
	_ = out.flush()
	*bp = out.b[:0]
	_ = gz.Close()
	return slices.Clone(buf.Bytes()) // exactly its size: it is kept until the segment changes
}

// headerMembers are the HELP and TYPE lines of each family as a gzip member of their own: a family's
// header goes before its first segment with samples, whichever that is.
var headerMembers = sync.OnceValue(func() [][]byte {
	gz, _ := gzip.NewWriterLevel(nil, gzipLevel)
	out := make([][]byte, len(families))
	for _, f := range families {
		out[f.index] = buildMember(f, nil, gz, true)
	}
	return out
})

// gzStream writes a gzip answer as a series of members: what is written to it is compressed into a member
// that is closed when a cached member is copied in after it (raw), or at Close.
type gzStream struct {
	w     io.Writer
	gz    *gzip.Writer
	open  bool // gz has a member started
	wrote bool // any member was written
}

func (z *gzStream) Write(p []byte) (int, error) {
	if !z.open {
		z.gz.Reset(z.w)
		z.open, z.wrote = true, true
	}
	return z.gz.Write(p)
}

// end ends the member being written, if any, so that z.gz is free until the next Write.
func (z *gzStream) end() error {
	if !z.open {
		return nil
	}
	z.open = false
	return z.gz.Close()
}

// raw ends the member being written, if any, and writes the complete member m.
func (z *gzStream) raw(m []byte) error {
	if err := z.end(); err != nil {
		return err
	}
	z.wrote = true
	_, err := z.w.Write(m)
	return err
}

// Close ends the stream; an answer with nothing in it is still one (empty) member.
func (z *gzStream) Close() error {
	if !z.wrote {
		z.gz.Reset(z.w)
		z.open, z.wrote = true, true
	}
	if !z.open {
		return nil
	}
	z.open = false
	return z.gz.Close()
}
