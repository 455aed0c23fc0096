package simulator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// The exporter's own providers get temporary credentials from the simulated metadata service and IAM,
// and the simulated gateway accepts them with X-Security-Token until they expire.
func TestTemporaryCredentials(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		cfg  func(e *env, tokenFile string) huaweicloud.CredentialsConfig
	}{
		{"metadata without session tokens", Options{Metadata: &MetadataOptions{TTL: time.Hour}},
			func(e *env, _ string) huaweicloud.CredentialsConfig {
				return huaweicloud.CredentialsConfig{Source: huaweicloud.SourceMetadata, MetadataURL: e.srv.URL}
			}},
		{"metadata with session tokens", Options{Metadata: &MetadataOptions{TTL: time.Hour, SessionTokens: true}},
			func(e *env, _ string) huaweicloud.CredentialsConfig {
				return huaweicloud.CredentialsConfig{Source: huaweicloud.SourceMetadata, MetadataURL: e.srv.URL}
			}},
		{"federated id_token", Options{IAM: &IAMOptions{IdpID: "cce-idp", IDToken: "the-id-token", TTL: time.Hour}},
			func(e *env, tokenFile string) huaweicloud.CredentialsConfig {
				return huaweicloud.CredentialsConfig{Source: huaweicloud.SourceFederated, IAMEndpoint: e.srv.URL,
					IdpID: "cce-idp", IDTokenFile: tokenFile, ProjectID: testProject}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts)
			tokenFile := filepath.Join(t.TempDir(), "token")
			if err := os.WriteFile(tokenFile, []byte("the-id-token\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			p, err := huaweicloud.NewCredentialsProvider(tc.cfg(e, tokenFile), huaweicloud.WithProviderClock(e.clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			id := e.sim.CreateJob(JobSpec{Service: huaweicloud.ECS, Begin: base.Add(-time.Minute)})
			tg := e.target(huaweicloud.ECS)
			tg.Credentials, tg.Provider = huaweicloud.Credentials{}, p
			c := e.client()
			if _, err := c.GetJob(t.Context(), tg, id); err != nil {
				t.Fatalf("with temporary credentials: %v", err)
			}
			first, _ := p.Credentials(t.Context())
			if !strings.HasPrefix(first.AccessKey, "TEMP") || first.SecurityToken == "" {
				t.Fatalf("got %q and a token of %d bytes, want temporary credentials", first.AccessKey, len(first.SecurityToken))
			}

			// Without its token the temporary key is refused.
			bare := e.target(huaweicloud.ECS)
			bare.Credentials = huaweicloud.Credentials{AccessKey: first.AccessKey, SecretKey: first.SecretKey}
			if _, err := e.client().GetJob(t.Context(), bare, id); huaweicloud.Reason(err) != huaweicloud.ReasonAuth {
				t.Errorf("temporary key without X-Security-Token: got %v, want an auth failure", err)
			}

			// Past its expiry the old key is refused, and the provider has moved on to a new one.
			e.clock.Add(time.Hour + time.Second)
			stale := e.target(huaweicloud.ECS)
			stale.Credentials = first
			if _, err := e.client().GetJob(t.Context(), stale, id); huaweicloud.Reason(err) != huaweicloud.ReasonAuth {
				t.Errorf("expired temporary key: got %v, want an auth failure", err)
			}
			if _, err := c.GetJob(t.Context(), tg, id); err != nil {
				t.Fatalf("after expiry: %v", err)
			}
			if now, _ := p.Credentials(t.Context()); now.AccessKey == first.AccessKey {
				t.Error("the provider still hands out the expired key")
			}
		})
	}
}

func TestMetadataExporterConfig(t *testing.T) {
	yml := MetadataExporterConfig("http://127.0.0.1:1", DemoRegion, DemoProjectID)
	for _, want := range []string{"source: metadata", "metadata_url: http://127.0.0.1:1", "project_id: " + DemoProjectID} {
		if !strings.Contains(yml, want) {
			t.Errorf("config lacks %q:\n%s", want, yml)
		}
	}
}
