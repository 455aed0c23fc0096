package collector

// jobIdent is the label values every sample of one job starts with, raw (for Collect) and rendered in
// the text format (for WriteText): `job_id="…",job_type="…",project_id="…",region="…",service="…"`, the
// labels in name order, values escaped. WriteText copies slices of it instead of writing five names and
// escaping five values for each of a job's ~15 samples, twice per cycle with two scrapers. It is made
// when first needed and again only when the job type changes (the other values are the job's key), and
// it is never changed, so a view of it needs no lock.
type jobIdent struct {
	service, region, projectID, jobID, jobType string

	block string
	ends  [baseLabels]int32 // end of each label in block, in block (name) order
}

// blockPos is where each base label (index in jobLabels: service, region, project_id, job_id, job_type)
// sits in the block, which is in name order.
var blockPos = [baseLabels]int{4, 3, 2, 0, 1}

func newJobIdent(w WatchedJob, jobType string) *jobIdent {
	id := &jobIdent{service: string(w.Target.Service), region: w.Target.Region, projectID: w.Target.ProjectID, jobID: w.JobID, jobType: jobType}
	values := [baseLabels]string{id.service, id.region, id.projectID, id.jobID, id.jobType}
	var byPos [baseLabels]int // base label index at each block position
	for li, pos := range blockPos {
		byPos[pos] = li
	}
	b := make([]byte, 0, 64+len(id.region)+len(id.projectID)+len(id.jobID)+len(id.jobType))
	for pos, li := range byPos {
		if pos > 0 {
			b = append(b, ',')
		}
		b = append(b, jobLabels[li]...)
		b = append(b, '=', '"')
		b = appendEscaped(b, values[li])
		b = append(b, '"')
		id.ends[pos] = int32(len(b))
	}
	id.block = string(b)
	return id
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
