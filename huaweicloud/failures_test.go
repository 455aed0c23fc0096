package huaweicloud

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestFailuresKeepTheOriginalCause: once a key or a service is backed off, its callers see "backed off
// until"; Failures keeps the API's own words beside it, and forgets them on the next success.
func TestFailuresKeepTheOriginalCause(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ecs := Target{Service: ECS, Region: "cn-north-4", ProjectID: "p1"}
	evs := Target{Service: EVS, Region: "cn-north-4", ProjectID: "p1"}
	cts := Target{Service: CTS, Region: "cn-north-4", ProjectID: "p1"}
	authErr := &APIError{StatusCode: 401, Code: "APIG.0301", Message: "Incorrect IAM authentication information: verify aksk signature fail", RequestID: "r1"}
	authBackoff := fmt.Errorf("%w until 2026-03-01T10:05:00Z", ErrAuthBackoff)
	permErr := &APIError{StatusCode: 403, Code: "APIG.0302", Message: "The IAM user is not authorized to access the API"}
	permBackoff := fmt.Errorf("%w: cts in project p1 until 2026-03-01T10:05:00Z", ErrPermissionBackoff)

	type call struct {
		t   Target
		err error
	}
	tests := []struct {
		name  string
		calls []call
		want  []Failure // Since and LatestAt are checked apart
	}{
		{"no failure", []call{{ecs, nil}}, nil},
		{"a 401, then back-offs: the 401 is the cause", []call{{ecs, authErr}, {evs, authBackoff}, {ecs, authBackoff}},
			[]Failure{{Reason: ReasonAuth, Region: "cn-north-4", ProjectID: "p1", Service: ECS, Cause: authErr.Error(), Latest: authBackoff.Error()}}},
		{"only back-offs seen: no cause to show", []call{{ecs, authBackoff}},
			[]Failure{{Reason: ReasonAuth, Region: "cn-north-4", ProjectID: "p1", Service: ECS, Latest: authBackoff.Error()}}},
		{"a success clears the key", []call{{ecs, authErr}, {evs, nil}}, nil},
		{"a timeout says nothing about the key", []call{{ecs, authErr}, {evs, context.DeadlineExceeded}},
			[]Failure{{Reason: ReasonAuth, Region: "cn-north-4", ProjectID: "p1", Service: ECS, Cause: authErr.Error(), Latest: authErr.Error()}}},
		{"a 403 backs one service off, with its cause", []call{{cts, permErr}, {cts, permBackoff}, {ecs, nil}},
			[]Failure{{Reason: ReasonPermission, Region: "cn-north-4", ProjectID: "p1", Service: CTS, Cause: permErr.Error(), Latest: permBackoff.Error()}}},
		{"key failures first", []call{{cts, permErr}, {ecs, authErr}},
			[]Failure{{Reason: ReasonAuth, Region: "cn-north-4", ProjectID: "p1", Service: ECS, Cause: authErr.Error(), Latest: authErr.Error()},
				{Reason: ReasonPermission, Region: "cn-north-4", ProjectID: "p1", Service: CTS, Cause: permErr.Error(), Latest: permErr.Error()}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Client{}
			for i, cl := range tt.calls {
				c.failures.note(t0.Add(time.Duration(i)*time.Second), cl.t, cl.err)
			}
			got := c.Failures()
			if len(got) != len(tt.want) {
				t.Fatalf("got %d failures %+v, want %d", len(got), got, len(tt.want))
			}
			for i, g := range got {
				if !g.Since.Equal(t0) && len(tt.calls) > 0 && tt.calls[0].t.Service == g.Service {
					t.Errorf("failure %d since %v, want the first call's time", i, g.Since)
				}
				g.Since, g.LatestAt = time.Time{}, time.Time{}
				if g != tt.want[i] {
					t.Errorf("failure %d:\n got %+v\nwant %+v", i, g, tt.want[i])
				}
			}
		})
	}
}

func TestFailuresBounded(t *testing.T) {
	c := &Client{}
	for i := range maxFailures + 10 {
		c.failures.note(time.Now(), Target{Service: ECS, Region: "r", ProjectID: fmt.Sprint(i)}, ErrAuthBackoff)
	}
	if n := len(c.Failures()); n != maxFailures {
		t.Errorf("%d failures kept, want %d", n, maxFailures)
	}
}

// TestFailuresFromRequests: GetJob and ListTraces note what the gateway answered, so a wrong secret key
// shows its 401 APIG.0301 while the key rests.
func TestFailuresFromRequests(t *testing.T) {
	g := newGateway(t, nil, script(answer{status: 200, body: fixtureString(t, "ecs-init.json")}))
	c := newTestClient(WithAuthBackoff(time.Minute, 10*time.Minute))
	wrong := g.target(ECS, Credentials{AccessKey: testAK, SecretKey: "not the secret"})
	ctx := context.Background()
	if _, err := c.GetJob(ctx, wrong, testJobID); Reason(err) != ReasonAuth {
		t.Fatalf("first call: %v, want an auth failure", err)
	}
	if _, err := c.ListTraces(ctx, g.target(CTS, wrong.Credentials), TraceQuery{}); Reason(err) != ReasonAuthBackoff {
		t.Fatalf("second call: %v, want the back-off", err)
	}
	fs := c.Failures()
	if len(fs) != 1 {
		t.Fatalf("failures %+v, want one", fs)
	}
	if f := fs[0]; !strings.Contains(f.Cause, "HTTP 401 APIG.0301") || !strings.Contains(f.Latest, ErrAuthBackoff.Error()) {
		t.Errorf("cause %q, latest %q", f.Cause, f.Latest)
	}
	if _, err := c.GetJob(ctx, g.target(ECS, Credentials{AccessKey: testAK2, SecretKey: testSK2}), testJobID); err != nil { // the rotated key
		t.Fatal(err)
	}
	if fs := c.Failures(); len(fs) != 0 {
		t.Errorf("failures after a success: %+v", fs)
	}
}
