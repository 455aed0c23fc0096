package collector

import (
	"hash/maphash"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
)

// expoCache keeps the gzip answer to Prometheus as parts that a pull copies when they did not change, the
// way kube-state-metrics keeps each object's rendered series: two Prometheus replicas pull the same
// state, and formatting and compressing every line was about a third of the exporter's CPU.
//
// The answer is cut into parts: one per family and segment. A segment is a set of jobs: the unfinished
// ones (liveSegment: they are queried, their run time grows with the clock), and the jobs that are done
// with (finished, vanished, dropped, retired) spread over stableBuckets buckets by a hash of their key.
// At 10,000 jobs with 1,000 unfinished, a pull formats and compresses the 1,000 live jobs' run times and
// copies everything else; a job that finishes moves from the live segment into its bucket, rebuilding the
// two (about 1/64 of the finished jobs each).
//
// Invariants. Everything but the parts is guarded by Collector.mu.
//
//  1. Segments. segs lists every entry of Collector.order in segment e.segment(), in key order, unless
//     dirty is set; then the next segments() rebuilds it. Anything that may change an entry's segment
//     (changed, reset) sets dirty.
//  2. Versions. The bytes of part (f, s) are a function of the samples of family f of the exported jobs
//     of segment s, in key order, as jobView.samples gives them; only clockBound parts also depend on
//     the time of the pull, and those are never cached. ver[f][s] changes whenever those samples may
//     have changed. Versions change in two places only, both here: changed, which compares the
//     samples of one job before and after a change by their hash (samplePrint, taken from the same
//     view and jobView.samples the answer is written from: a field of the answer that a sample shows
//     is in the hash without being named here), and reset, when jobs join or leave the watch.
//     Whoever changes an entry's exported state does it through Collector.changed (record) or here
//     (retire): there is no other writer of entries' exported fields.
//  3. Parts. A cached member (ver, gz) is never changed once stored; it is valid for a pull that saw
//     version ver of its part. A stable segment whose parts are all valid is pinned by the pull: its
//     jobs are not looked at.
//  4. Retirement is a change of state like an answer: retire, in the refresh path, sets it and accounts
//     it. A pull (views, write) only reads: it never changes an entry's exported state or a version.
//  5. oldestFinal[s] is at most the finalAt of every exported job of segment s (MaxInt64: none), so that
//     retire looks only into the segments where a job may be due.
type expoCache struct {
	ver  versions
	segs [numSegments][]*entry
	// dirty: segs must be rebuilt (invariant 1).
	dirty       bool
	oldestFinal [numSegments]int64

	// The keys of the prints' hash, and printOf's scratch space, guarded by Collector.mu: a print costs
	// no allocation.
	seed    maphash.Seed
	keys    [2]uint64
	lv      [8]string
	scratch samplePrint
	hashFn  func(f *family, lv []string, v float64)

	// spare holds a few view sets: each is about 20 KB plus 40 bytes per job, and a sync.Pool, emptied
	// by every other garbage collection, made one per pull. Two Prometheus replicas and a curl at once; a
	// fourth pull makes its own.
	spare chan *viewSet

	parts [numFamilies][numSegments]familyPart
	// builds counts the parts made, for tests.
	builds struct {
		sync.Mutex
		n int
	}
}

const (
	stableBuckets = 64
	liveSegment   = stableBuckets
	numSegments   = stableBuckets + 1
)

// versions counts, per family (index) and segment, the changes that may change the part's samples.
type versions [numFamilies][numSegments]uint64

func newExpoCache() *expoCache {
	x := &expoCache{spare: make(chan *viewSet, 3)}
	for s := range x.oldestFinal {
		x.oldestFinal[s] = math.MaxInt64
	}
	x.seed = maphash.MakeSeed()
	x.keys = [2]uint64{maphash.String(x.seed, "k0"), maphash.String(x.seed, "k1")}
	x.hashFn = x.hashSample
	return x
}

// clockBound tells whether part (f, s) depends on the time of the pull: the run time of an unfinished
// job grows with the clock. Such a part is written afresh by every pull, never cached.
func clockBound(f *family, s int) bool { return f == durationFam && s == liveSegment }

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

// exported tells whether the job is in the answer.
func (e *entry) exported() bool { return !e.retired && !e.dropped }

// segment is the part of each family's exposition the entry's samples are in.
func (e *entry) segment() int {
	if e.live() {
		return liveSegment
	}
	return int(e.bucket)
}

// samplePrint is what the answer says of one job: its segment and, per family, a hash of its samples
// (0: none) other than the clockBound ones. Two prints of one entry are equal when its samples are (a
// chance of 2^-63 per comparison aside); they may differ for samples that write the same bytes (NaN
// payloads, -0), which only costs a rebuild.
type samplePrint struct {
	seg  int
	sums [numFamilies]uint64
}

// keyLabels is the number of label values every sample starts with that are the job's key (service,
// region, project_id, job_id): the same in every print of one entry, so not hashed.
const keyLabels = 4

// printOf returns e's print, from the view a pull writes (entry.view, jobView.samples); with
// Collector.mu held (it hashes in the cache's scratch space).
func (x *expoCache) printOf(e *entry) samplePrint {
	x.scratch = samplePrint{seg: e.segment()}
	if !e.exported() {
		return x.scratch
	}
	v := e.view(0) // the time of the pull reaches clockBound samples only, which are not hashed
	lv := x.lv[:baseLabels]
	clear(lv[:keyLabels])
	lv[keyLabels] = ""
	if e.job != nil {
		lv[keyLabels] = e.job.JobType
	}
	v.samples(lv, nil, x.hashFn)
	return x.scratch
}

// hashSample adds one sample to the print being taken: its label values past the key and its value,
// chained after the family's earlier samples, so that their order counts too.
func (x *expoCache) hashSample(f *family, lv []string, v float64) {
	if clockBound(f, x.scratch.seg) {
		return
	}
	acc := x.scratch.sums[f.index]
	for _, s := range lv[keyLabels:] {
		acc = x.chain(acc, maphash.String(x.seed, s))
	}
	x.scratch.sums[f.index] = x.chain(acc, math.Float64bits(v)) | 1 // never 0, which says "no samples"
}

// chain folds word w into the hash acc: wyhash's multiply-fold with keys of this process, so that no
// answer can aim at a collision.
func (x *expoCache) chain(acc, w uint64) uint64 {
	hi, lo := bits.Mul64(acc^x.keys[0], w^x.keys[1])
	return hi ^ lo
}

// changed accounts a change of e, whose print was before: every part whose samples differ gets a new
// version (invariant 2), and the segments are rebuilt if e moved. With Collector.mu held.
func (x *expoCache) changed(e *entry, before samplePrint) {
	after := x.printOf(e)
	if after.seg != before.seg {
		x.dirty = true
	}
	if e.exported() && e.finalAt != 0 {
		x.oldestFinal[after.seg] = min(x.oldestFinal[after.seg], e.finalAt)
	}
	for f := range numFamilies {
		switch {
		case after.seg == before.seg:
			if after.sums[f] != before.sums[f] {
				x.ver[f][after.seg]++
			}
		default: // it left one segment for another: both lose or gain its samples
			if before.sums[f] != 0 {
				x.ver[f][before.seg]++
			}
			if after.sums[f] != 0 {
				x.ver[f][after.seg]++
			}
		}
	}
}

// reset accounts a change of the watch set (jobs joined or left it, a dropped job is watched again):
// every part is made again and the segments are rebuilt. With Collector.mu held.
func (x *expoCache) reset() {
	for f := range x.ver {
		for s := range x.ver[f] {
			x.ver[f][s]++
		}
	}
	x.dirty = true
}

// retire retires the exported jobs that outlived ttl at now, looking only into the segments where one may
// be due (invariant 5), and accounts each. With Collector.mu held.
func (x *expoCache) retire(order []*entry, now time.Time, ttl time.Duration) {
	nowNs := unixNanos(now)
	segs := x.segments(order)
	for s := range numSegments {
		if nowNs-x.oldestFinal[s] < int64(ttl) {
			continue
		}
		oldest := int64(math.MaxInt64)
		for _, e := range segs[s] {
			switch {
			case !e.exported():
			case e.expired(now, ttl):
				before := x.printOf(e)
				e.retired = true
				x.changed(e, before)
			case e.finalAt != 0:
				oldest = min(oldest, e.finalAt)
			}
		}
		x.oldestFinal[s] = oldest
	}
}

// segments returns the entries of each segment in key order (invariant 1); with Collector.mu held.
func (x *expoCache) segments(order []*entry) *[numSegments][]*entry {
	if x.dirty {
		for s := range x.segs {
			clear(x.segs[s])
			x.segs[s] = x.segs[s][:0]
		}
		for _, e := range order {
			s := e.segment()
			x.segs[s] = append(x.segs[s], e)
		}
		x.dirty = false
	}
	return &x.segs
}

// viewSet is what one pull sees of the jobs: the views of each segment it made (views[start[s]:start[s+1]]),
// and for the stable segments it did not look into, the cached members of every family (pinned), taken
// under the same lock so that the answer is one moment's state.
type viewSet struct {
	views  []jobView
	start  [numSegments + 1]int
	made   [numSegments]bool
	pinned [numFamilies][numSegments]*cachedMember
	ver    versions // versions of the parts the views have
}

func (vs *viewSet) segment(s int) []jobView { return vs.views[vs.start[s]:vs.start[s+1]] }

// views fills vs with a view of every exported job at nowNs, segment by segment and in key order within
// each. With pin (the gzip answer for Prometheus), a stable segment whose parts are all cached at their
// current version is pinned instead of viewed (invariant 3). With Collector.mu held.
func (x *expoCache) views(vs *viewSet, order []*entry, nowNs int64, pin bool) {
	segs := x.segments(order)
	vs.views = vs.views[:0]
	for s := range numSegments {
		vs.start[s] = len(vs.views)
		if pin && s != liveSegment && x.pin(s, &vs.pinned) {
			vs.made[s] = false
			continue
		}
		vs.made[s] = true
		for _, e := range segs[s] {
			if !e.exported() {
				continue
			}
			v := e.view(nowNs)
			jobType := ""
			if e.job != nil {
				jobType = e.job.JobType
			}
			v.id = e.ident
			if v.id == nil || v.id.jobType != jobType {
				v.id = newJobIdent(e.watched(), jobType)
			}
			// The rendered labels are kept for the live jobs, whose samples are written every pull; a
			// finished job's are made again when its segment is, which is rare, and not kept: at 10,000
			// jobs that is 1.5 MB the process need not hold. (A change of job type changes the samples,
			// so the versions changed already.)
			if s == liveSegment {
				e.ident = v.id
			} else {
				e.ident = nil
			}
			v.fams = v.families()
			vs.views = append(vs.views, v)
		}
	}
	vs.start[numSegments] = len(vs.views)
	vs.ver = x.ver
}

// viewSet returns a view set from the spares, or a new one.
func (x *expoCache) viewSet() *viewSet {
	select {
	case vs := <-x.spare:
		return vs
	default:
		return new(viewSet)
	}
}

func (x *expoCache) releaseViews(vs *viewSet) {
	clear(vs.views) // drop the answers, so a spare keeps no retired job alive
	vs.views = vs.views[:0]
	if cap(vs.views) > 2*vs.start[numSegments]+1024 {
		// A pull of every job (curl, Collect) left room for all of them, where the steady pulls of
		// Prometheus view the live jobs only: 40 bytes per job in each spare, for nothing.
		vs.views = nil
	}
	clear(vs.pinned[:])
	select {
	case x.spare <- vs:
	default:
	}
}

// cachedMember is a part's gzip member (nil: no samples) made from the samples at version ver. It is
// never changed once stored, so a pull may hold it without a lock.
type cachedMember struct {
	ver uint64
	gz  []byte
}

type familyPart struct {
	mu  sync.Mutex // held while the part is made, so that a concurrent pull waits and copies it
	cur atomic.Pointer[cachedMember]
}

// pin stores in pinned the cached members of segment s of every family, when each is at its current
// version, and tells whether they all were: then the pull needs no view of the segment's jobs. With
// Collector.mu held.
func (x *expoCache) pin(s int, pinned *[numFamilies][numSegments]*cachedMember) bool {
	for f := range numFamilies {
		m := x.parts[f][s].cur.Load()
		if m == nil || m.ver != x.ver[f][s] {
			return false
		}
		pinned[f][s] = m
	}
	return true
}

// member returns part (f, s) for the views, whose samples are at version ver, making it when the cached
// one is older. Without Collector.mu: the part's own lock serialises its making.
//
// gz compresses it: the answer's own writer, idle between members, so that a pull holds one compressor.
func (x *expoCache) member(f *family, s int, ver uint64, views []jobView, gz *gzip.Writer) []byte {
	p := &x.parts[f.index][s]
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
	x.builds.Lock()
	x.builds.n++
	x.builds.Unlock()
	return m.gz
}

// write writes the gzip members of every family of vs: its header, then its parts with samples, pinned,
// cached or made. Without Collector.mu.
func (x *expoCache) write(z *gzStream, vs *viewSet) error {
	headers := headerMembers()
	var parts [numSegments][]byte
	for _, f := range families {
		some := false
		for s := range numSegments {
			var m []byte
			switch {
			case !vs.made[s]:
				m = vs.pinned[f.index][s].gz
			case clockBound(f, s):
				m = buildMember(f, vs.segment(s), z.gz, false)
			default:
				m = x.member(f, s, vs.ver[f.index][s], vs.segment(s), z.gz)
			}
			parts[s] = m
			some = some || m != nil
		}
		if !some {
			continue // as in client_golang's exposition, only a family with samples has a header
		}
		if err := z.raw(headers[f.index]); err != nil {
			return err
		}
		for _, m := range parts {
			if m != nil {
				if err := z.raw(m); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// The collector's side of the cache: the few calls through which entries reach it.

// changed accounts a change of e (old: as it was) in the exposition cache; with c.mu held, after the
// change (record defers it).
func (c *Collector) changed(e *entry, old entry) { c.expo.changed(e, c.expo.printOf(&old)) }

// segments returns the entries of each segment in key order; with c.mu held.
func (c *Collector) segments() *[numSegments][]*entry { return c.expo.segments(c.order) }

// retire retires the jobs that outlived FinalJobTTL. It is the last step of every refresh (RefreshFor),
// so that the answer that follows the refresh is without them, and a pull only reads.
func (c *Collector) retire() {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expo.retire(c.order, now, c.opts.FinalJobTTL)
}

// views fills vs with a view of every exported job (expoCache.views), under c.mu.
func (c *Collector) views(vs *viewSet, pin bool) {
	nowNs := unixNanos(c.now())
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expo.views(vs, c.order, nowNs, pin)
}
