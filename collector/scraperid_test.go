package collector

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Issue 22 item 3: the table of scrapers keeps a short fixed-size key per scraper, whatever the client
// sends as its User-Agent: 300 pulls with 1 MB agents kept 254 MB in it.
func TestScraperTableKeepsShortKeys(t *testing.T) {
	c := New(newFakeGetter(), Options{Concurrency: 1, FinalJobTTL: time.Hour}, nil)
	h := c.Handler(prometheus.NewRegistry(), 0, func() time.Duration { return time.Second }, nil)
	big := strings.Repeat("A", 1<<20)
	for i := range 20 {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("User-Agent", strconv.Itoa(i)+big)
		req.Header.Set(scrapeTimeoutHeader, "10") // only a pull with the header is a scraper's
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	c.RefreshFor(t.Context(), "caller text "+big) // a caller of RefreshFor gets the same bound
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.scrapers) != 21 {
		t.Fatalf("%d scrapers known, want 21 (each agent is its own scraper)", len(c.scrapers))
	}
	kept := 0
	for id := range c.scrapers {
		kept += len(id)
	}
	if kept > 21*16 {
		t.Errorf("the scraper table keeps %d bytes of identities for 21 scrapers, want at most %d (16 each)", kept, 21*16)
	}
}
