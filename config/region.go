package config

import (
	"slices"
	"strings"
	"unicode"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/huaweicloud"
)

// knownRegions is every region of the official SDK's region tables (huaweicloud/regions.go), sorted.
var knownRegions = func() []string {
	var out []string
	for _, s := range huaweicloud.EndpointServices {
		if row, ok := huaweicloud.Spec(s); ok {
			out = append(out, row.Regions...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}()

// regionTypo returns the known region that region is a typo of, and whether it surely is one. A region
// id in no table may be a region newer than the tables (valid, warned about), or a typo: it is surely a
// typo when it is a known region with dashes dropped or added (cn-north4, cnnorth-4), or when its words
// are those of no known region and a known region is at most two edits away (cn-nroth-4). A new region
// numbered like its siblings (cn-north-13) is not a typo: its suggestion is only a warning's hint.
func regionTypo(region string) (suggestion string, sure bool) {
	if slices.Contains(knownRegions, region) {
		return "", false
	}
	undashed := strings.ReplaceAll(region, "-", "")
	best, bestDist := "", 3
	for _, k := range knownRegions {
		if strings.ReplaceAll(k, "-", "") == undashed {
			return k, true
		}
		if d := editDistance(region, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return "", false
	}
	words := regionWords(region)
	for _, k := range knownRegions {
		if regionWords(k) == words {
			return best, false
		}
	}
	return best, true
}

// regionWords is region without its digits and dashes: "cn-north-4" and "cn-north-13" are both "cnnorth".
func regionWords(region string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || unicode.IsDigit(r) {
			return -1
		}
		return r
	}, region)
}

// editDistance is the Levenshtein distance of two short ASCII strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// PlaceholderProjectID is the project id of the example configuration and the Helm chart's values: a
// project id of no account, which a copied example keeps until someone replaces it.
const PlaceholderProjectID = "0123456789abcdef0123456789abcdef"
