package discovery

import (
	"runtime"
	"testing"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/testkit"
)

// checkGoroutines fails t if more goroutines run when it ends than when it started. Goroutines finish a
// moment after the work they were waiting for, so the count is retried until waitTimeout (go.uber.org/goleak
// does the same; this avoids a dependency for one check).
func checkGoroutines(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		var n int
		ok := poll(func() bool { n = runtime.NumGoroutine(); return n <= base })
		if !ok {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines at the end, %d at the start:\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
	})
}

// eventually fails t unless cond becomes true within waitTimeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, waitTimeout, what, cond)
}

func poll(cond func() bool) bool { return testkit.Poll(waitTimeout, cond) }
