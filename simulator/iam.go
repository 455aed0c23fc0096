package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// IAMOptions turn on IAM's federated-identity APIs on the simulator's address, as the official SDK's
// id_token flow calls them (core/auth/internal/iam_service.go; fact sheet section C):
// POST /v3.0/OS-AUTH/id-token/tokens (header X-Idp-Id, body auth.id_token.id and auth.scope.project.id)
// answers 201 with the token in X-Subject-Token, and POST /v3.0/OS-CREDENTIAL/securitytokens with that
// token (X-Auth-Token or auth.identity.token.id) answers 201 with temporary credentials.
type IAMOptions struct {
	IdpID   string        // the identity provider id to accept
	IDToken string        // the id_token to accept; "" accepts any non-empty one
	TTL     time.Duration // lifetime of the temporary credentials (default: duration_seconds, else 6h)
}

// serveIAM answers the IAM paths when IAM is on; false for other paths.
func (s *Simulator) serveIAM(w http.ResponseWriter, r *http.Request) bool {
	o := s.opts.IAM
	if o == nil || (r.URL.Path != huaweicloud.IAMIDTokenPath && r.URL.Path != huaweicloud.IAMSecurityTokensPath) {
		return false
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Request-Id", s.requestID())
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.writeJSON(w, http.StatusMethodNotAllowed, errorEnvelope{errorBody{"method not allowed", "IAM.0001"}})
		return true
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	switch r.URL.Path {
	case huaweicloud.IAMIDTokenPath:
		var req struct {
			Auth struct {
				IDToken struct {
					ID string `json:"id"`
				} `json:"id_token"`
				Scope struct {
					Project struct {
						ID string `json:"id"`
					} `json:"project"`
				} `json:"scope"`
			} `json:"auth"`
		}
		if json.Unmarshal(body, &req) != nil || req.Auth.IDToken.ID == "" {
			s.writeJSON(w, http.StatusBadRequest, errorEnvelope{errorBody{"The request body is invalid.", "IAM.0001"}})
			return true
		}
		if r.Header.Get("X-Idp-Id") != o.IdpID || (o.IDToken != "" && req.Auth.IDToken.ID != o.IDToken) {
			s.writeJSON(w, http.StatusUnauthorized, errorEnvelope{errorBody{"The id_token or identity provider is invalid.", "IAM.0002"}})
			return true
		}
		if p := s.opts.ProjectID; p != "" && req.Auth.Scope.Project.ID != p {
			s.writeJSON(w, http.StatusForbidden, errorEnvelope{errorBody{"The project is not in this account.", "IAM.0003"}})
			return true
		}
		tok := "iam-" + randomHex(32)
		s.temp.mu.Lock()
		if s.temp.iam == nil {
			s.temp.iam = map[string]bool{}
		}
		s.temp.iam[tok] = true
		s.temp.mu.Unlock()
		w.Header().Set("X-Subject-Token", tok)
		s.writeJSON(w, http.StatusCreated, map[string]any{"token": map[string]any{
			"expires_at": s.now().Add(24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000000Z"),
			"methods":    []string{"mapped"},
			"project":    map[string]string{"id": req.Auth.Scope.Project.ID},
		}})
	case huaweicloud.IAMSecurityTokensPath:
		var req struct {
			Auth struct {
				Identity struct {
					Methods []string `json:"methods"`
					Token   struct {
						ID              string `json:"id"`
						DurationSeconds int    `json:"duration_seconds"`
					} `json:"token"`
				} `json:"identity"`
			} `json:"auth"`
		}
		_ = json.Unmarshal(body, &req)
		tok := r.Header.Get("X-Auth-Token")
		if tok == "" {
			tok = req.Auth.Identity.Token.ID
		}
		s.temp.mu.Lock()
		ok := s.temp.iam[tok]
		s.temp.mu.Unlock()
		if !ok {
			s.writeJSON(w, http.StatusUnauthorized, errorEnvelope{errorBody{"The token is invalid.", "IAM.0010"}})
			return true
		}
		ttl := o.TTL
		if ttl <= 0 {
			ttl = 6 * time.Hour
			if d := req.Auth.Identity.Token.DurationSeconds; d > 0 {
				ttl = time.Duration(d) * time.Second
			}
		}
		ak, c := s.issue(ttl)
		s.writeJSON(w, http.StatusCreated, wireCred(ak, c))
	}
	return true
}
