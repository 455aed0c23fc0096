package huaweicloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The metadata service's API for the temporary credentials of an instance's agency, as the official SDK
// calls it (core/auth/internal/metadata_accessor.go).
const (
	MetadataTokenPath       = "/meta-data/latest/api/token"
	MetadataSecurityKeyPath = "/openstack/latest/securitykey"
	headerMetadataToken     = "X-Metadata-Token"
	headerMetadataTokenTTL  = "X-Metadata-Token-Ttl-Seconds"
	// metadataTokenTTL is the SDK's DefaultTokenTTLSeconds (6 h).
	metadataTokenTTL = 6 * 60 * 60
	// metadataTokenRecheck is the SDK's DefaultCheckTokenDurationSecond: a service without session
	// tokens is asked again for one at most once a day.
	metadataTokenRecheck = 24 * time.Hour
	// configAgencyError is the body of the metadata service's 401 for an instance without an agency: a
	// new session token would not help (SDK: ConfigAgencyError).
	configAgencyError = "Please configure Cloud Service Agency first"
)

// maxCredentialBody caps an answer of the metadata service or IAM.
const maxCredentialBody = 256 << 10

// metadataFetcher gets agency credentials from the metadata service, with the optional session-token
// step exactly as the SDK's MetadataAccessor: a token is asked for (PUT, TTL 6 h) when there is none and
// none was asked for in the last 24 h; 404 and 405 mean the service has no session tokens and the
// credentials are asked for without one (503 too: the fact sheet's SDK v0.1.207 lists it, and going on
// without a token is safe: a service that wants one answers 401). A 401 to the credentials request whose
// body does not say that the instance has no agency renews the token and retries once.
type metadataFetcher struct {
	base string
	hc   *http.Client
	now  func() time.Time

	mu        sync.Mutex // one fetch at a time is the refreshing provider's job; this guards the token
	token     string
	hasToken  bool
	lastToken time.Time
}

func (m *metadataFetcher) fetch(ctx context.Context) (Credentials, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.hasToken && (m.lastToken.IsZero() || m.now().Sub(m.lastToken) > metadataTokenRecheck) {
		if err := m.updateToken(ctx, false); err != nil {
			return Credentials{}, time.Time{}, err
		}
	}
	status, body, err := m.getSecurityKey(ctx)
	if err != nil {
		return Credentials{}, time.Time{}, err
	}
	if status == http.StatusUnauthorized && !strings.Contains(string(body), configAgencyError) {
		if err := m.updateToken(ctx, true); err != nil {
			return Credentials{}, time.Time{}, err
		}
		if status, body, err = m.getSecurityKey(ctx); err != nil {
			return Credentials{}, time.Time{}, err
		}
	}
	if status >= 400 {
		return Credentials{}, time.Time{}, fmt.Errorf("metadata %s: HTTP %d: %s", MetadataSecurityKeyPath, status, errorText(body))
	}
	return parseTemporaryCredentials("metadata", body, "credential")
}

func (m *metadataFetcher) updateToken(ctx context.Context, mustHave bool) error {
	m.lastToken = m.now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, m.base+MetadataTokenPath, http.NoBody)
	if err != nil {
		return err
	}
	req.Header.Set(headerMetadataTokenTTL, strconv.Itoa(metadataTokenTTL))
	status, body, err := doCapped(m.hc, req)
	if err != nil {
		return fmt.Errorf("metadata session token: %w", err)
	}
	switch {
	case status == http.StatusOK:
		m.token, m.hasToken = string(body), true
		return nil
	case !mustHave && (status == http.StatusNotFound || status == http.StatusMethodNotAllowed || status == http.StatusServiceUnavailable):
		m.token, m.hasToken = "", false
		return nil
	}
	// Never the body of a 200: it is the token.
	return fmt.Errorf("metadata session token: HTTP %d", status)
}

func (m *metadataFetcher) getSecurityKey(ctx context.Context) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.base+MetadataSecurityKeyPath, nil)
	if err != nil {
		return 0, nil, err
	}
	if m.hasToken {
		req.Header.Set(headerMetadataToken, m.token)
	}
	status, body, err := doCapped(m.hc, req)
	if err != nil {
		return 0, nil, fmt.Errorf("metadata %s: %w", MetadataSecurityKeyPath, err)
	}
	return status, body, nil
}

// doCapped sends req and reads at most maxCredentialBody bytes of the answer.
func doCapped(hc *http.Client, req *http.Request) (int, []byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := readCappedBody(resp)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}

func readCappedBody(resp *http.Response) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCredentialBody+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxCredentialBody {
		return nil, fmt.Errorf("%w: answer larger than %d bytes", errBadResponse, maxCredentialBody)
	}
	return body, nil
}

// errorText is a short, printable excerpt of an error answer (these answers name no secret: they are
// not 2xx bodies).
func errorText(body []byte) string {
	if code, msg, ok := parseAPIError(body); ok {
		return capText(code+": "+msg, maxFailReasonBytes)
	}
	return capText(strings.TrimSpace(string(body)), maxFailReasonBytes)
}

// wireCredential is the temporary credential of the metadata service and of IAM's securitytokens API
// (SDK: internal.Credential). The metadata service is also read with the other spelling the fact sheet
// lists (accessKeyId, secretAccessKey, securityToken, expiration).
type wireCredential struct {
	Access          string `json:"access"`
	Secret          string `json:"secret"`
	SecurityToken   string `json:"securitytoken"`
	ExpiresAt       string `json:"expires_at"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SecurityToken2  string `json:"securityToken"`
	Expiration      string `json:"expiration"`
}

// parseTemporaryCredentials reads {"<field>": {access, secret, securitytoken, expires_at}}. Errors never
// quote the body: it holds the secret.
func parseTemporaryCredentials(what string, body []byte, field string) (Credentials, time.Time, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("%w: %s credentials answer is not a JSON object", errBadResponse, what)
	}
	var w wireCredential
	if raw, ok := top[field]; !ok || json.Unmarshal(raw, &w) != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("%w: %s credentials answer has no %q object", errBadResponse, what, field)
	}
	c := Credentials{AccessKey: first(w.Access, w.AccessKeyID), SecretKey: first(w.Secret, w.SecretAccessKey), SecurityToken: first(w.SecurityToken, w.SecurityToken2)}
	if c.AccessKey == "" || c.SecretKey == "" || c.SecurityToken == "" {
		return Credentials{}, time.Time{}, fmt.Errorf("%w: %s credentials answer lacks access, secret or securitytoken", errBadResponse, what)
	}
	exp, err := parseExpiry(first(w.ExpiresAt, w.Expiration))
	if err != nil {
		return Credentials{}, time.Time{}, fmt.Errorf("%w: %s credentials: %w", errBadResponse, what, err)
	}
	return c, exp, nil
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// parseExpiry reads expires_at: UTC "2006-01-02T15:04:05Z" in the SDK (basic_icredential.go), with a
// fraction in IAM's answers ("2024-01-01T00:00:00.000000Z").
func parseExpiry(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("no expires_at")
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	// Not quoted: it comes from an answer that carries the secret, and a broken server may put anything here.
	return time.Time{}, fmt.Errorf("expires_at is not a time (%d bytes)", len(s))
}
