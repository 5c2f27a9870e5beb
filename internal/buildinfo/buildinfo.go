// Package buildinfo says which build of Roster is running, from what the Go
// toolchain records in the binary (runtime/debug.ReadBuildInfo).
package buildinfo

import (
	"fmt"
	"runtime/debug"
	"strings"
	"time"
)

// Info describes a build.
type Info struct {
	// Version is the module version (v1.2.3) of a released build, or
	// "devel-<revision>" for one built from a checkout ("(devel)" without VCS data).
	Version   string
	Revision  string    // the VCS revision, in full; "" if unknown
	Time      time.Time // the revision's commit time; zero if unknown
	Modified  bool      // built from a checkout with uncommitted changes
	GoVersion string
}

// Read reads the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "(unknown)"}
	}
	return parse(bi)
}

func parse(bi *debug.BuildInfo) Info {
	in := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time, _ = time.Parse(time.RFC3339, s.Value)
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	if in.Version == "" || in.Version == "(devel)" {
		in.Version = "(devel)"
		if len(in.Revision) >= 12 {
			in.Version = "devel-" + in.Revision[:12]
		}
	}
	return in
}

// String is the one line `roster version` prints, e.g.
// "v1.2.0 (revision 0123456789ab…, 2026-12-01T10:00:00Z, go1.26.0)".
func (in Info) String() string {
	var parts []string
	if in.Revision != "" {
		r := "revision " + in.Revision
		if in.Modified {
			r += " with uncommitted changes"
		}
		parts = append(parts, r)
	}
	if !in.Time.IsZero() {
		parts = append(parts, "committed "+in.Time.UTC().Format(time.RFC3339))
	}
	if in.GoVersion != "" {
		parts = append(parts, "built with "+in.GoVersion)
	}
	if len(parts) == 0 {
		return in.Version
	}
	return fmt.Sprintf("%s (%s)", in.Version, strings.Join(parts, ", "))
}
