package sqlstore

import (
	"context"
	"strings"

	"roster.dev/roster/internal/account"
)

var _ account.RoleTx = (*tx)(nil)

// roleColumns are the columns of a custom role, read through the alias r, in the order
// roleDest scans them.
const roleColumns = `r.id, r.org_id, r.name, r.permissions, r.active, r.created_at, r.updated_at`

// roleDest returns the scan destinations of roleColumns.
func roleDest(r *account.Role) []any {
	return []any{&r.ID, scanNullString{&r.OrgID}, &r.Name, scanPermissions{&r.Permissions}, &r.Active,
		scanTime{&r.CreatedAt}, scanTime{&r.UpdatedAt}}
}

// CustomRoles lists orgID's custom roles by name, case-insensitively. The predefined
// roles' rows (org_id NULL) never match.
func (t *tx) CustomRoles(ctx context.Context, orgID string) ([]account.Role, error) {
	rows, err := t.q.QueryContext(ctx, `
		SELECT `+roleColumns+` FROM roles r
		WHERE r.org_id = $1
		ORDER BY `+t.engine.byteOrder("r.name_key")+`, r.id`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.Role{}
	for rows.Next() {
		var r account.Role
		if err := rows.Scan(roleDest(&r)...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CustomRolesOfAccount lists the custom roles of accountID's memberships, by id: the
// memberships' account index finds them, each role in its membership's organization.
func (t *tx) CustomRolesOfAccount(ctx context.Context, accountID string) ([]account.Role, error) {
	rows, err := t.q.QueryContext(ctx, `
		SELECT `+roleColumns+`
		FROM memberships m JOIN roles r ON r.org_id = m.org_id AND r.id = m.role_id
		WHERE m.account_id = $1
		ORDER BY r.id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.Role{}
	for rows.Next() {
		var r account.Role
		if err := rows.Scan(roleDest(&r)...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CustomRole returns orgID's custom role id, or ENOTFOUND.
func (t *tx) CustomRole(ctx context.Context, orgID, id string) (account.Role, error) {
	var r account.Role
	err := t.q.QueryRowContext(ctx, `SELECT `+roleColumns+` FROM roles r WHERE r.org_id = $1 AND r.id = $2`,
		orgID, id).Scan(roleDest(&r)...)
	if err != nil {
		return account.Role{}, translate(err, "role")
	}
	return r, nil
}

// CreateRole inserts the custom role r. A name taken in the organization
// (case-insensitively) is an ECONFLICT naming "name".
func (t *tx) CreateRole(ctx context.Context, r account.Role) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO roles (id, org_id, name, name_key, permissions, active, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		r.ID, r.OrgID, r.Name, strings.ToLower(r.Name), r.Permissions.String(), r.Active,
		ts(r.CreatedAt), ts(r.UpdatedAt))
	return translate(err, "role")
}

// UpdateRole writes r's name, permissions, active flag and update time.
func (t *tx) UpdateRole(ctx context.Context, r account.Role) error {
	res, err := t.q.ExecContext(ctx, `
		UPDATE roles SET name = $3, name_key = $4, permissions = $5, active = $6, updated_at = $7
		WHERE org_id = $1 AND id = $2`,
		r.OrgID, r.ID, r.Name, strings.ToLower(r.Name), r.Permissions.String(), r.Active, ts(r.UpdatedAt))
	return affected(res, err, "role")
}

// DeleteRole deletes orgID's custom role id. A role still held by a member cannot go
// (the domain checks first; the foreign key refuses otherwise).
func (t *tx) DeleteRole(ctx context.Context, orgID, id string) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM roles WHERE org_id = $1 AND id = $2`, orgID, id)
	return affected(res, err, "role")
}
