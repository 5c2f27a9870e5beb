package sqlstore

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

var _ account.InvitationTx = (*tx)(nil)

// invitationColumns are the columns of an invitation, read through the alias i, in
// the order invitationDest scans them.
const invitationColumns = `i.id, i.org_id, i.account_id, i.email, i.role_id, i.token_hash, i.state,
	i.inviter_id, i.inviter_name, i.expires_at, i.created_at, i.updated_at, i.accepted_at`

// invitationDest returns the scan destinations of invitationColumns.
func invitationDest(inv *account.Invitation) []any {
	return []any{&inv.ID, &inv.OrgID, &inv.AccountID, &inv.Email, &inv.RoleID, &inv.TokenHash, &inv.State,
		&inv.InviterID, &inv.InviterName, scanTime{&inv.ExpiresAt}, scanTime{&inv.CreatedAt},
		scanTime{&inv.UpdatedAt}, scanTime{&inv.AcceptedAt}}
}

// CreateInvitation inserts inv. A second pending invitation of one membership is an
// ECONFLICT naming "email"; an unknown organization or account is ENOTFOUND.
func (t *tx) CreateInvitation(ctx context.Context, inv account.Invitation) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO invitations (id, org_id, account_id, email, role_id, token_hash, state,
			inviter_id, inviter_name, expires_at, created_at, updated_at, accepted_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		inv.ID, inv.OrgID, inv.AccountID, inv.Email, inv.RoleID, inv.TokenHash, string(inv.State),
		inv.InviterID, inv.InviterName, ts(inv.ExpiresAt), ts(inv.CreatedAt), ts(inv.UpdatedAt),
		nullTime(inv.AcceptedAt))
	if foreignKeyViolation(err) {
		return account.Errorf(account.ENOTFOUND, "organization or account not found")
	}
	return translate(err, "invitation")
}

// Invitation returns orgID's invitation id, or ENOTFOUND.
func (t *tx) Invitation(ctx context.Context, orgID, id string) (account.Invitation, error) {
	return t.invitationWhere(ctx, `i.id = $1 AND i.org_id = $2`, id, orgID)
}

// InvitationByTokenHash returns the invitation, of any organization, whose current
// token hashes to hash, or ENOTFOUND. It does not look at the state or the expiry.
func (t *tx) InvitationByTokenHash(ctx context.Context, hash []byte) (account.Invitation, error) {
	return t.invitationWhere(ctx, `i.token_hash = $1`, hash)
}

// PendingInvitation returns the membership's pending invitation (expired or not), or
// ENOTFOUND; invitations_pending_key finds it.
func (t *tx) PendingInvitation(ctx context.Context, orgID, accountID string) (account.Invitation, error) {
	return t.invitationWhere(ctx, `i.org_id = $1 AND i.account_id = $2 AND i.state = 'pending'`, orgID, accountID)
}

func (t *tx) invitationWhere(ctx context.Context, cond string, args ...any) (account.Invitation, error) {
	var inv account.Invitation
	err := t.q.QueryRowContext(ctx, `SELECT `+invitationColumns+` FROM invitations i WHERE `+cond, args...).
		Scan(invitationDest(&inv)...)
	if err != nil {
		return account.Invitation{}, translate(err, "invitation")
	}
	return inv, nil
}

// UpdateInvitation writes inv's role, token, state, inviter, expiry, update and
// acceptance times; ENOTFOUND when orgID has no invitation inv.ID.
func (t *tx) UpdateInvitation(ctx context.Context, inv account.Invitation) error {
	res, err := t.q.ExecContext(ctx, `
		UPDATE invitations SET role_id = $3, token_hash = $4, state = $5, inviter_id = $6,
			inviter_name = $7, expires_at = $8, updated_at = $9, accepted_at = $10
		WHERE id = $1 AND org_id = $2`,
		inv.ID, inv.OrgID, inv.RoleID, inv.TokenHash, string(inv.State), inv.InviterID, inv.InviterName,
		ts(inv.ExpiresAt), ts(inv.UpdatedAt), nullTime(inv.AcceptedAt))
	return affected(res, err, "invitation")
}

// AcceptInvitation marks the invitation accepted at now if it is still pending, with
// this token, and unexpired, and reports whether it did. The one conditional UPDATE
// makes concurrent acceptances exclusive: on PostgreSQL the second waits for the
// first's row lock, then sees the row no longer pending.
func (t *tx) AcceptInvitation(ctx context.Context, id string, hash []byte, now time.Time) (bool, error) {
	res, err := t.q.ExecContext(ctx, `
		UPDATE invitations SET state = 'accepted', accepted_at = $3, updated_at = $3
		WHERE id = $1 AND token_hash = $2 AND state = 'pending' AND expires_at > $3`,
		id, hash, ts(now))
	if err != nil {
		return false, translate(err, "invitation")
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// FindInvitations returns a page of f.OrgID's invitations, newest first, and how many
// match f on every page (-1 with f.SkipTotal). State pending selects the unexpired
// pending invitations at f.Now, expired the others.
func (t *tx) FindInvitations(ctx context.Context, f account.InvitationFilter) ([]account.Invitation, int, error) {
	var a args
	conds := []string{`i.org_id = ` + a.add(f.OrgID)}
	switch f.State {
	case "":
	case account.InvitationPending:
		conds = append(conds, `i.state = 'pending'`, `i.expires_at > `+a.add(ts(f.Now)))
	case account.InvitationExpired:
		conds = append(conds, `i.state = 'pending'`, `i.expires_at <= `+a.add(ts(f.Now)))
	default:
		conds = append(conds, `i.state = `+a.add(string(f.State)))
	}
	total := -1
	if !f.SkipTotal {
		if err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM invitations i`+where(conds), a...).Scan(&total); err != nil {
			return nil, 0, err
		}
	}
	if f.Before != "" {
		conds = append(conds, `i.id < `+a.add(f.Before))
	}
	rows, err := t.q.QueryContext(ctx, `SELECT `+invitationColumns+` FROM invitations i`+where(conds)+
		` ORDER BY i.id DESC`+limit(&a, f.Limit), a...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []account.Invitation{}
	for rows.Next() {
		var inv account.Invitation
		if err := rows.Scan(invitationDest(&inv)...); err != nil {
			return nil, 0, err
		}
		out = append(out, inv)
	}
	return out, total, rows.Err()
}

// loadMemberInvitations fills the Invitation of the invited members (all of orgID)
// with their pending invitation, in one query through invitations_pending_key; other
// members keep none.
func (t *tx) loadMemberInvitations(ctx context.Context, orgID string, members []account.Member) error {
	byAccount := map[string]*account.Member{}
	var ids []string
	for i := range members {
		members[i].Invitation = nil
		if members[i].State == account.MemberInvited {
			byAccount[members[i].AccountID] = &members[i]
			ids = append(ids, members[i].AccountID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var a args
	org := a.add(orgID)
	rows, err := t.q.QueryContext(ctx, `
		SELECT `+invitationColumns+` FROM invitations i
		WHERE i.org_id = `+org+` AND i.state = 'pending' AND i.account_id IN (`+a.list(ids)+`)`, a...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		inv := new(account.Invitation)
		if err := rows.Scan(invitationDest(inv)...); err != nil {
			return err
		}
		if m := byAccount[inv.AccountID]; m != nil {
			m.Invitation = inv
		}
	}
	return rows.Err()
}
