package sqlstore

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

var (
	_ account.SubscriptionTx = (*tx)(nil)
	_ account.SeatTx         = (*tx)(nil)
)

// subscriptionSelect selects subscriptions through the alias su with their
// application's key, in the order subscriptionDest scans them; the caller appends
// its conditions after WHERE.
const subscriptionSelect = `
	SELECT su.id, su.org_id, su.application_id, ap.key, su.seats, su.assigned, su.starts_at,
		su.ends_at, su.renewed_from, su.created_at, su.updated_at
	FROM subscriptions su JOIN applications ap ON ap.id = su.application_id
	WHERE `

// subscriptionDest returns the scan destinations of subscriptionSelect.
func subscriptionDest(s *account.Subscription) []any {
	return []any{&s.ID, &s.OrgID, &s.ApplicationID, &s.ApplicationKey, &s.Seats, &s.Assigned,
		scanTime{&s.StartsAt}, scanTime{&s.EndsAt}, scanNullString{&s.RenewedFrom},
		scanTime{&s.CreatedAt}, scanTime{&s.UpdatedAt}}
}

// Subscription returns orgID's subscription id, or ENOTFOUND.
func (t *tx) Subscription(ctx context.Context, orgID, id string) (account.Subscription, error) {
	var s account.Subscription
	err := t.q.QueryRowContext(ctx, subscriptionSelect+`su.org_id = $1 AND su.id = $2`, orgID, id).
		Scan(subscriptionDest(&s)...)
	if err != nil {
		return account.Subscription{}, translate(err, "subscription")
	}
	return s, nil
}

// Subscriptions lists orgID's subscriptions by application key, start, then id.
func (t *tx) Subscriptions(ctx context.Context, orgID string) ([]account.Subscription, error) {
	rows, err := t.q.QueryContext(ctx, subscriptionSelect+`su.org_id = $1
		ORDER BY `+t.engine.byteOrder("ap.key")+`, su.starts_at, `+t.engine.byteOrder("su.id"), orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.Subscription{}
	for rows.Next() {
		var s account.Subscription
		if err := rows.Scan(subscriptionDest(&s)...); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// CreateSubscription inserts s with no seat assigned (s.Assigned is ignored). An
// unknown organization or application is ENOTFOUND.
func (t *tx) CreateSubscription(ctx context.Context, s account.Subscription) error {
	delete(t.subscribed, s.OrgID) // it may subscribe the organization to another application
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO subscriptions (id, org_id, application_id, seats, assigned, starts_at, ends_at,
			renewed_from, created_at, updated_at)
		VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8, $9)`,
		s.ID, s.OrgID, s.ApplicationID, s.Seats, ts(s.StartsAt), ts(s.EndsAt), nullString(s.RenewedFrom),
		ts(s.CreatedAt), ts(s.UpdatedAt))
	if foreignKeyViolation(err) {
		return account.Errorf(account.ENOTFOUND, "organization or application not found")
	}
	return translate(err, "subscription")
}

// UpdateSubscription writes s's quota, end and update time. A quota below the seats
// assigned is refused by the database's check: EQUOTAEXCEEDED.
func (t *tx) UpdateSubscription(ctx context.Context, s account.Subscription) error {
	if err := t.lockSeats(ctx, s.OrgID); err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `
		UPDATE subscriptions SET seats = $3, ends_at = $4, updated_at = $5
		WHERE org_id = $1 AND id = $2`,
		s.OrgID, s.ID, s.Seats, ts(s.EndsAt), ts(s.UpdatedAt))
	return affected(res, err, "subscription")
}

// AssignSeat gives accountID a seat of orgID's subscription. The one INSERT … SELECT
// takes the subscription and the membership from orgID only, so it can neither seat a
// stranger nor use another tenant's subscription, and ON CONFLICT DO NOTHING makes an
// existing seat a no-op that leaves a PostgreSQL transaction usable. The insert
// trigger then counts the seat and the quota check refuses it, atomically, when none
// is left (EQUOTAEXCEEDED). When nothing was inserted, a second query tells an
// existing seat (false) from an unknown subscription or member (ENOTFOUND).
func (t *tx) AssignSeat(ctx context.Context, orgID, subscriptionID, accountID string, at time.Time) (bool, error) {
	if err := t.lockSeats(ctx, orgID); err != nil {
		return false, err
	}
	var a args
	org, sub, acct, when := a.add(orgID), a.add(subscriptionID), a.add(accountID), a.add(ts(at))
	res, err := t.q.ExecContext(ctx, `
		INSERT INTO seats (subscription_id, org_id, account_id, created_at)
		SELECT su.id, su.org_id, m.account_id, `+t.engine.timeArg(when)+`
		FROM subscriptions su JOIN memberships m ON m.org_id = su.org_id
		WHERE su.id = `+sub+` AND su.org_id = `+org+` AND m.account_id = `+acct+`
		ON CONFLICT (subscription_id, account_id) DO NOTHING`, a...)
	if foreignKeyViolation(err) { // the membership went away meanwhile
		return false, account.Errorf(account.ENOTFOUND, "member not found")
	}
	if err != nil {
		return false, translate(err, "seat")
	}
	n, err := res.RowsAffected()
	if err != nil || n == 1 {
		return n == 1, err
	}
	var subs, members int
	err = t.q.QueryRowContext(ctx, `
		SELECT (SELECT COUNT(*) FROM subscriptions WHERE id = $2 AND org_id = $1),
			(SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND account_id = $3)`,
		orgID, subscriptionID, accountID).Scan(&subs, &members)
	switch {
	case err != nil:
		return false, err
	case subs == 0:
		return false, account.Errorf(account.ENOTFOUND, "subscription not found")
	case members == 0:
		return false, account.Errorf(account.ENOTFOUND, "member not found")
	}
	return false, nil
}

// UnassignSeat takes accountID's seat of orgID's subscription back (the delete
// trigger lowers the count); false when they held none.
func (t *tx) UnassignSeat(ctx context.Context, orgID, subscriptionID, accountID string) (bool, error) {
	if err := t.lockSeats(ctx, orgID); err != nil {
		return false, err
	}
	res, err := t.q.ExecContext(ctx, `
		DELETE FROM seats WHERE subscription_id = $2 AND account_id = $3 AND org_id = $1`,
		orgID, subscriptionID, accountID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CopySeats gives every holder of orgID's subscription from a seat of orgID's
// subscription to, in one INSERT … SELECT, and returns how many it gave (holders of
// both already keep theirs). More holders than to has seats is EQUOTAEXCEEDED; either
// subscription not being orgID's is ENOTFOUND.
func (t *tx) CopySeats(ctx context.Context, orgID, from, to string, at time.Time) (int, error) {
	if err := t.lockSeats(ctx, orgID); err != nil {
		return 0, err
	}
	var a args
	org, src, dst, when := a.add(orgID), a.add(from), a.add(to), a.add(ts(at))
	res, err := t.q.ExecContext(ctx, `
		INSERT INTO seats (subscription_id, org_id, account_id, created_at)
		SELECT su.id, su.org_id, st.account_id, `+t.engine.timeArg(when)+`
		FROM subscriptions su JOIN seats st ON st.org_id = su.org_id
		WHERE su.id = `+dst+` AND su.org_id = `+org+` AND st.subscription_id = `+src+`
		ON CONFLICT (subscription_id, account_id) DO NOTHING`, a...)
	if err != nil {
		return 0, translate(err, "seat")
	}
	n, err := res.RowsAffected()
	if err != nil || n > 0 {
		return int(n), err
	}
	var found int
	err = t.q.QueryRowContext(ctx, `
		SELECT COUNT(*) FROM subscriptions WHERE org_id = $1 AND id IN ($2, $3)`, orgID, from, to).Scan(&found)
	if err != nil {
		return 0, err
	}
	want := 2
	if from == to {
		want = 1
	}
	if found != want {
		return 0, account.Errorf(account.ENOTFOUND, "subscription not found")
	}
	return 0, nil
}
