package discovery

import (
	"sync"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/internal/labeltext"
)

// SourceState is what the landing page shows of one discovery source: when it last found jobs and
// whether its latest run failed. A source whose every run fails watches nothing, and "0 watched" alone
// does not tell an operator why.
type SourceState struct {
	Name        string
	Runs        int       // runs since the source started (or the exporter did)
	Found       int       // jobs of the latest run
	LastSuccess time.Time // end of the last run without error; zero if none
	LastError   string    // error of the latest run; "" when it succeeded
	LastErrorAt time.Time
}

// maxSourceErrorText bounds the stored error of a source.
const maxSourceErrorText = 600

// States is an Observer that remembers each source's latest runs and passes every observation on to
// next (the self-metrics), so the manager needs no second observer. Safe for concurrent use.
type States struct {
	next Observer
	now  func() time.Time

	mu sync.Mutex
	m  map[string]*SourceState
}

var (
	_ Observer  = (*States)(nil)
	_ Forgetter = (*States)(nil)
)

// NewStates returns States passing observations on to next (which may be nil).
func NewStates(next Observer) *States {
	return &States{next: next, now: time.Now, m: map[string]*SourceState{}}
}

// ObserveDiscovery records a run of source and passes it on.
func (s *States) ObserveDiscovery(source string, found int, err error) {
	now := s.now()
	s.mu.Lock()
	st := s.m[source]
	if st == nil {
		st = &SourceState{Name: source}
		s.m[source] = st
	}
	st.Runs++
	st.Found = found
	if err != nil {
		msg := err.Error()
		if len(msg) > maxSourceErrorText {
			// Cut at a rune's start: a cut inside one put invalid UTF-8 on the landing page.
			msg = labeltext.Truncate(msg, maxSourceErrorText) + "..."
		}
		st.LastError, st.LastErrorAt = msg, now
	} else {
		st.LastError, st.LastSuccess = "", now
	}
	s.mu.Unlock()
	if s.next != nil {
		s.next.ObserveDiscovery(source, found, err)
	}
}

// ForgetDiscovery drops a removed source and passes it on when next forgets too.
func (s *States) ForgetDiscovery(source string) {
	s.mu.Lock()
	delete(s.m, source)
	s.mu.Unlock()
	if f, ok := s.next.(Forgetter); ok {
		f.ForgetDiscovery(source)
	}
}

// State returns the state of each named source in order; a source that has not run yet has only its
// name.
func (s *States) State(names []string) []SourceState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SourceState, 0, len(names))
	for _, n := range names {
		if st := s.m[n]; st != nil {
			out = append(out, *st)
		} else {
			out = append(out, SourceState{Name: n})
		}
	}
	return out
}
