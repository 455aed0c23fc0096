package discovery

import (
	"errors"
	"testing"
	"time"
)

type recordingObserver struct {
	runs      []string
	forgotten []string
}

func (r *recordingObserver) ObserveDiscovery(source string, _ int, _ error) {
	r.runs = append(r.runs, source)
}
func (r *recordingObserver) ForgetDiscovery(source string) { r.forgotten = append(r.forgotten, source) }

func TestStates(t *testing.T) {
	next := &recordingObserver{}
	s := NewStates(next)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	at := t0
	s.now = func() time.Time { return at }

	s.ObserveDiscovery("cts/a", 5, nil)
	at = at.Add(time.Minute)
	s.ObserveDiscovery("cts/a", 0, errors.New("list cts traces: HTTP 401 APIG.0301"))
	got := s.State([]string{"cts/a", "file/b"})
	want := []SourceState{
		{Name: "cts/a", Runs: 2, Found: 0, LastSuccess: t0, LastError: "list cts traces: HTTP 401 APIG.0301", LastErrorAt: t0.Add(time.Minute)},
		{Name: "file/b"},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("states:\n got %+v\nwant %+v", got, want)
	}
	s.ObserveDiscovery("cts/a", 3, nil)
	if st := s.State([]string{"cts/a"})[0]; st.LastError != "" || st.Found != 3 {
		t.Errorf("after a good run: %+v", st)
	}
	s.ForgetDiscovery("cts/a")
	if st := s.State([]string{"cts/a"})[0]; st.Runs != 0 {
		t.Errorf("forgotten source still has a state: %+v", st)
	}
	if len(next.runs) != 3 || len(next.forgotten) != 1 {
		t.Errorf("passed on %d runs and %d forgets, want 3 and 1", len(next.runs), len(next.forgotten))
	}
	long := make([]byte, 5000)
	for i := range long {
		long[i] = 'x'
	}
	s.ObserveDiscovery("cts/a", 0, errors.New(string(long)))
	if n := len(s.State([]string{"cts/a"})[0].LastError); n > maxSourceErrorText+3 {
		t.Errorf("stored error of %d bytes", n)
	}
}
