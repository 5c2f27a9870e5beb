package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestCacheLeaseOutage: the cache lease on a PostgreSQL server of the test's own.
// Stopped, the server can renew nothing, so the process stops trusting the lease
// (every check reads the store, and fails as unavailable, rather than answer from
// memory facts it can no longer vouch for); once the server is back the same loop
// takes the lease again by itself.
func TestCacheLeaseOutage(t *testing.T) {
	pg := storetest.StartPostgres(t)
	ctx := context.Background()
	db, err := sqlstore.OpenWith(ctx, pg.URL, sqlstore.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	lctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); db.RunCacheLease(lctx) }()
	t.Cleanup(func() { stop(); <-done })
	held := func(want bool, within time.Duration) {
		t.Helper()
		for deadline := time.Now().Add(within); db.CacheLeaseStats().Held != want; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("lease held = %v after %s, want %v: %+v", !want, within, want, db.CacheLeaseStats())
			}
		}
	}
	held(true, 15*time.Second)
	taken := db.CacheLeaseStats().Taken

	pg.StopImmediate()
	held(false, 15*time.Second)
	if _, ok := db.CacheEpoch(); ok {
		t.Fatal("CacheEpoch trusted with the database stopped")
	}
	pg.Start()
	held(true, 30*time.Second)
	if st := db.CacheLeaseStats(); st.Taken <= taken || st.Lapsed == 0 {
		t.Errorf("after the outage: %+v (taken before: %d)", st, taken)
	}
}
