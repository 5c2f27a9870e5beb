package sqlstore

import (
	"context"
	"fmt"
	"time"

	"roster.dev/roster/internal/account"
)

// ClaimDeliveries claims up to limit pending deliveries due at now (no claim, or an
// expired one) for lease, as owner, counting the attempt, and returns them with their
// endpoint and event. Deliveries of endpoints in skip (those the caller is still
// sending to) are left alone, so that one endpoint gets one delivery at a time and a
// slow one holds no other's.
func (db *DB) ClaimDeliveries(ctx context.Context, owner string, now time.Time, n int, lease time.Duration, skip []string) ([]account.DeliveryJob, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if n <= 0 {
		return nil, nil
	}
	var a args
	conds := []string{`d.state = 'pending'`, `d.next_at <= ` + a.add(ts(now)),
		`(d.claimed_until IS NULL OR d.claimed_until < ` + a.add(ts(now)) + `)`,
		`d.endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled)`} // a disabled one's wait
	if len(skip) > 0 {
		conds = append(conds, `d.endpoint_id NOT IN (`+a.list(skip)+`)`)
	}
	until, by := a.add(ts(now.Add(lease))), a.add(owner)
	rows, err := db.writer.QueryContext(ctx, `
		UPDATE webhook_deliveries SET claimed_until = `+until+`, claimed_by = `+by+`, attempts = attempts + 1
		WHERE id IN (SELECT d.id FROM webhook_deliveries d`+where(conds)+
		` ORDER BY d.next_at, d.id`+limit(&a, n)+db.engine.skipLocked()+`)
		RETURNING id`, a...)
	if err != nil {
		return nil, classify(ctx, err)
	}
	ids, err := scanStrings(rows)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	var b args
	rows, err = db.reader.QueryContext(ctx, `
		SELECT `+deliveryColumns+`, `+webhookColumns+`, e.id, e.org_id, e.type, e.data_json, e.created_at
		FROM webhook_deliveries d
		JOIN webhook_endpoints w ON w.id = d.endpoint_id
		JOIN events e ON e.id = d.event_id
		WHERE d.id IN (`+b.list(ids)+`) ORDER BY d.next_at, d.id`, b...)
	if err != nil {
		return nil, classify(ctx, err)
	}
	defer rows.Close()
	var out []account.DeliveryJob
	for rows.Next() {
		var j account.DeliveryJob
		var dtyp, state, events, etyp, data string
		d, w, e := &j.Delivery, &j.Webhook, &j.Event
		if err := rows.Scan(&d.ID, &d.WebhookID, &d.EventID, &dtyp, &state, &d.Attempts, &d.StatusCode,
			&d.DurationMS, &d.Error, scanTime{&d.NextAt}, scanTime{&d.CreatedAt}, scanTime{&d.UpdatedAt},
			&w.ID, &w.ApplicationID, &w.URL, &events, &w.Description, &w.Enabled, &w.Secret,
			&w.PreviousSecret, scanTime{&w.PreviousUntil}, &w.DisabledReason, scanTime{&w.FailingSince}, scanTime{&w.CreatedAt}, scanTime{&w.UpdatedAt},
			&e.ID, &e.OrgID, &etyp, &data, scanTime{&e.CreatedAt}); err != nil {
			return nil, err
		}
		if err := openSecrets(db.secrets.Load(), w); err != nil {
			return nil, err
		}
		d.EventType, d.State, w.Events = account.EventType(dtyp), account.DeliveryState(state), splitTypes(events)
		e.Type, e.Data = account.EventType(etyp), []byte(data)
		out = append(out, j)
	}
	return out, rows.Err()
}

// CompleteDelivery records an attempt of a delivery owner claimed, and lets go of
// the claim: delivered, due again at o.NextAt, or failed. A 410 Gone disables the
// endpoint, and ends its other pending deliveries as failed.
//
// It reports since when the endpoint has been failing (zero once a delivery
// succeeds): the first failure after its last success.
func (db *DB) CompleteDelivery(ctx context.Context, owner, id string, now time.Time, o account.DeliveryOutcome) (failingSince time.Time, err error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	state, next := account.DeliveryFailed, now
	switch {
	case o.Delivered:
		state = account.DeliveryDelivered
	case !o.NextAt.IsZero() && !o.Gone:
		state, next = account.DeliveryPending, o.NextAt
	}
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return failingSince, classify(ctx, fmt.Errorf("begin: %w", err))
	}
	defer tx.Rollback()
	var endpoint string
	err = tx.QueryRowContext(ctx, `
		UPDATE webhook_deliveries SET state = $3, next_at = $4, status_code = $5, duration_ms = $6, last_error = $7,
			claimed_until = NULL, updated_at = $8
		WHERE id = $1 AND claimed_by = $2 AND state = 'pending'
		RETURNING endpoint_id`,
		id, owner, string(state), ts(next), o.StatusCode, o.DurationMS, o.Error, ts(now)).Scan(&endpoint)
	if err != nil {
		return failingSince, classify(ctx, translate(err, "delivery"))
	}
	if o.Gone {
		if _, err := tx.ExecContext(ctx, `
			UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = '410 Gone', updated_at = $2 WHERE id = $1`,
			endpoint, ts(now)); err != nil {
			return failingSince, classify(ctx, err)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE webhook_deliveries SET state = 'failed', last_error = 'the endpoint answered 410 Gone: disabled',
				claimed_until = NULL, updated_at = $2
			WHERE endpoint_id = $1 AND state = 'pending' AND claimed_until IS NULL`, endpoint, ts(now)); err != nil {
			return failingSince, classify(ctx, err)
		}
	}
	if !o.Gone {
		q, args := `UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 RETURNING failing_since`, []any{endpoint}
		if !o.Delivered {
			q = `UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $2) WHERE id = $1 RETURNING failing_since`
			args = append(args, ts(now))
		}
		if err := tx.QueryRowContext(ctx, q, args...).Scan(scanTime{&failingSince}); err != nil {
			return failingSince, classify(ctx, err)
		}
	}
	return failingSince, classify(ctx, tx.Commit())
}

// ReleaseDeliveryClaims hands back the claims owner holds on the deliveries ids (at
// shutdown), so that another worker takes them at once; the attempt is not counted.
func (db *DB) ReleaseDeliveryClaims(ctx context.Context, owner string, ids []string) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	if len(ids) == 0 {
		return nil
	}
	var a args
	by := a.add(owner)
	_, err := db.writer.ExecContext(ctx, `
		UPDATE webhook_deliveries SET claimed_until = NULL, attempts = attempts - 1
		WHERE claimed_by = `+by+` AND state = 'pending' AND claimed_until IS NOT NULL AND id IN (`+a.list(ids)+`)`, a...)
	return classify(ctx, err)
}

// WebhookQueue reports the pending deliveries and when the oldest of them was made
// (zero when none is pending), for the metrics.
func (db *DB) WebhookQueue(ctx context.Context) (int, time.Time, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	var n int
	var oldest time.Time
	err := db.reader.QueryRowContext(ctx, `
		SELECT COUNT(*), MIN(created_at) FROM webhook_deliveries WHERE state = 'pending'`).Scan(&n, scanTime{&oldest})
	return n, oldest, classify(ctx, err)
}
