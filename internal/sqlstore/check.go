package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"roster.dev/roster/internal/account"
)

// Entitlement reads the facts of one check in one statement: the organization (by
// id or slug), the account, the membership and whether a seat, and a seat of a
// subscription live at now, exist. Every part is a primary-key or index lookup, so
// the cost does not grow with the store.
func (t *tx) Entitlement(ctx context.Context, orgRef, accountID, applicationID string, now time.Time) (account.EntitlementFacts, error) {
	var f account.EntitlementFacts
	var memberState string
	err := t.q.QueryRowContext(ctx, `
		SELECT a.state, COALESCE(m.state, ''),
			EXISTS (SELECT 1 FROM seats s JOIN subscriptions u ON u.id = s.subscription_id
				WHERE s.org_id = o.id AND s.account_id = a.id AND u.application_id = $3),
			EXISTS (SELECT 1 FROM seats s JOIN subscriptions u ON u.id = s.subscription_id
				WHERE s.org_id = o.id AND s.account_id = a.id AND u.application_id = $3
					AND u.starts_at <= $4 AND u.ends_at > $4)
		FROM organizations o
		JOIN accounts a ON a.id = $2
		LEFT JOIN memberships m ON m.org_id = o.id AND m.account_id = a.id
		WHERE o.id = $1 OR o.slug = $1
		ORDER BY CASE WHEN o.id = $1 THEN 0 ELSE 1 END
		LIMIT 1`, orgRef, accountID, applicationID, ts(now)).
		Scan(&f.AccountState, &memberState, &f.HasSeat, &f.HasLiveSeat)
	if errors.Is(err, sql.ErrNoRows) {
		return f, nil // Found stays false
	}
	if err != nil {
		return f, err
	}
	f.Found, f.MemberState = true, account.MemberState(memberState)
	return f, nil
}

// SeatsOfAccount lists the account's seats of the application's subscriptions, with
// their organizations and the states that decide access, through the seats' account
// index.
func (t *tx) SeatsOfAccount(ctx context.Context, accountID, applicationID string) ([]account.HeldSeat, error) {
	rows, err := t.q.QueryContext(ctx, `
		SELECT `+organizationColumns+`, m.state, a.state, su.id, su.org_id, su.application_id, ap.key, su.seats,
			su.assigned, su.starts_at, su.ends_at, su.renewed_from, su.created_at, su.updated_at
		FROM seats s
		JOIN subscriptions su ON su.id = s.subscription_id
		JOIN applications ap ON ap.id = su.application_id
		JOIN memberships m ON m.org_id = s.org_id AND m.account_id = s.account_id
		JOIN organizations o ON o.id = s.org_id
		JOIN accounts a ON a.id = s.account_id
		WHERE s.account_id = $1 AND su.application_id = $2
		ORDER BY `+t.byteOrder("o.name")+`, o.id, su.id`, accountID, applicationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.HeldSeat{}
	for rows.Next() {
		var h account.HeldSeat
		dest := append(organizationDest(&h.Organization), &h.MemberState, &h.AccountState)
		if err := rows.Scan(append(dest, subscriptionDest(&h.Subscription)...)...); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
