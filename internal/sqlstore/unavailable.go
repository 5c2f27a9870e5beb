package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"roster.dev/roster/internal/account"
)

// DefaultTimeout bounds every statement of a store opened without Options.Timeout:
// the time a frozen or unreachable database may hold a request before it is told
// the store is unavailable.
const DefaultTimeout = 5 * time.Second

// Options tune a store at Open.
type Options struct {
	// Timeout bounds each Read and each run of a Write, connection wait included
	// (the caller's own deadline when that is sooner), and every statement of the
	// outbox, the cache lease and the health checks. On PostgreSQL the server is
	// also told to give up a statement or a lock wait a little later
	// (statement_timeout, lock_timeout), for when the client's cancellation cannot
	// reach it; on SQLite it is the busy timeout. 0 is DefaultTimeout; negative
	// bounds nothing. Migrations, backups and Analyze are exempt: they
	// legitimately run longer.
	Timeout time.Duration
}

func (o Options) timeout() time.Duration {
	switch {
	case o.Timeout == 0:
		return DefaultTimeout
	case o.Timeout < 0:
		return 0
	}
	return o.Timeout
}

// serverSlack is how much later than the client PostgreSQL gives up a statement:
// normally the client's deadline ends it first (and says why); the server's own
// timeout is for a connection whose client is gone or cannot reach it.
func serverSlack(timeout time.Duration) time.Duration {
	return timeout + max(timeout/10, 500*time.Millisecond)
}

// bound is ctx with the store's timeout, unless ctx ends sooner already.
func (db *DB) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if db.timeout <= 0 {
		return ctx, func() {}
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= db.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, db.timeout)
}

// Timeout is the bound of every statement (0: none).
func (db *DB) Timeout() time.Duration { return db.timeout }

// errUnavailable is what a use case sees when the store cannot be reached or did
// not answer within its timeout: an account.EUNAVAILABLE error that still wraps the
// driver's error, for the log.
type errUnavailable struct {
	domain *account.Error
	cause  error
}

func (e *errUnavailable) Error() string { return e.domain.Error() + ": " + e.cause.Error() }
func (e *errUnavailable) Unwrap() []error {
	return []error{e.domain, e.cause}
}

// classify turns err, returned by a Read or Write under parent's context, into an
// EUNAVAILABLE domain error when it says the store cannot be reached or did not
// answer in time. A caller that went away (parent cancelled) keeps its
// context.Canceled; domain errors pass through.
func classify(parent context.Context, err error) error {
	if err == nil {
		return nil
	}
	var de *account.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(parent.Err(), context.Canceled) {
		return err
	}
	if !Unavailable(err) {
		return err
	}
	return &errUnavailable{
		domain: account.Errorf(account.EUNAVAILABLE, "the database cannot be reached or did not answer in time; try again in a few seconds"),
		cause:  err,
	}
}

// Unavailable reports whether err says that the database cannot be reached or did
// not answer in time, rather than that a statement was wrong: a connection refused,
// reset or cut, a failed connect, PostgreSQL shutting down or starting
// (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now), a
// connection exception (class 08), too many connections (53300), a statement or lock
// timeout (57014, 55P03), a deadline (the store's timeout, which also bounds the wait
// for a pooled connection), or SQLite busy or locked past its busy timeout.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"),
			pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03",
			pgErr.Code == "53300", pgErr.Code == "57014", pgErr.Code == "55P03":
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr)
}

// ctxBound holds a Read's or a Write run's bounded context. The use cases pass
// their own context to each statement, not the one Read or Write was given with the
// store's deadline; ctx gives each statement that deadline too.
type ctxBound struct {
	parent, bounded context.Context
	mu              sync.Mutex
	cancels         []context.CancelFunc
}

// newBound is nil, bounding nothing, when bounded is parent (no timeout, or the
// caller's deadline is sooner).
func newBound(parent, bounded context.Context) *ctxBound {
	if parent == bounded {
		return nil
	}
	return &ctxBound{parent: parent, bounded: bounded}
}

// ctx is c under the bound's deadline: the bounded context itself for the context
// Read or Write was given (the common case), else c with the deadline added.
func (b *ctxBound) ctx(c context.Context) context.Context {
	if b == nil || c == b.parent || c == b.bounded {
		if b != nil {
			return b.bounded
		}
		return c
	}
	dl, _ := b.bounded.Deadline()
	if cdl, ok := c.Deadline(); ok && !cdl.After(dl) {
		return c
	}
	c, cancel := context.WithDeadline(c, dl)
	b.mu.Lock()
	b.cancels = append(b.cancels, cancel)
	b.mu.Unlock()
	return c
}

// done releases the contexts ctx made.
func (b *ctxBound) done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, cancel := range b.cancels {
		cancel()
	}
	b.cancels = nil
}

// boundQ runs every statement of q under b's deadline.
type boundQ struct {
	q querier
	b *ctxBound
}

func (q boundQ) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return q.q.ExecContext(q.b.ctx(ctx), query, args...)
}

func (q boundQ) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return q.q.QueryContext(q.b.ctx(ctx), query, args...)
}

func (q boundQ) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return q.q.QueryRowContext(q.b.ctx(ctx), query, args...)
}

// inner is the querier under the bound.
func (t *tx) inner() querier {
	if b, ok := t.q.(boundQ); ok {
		return b.q
	}
	return t.q
}

// bounded is t's querier q, under t's bound.
func (t *tx) bounded(q querier) querier {
	if b, ok := t.q.(boundQ); ok {
		return boundQ{q: q, b: b.b}
	}
	return q
}
