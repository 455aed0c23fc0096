package app

import (
	"runtime/debug"
	"strings"

	"github.com/prometheus/common/version"
)

// SetVersionFromBuildInfo fills in the version of a plain "go build" or "go run", which has no ldflags:
// the module version and VCS revision Go records, so the landing page and build_info never show blanks.
func SetVersionFromBuildInfo() {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if version.Version == "" {
		version.Version = strings.TrimPrefix(bi.Main.Version, "v")
		if version.Version == "" || version.Version == "(devel)" {
			version.Version = "dev"
		}
	}
	if version.Branch == "" {
		version.Branch = "unknown"
	}
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && (version.Revision == "" || version.Revision == "unknown"):
			version.Revision = s.Value
		case s.Key == "vcs.modified" && s.Value == "true" && !strings.HasSuffix(version.Revision, "-dirty") && version.Revision != "":
			version.Revision += "-dirty"
		}
	}
}
