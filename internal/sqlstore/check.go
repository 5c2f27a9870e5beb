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

// Entitlements lists where the account may use the application at now.
func (t *tx) Entitlements(ctx context.Context, accountID, applicationID string, now time.Time) ([]account.Entitlement, error) {
	rows, err := t.q.QueryContext(ctx, `
		SELECT `+organizationColumns+`, p.key, u.id, u.ends_at
		FROM seats s
		JOIN subscriptions u ON u.id = s.subscription_id
		JOIN applications p ON p.id = u.application_id
		JOIN memberships m ON m.org_id = s.org_id AND m.account_id = s.account_id
		JOIN organizations o ON o.id = s.org_id
		JOIN accounts a ON a.id = s.account_id
		WHERE s.account_id = $1 AND u.application_id = $2 AND u.starts_at <= $3 AND u.ends_at > $3
			AND m.state = 'active' AND a.state = 'active'
		ORDER BY `+t.byteOrder("o.name")+`, o.id, u.ends_at DESC, u.id`, accountID, applicationID, ts(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.Entitlement{}
	for rows.Next() {
		var e account.Entitlement
		dest := append(organizationDest(&e.Organization), &e.ApplicationKey, &e.SubscriptionID, scanTime{&e.EndsAt})
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		// One answer per organization: the subscription that lasts longest.
		if n := len(out); n > 0 && out[n-1].Organization.ID == e.Organization.ID {
			continue
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
