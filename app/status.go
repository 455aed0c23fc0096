package app

import (
	"sync/atomic"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/discovery"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/selfmetrics"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/web"
)

// pageState is what the landing page reads of the running configuration, set by apply and read without
// its lock: a reload stuck reading a file must not hold up the page.
type pageState struct {
	sources *discovery.States
	applied atomic.Pointer[appliedState]
}

type appliedState struct {
	client      *huaweicloud.Client
	credentials []selfmetrics.CredentialsEntry
}

func (s *pageState) set(client *huaweicloud.Client, creds []selfmetrics.CredentialsEntry) {
	s.applied.Store(&appliedState{client: client, credentials: creds})
}

// status is the web.Status of e: its discovery sources, each project's credentials and the client's
// authentication and permission failures.
func (e *Exporter) status() web.Status {
	var st web.Status
	if e.sources != nil {
		st.Discovery = e.sources.State(e.discovery.Sources())
	}
	a := e.applied.Load()
	if a == nil {
		return st
	}
	for _, c := range a.credentials {
		if c.Provider == nil {
			continue
		}
		st.Credentials = append(st.Credentials, web.Credentials{ProjectID: c.ProjectID, Region: c.Region,
			CredentialsStatus: c.Provider.Status(), CredentialsRefresh: huaweicloud.RefreshState(c.Provider)})
	}
	if a.client != nil {
		st.Failures = a.client.Failures()
	}
	return st
}
