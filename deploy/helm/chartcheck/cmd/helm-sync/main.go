// Command helm-sync copies the repository's alerting rules (alerts/*.rules.yml) and Grafana dashboards
// (dashboards/*.json) into the Helm chart, which cannot read files outside its own directory. Run it
// after changing either (`make helm-sync`); the chart tests fail until the copies match.
//
// Usage: go run ./cmd/helm-sync [repository root]   (default: ../../.., the root seen from
// deploy/helm/chartcheck)
package main

import (
	"fmt"
	"os"

	"github.com/huaweicloud-job-exporter/huaweicloud-job-exporter/deploy/helm/chartcheck"
)

func main() {
	root := "../../.."
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	changed, err := chartcheck.Sync(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helm-sync:", err)
		os.Exit(1)
	}
	for _, d := range changed {
		fmt.Println("updated", d)
	}
	if len(changed) == 0 {
		fmt.Println("helm-sync: chart copies already match alerts/ and dashboards/")
	}
}
