// Package huaweicloud talks to the Huawei Cloud job APIs: it signs requests with SDK-HMAC-SHA256, sends
// them with retries and an auth back-off, and decodes jobs, CTS traces and the cloud's error bodies.
package huaweicloud

import (
	"fmt"
	"strings"
)

// Service names a Huawei Cloud service by the host prefix of its endpoint.
type Service string

// The services whose jobs share GET /v1/{project_id}/jobs/{job_id}, plus CTS for discovery.
const (
	ECS Service = "ecs"
	EVS Service = "evs"
	BMS Service = "bms"
	IMS Service = "ims"
	CTS Service = "cts"
)

// JobServices lists the services whose job API the exporter queries.
var JobServices = []Service{ECS, EVS, BMS, IMS}

// ParseService accepts the name of a job service, case-insensitively.
func ParseService(s string) (Service, error) {
	for _, svc := range JobServices {
		if strings.EqualFold(s, string(svc)) {
			return svc, nil
		}
	}
	return "", fmt.Errorf("unknown service %q (valid: ecs, evs, bms, ims)", s)
}

// DefaultEndpoint is the public endpoint of a service in a region: the SDK's region table where it names
// one that differs from the pattern (regions.go), else https://{service}.{region}.myhuaweicloud.com, which
// every other entry of the tables follows, for regions in the tables and, as the best guess, for regions
// not in them yet (see KnownRegion).
func DefaultEndpoint(s Service, region string) string {
	if e, ok := endpointExceptions[s][region]; ok {
		return e
	}
	return "https://" + string(s) + "." + region + ".myhuaweicloud.com"
}

// Credentials is an AK/SK pair, with the security token of temporary credentials when there is one.
type Credentials struct {
	AccessKey     string
	SecretKey     string
	SecurityToken string
}

// Target says where and as whom to ask: one service of one project in one region.
type Target struct {
	Service     Service
	Region      string
	ProjectID   string
	Endpoint    string // scheme://host[:port], no trailing slash
	Credentials Credentials
	// RateLimit caps the requests of the target's project and region (see Client.WaitTurn); zero: none.
	RateLimit RateLimit
}
