package simulator

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// MetadataOptions turn on the ECS metadata service's agency credentials API on the simulator's own
// address: PUT /meta-data/latest/api/token and GET /openstack/latest/securitykey, as the official SDK
// calls them (core/auth/internal/metadata_accessor.go). Every answer is a fresh temporary AK/SK and
// security token that the simulated gateway accepts, with the token, until it expires.
type MetadataOptions struct {
	// TTL is the lifetime of the credentials handed out (default 1h; real agency credentials last
	// about a day, a short TTL shows refreshes in a demo).
	TTL time.Duration
	// SessionTokens requires the session-token step: GET without a valid X-Metadata-Token gets 401.
	// Without it, PUT token answers 404 as a metadata service without session tokens does.
	SessionTokens bool
}

// tempStore holds the temporary credentials handed out by the metadata service and IAM.
type tempStore struct {
	mu       sync.Mutex
	creds    map[string]tempCred // by access key
	sessions map[string]bool     // metadata session tokens
	iam      map[string]bool     // IAM tokens from id_token exchanges
}

type tempCred struct {
	secret, token string
	expires       time.Time
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// issue makes a new set of temporary credentials valid for ttl.
func (s *Simulator) issue(ttl time.Duration) (ak string, c tempCred) {
	ak = "TEMP" + strings.ToUpper(randomHex(8))
	c = tempCred{secret: randomHex(20), token: "tmp-" + randomHex(64), expires: s.now().Add(ttl).Truncate(time.Second)}
	s.temp.mu.Lock()
	defer s.temp.mu.Unlock()
	if s.temp.creds == nil {
		s.temp.creds = map[string]tempCred{}
	}
	// Expired credentials are forgotten as new ones are issued, so the map stays small.
	now := s.now()
	for k, v := range s.temp.creds {
		if !now.Before(v.expires) {
			delete(s.temp.creds, k)
		}
	}
	s.temp.creds[ak] = c
	return ak, c
}

// tempCredential returns the unexpired temporary credentials of ak.
func (s *Simulator) tempCredential(ak string) (tempCred, bool) {
	s.temp.mu.Lock()
	defer s.temp.mu.Unlock()
	c, ok := s.temp.creds[ak]
	if !ok || !s.now().Before(c.expires) {
		return tempCred{}, false
	}
	return c, true
}

// checkSecurityToken is the gateway's check of temporary credentials after the signature: their access
// key is only valid with its X-Security-Token, and the token must be signed (docs "How Do I Use a
// Temporary AK/SK to Sign Requests?").
func (s *Simulator) checkSecurityToken(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	rest, _ := strings.CutPrefix(auth, huaweicloud.Algorithm+" Access=")
	ak, _, _ := strings.Cut(rest, ",")
	c, ok := s.tempCredential(ak)
	if !ok {
		return "" // a permanent key (the signature check knew it)
	}
	_, signed, _ := strings.Cut(auth, "SignedHeaders=")
	signed, _, _ = strings.Cut(signed, ",")
	if r.Header.Get("X-Security-Token") != c.token || !strings.Contains(";"+signed+";", ";x-security-token;") {
		return "temporary access key without its signed X-Security-Token"
	}
	return ""
}

type wireTempCred struct {
	Access        string `json:"access"`
	Secret        string `json:"secret"`
	SecurityToken string `json:"securitytoken"`
	ExpiresAt     string `json:"expires_at"`
}

func wireCred(ak string, c tempCred) map[string]wireTempCred {
	return map[string]wireTempCred{"credential": {ak, c.secret, c.token, c.expires.UTC().Format("2006-01-02T15:04:05.000000Z")}}
}

// serveMetadata answers the metadata paths when the metadata service is on; false for other paths.
func (s *Simulator) serveMetadata(w http.ResponseWriter, r *http.Request) bool {
	o := s.opts.Metadata
	if o == nil || (r.URL.Path != huaweicloud.MetadataTokenPath && r.URL.Path != huaweicloud.MetadataSecurityKeyPath) {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxRequestBody))
	switch {
	case r.URL.Path == huaweicloud.MetadataTokenPath && r.Method == http.MethodPut:
		if !o.SessionTokens {
			http.Error(w, "not found", http.StatusNotFound)
			return true
		}
		tok := randomHex(16)
		s.temp.mu.Lock()
		if s.temp.sessions == nil {
			s.temp.sessions = map[string]bool{}
		}
		s.temp.sessions[tok] = true
		s.temp.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, tok)
	case r.URL.Path == huaweicloud.MetadataSecurityKeyPath && r.Method == http.MethodGet:
		if o.SessionTokens {
			s.temp.mu.Lock()
			ok := s.temp.sessions[r.Header.Get("X-Metadata-Token")]
			s.temp.mu.Unlock()
			if !ok {
				http.Error(w, "invalid or missing X-Metadata-Token", http.StatusUnauthorized)
				return true
			}
		}
		ttl := o.TTL
		if ttl <= 0 {
			ttl = time.Hour
		}
		ak, c := s.issue(ttl)
		s.writeJSON(w, http.StatusOK, wireCred(ak, c))
	default:
		w.Header().Set("Allow", "GET, PUT")
		http.Error(w, fmt.Sprintf("method %s not allowed", r.Method), http.StatusMethodNotAllowed)
	}
	return true
}

// MetadataExporterConfig is ExporterConfig with the credentials of the simulator's metadata service
// (Options.Metadata must be set).
func MetadataExporterConfig(url, region, projectID string) string {
	return exporterConfig(fmt.Sprintf("credentials:\n  source: metadata\n  metadata_url: %s\n", url), url, region, projectID)
}
