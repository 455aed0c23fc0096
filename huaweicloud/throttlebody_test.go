package huaweicloud

import "testing"

// TestMayBeThrottled: the cheap test that spares job answers a second JSON parse lets every throttling
// body through, and no fixture job answer.
func TestMayBeThrottled(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want bool
	}{
		{"ecs 202 flow control", fixtureString(t, "ecs-flow-control-202.json"), true},
		{"gateway throttling", fixtureString(t, "apig-throttled.json"), true},
		{"apigw spelling", `{"error_code":"APIGW.0308","error_msg":"slow down"}`, true},
		{"common 1503", `{"error":{"code":"Common.1503","message":"Api flow control Error"}}`, true},
		{"ecs success", fixtureString(t, "ecs-createServer-success.json"), false},
		{"ecs fail", fixtureString(t, "ecs-fail.json"), false},
		{"ecs partial failure", fixtureString(t, "ecs-batch-partial-failure.json"), false},
		{"bms running", fixtureString(t, "bms-createServer-running.json"), false},
	} {
		if got := mayBeThrottled([]byte(tc.body)); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
