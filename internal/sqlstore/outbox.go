package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"roster.dev/roster/internal/account"
)

var _ account.OutboxTx = (*tx)(nil)

// The outbox (see the 00004 migrations). A use case writes an email with
// Tx.EnqueueEmail in the transaction of the change that causes it; the outbox worker
// then works outside use cases, with the methods on *DB below: it claims a batch of
// due messages for a lease, sends them, and marks each sent, pending again (retry)
// or failed.

// outboxColumns leave the secret out: only the statements that scrub it read it.
const outboxColumns = `id, org_id, kind, to_addr, subject, text_body, html_body, state, attempts,
	next_at, last_error, created_at, sent_at, scrubbed`

func outboxDest(m *account.OutboxMessage) []any {
	return []any{&m.ID, &m.OrgID, &m.Kind, &m.To, &m.Subject, &m.Text, &m.HTML, &m.State, &m.Attempts,
		scanTime{&m.NextAt}, &m.LastError, scanTime{&m.CreatedAt}, scanTime{&m.SentAt}, &m.Scrubbed}
}

// EnqueueEmail writes an email to the outbox, pending from e.CreatedAt, its secret
// kept apart until the message is sent or fails (see scrubSecret).
func (t *tx) EnqueueEmail(ctx context.Context, e account.Email) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO outbox (id, org_id, kind, to_addr, subject, text_body, html_body, secret, state, next_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $9)`,
		e.ID, e.OrgID, e.Kind, e.To, e.Subject, e.Text, e.HTML, e.Secret, ts(e.CreatedAt))
	t.enqueued = t.enqueued || err == nil
	return translate(err, "outbox message")
}

// ClaimEmails claims, for owner (a worker's identity), up to limit pending messages
// due at now (next_at <= now) whose claim is absent or expired, for lease: each gets
// claimed_until = now+lease, claimed_by = owner and one more attempt. They come back
// ordered by next_at, then id. It is one statement: on PostgreSQL its subquery locks
// the rows it picks and skips those another claimer holds, so concurrent claimers (in
// this process or others) never claim the same message; on SQLite the single writer
// serializes claimers.
func (db *DB) ClaimEmails(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]account.OutboxMessage, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.writer.QueryContext(ctx, `
		UPDATE outbox SET claimed_until = $1, claimed_by = $4, attempts = attempts + 1
		WHERE id IN (
			SELECT id FROM outbox
			WHERE state = 'pending' AND next_at <= $2 AND (claimed_until IS NULL OR claimed_until < $2)
			ORDER BY next_at, id LIMIT $3`+db.engine.skipLocked()+`)
		RETURNING `+outboxColumns,
		ts(now.Add(lease)), ts(now), limit, owner)
	if err != nil {
		return nil, err
	}
	out, err := scanEmails(rows)
	if err != nil {
		return nil, err
	}
	// RETURNING has no order.
	slices.SortFunc(out, func(a, b account.OutboxMessage) int {
		if c := a.NextAt.Compare(b.NextAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// RenewEmailClaims extends to until the claims that owner still holds on the messages
// ids: pending, claimed, and claimed last by owner (a claim that lapsed and was taken
// by another worker is that worker's, and a message marked meanwhile has no claim). It
// says how many it renewed.
func (db *DB) RenewEmailClaims(ctx context.Context, owner string, ids []string, until time.Time) (int64, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if len(ids) == 0 {
		return 0, nil
	}
	a := args{ts(until), owner}
	res, err := db.writer.ExecContext(ctx, `
		UPDATE outbox SET claimed_until = $1
		WHERE id IN (`+a.list(ids)+`) AND claimed_by = $2 AND state = 'pending' AND claimed_until IS NOT NULL`,
		a...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ReleaseEmailClaims hands back the claims that owner still holds on the messages ids
// (as RenewEmailClaims finds them), unused: each is claimable at once again, and
// gets back the attempt its claim counted. It says how many it released.
func (db *DB) ReleaseEmailClaims(ctx context.Context, owner string, ids []string) (int64, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if len(ids) == 0 {
		return 0, nil
	}
	a := args{owner}
	res, err := db.writer.ExecContext(ctx, `
		UPDATE outbox SET claimed_until = NULL, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
		WHERE id IN (`+a.list(ids)+`) AND claimed_by = $1 AND state = 'pending' AND claimed_until IS NOT NULL`,
		a...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// scrubSecret is the SET clause that replaces a message's secret by
// account.Redacted in its stored text and forgets it, for the statement that records
// its delivery: from then on the database holds no live link of it. A message that
// failed keeps its secret, as a pending one does: it was not delivered, and an
// operator may send it again once the mail server is fixed (roster outbox retry).
const scrubSecret = `
		text_body = CASE WHEN secret = '' THEN text_body ELSE replace(text_body, secret, '` + account.Redacted + `') END,
		html_body = CASE WHEN secret = '' THEN html_body ELSE replace(html_body, secret, '` + account.Redacted + `') END,
		scrubbed = (secret <> '' OR scrubbed), secret = ''`

// MarkEmailSent records the delivery of a pending message at at, scrubbing its
// secret. A message no longer pending (sent or failed meanwhile by a worker that
// claimed it after this one's lease expired) is ENOTFOUND.
func (db *DB) MarkEmailSent(ctx context.Context, id string, at time.Time) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := db.writer.ExecContext(ctx, `
		UPDATE outbox SET state = 'sent', sent_at = $2, claimed_until = NULL, last_error = '',`+scrubSecret+`
		WHERE id = $1 AND state = 'pending'`,
		id, ts(at))
	return affected(res, err, "pending outbox message")
}

// MarkEmailRetry puts a pending message back to wait until nextAt, its claim cleared,
// recording why the attempt failed.
func (db *DB) MarkEmailRetry(ctx context.Context, id string, nextAt time.Time, errText string) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := db.writer.ExecContext(ctx, `
		UPDATE outbox SET next_at = $2, claimed_until = NULL, last_error = $3
		WHERE id = $1 AND state = 'pending'`,
		id, ts(nextAt), errText)
	return affected(res, err, "pending outbox message")
}

// MarkEmailFailed gives up on a pending message: it stays failed (until RetryEmail),
// with next_at the time it failed, its secret kept for a retry.
func (db *DB) MarkEmailFailed(ctx context.Context, id, errText string, at time.Time) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := db.writer.ExecContext(ctx, `
		UPDATE outbox SET state = 'failed', next_at = $2, claimed_until = NULL, last_error = $3
		WHERE id = $1 AND state = 'pending'`,
		id, ts(at), errText)
	return affected(res, err, "pending outbox message")
}

// RetryEmail puts a failed message back to pending, due at now with no attempt made;
// any other message is ENOTFOUND.
func (db *DB) RetryEmail(ctx context.Context, id string, now time.Time) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := db.writer.ExecContext(ctx, retryEmailSQL, id, ts(now))
	return affected(res, err, "failed outbox message")
}

// RetryFailedEmails puts every failed message back to pending, due at now with no
// attempt made, and says how many.
func (db *DB) RetryFailedEmails(ctx context.Context, now time.Time) (int64, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := db.writer.ExecContext(ctx, `
		UPDATE outbox SET state = 'pending', next_at = $1, attempts = 0, claimed_until = NULL
		WHERE state = 'failed'`, ts(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// PruneSentEmails empties the text and HTML bodies of the messages sent before
// before, in batches of batch messages each committed on its own (so that no write
// waits long behind it), and reports how many it emptied. What was sent, to whom,
// when, and its subject stay listed.
func (db *DB) PruneSentEmails(ctx context.Context, before time.Time, batch int) (int64, error) {
	if batch <= 0 {
		batch = 500
	}
	var total int64
	for {
		n, err := db.pruneSentBatch(ctx, before, batch)
		total += n
		if err != nil || n < int64(batch) {
			return total, err
		}
	}
}

func (db *DB) pruneSentBatch(ctx context.Context, before time.Time, batch int) (int64, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := db.writer.ExecContext(ctx, `
		UPDATE outbox SET text_body = '', html_body = ''
		WHERE id IN (SELECT id FROM outbox
			WHERE state = 'sent' AND (text_body <> '' OR html_body <> '') AND sent_at < $1
			LIMIT $2)`, ts(before), batch)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

const retryEmailSQL = `
		UPDATE outbox SET state = 'pending', next_at = $2, attempts = 0, claimed_until = NULL
		WHERE id = $1 AND state = 'failed'`

// readQuerier is the reader pool, through its statement cache on SQLite.
func (db *DB) readQuerier() querier {
	if db.readStmts != nil {
		return cachedQuerier{cache: db.readStmts}
	}
	return db.reader
}

// FindEmails lists up to limit messages in state (every state when it is empty),
// newest first; limit <= 0 lists them all.
func (db *DB) FindEmails(ctx context.Context, state account.OutboxState, n int) ([]account.OutboxMessage, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return findEmails(ctx, db.readQuerier(), account.OutboxFilter{State: state, Limit: n}, "created_at DESC, id DESC")
}

// FindEmails lists the outbox for the operator's view: newest first (by id, which is
// time-ordered), in f.State, after the keyset f.Before.
func (t *tx) FindEmails(ctx context.Context, f account.OutboxFilter) ([]account.OutboxMessage, error) {
	return findEmails(ctx, t.q, f, "id DESC")
}

// CountEmails counts the messages in each state (every state present, 0 when none).
func (t *tx) CountEmails(ctx context.Context) (map[account.OutboxState]int, error) {
	return countEmails(ctx, t.q)
}

// RetryEmail puts a failed message back to pending, due at now with no attempt
// made; any other message is ENOTFOUND.
func (t *tx) RetryEmail(ctx context.Context, id string, now time.Time) error {
	res, err := t.q.ExecContext(ctx, retryEmailSQL, id, ts(now))
	if err == nil {
		t.enqueued = true // wake the worker
	}
	return affected(res, err, "failed outbox message")
}

func findEmails(ctx context.Context, q querier, f account.OutboxFilter, order string) ([]account.OutboxMessage, error) {
	var a args
	var conds []string
	if f.State != "" {
		conds = append(conds, `state = `+a.add(string(f.State)))
	}
	if f.Before != "" {
		conds = append(conds, `id < `+a.add(f.Before))
	}
	rows, err := q.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox`+where(conds)+
		` ORDER BY `+order+limit(&a, f.Limit), a...)
	if err != nil {
		return nil, err
	}
	return scanEmails(rows)
}

// scanEmails reads every row of outboxColumns and closes rows.
func scanEmails(rows *sql.Rows) ([]account.OutboxMessage, error) {
	defer rows.Close()
	out := []account.OutboxMessage{}
	for rows.Next() {
		var m account.OutboxMessage
		if err := rows.Scan(outboxDest(&m)...); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// CountEmails counts the messages in each state (every state present, 0 when none).
func (db *DB) CountEmails(ctx context.Context) (map[account.OutboxState]int, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return countEmails(ctx, db.readQuerier())
}

func countEmails(ctx context.Context, q querier) (map[account.OutboxState]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT state, COUNT(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[account.OutboxState]int{account.OutboxPending: 0, account.OutboxSent: 0, account.OutboxFailed: 0}
	for rows.Next() {
		var state account.OutboxState
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		out[state] = n
	}
	return out, rows.Err()
}
