package app

import (
	"testing"
)

func TestShardFlags(t *testing.T) {
	env := func(pod string) func(string) string {
		return func(k string) string {
			if k == podNameEnv {
				return pod
			}
			return ""
		}
	}
	for _, tc := range []struct {
		name         string
		flags        ShardFlags
		pod          string
		index, count int
		err          string
	}{
		{name: "unsharded", flags: ShardFlags{Count: 1}, index: 0, count: 1},
		{name: "explicit", flags: ShardFlags{Index: 2, Count: 3, IndexSet: true}, index: 2, count: 3},
		{name: "index too high", flags: ShardFlags{Index: 3, Count: 3, IndexSet: true},
			err: "--shard.index must be between 0 and --shard.count-1=2 (got 3)"},
		{name: "negative index", flags: ShardFlags{Index: -1, Count: 3, IndexSet: true},
			err: "--shard.index must be between 0 and --shard.count-1=2 (got -1)"},
		{name: "zero count", flags: ShardFlags{Count: 0}, err: "--shard.count must be at least 1 (got 0)"},
		{name: "from pod name", flags: ShardFlags{Count: 4, FromPodName: true}, pod: "huaweicloud-job-exporter-3", index: 3, count: 4},
		{name: "pod zero", flags: ShardFlags{Count: 2, FromPodName: true}, pod: "hje-0", index: 0, count: 2},
		{name: "pod ordinal too high", flags: ShardFlags{Count: 2, FromPodName: true}, pod: "hje-2",
			err: `--shard.from-pod-name: pod ordinal 2 (POD_NAME="hje-2") is not below --shard.count=2: set --shard.count to the StatefulSet's replicas`},
		{name: "deployment pod", flags: ShardFlags{Count: 2, FromPodName: true}, pod: "hje-7d9f8c6b5-x2x9q",
			err: `--shard.from-pod-name: POD_NAME="hje-7d9f8c6b5-x2x9q" does not end in -<ordinal> like a StatefulSet pod`},
		{name: "no dash", flags: ShardFlags{Count: 2, FromPodName: true}, pod: "3",
			err: `--shard.from-pod-name: POD_NAME="3" does not end in -<ordinal> like a StatefulSet pod`},
		{name: "no pod name", flags: ShardFlags{Count: 2, FromPodName: true},
			err: "--shard.from-pod-name: environment variable POD_NAME is empty (set it from the Downward API's metadata.name)"},
		{name: "both", flags: ShardFlags{Index: 1, Count: 2, IndexSet: true, FromPodName: true}, pod: "hje-1",
			err: "--shard.index and --shard.from-pod-name exclude each other: the pod name gives the index"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			index, count, err := tc.flags.resolve(env(tc.pod))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || index != tc.index || count != tc.count {
				t.Fatalf("got %d of %d, %v; want %d of %d", index, count, err, tc.index, tc.count)
			}
		})
	}
}
