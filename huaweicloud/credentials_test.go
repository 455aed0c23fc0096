package huaweicloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
)

// credClock is a settable clock for expiry decisions.
type credClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *credClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *credClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var credEpoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// tempCred is one set of temporary credentials a fake hands out.
type tempCred struct {
	ak, sk, token string
	expires       time.Time
}

func (c tempCred) json() string {
	return fmt.Sprintf(`{"credential":{"access":%q,"secret":%q,"securitytoken":%q,"expires_at":%q}}`,
		c.ak, c.sk, c.token, c.expires.UTC().Format("2006-01-02T15:04:05.000000Z"))
}

func (c tempCred) creds() Credentials {
	return Credentials{AccessKey: c.ak, SecretKey: c.sk, SecurityToken: c.token}
}

func tempN(n int, expires time.Time) tempCred {
	return tempCred{fmt.Sprintf("TEMPAK%014d", n), fmt.Sprintf("temp-secret-%d", n), fmt.Sprintf("temp-token-%d", n), expires}
}

// fakeMetadata is the ECS metadata service on loopback. tokenStatus is the answer to PUT token (200
// hands out a session token, which GET then requires); answers are served in turn, the last repeated;
// status other than 200 in an answer makes an error answer.
type fakeMetadata struct {
	srv         *httptest.Server
	tokenStatus int

	mu        sync.Mutex
	answers   []metadataAnswer
	gets      int
	puts      int
	ttls      []string
	sentToken []string
	token     string
}

type metadataAnswer struct {
	status int
	body   string
}

func newFakeMetadata(t *testing.T, tokenStatus int, answers ...metadataAnswer) *fakeMetadata {
	t.Helper()
	m := &fakeMetadata{tokenStatus: tokenStatus, answers: answers}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *fakeMetadata) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case r.Method == http.MethodPut && r.URL.Path == MetadataTokenPath:
		m.puts++
		m.ttls = append(m.ttls, r.Header.Get(headerMetadataTokenTTL))
		if m.tokenStatus != http.StatusOK {
			w.WriteHeader(m.tokenStatus)
			return
		}
		m.token = fmt.Sprintf("session-token-%d", m.puts)
		io.WriteString(w, m.token)
	case r.Method == http.MethodGet && r.URL.Path == MetadataSecurityKeyPath:
		m.gets++
		m.sentToken = append(m.sentToken, r.Header.Get(headerMetadataToken))
		if m.tokenStatus == http.StatusOK && r.Header.Get(headerMetadataToken) != m.token {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, "session token missing or expired")
			return
		}
		a := m.answers[min(m.gets, len(m.answers))-1]
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (m *fakeMetadata) counts() (puts, gets int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.puts, m.gets
}

// waitRefresh waits for the refresh in flight, if any: tests see its outcome without sleeping.
func waitRefresh(p CredentialsProvider) {
	rp := p.(*refreshingProvider)
	rp.mu.Lock()
	ch := rp.running
	rp.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

func newTestProvider(t *testing.T, c CredentialsConfig, clock *credClock, logs io.Writer) CredentialsProvider {
	t.Helper()
	logger := log.NewNopLogger()
	if logs != nil {
		logger = log.NewLogfmtLogger(logs)
	}
	p, err := NewCredentialsProvider(c, WithProviderClock(clock.now), WithProviderLogger(logger), WithProviderRetry(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMetadataSessionToken(t *testing.T) {
	cred := tempN(1, credEpoch.Add(24*time.Hour))
	for _, tc := range []struct {
		name        string
		tokenStatus int
		wantToken   string // sent with GET securitykey
	}{
		{"session token", http.StatusOK, "session-token-1"},
		{"no session tokens (404)", http.StatusNotFound, ""},
		{"no session tokens (405)", http.StatusMethodNotAllowed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newFakeMetadata(t, tc.tokenStatus, metadataAnswer{200, cred.json()})
			clock := &credClock{t: credEpoch}
			p := newTestProvider(t, CredentialsConfig{Source: SourceMetadata, MetadataURL: m.srv.URL}, clock, nil)
			got, err := p.Credentials(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if got != cred.creds() {
				t.Errorf("got %+v, want %+v", got, cred.creds())
			}
			if st := p.Status(); st.Source != SourceMetadata || !st.Expires.Equal(cred.expires) {
				t.Errorf("status %+v, want source metadata expiring %s", st, cred.expires)
			}
			m.mu.Lock()
			defer m.mu.Unlock()
			if m.puts != 1 || m.ttls[0] != "21600" {
				t.Errorf("token requests %d with TTL %v, want one with 21600", m.puts, m.ttls)
			}
			if m.sentToken[0] != tc.wantToken {
				t.Errorf("GET sent X-Metadata-Token %q, want %q", m.sentToken[0], tc.wantToken)
			}
		})
	}
}

// A 401 that is not "no agency" renews the session token and retries once, like the SDK; "Please
// configure Cloud Service Agency first" does not.
func TestMetadataRenewsSessionTokenOn401(t *testing.T) {
	cred := tempN(1, credEpoch.Add(24*time.Hour))
	m := newFakeMetadata(t, http.StatusOK, metadataAnswer{200, cred.json()})
	clock := &credClock{t: credEpoch}
	p := newTestProvider(t, CredentialsConfig{Source: SourceMetadata, MetadataURL: m.srv.URL}, clock, nil)
	if _, err := p.Credentials(t.Context()); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	m.token = "rotated-by-the-service"
	m.mu.Unlock()
	clock.add(24*time.Hour - 10*time.Minute) // refresh due
	if _, err := p.Credentials(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitRefresh(p)
	if puts, gets := m.counts(); puts != 2 || gets != 3 {
		t.Errorf("PUT token %d times, GET securitykey %d times; want 2 and 3 (401, new token, retry)", puts, gets)
	}

	noAgency := newFakeMetadata(t, http.StatusNotFound, metadataAnswer{401, `{"error":"Please configure Cloud Service Agency first"}`})
	p = newTestProvider(t, CredentialsConfig{Source: SourceMetadata, MetadataURL: noAgency.srv.URL}, clock, nil)
	_, err := p.Credentials(t.Context())
	if !errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), "Cloud Service Agency") {
		t.Errorf("got %v, want ErrNoCredentials naming the missing agency", err)
	}
	if puts, gets := noAgency.counts(); puts != 1 || gets != 1 {
		t.Errorf("PUT %d, GET %d; want 1 and 1 (no retry for a missing agency)", puts, gets)
	}
}

// The refresh rule: 40 minutes before expiry for long-lived credentials (the SDK's), half the lifetime
// for short ones; a failed refresh keeps the current credentials until they expire, is counted and
// logged, and is not retried on every request.
func TestRefreshBeforeExpiry(t *testing.T) {
	type step struct {
		advance   time.Duration
		want      int // index into creds of the credentials handed out; -1: an error
		wantFetch int // fetches so far
	}
	for _, tc := range []struct {
		name    string
		answers func(creds []tempCred) []metadataAnswer
		creds   []time.Duration // lifetimes of the credentials served in turn
		steps   []step
		fails   uint64
	}{
		{name: "SDK rule: 40 minutes before a 24h expiry",
			creds: []time.Duration{24 * time.Hour, 48 * time.Hour},
			steps: []step{{0, 0, 1}, {24*time.Hour - 41*time.Minute, 0, 1}, {2 * time.Minute, 0, 2}, {0, 1, 2}}},
		{name: "short-lived: half the lifetime",
			creds: []time.Duration{time.Hour, 2 * time.Hour},
			steps: []step{{0, 0, 1}, {29 * time.Minute, 0, 1}, {2 * time.Minute, 0, 2}, {0, 1, 2}}},
		{name: "failed refresh keeps the last good key until it expires",
			creds: []time.Duration{time.Hour},
			answers: func(c []tempCred) []metadataAnswer {
				return []metadataAnswer{{200, c[0].json()}, {500, `{"error_code":"Metadata.500","error_msg":"broken"}`}}
			},
			steps: []step{{0, 0, 1}, {31 * time.Minute, 0, 2}, {10 * time.Second, 0, 2}, {20 * time.Minute, 0, 3}, {10 * time.Minute, -1, 4}},
			fails: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var creds []tempCred
			for i, d := range tc.creds {
				creds = append(creds, tempN(i+1, credEpoch.Add(d)))
			}
			var answers []metadataAnswer
			if tc.answers != nil {
				answers = tc.answers(creds)
			} else {
				for _, c := range creds {
					answers = append(answers, metadataAnswer{200, c.json()})
				}
			}
			m := newFakeMetadata(t, http.StatusNotFound, answers...)
			clock := &credClock{t: credEpoch}
			var logs bytes.Buffer
			p := newTestProvider(t, CredentialsConfig{Source: SourceMetadata, MetadataURL: m.srv.URL}, clock, &syncWriter{w: &logs})
			for i, s := range tc.steps {
				clock.add(s.advance)
				got, err := p.Credentials(t.Context())
				waitRefresh(p)
				if s.want < 0 {
					if !errors.Is(err, ErrNoCredentials) || Reason(err) != ReasonAuth {
						t.Errorf("step %d: got %+v, %v; want ErrNoCredentials (reason auth)", i, got, err)
					}
				} else if err != nil || got != creds[s.want].creds() {
					t.Errorf("step %d: got %+v, %v; want credentials %d", i, got, err, s.want+1)
				}
				if _, gets := m.counts(); gets != s.wantFetch {
					t.Errorf("step %d: %d fetches, want %d", i, gets, s.wantFetch)
				}
			}
			if got := p.Status().RefreshFailures; got != tc.fails {
				t.Errorf("refresh failures %d, want %d", got, tc.fails)
			}
			if tc.fails > 0 && !strings.Contains(logs.String(), `msg="credentials refresh failed"`) {
				t.Errorf("no log line for the failed refresh:\n%s", logs.String())
			}
		})
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// fakeIAM is IAM's id_token and securitytokens APIs on loopback.
type fakeIAM struct {
	srv            *httptest.Server
	idpID, project string
	mu             sync.Mutex
	idTokens       []string
	n              int
	stsStatus      int
	durations      []int
	issued         []tempCred
	lifetime       time.Duration
	now            func() time.Time
}

func newFakeIAM(t *testing.T, now func() time.Time) *fakeIAM {
	t.Helper()
	f := &fakeIAM{idpID: "cce-idp", project: testProject, stsStatus: 201, lifetime: 6 * time.Hour, now: now}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIAM) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case IAMIDTokenPath:
		var req struct {
			Auth struct {
				IDToken struct{ ID string } `json:"id_token"`
				Scope   struct {
					Project struct{ ID string } `json:"project"`
				} `json:"scope"`
			} `json:"auth"`
		}
		if r.Method != http.MethodPost || json.Unmarshal(body, &req) != nil || r.Header.Get(headerIdpID) != f.idpID ||
			req.Auth.Scope.Project.ID != f.project || req.Auth.IDToken.ID == "" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error_code":"IAM.0001","error_msg":"bad id_token request"}`)
			return
		}
		f.idTokens = append(f.idTokens, req.Auth.IDToken.ID)
		f.n++
		w.Header().Set(headerSubjectToken, fmt.Sprintf("iam-token-%d", f.n))
		w.Header().Set("X-Request-Id", "req")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"token":{"expires_at":%q,"methods":["mapped"]}}`, f.now().Add(24*time.Hour).UTC().Format(time.RFC3339))
	case IAMSecurityTokensPath:
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
		want := fmt.Sprintf("iam-token-%d", f.n)
		if json.Unmarshal(body, &req) != nil || r.Header.Get(headerAuthToken) != want || req.Auth.Identity.Token.ID != want {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"code":"IAM.0010","message":"token invalid"}}`)
			return
		}
		if f.stsStatus != http.StatusCreated {
			w.WriteHeader(f.stsStatus)
			io.WriteString(w, `{"error":{"code":"IAM.0007","message":"unavailable"}}`)
			return
		}
		f.durations = append(f.durations, req.Auth.Identity.Token.DurationSeconds)
		c := tempN(100+len(f.issued), f.now().Add(f.lifetime))
		f.issued = append(f.issued, c)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, c.json())
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (f *fakeIAM) cred(i int) Credentials {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued[i].creds()
}

func TestFederatedProvider(t *testing.T) {
	clock := &credClock{t: credEpoch}
	iam := newFakeIAM(t, clock.now)
	tokenFile := filepath.Join(t.TempDir(), "token")
	writeSecret(t, tokenFile, "id-token-one\n")
	cfg := CredentialsConfig{Source: SourceFederated, IAMEndpoint: iam.srv.URL, IdpID: "cce-idp", IDTokenFile: tokenFile, ProjectID: testProject}
	p := newTestProvider(t, cfg, clock, nil)

	got, err := p.Credentials(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := iam.cred(0); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if st := p.Status(); st.Source != SourceFederated || !st.Expires.Equal(credEpoch.Add(6*time.Hour)) {
		t.Errorf("status %+v", st)
	}
	// The platform rotates the id_token; the next refresh (40 minutes before the 6 h expiry) sends the
	// new one.
	writeSecret(t, tokenFile, "id-token-two")
	clock.add(5*time.Hour + 25*time.Minute)
	if got, _ := p.Credentials(t.Context()); got != iam.cred(0) {
		t.Errorf("got %+v while refreshing, want the current credentials", got)
	}
	waitRefresh(p)
	got, err = p.Credentials(t.Context())
	if err != nil || got != iam.cred(1) {
		t.Errorf("after refresh got %+v, %v; want the second credentials", got, err)
	}
	iam.mu.Lock()
	defer iam.mu.Unlock()
	if want := []string{"id-token-one", "id-token-two"}; fmt.Sprint(iam.idTokens) != fmt.Sprint(want) {
		t.Errorf("id tokens sent %v, want %v", iam.idTokens, want)
	}
	if fmt.Sprint(iam.durations) != "[21600 21600]" {
		t.Errorf("durations %v, want 6 h each", iam.durations)
	}
}

func TestFederatedFailures(t *testing.T) {
	clock := &credClock{t: credEpoch}
	for _, tc := range []struct {
		name    string
		prepare func(f *fakeIAM, tokenFile string)
		want    string
	}{
		{"wrong identity provider", func(f *fakeIAM, _ string) { f.idpID = "other" }, "IAM /v3.0/OS-AUTH/id-token/tokens: HTTP 400: IAM.0001: bad id_token request"},
		{"securitytokens unavailable", func(f *fakeIAM, _ string) { f.stsStatus = 503 }, "IAM /v3.0/OS-CREDENTIAL/securitytokens: HTTP 503: IAM.0007: unavailable"},
		{"empty id_token file", func(_ *fakeIAM, file string) { writeSecret(t, file, "\n") }, "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iam := newFakeIAM(t, clock.now)
			tokenFile := filepath.Join(t.TempDir(), "token")
			writeSecret(t, tokenFile, "secret-id-token")
			tc.prepare(iam, tokenFile)
			p := newTestProvider(t, CredentialsConfig{Source: SourceFederated, IAMEndpoint: iam.srv.URL, IdpID: "cce-idp", IDTokenFile: tokenFile, ProjectID: testProject}, clock, nil)
			_, err := p.Credentials(t.Context())
			if !errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "secret-id-token") {
				t.Errorf("error leaks the id_token: %v", err)
			}
		})
	}
}

func writeSecret(t *testing.T, path, content string) {
	t.Helper()
	// Write and rename, as Kubernetes and careful tools do; the provider must notice either way.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestFileProviderRotation(t *testing.T) {
	dir := t.TempDir()
	ak, sk := filepath.Join(dir, "ak"), filepath.Join(dir, "sk")
	writeSecret(t, ak, "FILEAK1\n")
	writeSecret(t, sk, "file-secret-1")
	clock := &credClock{t: credEpoch}
	var logs bytes.Buffer
	p := newTestProvider(t, CredentialsConfig{Source: SourceFile, AccessKeyFile: ak, SecretKeyFile: sk}, clock, &logs)
	steps := []struct {
		name   string
		change func()
		want   Credentials
		fails  uint64
	}{
		{"initial", func() {}, Credentials{AccessKey: "FILEAK1", SecretKey: "file-secret-1"}, 0},
		{"rotated (rename)", func() { writeSecret(t, ak, "FILEAK2"); writeSecret(t, sk, "file-secret-2") },
			Credentials{AccessKey: "FILEAK2", SecretKey: "file-secret-2"}, 0},
		{"rotated in place, same size", func() {
			if err := os.WriteFile(sk, []byte("file-secret-3"), 0o600); err != nil {
				t.Fatal(err)
			}
			// Make sure the time stamp differs even on a coarse file system; the recheck would find
			// it a minute later otherwise.
			future := credEpoch.Add(time.Hour)
			_ = os.Chtimes(sk, future, future)
		}, Credentials{AccessKey: "FILEAK2", SecretKey: "file-secret-3"}, 0},
		{"truncated mid-write keeps the last good", func() { writeSecret(t, sk, "") },
			Credentials{AccessKey: "FILEAK2", SecretKey: "file-secret-3"}, 1},
		{"removed keeps the last good", func() { os.Remove(ak) },
			Credentials{AccessKey: "FILEAK2", SecretKey: "file-secret-3"}, 2},
		{"written again", func() { writeSecret(t, ak, "FILEAK4"); writeSecret(t, sk, "file-secret-4") },
			Credentials{AccessKey: "FILEAK4", SecretKey: "file-secret-4"}, 2},
	}
	for _, s := range steps {
		s.change()
		got, err := p.Credentials(t.Context())
		if err != nil || got != s.want {
			t.Errorf("%s: got %+v, %v; want %+v", s.name, got, err, s.want)
		}
		if f := p.Status().RefreshFailures; f != s.fails {
			t.Errorf("%s: %d failures, want %d", s.name, f, s.fails)
		}
	}
	for _, secret := range []string{"file-secret-1", "file-secret-2", "file-secret-3", "file-secret-4"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain %s:\n%s", secret, logs.String())
		}
	}
}

// tempGateway verifies signatures of temporary credentials: their AK is known only with the matching
// X-Security-Token, which must be signed.
func tempGateway(t *testing.T, valid func(ak string) (sk, token string, ok bool)) (*httptest.Server, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ak := strings.TrimPrefix(strings.Split(r.Header.Get("Authorization"), ",")[0], Algorithm+" Access=")
		sk, token, ok := valid(ak)
		err := Verify(r, nil, func(string) (string, bool) { return sk, ok }, time.Now(), 15*time.Minute)
		_, signed, _ := strings.Cut(r.Header.Get("Authorization"), "SignedHeaders=")
		if err == nil && token != "" && (r.Header.Get(headerSecurityToken) != token || !strings.Contains(signed, "x-security-token")) {
			err = errors.New("security token missing, wrong or unsigned")
		}
		mu.Lock()
		seen = append(seen, ak)
		mu.Unlock()
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error_code":"APIG.0301","error_msg":"Incorrect IAM authentication information"}`)
			return
		}
		io.WriteString(w, `{"status":"SUCCESS","job_id":"job-1","job_type":"createServer"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

// Temporary credentials from the metadata service sign with X-Security-Token, and a refreshed key is
// used by the next call.
func TestClientSignsWithProviderCredentials(t *testing.T) {
	clock := &credClock{t: time.Now()}
	first, second := tempN(1, clock.now().Add(time.Hour)), tempN(2, clock.now().Add(3*time.Hour))
	m := newFakeMetadata(t, http.StatusOK, metadataAnswer{200, first.json()}, metadataAnswer{200, second.json()})
	gw, seen := tempGateway(t, func(ak string) (string, string, bool) {
		for _, c := range []tempCred{first, second} {
			if c.ak == ak {
				return c.sk, c.token, true
			}
		}
		return "", "", false
	})
	p := newTestProvider(t, CredentialsConfig{Source: SourceMetadata, MetadataURL: m.srv.URL}, clock, nil)
	tg := Target{Service: ECS, Region: testRegion, ProjectID: testProject, Endpoint: gw.URL, Provider: p}
	c := newTestClient()
	if _, err := c.GetJob(t.Context(), tg, "job-1"); err != nil {
		t.Fatalf("first key: %v", err)
	}
	clock.add(35 * time.Minute) // due: the call goes out with the current key, the refresh runs meanwhile
	if _, err := c.GetJob(t.Context(), tg, "job-1"); err != nil {
		t.Fatalf("during refresh: %v", err)
	}
	waitRefresh(p)
	if _, err := c.GetJob(t.Context(), tg, "job-1"); err != nil {
		t.Fatalf("second key: %v", err)
	}
	if want := []string{first.ak, first.ak, second.ak}; fmt.Sprint(*seen) != fmt.Sprint(want) {
		t.Errorf("access keys seen %v, want %v", *seen, want)
	}

	// Without the token the same key is refused: the header is what makes temporary credentials work.
	noToken := Target{Service: ECS, Region: testRegion, ProjectID: testProject, Endpoint: gw.URL,
		Credentials: Credentials{AccessKey: second.ak, SecretKey: second.sk}}
	if _, err := newTestClient().GetJob(t.Context(), noToken, "job-1"); Reason(err) != ReasonAuth {
		t.Errorf("without X-Security-Token got %v, want an auth failure", err)
	}
}

// A rotated key file is used from the next call on, without a restart, and the new key has its own
// authentication state.
func TestClientFollowsRotatedFile(t *testing.T) {
	dir := t.TempDir()
	ak, sk := filepath.Join(dir, "ak"), filepath.Join(dir, "sk")
	writeSecret(t, ak, testAK)
	writeSecret(t, sk, testSK)
	gw := newGateway(t, nil, script(answer{status: 200, body: `{"status":"RUNNING","job_id":"job-1"}`}))
	p, err := NewCredentialsProvider(CredentialsConfig{Source: SourceFile, AccessKeyFile: ak, SecretKeyFile: sk})
	if err != nil {
		t.Fatal(err)
	}
	tg := gw.target(ECS, Credentials{})
	tg.Provider = p
	c := newTestClient()
	if _, err := c.GetJob(t.Context(), tg, "job-1"); err != nil {
		t.Fatal(err)
	}
	writeSecret(t, ak, testAK2)
	writeSecret(t, sk, testSK2)
	if _, err := c.GetJob(t.Context(), tg, "job-1"); err != nil {
		t.Fatal(err)
	}
	reqs := gw.requests()
	if len(reqs) != 2 || !strings.Contains(reqs[0].header.Get("Authorization"), "Access="+testAK+",") ||
		!strings.Contains(reqs[1].header.Get("Authorization"), "Access="+testAK2+",") {
		t.Errorf("want the first call signed with %s and the second with %s; got %d requests", testAK, testAK2, len(reqs))
	}
}

func TestCredentialsProvidersKeepProviders(t *testing.T) {
	set := NewCredentialsProviders()
	a := CredentialsConfig{Source: SourceMetadata, MetadataURL: "http://127.0.0.1:1"}
	b := CredentialsConfig{Source: SourceStatic, Static: Credentials{AccessKey: "AK", SecretKey: "SK"}}
	pa, _ := set.Provider(a)
	pb, _ := set.Provider(b)
	if again, _ := set.Provider(a); again != pa {
		t.Error("the same config got a new provider")
	}
	set.Retain([]CredentialsConfig{a})
	if again, _ := set.Provider(b); again == pb {
		t.Error("a provider dropped by Retain came back")
	}
	if _, err := set.Provider(CredentialsConfig{Source: SourceFederated}); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("incomplete federated source: got %v", err)
	}
}

func TestCredentialsConfigStringHasNoSecret(t *testing.T) {
	for _, c := range []CredentialsConfig{
		{Source: SourceStatic, Static: Credentials{AccessKey: "AK", SecretKey: "topsecret", SecurityToken: "tokensecret"}},
		{Source: SourceFile, Static: Credentials{SecretKey: "topsecret"}, AccessKeyFile: "/run/ak"},
		{Source: SourceEnvironment, Static: Credentials{AccessKey: "AK", SecretKey: "topsecret"}},
		{Source: SourceMetadata, MetadataURL: DefaultMetadataURL},
		{Source: SourceFederated, IAMEndpoint: DefaultIAMEndpoint, IdpID: "idp", IDTokenFile: "/var/run/token", ProjectID: testProject},
	} {
		if s := c.String(); strings.Contains(s, "topsecret") || strings.Contains(s, "tokensecret") || !strings.HasPrefix(s, c.Source) {
			t.Errorf("%s: %q", c.Source, s)
		}
	}
}
