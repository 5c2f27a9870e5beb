package sqlstore

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

var _ account.IdempotencyTx = (*tx)(nil)

// Idempotency keys (migration 00021). Every query names the caller: a key is only
// ever found, changed or deleted for the caller that made it.

const idempotencyColumns = `caller, key_hash, fingerprint, owner, state, applied, answer, created_at, lease_until, expires_at`

func idempotencyState(done bool) string {
	if done {
		return "done"
	}
	return "pending"
}

// InsertIdempotencyKey inserts k unless its caller has the key already (expired or
// not), and reports whether it did.
func (t *tx) InsertIdempotencyKey(ctx context.Context, k account.IdempotencyKey) (bool, error) {
	res, err := t.q.ExecContext(ctx, `
		INSERT INTO idempotency_keys (`+idempotencyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (caller, key_hash) DO NOTHING`,
		k.Caller, k.KeyHash, k.Fingerprint, k.Owner, idempotencyState(k.Done), k.Applied, k.Answer,
		ts(k.CreatedAt), ts(k.LeaseUntil), ts(k.ExpiresAt))
	if err != nil {
		return false, translate(err, "idempotency key")
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// IdempotencyKey reads the caller's key; on PostgreSQL it holds the row's lock until
// the transaction ends, so that two reservations of one key are decided one after
// the other (SQLite's writers are serial already).
func (t *tx) IdempotencyKey(ctx context.Context, caller string, keyHash []byte) (account.IdempotencyKey, error) {
	q := `SELECT ` + idempotencyColumns + ` FROM idempotency_keys WHERE caller = $1 AND key_hash = $2`
	if t.engine == Postgres {
		q += ` FOR UPDATE`
	}
	var k account.IdempotencyKey
	var state string
	err := t.q.QueryRowContext(ctx, q, caller, keyHash).Scan(&k.Caller, &k.KeyHash, &k.Fingerprint, &k.Owner,
		&state, &k.Applied, &k.Answer, scanTime{&k.CreatedAt}, scanTime{&k.LeaseUntil}, scanTime{&k.ExpiresAt})
	if err != nil {
		return account.IdempotencyKey{}, translate(err, "idempotency key")
	}
	k.Done = state == "done"
	return k, nil
}

// ReplaceIdempotencyKey overwrites every column of k's row.
func (t *tx) ReplaceIdempotencyKey(ctx context.Context, k account.IdempotencyKey) error {
	res, err := t.q.ExecContext(ctx, `
		UPDATE idempotency_keys SET fingerprint = $3, owner = $4, state = $5, applied = $6, answer = $7,
			created_at = $8, lease_until = $9, expires_at = $10
		WHERE caller = $1 AND key_hash = $2`,
		k.Caller, k.KeyHash, k.Fingerprint, k.Owner, idempotencyState(k.Done), k.Applied, k.Answer,
		ts(k.CreatedAt), ts(k.LeaseUntil), ts(k.ExpiresAt))
	return affected(res, err, "idempotency key")
}

// CompleteIdempotencyKey records the answer of the request that holds the key; when
// owner no longer holds it, nothing changes.
func (t *tx) CompleteIdempotencyKey(ctx context.Context, caller string, keyHash []byte, owner string, answer []byte) error {
	_, err := t.q.ExecContext(ctx, `
		UPDATE idempotency_keys SET state = 'done', answer = $4
		WHERE caller = $1 AND key_hash = $2 AND owner = $3`, caller, keyHash, owner, answer)
	return err
}

// DeleteIdempotencyKey deletes the key while owner holds it and nothing of its
// request was applied.
func (t *tx) DeleteIdempotencyKey(ctx context.Context, caller string, keyHash []byte, owner string) error {
	_, err := t.q.ExecContext(ctx, `
		DELETE FROM idempotency_keys WHERE caller = $1 AND key_hash = $2 AND owner = $3 AND applied = $4`,
		caller, keyHash, owner, false)
	return err
}

// DeleteExpiredIdempotencyKeys deletes the keys expired at now and reports how many.
func (t *tx) DeleteExpiredIdempotencyKeys(ctx context.Context, now time.Time) (int, error) {
	res, err := t.q.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= $1`, ts(now))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// fenceIdempotency marks the reservation ctx's request holds (account.WithIdempotency)
// applied, in the write transaction about to run for it, and refuses the
// transaction with account.ErrReservationLost when another request has taken the
// reservation over: of a request slower than its lease and the retry that took its
// place, only one changes anything.
func (t *tx) fenceIdempotency(ctx context.Context) error {
	r, ok := account.IdempotencyFence(ctx)
	if !ok {
		return nil
	}
	res, err := t.q.ExecContext(ctx, `
		UPDATE idempotency_keys SET applied = $4 WHERE caller = $1 AND key_hash = $2 AND owner = $3`,
		r.Caller, r.KeyHash, r.Owner, true)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return account.ErrReservationLost
	}
	return nil
}
