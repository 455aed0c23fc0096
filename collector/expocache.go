package collector

import (
	"bytes"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// The exposition of each family is cut into segments, so that a change to one job rebuilds a small part
// of it: the unfinished jobs (liveSegment: they are queried, their run time grows with the clock), and the
// jobs that are done with (finished, vanished, dropped) spread over stableBuckets buckets by a hash of their
// key. At 10,000 jobs with 1,000 unfinished, a pull formats and compresses the 1,000 live jobs' run times
// and copies everything else, where one part per family made every pull format the run times of all
// 10,000 and every cycle rebuild the last-query family of all 10,000. A job that finishes moves from the
// live segment into its bucket, rebuilding the two (about 1/64 of the finished jobs each).
const (
	stableBuckets = 64
	liveSegment   = stableBuckets
	numSegments   = stableBuckets + 1
)

// bucketOf is the stable bucket of a job key: the top bits of its FNV-1a hash after a finalizer
// (MurmurHash3's fmix64). FNV-1a alone leaves the top bits of keys that differ in their last characters,
// as job ids of one batch do, in a few buckets (a test found 0 to 672 of 10,000 per bucket); the shard
// filter takes the low bits, modulo the shard count, which the finalizer leaves independent of these.
func bucketOf(key string) uint8 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return uint8(h >> 58) // 0..63
}

// live tells whether the job is unfinished as far as the exporter knows: it may still be queried, and
// its samples may change without any answer (the run time). Everything else is final until retired.
func (e *entry) live() bool {
	return !e.retired && !e.vanished && !e.dropped && (e.job == nil || !e.job.Final())
}

// segment is the part of each family's exposition the entry's samples are in.
func (e *entry) segment() int {
	if e.live() {
		return liveSegment
	}
	return int(e.bucket)
}

// famVersions counts, per family (index) and segment, the changes that can change its samples. Guarded by
// Collector.mu.
type famVersions [16][numSegments]uint64

func (v *famVersions) bumpAll() {
	for f := range v {
		for s := range v[f] {
			v[f][s]++
		}
	}
}

func (v *famVersions) bumpSegment(s int) {
	for f := range v {
		v[f][s]++
	}
}

// jobFamilies are the families whose samples come from the job's answer (jobSamples); set by init, once
// every family is declared.
var jobFamilies []*family

// changed bumps the families whose samples may differ between the entry as it was (old) and as it is
// (e), in the segments it was and is in, and tells whether it moved to another segment; called with
// Collector.mu held, after record changed e.
func (v *famVersions) changed(e *entry, old entry) (moved bool) {
	s, was := e.segment(), old.segment()
	if s != was || e.vanished != old.vanished || e.dropped != old.dropped || e.retired != old.retired {
		v.bumpSegment(s)
		v.bumpSegment(was)
		return s != was
	}
	if e.ok != old.ok {
		v[querySuccessFam.index][s]++
	}
	if e.lastSuccess != old.lastSuccess {
		v[lastQueryFam.index][s]++
	}
	if e.job != old.job && !sameSamples(e.job, old.job) {
		for _, f := range jobFamilies {
			v[f.index][s]++
		}
	}
	return false
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

// familyCache keeps each segment of each family (header excluded), compressed as one gzip member, with
// the version of the samples it was made from. Two Prometheus replicas pull the same state, and most
// segments do not change from one pull to the next: a pull copies the unchanged ones and formats and
// compresses only the others, where formatting and compressing every line was about a third of the
// exporter's CPU. The run time (duration_seconds) of an unfinished job grows with the clock, so that
// family's live segment is always written afresh. A gzip stream may be a series of members (RFC 1952,
// 2.2); Go's gzip.Reader, which Prometheus' scrape loop uses, reads it as one stream by default.
//
// It holds about the compressed answer (a few percent of the uncompressed one), never the text.
type familyCache struct {
	parts [len(famVersions{})][numSegments]familyPart
	// builds counts the parts made, for tests.
	builds struct {
		sync.Mutex
		n int
	}
}

// cachedMember is a segment's gzip member (nil: no samples) made from the samples at version ver. It is
// never changed once stored, so a pull may hold it without a lock.
type cachedMember struct {
	ver uint64
	gz  []byte
}

type familyPart struct {
	mu  sync.Mutex // held while the part is made, so that a concurrent pull waits and copies it
	cur atomic.Pointer[cachedMember]
}

// pin stores in pinned the cached members of segment s of every family, when each is at its version in
// ver, and tells whether they all were: then the pull needs no view of the segment's jobs.
func (fc *familyCache) pin(s int, ver *famVersions, pinned *[len(famVersions{})][numSegments]*cachedMember) bool {
	for _, f := range families {
		m := fc.parts[f.index][s].cur.Load()
		if m == nil || m.ver != ver[f.index][s] {
			return false
		}
		pinned[f.index][s] = m
	}
	return true
}

// member returns segment s of family f for the views, whose samples are at version ver, making it when
// the cached one is older.
//
// gz compresses it: the answer's own writer, idle between members, so that a pull holds one compressor.
func (fc *familyCache) member(f *family, s int, ver uint64, views []jobView, gz *gzip.Writer) []byte {
	p := &fc.parts[f.index][s]
	if m := p.cur.Load(); m != nil && m.ver == ver {
		return m.gz
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := p.cur.Load(); m != nil && m.ver >= ver {
		if m.ver == ver {
			return m.gz
		}
		// A newer pull made it already; this older view is served without caching.
		return buildMember(f, views, gz, false)
	}
	m := &cachedMember{ver: ver, gz: buildMember(f, views, gz, false)}
	p.cur.Store(m)
	fc.builds.Lock()
	fc.builds.n++
	fc.builds.Unlock()
	return m.gz
}

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
