package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/soak"
)

// TestSoak runs rosterload's mixed load against roster serve on each engine for
// ROSTER_SOAK_DURATION (default 3s; CI runs 15s) and fails on any failed request.
// The ten-minute runs of BENCHMARKS.md use the rosterload command.
func TestSoak(t *testing.T) {
	d := 3 * time.Second
	if testing.Short() && os.Getenv("ROSTER_SOAK_DURATION") == "" {
		t.Skip("the soak starts a server on each engine and loads it: skipped by -short (go test ./... runs it)")
	}
	if v := os.Getenv("ROSTER_SOAK_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("ROSTER_SOAK_DURATION: %v", err)
		}
	}
	if raceEnabled && os.Getenv("ROSTER_SOAK_DURATION") == "" {
		d *= 3 // the race detector slows the server several times over: time for the whole mix
	}
	for engine, dbURL := range databases(t) {
		t.Run(engine, func(t *testing.T) {
			const pw = "correct horse battery"
			// Failed requests fail the test, slow ones do not (the figures of record
			// are rosterload's, in BENCHMARKS.md): the store waits as the test
			// stores do, not the production 5 s, on a machine the suite shares.
			base, _, _ := start(t, map[string]string{"ROSTER_DATABASE_URL": dbURL, "ROSTER_LOG_LEVEL": "warn",
				"ROSTER_BOOTSTRAP_EMAIL": "op@roster.test", "ROSTER_BOOTSTRAP_PASSWORD": pw,
				"ROSTER_STORE_TIMEOUT": "30s"})
			rep, err := soak.Run(context.Background(), soak.Config{BaseURL: base, OperatorEmail: "op@roster.test",
				OperatorPassword: pw, Duration: d, Workers: 6, Members: 24, SampleEvery: max(d/4, time.Second)})
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			rep.Write(&out)
			t.Logf("%s\n%s", engine, out.String())
			if n := rep.TotalErrors(); n > 0 {
				t.Errorf("%d requests failed:\n%s", n, strings.Join(rep.Errors, "\n"))
			}
			for _, op := range []string{soak.OpCheck, soak.OpList, soak.OpAssign, soak.OpUnassign, soak.OpInvite, soak.OpCancel, soak.OpLogin, soak.OpLogout} {
				if rep.Ops[op].Count == 0 {
					t.Errorf("no %s in the mix", op)
				}
			}
			if len(rep.Samples) < 3 || rep.Samples[0].RSS <= 0 {
				t.Errorf("memory samples: %+v", rep.Samples)
			}
		})
	}
}
