// Package huaweicloud talks to the Huawei Cloud job APIs: it signs requests with SDK-HMAC-SHA256, sends
// them with retries and an auth back-off, and decodes jobs, CTS traces and the cloud's error bodies.
package huaweicloud

import (
	"context"
	"fmt"
)

// Service names a Huawei Cloud service: the key of its row in the service table (services.go), the
// value of the service label and the key of a config's endpoints. Mostly, not always, the first label of
// its endpoint's host (EIP is on vpc.).
type Service string

// The services whose jobs share GET /v1/{project_id}/jobs/{job_id}, plus CTS for discovery. The others,
// and what each one is, are in the service table (services.go).
const (
	ECS Service = "ecs"
	EVS Service = "evs"
	BMS Service = "bms"
	IMS Service = "ims"
	CTS Service = "cts"
)

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
	// Provider, when set, is asked for the credentials of every call instead of Credentials: it follows
	// rotated files and refreshes temporary credentials.
	Provider CredentialsProvider
	// RateLimit caps the requests of the target's project and region (see admission); zero: none.
	RateLimit RateLimit
}

// credentials are the credentials to sign the next call with.
func (t Target) credentials(ctx context.Context) (Credentials, error) {
	c := t.Credentials
	if t.Provider != nil {
		var err error
		if c, err = t.Provider.Credentials(ctx); err != nil {
			return Credentials{}, err
		}
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return Credentials{}, fmt.Errorf("%w: no access key or secret key", ErrNoCredentials)
	}
	return c, nil
}
