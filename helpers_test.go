package main

import (
	"testing"
	"time"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/app"
)

// The project of the fault matrix's configs, and how long its tests wait for something to happen (the
// same as package app's tests, whose exporter tests these were beside before the move).
const (
	testRegion  = "ap-southeast-1"
	testProject = "0605767d4a0010ee2f3ac01e28a1a6b4"
	waitTimeout = 10 * time.Second
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", waitTimeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// watching tells whether ex watches the job id.
func watching(ex *app.Exporter, id string) bool {
	for _, j := range ex.Collector().Snapshot() {
		if j.JobID == id {
			return true
		}
	}
	return false
}
