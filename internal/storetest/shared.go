package storetest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"roster.dev/roster/internal/sqlstore"
)

// OpenShared returns n DBs opened separately on one fresh, migrated database of
// engine, as n Roster processes sharing it would have: on SQLite n opens of one file,
// on PostgreSQL n pools on one database (skipping the test without PostgresURLEnv).
// They are closed, and the database dropped, when the test ends.
func OpenShared(t testing.TB, engine sqlstore.Engine, n int) []*sqlstore.DB {
	t.Helper()
	var rawURL string
	switch engine {
	case sqlstore.SQLite:
		rawURL = "sqlite://" + filepath.Join(t.TempDir(), "roster.db")
	case sqlstore.Postgres:
		rawURL = postgresDatabaseFrom(context.Background(), t, true)
	default:
		t.Fatalf("storetest: unknown engine %q", engine)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dbs := make([]*sqlstore.DB, n)
	// The suite checks behaviour, not the production store timeout (5 s): on a
	// loaded CI machine a bulk write queued behind 15 others may wait longer, and
	// under the race detector SQLite's transpiled C runs some 25 times slower (the
	// 16 writers of TestConcurrentWriters: 1.3 s, and 31–41 s with -race, the last of
	// their queue waiting 18 s). The tests of the timeout itself open their stores
	// with their own.
	timeout := 30 * time.Second
	if raceDetector {
		timeout = 2 * time.Minute
	}
	for i := range dbs {
		db, err := sqlstore.OpenWith(ctx, rawURL, sqlstore.Options{Timeout: timeout})
		if err != nil {
			t.Fatalf("storetest: %v", err)
		}
		t.Cleanup(func() {
			if err := db.Close(); err != nil {
				t.Errorf("storetest: close: %v", err)
			}
		})
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("storetest: %v", err)
		}
		dbs[i] = db
	}
	return dbs
}
