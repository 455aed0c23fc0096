package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// healthcheckTimeout bounds the whole probe, below Docker's default HEALTHCHECK timeout of 30 s.
const healthcheckTimeout = 5 * time.Second

// ProbeHealth is --healthcheck: the distroless image has no shell, curl or wget, so Docker's HEALTHCHECK
// and compose's healthcheck run the binary itself. It GETs /-/healthy of the exporter at the first
// listen address (or url) and returns the exit code: 0 if the exporter answered 200, 1 otherwise.
func ProbeHealth(url string, listen []string, webConfigFile string, stderr io.Writer) int {
	useTLS, basicAuth, err := webConfigSettings(webConfigFile)
	if err != nil {
		fmt.Fprintf(stderr, "huaweicloud-job-exporter: healthcheck: --web.config.file: %v\n", err)
		return 1
	}
	if url == "" {
		if len(listen) == 0 {
			fmt.Fprintln(stderr, "huaweicloud-job-exporter: healthcheck: no --web.listen-address; give --healthcheck.url")
			return 1
		}
		if url, err = healthURL(listen[0], useTLS); err != nil {
			fmt.Fprintf(stderr, "huaweicloud-job-exporter: healthcheck: %v; give --healthcheck.url\n", err)
			return 1
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintf(stderr, "huaweicloud-job-exporter: healthcheck: %v\n", err)
		return 1
	}
	client := &http.Client{Transport: &http.Transport{
		Proxy: nil, // the probe is for this host: never through HTTP_PROXY
		// The probe asks its own process over loopback, where the serving certificate's name rarely
		// matches; what it checks is that the process serves, not who it is.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // see above
	}}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "huaweicloud-job-exporter: healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	switch {
	case resp.StatusCode == http.StatusOK:
		return 0
	case resp.StatusCode == http.StatusUnauthorized && basicAuth:
		// With basic_auth_users every path asks for a password the probe cannot know (the file holds only
		// hashes); the 401 comes from the running exporter, which is what the probe checks.
		return 0
	}
	fmt.Fprintf(stderr, "huaweicloud-job-exporter: healthcheck: %s answered %s\n", url, resp.Status)
	return 1
}

// healthURL is the /-/healthy URL of a listen address, asked over loopback when the address is a
// wildcard (":19866", "0.0.0.0:19866", "[::]:19866").
func healthURL(listen string, useTLS bool) (string, error) {
	if strings.Contains(listen, "://") {
		return "", fmt.Errorf("cannot probe listen address %q", listen)
	}
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	return loopbackURL(scheme, listen, "/-/healthy")
}

// loopbackURL is the URL of path on this process' own listener: an address listening on every interface
// is reached on loopback (IPv4 for "" and 0.0.0.0, IPv6 for ::).
func loopbackURL(scheme, listen, path string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", listen, err)
	}
	switch ip := net.ParseIP(host); {
	case host == "" || (ip.IsUnspecified() && ip.To4() != nil):
		host = "127.0.0.1"
	case ip.IsUnspecified():
		host = "::1"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + path, nil
}

// webConfigSettings reads what the probe must know of an exporter-toolkit web config: whether the
// exporter serves TLS and whether it asks for basic auth.
func webConfigSettings(path string) (useTLS, basicAuth bool, err error) {
	if path == "" {
		return false, false, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return false, false, err
	}
	var c struct {
		TLS struct {
			Cert     string `yaml:"cert"`
			CertFile string `yaml:"cert_file"`
		} `yaml:"tls_server_config"`
		Users map[string]string `yaml:"basic_auth_users"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		return false, false, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return c.TLS.Cert != "" || c.TLS.CertFile != "", len(c.Users) > 0, nil
}
