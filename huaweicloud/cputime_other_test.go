//go:build !unix

package huaweicloud

import "time"

// processCPU is not measured here: BenchmarkGetJob reports no CPU time.
func processCPU() time.Duration { return 0 }
