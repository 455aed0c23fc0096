package simulator

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// JobSpec describes a job: its state at any time follows from the spec and the clock.
//
// Lifecycle: INIT until Begin+InitFor, RUNNING until Begin+InitFor+RunFor, then Outcome. Sub-jobs start
// when the job starts running (10 ms apart) and finish one by one, evenly spread over the first 90% of
// RunFor; the job itself ends at the end of RunFor. The first FailedSubJobs sub-jobs fail (they finish
// first). A job whose sub-jobs all failed is FAIL even when Outcome is SUCCESS; Outcome FAIL with
// FailedSubJobs 0 fails every sub-job.
type JobSpec struct {
	Service huaweicloud.Service // ecs (default), evs, bms, ims, eip, sdrs, cce, elb or cfw
	JobID   string              // generated (32 hex chars, like ff80808288d41e1b018937c1d6ae0f81) when empty
	// JobType defaults per service: createServer, createVolume (batchCreateVolume with sub-jobs),
	// baremetalBatchCreate, createImageByInstance, createBatchPublicip, createProtectionGroupNoCG,
	// CreateCluster, upgradeLoadbalancer, createFirewall.
	JobType       string
	SubJobs       int // number of sub-jobs (not IMS and CFW, whose answers have none)
	FailedSubJobs int // how many sub-jobs fail
	// Outcome: huaweicloud.StatusSuccess ("" too), StatusFail, StatusPendingPayment (ECS and BMS only:
	// their documents list it, EVS's and IMS's do not; CreateJob panics otherwise); StatusRunning is a
	// stuck job that stays RUNNING (its last sub-job never finishes); StatusInit stays INIT; any other
	// string is answered verbatim after RunFor and is not final (an unknown status as the API may send).
	Outcome    string
	ErrorCode  string // for failures; defaults per service (Ecs.0005, EVS.2024, BMS.0040, IMS.0124, ...); CCE and CFW answers carry none
	FailReason string
	InitFor    time.Duration // time in INIT before RUNNING
	RunFor     time.Duration // time RUNNING before the outcome
	Begin      time.Time     // default Now()
}

type outcomeKind uint8

const (
	outSuccess outcomeKind = iota
	outFail
	outPending
	outStuck
	outInit
	outCustom
)

// service defaults, indexed by serviceIndex.
type serviceInfo struct {
	svc        huaweicloud.Service
	jobType    string
	errCode    string
	failReason string
	ctsService string // CTS service_type
	apiVersion string
}

var services = [...]serviceInfo{
	{huaweicloud.ECS, "createServer", "Ecs.0005", "Insufficient resources for the flavor in the AZ.", "ECS", "v1"},
	{huaweicloud.EVS, "createVolume", "EVS.2024", "Insufficient capacity of the storage pool.", "EVS", "v2"},
	{huaweicloud.BMS, "baremetalBatchCreate", "BMS.0040", "Insufficient bare metal server resources in the AZ.", "BMS", "v1"},
	{huaweicloud.IMS, "createImageByInstance", "IMS.0124", "Failed to create the image from the ECS.", "IMS", "v2"},
	// The services of the second half of the exporter's service table (see services.go here). Error codes
	// and reasons are illustrative; CTS service types are the table's.
	{huaweicloud.EIP, "createBatchPublicip", "VPC.0521", "The EIP quota is insufficient.", "VPC", "v2"},
	{huaweicloud.SDRS, "createProtectionGroupNoCG", "SDRS.1014", "The protection group is not in a state that allows this operation.", "SDRS", "v1"},
	{huaweicloud.CCE, "CreateCluster", "", "Insufficient ECS quota: instances.", "CCE", "v3"},
	{huaweicloud.ELB, "upgradeLoadbalancer", "ELB.8902", "The load balancer cannot be upgraded now.", "ELB", "v3"},
	{huaweicloud.CFW, "createFirewall", "", "", "CFW", "v1"},
}

const (
	svcECS uint8 = iota
	svcEVS
	svcBMS
	svcIMS
	svcEIP
	svcSDRS
	svcCCE
	svcELB
	svcCFW

	noService uint8 = 255
)

func serviceIndex(s huaweicloud.Service) (uint8, bool) {
	for i, info := range services {
		if info.svc == s {
			return uint8(i), true
		}
	}
	return 0, false
}

// subJobTypes names the sub-jobs of batch jobs; other job types use their own name for sub-jobs.
var subJobTypes = map[string]string{
	"createServer":         "createSingleServer",
	"deleteServer":         "deleteSingleServer",
	"baremetalBatchCreate": "baremetalSingleCreate", // bms_api_0640, bms/v1/model/model_sub_jobs.go
	"batchCreateVolume":    "createVolume",
	"bulkDeleteVolume":     "deleteSingleVolume",
}

// jobRec is a job as stored: small and pointer-light, because benchmarks create 100,000 of them.
// Default strings are shared, not copied.
type jobRec struct {
	id         string
	jobType    string
	errCode    string
	failReason string
	begin      int64 // unix ns
	initFor    int64 // ns
	runFor     int64 // ns
	subJobs    int32
	failed     int32
	svc        uint8
	outcome    outcomeKind
}

// override is SetJobOutcomeNow's verdict, effective from at on.
type override struct {
	at         int64
	status     string
	errCode    string
	failReason string
}

// jobStore holds jobs and their CTS traces under one lock.
type jobStore struct {
	mu        sync.RWMutex
	jobs      []jobRec
	index     map[string]int32
	overrides map[int32]override
	custom    map[int32]string // verbatim statuses of outCustom jobs
	rng       *rand.Rand       // job and trace ids

	traces   []traceRec
	traceIdx map[[16]byte]int32
	asc      []int32 // trace indices by (time, index) ascending, valid unless dirty
	dirty    bool
}

func (st *jobStore) init(seed uint64) {
	st.index = map[string]int32{}
	st.overrides = map[int32]override{}
	st.custom = map[int32]string{}
	st.traceIdx = map[[16]byte]int32{}
	st.rng = rand.New(rand.NewPCG(seed, 0x10b5))
}

// CreateJob adds a job (replacing one with the same id) and records the CTS trace of the call that
// created it. It returns the job id.
func (s *Simulator) CreateJob(spec JobSpec) string {
	svc := spec.Service
	if svc == "" {
		svc = huaweicloud.ECS
	}
	si, ok := serviceIndex(svc)
	if !ok {
		panic(fmt.Sprintf("simulator: CreateJob: %q is not a job service (%s)", spec.Service, huaweicloud.ServiceNames()))
	}
	info := &services[si]
	begin := spec.Begin
	if begin.IsZero() {
		begin = s.now()
	}
	rec := jobRec{
		id:         spec.JobID,
		jobType:    spec.JobType,
		errCode:    spec.ErrorCode,
		failReason: spec.FailReason,
		begin:      begin.UnixNano(),
		initFor:    int64(max(0, spec.InitFor)),
		runFor:     int64(max(0, spec.RunFor)),
		subJobs:    int32(min(max(0, spec.SubJobs), math.MaxInt16)),
		svc:        si,
	}
	if si == svcIMS || si == svcCFW {
		rec.subJobs = 0 // their answers have no sub-jobs
	}
	rec.failed = int32(min(max(0, spec.FailedSubJobs), int(rec.subJobs)))
	if rec.jobType == "" {
		rec.jobType = info.jobType
		if si == svcEVS && rec.subJobs > 0 {
			rec.jobType = "batchCreateVolume"
		}
	}
	if rec.errCode == "" {
		rec.errCode = info.errCode
	}
	if rec.failReason == "" {
		rec.failReason = info.failReason
	}
	switch spec.Outcome {
	case "", huaweicloud.StatusSuccess:
		rec.outcome = outSuccess
	case huaweicloud.StatusFail:
		rec.outcome = outFail
	case huaweicloud.StatusPendingPayment:
		if si != svcECS && si != svcBMS {
			// ecs_02_0901 and bms_api_0640 list PENDING_PAYMENT; the EVS and IMS job documents do not.
			panic(fmt.Sprintf("simulator: CreateJob: %s jobs are never %s (only ECS and BMS document it)", svc, spec.Outcome))
		}
		rec.outcome = outPending
	case huaweicloud.StatusRunning:
		rec.outcome = outStuck
	case huaweicloud.StatusInit:
		rec.outcome = outInit
	default:
		rec.outcome = outCustom
	}

	st := &s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if rec.id == "" {
		// Like Huawei's ids: a fixed prefix, the creation time in ms, then random digits.
		for taken := true; taken; _, taken = st.index[rec.id] {
			if uuidIDs(si) {
				rec.id = newUUIDJobID(st.rng.Uint64(), st.rng.Uint64())
			} else {
				rec.id = fmt.Sprintf("ff808082%012x%012x", uint64(begin.UnixMilli())&(1<<48-1), st.rng.Uint64()&(1<<48-1))
			}
		}
	}
	idx, exists := st.index[rec.id]
	if exists {
		st.jobs[idx] = rec
		delete(st.overrides, idx)
		delete(st.custom, idx)
	} else {
		idx = int32(len(st.jobs))
		st.jobs = append(st.jobs, rec)
		st.index[rec.id] = idx
	}
	if rec.outcome == outCustom {
		st.custom[idx] = spec.Outcome
	}
	st.addTrace(begin.UnixMilli(), idx)
	return rec.id
}

// JobIDs lists the ids of all jobs in creation order.
func (s *Simulator) JobIDs() []string {
	st := &s.store
	st.mu.RLock()
	defer st.mu.RUnlock()
	ids := make([]string, len(st.jobs))
	for i := range st.jobs {
		ids[i] = st.jobs[i].id
	}
	return ids
}

// serviceOf is the service index of a job, or noService for an unknown id.
func (st *jobStore) serviceOf(id string) uint8 {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if idx, ok := st.index[id]; ok {
		return st.jobs[idx].svc
	}
	return noService
}

// lookup returns a copy of a job and its extras.
func (st *jobStore) lookup(id string) (rec jobRec, ov *override, custom string, ok bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	idx, ok := st.index[id]
	if !ok {
		return jobRec{}, nil, "", false
	}
	if o, has := st.overrides[idx]; has {
		ov = &o
	}
	return st.jobs[idx], ov, st.custom[idx], true
}

// jobState is a job as the API sees it at one moment.
type jobState struct {
	status     string
	final      bool
	start      int64 // when RUNNING begins
	end        int64 // end_time when final
	errCode    string
	failReason string
	ov         *override // in effect
}

func (r *jobRec) state(now int64, ov *override, custom string) jobState {
	start := r.begin + r.initFor
	js := jobState{start: start}
	if ov != nil && now >= ov.at {
		js.status, js.final, js.end, js.ov = ov.status, true, ov.at, ov
		if ov.status == huaweicloud.StatusFail {
			js.errCode, js.failReason = ov.errCode, ov.failReason
		}
		return js
	}
	end := start + r.runFor
	switch {
	case r.outcome == outInit || now < start:
		js.status = huaweicloud.StatusInit
		return js
	case now < end || r.outcome == outStuck:
		js.status = huaweicloud.StatusRunning
		return js
	}
	switch r.outcome {
	case outSuccess:
		js.status, js.final, js.end = huaweicloud.StatusSuccess, true, end
		if r.subJobs > 0 && r.failed >= r.subJobs {
			js.status, js.errCode, js.failReason = huaweicloud.StatusFail, r.errCode, r.failReason
		}
	case outFail:
		js.status, js.final, js.end = huaweicloud.StatusFail, true, end
		js.errCode, js.failReason = r.errCode, r.failReason
	case outPending:
		js.status = huaweicloud.StatusPendingPayment
	default:
		js.status = custom
	}
	return js
}

// goneAt is when the job vanishes from the API, ok false if never.
func (s *Simulator) goneAt(r *jobRec, js jobState) (int64, bool) {
	switch {
	case js.final:
		if s.opts.Retention < 0 {
			return 0, false
		}
		return js.end + int64(s.opts.Retention), true
	case js.status == huaweicloud.StatusPendingPayment:
		return r.begin + int64(PendingPaymentRetention), true
	}
	return 0, false
}

func (s *Simulator) visible(r *jobRec, js jobState, now int64) bool {
	at, ok := s.goneAt(r, js)
	return !ok || now < at
}

// JobStatus is the status the API would answer now; ok is false for unknown and vanished jobs.
func (s *Simulator) JobStatus(jobID string) (string, bool) {
	rec, ov, custom, ok := s.store.lookup(jobID)
	if !ok {
		return "", false
	}
	now := s.now().UnixNano()
	js := rec.state(now, ov, custom)
	if !s.visible(&rec, js, now) {
		return "", false
	}
	return js.status, true
}

// SetJobOutcomeNow finishes a job immediately with status SUCCESS or FAIL (errorCode and failReason
// default per service for FAIL). Sub-jobs still running end with it. Jobs that are already final,
// unknown or gone are an error.
func (s *Simulator) SetJobOutcomeNow(jobID, status, errorCode, failReason string) error {
	if status != huaweicloud.StatusSuccess && status != huaweicloud.StatusFail {
		return fmt.Errorf("simulator: outcome must be %s or %s, not %q", huaweicloud.StatusSuccess, huaweicloud.StatusFail, status)
	}
	now := s.now().UnixNano()
	st := &s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	idx, ok := st.index[jobID]
	if !ok {
		return fmt.Errorf("simulator: unknown job %q", jobID)
	}
	rec := &st.jobs[idx]
	var cur *override
	if o, has := st.overrides[idx]; has {
		cur = &o
	}
	js := rec.state(now, cur, st.custom[idx])
	if !s.visible(rec, js, now) {
		return fmt.Errorf("simulator: job %q is gone (retention)", jobID)
	}
	if js.final {
		return fmt.Errorf("simulator: job %q is already %s", jobID, js.status)
	}
	ov := override{at: now, status: status}
	if status == huaweicloud.StatusFail {
		ov.errCode, ov.failReason = errorCode, failReason
		if ov.errCode == "" {
			ov.errCode = services[rec.svc].errCode
		}
		if ov.failReason == "" {
			ov.failReason = services[rec.svc].failReason
		}
	}
	st.overrides[idx] = ov
	return nil
}

// jobAnswer is the status code and body of the job API at path template api (the exporter's service
// table's Path) for id at now. A job asked at another service's path is unknown there, as in the cloud.
func (s *Simulator) jobAnswer(api, id string, now time.Time) (int, []byte) {
	rec, ov, custom, ok := s.store.lookup(id)
	if !ok || apiPath(rec.svc) != api {
		return notFoundAnswer(api, noService)
	}
	n := now.UnixNano()
	js := rec.state(n, ov, custom)
	if !s.visible(&rec, js, n) {
		return notFoundAnswer(api, rec.svc)
	}
	return http.StatusOK, marshal(s.render(&rec, js, n))
}

// render is the job body of the job's service.
func (s *Simulator) render(r *jobRec, js jobState, now int64) any {
	switch r.svc {
	case svcCCE:
		return renderCCE(r, js, now)
	case svcELB:
		return renderELB(r, js, now, s.opts.ProjectID)
	case svcCFW:
		return renderCFW(r, js)
	}
	return renderJob(r, js, now, s.opts.ProjectID)
}

// The wire shapes, fields in the documents' order.

type jobBody struct {
	Status     string  `json:"status"`
	Entities   any     `json:"entities"`
	JobID      string  `json:"job_id"`
	JobType    string  `json:"job_type"`
	BeginTime  string  `json:"begin_time"`
	EndTime    *string `json:"end_time"`
	ErrorCode  *string `json:"error_code"`
	FailReason *string `json:"fail_reason"`
}

type emptyEntities struct{}

// serverEntities is ECS's entities (services/ecs/v2/model/model_job_entities.go): server_id for a job
// without sub-jobs, else sub_jobs_total and sub_jobs.
type serverEntities struct {
	ServerID     string          `json:"server_id,omitempty"`
	SubJobsTotal *int            `json:"sub_jobs_total,omitempty"`
	SubJobs      *[]serverSubJob `json:"sub_jobs,omitempty"`
}

// serverSubEntities is ECS's sub-job entities (model_sub_job_entities.go), with errorcode_message, the
// reason of a failed sub-job.
type serverSubEntities struct {
	ServerID         string `json:"server_id"`
	ErrorcodeMessage string `json:"errorcode_message,omitempty"`
}

type serverSubJob struct {
	Status     string            `json:"status"`
	Entities   serverSubEntities `json:"entities"`
	JobID      string            `json:"job_id"`
	JobType    string            `json:"job_type"`
	BeginTime  string            `json:"begin_time"`
	EndTime    *string           `json:"end_time"`
	ErrorCode  *string           `json:"error_code"`
	FailReason *string           `json:"fail_reason"`
}

// bmsEntities is BMS's entities (services/bms/v1/model/model_entities.go): only sub_jobs_total and
// sub_jobs, which bms_api_0640 says are 0 and an empty list when there are no sub-jobs. The model has
// no server_id here, unlike ECS.
type bmsEntities struct {
	SubJobsTotal int         `json:"sub_jobs_total"`
	SubJobs      []bmsSubJob `json:"sub_jobs"`
}

// bmsSubEntities is BMS's sub-job entities (model_entitie.go): server_id and nic_id, no errorcode_message.
type bmsSubEntities struct {
	ServerID string `json:"server_id"`
}

// bmsSubJob is a BMS sub-job (model_sub_jobs.go); message and code are the error of the query itself,
// null here.
type bmsSubJob struct {
	Status     string         `json:"status"`
	Entities   bmsSubEntities `json:"entities"`
	JobID      string         `json:"job_id"`
	JobType    string         `json:"job_type"`
	BeginTime  string         `json:"begin_time"`
	EndTime    *string        `json:"end_time"`
	ErrorCode  *string        `json:"error_code"`
	FailReason *string        `json:"fail_reason"`
	Message    *string        `json:"message"`
	Code       *string        `json:"code"`
}

type volumeEntities struct {
	VolumeID string          `json:"volume_id,omitempty"`
	SubJobs  *[]volumeSubJob `json:"sub_jobs,omitempty"`
}

type volumeSubEntities struct {
	VolumeID string `json:"volume_id"`
}

type volumeSubJob struct {
	Status     string            `json:"status"`
	Entities   volumeSubEntities `json:"entities"`
	JobID      string            `json:"job_id"`
	JobType    string            `json:"job_type"`
	BeginTime  string            `json:"begin_time"`
	EndTime    *string           `json:"end_time"`
	ErrorCode  *string           `json:"error_code"`
	FailReason *string           `json:"fail_reason"`
}

type imageEntities struct {
	ImageID        string        `json:"image_id,omitempty"`
	ImageName      string        `json:"image_name"`
	CurrentTask    string        `json:"current_task"`
	ProcessPercent float64       `json:"process_percent"`
	Results        []imageResult `json:"results,omitempty"`
}

type imageResult struct {
	ImageID   string `json:"image_id"`
	ProjectID string `json:"project_id"`
	Status    string `json:"status"`
}

// TimeFormat is the layout of begin_time and end_time.
const TimeFormat = "2006-01-02T15:04:05.000Z"

func fmtTime(ns int64) string { return time.Unix(0, ns).UTC().Format(TimeFormat) }

func strp(s string) *string { return &s }

// unsetEnd is end_time of an unfinished job: null for ECS, IMS and EIP, "" for EVS and BMS (as in their
// documents and examples) and SDRS (whose sub-job model has end_time as a required string).
func unsetEnd(svc uint8) *string {
	if svc == svcEVS || svc == svcBMS || svc == svcSDRS {
		return strp("")
	}
	return nil
}

// subJob is one sub-job at a moment.
type subJob struct {
	status              string
	begin, end          int64
	ended               bool
	errCode, failReason string
}

// subJobs computes the sub-jobs of a running or finished job.
func (r *jobRec) subJobsAt(js jobState, now int64) []subJob {
	n := int(r.subJobs)
	failed := int(r.failed)
	if r.outcome == outFail && failed == 0 {
		failed = n
	}
	span := r.runFor / 10 * 9
	out := make([]subJob, n)
	for i := range out {
		sj := &out[i]
		sj.begin = js.start + int64(i)*int64(10*time.Millisecond)
		natural, ends := js.start+span*int64(i+1)/int64(n), r.outcome != outStuck || i < n-1
		if ov := js.ov; ov != nil && (!ends || natural > ov.at) {
			sj.status, sj.end, sj.ended = ov.status, ov.at, true
			if ov.status == huaweicloud.StatusFail {
				sj.errCode, sj.failReason = ov.errCode, ov.failReason
			}
		} else if ends && natural <= now {
			sj.status, sj.end, sj.ended = huaweicloud.StatusSuccess, natural, true
			if i < failed {
				sj.status, sj.errCode, sj.failReason = huaweicloud.StatusFail, r.errCode, r.failReason
			}
		} else {
			sj.status = huaweicloud.StatusRunning
		}
		if sj.ended && sj.begin > sj.end {
			sj.begin = sj.end
		}
	}
	return out
}

func renderJob(r *jobRec, js jobState, now int64, project string) jobBody {
	b := jobBody{
		Status:    js.status,
		JobID:     r.id,
		JobType:   r.jobType,
		BeginTime: fmtTime(r.begin),
		EndTime:   unsetEnd(r.svc),
		Entities:  emptyEntities{},
	}
	if js.final {
		b.EndTime = strp(fmtTime(js.end))
	}
	if js.errCode != "" {
		b.ErrorCode, b.FailReason = strp(js.errCode), strp(js.failReason)
	}
	if js.status == huaweicloud.StatusInit {
		if r.svc == svcBMS {
			b.Entities = bmsEntities{SubJobs: []bmsSubJob{}}
		}
		return b
	}
	pending := r.outcome == outPending && js.ov == nil
	var subs []subJob
	if r.subJobs > 0 && !pending {
		subs = r.subJobsAt(js, now)
	}
	subType := r.jobType
	if t, ok := subJobTypes[r.jobType]; ok {
		subType = t
	}
	switch r.svc {
	case svcECS:
		if pending {
			// An unpaid order has created nothing yet: no server, no sub-job (see the package comment).
			break
		}
		e := serverEntities{}
		if r.subJobs == 0 {
			e.ServerID = resourceID(r.id, -1)
			b.Entities = e
			break
		}
		total := int(r.subJobs)
		list := make([]serverSubJob, 0, len(subs))
		for i, sj := range subs {
			w := serverSubJob{
				Status:    sj.status,
				Entities:  serverSubEntities{ServerID: resourceID(r.id, i)},
				JobID:     subJobID(r.id, i),
				JobType:   subType,
				BeginTime: fmtTime(sj.begin),
				EndTime:   unsetEnd(r.svc),
			}
			if sj.ended {
				w.EndTime = strp(fmtTime(sj.end))
			}
			if sj.errCode != "" {
				// Both places ECS puts a sub-job's reason: errorcode_message always, fail_reason on every
				// other failed sub-job (ecs_02_0901 documents both fields).
				w.ErrorCode = strp(sj.errCode)
				w.Entities.ErrorcodeMessage = sj.failReason
				if i%2 == 1 {
					w.FailReason = strp(sj.failReason)
				}
			}
			list = append(list, w)
		}
		e.SubJobsTotal, e.SubJobs = &total, &list
		b.Entities = e
	case svcBMS:
		e := bmsEntities{SubJobs: make([]bmsSubJob, 0, len(subs))}
		for i, sj := range subs {
			w := bmsSubJob{
				Status:    sj.status,
				Entities:  bmsSubEntities{ServerID: resourceID(r.id, i)},
				JobID:     subJobID(r.id, i),
				JobType:   subType,
				BeginTime: fmtTime(sj.begin),
				EndTime:   unsetEnd(r.svc),
			}
			if sj.ended {
				w.EndTime = strp(fmtTime(sj.end))
			}
			if sj.errCode != "" {
				w.ErrorCode, w.FailReason = strp(sj.errCode), strp(sj.failReason)
			}
			e.SubJobs = append(e.SubJobs, w)
		}
		e.SubJobsTotal = len(e.SubJobs)
		b.Entities = e
	case svcEVS:
		e := volumeEntities{}
		if r.subJobs == 0 {
			e.VolumeID = resourceID(r.id, -1)
			b.Entities = e
			break
		}
		list := make([]volumeSubJob, 0, len(subs))
		for i, sj := range subs {
			w := volumeSubJob{
				Status:    sj.status,
				Entities:  volumeSubEntities{VolumeID: resourceID(r.id, i)},
				JobID:     subJobID(r.id, i),
				JobType:   subType,
				BeginTime: fmtTime(sj.begin),
				EndTime:   unsetEnd(r.svc),
			}
			if sj.ended {
				w.EndTime = strp(fmtTime(sj.end))
			}
			if sj.errCode != "" {
				w.ErrorCode, w.FailReason = strp(sj.errCode), strp(sj.failReason)
			}
			list = append(list, w)
		}
		e.SubJobs = &list
		b.Entities = e
	case svcEIP:
		b.Entities = eipEntitiesAt(r, subs, subType)
	case svcSDRS:
		b.Entities = sdrsEntitiesAt(r, subs, subType)
	case svcIMS:
		e := imageEntities{ImageName: imageName(r.id)}
		switch js.status {
		case huaweicloud.StatusSuccess:
			e.ImageID, e.ProcessPercent = resourceID(r.id, -1), 1
			e.Results = []imageResult{{ImageID: e.ImageID, ProjectID: project, Status: huaweicloud.StatusSuccess}}
		case huaweicloud.StatusRunning:
			e.ImageID, e.CurrentTask = resourceID(r.id, -1), "createImage"
			if r.runFor > 0 {
				e.ProcessPercent = math.Floor(min(0.99, float64(now-js.start)/float64(r.runFor))*100) / 100
			}
		}
		b.Entities = e
	}
	return b
}

// imageName is the name of the image an IMS job creates.
func imageName(id string) string { return "image-" + id[max(0, len(id)-8):] }

// subJobID follows Huawei's numbering: a batch job's sub-jobs share its id but for the last four hex
// digits (ff80808288d41e1b018937c1d6ae1000 -> ...1001, ...1002). Other id shapes get a derived hex id.
func subJobID(id string, i int) string {
	if len(id) == 32 {
		if v, err := strconv.ParseUint(id[28:], 16, 16); err == nil {
			if _, err := hex.DecodeString(id[:28]); err == nil {
				return fmt.Sprintf("%s%04x", id[:28], (v+uint64(i)+1)&0xffff)
			}
		}
	}
	h := derive(id, "subjob", i)
	return hex.EncodeToString(h[:])
}

// resourceID is the uuid of the job's server/volume/image (i = -1) or of sub-job i's resource; stable
// across answers.
func resourceID(id string, i int) string {
	return uuid(derive(id, "resource", i))
}

func derive(id, salt string, i int) [16]byte {
	h := fnv.New128a()
	h.Write([]byte(salt))
	h.Write([]byte{0})
	h.Write([]byte(id))
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(int64(i)))
	h.Write(n[:])
	var out [16]byte
	h.Sum(out[:0])
	return out
}

// uuid formats 16 bytes as a version-4 UUID.
func uuid(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
