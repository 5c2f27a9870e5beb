package sqlstore

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

var _ account.JoinRequestTx = (*tx)(nil)

// joinRequestColumns are the columns of a join request, read through the alias r,
// then its account's (alias a), in the order joinRequestDest scans them.
const joinRequestColumns = `r.id, r.org_id, r.account_id, r.message, r.state, r.decided_by, r.decided_at,
	r.invitation_id, r.created_at, r.updated_at, ` + accountColumns

const joinRequestFrom = ` FROM join_requests r JOIN accounts a ON a.id = r.account_id`

// joinRequestDest returns the scan destinations of joinRequestColumns.
func joinRequestDest(r *account.JoinRequest) []any {
	return append([]any{&r.ID, &r.OrgID, &r.AccountID, &r.Message, &r.State, &r.DecidedBy, scanTime{&r.DecidedAt},
		&r.InvitationID, scanTime{&r.CreatedAt}, scanTime{&r.UpdatedAt}}, accountDest(&r.Account)...)
}

// CreateJoinRequest inserts r. A second pending request of one account for one
// organization is an ECONFLICT naming "organization"; an unknown organization or
// account is ENOTFOUND.
func (t *tx) CreateJoinRequest(ctx context.Context, r account.JoinRequest) error {
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO join_requests (id, org_id, account_id, message, state, decided_by, decided_at,
			invitation_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		r.ID, r.OrgID, r.AccountID, r.Message, string(r.State), r.DecidedBy, nullTime(r.DecidedAt),
		r.InvitationID, ts(r.CreatedAt), ts(r.UpdatedAt))
	if foreignKeyViolation(err) {
		return account.Errorf(account.ENOTFOUND, "organization or account not found")
	}
	return translate(err, "join request")
}

// JoinRequest returns orgID's join request id with its account, or ENOTFOUND.
func (t *tx) JoinRequest(ctx context.Context, orgID, id string) (account.JoinRequest, error) {
	var r account.JoinRequest
	err := t.q.QueryRowContext(ctx, `SELECT `+joinRequestColumns+joinRequestFrom+`
		WHERE r.id = $1 AND r.org_id = $2`, id, orgID).
		Scan(joinRequestDest(&r)...)
	if err != nil {
		return account.JoinRequest{}, translate(err, "join request")
	}
	return r, nil
}

// UpdateJoinRequest writes r's state, decider, decision time, invitation and update
// time; ENOTFOUND when r.OrgID has no request r.ID.
func (t *tx) UpdateJoinRequest(ctx context.Context, r account.JoinRequest) error {
	res, err := t.q.ExecContext(ctx, `
		UPDATE join_requests SET state = $3, decided_by = $4, decided_at = $5, invitation_id = $6, updated_at = $7
		WHERE id = $1 AND org_id = $2`,
		r.ID, r.OrgID, string(r.State), r.DecidedBy, nullTime(r.DecidedAt), r.InvitationID, ts(r.UpdatedAt))
	return affected(res, err, "join request")
}

// FindJoinRequests returns a page of f.OrgID's join requests in f.State (any when
// empty), newest first, with their accounts, and how many match f on every page (-1
// with f.SkipTotal).
func (t *tx) FindJoinRequests(ctx context.Context, f account.JoinRequestFilter) ([]account.JoinRequest, int, error) {
	var a args
	conds := []string{`r.org_id = ` + a.add(f.OrgID)}
	if f.State != "" {
		conds = append(conds, `r.state = `+a.add(string(f.State)))
	}
	total := -1
	if !f.SkipTotal {
		if err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM join_requests r`+where(conds), a...).Scan(&total); err != nil {
			return nil, 0, err
		}
	}
	if f.Before != "" {
		conds = append(conds, `r.id < `+a.add(f.Before))
	}
	rows, err := t.q.QueryContext(ctx, `SELECT `+joinRequestColumns+joinRequestFrom+where(conds)+
		` ORDER BY r.id DESC`+limit(&a, f.Limit), a...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []account.JoinRequest{}
	for rows.Next() {
		var r account.JoinRequest
		if err := rows.Scan(joinRequestDest(&r)...); err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// ActiveMembersWithRoles lists the accounts of orgID's active members holding one of
// roleIDs, by email (none, without a query, when roleIDs is empty).
func (t *tx) ActiveMembersWithRoles(ctx context.Context, orgID string, roleIDs []string) ([]account.Account, error) {
	out := []account.Account{}
	if len(roleIDs) == 0 {
		return out, nil
	}
	var a args
	rows, err := t.q.QueryContext(ctx, `
		SELECT `+accountColumns+`
		FROM memberships m JOIN accounts a ON a.id = m.account_id
		WHERE m.org_id = `+a.add(orgID)+` AND m.state = 'active' AND m.role_id IN (`+a.list(roleIDs)+`)
		ORDER BY `+t.engine.byteOrder("a.email_key")+`, a.id`, a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var acc account.Account
		if err := rows.Scan(accountDest(&acc)...); err != nil {
			return nil, err
		}
		out = append(out, acc)
	}
	return out, rows.Err()
}

// JoinRequestOfAccount returns accountID's join request id, in whichever
// organization, or ENOTFOUND (another account's request included).
func (t *tx) JoinRequestOfAccount(ctx context.Context, accountID, id string) (account.JoinRequest, error) {
	var r account.JoinRequest
	err := t.q.QueryRowContext(ctx, `SELECT `+joinRequestColumns+joinRequestFrom+`
		WHERE r.id = $1 AND r.account_id = $2`, id, accountID).
		Scan(joinRequestDest(&r)...)
	if err != nil {
		return account.JoinRequest{}, translate(err, "join request")
	}
	return r, nil
}

// JoinRequestsOfAccount lists accountID's join requests, newest first, each with
// its organization: the pending ones and those updated at or after since, at most
// limit.
func (t *tx) JoinRequestsOfAccount(ctx context.Context, accountID string, since time.Time, n int) ([]account.JoinRequest, error) {
	var a args
	conds := []string{`r.account_id = ` + a.add(accountID),
		`(r.state = 'pending' OR r.updated_at >= ` + a.add(ts(since)) + `)`}
	rows, err := t.q.QueryContext(ctx, `SELECT `+joinRequestColumns+`, `+organizationColumns+joinRequestFrom+
		` JOIN organizations o ON o.id = r.org_id`+where(conds)+` ORDER BY r.id DESC`+limit(&a, n), a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.JoinRequest{}
	for rows.Next() {
		var r account.JoinRequest
		if err := rows.Scan(append(joinRequestDest(&r), organizationDest(&r.Organization)...)...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
