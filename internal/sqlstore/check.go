package sqlstore

import (
	"context"

	"roster.dev/roster/internal/account"
)

var _ account.EntitlementTx = (*tx)(nil)

// Entitlement reads the facts of one check in one statement: the organization (by
// id or slug), the account, the membership and the periods of the application's
// subscriptions the account holds a seat of. Every part is a primary-key or index
// lookup, so the cost does not grow with the store.
func (t *tx) Entitlement(ctx context.Context, orgRef, accountID, applicationID string) (account.EntitlementFacts, error) {
	// One row per seat the account holds in the organization (the subscription's
	// period when it is one of the application's), or one row without a seat.
	rows, err := t.q.QueryContext(ctx, `
		SELECT a.state, COALESCE(m.state, ''), u.starts_at, u.ends_at
		FROM (SELECT id FROM organizations WHERE id = $1 OR slug = $1
			ORDER BY CASE WHEN id = $1 THEN 0 ELSE 1 END LIMIT 1) o
		JOIN accounts a ON a.id = $2
		LEFT JOIN memberships m ON m.org_id = o.id AND m.account_id = a.id
		LEFT JOIN seats s ON s.org_id = o.id AND s.account_id = a.id
		LEFT JOIN subscriptions u ON u.id = s.subscription_id AND u.application_id = $3`,
		orgRef, accountID, applicationID)
	var f account.EntitlementFacts
	if err != nil {
		return f, err
	}
	defer rows.Close()
	for rows.Next() {
		var memberState string
		var p account.SeatPeriod
		if err := rows.Scan(&f.AccountState, &memberState, scanTime{&p.StartsAt}, scanTime{&p.EndsAt}); err != nil {
			return f, err
		}
		f.Found, f.MemberState = true, account.MemberState(memberState)
		if !p.EndsAt.IsZero() {
			f.Seats = append(f.Seats, p)
		}
	}
	return f, rows.Err()
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
		ORDER BY `+t.engine.byteOrder("o.name")+`, o.id, su.id`, accountID, applicationID)
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
