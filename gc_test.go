package main

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestGCPercentDefault: without GOGC the process paces its GC at defaultGCPercent (Go's 100 doubled a
// heap that is mostly long-lived job state: 50 MiB at 10,000 jobs, issue 14); a GOGC the operator set is
// left alone.
func TestGCPercentDefault(t *testing.T) {
	tests := []struct {
		name  string
		gogc  *string
		start int
		want  int
	}{
		{"unset: the exporter's default", nil, 100, defaultGCPercent},
		{"set by the operator: kept", ptr("200"), 200, 200},
		{"off: kept", ptr("off"), -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.gogc != nil {
				t.Setenv("GOGC", *tt.gogc)
			} else {
				t.Setenv("GOGC", "")
				os.Unsetenv("GOGC")
			}
			prev := debug.SetGCPercent(tt.start)
			setGCPercent()
			if got := debug.SetGCPercent(prev); got != tt.want {
				t.Errorf("GC percent = %d, want %d", got, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
