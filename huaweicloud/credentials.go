package huaweicloud

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fileread"
)

// CredentialsProvider hands out the credentials to sign the next request with. The client asks before
// every call, so a provider must answer from a cache: a rotated file or refreshed temporary key is used
// from the next request on, without a restart.
type CredentialsProvider interface {
	Credentials(ctx context.Context) (Credentials, error)
	// Status says where the credentials come from and until when they hold, for metrics. It never
	// carries a secret.
	Status() CredentialsStatus
}

// CredentialsStatus is what a provider may tell about itself.
type CredentialsStatus struct {
	Source          string    // one of the Source* constants
	Expires         time.Time // expiry of the current temporary credentials; zero when they do not expire or it is unknown
	RefreshFailures uint64    // failed re-reads or refreshes since the provider was created
}

// The credential sources, as named in the configuration and in the source label of the metrics.
const (
	SourceStatic      = "static"      // AK/SK (and security token) written in the configuration
	SourceFile        = "file"        // AK/SK (and security token) in files, re-read when they change
	SourceEnvironment = "environment" // HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_SECURITY_TOKEN
	SourceMetadata    = "metadata"    // the agency of an ECS instance, from the metadata service
	SourceFederated   = "federated"   // an OpenID Connect id_token exchanged at IAM (CCE workload identity)
)

// DefaultMetadataURL is the metadata service of ECS instances (core/auth/internal/metadata_accessor.go,
// MetadataEndpoint, of the official SDK).
const DefaultMetadataURL = "http://169.254.169.254"

// DefaultIAMEndpoint is the SDK's global IAM endpoint (core/auth/internal/iam_service.go, DefaultIamEndpoint).
const DefaultIAMEndpoint = "https://iam.myhuaweicloud.com"

// ErrNoCredentials means that no usable credentials could be had: a source that never delivered, or
// whose temporary credentials expired while it failed to refresh them. Nothing was sent.
var ErrNoCredentials = errors.New("no usable credentials")

// CredentialsConfig describes one source of credentials. It is comparable: a CredentialsProviders set
// keeps one provider per distinct value across reloads. It holds secrets (Static); never print it with
// %v, use String.
type CredentialsConfig struct {
	Source string
	// Static holds the inline values of the static, file and environment sources. For the file source a
	// value whose file is set below is ignored.
	Static                                          Credentials
	AccessKeyFile, SecretKeyFile, SecurityTokenFile string

	MetadataURL string // metadata

	IAMEndpoint, IdpID, IDTokenFile, ProjectID string // federated
}

// String says where the credentials come from, without a secret, for --config.check and errors.
func (c CredentialsConfig) String() string {
	switch c.Source {
	case SourceFile:
		var files []string
		for _, f := range []struct{ name, path string }{
			{"access key", c.AccessKeyFile}, {"secret key", c.SecretKeyFile}, {"security token", c.SecurityTokenFile},
		} {
			if f.path != "" {
				files = append(files, f.name+" from "+f.path)
			}
		}
		return "file (" + strings.Join(files, ", ") + "; re-read when changed)"
	case SourceMetadata:
		return "metadata (agency credentials from " + c.MetadataURL + ")"
	case SourceFederated:
		return "federated (id_token " + c.IDTokenFile + " for identity provider " + c.IdpID + " at " + c.IAMEndpoint + ")"
	case SourceEnvironment:
		return "environment (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK)"
	}
	return c.Source + " (access key and secret key in the configuration)"
}

// Complete reports whether the source is described enough to be tried. It does no I/O.
func (c CredentialsConfig) Complete() bool {
	switch c.Source {
	case SourceStatic, SourceEnvironment:
		return c.Static.AccessKey != "" && c.Static.SecretKey != ""
	case SourceFile:
		return (c.Static.AccessKey != "" || c.AccessKeyFile != "") && (c.Static.SecretKey != "" || c.SecretKeyFile != "")
	case SourceMetadata:
		return c.MetadataURL != ""
	case SourceFederated:
		return c.IAMEndpoint != "" && c.IdpID != "" && c.IDTokenFile != "" && c.ProjectID != ""
	}
	return false
}

// Check verifies what can be verified locally: that the files exist and are not empty. It never calls
// the network, so metadata and IAM are only checked for being configured.
func (c CredentialsConfig) Check() error {
	if !c.Complete() {
		return fmt.Errorf("%w: %s source is incomplete", ErrNoCredentials, c.Source)
	}
	switch c.Source {
	case SourceFile:
		_, err := readCredentialFiles(c)
		return err
	case SourceFederated:
		_, err := readSecretFile("id_token_file", c.IDTokenFile)
		return err
	}
	return nil
}

// ProviderOption configures the providers of a CredentialsProviders set.
type ProviderOption func(*providerOptions)

type providerOptions struct {
	logger       log.Logger
	now          func() time.Time
	hc           *http.Client // IAM; nil: a client with the default transport and a timeout
	metadataHC   *http.Client // metadata service; nil: no proxy, 3 s timeout like the SDK
	recheck      time.Duration
	retry        time.Duration
	fetchTimeout time.Duration
}

// WithProviderLogger logs refresh failures (warn) and refreshes (debug) to l. Never a secret.
func WithProviderLogger(l log.Logger) ProviderOption {
	return func(o *providerOptions) { o.logger = l }
}

// WithProviderClock replaces time.Now, for expiry decisions in tests.
func WithProviderClock(now func() time.Time) ProviderOption {
	return func(o *providerOptions) { o.now = now }
}

// WithProviderHTTPClient sends the IAM requests of the federated source (and, when metadata is nil,
// nothing else) through hc, e.g. with the exporter's proxy and TLS settings.
func WithProviderHTTPClient(hc *http.Client) ProviderOption {
	return func(o *providerOptions) { o.hc = hc }
}

// WithProviderRetry sets how long a failed refresh waits before the next attempt while the current
// credentials still hold (default 30 s), so a broken metadata service is not asked on every request.
func WithProviderRetry(d time.Duration) ProviderOption {
	return func(o *providerOptions) { o.retry = d }
}

// WithFileRecheck sets how often credential files are re-read even though their size, time and identity
// look unchanged (default 1 m): a same-size rewrite within the file system's time granularity.
func WithFileRecheck(d time.Duration) ProviderOption {
	return func(o *providerOptions) { o.recheck = d }
}

func newProviderOptions(opts []ProviderOption) providerOptions {
	o := providerOptions{logger: log.NewNopLogger(), now: time.Now, recheck: time.Minute, retry: 30 * time.Second, fetchTimeout: 10 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	if o.hc == nil {
		o.hc = &http.Client{Timeout: o.fetchTimeout}
	}
	if o.metadataHC == nil {
		// The metadata service is link-local: a proxy from the environment must not see the request. 3 s is
		// the SDK's timeout (core/auth/internal/metadata_accessor.go, getClient).
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil
		o.metadataHC = &http.Client{Timeout: 3 * time.Second, Transport: tr}
	}
	return o
}

// NewCredentialsProvider returns the provider of c. The static, environment and file sources read their
// files now (an unreadable file is an error); metadata and federated sources do nothing until the first
// request asks for credentials.
func NewCredentialsProvider(c CredentialsConfig, opts ...ProviderOption) (CredentialsProvider, error) {
	o := newProviderOptions(opts)
	if !c.Complete() {
		return nil, fmt.Errorf("%w: %s source is incomplete", ErrNoCredentials, c.Source)
	}
	switch c.Source {
	case SourceStatic, SourceEnvironment:
		return &staticProvider{creds: c.Static, source: c.Source}, nil
	case SourceFile:
		return newFileProvider(c, o)
	case SourceMetadata:
		m := &metadataFetcher{base: strings.TrimRight(c.MetadataURL, "/"), hc: o.metadataHC, now: o.now}
		return newRefreshingProvider(SourceMetadata, m.fetch, o), nil
	case SourceFederated:
		f := &federatedFetcher{iam: strings.TrimRight(c.IAMEndpoint, "/"), idpID: c.IdpID, tokenFile: c.IDTokenFile, projectID: c.ProjectID, hc: o.hc}
		return newRefreshingProvider(SourceFederated, f.fetch, o), nil
	}
	return nil, fmt.Errorf("unknown credentials source %q", c.Source)
}

// staticProvider hands out fixed credentials.
type staticProvider struct {
	creds  Credentials
	source string
}

func (p *staticProvider) Credentials(context.Context) (Credentials, error) { return p.creds, nil }

func (p *staticProvider) Status() CredentialsStatus { return CredentialsStatus{Source: p.source} }

// StaticCredentials is a provider of fixed credentials, e.g. for tests and tools.
func StaticCredentials(c Credentials) CredentialsProvider {
	return &staticProvider{creds: c, source: SourceStatic}
}

// CredentialsProviders keeps one provider per CredentialsConfig across reloads, so that cached
// temporary credentials, their refresh state and the failure counts survive a reload that does not
// change the source. Safe for concurrent use.
type CredentialsProviders struct {
	opts []ProviderOption
	mu   sync.Mutex
	m    map[CredentialsConfig]CredentialsProvider
}

// NewCredentialsProviders returns an empty set whose providers are built with opts.
func NewCredentialsProviders(opts ...ProviderOption) *CredentialsProviders {
	return &CredentialsProviders{opts: opts, m: map[CredentialsConfig]CredentialsProvider{}}
}

// Provider returns the provider of c, the existing one when c was seen before.
func (s *CredentialsProviders) Provider(c CredentialsConfig) (CredentialsProvider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.m[c]; ok {
		return p, nil
	}
	p, err := NewCredentialsProvider(c, s.opts...)
	if err != nil {
		return nil, err
	}
	s.m[c] = p
	return p, nil
}

// Retain forgets every provider whose config is not in keep (after a reload took effect).
func (s *CredentialsProviders) Retain(keep []CredentialsConfig) {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := make(map[CredentialsConfig]bool, len(keep))
	for _, c := range keep {
		want[c] = true
	}
	for c := range s.m {
		if !want[c] {
			delete(s.m, c)
		}
	}
}

// fileProvider reads AK, SK and security token from files and re-reads them when they change. Every
// call stats the files (cheap, no read); a change of size, modification time or identity (a Kubernetes
// secret is swapped by renaming a symlink) triggers a re-read, and so does the recheck interval, for a
// same-size rewrite the time stamp missed. A re-read that fails or finds an empty file keeps the last
// good credentials: a writer caught half-way must not leave the exporter without a key.
type fileProvider struct {
	cfg CredentialsConfig
	o   providerOptions

	// checking is set while a look at the files runs (Credentials): one look at a time, and the requests
	// meanwhile are served the last good credentials without waiting.
	checking atomic.Bool

	mu       sync.Mutex
	cur      Credentials
	stamps   map[string]os.FileInfo
	sum      [sha256.Size]byte
	lastRead time.Time
	failures uint64
	lastErr  string
}

func newFileProvider(c CredentialsConfig, o providerOptions) (*fileProvider, error) {
	p := &fileProvider{cfg: c, o: o}
	stamps, err := p.stat()
	if err != nil {
		return nil, err
	}
	creds, err := readCredentialFiles(c)
	if err != nil {
		return nil, err
	}
	p.cur, p.stamps, p.sum, p.lastRead = creds, stamps, credsSum(creds), o.now()
	return p, nil
}

func (p *fileProvider) files() []string {
	var out []string
	for _, f := range []string{p.cfg.AccessKeyFile, p.cfg.SecretKeyFile, p.cfg.SecurityTokenFile} {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (p *fileProvider) stat() (map[string]os.FileInfo, error) {
	m := map[string]os.FileInfo{}
	for _, f := range p.files() {
		fi, err := os.Stat(f)
		if err != nil {
			return nil, err // *PathError names the file, never its content
		}
		m[f] = fi
	}
	return m, nil
}

// Credentials returns the last good credentials after looking at the files. The files are looked at
// with no lock held and within fileread's time bound: a FIFO or a stuck mount as secret_key_file held
// this provider's lock across its read, and every request (so /metrics) waited for that lock forever
// (issue 22). One look runs at a time; a request arriving meanwhile, or once the bound has passed, is
// served the last good credentials, and the look finishes (and logs) on its own.
func (p *fileProvider) Credentials(ctx context.Context) (Credentials, error) {
	if p.checking.CompareAndSwap(false, true) {
		_, _ = fileread.Bounded(ctx, "credential files "+strings.Join(p.files(), ", "), 0, func() (struct{}, error) {
			defer p.checking.Store(false) // when the look returns, even one given up on by its caller
			p.check()
			return struct{}{}, nil
		})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur, nil
}

// check re-reads the files if they changed or the recheck interval passed. Only one check runs at a time
// (p.checking), so the state read between the two locked sections cannot change meanwhile.
func (p *fileProvider) check() {
	now := p.o.now()
	stamps, err := p.stat()
	p.mu.Lock()
	changed := err != nil || now.Sub(p.lastRead) >= p.o.recheck
	for f, fi := range stamps {
		old := p.stamps[f]
		if old == nil || !os.SameFile(old, fi) || old.Size() != fi.Size() || !old.ModTime().Equal(fi.ModTime()) {
			changed = true
		}
	}
	if !changed {
		p.mu.Unlock()
		return
	}
	// Whatever the outcome, this state of the files has been tried: a failed re-read is not repeated on
	// every request, only when the files change again or the recheck interval passes.
	p.lastRead = now
	if err == nil {
		p.stamps = stamps
	}
	p.mu.Unlock()
	var creds Credentials
	if err == nil {
		creds, err = readCredentialFiles(p.cfg)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.failures++
		if msg := err.Error(); msg != p.lastErr {
			p.lastErr = msg
			level.Warn(p.o.logger).Log("msg", "cannot re-read the credential files, keeping the last good credentials", "source", SourceFile, "err", err)
		}
		return
	}
	p.lastErr = ""
	if sum := credsSum(creds); sum != p.sum {
		p.sum = sum
		p.cur = creds
		level.Info(p.o.logger).Log("msg", "credential files changed, using the new credentials from the next request", "source", SourceFile)
	}
}

func (p *fileProvider) Status() CredentialsStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return CredentialsStatus{Source: SourceFile, RefreshFailures: p.failures}
}

// credsSum tells a change of credentials without keeping a second copy of them around.
func credsSum(c Credentials) [sha256.Size]byte {
	return sha256.Sum256([]byte(c.AccessKey + "\x00" + c.SecretKey + "\x00" + c.SecurityToken))
}

// maxSecretFileBytes caps a credential file: an AK is 20 characters, a security token a few KiB.
const maxSecretFileBytes = 64 << 10

// readSecretFile reads one secret, trimmed: a regular file only, within fileread's size and time
// bounds. The error names the setting and the file, never the content.
func readSecretFile(name, path string) (string, error) {
	b, err := fileread.Read(context.Background(), path, maxSecretFileBytes, 0, "a credential file")
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s: %s is empty", name, path)
	}
	return v, nil
}

// readCredentialFiles reads the files of a file source, the inline values standing in for files not set.
func readCredentialFiles(c CredentialsConfig) (Credentials, error) {
	out := c.Static
	for _, f := range []struct {
		name, path string
		dst        *string
	}{
		{"access_key_file", c.AccessKeyFile, &out.AccessKey},
		{"secret_key_file", c.SecretKeyFile, &out.SecretKey},
		{"security_token_file", c.SecurityTokenFile, &out.SecurityToken},
	} {
		if f.path == "" {
			continue
		}
		v, err := readSecretFile(f.name, f.path)
		if err != nil {
			return Credentials{}, err
		}
		*f.dst = v
	}
	return out, nil
}

// expiryThreshold is the SDK's refresh rule: temporary credentials are fetched again when they expire in
// less than 40 minutes (core/auth/base_credentials.go, defaultExpirationThresholdSeconds, checked
// before every request).
const expiryThreshold = 40 * time.Minute

// refreshingProvider caches temporary credentials from fetch and fetches new ones before they expire.
// One refresh runs at a time, in the background of the request that found it due: while the current
// credentials still hold, requests go on with them; only a provider with nothing valid makes requests
// wait (up to their own deadline). A failed refresh keeps the current credentials until they expire,
// is counted and logged, and is tried again after the retry interval, not on every request.
type refreshingProvider struct {
	source string
	fetch  func(ctx context.Context) (Credentials, time.Time, error)
	o      providerOptions

	mu          sync.Mutex
	cur         Credentials
	exp         time.Time
	fetched     time.Time
	running     chan struct{}
	lastAttempt time.Time
	lastErr     error
	failures    uint64
}

func newRefreshingProvider(source string, fetch func(context.Context) (Credentials, time.Time, error), o providerOptions) *refreshingProvider {
	return &refreshingProvider{source: source, fetch: fetch, o: o}
}

// due applies the SDK's 40-minute rule, but never more than half the lifetime of the credentials: for
// credentials that live less than 80 minutes (the simulator's, or a short agency session) the SDK's
// rule would fetch again on every request.
func (p *refreshingProvider) due(now time.Time) bool {
	threshold := min(expiryThreshold, p.exp.Sub(p.fetched)/2)
	return p.exp.Sub(now) < threshold
}

func (p *refreshingProvider) Credentials(ctx context.Context) (Credentials, error) {
	p.mu.Lock()
	now := p.o.now()
	valid := p.cur.AccessKey != "" && now.Before(p.exp)
	if valid && !p.due(now) {
		c := p.cur
		p.mu.Unlock()
		return c, nil
	}
	wait := p.running
	if wait == nil && p.lastErr != nil && now.Sub(p.lastAttempt) < p.o.retry {
		c, err := p.cur, p.lastErr
		p.mu.Unlock()
		if valid {
			return c, nil
		}
		return Credentials{}, fmt.Errorf("%w: %s credentials: last refresh failed: %w", ErrNoCredentials, p.source, err)
	}
	if wait == nil {
		wait = make(chan struct{})
		p.running, p.lastAttempt = wait, now
		go p.refresh(ctx, wait)
	}
	if valid {
		c := p.cur
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	select {
	case <-wait:
	case <-ctx.Done():
		return Credentials{}, fmt.Errorf("%w: waiting for %s credentials: %w", ErrNoCredentials, p.source, ctx.Err())
	}
	p.mu.Lock()
	now = p.o.now()
	if p.cur.AccessKey != "" && now.Before(p.exp) {
		c := p.cur
		p.mu.Unlock()
		return c, nil
	}
	err := p.lastErr
	p.mu.Unlock()
	if err == nil {
		err = errors.New("credentials expired as they arrived")
	}
	return Credentials{}, fmt.Errorf("%w: %s credentials: %w", ErrNoCredentials, p.source, err)
}

// refresh runs one fetch, detached from the request that started it (whose deadline may be short), but
// bounded by its own timeout.
func (p *refreshingProvider) refresh(ctx context.Context, done chan struct{}) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.o.fetchTimeout)
	creds, exp, err := p.fetch(fctx)
	cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	defer close(done)
	p.running = nil
	now := p.o.now()
	if err == nil && !exp.After(now) {
		err = fmt.Errorf("the %s source handed out credentials that expired at %s", p.source, exp.UTC().Format(time.RFC3339))
	}
	if err != nil {
		p.failures++
		p.lastErr = err
		kv := []any{"msg", "credentials refresh failed", "source", p.source, "err", err}
		if p.cur.AccessKey != "" && now.Before(p.exp) {
			kv = append(kv, "keeping_current_until", p.exp.UTC().Format(time.RFC3339))
		}
		level.Warn(p.o.logger).Log(kv...)
		return
	}
	p.cur, p.exp, p.fetched, p.lastErr = creds, exp, now, nil
	level.Debug(p.o.logger).Log("msg", "credentials refreshed", "source", p.source, "expires", exp.UTC().Format(time.RFC3339))
}

func (p *refreshingProvider) Status() CredentialsStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return CredentialsStatus{Source: p.source, Expires: p.exp, RefreshFailures: p.failures}
}
