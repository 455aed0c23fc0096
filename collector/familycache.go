package collector

import (
	"bytes"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// famVersions counts, per family (index), the changes that can change its samples. Guarded by
// Collector.mu.
type famVersions [16]uint64

func (v *famVersions) bumpAll() {
	for i := range v {
		v[i]++
	}
}

// jobFamilies are the families whose samples come from the job's answer (jobSamples); set by init, once
// every family is declared.
var jobFamilies []*family

// changed bumps the families whose samples may differ between the entry as it was (old) and as it is
// (e); called with Collector.mu held, after record changed e.
func (v *famVersions) changed(e *entry, old entry) {
	if e.vanished != old.vanished || e.dropped != old.dropped || e.retired != old.retired {
		v.bumpAll()
		return
	}
	if e.ok != old.ok {
		v[querySuccessFam.index]++
	}
	if e.lastSuccess != old.lastSuccess {
		v[lastQueryFam.index]++
	}
	if e.job != old.job && !sameSamples(e.job, old.job) {
		for _, f := range jobFamilies {
			v[f.index]++
		}
	}
}

// sameSamples tells whether two answers give the same samples: it compares every field that jobSamples
// reads. It may say no for answers with the same samples (that only costs a rebuild), never yes for
// answers without.
func sameSamples(a, b *huaweicloud.Job) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Status == b.Status && a.JobType == b.JobType && a.BeginTime.Equal(b.BeginTime) &&
		a.BeginTime.IsZero() == b.BeginTime.IsZero() && a.EndTime.Equal(b.EndTime) &&
		a.EndTime.IsZero() == b.EndTime.IsZero() && a.ErrorCode == b.ErrorCode && a.FailReason == b.FailReason &&
		a.ResourceID == b.ResourceID && a.SubJobsTotal == b.SubJobsTotal && a.Progress == b.Progress &&
		a.HasProgress == b.HasProgress && slices.EqualFunc(a.SubJobs, b.SubJobs, func(x, y huaweicloud.SubJob) bool {
		return x.Status == y.Status && x.ErrorCode == y.ErrorCode && x.FailReason == y.FailReason && x.ResourceID == y.ResourceID
	})
}

// familyCache keeps each family's part of the gzip answer (header and samples), compressed as one gzip
// member, with the version of the family's samples it was made from. Two Prometheus replicas pull the
// same state, and most families do not change from one pull to the next (the answer of an unfinished job
// that is still running changes only its last_query_timestamp): a pull copies the unchanged families
// and formats and compresses only the others, where formatting and compressing every line was about a
// third of the exporter's CPU. The run time (duration_seconds) of an unfinished job grows with the clock,
// so that family is always written afresh. A gzip stream may be a series of members (RFC 1952, 2.2);
// Go's gzip.Reader, which Prometheus' scrape loop uses, reads it as one stream by default.
//
// It holds about the compressed answer (a few percent of the uncompressed one), never the text.
type familyCache struct {
	fams [len(famVersions{})]familyPart
	// builds counts the parts made, for tests.
	builds struct {
		sync.Mutex
		n int
	}
}

type familyPart struct {
	mu     sync.Mutex // held while the part is made, so that a concurrent pull waits and copies it
	ver    uint64
	valid  bool
	member []byte // nil: the family has no samples
}

// member returns family f's gzip member for the views, whose samples are at version ver, making it when
// the cached one is older.
//
// gz compresses it: the answer's own writer, idle between members, so that a pull holds one compressor.
func (fc *familyCache) member(f *family, ver uint64, views []jobView, gz *gzip.Writer) []byte {
	p := &fc.fams[f.index]
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.valid && p.ver == ver {
		return p.member
	}
	if p.valid && p.ver > ver {
		// A newer pull made it already; this older view is served without caching.
		return buildMember(f, views, gz)
	}
	p.member, p.ver, p.valid = buildMember(f, views, gz), ver, true
	fc.builds.Lock()
	fc.builds.n++
	fc.builds.Unlock()
	return p.member
}

var memberBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// buildMember renders family f of the views, with its header, and compresses it as one gzip member.
func buildMember(f *family, views []jobView, gz *gzip.Writer) []byte {
	buf := memberBufs.Get().(*bytes.Buffer)
	defer memberBufs.Put(buf)
	buf.Reset()
	gz.Reset(buf)
	bp := linePool.Get().(*[]byte)
	defer linePool.Put(bp)
	out := &lineWriter{w: gz, b: (*bp)[:0]}
	if !writeFamily(out, f, views, make([]string, baseLabels, 8)) {
		*bp = out.b[:0]
		return nil
	}
	// Writes to a bytes.Buffer do not fail.
	_ = out.flush()
	*bp = out.b[:0]
	_ = gz.Close()
	return slices.Clone(buf.Bytes()) // exactly its size: it is kept until the family changes
}

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

func init() {
	if len(families) > len(famVersions{}) {
		panic("collector: famVersions has fewer slots than there are families")
	}
	for _, f := range families {
		if f != querySuccessFam && f != lastQueryFam {
			jobFamilies = append(jobFamilies, f)
		}
	}
}
