package huaweicloud

import (
	"fmt"
	"slices"
	"strings"
)

// The services added by the adapter table, besides the four of service.go.
const (
	EIP  Service = "eip"
	SDRS Service = "sdrs"
	CCE  Service = "cce"
	ELB  Service = "elb"
	CFW  Service = "cfw"
)

// ServiceSpec is one row of the service table: everything the exporter knows about a service. A service
// the exporter supports is one row here plus its parser and fixtures; the collector, the config, the
// metrics, the alerts and the dashboards name no service (the service label carries Name).
type ServiceSpec struct {
	Name Service
	// Host is the first label of the public endpoint, https://{Host}.{region}.myhuaweicloud.com: "vpc"
	// for EIP, whose job API lives on the VPC endpoint (services/eip/v2/region/region.go).
	Host string
	// Regions is the SDK's region table (services/<svc>/<version>/region/region.go) and Exceptions the
	// entries of it that do not follow the pattern.
	Regions    []string
	Exceptions map[string]string
	// Path is the job API's path as the SDK's *_meta.go writes it (WithPath), with {project_id} and
	// {job_id}; empty for a service that is not a job service (CTS).
	Path string
	// Parse turns a 2xx answer of the job API into the one Job model.
	Parse func(s Service, status int, body []byte) (*Job, error)
	// CodePrefix starts the service's own error codes ("EVS.2024"); a 404 with it is the service saying
	// the job is unknown (see APIError.NotFound).
	CodePrefix string
	// CTSServiceType is the service_type of the CTS traces of the calls that create the service's jobs,
	// "" when its jobs cannot be found in CTS. CTSDefault puts it in cts.services when the config does not
	// list them: only where a trace is known (or, for the four original services, assumed since they were
	// first supported) to carry the job id in its recorded response.
	CTSServiceType string
	CTSDefault     bool
}

// services is the table. Order: the original four first (config defaults and messages keep their
// order), then the services of issue 12, then CTS.
var services = []ServiceSpec{
	{Name: ECS, Host: "ecs", Regions: ecsRegions, Path: v1JobPath, Parse: parseV1Job, CodePrefix: "ECS.",
		CTSServiceType: "ECS", CTSDefault: true},
	{Name: EVS, Host: "evs", Regions: append(slices.Clone(ecsRegions), "ru-northwest-2"), Path: v1JobPath, Parse: parseV1Job,
		CodePrefix: "EVS.", CTSServiceType: "EVS", CTSDefault: true},
	{Name: BMS, Host: "bms", Regions: bmsRegions, Path: v1JobPath, Parse: parseV1Job, CodePrefix: "BMS.",
		CTSServiceType: "BMS", CTSDefault: true},
	{Name: IMS, Host: "ims", Regions: ecsRegions, Path: v1JobPath, Parse: parseV1Job, CodePrefix: "IMS.",
		CTSServiceType: "IMS", CTSDefault: true},
	// EIP: ShowResourcesJobDetail, services/eip/v2/eip_meta.go, on the vpc host (eip/v2/region/region.go,
	// 33 regions). Doc "Querying Job Status", https://support.huaweicloud.com/intl/en-us/api-eip/ShowResourcesJobDetail.html.
	// Its jobs come from the batch public IP calls (POST/DELETE /v2/{project_id}/batchpublicips, whose
	// responses carry job_id: model_batch_create_publicips_response.go ...). CTS records EIP operations
	// under the VPC service; that the recorded response holds the job id is not documented: opt-in.
	{Name: EIP, Host: "vpc", Regions: eipRegions, Path: v1JobPath, Parse: parseV1Job, CodePrefix: "VPC.",
		CTSServiceType: "VPC"},
	// SDRS: ShowJobStatus, services/sdrs/v1/sdrs_meta.go; region table sdrs/v1/region/region.go (7
	// regions, ap-southeast-2 served by sdrs.ap-southeast-3). Doc "Querying the Job Status",
	// https://support.huaweicloud.com/intl/en-us/api-sdrs/sdrs_05_0101.html. CTS content unconfirmed: opt-in.
	{Name: SDRS, Host: "sdrs", Regions: sdrsRegions, Path: v1JobPath, Parse: parseV1Job, CodePrefix: "SDRS.",
		Exceptions:     map[string]string{"ap-southeast-2": "https://sdrs.ap-southeast-3.myhuaweicloud.com"},
		CTSServiceType: "SDRS"},
	// CCE: ShowJob, services/cce/v3/cce_meta.go; region table cce/v3/region/region.go (33 regions,
	// eu-west-101 on .eu). Doc "Obtaining Job Information", https://support.huaweicloud.com/en-us/api-cce/cce_02_0247.html.
	// CTS records CCE requests "as well as responses" (doc "CCE Operations Supported by CTS",
	// https://support.huaweicloud.com/intl/en-us/usermanual-cce/cce_10_0025.html), and cluster and node
	// responses name the job in status.jobID (cce/v3/model/model_cluster_status.go, model_node_status.go).
	{Name: CCE, Host: "cce", Regions: cceRegions, Path: "/api/v3/projects/{project_id}/jobs/{job_id}", Parse: parseCCEJob,
		Exceptions: map[string]string{"eu-west-101": "https://cce.eu-west-101.myhuaweicloud.eu"}, CodePrefix: "CCE.",
		CTSServiceType: "CCE", CTSDefault: true},
	// ELB v3: ShowJob, services/elb/v3/elb_meta.go; region table elb/v3/region/region.go (32 regions).
	// Doc "Querying the Status of an Asynchronous Task", https://support.huaweicloud.com/intl/en-us/api-elb/ShowJob.html.
	// Its jobs come from load balancer copy/upgrade and batch calls (clone_loadbalancer,
	// batch_create_load_balancers ... responses carry job_id). CTS content unconfirmed: opt-in.
	{Name: ELB, Host: "elb", Regions: elbRegions, Path: "/v3/{project_id}/elb/jobs/{job_id}", Parse: parseELBJob,
		CodePrefix: "ELB.", CTSServiceType: "ELB"},
	// CFW: ListJob, services/cfw/v1/cfw_meta.go; region table cfw/v1/region/region.go (28 regions,
	// eu-west-101 on .eu). Doc "List Job Status", https://support.huaweicloud.com/intl/en-us/tr-central-201-api-cfw/ListJob.html
	// and (Chinese, current) https://support.huaweicloud.com/api-cfw/ListJob.html. Its only job is the
	// creation of a pay-per-use firewall. CTS content unconfirmed: opt-in.
	{Name: CFW, Host: "cfw", Regions: cfwRegions, Path: "/v3/{project_id}/jobs/{job_id}", Parse: parseCFWJob,
		Exceptions: map[string]string{"eu-west-101": "https://cfw.eu-west-101.myhuaweicloud.eu"}, CodePrefix: "CFW.",
		CTSServiceType: "CFW"},
	// CTS is the discovery source, not a job service: no path.
	{Name: CTS, Host: "cts", Regions: ctsRegions, Exceptions: map[string]string{"eu-west-101": "https://cts.eu-west-101.myhuaweicloud.eu"}},
}

// v1JobPath is the job API shared by ECS, EVS, BMS, IMS, EIP and SDRS.
const v1JobPath = "/v1/{project_id}/jobs/{job_id}"

// JobServices lists the services whose job API the exporter queries, in table order.
var JobServices = func() []Service {
	var out []Service
	for _, s := range services {
		if s.Path != "" {
			out = append(out, s.Name)
		}
	}
	return out
}()

// EndpointServices are the services a project has an endpoint for: the job services and CTS. Whatever
// must cover every endpoint (a config that points all of them somewhere, a check that none leaves
// loopback, the warnings about regions) ranges over it, so a service added to the table is covered.
var EndpointServices = append(JobServices[:len(JobServices):len(JobServices)], CTS)

// CTSDefaultServices are the services whose traces CTS discovery reads when the config names none.
var CTSDefaultServices = func() []Service {
	var out []Service
	for _, s := range services {
		if s.CTSDefault {
			out = append(out, s.Name)
		}
	}
	return out
}()

// Spec returns the row of s; ok is false for a name the table does not have.
func Spec(s Service) (ServiceSpec, bool) {
	for _, row := range services {
		if row.Name == s {
			return row, true
		}
	}
	return ServiceSpec{}, false
}

// ServiceNames lists the job services for messages: "ecs, evs, bms, ...".
func ServiceNames() string {
	names := make([]string, len(JobServices))
	for i, s := range JobServices {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// ParseService accepts the name of a job service, case-insensitively.
func ParseService(s string) (Service, error) {
	for _, svc := range JobServices {
		if strings.EqualFold(s, string(svc)) {
			return svc, nil
		}
	}
	return "", fmt.Errorf("unknown service %q (valid: %s)", s, ServiceNames())
}

// DefaultEndpoint is the public endpoint of a service in a region: the SDK's region table where it names
// one that differs from the pattern, else https://{host}.{region}.myhuaweicloud.com, which every other
// entry of the tables follows, for regions in the tables and, as the best guess, for regions not in them
// yet (see KnownRegion).
func DefaultEndpoint(s Service, region string) string {
	row, ok := Spec(s)
	if !ok {
		return "https://" + string(s) + "." + region + ".myhuaweicloud.com"
	}
	if e, ok := row.Exceptions[region]; ok {
		return e
	}
	return "https://" + row.Host + "." + region + ".myhuaweicloud.com"
}

// KnownRegion reports whether the SDK's region table of service s lists region. An unknown region still
// has a default endpoint (the pattern), which may not exist: worth a warning, not an error, because
// Huawei adds regions faster than this table follows.
func KnownRegion(s Service, region string) bool {
	row, ok := Spec(s)
	return ok && slices.Contains(row.Regions, region)
}

// jobPath fills the row's path template; each filled value is one path segment (escaped by the client).
func (r ServiceSpec) jobPath(project, jobID string) []string {
	return r.appendJobPath(nil, project, jobID)
}

// appendJobPath is jobPath appending to dst, for the client, which keeps the segments on its stack.
func (r ServiceSpec) appendJobPath(dst []string, project, jobID string) []string {
	rest := strings.Trim(r.Path, "/")
	for {
		s, tail, more := strings.Cut(rest, "/")
		switch s {
		case "{project_id}":
			s = project
		case "{job_id}":
			s = jobID
		}
		dst = append(dst, s)
		if !more {
			return dst
		}
		rest = tail
	}
}

// JobPath is the path of a job of service s, as sent ("/v1/{project}/jobs/{id}"), for tests and tools
// that serve or check it; "" for a service without a job API.
func JobPath(s Service, project, jobID string) string {
	row, ok := Spec(s)
	if !ok || row.Path == "" {
		return ""
	}
	return "/" + strings.Join(row.jobPath(project, jobID), "/")
}

// ParseJob decodes a 2xx job answer of service s with the service's parser. A body that carries a query
// error instead of a job (ECS answers flow control with HTTP 202 and {"code":"Common.0024",...}; EVS
// documents {"error":{...}}) is returned as *APIError, so throttling is never mistaken for a job.
func ParseJob(s Service, status int, body []byte) (*Job, error) {
	if row, ok := Spec(s); ok && row.Parse != nil {
		return row.Parse(s, status, body)
	}
	return parseV1Job(s, status, body)
}

// mapStatus maps a service's status onto the documented ones through m (keys upper-case); a value that
// maps to nothing is kept verbatim, so the collector exports it as its own state.
func mapStatus(raw string, m map[string]string) string {
	raw = strings.TrimSpace(raw)
	if v, ok := m[strings.ToUpper(raw)]; ok {
		return v
	}
	return raw
}
