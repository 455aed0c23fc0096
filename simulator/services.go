package simulator

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// The services of the second half of the exporter's service table, in their real shapes (the SDK models
// named beside each type; sdkcheck decodes every answer with them):
//
//   - EIP (eip/v2 ShowResourcesJobDetailResponse, doc "Querying Job Status"): the v1 job body; entities
//     is SubJobsInfo {sub_jobs: [...]}, sub-jobs "of the same type as the main job" (their entities are
//     again {sub_jobs}, here empty). end_time null until the end, as ECS.
//   - SDRS (sdrs/v1 ShowJobStatusResponse, JobEntities, SubJobParams; doc sdrs_05_0101): the v1 job body;
//     entities.server_group_id, sub-jobs with entities.protected_instance_id. The sub-job model has
//     required strings, so unset values are "" there (and end_time "" on the job, as EVS).
//   - CCE (cce/v3 ShowJobResponse; doc cce_02_0247): kind Job, metadata {uid, creationTimestamp,
//     updateTimestamp} in Go's time.String form, spec {type, clusterUID, resourceID, resourceName,
//     subJobs}, status {phase Initializing|Running|Success|Failed, reason}. No error code.
//   - ELB v3 (elb/v3 ShowJobResponse, MainJob, SubJob; doc ShowJob): {job:{...}, request_id}; error_msg
//     instead of fail_reason; sub-jobs list their resources in entities [{resource_id, resource_type}].
//   - CFW (cfw/v1 ListJobResponse; doc ListJob): {data:{id, status Running|Success|Failed, begin_time,
//     end_time}} with "+0800" offsets (the model's format; the document's example has epoch-ms numbers,
//     which the SDK's string fields would not decode). No INIT (an initialising job is Running), no
//     sub-jobs, no error code or reason.
//
// Ids of CCE, ELB and CFW jobs are UUIDs, as in their documents. Jobs the API no longer knows, and ids
// asked at another service's path, answer each service's not-found (see notFoundAnswer).

// jobAPIs are the path templates of the job APIs, from the exporter's service table.
var jobAPIs = func() []string {
	var out []string
	for _, s := range huaweicloud.JobServices {
		spec, _ := huaweicloud.Spec(s)
		if !slices.Contains(out, spec.Path) {
			out = append(out, spec.Path)
		}
	}
	return out
}()

// apiPath is the path template of a service's job API.
func apiPath(svc uint8) string {
	spec, _ := huaweicloud.Spec(services[svc].svc)
	return spec.Path
}

// matchPath matches path segments against a template; placeholders match one non-empty segment.
func matchPath(tmpl string, segs []string) (project, jobID string, ok bool) {
	want := strings.Split(strings.Trim(tmpl, "/"), "/")
	if len(want) != len(segs) {
		return "", "", false
	}
	for i, w := range want {
		switch {
		case segs[i] == "":
			return "", "", false
		case w == "{project_id}":
			project = segs[i]
		case w == "{job_id}":
			jobID = segs[i]
		case w != segs[i]:
			return "", "", false
		}
	}
	return project, jobID, true
}

// uuidIDs are the services whose job ids are UUIDs (their documents' examples).
func uuidIDs(svc uint8) bool { return svc == svcCCE || svc == svcELB || svc == svcCFW }

// notFoundAnswer is what a job API answers for a job it does not know (svc noService) or no longer
// knows. Only ECS documents its answer (Common.0011); EVS answers with its own code (EVS error shape).
// For the others nothing is documented: the v1 services answer like ECS, and CCE, ELB and CFW with a
// 404 carrying their own error code in the {"error_code","error_msg"} shape their documents use for
// errors, which the exporter reads as "not found" (huaweicloud.APIError.NotFound). Assumptions, all.
func notFoundAnswer(api string, svc uint8) (int, []byte) {
	switch {
	case api == apiPath(svcCCE):
		return http.StatusNotFound, marshal(ctsError{"CCE.01404001", "The job does not exist."})
	case api == apiPath(svcELB):
		return http.StatusNotFound, marshal(ctsError{"ELB.8904", "Job could not be found."})
	case api == apiPath(svcCFW):
		return http.StatusNotFound, marshal(ctsError{"CFW.00200005", "Object not found."})
	case svc == svcEVS:
		return http.StatusNotFound, marshal(errorEnvelope{errorBody{"The job does not exist or has been deleted.", "EVS.5400"}})
	}
	return http.StatusBadRequest, marshal(errorEnvelope{errorBody{"Failed to query system tasks.", "Common.0011"}})
}

// EIP

type eipEntities struct {
	SubJobs []eipSubJob `json:"sub_jobs"`
}

type eipSubJob struct {
	JobID      string      `json:"job_id"`
	JobType    string      `json:"job_type"`
	BeginTime  string      `json:"begin_time"`
	EndTime    *string     `json:"end_time"`
	Status     string      `json:"status"`
	ErrorCode  *string     `json:"error_code"`
	FailReason *string     `json:"fail_reason"`
	Entities   eipEntities `json:"entities"`
}

func eipEntitiesAt(r *jobRec, subs []subJob, subType string) eipEntities {
	e := eipEntities{SubJobs: make([]eipSubJob, 0, len(subs))}
	for i, sj := range subs {
		w := eipSubJob{JobID: subJobID(r.id, i), JobType: subType, BeginTime: fmtTime(sj.begin), Status: sj.status,
			Entities: eipEntities{SubJobs: []eipSubJob{}}}
		if sj.ended {
			w.EndTime = strp(fmtTime(sj.end))
		}
		if sj.errCode != "" {
			w.ErrorCode, w.FailReason = strp(sj.errCode), strp(sj.failReason)
		}
		e.SubJobs = append(e.SubJobs, w)
	}
	return e
}

// SDRS

type sdrsEntities struct {
	ServerGroupID string       `json:"server_group_id"`
	SubJobs       []sdrsSubJob `json:"sub_jobs,omitempty"`
}

type sdrsSubEntities struct {
	ProtectedInstanceID string `json:"protected_instance_id"`
}

type sdrsSubJob struct {
	Status     string          `json:"status"`
	Entities   sdrsSubEntities `json:"entities"`
	JobID      string          `json:"job_id"`
	JobType    string          `json:"job_type"`
	BeginTime  string          `json:"begin_time"`
	EndTime    string          `json:"end_time"`
	ErrorCode  string          `json:"error_code"`
	FailReason string          `json:"fail_reason"`
}

func sdrsEntitiesAt(r *jobRec, subs []subJob, subType string) sdrsEntities {
	e := sdrsEntities{ServerGroupID: resourceID(r.id, -1)}
	for i, sj := range subs {
		w := sdrsSubJob{Status: sj.status, Entities: sdrsSubEntities{ProtectedInstanceID: resourceID(r.id, i)},
			JobID: subJobID(r.id, i), JobType: subType, BeginTime: fmtTime(sj.begin), ErrorCode: sj.errCode, FailReason: sj.failReason}
		if sj.ended {
			w.EndTime = fmtTime(sj.end)
		}
		e.SubJobs = append(e.SubJobs, w)
	}
	return e
}

// CCE

type cceBody struct {
	Kind       string      `json:"kind"`
	APIVersion string      `json:"apiVersion"`
	Metadata   cceMetadata `json:"metadata"`
	Spec       cceSpec     `json:"spec"`
	Status     cceStatus   `json:"status"`
}

type cceMetadata struct {
	UID               string `json:"uid"`
	CreationTimestamp string `json:"creationTimestamp"`
	UpdateTimestamp   string `json:"updateTimestamp"`
}

type cceSpec struct {
	Type         string    `json:"type"`
	ClusterUID   string    `json:"clusterUID"`
	ResourceID   string    `json:"resourceID"`
	ResourceName string    `json:"resourceName"`
	SubJobs      []cceBody `json:"subJobs,omitempty"`
}

type cceStatus struct {
	Phase  string `json:"phase"`
	Reason string `json:"reason"`
}

// cceTimeFormat is Go's time.String layout at microseconds, as CCE's objects carry their timestamps.
const cceTimeFormat = "2006-01-02 15:04:05.000000 -0700 MST"

func cceTime(ns int64) string { return time.Unix(0, ns).UTC().Format(cceTimeFormat) }

// ccePhase is CCE's phase of a status (model_job_status.go); others are sent verbatim.
func ccePhase(status string) string {
	switch status {
	case huaweicloud.StatusInit:
		return "Initializing"
	case huaweicloud.StatusRunning:
		return "Running"
	case huaweicloud.StatusSuccess:
		return "Success"
	case huaweicloud.StatusFail:
		return "Failed"
	}
	return status
}

func renderCCE(r *jobRec, js jobState, now int64) cceBody {
	cluster := uuid(derive(r.id, "cluster", 0))
	b := cceBody{Kind: "Job", APIVersion: "v3",
		Metadata: cceMetadata{UID: r.id, CreationTimestamp: cceTime(r.begin), UpdateTimestamp: cceTime(max(r.begin, min(now, js.start)))},
		Spec:     cceSpec{Type: r.jobType, ClusterUID: cluster, ResourceID: cluster, ResourceName: resourceName(r)},
		Status:   cceStatus{Phase: ccePhase(js.status)},
	}
	if js.final {
		b.Metadata.UpdateTimestamp = cceTime(js.end)
	}
	if js.status == huaweicloud.StatusFail {
		b.Status.Reason = js.failReason
	}
	if js.status == huaweicloud.StatusInit || r.subJobs == 0 {
		return b
	}
	for i, sj := range r.subJobsAt(js, now) {
		sb := cceBody{Kind: "Job", APIVersion: "v3",
			Metadata: cceMetadata{UID: uuid(derive(r.id, "subjob", i)), CreationTimestamp: cceTime(sj.begin), UpdateTimestamp: cceTime(sj.begin)},
			Spec:     cceSpec{Type: r.jobType, ClusterUID: cluster, ResourceID: resourceID(r.id, i)},
			Status:   cceStatus{Phase: ccePhase(sj.status)},
		}
		if sj.ended {
			sb.Metadata.UpdateTimestamp = cceTime(sj.end)
		}
		if sj.status == huaweicloud.StatusFail {
			sb.Status.Reason = sj.failReason
		}
		b.Spec.SubJobs = append(b.Spec.SubJobs, sb)
	}
	return b
}

// ELB v3

type elbBody struct {
	Job       elbJob `json:"job"`
	RequestID string `json:"request_id"`
}

type elbJob struct {
	Status     string       `json:"status"`
	BeginTime  string       `json:"begin_time"`
	EndTime    *string      `json:"end_time"`
	JobID      string       `json:"job_id"`
	JobType    string       `json:"job_type"`
	ErrorCode  *string      `json:"error_code"`
	ErrorMsg   *string      `json:"error_msg"`
	ProjectID  string       `json:"project_id"`
	ResourceID string       `json:"resource_id"`
	SubJobs    *[]elbSubJob `json:"sub_jobs,omitempty"`
}

type elbSubJob struct {
	Status     string      `json:"status"`
	BeginTime  string      `json:"begin_time"`
	EndTime    *string     `json:"end_time"`
	JobID      string      `json:"job_id"`
	JobType    string      `json:"job_type"`
	ErrorCode  *string     `json:"error_code"`
	ErrorMsg   *string     `json:"error_msg"`
	ProjectID  string      `json:"project_id"`
	ResourceID string      `json:"resource_id"`
	Entities   []elbEntity `json:"entities"`
}

type elbEntity struct {
	ResourceID   string `json:"resource_id"`
	ResourceType string `json:"resource_type"` // loadbalancer or listener (model_job_entities.go)
}

const elbTimeFormat = "2006-01-02T15:04:05Z"

func elbTime(ns int64) string { return time.Unix(0, ns).UTC().Format(elbTimeFormat) }

func renderELB(r *jobRec, js jobState, now int64, project string) elbBody {
	rid := derive(r.id, "request", 1)
	b := elbBody{RequestID: uuid(rid), Job: elbJob{Status: js.status, BeginTime: elbTime(r.begin), JobID: r.id, JobType: r.jobType,
		ProjectID: project, ResourceID: resourceID(r.id, -1)}}
	if js.final {
		b.Job.EndTime = strp(elbTime(js.end))
	}
	if js.errCode != "" {
		b.Job.ErrorCode, b.Job.ErrorMsg = strp(js.errCode), strp(js.failReason)
	}
	subs := []elbSubJob{}
	if js.status != huaweicloud.StatusInit {
		for i, sj := range r.subJobsAt(js, now) {
			w := elbSubJob{Status: sj.status, BeginTime: elbTime(sj.begin), JobID: uuid(derive(r.id, "subjob", i)), JobType: r.jobType,
				ProjectID: project, Entities: []elbEntity{{ResourceID: resourceID(r.id, i), ResourceType: "listener"}}}
			if sj.ended {
				w.EndTime = strp(elbTime(sj.end))
			}
			if sj.errCode != "" {
				w.ErrorCode, w.ErrorMsg = strp(sj.errCode), strp(sj.failReason)
			}
			subs = append(subs, w)
		}
	}
	b.Job.SubJobs = &subs
	return b
}

// CFW

type cfwBody struct {
	Data cfwData `json:"data"`
}

type cfwData struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	BeginTime string `json:"begin_time"`
	EndTime   string `json:"end_time"`
}

// cfwZone is the offset of the document's example format ("+0800", Beijing time).
var cfwZone = time.FixedZone("CST", 8*3600)

func cfwTime(ns int64) string { return time.Unix(0, ns).In(cfwZone).Format("2006-01-02T15:04:05-0700") }

func renderCFW(r *jobRec, js jobState) cfwBody {
	d := cfwData{ID: r.id, BeginTime: cfwTime(r.begin)}
	switch js.status {
	case huaweicloud.StatusInit, huaweicloud.StatusRunning:
		d.Status = "Running"
	case huaweicloud.StatusSuccess:
		d.Status = "Success"
	case huaweicloud.StatusFail:
		d.Status = "Failed"
	default:
		d.Status = js.status
	}
	if js.final {
		d.EndTime = cfwTime(js.end)
	}
	return cfwBody{Data: d}
}

// newUUIDJobID is a new job id of a service whose ids are UUIDs, from two random draws.
func newUUIDJobID(a, b uint64) string {
	var raw [16]byte
	for i := 0; i < 8; i++ {
		raw[i], raw[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	return uuid(raw)
}
