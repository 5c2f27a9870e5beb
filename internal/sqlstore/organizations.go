package sqlstore

import (
	"context"
	"strings"

	"roster.dev/roster/internal/account"
)

var _ account.OrganizationTx = (*tx)(nil)

// organizationColumns are the columns of an organization, read through the alias o, in
// the order organizationDest scans them.
const organizationColumns = `o.id, o.kind, o.parent_id, o.name, o.slug, o.invitation_ttl_hours,
	o.ending_soon_days, o.scim_activation_email, o.require_phone, o.require_username, o.domain_join_policy, o.domain_join_role,
	o.manage_domain_accounts, o.created_at, o.updated_at`

// organizationDest returns the scan destinations of organizationColumns.
func organizationDest(o *account.Organization) []any {
	return []any{
		&o.ID, &o.Kind, scanNullString{&o.ParentID}, &o.Name, &o.Slug, &o.InvitationTTLHours,
		&o.EndingSoonDays, &o.SCIMActivationEmail, &o.RequirePhone, &o.RequireUsername,
		&o.DomainJoinPolicy, &o.DomainJoinRole, &o.ManageDomainAccounts, scanTime{&o.CreatedAt}, scanTime{&o.UpdatedAt},
	}
}

// orgSearchText is the organizations.search text that FindOrganizations' q filter matches.
func orgSearchText(o account.Organization) string {
	return strings.ToLower(o.Name + " " + o.Slug)
}

// OrganizationByRef returns the organization whose id or slug is ref (the id winning
// should a slug ever equal another organization's id), or ENOTFOUND.
func (t *tx) OrganizationByRef(ctx context.Context, ref string) (account.Organization, error) {
	var o account.Organization
	err := t.q.QueryRowContext(ctx, `
		SELECT `+organizationColumns+` FROM organizations o
		WHERE o.id = $1 OR o.slug = $1
		ORDER BY CASE WHEN o.id = $1 THEN 0 ELSE 1 END
		LIMIT 1`, ref).
		Scan(organizationDest(&o)...)
	if err != nil {
		return account.Organization{}, translate(err, "organization")
	}
	return o, nil
}

// CreateOrganization inserts o. A taken slug is an ECONFLICT naming "slug".
func (t *tx) CreateOrganization(ctx context.Context, o account.Organization) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO organizations (id, kind, parent_id, name, search, slug, invitation_ttl_hours,
			ending_soon_days, scim_activation_email, require_phone, require_username, domain_join_policy,
			domain_join_role, manage_domain_accounts, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		o.ID, string(o.Kind), nullString(o.ParentID), o.Name, orgSearchText(o), o.Slug,
		o.InvitationTTLHours, o.EndingSoonDays, o.SCIMActivationEmail, o.RequirePhone, o.RequireUsername,
		o.DomainJoinPolicy, o.DomainJoinRole, o.ManageDomainAccounts, ts(o.CreatedAt), ts(o.UpdatedAt))
	return translate(err, "organization")
}

// UpdateOrganization writes o's name, slug, settings and update time (its kind and
// parent never change).
func (t *tx) UpdateOrganization(ctx context.Context, o account.Organization) error {
	res, err := t.q.ExecContext(ctx, `
		UPDATE organizations SET name = $2, search = $3, slug = $4, invitation_ttl_hours = $5,
			ending_soon_days = $6, scim_activation_email = $7, require_phone = $8, require_username = $9,
			domain_join_policy = $10, domain_join_role = $11, manage_domain_accounts = $12, updated_at = $13
		WHERE id = $1`,
		o.ID, o.Name, orgSearchText(o), o.Slug, o.InvitationTTLHours, o.EndingSoonDays, o.SCIMActivationEmail,
		o.RequirePhone, o.RequireUsername, o.DomainJoinPolicy, o.DomainJoinRole, o.ManageDomainAccounts, ts(o.UpdatedAt))
	return affected(res, err, "organization")
}

// DeleteOrganization deletes the organization; its memberships, roles and teams go
// with it (foreign keys cascade).
func (t *tx) DeleteOrganization(ctx context.Context, id string) error {
	clear(t.subscribed) // its subscriptions go with it (and those of any organization the deletion reaches)
	res, err := t.q.ExecContext(ctx, `DELETE FROM organizations WHERE id = $1`, id)
	return affected(res, err, "organization")
}

// CountChildOrganizations counts the organizations under a partner.
func (t *tx) CountChildOrganizations(ctx context.Context, partnerID string) (int, error) {
	var n int
	err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations WHERE parent_id = $1`, partnerID).Scan(&n)
	return n, err
}

// FindOrganizations returns one page of the organizations matching f, by id, and how
// many match f on every page.
func (t *tx) FindOrganizations(ctx context.Context, f account.OrganizationFilter) ([]account.Organization, int, error) {
	var a args
	var conds []string
	if f.Q != "" {
		conds = append(conds, t.engine.contains(`o.search`, a.add(needle(f.Q))))
	}
	if f.Kind != "" {
		conds = append(conds, `o.kind = `+a.add(string(f.Kind)))
	}
	if f.ParentID != "" {
		conds = append(conds, `o.parent_id = `+a.add(f.ParentID))
	}
	if f.VisibleTo != "" {
		acct := a.add(f.VisibleTo)
		conds = append(conds, `(o.id IN (
				SELECT m.org_id FROM memberships m
				WHERE m.account_id = `+acct+` AND m.state = 'active')
			OR o.parent_id IN (
				SELECT m.org_id FROM memberships m JOIN organizations p ON p.id = m.org_id
				WHERE m.account_id = `+acct+` AND m.state = 'active' AND p.kind = 'partner'))`)
	}
	var total int
	if !f.SkipTotal {
		if err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations o`+where(conds), a...).Scan(&total); err != nil {
			return nil, 0, err
		}
	}

	if f.After != "" {
		conds = append(conds, `o.id > `+a.add(f.After))
	}
	query := `SELECT ` + organizationColumns + ` FROM organizations o` + where(conds) + ` ORDER BY o.id` + limit(&a, f.Limit)
	rows, err := t.q.QueryContext(ctx, query, a...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []account.Organization
	for rows.Next() {
		var o account.Organization
		if err := rows.Scan(organizationDest(&o)...); err != nil {
			return nil, 0, err
		}
		out = append(out, o)
	}
	return out, total, rows.Err()
}

// LockOrganization takes the organization's row lock until the transaction ends
// (PostgreSQL), or only checks that it exists (SQLite, whose writers are serial).
//
// The lock is FOR NO KEY UPDATE: it queues the organization's lockers, and does not
// wait for, nor hold up, the KEY SHARE locks that inserting its memberships, seats
// and invitations takes by foreign key. (FOR UPDATE did both, so two transactions
// that had each inserted a member and then locked the organization deadlocked.)
func (t *tx) LockOrganization(ctx context.Context, id string) error {
	if t.orgLocked[id] {
		return nil
	}
	var got string
	err := t.q.QueryRowContext(ctx, `SELECT id FROM organizations WHERE id = $1`+t.engine.forNoKeyUpdate(), id).Scan(&got)
	if err != nil {
		return translate(err, "organization")
	}
	if t.engine.rowLocks() {
		if t.orgLocked == nil {
			t.orgLocked = map[string]bool{}
		}
		t.orgLocked[id] = true
	}
	return nil
}

// lockSeats is taken before any change of orgID's seats or quotas, whose counts
// (subscriptions.assigned, kept by the seat triggers) lock subscription rows in the
// order the seats come: it is the organization's lock, so those rows are only ever
// locked by its holder and no two transactions can take them in different orders.
// On SQLite it does nothing.
func (t *tx) lockSeats(ctx context.Context, orgID string) error {
	if !t.engine.rowLocks() {
		return nil
	}
	err := t.LockOrganization(ctx, orgID)
	if account.ErrorCode(err) == account.ENOTFOUND {
		return nil // no such organization: the change finds nothing to change, and says so
	}
	return err
}

// lockSeatsOfAccount is lockSeats for every organization accountID is a member of,
// in the order of their ids (an account's deletion removes its seats everywhere).
func (t *tx) lockSeatsOfAccount(ctx context.Context, accountID string) error {
	if !t.engine.rowLocks() {
		return nil
	}
	rows, err := t.q.QueryContext(ctx, `
		SELECT o.id FROM organizations o
		WHERE o.id IN (SELECT org_id FROM memberships WHERE account_id = $1)
		ORDER BY o.id`+t.engine.forNoKeyUpdate(), accountID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		if t.orgLocked == nil {
			t.orgLocked = map[string]bool{}
		}
		t.orgLocked[id] = true
	}
	return rows.Err()
}
