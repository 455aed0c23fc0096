package simulator

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// CTS limits and defaults, as documented for ListTraces.
const (
	TraceLimitDefault = 10
	TraceLimitMax     = 200
	TraceWindow       = time.Hour          // default window when from is absent
	TraceKeep         = 7 * 24 * time.Hour // CTS keeps traces 7 days
)

// traceRec is one CTS trace: the call that created job.
type traceRec struct {
	ms  int64 // time and record_time, epoch ms
	job int32
	id  [16]byte
}

// addTrace records the trace of job idx; st.mu must be held for writing.
func (st *jobStore) addTrace(ms int64, job int32) {
	var id [16]byte
	for taken := true; taken; _, taken = st.traceIdx[id] {
		a, b := st.rng.Uint64(), st.rng.Uint64()
		for i := 0; i < 8; i++ {
			id[i], id[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
		}
		id[6] = id[6]&0x0f | 0x40
		id[8] = id[8]&0x3f | 0x80
	}
	idx := int32(len(st.traces))
	st.traces = append(st.traces, traceRec{ms: ms, job: job, id: id})
	st.traceIdx[id] = idx
	if !st.dirty && len(st.asc) > 0 && st.traces[st.asc[len(st.asc)-1]].ms > ms {
		st.dirty = true
	}
	st.asc = append(st.asc, idx)
}

// before orders traces by time, then by creation.
func (st *jobStore) before(a, b int32) bool {
	ta, tb := st.traces[a].ms, st.traces[b].ms
	return ta < tb || ta == tb && a < b
}

// sortTraces makes asc valid again after out-of-order additions.
func (st *jobStore) sortTraces() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.dirty {
		return
	}
	slices.SortFunc(st.asc, func(a, b int32) int {
		if c := cmp.Compare(st.traces[a].ms, st.traces[b].ms); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	st.dirty = false
}

// traceQuery is a parsed ListTraces request.
type traceQuery struct {
	system   bool
	limit    int
	from, to int64 // exclusive, ms
	next     *[16]byte
	filters  map[string]string // service_type, resource_type, resource_id, resource_name, trace_name, trace_rating, user
	traceID  *[16]byte
}

type ctsError struct {
	Code string `json:"error_code"`
	Msg  string `json:"error_msg"`
}

func badParam(format string, args ...any) (int, []byte) {
	return http.StatusBadRequest, marshal(ctsError{"CTS.0202", "Invalid parameter: " + fmt.Sprintf(format, args...)})
}

func parseTraceID(s string) (*[16]byte, bool) {
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		return nil, false
	}
	var id [16]byte
	copy(id[:], b)
	return &id, true
}

func parseMillis(v url.Values, key string) (int64, bool, error) {
	s := v.Get(key)
	if s == "" {
		return 0, false, nil
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms < 0 {
		return 0, false, fmt.Errorf("%s must be a UTC timestamp in milliseconds (13 digits), not %q", key, s)
	}
	return ms, true, nil
}

// tracesAnswer serves GET /v3/{project_id}/traces.
func (s *Simulator) tracesAnswer(r *http.Request, now time.Time) (int, []byte) {
	v := r.URL.Query()
	q := traceQuery{limit: TraceLimitDefault, filters: map[string]string{}}
	switch tt := v.Get("trace_type"); tt {
	case "":
		return badParam("trace_type is mandatory (system or data)")
	case "system":
		q.system = true
	case "data":
	default:
		return badParam("trace_type must be system or data, not %q", tt)
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > TraceLimitMax {
			return badParam("limit must be an integer from 1 to %d, not %q", TraceLimitMax, l)
		}
		q.limit = n
	}
	to, hasTo, err := parseMillis(v, "to")
	if err != nil {
		return badParam("%v", err)
	}
	if !hasTo {
		to = now.UnixMilli() + 1
	}
	from, hasFrom, err := parseMillis(v, "from")
	if err != nil {
		return badParam("%v", err)
	}
	if !hasFrom {
		from = to - TraceWindow.Milliseconds()
	}
	// Older traces are gone.
	q.from, q.to = max(from, now.Add(-TraceKeep).UnixMilli()-1), to
	if n := v.Get("next"); n != "" {
		id, ok := parseTraceID(n)
		if !ok {
			return badParam("next %q is not a marker", n)
		}
		q.next = id
	}
	if t := v.Get("trace_id"); t != "" {
		id, ok := parseTraceID(t)
		if !ok {
			return badParam("trace_id %q is not a trace id", t)
		}
		q.traceID = id
	}
	for _, k := range []string{"service_type", "resource_type", "resource_id", "resource_name", "trace_name", "trace_rating", "user"} {
		if f := v.Get(k); f != "" {
			q.filters[k] = f
		}
	}
	if tr := q.filters["trace_rating"]; tr != "" && tr != "normal" && tr != "warning" && tr != "incident" {
		return badParam("trace_rating must be normal, warning or incident, not %q", tr)
	}

	st := &s.store
	st.mu.RLock()
	for st.dirty {
		st.mu.RUnlock()
		st.sortTraces()
		st.mu.RLock()
	}
	var (
		page   []traceBody
		marker *string // null on the last page
	)
	switch {
	case !q.system:
		// Only management traces are recorded; data traces (OBS) are none.
	case q.traceID != nil:
		if idx, ok := st.traceIdx[*q.traceID]; ok {
			page = append(page, s.renderTrace(idx))
		}
	default:
		pos := len(st.asc)
		if q.next != nil {
			idx, ok := st.traceIdx[*q.next]
			if !ok {
				st.mu.RUnlock()
				return badParam("next %q is not a marker of this trace list", v.Get("next"))
			}
			pos = sort.Search(len(st.asc), func(i int) bool { return !st.before(st.asc[i], idx) })
		}
		pos = min(pos, sort.Search(len(st.asc), func(i int) bool { return st.traces[st.asc[i]].ms >= q.to }))
		var last int32 = -1
		for i := pos - 1; i >= 0; i-- {
			idx := st.asc[i]
			if st.traces[idx].ms <= q.from {
				break
			}
			if !s.traceMatches(idx, q.filters) {
				continue
			}
			if len(page) == q.limit {
				marker = strp(traceIDString(st.traces[last].id))
				break
			}
			page = append(page, s.renderTrace(idx))
			last = idx
		}
	}
	st.mu.RUnlock()
	if page == nil {
		page = []traceBody{}
	}
	return http.StatusOK, marshal(tracesBody{Traces: page, MetaData: metaData{Count: len(page), Marker: marker}})
}

type tracesBody struct {
	Traces   []traceBody `json:"traces"`
	MetaData metaData    `json:"meta_data"`
}

// metaData is ListTraces' meta_data (services/cts/v3/model/model_meta_data.go): marker is the id of the
// last trace of a page that has a successor, and null on the last page ("如果marker返回为null，则表示...
// 已经全部返回没有下一页").
type metaData struct {
	Count  int     `json:"count"`
	Marker *string `json:"marker"`
}

type traceUser struct {
	ID                  string      `json:"id"`
	Name                string      `json:"name"`
	UserName            string      `json:"user_name"`
	Domain              traceDomain `json:"domain"`
	AccountID           string      `json:"account_id"`
	AccessKeyID         string      `json:"access_key_id"`
	PrincipalURN        string      `json:"principal_urn"`
	PrincipalID         string      `json:"principal_id"`
	PrincipalIsRootUser string      `json:"principal_is_root_user"`
	Type                string      `json:"type"`
}

type traceDomain struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

type traceBody struct {
	ResourceID          string    `json:"resource_id"`
	TraceName           string    `json:"trace_name"`
	TraceRating         string    `json:"trace_rating"`
	TraceType           string    `json:"trace_type"`
	Request             string    `json:"request"`
	Response            string    `json:"response"`
	Code                string    `json:"code"`
	APIVersion          string    `json:"api_version"`
	Message             string    `json:"message"`
	RecordTime          int64     `json:"record_time"`
	TraceID             string    `json:"trace_id"`
	Time                int64     `json:"time"`
	User                traceUser `json:"user"`
	ServiceType         string    `json:"service_type"`
	ResourceType        string    `json:"resource_type"`
	SourceIP            string    `json:"source_ip"`
	ResourceName        string    `json:"resource_name"`
	RequestID           string    `json:"request_id"`
	LocationInfo        string    `json:"location_info"`
	Endpoint            string    `json:"endpoint"`
	ResourceURL         string    `json:"resource_url"` // without the endpoint (model_traces.go: "不含endpoint")
	EnterpriseProjectID string    `json:"enterprise_project_id"`
	ReadOnly            bool      `json:"read_only"`
	// No resource_account_id: model_traces.go fills it only for cross-account operations, and the
	// simulated caller acts in its own account.
}

// traceIdentity is the IAM user every trace names as the caller.
type traceIdentity struct {
	user     traceUser
	region   string
	project  string
	sourceIP string
}

func newTraceIdentity(opts Options) traceIdentity {
	seed := strconv.FormatInt(opts.Seed, 10)
	d, u := derive(seed, "domain", 0), derive(seed, "user", 0)
	domainID, userID := hex.EncodeToString(d[:]), hex.EncodeToString(u[:])
	ak := ""
	for k := range opts.Credentials {
		if ak == "" || k < ak {
			ak = k
		}
	}
	region := opts.Region
	if region == "" {
		region = "ap-southeast-1"
	}
	return traceIdentity{
		user: traceUser{
			ID: userID, Name: "hwsim-operator", UserName: "hwsim-operator",
			Domain:    traceDomain{Name: "hwsim-account", ID: domainID},
			AccountID: domainID, AccessKeyID: ak,
			PrincipalURN: "iam::" + domainID + ":user:hwsim-operator", PrincipalID: userID,
			PrincipalIsRootUser: "false", Type: "User",
		},
		region:   region,
		project:  opts.ProjectID,
		sourceIP: fmt.Sprintf("10.%d.%d.%d", 16+d[0]%16, d[1], 1+d[2]%254),
	}
}

// resourceTypes of the traces; those of the later services are illustrative (no example trace found).
var resourceTypes = [...]string{svcECS: "ecs", svcEVS: "evs", svcBMS: "bms", svcIMS: "ims",
	svcEIP: "eip", svcSDRS: "protectionGroup", svcCCE: "cluster", svcELB: "loadbalancer", svcCFW: "firewall"}

// traceName is the CTS operation of the call that created a job of this type.
func traceName(jobType string) string {
	switch jobType {
	case "batchCreateVolume":
		return "createVolume"
	case "createImageByInstance":
		return "createImage"
	case "createBatchPublicip":
		return "createPublicips"
	case "createProtectionGroupNoCG":
		return "createProtectionGroup"
	case "CreateCluster":
		return "createCluster" // "CCE Operations Supported by CTS", cce_10_0025
	case "upgradeLoadbalancer":
		return "upgradeLoadbalancer"
	case "baremetalBatchCreate":
		return "createBareMetalServers"
	}
	return jobType
}

func traceIDString(id [16]byte) string { return uuid(id) }

// traceMatches applies the optional filters; st.mu must be held.
func (s *Simulator) traceMatches(idx int32, f map[string]string) bool {
	if len(f) == 0 {
		return true
	}
	rec := &s.store.jobs[s.store.traces[idx].job]
	for k, want := range f {
		var have string
		switch k {
		case "service_type":
			have = services[rec.svc].ctsService
		case "resource_type":
			have = resourceTypes[rec.svc]
		case "resource_id":
			have = primaryResource(rec)
		case "resource_name":
			have = resourceName(rec)
		case "trace_name":
			have = traceName(rec.jobType)
		case "trace_rating":
			have = "normal"
		case "user":
			have = s.identity.user.Name
		}
		if !strings.EqualFold(have, want) {
			return false
		}
	}
	return true
}

// primaryResource is the resource a trace names: the job's own, or the first sub-job's of a batch.
func primaryResource(rec *jobRec) string {
	if rec.subJobs > 0 && rec.svc != svcIMS {
		return resourceID(rec.id, 0)
	}
	return resourceID(rec.id, -1)
}

func resourceName(rec *jobRec) string {
	if rec.svc == svcIMS {
		return imageName(rec.id)
	}
	return "hwsim-" + rec.id[max(0, len(rec.id)-6):]
}

// renderTrace builds the trace of trace idx; st.mu must be held.
func (s *Simulator) renderTrace(idx int32) traceBody {
	t := &s.store.traces[idx]
	rec := &s.store.jobs[t.job]
	info := &services[rec.svc]
	name := resourceName(rec)
	count := max(1, int(rec.subJobs))
	// path is the resource the trace names, as the service's API addresses it.
	var request, path string
	switch rec.svc {
	case svcECS:
		request = fmt.Sprintf(`{"server":{"name":%q,"flavorRef":"s6.large.2","count":%d}}`, name, count)
		path = "/v1/" + s.identity.project + "/cloudservers/" + primaryResource(rec)
	case svcEVS:
		request = fmt.Sprintf(`{"volume":{"name":%q,"size":100,"volume_type":"SSD","count":%d}}`, name, count)
		path = "/v2/" + s.identity.project + "/cloudvolumes/" + primaryResource(rec)
	case svcBMS:
		request = fmt.Sprintf(`{"server":{"name":%q,"flavorRef":"physical.s4.large","count":%d}}`, name, count)
		path = "/v1/" + s.identity.project + "/baremetalservers/" + primaryResource(rec)
	case svcIMS:
		request = fmt.Sprintf(`{"name":%q,"instance_id":%q}`, name, resourceID(rec.id, -2))
		path = "/v2/cloudimages/" + primaryResource(rec)
	case svcEIP:
		request = fmt.Sprintf(`{"publicip":{"type":"5_bgp","count":%d},"bandwidth":{"name":%q,"size":5,"share_type":"PER"}}`, count, name)
		path = "/v2/" + s.identity.project + "/batchpublicips"
	case svcSDRS:
		request = fmt.Sprintf(`{"server_group":{"name":%q}}`, name)
		path = "/v1/" + s.identity.project + "/server-groups/" + primaryResource(rec)
	case svcCCE:
		request = fmt.Sprintf(`{"kind":"Cluster","apiVersion":"v3","metadata":{"name":%q}}`, name)
		path = "/api/v3/projects/" + s.identity.project + "/clusters/" + uuid(derive(rec.id, "cluster", 0))
	case svcELB:
		request = `{}`
		path = "/v3/" + s.identity.project + "/elb/loadbalancers/" + resourceID(rec.id, -1) + "/upgrade"
	case svcCFW:
		request = fmt.Sprintf(`{"name":%q,"flavor":{"version":"Standard"}}`, name)
		path = "/v2/" + s.identity.project + "/firewall"
	}
	// The recorded answer names the job: {"job_id"} of the job-creating calls (their SDK response
	// models), and for CCE the cluster object with status.jobID (cce/v3/model/model_cluster_status.go).
	response := `{"job_id":"` + rec.id + `"}`
	if rec.svc == svcCCE {
		response = fmt.Sprintf(`{"kind":"Cluster","apiVersion":"v3","metadata":{"name":%q,"uid":%q},"status":{"phase":"Creating","jobID":%q}}`,
			name, uuid(derive(rec.id, "cluster", 0)), rec.id)
	}
	host := strings.TrimPrefix(huaweicloud.DefaultEndpoint(info.svc, s.identity.region), "https://")
	rid := derive(rec.id, "request", 0)
	return traceBody{
		ResourceID:          primaryResource(rec),
		TraceName:           traceName(rec.jobType),
		TraceRating:         "normal",
		TraceType:           "ApiCall",
		Request:             request,
		Response:            response,
		Code:                "202",
		APIVersion:          info.apiVersion,
		Message:             "",
		RecordTime:          t.ms,
		TraceID:             traceIDString(t.id),
		Time:                t.ms,
		User:                s.identity.user,
		ServiceType:         info.ctsService,
		ResourceType:        resourceTypes[rec.svc],
		SourceIP:            s.identity.sourceIP,
		ResourceName:        name,
		RequestID:           hex.EncodeToString(rid[:]),
		LocationInfo:        "",
		Endpoint:            host,
		ResourceURL:         path,
		EnterpriseProjectID: "0",
		ReadOnly:            false,
	}
}
