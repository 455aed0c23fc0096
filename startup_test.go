package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A missing or broken --web.config.file stops the start before anything listens, with an error that
// names the flag; exporter-toolkit alone would fail only after "Listening on", without naming it.
func TestWebConfigFileCheckedBeforeListening(t *testing.T) {
	setCredentialsEnv(t, "", "") // start-up would fail later on credentials: the web config must fail first
	cfg := writeTemp(t, "config.yml", minimalConfig)
	missing := writeTemp(t, "x", "") + ".missing"
	noKey := writeTemp(t, "web.yml", "tls_server_config:\n  cert_file: /nonexistent/cert.pem\n")
	unknown := writeTemp(t, "web-unknown.yml", "tls_config: {}\n")
	for _, tc := range []struct {
		name, file string
		extra      []string
	}{
		{"missing file", missing, nil},
		{"TLS without a key", noKey, nil},
		{"unknown key", unknown, nil},
		{"missing file with --config.check", missing, []string{"--config.check"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			args := append([]string{"--config.file=" + cfg, "--web.listen-address=127.0.0.1:0", "--web.config.file=" + tc.file}, tc.extra...)
			if code := run(args, &out); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if !strings.Contains(out.String(), `msg="invalid --web.config.file" file=`+tc.file) {
				t.Errorf("the error does not name --web.config.file and the file:\n%s", out.String())
			}
			if strings.Contains(out.String(), "Listening on") || strings.Contains(out.String(), "credentials") {
				t.Errorf("got past the web config check:\n%s", out.String())
			}
		})
	}
}

// --healthcheck is the HEALTHCHECK of the distroless image: exit 0 if the exporter answers, 1 if not.
func TestHealthcheck(t *testing.T) {
	answer := func(code int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/-/healthy" {
				http.NotFound(w, r)
				return
			}
			w.WriteHeader(code)
		})
	}
	healthy := httptest.NewServer(answer(http.StatusOK))
	t.Cleanup(healthy.Close)
	failing := httptest.NewServer(answer(http.StatusServiceUnavailable))
	t.Cleanup(failing.Close)
	locked := httptest.NewServer(answer(http.StatusUnauthorized))
	t.Cleanup(locked.Close)
	tlsHealthy := httptest.NewTLSServer(answer(http.StatusOK))
	t.Cleanup(tlsHealthy.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	basicAuth := writeTemp(t, "web-auth.yml", "basic_auth_users:\n  prometheus: $2y$10$abcdefghijklmnopqrstuv\n")
	withTLS := writeTemp(t, "web-tls.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n")
	addr := func(s *httptest.Server) string { return s.Listener.Addr().String() }
	port := func(s *httptest.Server) string { _, p, _ := net.SplitHostPort(addr(s)); return p }

	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"healthy at the listen address", []string{"--web.listen-address=" + addr(healthy)}, 0},
		{"healthy at a wildcard listen address", []string{"--web.listen-address=:" + port(healthy)}, 0},
		{"healthy by URL", []string{"--healthcheck.url=" + healthy.URL + "/-/healthy"}, 0},
		{"unhealthy", []string{"--web.listen-address=" + addr(failing)}, 1},
		{"nothing listening", []string{"--web.listen-address=" + closed}, 1},
		{"401 without basic auth", []string{"--web.listen-address=" + addr(locked)}, 1},
		{"401 with basic auth", []string{"--web.listen-address=" + addr(locked), "--web.config.file=" + basicAuth}, 0},
		{"TLS", []string{"--web.listen-address=" + addr(tlsHealthy), "--web.config.file=" + withTLS}, 0},
		{"plain HTTP to a TLS server", []string{"--web.listen-address=" + addr(tlsHealthy)}, 1},
		{"vsock", []string{"--web.listen-address=vsock://:19866"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := run(append([]string{"--healthcheck"}, tc.args...), &out); code != tc.want {
				t.Errorf("exit code %d, want %d; output:\n%s", code, tc.want, out.String())
			}
		})
	}
}
