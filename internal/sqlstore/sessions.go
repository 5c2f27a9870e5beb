package sqlstore

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

var (
	_ account.SessionTx = (*tx)(nil)
	_ account.SetupTx   = (*tx)(nil)
)

// sessionColumns are the columns of a session, read through the alias s, in the order
// sessionDest scans them.
const sessionColumns = `s.id, s.account_id, s.token_hash, s.created_at, s.expires_at, s.ip, s.user_agent`

// sessionDest returns the scan destinations of sessionColumns.
func sessionDest(s *account.Session) []any {
	return []any{&s.ID, &s.AccountID, &s.TokenHash, scanTime{&s.CreatedAt}, scanTime{&s.ExpiresAt}, &s.IP, &s.UserAgent}
}

// CreateSession inserts s.
func (t *tx) CreateSession(ctx context.Context, s account.Session) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO sessions (id, token_hash, account_id, created_at, expires_at, ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		s.ID, s.TokenHash, s.AccountID, ts(s.CreatedAt), ts(s.ExpiresAt), s.IP, s.UserAgent)
	return translate(err, "session")
}

// SessionByTokenHash returns the session whose token hashes to hash and its account, in
// one query, or ENOTFOUND. It does not look at the expiry: the caller does.
func (t *tx) SessionByTokenHash(ctx context.Context, hash []byte) (account.Session, account.Account, error) {
	var s account.Session
	var a account.Account
	err := t.q.QueryRowContext(ctx, `
		SELECT `+sessionColumns+`, `+accountColumns+`
		FROM sessions s JOIN accounts a ON a.id = s.account_id
		WHERE s.token_hash = $1`, hash).
		Scan(append(sessionDest(&s), accountDest(&a)...)...)
	if err != nil {
		return account.Session{}, account.Account{}, translate(err, "session")
	}
	return s, a, nil
}

// DeleteSession deletes the session id, or answers ENOTFOUND.
func (t *tx) DeleteSession(ctx context.Context, id string) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, id)
	return affected(res, err, "session")
}

// DeleteSessionsOfAccount deletes every session of the account but keepID (all of them
// when keepID is empty).
func (t *tx) DeleteSessionsOfAccount(ctx context.Context, accountID, keepID string) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = $1 AND id <> $2`, accountID, keepID)
	return err
}

// DeleteExpiredSessions deletes the sessions expired at now and reports how many.
func (t *tx) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := t.q.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, ts(now))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// CreateSetupToken stores a one-time setup token's hash.
func (t *tx) CreateSetupToken(ctx context.Context, hash []byte, expiresAt time.Time) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO setup_tokens (token_hash, expires_at) VALUES ($1, $2)`,
		hash, ts(expiresAt))
	return translate(err, "setup token")
}

// SetupTokenLive reports whether the token exists unexpired at now.
func (t *tx) SetupTokenLive(ctx context.Context, hash []byte, now time.Time) (bool, error) {
	var n int
	err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2`,
		hash, ts(now)).Scan(&n)
	return n > 0, err
}

// ConsumeSetupToken deletes the token and reports whether it existed unexpired at now;
// the one DELETE makes concurrent consumers of one token see it once. Expired tokens
// are purged on the way.
func (t *tx) ConsumeSetupToken(ctx context.Context, hash []byte, now time.Time) (bool, error) {
	res, err := t.q.ExecContext(ctx, `DELETE FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2`,
		hash, ts(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if _, err := t.q.ExecContext(ctx, `DELETE FROM setup_tokens WHERE expires_at <= $1`, ts(now)); err != nil {
		return false, err
	}
	return n == 1, nil
}
