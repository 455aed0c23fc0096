package collector

import "strings"

// jobIdent is the label values every sample of one job starts with, raw (for Collect) and rendered in
// the text format (for WriteText): `job_id="…",job_type="…",project_id="…",region="…",service="…"`, the
// labels in name order, values escaped. WriteText copies slices of it instead of writing five names and
// escaping five values for each of a job's ~15 samples, twice per cycle with two scrapers. It is made
// when first needed and again only when the job type changes (the other values are the job's key), and
// it is never changed, so a view of it needs no lock.
type jobIdent struct {
	jobType string // as it was when the block was made
	block   string
	ends    [baseLabels]int32 // end of each label in block, in block (name) order
}

// blockPos is where each base label (index in jobLabels: service, region, project_id, job_id, job_type)
// sits in the block, which is in name order.
var blockPos = [baseLabels]int{4, 3, 2, 0, 1}

// byPos is the base label index at each block position.
var byPos = func() (p [baseLabels]int) {
	for li, pos := range blockPos {
		p[pos] = li
	}
	return p
}()

func newJobIdent(w WatchedJob, jobType string) *jobIdent {
	id := &jobIdent{jobType: jobType}
	values := [baseLabels]string{string(w.Target.Service), w.Target.Region, w.Target.ProjectID, w.JobID, jobType}
	n := 0
	for li, v := range values {
		n += len(jobLabels[li]) + len(v) + 4
	}
	var b strings.Builder // its String does not copy: the block is the one allocation kept
	b.Grow(n)
	var buf [2 * maxIDLen]byte
	for pos, li := range byPos {
		if pos > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jobLabels[li])
		b.WriteString(`="`)
		b.Write(appendEscaped(buf[:0], values[li]))
		b.WriteByte('"')
		id.ends[pos] = int32(b.Len())
	}
	id.block = b.String()
	return id
}

// values sets lv[0:5] to the raw base label values (jobLabels order), for Collect.
func (id *jobIdent) values(lv []string) {
	for pos, li := range byPos {
		seg := id.segment(pos, pos+1)
		v := seg[len(jobLabels[li])+2 : len(seg)-1] // name="value"
		if strings.IndexByte(v, '\\') >= 0 {
			v = unescape(v)
		}
		lv[li] = v
	}
}

// unescape undoes appendEscaped.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if s[i] == 'n' {
				b.WriteByte('\n')
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// segment is the rendered labels at block positions [from, to).
func (id *jobIdent) segment(from, to int) string {
	start := int32(0)
	if from > 0 {
		start = id.ends[from-1] + 1 // past the comma
	}
	return id.block[start:id.ends[to-1]]
}

// planItem is one step of writing a family's labels: a run of base labels taken from the block, or one
// label of the family's own (label >= 0).
type planItem struct {
	from, to int
	label    int
}

// plan lists the steps that write f's labels in name order, as client_golang's exposition has them.
func plan(f *family) []planItem {
	var items []planItem
	for _, li := range f.order {
		if li >= baseLabels {
			items = append(items, planItem{label: li})
			continue
		}
		pos := blockPos[li]
		if n := len(items); n > 0 && items[n-1].label < 0 && items[n-1].to == pos {
			items[n-1].to++
			continue
		}
		items = append(items, planItem{from: pos, to: pos + 1, label: -1})
	}
	return items
}
