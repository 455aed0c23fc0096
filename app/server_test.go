package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/fileread"
)

// Liveness (issue 22 item 4): /-/healthy stayed 200 while a read of a credential file hung and /metrics
// never answered. It is 503 while a file read is blocked past stuckReadLimit, and 200 again once it
// returns.
func TestHealthySeesAHungRead(t *testing.T) {
	old := stuckReadLimit
	stuckReadLimit = 0
	t.Cleanup(func() { stuckReadLimit = old })
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		healthHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/-/healthy", nil))
		return rec.Code, rec.Body.String()
	}
	if code, _ := get(); code != http.StatusOK {
		t.Fatalf("healthy with no read running: %d", code)
	}
	release, returned := make(chan struct{}), make(chan struct{})
	_, _ = fileread.Bounded(t.Context(), "/mnt/nfs/sk", 1, func() (int, error) { <-release; close(returned); return 0, nil })
	if code, body := get(); code != http.StatusServiceUnavailable || !strings.Contains(body, "/mnt/nfs/sk") {
		t.Errorf("with a hung read: %d %q, want 503 naming the file", code, body)
	}
	close(release)
	<-returned
	eventually(t, "healthy again once the read returns", func() bool { code, _ := get(); return code == http.StatusOK })
}
