package sqlstore

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

var _ account.DomainTx = (*tx)(nil)

// domainColumns are the columns of a domain, in the order domainDest scans them.
const domainColumns = `d.id, d.org_id, d.domain, d.state, d.token, d.verified_by, d.verified_at,
	d.checked_at, d.check_error, d.pending_until, d.created_at, d.updated_at`

func domainDest(d *account.Domain) []any {
	return []any{&d.ID, &d.OrgID, &d.Name, &d.State, &d.Token, &d.VerifiedBy, scanTime{&d.VerifiedAt},
		scanTime{&d.CheckedAt}, &d.CheckError, scanTime{&d.PendingUntil}, scanTime{&d.CreatedAt}, scanTime{&d.UpdatedAt}}
}

// CreateDomain inserts d: a domain the organization has already is an ECONFLICT
// naming "domain".
func (t *tx) CreateDomain(ctx context.Context, d account.Domain) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO domains (id, org_id, domain, state, token, verified_by, verified_at, checked_at,
			check_error, pending_until, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		d.ID, d.OrgID, d.Name, string(d.State), d.Token, d.VerifiedBy, nullTime(d.VerifiedAt), nullTime(d.CheckedAt),
		d.CheckError, ts(d.PendingUntil), ts(d.CreatedAt), ts(d.UpdatedAt))
	if foreignKeyViolation(err) {
		return account.Errorf(account.ENOTFOUND, "organization not found")
	}
	return translate(err, "domain")
}

// Domain returns orgID's domain id, or ENOTFOUND.
func (t *tx) Domain(ctx context.Context, orgID, id string) (account.Domain, error) {
	var d account.Domain
	err := t.q.QueryRowContext(ctx, `SELECT `+domainColumns+` FROM domains d WHERE d.id = $1 AND d.org_id = $2`, id, orgID).
		Scan(domainDest(&d)...)
	if err != nil {
		return account.Domain{}, translate(err, "domain")
	}
	return d, nil
}

// Domains lists orgID's domains by name.
func (t *tx) Domains(ctx context.Context, orgID string) ([]account.Domain, error) {
	return t.domains(ctx, `SELECT `+domainColumns+` FROM domains d WHERE d.org_id = $1 ORDER BY d.domain, d.id`, orgID)
}

func (t *tx) domains(ctx context.Context, query string, args ...any) ([]account.Domain, error) {
	rows, err := t.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.Domain{}
	for rows.Next() {
		var d account.Domain
		if err := rows.Scan(domainDest(&d)...); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// UpdateDomain writes d's state, verification, latest check, expiry and update
// time; verifying a domain another organization holds verified is an ECONFLICT
// naming "domain" (domains_verified_key).
func (t *tx) UpdateDomain(ctx context.Context, d account.Domain) error {
	res, err := t.q.ExecContext(ctx, `
		UPDATE domains SET state = $3, verified_by = $4, verified_at = $5, checked_at = $6, check_error = $7,
			pending_until = $8, updated_at = $9
		WHERE id = $1 AND org_id = $2`,
		d.ID, d.OrgID, string(d.State), d.VerifiedBy, nullTime(d.VerifiedAt), nullTime(d.CheckedAt), d.CheckError,
		ts(d.PendingUntil), ts(d.UpdatedAt))
	return affected(res, err, "domain")
}

// DeleteDomain deletes orgID's domain id (ENOTFOUND when it has none).
func (t *tx) DeleteDomain(ctx context.Context, orgID, id string) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM domains WHERE id = $1 AND org_id = $2`, id, orgID)
	return affected(res, err, "domain")
}

// VerifiedDomain returns the verified copy of the domain name, in whichever
// organization holds it (there is at most one): the one lookup across tenants, by
// the domain itself, for the join policies and the one-holder rule.
func (t *tx) VerifiedDomain(ctx context.Context, name string) (account.Domain, error) {
	var d account.Domain
	err := t.q.QueryRowContext(ctx, `SELECT `+domainColumns+` FROM domains d WHERE d.domain = $1 AND d.state = 'verified'`, name).
		Scan(domainDest(&d)...)
	if err != nil {
		return account.Domain{}, translate(err, "domain")
	}
	return d, nil
}

// DuePendingDomains lists the pending domains of every organization not checked
// since checkedBefore, never-checked ones first, then by oldest check: the
// background's round (each then handled in its own organization's scope).
func (t *tx) DuePendingDomains(ctx context.Context, checkedBefore time.Time, limit int) ([]account.Domain, error) {
	return t.domains(ctx, `SELECT `+domainColumns+` FROM domains d
		WHERE d.state = 'pending' AND (d.checked_at IS NULL OR d.checked_at < $1)
		ORDER BY CASE WHEN d.checked_at IS NULL THEN 0 ELSE 1 END, d.checked_at, d.id
		LIMIT $2`, ts(checkedBefore), limit)
}

// RecordDomainJoin records orgID's auto join of accountID, once: false when it was
// recorded before (or by a concurrent transaction, which it waits for on
// PostgreSQL).
func (t *tx) RecordDomainJoin(ctx context.Context, orgID, accountID, domain string, at time.Time) (bool, error) {
	res, err := t.q.ExecContext(ctx, `
		INSERT INTO domain_joins (org_id, account_id, domain, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (org_id, account_id) DO NOTHING`, orgID, accountID, domain, ts(at))
	if err != nil {
		return false, translate(err, "domain join")
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
