package app

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"

	commonconfig "github.com/prometheus/common/config"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/config"
)

// maxAPIResponseHeaderBytes caps the headers of one API answer. Go's transport allows 10 MB, and 16
// concurrent answers with 9 MB of headers took RSS to 189-259 MB (issue 22 item 8). The API gateway's
// answers carry a few headers (X-Request-Id, Date, Server, CORS) well under 2 KiB; this is an assumption,
// as no Huawei Cloud document states a size, and made safe: a larger answer fails only that request, with
// an error that names the limit, like any other transport failure.
const maxAPIResponseHeaderBytes = 64 << 10

// newAPIHTTPClient is the HTTP client of the API, from the config's http_client block: what
// prometheus/common's NewClientFromConfig builds for it (TLS settings with CA and client certificate
// files re-read when they change, the proxy, no redirects followed, HTTP/1.1), plus the response header
// cap, which its options cannot set.
func newAPIHTTPClient(c config.HTTPClientConfig) (*http.Client, error) {
	ctx := context.Background()
	tlsConfig, err := commonconfig.NewTLSConfigWithContext(ctx, &c.TLSConfig)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	newRT := func(tc *tls.Config) (http.RoundTripper, error) {
		// The settings of prometheus/common's transport (http_config.go, newRT), and the cap.
		return &http.Transport{
			Proxy:                  c.Proxy(),
			ProxyConnectHeader:     c.GetProxyConnectHeader(),
			MaxIdleConns:           20000,
			MaxIdleConnsPerHost:    1000,
			TLSClientConfig:        tc,
			DisableCompression:     true,
			IdleConnTimeout:        5 * time.Minute,
			TLSHandshakeTimeout:    10 * time.Second,
			ExpectContinueTimeout:  1 * time.Second,
			DialContext:            dialer.DialContext,
			MaxResponseHeaderBytes: maxAPIResponseHeaderBytes,
		}, nil
	}
	var rt http.RoundTripper
	if t := c.TLSConfig; t.CAFile == "" && t.CertFile == "" && t.KeyFile == "" {
		rt, err = newRT(tlsConfig)
	} else {
		// Files are re-read when they change, as prometheus/common does.
		rt, err = commonconfig.NewTLSRoundTripperWithContext(ctx, tlsConfig, commonconfig.TLSRoundTripperSettings{
			CA:   secretReader(t.CA, t.CAFile),
			Cert: secretReader(t.Cert, t.CertFile),
			Key:  secretReader(string(t.Key), t.KeyFile),
		}, newRT)
	}
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Transport: rt, // the User-Agent is set by huaweicloud.WithUserAgent
		// A redirect is never followed: the signature covers the host, and a gateway that redirects is
		// misconfigured or hostile.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

func secretReader(inline, file string) commonconfig.SecretReader {
	switch {
	case file != "":
		return commonconfig.NewFileSecret(file)
	case inline != "":
		return commonconfig.NewInlineSecret(inline)
	}
	return nil
}
