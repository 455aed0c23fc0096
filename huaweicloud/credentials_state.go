package huaweicloud

import "time"

// CredentialsRefresh is what a provider knows of its last re-read (files) or refresh (metadata, IAM),
// for the landing page. Static and environment credentials are never refreshed: both fields are empty.
type CredentialsRefresh struct {
	LastSuccess time.Time // the last read or fetch that gave credentials
	LastError   string    // the error of the last attempt when it failed; "" after a success
}

// RefreshState returns p's CredentialsRefresh; zero for a provider that does not refresh or that this
// package did not make.
func RefreshState(p CredentialsProvider) CredentialsRefresh {
	switch p := p.(type) {
	case *fileProvider:
		p.mu.Lock()
		defer p.mu.Unlock()
		r := CredentialsRefresh{LastError: p.lastErr}
		if p.lastErr == "" {
			r.LastSuccess = p.lastRead
		}
		return r
	case *refreshingProvider:
		p.mu.Lock()
		defer p.mu.Unlock()
		r := CredentialsRefresh{LastSuccess: p.fetched}
		if p.lastErr != nil {
			r.LastError = truncate(p.lastErr.Error(), maxFailureText)
		}
		return r
	}
	return CredentialsRefresh{}
}
