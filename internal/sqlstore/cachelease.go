package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// The cache lease lets one Roster process answer entitlement checks from memory
// (account.CacheEpoch) with no answer ever stale, however many processes — servers,
// or `roster import` straight into the store — share the database:
//
//   - The holder is named in the cache_lease row, valid until until_ms by the
//     database's clock. It renews the lease every leaseRenewEvery and trusts it for
//     leaseTTL from the moment it asked, by its own monotonic clock, so it stops
//     trusting it no later than the database's clock ends it.
//   - Every write transaction of any other process reads the row first (on
//     PostgreSQL under a shared advisory lock, leaseLock, which acquire and renew
//     take exclusively, so that they never interleave with a write; SQLite's writers
//     are serial anyway). While a lease is valid the writer writes nothing: it
//     revokes the lease and waits until the holder lets go (at its next renewal) or
//     the lease runs out, then begins again.
//   - On PostgreSQL every write transaction, the holder's own included, first takes
//     a second advisory lock, holderLock, shared, which acquire takes exclusively:
//     no process can take the lease while a write it cannot see is in flight, even
//     one that the previous holder began while it still trusted its lease. The
//     holder's writes do not take leaseLock, so its renewals never wait for them.
//   - The holder raises its epoch after each of its own writes that can change a
//     check's answer, and when it takes the lease, so nothing read before counts.
//
// A process that cannot reach the database, or is paused, stops trusting the lease
// before anyone else can write. After a revocation the lease is not taken again for
// leaseQuiet, so that processes that keep writing are not slowed down for long.
const (
	leaseTTL        = time.Second
	leaseRenewEvery = 100 * time.Millisecond
	// leaseLock and holderLock are the PostgreSQL advisory lock keys of the lease
	// ("roster" + 1, + 2). Whoever takes both takes holderLock first.
	leaseLock  = 0x726f7374657201
	holderLock = 0x726f7374657202
)

// defaultLeaseQuiet is how long after a revocation the lease is not taken again
// (DB.leaseQuiet, which tests shorten).
const defaultLeaseQuiet = 30 * time.Second

// cacheState is what CacheEpoch answers from, replaced as a whole so that the
// epoch and the lease are always read together.
type cacheState struct {
	epoch uint64
	until time.Duration // since db.clock0; zero when no lease is held
}

// CacheEpoch implements account.CacheEpoch: ok while this process holds a lease it
// can trust.
func (db *DB) CacheEpoch() (uint64, bool) {
	st := db.cache.Load()
	return st.epoch, st.until > 0 && time.Since(db.clock0) < st.until
}

// holdsLease reports whether this process trusts its lease now.
func (db *DB) holdsLease() bool {
	_, ok := db.CacheEpoch()
	return ok
}

// setCache replaces the cache state with what next makes of it.
func (db *DB) setCache(next func(cacheState) cacheState) {
	for {
		old := db.cache.Load()
		n := next(*old)
		if db.cache.CompareAndSwap(old, &n) {
			return
		}
	}
}

// bumpEpoch retires every answer read so far.
func (db *DB) bumpEpoch() {
	db.setCache(func(s cacheState) cacheState { s.epoch++; return s })
}

// RunCacheLease takes the cache lease whenever no other process writes, and keeps
// it until ctx ends (then lets it go) or another process revokes it. Without it
// running, CacheEpoch is never ok and every check reads the store.
func (db *DB) RunCacheLease(ctx context.Context) {
	tick := time.NewTicker(leaseRenewEvery)
	defer tick.Stop()
	var nextTry time.Time
	held := false // at the end of the previous round
	for {
		if db.holdsLease() {
			t0 := time.Now()
			revoked, err := db.renewLease(ctx)
			db.leaseLog.renewed(time.Since(t0))
			switch {
			case err != nil && ctx.Err() == nil:
				db.dropLease()
				db.leaseLog.lapsed.Add(1)
				held = false
			case revoked:
				db.leaseLog.revoked.Add(1)
				held = false
			}
		} else {
			if held { // the renewal came too late
				db.leaseLog.lapsed.Add(1)
				held = false
			}
			if now := time.Now(); now.After(nextTry) {
				nextTry = now.Add(time.Second)
				taken, err := db.acquireLease(ctx)
				if err != nil && ctx.Err() == nil {
					db.dropLease()
				}
				if taken {
					db.leaseLog.taken.Add(1)
					held = true
				}
			}
		}
		select {
		case <-ctx.Done():
			db.dropLease()
			release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			_ = db.releaseLease(release)
			cancel()
			return
		case <-tick.C:
		}
	}
}

// leaseLog counts what became of this process's leases.
type leaseLog struct {
	taken, revoked, lapsed atomic.Uint64
	slowest                atomic.Int64 // the longest renewal, in nanoseconds
}

func (l *leaseLog) renewed(d time.Duration) {
	for {
		old := l.slowest.Load()
		if int64(d) <= old || l.slowest.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

// LeaseStats is what became of this process's cache leases: how many it took, how
// many another process's write revoked, and how many lapsed because a renewal
// failed or came too late (each lapse retires every answer kept in memory); and
// the longest renewal so far.
type LeaseStats struct {
	Held                   bool
	Taken, Revoked, Lapsed uint64
	SlowestRenewal         time.Duration
}

// CacheLeaseStats reports LeaseStats.
func (db *DB) CacheLeaseStats() LeaseStats {
	return LeaseStats{Held: db.holdsLease(), Taken: db.leaseLog.taken.Load(), Revoked: db.leaseLog.revoked.Load(),
		Lapsed: db.leaseLog.lapsed.Load(), SlowestRenewal: time.Duration(db.leaseLog.slowest.Load())}
}

// dropLease stops trusting the lease at once.
func (db *DB) dropLease() {
	db.setCache(func(s cacheState) cacheState { s.until = 0; return s })
}

// leaseTx runs stmt in a transaction of its own that, on PostgreSQL, first holds
// the advisory locks keys exclusively, in that order; it reports the rows stmt
// changed.
func (db *DB) leaseTx(ctx context.Context, keys []int64, stmt string, args ...any) (int64, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	sqlTx, err := db.lease.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer sqlTx.Rollback()
	if db.engine.rowLocks() {
		for _, key := range keys {
			if _, err := sqlTx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, key); err != nil {
				return 0, err
			}
		}
	}
	res, err := sqlTx.ExecContext(ctx, stmt, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return n, sqlTx.Commit()
}

// acquireLease takes the lease if it is free and no process has written lately.
func (db *DB) acquireLease(ctx context.Context) (taken bool, err error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	now := db.engine.nowMillis()
	// A look first, without the locks: most of the time another process holds the
	// lease or wrote lately, and the writers need not wait for the locks.
	var free bool
	err = db.lease.QueryRowContext(ctx, `SELECT (holder IS NULL OR holder = $1 OR until_ms < `+now+`)
		AND revoked_at_ms < `+now+` - $2 FROM cache_lease WHERE id = 1`,
		db.instance, db.leaseQuiet.Milliseconds()).Scan(&free)
	if err != nil || !free {
		return false, err
	}
	asked := time.Since(db.clock0)
	n, err := db.leaseTx(ctx, []int64{holderLock, leaseLock}, `UPDATE cache_lease SET holder = $1, until_ms = `+now+` + $2, revoked = FALSE
		WHERE id = 1 AND (holder IS NULL OR holder = $1 OR until_ms < `+now+`)
			AND revoked_at_ms < `+now+` - $3`,
		db.instance, leaseTTL.Milliseconds(), db.leaseQuiet.Milliseconds())
	if err != nil || n == 0 {
		return false, err
	}
	// Nothing read before now may be answered from: other processes wrote.
	db.setCache(func(s cacheState) cacheState { s.epoch++; s.until = asked + leaseTTL; return s })
	return true, nil
}

// renewLease extends a lease that is neither revoked nor run out; otherwise it lets
// go of it, for the writer waiting, and reports it revoked.
func (db *DB) renewLease(ctx context.Context) (revoked bool, err error) {
	asked := time.Since(db.clock0)
	now := db.engine.nowMillis()
	n, err := db.leaseTx(ctx, []int64{leaseLock}, `UPDATE cache_lease SET until_ms = `+now+` + $2
		WHERE id = 1 AND holder = $1 AND NOT revoked AND until_ms >= `+now,
		db.instance, leaseTTL.Milliseconds())
	if err != nil {
		return false, err
	}
	if n == 0 {
		db.dropLease()
		return true, db.releaseLease(ctx)
	}
	db.setCache(func(s cacheState) cacheState {
		if s.until > 0 {
			s.until = asked + leaseTTL
		}
		return s
	})
	return false, nil
}

// releaseLease clears the row if this process is its holder.
func (db *DB) releaseLease(ctx context.Context) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	_, err := db.lease.ExecContext(ctx, `UPDATE cache_lease SET holder = NULL, until_ms = 0, revoked = FALSE
		WHERE id = 1 AND holder = $1`, db.instance)
	return err
}

// errLeaseHeld is what fenceWrite answers when another process holds a valid lease.
type errLeaseHeld struct{ holder string }

func (e *errLeaseHeld) Error() string { return "cache lease held by " + e.holder }

// fenceWrite is the first thing a write transaction does. On PostgreSQL it takes
// holderLock shared, so that no process takes the lease until this transaction
// ends. Then, unless this process holds the lease, it fails with errLeaseHeld if
// another process holds a valid one.
func (db *DB) fenceWrite(ctx context.Context, sqlTx *sql.Tx) error {
	if db.engine.rowLocks() {
		if _, err := sqlTx.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared($1)`, int64(holderLock)); err != nil {
			return fmt.Errorf("cache lease: %w", err)
		}
	}
	// Checked under the lock (SQLite: under the write lock, which BEGIN IMMEDIATE
	// took), so the lease cannot have passed to another process since.
	if db.holdsLease() {
		return nil
	}
	if db.engine.rowLocks() {
		if _, err := sqlTx.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared($1)`, int64(leaseLock)); err != nil {
			return fmt.Errorf("cache lease: %w", err)
		}
	}
	var holder string
	var valid bool
	err := sqlTx.QueryRowContext(ctx, `SELECT COALESCE(holder, ''), until_ms >= `+db.engine.nowMillis()+`
		FROM cache_lease WHERE id = 1`).Scan(&holder, &valid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cache lease: %w", err)
	}
	if holder != "" && holder != db.instance && valid {
		return &errLeaseHeld{holder: holder}
	}
	return nil
}

// revokeLease revokes holder's lease and waits until it is let go or runs out.
func (db *DB) revokeLease(ctx context.Context, holder string) error {
	if _, err := db.writer.ExecContext(ctx, `UPDATE cache_lease SET revoked = TRUE, revoked_at_ms = `+db.engine.nowMillis()+`
		WHERE id = 1 AND holder = $1`, holder); err != nil {
		return fmt.Errorf("revoke cache lease: %w", err)
	}
	for {
		var current string
		var valid bool
		err := db.writer.QueryRowContext(ctx, `SELECT COALESCE(holder, ''), until_ms >= `+db.engine.nowMillis()+`
			FROM cache_lease WHERE id = 1`).Scan(&current, &valid)
		if err != nil {
			return fmt.Errorf("cache lease: %w", err)
		}
		if current != holder || !valid {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// checkNeutral lists the tables whose rows no entitlement check reads: writing them
// leaves the cache alone. A write to any other table, or a statement this cannot
// read, raises the epoch.
var checkNeutral = map[string]bool{
	"sessions": true, "audit_events": true, "outbox": true, "invitations": true,
	"join_requests": true, "seat_requests": true, "account_tokens": true, "setup_tokens": true,
	"imports": true, "import_files": true, "import_errors": true,
	"teams": true, "team_members": true, "roles": true,
	"scim_tokens": true, "scim_users": true, "scim_groups": true, "scim_group_members": true,
	"cache_lease": true, "idempotency_keys": true, "domains": true, "domain_joins": true,
	// Sign in with Roster: the sign-ins and tokens; the check reads none of them.
	"oidc_clients": true, "oidc_auth_requests": true, "oidc_access_tokens": true,
	"oidc_refresh_tokens": true, "oidc_signing_keys": true, "oidc_org_choices": true,
	"oidc_logout_notices": true,
}

// changesChecks reports whether query may change what an entitlement check reads.
func changesChecks(query string) bool {
	q := strings.TrimSpace(query)
	word, rest := cutWord(q)
	switch strings.ToUpper(word) {
	case "SELECT", "SAVEPOINT", "RELEASE":
		return false
	case "ROLLBACK": // ROLLBACK TO SAVEPOINT undoes; it changes nothing new
		return false
	case "INSERT", "DELETE": // INSERT INTO t, DELETE FROM t
		_, rest = cutWord(rest)
	case "UPDATE":
	default:
		return true
	}
	table, _ := cutWord(rest)
	table, _, _ = strings.Cut(table, "(")
	return !checkNeutral[strings.ToLower(table)]
}

// cutWord splits s at its first run of white space.
func cutWord(s string) (word, rest string) {
	s = strings.TrimLeft(s, " \t\r\n")
	i := strings.IndexAny(s, " \t\r\n")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// watchedTx is a write transaction's querier: it notes whether any statement may
// have changed what an entitlement check reads.
type watchedTx struct {
	*sql.Tx
	changed bool
}

func (w *watchedTx) note(query string) {
	if !w.changed && changesChecks(query) {
		w.changed = true
	}
}

func (w *watchedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	w.note(query)
	return w.Tx.ExecContext(ctx, query, args...)
}

func (w *watchedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	w.note(query)
	return w.Tx.QueryContext(ctx, query, args...)
}

func (w *watchedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	w.note(query)
	return w.Tx.QueryRowContext(ctx, query, args...)
}

var _ querier = (*watchedTx)(nil)

// execUnwatched runs a statement that writes a table a check reads but nothing a
// check's answer depends on (an application key's last use), without raising the
// epoch; its caller vouches for that.
func (t *tx) execUnwatched(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if w, ok := t.inner().(*watchedTx); ok {
		return t.bounded(w.Tx).ExecContext(ctx, query, args...)
	}
	return t.q.ExecContext(ctx, query, args...)
}

// newInstance names this process in the lease row.
func newInstance() string {
	return rand.Text()
}
