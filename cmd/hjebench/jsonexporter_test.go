package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/simulator"
)

// The json_exporter modules read fields that the simulator's answers have, for every job service,
// finished or not: a path that matched nothing would leave json_exporter exporting less and look
// cheaper than it is. (json_exporter itself is not run here; make bench-compare does.)
func TestJSONExporterModulesMatchTheAnswers(t *testing.T) {
	sim := simulator.New(simulator.Options{Seed: 1, ProjectID: benchProject, Tokens: []string{benchToken}})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	for _, svc := range huaweicloud.JobServices {
		for _, running := range []bool{false, true} {
			spec := simulator.JobSpec{Service: svc, Begin: time.Now().Add(-time.Hour), RunFor: time.Minute, SubJobs: 1}
			if running {
				spec.Outcome, spec.RunFor = huaweicloud.StatusRunning, 24*time.Hour
			}
			id := sim.CreateJob(spec)
			ps, _ := huaweicloud.Spec(svc)
			req, _ := http.NewRequest(http.MethodGet, srv.URL+strings.NewReplacer("{project_id}", benchProject, "{job_id}", id).Replace(ps.Path), nil)
			req.Header.Set("X-Auth-Token", benchToken)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %s: %s", svc, resp.Status, body)
			}
			var answer any
			if err := json.Unmarshal(body, &answer); err != nil {
				t.Fatal(err)
			}
			m, ok := jxModules[jxModule(svc)]
			if !ok {
				t.Fatalf("%s: no module %q", svc, jxModule(svc))
			}
			for _, path := range []string{m.status, m.jobID, m.jobType, m.begin, m.end, m.errorCode} {
				if !strings.HasPrefix(path, "{") {
					continue // a constant
				}
				if _, ok := lookup(answer, strings.Split(strings.Trim(path, "{.}"), ".")); !ok {
					t.Errorf("%s (running %v): module %s reads %s, which the answer lacks:\n%s", svc, running, jxModule(svc), path, body)
				}
			}
			if v, _ := lookup(answer, strings.Split(strings.Trim(m.jobID, "{.}"), ".")); v != id {
				t.Errorf("%s: job_id label reads %v, want %s", svc, v, id)
			}
		}
	}
}

func lookup(v any, keys []string) (any, bool) {
	for _, k := range keys {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// The configuration is what json_exporter v0.7.0 decodes (yaml.v2 into untagged structs: lower-case
// keys; strict here, where json_exporter would silently ignore a misspelt key such as valueType):
// every module sends the token and exports the status gauge and the info series.
func TestJSONExporterConfig(t *testing.T) {
	var cfg struct {
		Modules map[string]struct {
			Headers map[string]string
			Metrics []struct {
				Name, Help, Path, Valuetype string
				Labels                      map[string]string
			}
		}
	}
	dec := yaml.NewDecoder(strings.NewReader(jxConfig()))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("%v\n%s", err, jxConfig())
	}
	for name := range jxModules {
		mod, ok := cfg.Modules[name]
		if !ok {
			t.Fatalf("module %s missing", name)
		}
		if mod.Headers["X-Auth-Token"] != benchToken {
			t.Errorf("module %s sends no token", name)
		}
		var names []string
		for _, m := range mod.Metrics {
			names = append(names, m.Name)
			if m.Path != "1" || m.Valuetype != "gauge" || m.Labels["job_id"] == "" {
				t.Errorf("module %s metric %s: path %q, valuetype %q, labels %v", name, m.Name, m.Path, m.Valuetype, m.Labels)
			}
		}
		if strings.Join(names, ",") != "huaweicloud_job_status,huaweicloud_job_info" {
			t.Errorf("module %s exports %v", name, names)
		}
	}
}
