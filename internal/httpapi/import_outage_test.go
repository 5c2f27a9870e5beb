package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/importer"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestImportResumesAfterPostgresOutage: the PostgreSQL server of the test's own is
// stopped while the import runner is part way through a job; once it is back the
// same runner, never restarted, takes the job up again after its lease and finishes
// it: every row applied once, none failed.
func TestImportResumesAfterPostgresOutage(t *testing.T) {
	pg := storetest.StartPostgres(t)
	ctx := context.Background()
	db, err := sqlstore.OpenWith(ctx, pg.URL, sqlstore.Options{Timeout: faultTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, db)
	e.org("acme", "")
	const n = 300
	rows := [][]string{{"email", "first_name", "last_name", "send_invite"}}
	for i := range n {
		rows = append(rows, []string{fmt.Sprintf("p%03d@acme.test", i), "Person", fmt.Sprint(i), "no"})
	}
	job := e.must(202, e.op, "POST", "/api/v1/organizations/acme/imports", upload{name: "people.xlsx", content: xlsxFile(t, rows)})
	path := "/api/v1/organizations/acme/imports/" + job["id"].(string)

	r := &importer.Runner{Service: e.svc, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Batch: 1, Lease: time.Second, PollEvery: 20 * time.Millisecond}
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(rctx) })
	t.Cleanup(func() { stop(); wg.Wait() })

	// Part way through: some rows applied, not all.
	var processed float64
	for deadline := time.Now().Add(15 * time.Second); processed == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the runner applied nothing in 15s")
		}
		processed, _ = e.must(200, e.op, "GET", path, nil)["processed"].(float64)
	}
	pg.StopImmediate()
	if processed >= n {
		t.Fatalf("the import finished (%v rows) before the outage; make it longer", processed)
	}
	time.Sleep(2 * faultTimeout) // the runner meets the outage
	pg.Start()
	// The batch the outage cut short left the job leased to this runner; the test
	// clock stands still, so move it past the lease, as time would.
	e.clock.Advance(2 * time.Second)

	var got map[string]any
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		res := e.call(e.op, "GET", path, nil)
		if res.Status == 200 {
			got = res.Body
			if got["state"] == "done" || got["state"] == "failed" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import is not done 30s after the database came back: %d %v", res.Status, res.Body)
		}
	}
	if got["state"] != "done" || got["processed"] != float64(n) || got["created"] != float64(n) || got["failed"] != 0.0 {
		t.Errorf("after the outage: %v", got)
	}
	t.Logf("stopped at %v of %d rows", processed, n)
}
