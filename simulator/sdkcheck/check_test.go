package sdkcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/response"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/utils"
	bms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bms/v1/model"
	cce "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cce/v3/model"
	cfw "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cfw/v1/model"
	cts "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cts/v3/model"
	ecs "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ecs/v2/model"
	eip "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/eip/v2/model"
	elb "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/elb/v3/model"
	evs "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/evs/v2/model"
	ims "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/ims/v2/model"
	sdrs "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/sdrs/v1/model"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// answer is one HTTP answer of the simulator and the API it answers for.
type answer struct {
	what   string              // for messages: the request
	api    huaweicloud.Service // a job service or cts
	status int
	header http.Header
	body   []byte
}

// newModel is the SDK's response model of api's answer, as the SDK's request definitions name it
// (services/*/v*/*_meta.go: WithResponse(new(model.ShowJobResponse)) ...).
func newModel(api huaweicloud.Service) any {
	switch api {
	case huaweicloud.ECS:
		return new(ecs.ShowJobResponse)
	case huaweicloud.EVS:
		return new(evs.ShowJobResponse)
	case huaweicloud.BMS:
		return new(bms.ShowJobInfosResponse)
	case huaweicloud.IMS:
		return new(ims.ShowJobResponse)
	case huaweicloud.EIP: // eip/v2/eip_meta.go GenReqDefForShowResourcesJobDetail
		return new(eip.ShowResourcesJobDetailResponse)
	case huaweicloud.SDRS: // sdrs/v1/sdrs_meta.go GenReqDefForShowJobStatus
		return new(sdrs.ShowJobStatusResponse)
	case huaweicloud.CCE: // cce/v3/cce_meta.go GenReqDefForShowJob
		return new(cce.ShowJobResponse)
	case huaweicloud.ELB: // elb/v3/elb_meta.go GenReqDefForShowJob
		return new(elb.ShowJobResponse)
	case huaweicloud.CFW: // cfw/v1/cfw_meta.go GenReqDefForListJob
		return new(cfw.ListJobResponse)
	case huaweicloud.CTS:
		return new(cts.ListTracesResponse)
	}
	panic("sdkcheck: no SDK model for " + string(api))
}

// enumRule names the values a field may hold, the SDK enum's and those the service's document adds.
type enumRule struct {
	path    string // dotted, "[]" after a list: entities.sub_jobs[].status
	allowed []string
}

// valueser is what the SDK's enum types have in common.
type valueser interface{ Value() string }

// enumValues reads the values of an SDK enum set (a struct of enum constants, e.g.
// ecs.GetShowJobResponseStatusEnum()).
func enumValues(set any) []string {
	v := reflect.ValueOf(set)
	out := make([]string, 0, v.NumField())
	for i := range v.NumField() {
		out = append(out, v.Field(i).Interface().(valueser).Value())
	}
	return out
}

// enumRules per API. Job types are checked where the document gives the full list (EVS, BMS); the ECS
// document lists "only some common job types" (ecs_02_0901) and IMS none.
var enumRules = map[huaweicloud.Service][]enumRule{
	huaweicloud.ECS: {
		// ecs_02_0901 adds PENDING_PAYMENT to the SDK enum.
		{"status", append(enumValues(ecs.GetShowJobResponseStatusEnum()), huaweicloud.StatusPendingPayment)},
		{"entities.sub_jobs[].status", enumValues(ecs.GetSubJobStatusEnum())},
	},
	huaweicloud.EVS: {
		{"status", enumValues(evs.GetShowJobResponseStatusEnum())},
		{"entities.sub_jobs[].status", enumValues(evs.GetSubJobStatusEnum())},
		// evs/v2/model/model_show_job_response.go and model_sub_job.go, JobType.
		{"job_type", evsJobTypes},
		{"entities.sub_jobs[].job_type", evsJobTypes},
	},
	huaweicloud.BMS: {
		// bms_api_0640 adds PENDING_PAYMENT to the SDK enum.
		{"status", append(enumValues(bms.GetShowJobInfosResponseStatusEnum()), huaweicloud.StatusPendingPayment)},
		{"entities.sub_jobs[].status", enumValues(bms.GetSubJobsStatusEnum())},
		// bms/v1/model/model_show_job_infos_response.go and model_sub_jobs.go, JobType.
		{"job_type", []string{"baremetalBatchCreate", "baremetalBatchOperate", "baremetalChangeOsVolumeBoot", "baremetalChangeOsLocalDisk",
			"baremetalVolumeBootReinstallOs", "baremetalReinstallOs", "baremetalAttachVolume", "baremetalDetachVolume", "baremetalBatchAttachVolume"}},
		{"entities.sub_jobs[].job_type", []string{"baremetalSingleCreate", "baremetalSingleOperate", "baremetalAttachSingleVolume"}},
	},
	huaweicloud.IMS: {
		{"status", enumValues(ims.GetShowJobResponseStatusEnum())},
		{"entities.sub_jobs_result[].status", enumValues(ims.GetSubJobResultStatusEnum())},
	},
	// EIP's status is a plain string in the SDK and its page lists no values: the v1 job statuses.
	huaweicloud.EIP: {
		{"status", v1Statuses},
	},
	huaweicloud.SDRS: {
		{"status", enumValues(sdrs.GetShowJobStatusResponseStatusEnum())},
		{"entities.sub_jobs[].status", enumValues(sdrs.GetSubJobParamsStatusEnum())},
		// sdrs/v1/model/model_show_job_status_response.go, JobType comment (doc sdrs_05_0101).
		{"job_type", sdrsJobTypes},
	},
	// CCE's phase is a plain string; model_job_status.go lists Initializing, Running, Failed, Success.
	huaweicloud.CCE: {
		{"kind", []string{"Job"}},
		{"status.phase", cceStatuses},
		{"spec.subJobs[].status.phase", cceStatuses},
	},
	huaweicloud.ELB: {
		{"job.status", enumValues(elb.GetMainJobStatusEnum())},
		{"job.sub_jobs[].status", enumValues(elb.GetSubJobStatusEnum())},
		// model_job_entities.go: loadbalancer or listener.
		{"job.sub_jobs[].entities[].resource_type", []string{"loadbalancer", "listener"}},
	},
	huaweicloud.CFW: {
		{"data.status", enumValues(cfw.GetGetCreateFirewallJobResponseDataStatusEnum())},
	},
	huaweicloud.CTS: {
		{"traces[].trace_rating", enumValues(cts.GetTracesTraceRatingEnum())},
		// cts/v3/model/model_traces.go, TraceType: ApiCall, ConsoleAction, SystemAction; ObsSDK, ObsAPI.
		{"traces[].trace_type", []string{"ApiCall", "ConsoleAction", "SystemAction", "ObsSDK", "ObsAPI"}},
		{"traces[].user.principal_is_root_user", enumValues(cts.GetUserInfoPrincipalIsRootUserEnum())},
	},
}

var (
	v1Statuses   = []string{huaweicloud.StatusSuccess, huaweicloud.StatusRunning, huaweicloud.StatusFail, huaweicloud.StatusInit}
	cceStatuses  = []string{"Initializing", "Running", "Failed", "Success"}
	sdrsJobTypes = []string{"createProtectionGroupNoCG", "deleteProtectionGroupNoCG", "startProtectionGroupNoCG",
		"reprotectProtectionGroupNoCG", "stopProtectionGroupNoCG", "failoverProtectionGroupNoCG", "reverseProtectionGroupNoCG",
		"createProtectedInstanceNoCG", "deleteProtectedInstanceNoCG", "attachReplicationPairNew", "detachReplicationPairNew",
		"addNicNew", "deleteNicNew", "resizeProtectedInstanceNew", "createReplicationPairNoCG", "deleteReplicationPairNoCG",
		"expandReplicationPairNew", "createDisasterRecoveryDrill", "deleteDisasterRecoveryDrill"}
)

var evsJobTypes = []string{"createVolume", "batchCreateVolume", "deleteVolume", "extendVolume", "bulkDeleteVolume", "deleteSingleVolume", "retypeVolume"}

type checkOpts struct {
	malformedOK bool // the simulator was told to send truncated JSON now and then
}

// problems lists what makes a the answer no real cloud sends, as the SDK reads it; nil when there is
// nothing. malformed reports an answer that is truncated JSON (allowed only with opts.malformedOK).
func problems(a answer, opts checkOpts) (out []string, malformed bool) {
	if a.status >= 400 {
		return errorProblems(a), false
	}
	if !json.Valid(a.body) {
		if opts.malformedOK && a.status == http.StatusOK {
			return nil, true
		}
		return []string{"the body is not JSON"}, false
	}
	model := newModel(a.api)
	// What the SDK's HcHttpClient.deserializeResponseFields does for these responses (no body field):
	// utils.Unmarshal(data, &reqDef.Response).
	var resp any = model
	if err := utils.Unmarshal(a.body, &resp); err != nil {
		out = append(out, "the SDK cannot decode it: "+err.Error())
	}
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return append(out, "not JSON: "+err.Error()), false
	}
	out = append(out, unknownFields("", raw, reflect.TypeOf(model))...)
	out = append(out, enumProblems(a.api, raw)...)
	out = append(out, contractProblems(a, raw, model)...)
	return out, false
}

// errorProblems reads an error answer with the SDK's error handler (core/sdkerr), which must find the
// code and message, and the request id of the X-Request-Id header.
func errorProblems(a answer) []string {
	resp := &http.Response{StatusCode: a.status, Header: a.header, Body: io.NopCloser(bytes.NewReader(a.body))}
	err := sdkerr.DefaultErrorHandler{}.HandleError(nil, response.NewDefaultHttpResponse(resp))
	var sre *sdkerr.ServiceResponseError
	if !errors.As(err, &sre) {
		return []string{fmt.Sprintf("the SDK's error handler returned %v (%T)", err, err)}
	}
	var out []string
	if sre.ErrorCode == "" || sre.ErrorMessage == "" || sre.ErrorMessage == string(a.body) {
		out = append(out, fmt.Sprintf("the SDK reads no error code and message: %+v", *sre))
	}
	if sre.RequestId == "" || sre.StatusCode != a.status {
		out = append(out, fmt.Sprintf("the SDK reads status %d request id %q", sre.StatusCode, sre.RequestId))
	}
	return out
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

// unknownFields walks the decoded JSON beside the model type and names every object key that no json tag
// of the model has.
func unknownFields(path string, v any, t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch val := v.(type) {
	case map[string]any:
		switch {
		case t.Kind() == reflect.Interface:
			return nil
		case t.Kind() == reflect.Map:
			var out []string
			for k, sub := range val {
				out = append(out, unknownFields(path+"."+k, sub, t.Elem())...)
			}
			return out
		case t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(unmarshaler):
			return []string{fmt.Sprintf("%s: an object where the model has %s", strings.TrimPrefix(path, "."), t)}
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(val))
		for k := range val {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s: field %q is not in %s", strings.TrimPrefix(path, "."), k, t))
				continue
			}
			out = append(out, unknownFields(path+"."+k, val[k], ft)...)
		}
		return out
	case []any:
		if t.Kind() != reflect.Slice {
			if t.Kind() == reflect.Interface {
				return nil
			}
			return []string{fmt.Sprintf("%s: a list where the model has %s", strings.TrimPrefix(path, "."), t)}
		}
		var out []string
		for i, sub := range val {
			out = append(out, unknownFields(fmt.Sprintf("%s[%d]", path, i), sub, t.Elem())...)
		}
		return out
	}
	return nil
}

// jsonFields maps the json names of a struct's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// lookup returns the values at a rule path ("entities.sub_jobs[].status") with their concrete paths.
func lookup(v any, path, at string) map[string]any {
	if path == "" {
		return map[string]any{at: v}
	}
	head, rest, _ := strings.Cut(path, ".")
	list := strings.HasSuffix(head, "[]")
	key := strings.TrimSuffix(head, "[]")
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	sub, ok := m[key]
	if !ok {
		return nil
	}
	name := strings.TrimPrefix(at+"."+key, ".")
	if !list {
		return lookup(sub, rest, name)
	}
	out := map[string]any{}
	items, _ := sub.([]any)
	for i, item := range items {
		for k, x := range lookup(item, rest, fmt.Sprintf("%s[%d]", name, i)) {
			out[k] = x
		}
	}
	return out
}

func enumProblems(api huaweicloud.Service, raw any) []string {
	var out []string
	for _, r := range enumRules[api] {
		for at, v := range lookup(raw, r.path, "") {
			s, ok := v.(string)
			if v == nil {
				continue // null: no value
			}
			if !ok || !slices.Contains(r.allowed, s) {
				out = append(out, fmt.Sprintf("%s = %v: not a value the documents list (%s)", at, v, strings.Join(r.allowed, ", ")))
			}
		}
	}
	sort.Strings(out)
	return out
}

// contractProblems checks what the models' comments promise beyond field names and types.
func contractProblems(a answer, raw any, model any) []string {
	m, ok := raw.(map[string]any)
	if !ok {
		return []string{"the body is not an object"}
	}
	var out []string
	if a.api == huaweicloud.CTS {
		return ctsProblems(m)
	}
	if !hasJobStatus(a.api, m) {
		// A 2xx answer without a job is flow control, which only ECS documents: HTTP 202
		// {"code":"Common.0024","message":...} (ECS error-code appendix; ecs/v2 ShowJobResponse.Code).
		r, isECS := model.(*ecs.ShowJobResponse)
		if !isECS || a.status != http.StatusAccepted || r.Code == nil || *r.Code != "Common.0024" || r.Message == nil {
			out = append(out, fmt.Sprintf("HTTP %d without a job status, which only ECS's 202 Common.0024 may be", a.status))
		}
		return out
	}
	if a.status != http.StatusOK {
		out = append(out, fmt.Sprintf("a job answered with HTTP %d", a.status))
	}
	// sub_jobs_total counts the sub_jobs listed (ecs/v2 and bms/v1 JobEntities/Entities).
	if ent, _ := m["entities"].(map[string]any); ent != nil {
		if total, has := ent["sub_jobs_total"]; has {
			subs, _ := ent["sub_jobs"].([]any)
			if fmt.Sprint(total) != fmt.Sprint(len(subs)) {
				out = append(out, fmt.Sprintf("entities.sub_jobs_total %v with %d sub_jobs listed", total, len(subs)))
			}
		}
	}
	return out
}

// hasJobStatus reports whether an answer holds a job with a status, where the service's shape puts it:
// status (the v1 services), status.phase (CCE), job.status (ELB), data.status (CFW).
func hasJobStatus(api huaweicloud.Service, m map[string]any) bool {
	path := map[huaweicloud.Service]string{huaweicloud.CCE: "status.phase", huaweicloud.ELB: "job.status", huaweicloud.CFW: "data.status"}[api]
	if path == "" {
		path = "status"
	}
	for _, v := range lookup(m, path, "") {
		if s, ok := v.(string); ok && s != "" {
			return true
		}
	}
	return false
}

// ctsProblems: the last page's marker is null, any other page's the id of its last trace
// (model_meta_data.go); resource_url has no endpoint and resource_account_id is only for operations
// across accounts (model_traces.go).
func ctsProblems(m map[string]any) []string {
	var out []string
	traces, _ := m["traces"].([]any)
	meta, _ := m["meta_data"].(map[string]any)
	if meta == nil {
		return []string{"no meta_data"}
	}
	if fmt.Sprint(meta["count"]) != fmt.Sprint(len(traces)) {
		out = append(out, fmt.Sprintf("meta_data.count %v for %d traces", meta["count"], len(traces)))
	}
	marker, has := meta["marker"]
	switch {
	case !has:
		out = append(out, "meta_data.marker missing (null on the last page)")
	case marker == nil:
	case len(traces) == 0:
		out = append(out, fmt.Sprintf("meta_data.marker %q on an empty page", marker))
	default:
		last, _ := traces[len(traces)-1].(map[string]any)
		if s, _ := marker.(string); s == "" || s != last["trace_id"] {
			out = append(out, fmt.Sprintf("meta_data.marker %q is not the last trace's id (null on the last page)", marker))
		}
	}
	for i, x := range traces {
		tr, _ := x.(map[string]any)
		if u, _ := tr["resource_url"].(string); strings.Contains(u, "://") || (tr["endpoint"] != nil && tr["endpoint"] != "" && strings.Contains(u, fmt.Sprint(tr["endpoint"]))) {
			out = append(out, fmt.Sprintf("traces[%d].resource_url %q includes the endpoint", i, u))
		}
		user, _ := tr["user"].(map[string]any)
		if acct, has := tr["resource_account_id"]; has && user != nil && acct == user["account_id"] {
			out = append(out, fmt.Sprintf("traces[%d].resource_account_id %v is the caller's own account", i, acct))
		}
	}
	return out
}
