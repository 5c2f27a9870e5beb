package sqlstore

import (
	"context"
	"strings"

	"roster.dev/roster/internal/account"
)

var _ account.AccountTx = (*tx)(nil)

// accountColumns are the columns of an account, read through the alias a, in the
// order accountDest scans them.
const accountColumns = `a.id, a.email, a.username, a.first_name, a.last_name, a.phone, a.state,
	a.must_reset_password, a.operator, a.password_hash, a.managed_by, a.email_verified, a.created_at, a.updated_at`

// accountDest returns the scan destinations of accountColumns.
func accountDest(a *account.Account) []any {
	return []any{
		&a.ID, &a.Email, scanNullString{&a.Username}, &a.FirstName, &a.LastName, &a.Phone, &a.State,
		&a.MustResetPassword, &a.Operator, &a.PasswordHash, scanNullString{&a.ManagedBy}, &a.EmailVerified,
		scanTime{&a.CreatedAt}, scanTime{&a.UpdatedAt},
	}
}

// searchText is the memberships.search text of an account: the lower-cased
// "email username first last" that the member list's q filter matches.
func searchText(a account.Account) string {
	return strings.ToLower(a.Email + " " + a.Username + " " + a.FirstName + " " + a.LastName)
}

// memberSearch is the memberships.search text of a's membership in org in state:
// an invited member whose account the organization does not manage is found by its
// email only, as it is shown (account.ProfileVisible).
func memberSearch(org account.Organization, state account.MemberState, a account.Account) string {
	if !account.ProfileVisible(org, state, a) {
		return strings.ToLower(a.Email)
	}
	return searchText(a)
}

// refreshSearch rewrites the search text of a's memberships (of orgID only, unless
// empty) that changed with a or with their state.
func (t *tx) refreshSearch(ctx context.Context, a account.Account, orgID string) error {
	q := `SELECT m.org_id, COALESCE(o.parent_id, ''), m.state, m.search
		FROM memberships m JOIN organizations o ON o.id = m.org_id WHERE m.account_id = $1`
	args := []any{a.ID}
	if orgID != "" {
		q += ` AND m.org_id = $2`
		args = append(args, orgID)
	}
	rows, err := t.q.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	type change struct{ orgID, search string }
	var changes []change
	for rows.Next() {
		var org account.Organization
		var state account.MemberState
		var old string
		if err := rows.Scan(&org.ID, &org.ParentID, &state, &old); err != nil {
			rows.Close()
			return err
		}
		if text := memberSearch(org, state, a); text != old {
			changes = append(changes, change{org.ID, text})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range changes {
		if _, err := t.q.ExecContext(ctx, `UPDATE memberships SET search = $3 WHERE org_id = $1 AND account_id = $2`,
			c.orgID, a.ID, c.search); err != nil {
			return translate(err, "member")
		}
	}
	return nil
}

// usernameKey is the unique, case-insensitive form of a username (NULL when empty).
func usernameKey(username string) any {
	return nullString(strings.ToLower(username))
}

// AccountByID returns the account with id, or ENOTFOUND.
func (t *tx) AccountByID(ctx context.Context, id string) (account.Account, error) {
	return t.accountWhere(ctx, "a.id = $1", id)
}

// AccountByEmail returns the account whose email equals email case-insensitively
// (after trimming), or ENOTFOUND.
func (t *tx) AccountByEmail(ctx context.Context, email string) (account.Account, error) {
	return t.accountWhere(ctx, "a.email_key = $1", account.EmailKey(email))
}

func (t *tx) accountWhere(ctx context.Context, cond string, arg any) (account.Account, error) {
	var a account.Account
	err := t.q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE `+cond, arg).
		Scan(accountDest(&a)...)
	if err != nil {
		return account.Account{}, translate(err, "account")
	}
	return a, nil
}

// FirstOperator returns the operator created first (ENOTFOUND when there is none).
func (t *tx) FirstOperator(ctx context.Context) (account.Account, error) {
	return t.accountWhere(ctx, `a.operator = $1 ORDER BY a.created_at, a.id LIMIT 1`, true)
}

// ActiveOperators lists the active operators, oldest first. Operators are the
// platform's, of no organization: the query has no tenant to filter on.
func (t *tx) ActiveOperators(ctx context.Context) ([]account.Account, error) {
	rows, err := t.q.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts a
		WHERE a.operator = $1 AND a.state = $2 ORDER BY a.created_at, a.id`, true, string(account.AccountActive))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []account.Account
	for rows.Next() {
		var a account.Account
		if err := rows.Scan(accountDest(&a)...); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CreateAccount inserts a. A taken email or username is an ECONFLICT naming the field.
func (t *tx) CreateAccount(ctx context.Context, a account.Account) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO accounts (id, email, email_key, username, username_key, first_name, last_name,
			phone, state, must_reset_password, operator, password_hash, managed_by, email_verified,
			created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		a.ID, a.Email, account.EmailKey(a.Email), nullString(a.Username), usernameKey(a.Username),
		a.FirstName, a.LastName, a.Phone, string(a.State), a.MustResetPassword, a.Operator,
		a.PasswordHash, nullString(a.ManagedBy), a.EmailVerified, ts(a.CreatedAt), ts(a.UpdatedAt))
	return translate(err, "account")
}

// UpdateAccount writes every column of a but its id and creation time, and refreshes
// the search text of each of its memberships so the member lists find the new names
// (where each organization may see them).
func (t *tx) UpdateAccount(ctx context.Context, a account.Account) error {
	res, err := t.q.ExecContext(ctx, `
		UPDATE accounts SET email = $2, email_key = $3, username = $4, username_key = $5,
			first_name = $6, last_name = $7, phone = $8, state = $9, must_reset_password = $10,
			operator = $11, password_hash = $12, managed_by = $13, email_verified = $14, updated_at = $15
		WHERE id = $1`,
		a.ID, a.Email, account.EmailKey(a.Email), nullString(a.Username), usernameKey(a.Username),
		a.FirstName, a.LastName, a.Phone, string(a.State), a.MustResetPassword, a.Operator,
		a.PasswordHash, nullString(a.ManagedBy), a.EmailVerified, ts(a.UpdatedAt))
	if err := affected(res, err, "account"); err != nil {
		return err
	}
	return t.refreshSearch(ctx, a, "")
}

// DeleteAccount deletes the account; its memberships, team memberships, sessions,
// invitations, join requests and account tokens go with it (foreign keys cascade).
func (t *tx) DeleteAccount(ctx context.Context, id string) error {
	if err := t.lockSeatsOfAccount(ctx, id); err != nil { // its seats go with it
		return err
	}
	res, err := t.q.ExecContext(ctx, `DELETE FROM accounts WHERE id = $1`, id)
	return affected(res, err, "account")
}

// CountOperators counts the platform operators.
func (t *tx) CountOperators(ctx context.Context) (int, error) {
	var n int
	err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE operator = TRUE`).Scan(&n)
	return n, err
}
