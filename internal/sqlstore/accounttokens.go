package sqlstore

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

var _ account.AccountTokenTx = (*tx)(nil)

// accountTokenColumns are the columns of an account token, read through the alias k,
// in the order accountTokenDest scans them.
const accountTokenColumns = `k.token_hash, k.kind, k.account_id, k.email, k.data, k.expires_at, k.created_at`

// accountTokenDest returns the scan destinations of accountTokenColumns.
func accountTokenDest(k *account.AccountToken) []any {
	return []any{&k.Hash, &k.Kind, scanNullString{&k.AccountID}, &k.Email, scanJSON{&k.Data},
		scanTime{&k.ExpiresAt}, scanTime{&k.CreatedAt}}
}

// blob passes bytes as a BLOB/BYTEA, empty ones as SQL NULL.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// CreateAccountToken stores t. Its AccountID, when set, must name an account
// (ENOTFOUND otherwise): the token is deleted with it (foreign key). A sign-up's
// token has none (NULL).
func (t *tx) CreateAccountToken(ctx context.Context, k account.AccountToken) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO account_tokens (token_hash, kind, account_id, email, data, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.Hash, k.Kind, nullString(k.AccountID), k.Email, blob(k.Data), ts(k.ExpiresAt), ts(k.CreatedAt))
	if foreignKeyViolation(err) {
		return account.Errorf(account.ENOTFOUND, "account not found")
	}
	return translate(err, "account token")
}

// AccountToken returns the token of kind whose hash is hash, expired or not, or
// ENOTFOUND.
func (t *tx) AccountToken(ctx context.Context, kind string, hash []byte) (account.AccountToken, error) {
	var k account.AccountToken
	err := t.q.QueryRowContext(ctx, `SELECT `+accountTokenColumns+` FROM account_tokens k
		WHERE k.token_hash = $1 AND k.kind = $2`, hash, kind).
		Scan(accountTokenDest(&k)...)
	if err != nil {
		return account.AccountToken{}, translate(err, "token")
	}
	return k, nil
}

// DeleteAccountToken deletes the token and reports whether it did: of two concurrent
// uses of one token exactly one deletes it (on PostgreSQL the second DELETE waits for
// the first's row lock, then finds the row gone).
func (t *tx) DeleteAccountToken(ctx context.Context, hash []byte) (bool, error) {
	res, err := t.q.ExecContext(ctx, `DELETE FROM account_tokens WHERE token_hash = $1`, hash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeleteAccountTokens deletes every token of kind of the account (none when accountID
// is empty: sign-up tokens belong to no account).
func (t *tx) DeleteAccountTokens(ctx context.Context, kind, accountID string) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM account_tokens WHERE account_id = $1 AND kind = $2`,
		accountID, kind)
	return err
}

// DeleteAccountTokensOfEmail deletes every token of kind that belongs to no account
// and was sent to email (as stored: sign-ups store the address's key).
func (t *tx) DeleteAccountTokensOfEmail(ctx context.Context, kind, email string) error {
	_, err := t.q.ExecContext(ctx, `DELETE FROM account_tokens WHERE kind = $1 AND account_id IS NULL AND email = $2`,
		kind, email)
	return err
}

// DeleteExpiredAccountTokens deletes the tokens expired at now and reports how many.
func (t *tx) DeleteExpiredAccountTokens(ctx context.Context, now time.Time) (int, error) {
	res, err := t.q.ExecContext(ctx, `DELETE FROM account_tokens WHERE expires_at <= $1`, ts(now))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
