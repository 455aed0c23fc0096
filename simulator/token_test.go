package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// The gateway serves an unsigned request with a known X-Auth-Token like a signed one, and answers the
// APIG.0301 of a bad credential to every other unauthenticated request.
func TestTokenAuthentication(t *testing.T) {
	const token = "MIIbench-token"
	for _, tc := range []struct {
		name     string
		token    string
		sign     *huaweicloud.Credentials
		wantCode int
		wantMsg  string // error_msg of a 401
	}{
		{"valid token", token, nil, http.StatusOK, ""},
		{"unknown token", "MIIsomeone-else", nil, http.StatusUnauthorized, "Incorrect IAM authentication information: decrypt token fail"},
		{"no authentication", "", nil, http.StatusUnauthorized, "Incorrect IAM authentication information: Authorization header missing"},
		{"signed", "", &huaweicloud.Credentials{AccessKey: testAK, SecretKey: testSK}, http.StatusOK, ""},
		// A signature is judged on its own: a good token beside it does not excuse a wrong secret.
		{"bad signature with a valid token", token, &huaweicloud.Credentials{AccessKey: testAK, SecretKey: "wrong"}, http.StatusUnauthorized, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{Tokens: []string{token}})
			id := e.sim.CreateJob(JobSpec{Service: huaweicloud.ECS, Begin: base.Add(-time.Minute)})
			req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/v1/"+testProject+"/jobs/"+id, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.token != "" {
				req.Header.Set("X-Auth-Token", tc.token)
			}
			if tc.sign != nil {
				req.Header.Set("Host", req.URL.Host)
				if err := huaweicloud.Sign(req, nil, *tc.sign, e.clock.Now()); err != nil {
					t.Fatal(err)
				}
			}
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantCode {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.wantCode, body)
			}
			if tc.wantCode == http.StatusOK {
				if _, err := huaweicloud.ParseJob(huaweicloud.ECS, resp.StatusCode, body); err != nil {
					t.Errorf("answer is not a job: %v\n%s", err, body)
				}
				return
			}
			var ge gatewayError
			if err := json.Unmarshal(body, &ge); err != nil || ge.Code != "APIG.0301" {
				t.Fatalf("body %s, want the gateway's APIG.0301", body)
			}
			if tc.wantMsg != "" && ge.Msg != tc.wantMsg {
				t.Errorf("error_msg %q, want %q", ge.Msg, tc.wantMsg)
			}
			if st := e.sim.Stats(); st.AuthFailures != 1 {
				t.Errorf("AuthFailures = %d, want 1", st.AuthFailures)
			}
		})
	}
}
