package huaweicloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// IAM's API for the federated (OpenID Connect id_token) flow of the official SDK: the id_token becomes
// a project-scoped IAM token (core/auth/internal/iam_service.go, CreateTokenWithIdTokenUri and
// GetProjectTokenWithIdTokenRequest: header X-Idp-Id, body auth.id_token.id and auth.scope.project.id,
// the token in the X-Subject-Token answer header), and the token becomes temporary AK/SK and security
// token (the SDK's federal accessor; fact sheet section C: POST /v3.0/OS-CREDENTIAL/securitytokens with
// the token, duration 6 h).
const (
	IAMIDTokenPath        = "/v3.0/OS-AUTH/id-token/tokens"
	IAMSecurityTokensPath = "/v3.0/OS-CREDENTIAL/securitytokens"
	headerIdpID           = "X-Idp-Id"
	headerSubjectToken    = "X-Subject-Token"
	headerAuthToken       = "X-Auth-Token"
	federatedDurationSecs = 6 * 60 * 60
	iamRequestContentType = "application/json;charset=UTF-8"
)

// Environment variables of the federated flow; the names are the SDK's (core/auth/provider/env_provider.go).
const (
	EnvIdpID       = "HUAWEICLOUD_SDK_IDP_ID"
	EnvIDTokenFile = "HUAWEICLOUD_SDK_ID_TOKEN_FILE"
	EnvIAMEndpoint = "HUAWEICLOUD_SDK_IAM_ENDPOINT"
)

// federatedFetcher runs the whole exchange on every refresh: the id_token file is rotated by the
// platform (CCE projects a new one well before the old expires), and two POSTs every few hours cost
// nothing.
type federatedFetcher struct {
	iam, idpID, tokenFile, projectID string
	hc                               *http.Client
}

func (f *federatedFetcher) fetch(ctx context.Context) (Credentials, time.Time, error) {
	idToken, err := readSecretFile("id_token_file", f.tokenFile)
	if err != nil {
		return Credentials{}, time.Time{}, err
	}
	var tokenReq struct {
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
	tokenReq.Auth.IDToken.ID = idToken
	tokenReq.Auth.Scope.Project.ID = f.projectID
	resp, _, err := f.post(ctx, IAMIDTokenPath, tokenReq, map[string]string{headerIdpID: f.idpID})
	if err != nil {
		return Credentials{}, time.Time{}, err
	}
	token := resp.Get(headerSubjectToken)
	if token == "" {
		return Credentials{}, time.Time{}, fmt.Errorf("%w: IAM %s: no %s header", errBadResponse, IAMIDTokenPath, headerSubjectToken)
	}

	var stsReq struct {
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
	stsReq.Auth.Identity.Methods = []string{"token"}
	stsReq.Auth.Identity.Token.ID = token
	stsReq.Auth.Identity.Token.DurationSeconds = federatedDurationSecs
	_, body, err := f.post(ctx, IAMSecurityTokensPath, stsReq, map[string]string{headerAuthToken: token})
	if err != nil {
		return Credentials{}, time.Time{}, err
	}
	return parseTemporaryCredentials("IAM", body, "credential")
}

// post sends one JSON request to IAM. Errors name the path and the status and IAM's error code and
// message, never a header or a request body (they carry the id_token and the IAM token).
func (f *federatedFetcher) post(ctx context.Context, path string, v any, headers map[string]string) (http.Header, []byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.iam+path, bytes.NewReader(b))
	if err != nil {
		return nil, nil, fmt.Errorf("IAM endpoint %q: %w", f.iam, err)
	}
	req.Header.Set("Content-Type", iamRequestContentType)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("IAM %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := readCappedBody(resp)
	if err != nil {
		return nil, nil, fmt.Errorf("IAM %s: %w", path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, fmt.Errorf("IAM %s: HTTP %d: %s", path, resp.StatusCode, errorText(body))
	}
	return resp.Header, body, nil
}
