package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
	"roster.dev/roster/internal/testtime"
)

// TestCacheLease: a process holding the cache lease raises its epoch on its own
// writes of a check's rows and not on others; a write by another process revokes
// the lease before that write commits, so the holder stops trusting it before the
// writer returns; and the lease is taken again only after a quiet time.
func TestCacheLease(t *testing.T) {
	t.Parallel() // its own databases and quiet time; it mostly waits for the lease
	for _, engine := range storetest.Engines(t) {
		t.Run(string(engine), func(t *testing.T) {
			dbs := storetest.OpenShared(t, engine, 2)
			sqlstore.SetLeaseQuiet(300*time.Millisecond, dbs...)
			holder, other := dbs[0], dbs[1]
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); holder.RunCacheLease(ctx) }()
			t.Cleanup(func() { cancel(); <-done })
			if _, ok := other.CacheEpoch(); ok {
				t.Fatal("a process that runs no lease trusts one")
			}
			waitLease(t, holder, true)
			if st := holder.CacheLeaseStats(); !st.Held || st.Taken != 1 || st.Revoked != 0 || st.Lapsed != 0 {
				t.Fatalf("after the lease was taken: %+v", st)
			}

			now := time.Now().UTC().Truncate(time.Microsecond)
			e0, _ := holder.CacheEpoch()
			leaseWrite(t, holder, func(tx account.Tx) error {
				return tx.CreateOrganization(ctx, account.Organization{ID: "org1", Kind: account.KindOrganization, Name: "One",
					Slug: "one", InvitationTTLHours: 168, EndingSoonDays: 30, CreatedAt: now, UpdatedAt: now})
			})
			e1, ok := holder.CacheEpoch()
			if !ok || e1 <= e0 {
				t.Fatalf("after the holder's own write of an organization: epoch %d → %d (ok %v), want it raised", e0, e1, ok)
			}
			leaseWrite(t, holder, func(tx account.Tx) error {
				return tx.CreateTeam(ctx, account.Team{ID: "team1", OrgID: "org1", Name: "Ops", CreatedAt: now, UpdatedAt: now})
			})
			if e2, ok := holder.CacheEpoch(); !ok || e2 != e1 {
				t.Fatalf("after a write of a team: epoch %d → %d (ok %v), want it kept", e1, e2, ok)
			}
			// An application key's stamp of use: a table checks read, a column they do not.
			leaseWrite(t, holder, func(tx account.Tx) error {
				if err := tx.CreateApplication(ctx, account.Application{ID: "app0", Key: "app0", Name: "Zero", CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
				return tx.CreateApplicationKey(ctx, account.ApplicationKey{ID: "key0", ApplicationID: "app0", Name: "k",
					Prefix: "rk_app_0", Hash: []byte("hash0"), CreatedAt: now})
			})
			e1, _ = holder.CacheEpoch()
			leaseWrite(t, holder, func(tx account.Tx) error { return tx.TouchApplicationKey(ctx, "key0", now.Add(time.Minute)) })
			if e2, ok := holder.CacheEpoch(); !ok || e2 != e1 {
				t.Fatalf("after an application key's stamp of use: epoch %d → %d (ok %v), want it kept", e1, e2, ok)
			}

			// Another process's write: the holder has let go before it returns.
			leaseWrite(t, other, func(tx account.Tx) error {
				return tx.CreateApplication(ctx, account.Application{ID: "app1", Key: "studio", Name: "Studio", CreatedAt: now, UpdatedAt: now})
			})
			if _, ok := holder.CacheEpoch(); ok {
				t.Fatal("the holder still trusts its lease after another process wrote")
			}
			// The other process keeps writing: the holder stays out of the way.
			for range 3 {
				time.Sleep(100 * time.Millisecond)
				leaseWrite(t, other, func(tx account.Tx) error {
					return tx.UpdateApplication(ctx, account.Application{ID: "app1", Key: "studio", Name: "Studio " + time.Now().String(), CreatedAt: now, UpdatedAt: now})
				})
				if _, ok := holder.CacheEpoch(); ok {
					t.Fatal("the holder took the lease back while another process writes")
				}
			}
			// Quiet again: the holder takes the lease back, at a new epoch.
			waitLease(t, holder, true)
			if e3, _ := holder.CacheEpoch(); e3 <= e1 {
				t.Fatalf("the lease was taken back at epoch %d, not above %d", e3, e1)
			}
			if st := holder.CacheLeaseStats(); st.Taken != 2 || st.Revoked != 1 || st.Lapsed != 0 {
				t.Fatalf("after a revocation and the lease taken back: %+v, want taken 2, revoked 1, lapsed 0", st)
			}
			cancel()
			<-done
			if _, ok := holder.CacheEpoch(); ok {
				t.Fatal("the lease is still trusted after RunCacheLease returned")
			}
			// Let go: the other process writes without waiting for the lease to run out.
			start := time.Now()
			leaseWrite(t, other, func(tx account.Tx) error {
				return tx.UpdateApplication(context.Background(), account.Application{ID: "app1", Key: "studio", Name: "Studio", CreatedAt: now, UpdatedAt: now})
			})
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("a write after the lease was let go took %s", d)
			}
		})
	}
}

// TestCacheLeaseWaitsForWrites: no process takes the lease while a write is in
// flight, not even one that the previous holder began while it trusted its lease
// (it did not read the row, and the new holder could not see its changes yet).
func TestCacheLeaseWaitsForWrites(t *testing.T) {
	t.Parallel() // its own databases and quiet time; it mostly waits for the lease
	for _, engine := range storetest.Engines(t) {
		t.Run(string(engine), func(t *testing.T) {
			dbs := storetest.OpenShared(t, engine, 2)
			sqlstore.SetLeaseQuiet(0, dbs...)
			first, next := dbs[0], dbs[1]
			firstCtx, stopFirst := context.WithCancel(context.Background())
			firstDone := make(chan struct{})
			go func() { defer close(firstDone); first.RunCacheLease(firstCtx) }()
			t.Cleanup(func() { stopFirst(); <-firstDone })
			waitLease(t, first, true)

			// The holder begins a write and stops holding before it commits.
			began, commit, wrote := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			go func() {
				wrote <- first.Write(context.Background(), func(tx account.Tx) error {
					now := time.Now().UTC().Truncate(time.Microsecond)
					err := tx.CreateOrganization(context.Background(), account.Organization{ID: "org1", Kind: account.KindOrganization,
						Name: "One", Slug: "one", InvitationTTLHours: 168, EndingSoonDays: 30, CreatedAt: now, UpdatedAt: now})
					close(began)
					<-commit
					return err
				})
			}()
			<-began
			stopFirst()
			<-firstDone

			nextCtx, stopNext := context.WithCancel(context.Background())
			nextDone := make(chan struct{})
			go func() { defer close(nextDone); next.RunCacheLease(nextCtx) }()
			t.Cleanup(func() { stopNext(); <-nextDone })
			// The next process tries to take the lease, and waits for the write.
			testtime.WaitFor(t, 10*time.Second, "the next process waiting to take the lease", func() bool {
				waiting, err := sqlstore.WaitingForLease(context.Background(), first, next)
				if err != nil {
					t.Fatal(err)
				}
				return waiting
			})
			if _, ok := next.CacheEpoch(); ok {
				t.Fatal("another process took the lease while the holder's write was in flight")
			}
			close(commit)
			if err := <-wrote; err != nil {
				t.Fatal(err)
			}
			waitLease(t, next, true)
		})
	}
}

func leaseWrite(t *testing.T, db *sqlstore.DB, fn func(account.Tx) error) {
	t.Helper()
	if err := db.Write(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func waitLease(t *testing.T, db *sqlstore.DB, want bool) {
	t.Helper()
	testtime.WaitFor(t, 10*time.Second, fmt.Sprintf("the cache lease held = %v", want), func() bool {
		_, ok := db.CacheEpoch()
		return ok == want
	})
}

// TestChangesChecks: which statements raise the cache epoch.
func TestChangesChecks(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1 FROM memberships":                                 false,
		"\n\t\tINSERT INTO memberships (org_id) VALUES ($1)":        true,
		"UPDATE memberships SET state = $1":                         true,
		"DELETE FROM seats WHERE org_id = $1":                       true,
		"UPDATE subscriptions SET ends_at = $2":                     true,
		"DELETE FROM organizations WHERE id = $1":                   true,
		"UPDATE accounts SET state = $2":                            true,
		"UPDATE application_keys SET revoked_at = $2 WHERE id = $1": true,
		// By its text a write of a table checks read; TouchApplicationKey runs it
		// unwatched (TestCacheLease asserts the epoch is kept).
		"UPDATE application_keys SET last_used_at = $2 WHERE id = $1":      true,
		"INSERT INTO audit_events (id) VALUES ($1)":                        false,
		"INSERT INTO outbox(id) VALUES ($1)":                               false,
		"UPDATE sessions SET last_seen_at = $1":                            false,
		"insert into team_members (team_id) values ($1)":                   false,
		"\n\t\tUPDATE idempotency_keys SET applied = $4 WHERE caller = $1": false,
		"\n\t\tINSERT INTO idempotency_keys (caller) VALUES ($1)":          false,
		"WITH x AS (DELETE FROM seats RETURNING 1) SELECT count(*) FROM x": true,
		// The logout worker's claims, every poll: the check reads no notice.
		"\n\t\tUPDATE oidc_logout_notices SET claimed_until = $1": false,
		"\n\t\tINSERT INTO oidc_logout_notices (id) VALUES ($1)":  false,
		"SAVEPOINT sp_1":              false,
		"ROLLBACK TO SAVEPOINT sp_1":  false,
		"CREATE TEMP TABLE t (x int)": true,
	} {
		if got := sqlstore.ChangesChecks(q); got != want {
			t.Errorf("changesChecks(%q) = %v, want %v", q, got, want)
		}
	}
}
