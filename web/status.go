package web

import (
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/discovery"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// Status is the state of what the jobs depend on, shown above the table: an operator whose table is
// empty or all red reads there why (a discovery source that fails, credentials that expire, a key backed
// off after a 401) without the log.
type Status struct {
	Discovery   []discovery.SourceState
	Credentials []Credentials
	Failures    []huaweicloud.Failure
}

// Credentials is the state of one project's credentials.
type Credentials struct {
	ProjectID, Region string
	huaweicloud.CredentialsStatus
	huaweicloud.CredentialsRefresh
}

// nearExpiry reports temporary credentials that should have been refreshed by now: past the point where
// the provider refreshes them (the SDK's 40 minutes before expiry, or half their lifetime when shorter;
// huaweicloud.refreshingProvider.due), or already expired.
func (c Credentials) nearExpiry(now time.Time) bool {
	if c.Expires.IsZero() {
		return false
	}
	left := c.Expires.Sub(now)
	threshold := 40 * time.Minute
	if !c.LastSuccess.IsZero() {
		threshold = min(threshold, c.Expires.Sub(c.LastSuccess)/2)
	}
	return left < threshold
}

// credentialsRow is a Credentials as the page shows it.
type credentialsRow struct {
	Credentials
	ExpiresIn   string // "in 4m10s", "3s ago"; "" for credentials that do not expire
	Expired     bool
	NearExpiry  bool
	RefreshedAt string // "12s ago"; "" if never refreshed
}

// sourceRow is a discovery.SourceState as the page shows it.
type sourceRow struct {
	discovery.SourceState
	SuccessAgo, ErrorAgo string
}

// failureRow is a huaweicloud.Failure as the page shows it.
type failureRow struct {
	huaweicloud.Failure
	SinceAgo string
	Scope    string // "access key of project ... in region ..." or "ECS in project ..."
	Hint     string
}

func (p *Pages) statusRows(now time.Time) (sources []sourceRow, creds []credentialsRow, failures []failureRow) {
	if p.Status == nil {
		return nil, nil, nil
	}
	st := p.Status()
	for _, s := range st.Discovery {
		r := sourceRow{SourceState: s}
		if !s.LastSuccess.IsZero() {
			r.SuccessAgo = age(now.Sub(s.LastSuccess)) + " ago"
		}
		if !s.LastErrorAt.IsZero() {
			r.ErrorAgo = age(now.Sub(s.LastErrorAt)) + " ago"
		}
		sources = append(sources, r)
	}
	for _, c := range st.Credentials {
		r := credentialsRow{Credentials: c, NearExpiry: c.nearExpiry(now)}
		if !c.Expires.IsZero() {
			if left := c.Expires.Sub(now); left > 0 {
				r.ExpiresIn = "in " + age(left)
			} else {
				r.ExpiresIn, r.Expired = age(-left)+" ago", true
			}
		}
		if !c.LastSuccess.IsZero() {
			r.RefreshedAt = age(now.Sub(c.LastSuccess)) + " ago"
		}
		creds = append(creds, r)
	}
	for _, f := range st.Failures {
		r := failureRow{Failure: f, SinceAgo: age(now.Sub(f.Since)) + " ago"}
		if f.Reason == huaweicloud.ReasonAuth {
			r.Scope = "Access key of project " + f.ProjectID + " (" + f.Region + ")"
			r.Hint = "every query of this project waits for the back-off to end; check the access key and secret key " +
				"(a 401 APIG.0301 is a wrong key, a wrong secret or a clock more than 15 minutes off)"
		} else {
			r.Scope = string(f.Service) + " in project " + f.ProjectID + " (" + f.Region + ")"
			r.Hint = "check projects[].project_id (is it a project of this account, in this region?) and that the key's policy allows " +
				string(f.Service) + " read-only access; other services keep working"
		}
		failures = append(failures, r)
	}
	return sources, creds, failures
}
