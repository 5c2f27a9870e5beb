package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"roster.dev/roster/internal/soak"
)

// TestWriters runs rosterload's writers workload — 16 writers of every kind into one
// organization: bulk invitations, adds, bulk seat changes of two applications in
// either order, CSV imports waited for, SCIM users added to a group — through two
// roster serve instances sharing one database, on each engine, three operations per
// writer. No answer may be a 5xx, no operation may fail, no transaction may have
// been a deadlock's victim, and what the API reads back afterwards, through either
// server, must be exactly what was written: no seat oversold, the counters equal to
// the rows they count.
func TestWriters(t *testing.T) {
	for engine, dbURL := range databases(t) {
		t.Run(engine, func(t *testing.T) {
			const pw = "correct horse battery"
			// The test proves what is written, not how fast: its servers run
			// race-instrumented on a machine the rest of the suite shares, where a
			// bulk write queued behind fifteen others outwaits the production 5 s
			// store timeout (rosterload's figures in BENCHMARKS.md keep that one).
			env := map[string]string{"ROSTER_DATABASE_URL": dbURL, "ROSTER_LOG_LEVEL": "warn",
				"ROSTER_BOOTSTRAP_EMAIL": "op@roster.test", "ROSTER_BOOTSTRAP_PASSWORD": pw,
				"ROSTER_STORE_TIMEOUT": "30s"}
			base1, _, log1 := start(t, env)
			base2, _, log2 := start(t, env)
			rep, err := soak.RunWriters(context.Background(), soak.WritersConfig{BaseURLs: []string{base1, base2},
				OperatorEmail: "op@roster.test", OperatorPassword: pw, Rounds: 3, PerWorker: 4})
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			rep.Write(&out)
			t.Logf("%s\n%s", engine, out.String())
			if n, f := rep.FiveXX(), rep.Failed(); n > 0 || f > 0 {
				t.Errorf("%d answers were 5xx, %d operations failed:\n%s", n, f, strings.Join(rep.Errors, "\n"))
			}
			for _, b := range rep.Broken() {
				t.Errorf("invariant broken: %s", b)
			}
			for kind, k := range rep.Kinds {
				if k.Ops == 0 {
					t.Errorf("no %s in the load", kind)
				}
			}
			if n := rep.DeadlockRetries(); n > 0 {
				t.Errorf("%.0f transactions were deadlock victims, want none", n)
			}
			if engine == "postgres" && (len(rep.Retries) != 2 || len(rep.Retries[0]) == 0 || len(rep.Retries[1]) == 0) {
				t.Errorf("the servers' store retries were not read: %v", rep.Retries)
			}
			bad := regexp.MustCompile(`(?i)deadlock|40P01|level=ERROR|internal error|store unavailable`)
			for i, l := range []*lockedBuffer{log1, log2} {
				for _, line := range strings.Split(l.String(), "\n") {
					if bad.MatchString(line) {
						t.Errorf("server %d logged: %s", i+1, line)
					}
				}
			}
		})
	}
}
