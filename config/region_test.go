package config

import "testing"

func TestRegionTypo(t *testing.T) {
	tests := []struct {
		region, want string
		sure         bool
	}{
		{"cn-north-4", "", false},         // known
		{"cn-north4", "cn-north-4", true}, // a dash dropped
		{"ap-southeast1", "ap-southeast-1", true},
		{"cnnorth-4", "cn-north-4", true},
		{"cn-nroth-4", "cn-north-4", true},   // words of no region, two edits away
		{"cn-north-13", "cn-north-1", false}, // maybe a new region: a warning's hint only
		{"xx-moon-1", "", false},             // nothing close
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			got, sure := regionTypo(tt.region)
			if got != tt.want || sure != tt.sure {
				t.Errorf("regionTypo(%q) = %q, %v; want %q, %v", tt.region, got, sure, tt.want, tt.sure)
			}
		})
	}
}
