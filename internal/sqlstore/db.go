// Package sqlstore is Roster's only database code. It implements account.Store on
// SQLite (modernc, embedded) and PostgreSQL (pgx) with one set of hand-written
// queries: both engines accept $N placeholders, and the few differences are methods
// of Engine, in dialect.go. Migrations for each engine are embedded and applied by Migrate.
package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sealbox"
)

//go:embed migrations
var migrations embed.FS

// Engine names the database engine behind a DB.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is an open Roster database. On SQLite it holds two pools: one writer connection
// (every write transaction is BEGIN IMMEDIATE, so writers queue instead of failing
// with SQLITE_BUSY mid-transaction) and a pool of readers (WAL lets them run beside
// the writer). On PostgreSQL both are the same pool.
type DB struct {
	engine Engine
	writer *sql.DB
	reader *sql.DB
	// lease is the pool the cache lease is taken, renewed and let go through: on
	// PostgreSQL a small one of its own, so that a renewal never waits for a
	// connection behind the requests; on SQLite the writer (its writes are serial
	// anyway).
	lease *sql.DB
	// secrets seals the secrets the store keeps to use again (SealSecrets).
	secrets atomic.Pointer[sealbox.Box]
	// gate queues SQLite's write transactions for the writer first come, first
	// served (writegate.go; nil on PostgreSQL).
	gate *writeGate
	// The statement cache of SQLite's readers (nil on PostgreSQL). The writer has
	// none: its one connection is held by the transaction, so it could not prepare.
	readStmts *stmtCache
	// ckpt checkpoints SQLite's WAL (checkpoint.go; nil on PostgreSQL).
	ckpt *checkpointer
	// onEmail, when set, is called after a write that enqueued an email commits.
	onEmail atomic.Pointer[func()]
	// onEvent, when set, is called after a write that wrote a change event commits.
	onEvent atomic.Pointer[func()]
	// onDelivery, when set, is called after webhook deliveries were made due.
	onDelivery atomic.Pointer[func()]
	// onLogout, when set, is called after a write that queued logout notices commits.
	onLogout atomic.Pointer[func()]
	// idSource makes the ids of deliveries (ids(), events.go).
	idsOnce  sync.Once
	idSource *account.IDSource
	// The cache lease (cachelease.go): this process's name in it, the state
	// CacheEpoch answers from, and the origin of its monotonic clock.
	instance string
	cache    atomic.Pointer[cacheState]
	clock0   time.Time
	leaseLog leaseLog
	// leaseQuiet is how long after a revocation this process does not take the
	// lease (defaultLeaseQuiet; tests shorten it before RunCacheLease starts).
	leaseQuiet time.Duration
	// retries counts the write transactions run again (Write).
	retries retryCounts
	// timeout bounds every statement (Options.Timeout; 0: none). rawURL opens the
	// unbounded pools of the operations exempt from it (PostgreSQL).
	timeout time.Duration
	rawURL  string
}

func newDB(engine Engine, writer, reader, lease *sql.DB) *DB {
	db := &DB{engine: engine, writer: writer, reader: reader, lease: lease, instance: newInstance(), clock0: time.Now(), leaseQuiet: defaultLeaseQuiet}
	db.cache.Store(&cacheState{})
	return db
}

var (
	_ account.Store = (*DB)(nil)
	_ account.Tx    = (*tx)(nil)
)

// OnEmail sets a function called after every committed write that put an email in
// the outbox (serve wakes its outbox worker with it, instead of waiting for the
// next poll). It must not block.
func (db *DB) OnEmail(fn func()) { db.onEmail.Store(&fn) }

// Open connects to the database named by rawURL: "sqlite://path/to/file.db"
// (relative), "sqlite:///abs/path.db", or "postgres://…" / "postgresql://…".
// It does not migrate; call Migrate. Statements are bounded by DefaultTimeout.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	return OpenWith(ctx, rawURL, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, rawURL string, opts Options) (db *DB, err error) {
	timeout := opts.timeout()
	switch {
	case strings.HasPrefix(rawURL, "sqlite://"):
		db, err = openSQLite(ctx, strings.TrimPrefix(rawURL, "sqlite://"), timeout)
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		db, err = openPostgres(ctx, rawURL, timeout)
	default:
		return nil, fmt.Errorf("database URL %q: want sqlite://PATH or postgres://…", redactURL(rawURL))
	}
	if err != nil {
		return nil, err
	}
	db.timeout, db.rawURL = timeout, rawURL
	return db, nil
}

func openSQLite(ctx context.Context, path string, timeout time.Duration) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite database URL has no path")
	}
	// The busy timeout is the store's: a file another process holds locked makes a
	// write wait that long, then fail as unavailable (an interrupt does not end
	// SQLite's wait for a lock, so the context's deadline alone would not).
	busy := int64(10000)
	if timeout > 0 {
		busy = max(timeout.Milliseconds(), 1)
	}
	common := "_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=mmap_size(268435456)"
	pragmas := common + "&_pragma=busy_timeout(" + strconv.FormatInt(busy, 10) + ")"
	// The writer never checkpoints in its commits; the checkpointer does
	// (checkpoint.go), and whoever rewinds the WAL truncates it to the limit.
	walLimit := "&_pragma=journal_size_limit(" + strconv.Itoa(walRestartPages*4096) + ")"
	writer, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+walLimit+"&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	// Create the file and switch it to WAL before readers open it.
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	reader, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&mode=ro")
	if err != nil {
		writer.Close()
		return nil, err
	}
	reader.SetMaxOpenConns(8)
	reader.SetMaxIdleConns(8)
	reader.SetConnMaxIdleTime(0)
	ckpt, err := sql.Open("sqlite", "file:"+path+"?"+common+walLimit+
		"&_pragma=busy_timeout("+strconv.FormatInt(checkpointBusy.Milliseconds(), 10)+")&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		writer.Close()
		reader.Close()
		return nil, err
	}
	ckpt.SetMaxOpenConns(1)
	ckpt.SetMaxIdleConns(1)
	ckpt.SetConnMaxLifetime(0)
	ckpt.SetConnMaxIdleTime(0)
	db := newDB(SQLite, writer, reader, writer)
	db.gate = newWriteGate()
	db.readStmts = newStmtCache(reader)
	db.ckpt = newCheckpointer(ckpt)
	return db, nil
}

func openPostgres(ctx context.Context, rawURL string, timeout time.Duration) (*DB, error) {
	ctx, cancel := context.WithTimeout(ctx, max(timeout, 30*time.Second))
	defer cancel()
	db, err := openPgx(rawURL, timeout)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(24)
	db.SetMaxIdleConns(24)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres %s: %w", redactURL(rawURL), err)
	}
	lease, err := openPgx(rawURL, timeout)
	if err != nil {
		db.Close()
		return nil, err
	}
	lease.SetMaxOpenConns(2) // the renewals, and letting go on the way out
	lease.SetMaxIdleConns(2)
	return newDB(Postgres, db, db, lease), nil
}

// Engine reports which engine the DB runs on.
func (db *DB) Engine() Engine { return db.engine }

// Close closes every pool.
func (db *DB) Close() error {
	if db.readStmts != nil {
		db.readStmts.close()
	}
	var err error
	if db.ckpt != nil {
		err = db.ckpt.close()
	}
	err = errors.Join(err, db.writer.Close())
	if db.reader != db.writer {
		err = errors.Join(err, db.reader.Close())
	}
	if db.lease != db.writer {
		err = errors.Join(err, db.lease.Close())
	}
	return err
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.reader.PingContext(ctx)
}

// Migrate applies every pending embedded migration. On PostgreSQL it holds a session
// advisory lock, so several Roster processes starting together migrate once. It is
// not bound by the store's timeout: a migration may rewrite a large table.
func (db *DB) Migrate(ctx context.Context) error {
	p, done, err := db.migrator()
	if err != nil {
		return err
	}
	defer done()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// MigrationStatus lists each migration's version and whether it is applied.
func (db *DB) MigrationStatus(ctx context.Context) ([]string, error) {
	p, done, err := db.migrator()
	if err != nil {
		return nil, err
	}
	defer done()
	st, err := p.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(st))
	for _, s := range st {
		out = append(out, fmt.Sprintf("%05d %-30s %s", s.Source.Version, s.Source.Path, s.State))
	}
	return out, nil
}

// MigrationsDigest is a SHA-256 over the engine's migrations (names and contents),
// in hex: two binaries with the same digest build the same schema. Tests name
// their migrated template databases by it.
func MigrationsDigest(engine Engine) (string, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(engine))
	if err != nil {
		return "", err
	}
	h := sha256.New()
	err = fs.WalkDir(sub, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// migrator is goose over the embedded migrations; done closes what it opened.
func (db *DB) migrator() (p *goose.Provider, done func(), err error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.engine))
	if err != nil {
		return nil, nil, err
	}
	var opts []goose.ProviderOption
	dialect := goose.DialectSQLite3
	pool, done := db.writer, func() {}
	if db.engine == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
		if pool, done, err = db.unbounded(); err != nil {
			return nil, nil, err
		}
	}
	p, err = goose.NewProvider(dialect, pool, sub, opts...)
	if err != nil {
		done()
		return nil, nil, err
	}
	return p, done, nil
}

// unbounded opens a small pool without the server-side statement and lock timeouts
// (PostgreSQL), for the operations exempt from the store's timeout; done closes it.
// On SQLite it is the writer, whose only bound is the busy timeout.
func (db *DB) unbounded() (pool *sql.DB, done func(), err error) {
	if db.engine != Postgres || db.timeout <= 0 {
		return db.writer, func() {}, nil
	}
	pool, err = openPgx(db.rawURL, 0)
	if err != nil {
		return nil, nil, err
	}
	pool.SetMaxOpenConns(2)
	return pool, func() { pool.Close() }, nil
}

// Read runs fn against the reader pool, without a transaction, under the store's
// timeout. A store that cannot be reached or does not answer in time fails with
// account.EUNAVAILABLE.
func (db *DB) Read(ctx context.Context, fn func(account.Tx) error) error {
	counted(ctx, false)
	bctx, cancel := db.bound(ctx)
	defer cancel()
	var q querier = db.reader
	if db.readStmts != nil {
		q = cachedQuerier{cache: db.readStmts}
	}
	b := newBound(ctx, bctx)
	defer b.done()
	if b != nil {
		q = boundQ{q: q, b: b}
	}
	return classify(ctx, fn(&tx{q: q, engine: db.engine, secrets: db.secrets.Load()}))
}

// Write runs fn in one transaction, committed only if fn returns nil. When another
// process holds the cache lease, the transaction is begun again once it is revoked
// (cachelease.go); fn has not run by then. When PostgreSQL aborts the transaction
// as a deadlock's victim (40P01) or a serialization failure (40001), the whole
// transaction, fn included, runs again after a jittered, growing pause, up to
// writeAttempts times in all: fn must only write through its Tx, and leave what it
// captures as a first run would (the use cases of internal/account set their
// results afresh at each run).
//
// Each run, and each wait for the cache lease, is bounded by the store's timeout; a
// store that cannot be reached or does not answer in time fails with
// account.EUNAVAILABLE.
func (db *DB) Write(ctx context.Context, fn func(account.Tx) error) error {
	counted(ctx, true)
	for attempt := 1; ; {
		err := db.write(ctx, fn)
		var held *errLeaseHeld
		if errors.As(err, &held) {
			rctx, cancel := db.bound(ctx)
			err := db.revokeLease(rctx, held.holder)
			cancel()
			if err != nil {
				return classify(ctx, err)
			}
			continue
		}
		code := retryable(err)
		if code == "" || attempt >= writeAttempts {
			return classify(ctx, err)
		}
		db.retries.count(code)
		if waitErr := backoff(ctx, attempt); waitErr != nil {
			return classify(ctx, err) // the caller gave up; the last failure says why
		}
		attempt++
	}
}

// writeAttempts bounds the runs of one Write aborted by deadlocks or serialization
// failures; retryBase is the pause after the first, doubled after each next one.
const (
	writeAttempts = 5
	retryBase     = 10 * time.Millisecond
)

// retryable is the SQLSTATE of a PostgreSQL failure that aborted the whole
// transaction and that running it again may not meet, or "".
func retryable(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case sqlstateSerialization, sqlstateDeadlock:
			return pgErr.Code
		}
	}
	return ""
}

const (
	sqlstateSerialization = "40001"
	sqlstateDeadlock      = "40P01"
)

// backoff waits before run attempt+1: a random time between half of and the full
// retryBase·2^(attempt-1), so that the transactions that collided do not meet
// again in step; it returns early with ctx's error.
func backoff(ctx context.Context, attempt int) error {
	d := retryBase << (attempt - 1)
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryCounts counts the transactions run again, by the SQLSTATE that aborted them.
type retryCounts struct {
	serialization, deadlock atomic.Uint64
}

func (r *retryCounts) count(code string) {
	if code == sqlstateDeadlock {
		r.deadlock.Add(1)
	} else {
		r.serialization.Add(1)
	}
}

// WriteRetries reports how many write transactions were run again, by the SQLSTATE
// that aborted them: "40001" (serialization failure) and "40P01" (deadlock).
func (db *DB) WriteRetries() map[string]uint64 {
	return map[string]uint64{sqlstateSerialization: db.retries.serialization.Load(),
		sqlstateDeadlock: db.retries.deadlock.Load()}
}

func (db *DB) write(parent context.Context, fn func(account.Tx) error) (err error) {
	ctx, cancel := db.bound(parent)
	defer cancel()
	if err := db.gate.enter(ctx); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer db.gate.leave() // after the commit or rollback below
	sqlTx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	w := &watchedTx{Tx: sqlTx}
	b := newBound(parent, ctx)
	defer b.done()
	t := &tx{q: w, engine: db.engine, secrets: db.secrets.Load()}
	if b != nil {
		t.q = boundQ{q: w, b: b}
	}
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			sqlTx.Rollback()
			return
		}
		err = sqlTx.Commit()
		if w.changed { // even when the commit's fate is unknown
			db.bumpEpoch()
		}
		if err != nil {
			err = fmt.Errorf("commit: %w", err)
			return
		}
		if db.ckpt != nil {
			db.ckpt.committed()
		}
		if fn := db.onEmail.Load(); t.enqueued && fn != nil {
			(*fn)()
		}
		if fn := db.onEvent.Load(); t.evented && fn != nil {
			(*fn)()
		}
		if fn := db.onDelivery.Load(); t.delivered && fn != nil {
			(*fn)()
		}
		if fn := db.onLogout.Load(); t.loggedOut && fn != nil {
			(*fn)()
		}
	}()
	if err := db.fenceWrite(ctx, sqlTx); err != nil {
		return err
	}
	if err := t.fenceIdempotency(ctx); err != nil {
		return err
	}
	return fn(t)
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tx implements account.Tx over a querier; one file per aggregate adds its methods.
type tx struct {
	q      querier
	engine Engine
	// secrets seals the webhooks' signing secrets (SealSecrets; nil: stored as
	// they are).
	secrets *sealbox.Box
	// savepoints counts the savepoints taken, naming each one uniquely (sp_1, sp_2, …)
	// so that they nest.
	savepoints int
	// enqueued records that the transaction wrote an outbox message (see OnEmail).
	enqueued bool
	// evented records that the transaction wrote a change event (see OnEvent).
	evented bool
	// delivered records that it made a webhook delivery due (see OnDelivery).
	delivered bool
	// loggedOut records that it queued a logout notice (see OnLogout).
	loggedOut bool
	// orgLocked holds the organizations whose row lock the transaction holds
	// (LockOrganization, PostgreSQL), so that each is taken once.
	orgLocked map[string]bool
	// subscribed caches SubscribedApplications per organization for the
	// transaction: every audited row of an import into a subscribed organization
	// asks it. The writes that change the answer (CreateSubscription,
	// DeleteOrganization) drop their organization's entry, and a rolled-back
	// savepoint puts back the cache as it was when the savepoint began.
	subscribed map[string][]string
}

// Savepoint runs fn inside a savepoint of the write transaction. If fn fails, its
// writes are rolled back to the savepoint and the transaction goes on, usable again
// even on PostgreSQL after a failed statement; fn's error is returned. Should the
// rollback itself fail, that error is returned instead (never a domain error, so the
// caller aborts). A panic in fn propagates, and Write rolls everything back.
func (t *tx) Savepoint(ctx context.Context, fn func() error) error {
	if _, ok := t.inner().(*watchedTx); !ok {
		return errors.New("sqlstore: Savepoint outside a write transaction")
	}
	t.savepoints++
	name := "sp_" + strconv.Itoa(t.savepoints)
	if _, err := t.q.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	held, subscribed := maps.Clone(t.orgLocked), maps.Clone(t.subscribed)
	if err := fn(); err != nil {
		// The rollback lets go of the locks taken since the savepoint, and undoes
		// the subscriptions written since: the cache's entries from before it hold.
		t.orgLocked, t.subscribed = held, subscribed
		if _, rbErr := t.q.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+name); rbErr != nil {
			return fmt.Errorf("rollback to savepoint (after %v): %w", err, rbErr)
		}
		if _, relErr := t.q.ExecContext(ctx, "RELEASE SAVEPOINT "+name); relErr != nil {
			return fmt.Errorf("release savepoint (after %v): %w", err, relErr)
		}
		return err
	}
	if _, err := t.q.ExecContext(ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

// uniqueFields maps a unique index (PostgreSQL's constraint name, or SQLite's
// "table.column" from its constraint error) to the API field it protects.
var uniqueFields = map[string]string{
	"accounts_email_key":            "email",
	"accounts.email_key":            "email",
	"accounts_username_key":         "username",
	"accounts.username_key":         "username",
	"organizations_slug_key":        "slug",
	"organizations.slug":            "slug",
	"roles_name_key":                "name",
	"roles.org_id":                  "name",
	"teams_name_key":                "name",
	"teams.org_id":                  "name",
	"memberships_pkey":              "account",
	"memberships.org_id":            "account",
	"sessions_token_hash_key":       "token",
	"sessions.token_hash":           "token",
	"applications_key_key":          "key",
	"applications.key":              "key",
	"application_keys_key_hash_key": "token",
	"application_keys.key_hash":     "token",
	"scim_users_user_name_key":      "userName",
	"scim_users.org_id":             "userName",
	"scim_tokens_token_hash_key":    "token",
	"scim_tokens.token_hash":        "token",
	// A subscription's one renewal (00018).
	"subscriptions_renewed_from_key": "renewed_from",
	"subscriptions.renewed_from":     "renewed_from",
	"outbox_pkey":                    "id",
	"outbox.id":                      "id",
	// The partial unique indexes of pending invitations and join requests, both on
	// (org_id, account_id): SQLite names their first column.
	"invitations_pending_key":    "email",
	"invitations.org_id":         "email",
	"invitations_token_hash_key": "token",
	"invitations.token_hash":     "token",
	"invitations_pkey":           "id",
	"invitations.id":             "id",
	"join_requests_pending_key":  "organization",
	"join_requests.org_id":       "organization",
	"join_requests_pkey":         "id",
	// An organization's domains (00028): once per organization, verified for one.
	"domains_org_domain_key":    "domain",
	"domains.org_id":            "domain",
	"domains_verified_key":      "domain",
	"domains.domain":            "domain",
	"join_requests.id":          "id",
	"account_tokens_pkey":       "token",
	"account_tokens.token_hash": "token",
	"imports_pkey":              "id",
	"imports.id":                "id",
	"import_files_pkey":         "id",
	"import_files.import_id":    "id",
	// (import_id, row, seq): SQLite names its first column.
	"import_errors_pkey":      "row",
	"import_errors.import_id": "row",
	// (team_id, account_id): SQLite names its first column.
	"team_members_pkey":    "team",
	"team_members.team_id": "team",
	"accounts_pkey":        "id",
	"accounts.id":          "id",
	"audit_events_pkey":    "id",
	"audit_events.id":      "id",
}

// quotaConstraint is the check that keeps a subscription's assigned seats within its
// quota (see the 00002 migrations).
const quotaConstraint = "subscriptions_quota"

// translate turns driver errors into domain errors: sql.ErrNoRows into ENOTFOUND
// (with what), unique violations into ECONFLICT naming the field, a violation of the
// seat quota into EQUOTAEXCEEDED. Errors are told apart by their codes (PostgreSQL
// 23505 and 23514, SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_CHECK); only the
// name of the violated index or check is read from SQLite's message, which has no
// other field for it.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return account.Errorf(account.ENOTFOUND, "%s not found", what)
	}
	if checkViolation(err, quotaConstraint) {
		return account.Errorf(account.EQUOTAEXCEEDED, "no seat left: the subscription's quota cannot cover its assigned seats")
	}
	if field, ok := uniqueViolation(err); ok {
		e := account.Errorf(account.ECONFLICT, "%s: %s is already taken", what, field)
		e.Fields = []account.FieldError{{Field: field, Message: "already taken"}}
		return e
	}
	return err
}

func uniqueViolation(err error) (field string, ok bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		f := uniqueFields[pgErr.ConstraintName]
		if f == "" {
			f = pgErr.ConstraintName
		}
		return f, true
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) && (sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		msg := sqErr.Error()
		const marker = "constraint failed: "
		if i := strings.LastIndex(msg, marker); i >= 0 {
			cols := msg[i+len(marker):]
			if j := strings.IndexAny(cols, " ,)"); j >= 0 {
				cols = cols[:j]
			}
			if f, ok := uniqueFields[cols]; ok {
				return f, true
			}
			return cols, true
		}
		return "id", true
	}
	return "", false
}

// checkViolation reports whether err is a violation of the named CHECK constraint.
func checkViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23514" && pgErr.ConstraintName == constraint
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) && sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_CHECK {
		// "CHECK constraint failed: subscriptions_quota"
		msg := sqErr.Error()
		i := strings.LastIndex(msg, "constraint failed: ")
		return i >= 0 && strings.HasPrefix(msg[i+len("constraint failed: "):], constraint)
	}
	return false
}

// foreignKeyViolation reports whether err is a foreign key violation (PostgreSQL
// 23503, SQLITE_CONSTRAINT_FOREIGNKEY; SQLite does not say which key).
func foreignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23503"
	}
	var sqErr *sqlite.Error
	return errors.As(err, &sqErr) && sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
