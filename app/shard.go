package app

import (
	"fmt"
	"strconv"
	"strings"
)

// ShardFlags are --shard.index, --shard.count and --shard.from-pod-name as given.
type ShardFlags struct {
	Index, Count int
	IndexSet     bool // --shard.index was given
	FromPodName  bool
}

// podNameEnv is the variable a StatefulSet pod gets its own name in (the Downward API's
// metadata.name), as kube-state-metrics' --pod flag expects.
const podNameEnv = "POD_NAME"

// resolve returns the shard this replica owns: the flags, or with --shard.from-pod-name the ordinal of
// a StatefulSet pod (the number after the last '-' of its name, "hje-3" is 3), so that one pod template
// serves every replica. Each error names the flag to fix.
func (f ShardFlags) resolve(getenv func(string) string) (index, count int, err error) {
	index, count = f.Index, f.Count
	if count < 1 {
		return 0, 0, fmt.Errorf("--shard.count must be at least 1 (got %d)", count)
	}
	if f.FromPodName {
		if f.IndexSet {
			return 0, 0, fmt.Errorf("--shard.index and --shard.from-pod-name exclude each other: the pod name gives the index")
		}
		pod := getenv(podNameEnv)
		if pod == "" {
			return 0, 0, fmt.Errorf("--shard.from-pod-name: environment variable %s is empty (set it from the Downward API's metadata.name)", podNameEnv)
		}
		i := strings.LastIndexByte(pod, '-')
		n, perr := strconv.Atoi(pod[i+1:])
		if i < 0 || perr != nil || n < 0 {
			return 0, 0, fmt.Errorf("--shard.from-pod-name: %s=%q does not end in -<ordinal> like a StatefulSet pod", podNameEnv, pod)
		}
		index = n
		if index >= count {
			return 0, 0, fmt.Errorf("--shard.from-pod-name: pod ordinal %d (%s=%q) is not below --shard.count=%d: set --shard.count to the StatefulSet's replicas", index, podNameEnv, pod, count)
		}
		return index, count, nil
	}
	if index < 0 || index >= count {
		return 0, 0, fmt.Errorf("--shard.index must be between 0 and --shard.count-1=%d (got %d)", count-1, index)
	}
	return index, count, nil
}
