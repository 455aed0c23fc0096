package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fakeclock"
)

const (
	testAK      = "TESTACCESSKEY0000001"
	testSK      = "TestSecretKeyForTheSimulatorTests"
	testProject = "0123456789abcdef0123456789abcdef"
	testRegion  = "ap-southeast-1"
)

var base = time.Date(2026, 3, 1, 10, 0, 0, 123e6, time.UTC)

// env is a simulator behind an httptest server with a fake clock.
type env struct {
	sim   *Simulator
	clock *fakeclock.Clock
	srv   *httptest.Server
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	clock := fakeclock.New(base)
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.Credentials == nil {
		opts.Credentials = map[string]string{testAK: testSK}
	}
	if opts.ProjectID == "" {
		opts.ProjectID = testProject
	}
	if opts.Region == "" {
		opts.Region = testRegion
	}
	sim := New(opts)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		srv.Close()
		_ = sim.Close()
	})
	return &env{sim: sim, clock: clock, srv: srv}
}

func (e *env) target(svc huaweicloud.Service) huaweicloud.Target {
	return huaweicloud.Target{Service: svc, Region: testRegion, ProjectID: testProject, Endpoint: e.srv.URL,
		Credentials: huaweicloud.Credentials{AccessKey: testAK, SecretKey: testSK}}
}

// client is a fresh client (no shared auth back-off) with one attempt per call and the fake clock.
func (e *env) client(opts ...huaweicloud.Option) *huaweicloud.Client {
	all := append([]huaweicloud.Option{huaweicloud.WithClock(e.clock.Now), huaweicloud.WithRetry(1, 0, 0),
		huaweicloud.WithAuthBackoff(0, 0)}, opts...)
	return huaweicloud.NewClient(e.srv.Client(), all...)
}

func (e *env) getJob(t testing.TB, svc huaweicloud.Service, id string) (*huaweicloud.Job, error) {
	t.Helper()
	return e.client().GetJob(context.Background(), e.target(svc), id)
}

func (e *env) mustJob(t testing.TB, svc huaweicloud.Service, id string) *huaweicloud.Job {
	t.Helper()
	j, err := e.getJob(t, svc, id)
	if err != nil {
		t.Fatalf("GetJob %s %s at %s: %v", svc, id, e.clock.Now().Sub(base), err)
	}
	return j
}

// raw sends a signed GET for path (with query) as the SDK would and returns status, headers and body.
func (e *env) raw(t testing.TB, pathQuery string, creds huaweicloud.Credentials, signAt time.Time) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+pathQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "simulator-test")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Project-Id", testProject)
	req.Header.Set("Host", req.URL.Host)
	if err := huaweicloud.Sign(req, nil, creds, signAt); err != nil {
		t.Fatal(err)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

func (e *env) rawJob(t testing.TB, id string) (int, map[string]any) {
	t.Helper()
	code, _, body := e.raw(t, "/v1/"+testProject+"/jobs/"+id, e.creds(), e.clock.Now())
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("answer for %s is not JSON: %v\n%s", id, err, body)
	}
	return code, m
}

func (e *env) creds() huaweicloud.Credentials {
	return huaweicloud.Credentials{AccessKey: testAK, SecretKey: testSK}
}

func apiError(t testing.TB, err error) *huaweicloud.APIError {
	t.Helper()
	var ae *huaweicloud.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	return ae
}
