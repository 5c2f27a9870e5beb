package sqlstore_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestWritersTakeTurnsInOrder: on SQLite, writes queued behind a long one get the
// one writer connection in the order they asked for it (database/sql on its own
// hands a freed connection to a random waiter, so some waited many turns and hit the
// store's timeout while later ones went first). A queued write whose context ends
// leaves the queue with the store's unavailable error, and the writes behind it
// still run, in order.
func TestWritersTakeTurnsInOrder(t *testing.T) {
	db := storetest.Open(t, sqlstore.SQLite)
	ctx := context.Background()
	release := make(chan struct{})
	holding := make(chan struct{})
	var order []int
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the long write the others queue behind
		defer wg.Done()
		if err := db.Write(ctx, func(account.Tx) error {
			close(holding)
			<-release
			return nil
		}); err != nil {
			t.Error(err)
		}
	}()
	<-holding
	const writers = 24
	const quitter = 7 // gives up while queued
	quitCtx, quit := context.WithCancel(ctx)
	errs := make([]error, writers)
	for i := range writers {
		wctx := ctx
		if i == quitter {
			wctx = quitCtx
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Write(wctx, func(account.Tx) error {
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				return nil
			})
		}()
		waitFor(t, func() bool { return sqlstore.WritersWaiting(db) == int64(i+1) })
	}
	quit()
	waitFor(t, func() bool { return sqlstore.WritersWaiting(db) == writers-1 })
	close(release)
	wg.Wait()
	var want []int
	for i := range writers {
		if i != quitter {
			want = append(want, i)
		}
	}
	if len(order) != len(want) {
		t.Fatalf("writes run in the order %v, want %v", order, want)
	}
	for k := range want {
		if order[k] != want[k] {
			t.Fatalf("writes run in the order %v, want %v", order, want)
		}
	}
	for i, err := range errs {
		if i == quitter {
			if err == nil {
				t.Errorf("the write that gave up while queued ran")
			}
			continue
		}
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
}

// TestQueuedWriteTimesOut: a write that waits for the writer longer than the store's
// timeout fails as unavailable (a 503 to the client), not as an internal error.
func TestQueuedWriteTimesOut(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.OpenWith(ctx, "sqlite://"+filepath.Join(t.TempDir(), "gate.db"), sqlstore.Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	release, holding := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.Write(ctx, func(account.Tx) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	err = db.Write(ctx, func(account.Tx) error { return nil })
	close(release)
	<-done // itself past the timeout by now: its fate is beside the point
	if account.ErrorCode(err) != account.EUNAVAILABLE {
		t.Fatalf("queued write past its deadline = %v, want %s", err, account.EUNAVAILABLE)
	}
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
	}
}
