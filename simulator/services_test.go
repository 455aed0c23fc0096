package simulator

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/discovery"
	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// TestServicesLifecycle: every service of the table is served at its own path in its own shape, read by
// the exporter's parser through INIT (where the service has it), RUNNING, partial sub-job failure and the
// outcome; asked at another service's path the job is unknown; expired, it answers that service's
// not-found; its CTS trace names it the way discovery reads.
func TestServicesLifecycle(t *testing.T) {
	for _, svc := range huaweicloud.JobServices {
		t.Run(string(svc), func(t *testing.T) {
			e := newEnv(t, Options{Seed: 9, Retention: time.Hour})
			subs := 2
			if svc == huaweicloud.IMS || svc == huaweicloud.CFW {
				subs = 0
			}
			id := e.sim.CreateJob(JobSpec{Service: svc, SubJobs: subs, FailedSubJobs: min(subs, 1), Outcome: huaweicloud.StatusFail,
				ErrorCode: services[mustIndex(t, svc)].errCode, FailReason: "given reason", Begin: base, InitFor: 10 * time.Second, RunFor: time.Minute})

			wantInit := huaweicloud.StatusInit
			if svc == huaweicloud.CFW {
				wantInit = huaweicloud.StatusRunning // CFW has no INIT (Running, Success, Failed)
			}
			if j := e.mustJob(t, svc, id); j.Status != wantInit || j.JobID != id || j.Service != svc {
				t.Errorf("at 0: %s %s %s, want %s %s", j.Service, j.JobID, j.Status, wantInit, id)
			}
			e.clock.Set(base.Add(50 * time.Second))
			j := e.mustJob(t, svc, id)
			if j.Status != huaweicloud.StatusRunning || j.BeginTime.IsZero() || !j.EndTime.IsZero() {
				t.Errorf("at 50s: %+v", j)
			}
			if subs > 0 {
				if len(j.SubJobs) != subs || j.SubJobs[0].Status != huaweicloud.StatusFail {
					t.Errorf("at 50s sub-jobs %+v, want %d with the first failed", j.SubJobs, subs)
				}
			}
			e.clock.Set(base.Add(2 * time.Minute))
			j = e.mustJob(t, svc, id)
			if j.Status != huaweicloud.StatusFail || j.EndTime.IsZero() || !j.EndTime.After(j.BeginTime) {
				t.Errorf("at 2m: %+v", j)
			}
			// Reasons and codes where the service's answer has them.
			switch svc {
			case huaweicloud.CFW:
			case huaweicloud.CCE:
				if j.FailReason != "given reason" {
					t.Errorf("CCE fail reason %q", j.FailReason)
				}
			default:
				if j.FailReason != "given reason" || j.ErrorCode == "" {
					t.Errorf("fail %q %q", j.ErrorCode, j.FailReason)
				}
			}

			// At another service's path the job does not exist.
			other := huaweicloud.CCE
			if svc == huaweicloud.CCE {
				other = huaweicloud.ECS
			}
			if _, err := e.getJob(t, other, id); err == nil || huaweicloud.Reason(err) != huaweicloud.ReasonNotFound {
				t.Errorf("asked as %s: %v, want not found", other, err)
			}
			// Past retention: the service's own not-found.
			e.clock.Set(base.Add(2 * time.Hour))
			if _, err := e.getJob(t, svc, id); err == nil || huaweicloud.Reason(err) != huaweicloud.ReasonNotFound {
				t.Errorf("expired: %v, want not found", err)
			}

			// The CTS trace: the table's service type, a response naming the job.
			spec, _ := huaweicloud.Spec(svc)
			p, err := e.client().ListTraces(context.Background(), e.target(huaweicloud.CTS),
				huaweicloud.TraceQuery{ServiceType: spec.CTSServiceType, From: base.Add(-time.Hour), To: base.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Traces) != 1 || strings.Join(discovery.JobIDs(p.Traces[0].Response), ",") != id {
				t.Errorf("traces %+v, want one naming %s", p.Traces, id)
			}
		})
	}
}

func mustIndex(t *testing.T, svc huaweicloud.Service) uint8 {
	t.Helper()
	i, ok := serviceIndex(svc)
	if !ok {
		t.Fatalf("no simulator service %s", svc)
	}
	return i
}
