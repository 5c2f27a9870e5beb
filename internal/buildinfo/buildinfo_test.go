package buildinfo

import (
	"runtime/debug"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	settings := []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	in := parse(&debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: settings})
	want := Info{Version: "devel-0123456789ab", Revision: "0123456789abcdef0123456789abcdef01234567",
		Time: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Modified: true, GoVersion: "go1.26.0"}
	if in != want {
		t.Errorf("parse = %+v, want %+v", in, want)
	}
	if got := in.String(); got != "devel-0123456789ab (revision 0123456789abcdef0123456789abcdef01234567 with uncommitted changes, committed 2026-12-01T10:00:00Z, built with go1.26.0)" {
		t.Errorf("String = %q", got)
	}
	rel := parse(&debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.0"}, Settings: settings[:2]})
	if rel.Version != "v1.2.0" || rel.Modified {
		t.Errorf("a release = %+v", rel)
	}
	if got := parse(&debug.BuildInfo{}).String(); got != "(devel)" {
		t.Errorf("no build data: %q", got)
	}
}
