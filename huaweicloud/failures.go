package huaweicloud

import (
	"cmp"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Failure is an authentication or permission failure that the client met and that still holds (no
// request of its scope succeeded since), with its original cause. Once a key or a service is backed off,
// the errors its callers see say only "backed off ... until ..."; the landing page shows the cause
// beside them, so that an operator reads "401 APIG.0301 ... signature mismatch" without the log.
type Failure struct {
	Reason    string // ReasonAuth (the access key: every service of the project) or ReasonPermission (one service)
	Region    string
	ProjectID string
	Service   Service // the service asked; for ReasonAuth the one whose request failed first
	Cause     string  // the error of the failure itself (HTTP status, code, message, request id); "" if only back-offs were seen
	Since     time.Time
	Latest    string // the latest error of the scope, e.g. the back-off with its end
	LatestAt  time.Time
}

// maxFailures bounds the failures kept: a config has at most a few thousand (project, service) pairs.
const maxFailures = 4096

// maxFailureText bounds the stored text of each error.
const maxFailureText = 600

type failureKey struct {
	reason, region, project string
	service                 Service // empty for ReasonAuth
}

// failureLog keeps the Failures, noted by GetJob and ListTraces after each call; its zero value is ready.
type failureLog struct {
	mu sync.Mutex
	m  map[failureKey]*Failure
	// n is len(m), so that a success (nearly every call) with nothing to clear takes no lock.
	n atomic.Int64
}

// note records the outcome of a call for t: a success clears the project's key failure and the
// service's permission failure; an authentication or permission error, or a back-off after one, is
// kept with the first error that was not a back-off. Other errors (timeouts, throttling) say nothing
// about the key and change nothing.
func (l *failureLog) note(now time.Time, t Target, err error) {
	authKey := failureKey{reason: ReasonAuth, region: t.Region, project: t.ProjectID}
	permKey := failureKey{reason: ReasonPermission, region: t.Region, project: t.ProjectID, service: t.Service}
	var k failureKey
	var backoff bool
	switch Reason(err) {
	case "":
		if l.n.Load() == 0 {
			return
		}
		l.mu.Lock()
		delete(l.m, authKey)
		delete(l.m, permKey)
		l.n.Store(int64(len(l.m)))
		l.mu.Unlock()
		return
	case ReasonAuth:
		k = authKey
	case ReasonAuthBackoff:
		k, backoff = authKey, true
	case ReasonPermission:
		k, backoff = permKey, errors.Is(err, ErrPermissionBackoff)
	default:
		return
	}
	msg := truncate(err.Error(), maxFailureText)
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.m[k]
	if f == nil {
		if len(l.m) >= maxFailures {
			return
		}
		if l.m == nil {
			l.m = map[failureKey]*Failure{}
		}
		f = &Failure{Reason: k.reason, Region: t.Region, ProjectID: t.ProjectID, Service: t.Service, Since: now}
		l.m[k] = f
		l.n.Store(int64(len(l.m)))
	}
	if !backoff {
		// A failure again after the back-off ended: the newest words of the API, the first time kept.
		f.Cause = msg
	}
	f.Latest, f.LatestAt = msg, now
}

// Failures returns the authentication and permission failures that still hold, for the landing page:
// key failures first, then by region, project and service.
func (c *Client) Failures() []Failure {
	c.failures.mu.Lock()
	out := make([]Failure, 0, len(c.failures.m))
	for _, f := range c.failures.m {
		out = append(out, *f)
	}
	c.failures.mu.Unlock()
	sortFailures(out)
	return out
}

func sortFailures(fs []Failure) {
	slices.SortFunc(fs, func(a, b Failure) int {
		if a.Reason != b.Reason {
			if a.Reason == ReasonAuth {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.Service, b.Service))
	})
}
