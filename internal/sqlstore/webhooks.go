package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sealbox"
)

var _ account.WebhookTx = (*tx)(nil)

const webhookColumns = `w.id, w.application_id, w.url, w.events, w.description, w.enabled, w.secret,
	w.previous_secret, w.previous_until, w.disabled_reason, w.failing_since, w.created_at, w.updated_at`

// scanWebhook reads a row of webhookColumns; its secrets as stored (sealed, when
// SealSecrets was given a passphrase: see openSecrets).
func scanWebhook(sc interface{ Scan(...any) error }) (account.Webhook, error) {
	var w account.Webhook
	var events string
	err := sc.Scan(&w.ID, &w.ApplicationID, &w.URL, &events, &w.Description, &w.Enabled, &w.Secret,
		&w.PreviousSecret, scanTime{&w.PreviousUntil}, &w.DisabledReason, scanTime{&w.FailingSince}, scanTime{&w.CreatedAt}, scanTime{&w.UpdatedAt})
	w.Events = splitTypes(events)
	return w, err
}

// The additional data of a sealed webhook secret: it opens as nothing else.
const webhookSecretUse = "roster-webhook-secret"

// SealSecrets makes the store keep the webhooks' signing secrets sealed with
// passphrase (sealbox, AES-256-GCM; the process's --oidc-key-secret): a copy of the
// database alone cannot sign an event. Secrets written before stay readable, and
// are sealed when next written (a rotation). Empty: stored as they are. Call it
// before the store serves.
func (db *DB) SealSecrets(passphrase string) {
	db.secrets.Store(sealbox.New(passphrase, webhookSecretUse))
}

// openSecrets opens w's secrets as box sealed them (values stored unsealed read as
// they are); a sealed secret without the passphrase, or with another, is an error.
func openSecrets(box *sealbox.Box, w *account.Webhook) error {
	for _, s := range []*string{&w.Secret, &w.PreviousSecret} {
		if *s == "" {
			continue
		}
		plain, err := box.Open(*s)
		if err != nil {
			return fmt.Errorf("webhook %s: its signing secret: %w", w.ID, err)
		}
		*s = string(plain)
	}
	return nil
}

// sealSecrets is w with its secrets sealed by box, for writing.
func sealSecrets(box *sealbox.Box, w account.Webhook) (account.Webhook, error) {
	for _, s := range []*string{&w.Secret, &w.PreviousSecret} {
		if *s == "" {
			continue
		}
		sealed, err := box.Seal([]byte(*s))
		if err != nil {
			return w, err
		}
		*s = sealed
	}
	return w, nil
}

func splitTypes(s string) []account.EventType {
	out := []account.EventType{}
	for _, t := range strings.Split(s, ",") {
		if t != "" {
			out = append(out, account.EventType(t))
		}
	}
	return out
}

func joinTypes(ts []account.EventType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ",")
}

// CreateWebhook adds an endpoint.
func (t *tx) CreateWebhook(ctx context.Context, w account.Webhook) error {
	w, err := sealSecrets(t.secrets, w)
	if err != nil {
		return err
	}
	_, err = t.q.ExecContext(ctx, `
		INSERT INTO webhook_endpoints (id, application_id, url, events, description, enabled, secret,
			previous_secret, previous_until, disabled_reason, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		w.ID, w.ApplicationID, w.URL, joinTypes(w.Events), w.Description, w.Enabled, w.Secret,
		w.PreviousSecret, nullTime(w.PreviousUntil), w.DisabledReason, ts(w.CreatedAt), ts(w.UpdatedAt))
	return translate(err, "webhook")
}

// Webhook returns one endpoint of the application.
func (t *tx) Webhook(ctx context.Context, applicationID, id string) (account.Webhook, error) {
	w, err := scanWebhook(t.q.QueryRowContext(ctx, `SELECT `+webhookColumns+`
		FROM webhook_endpoints w WHERE w.application_id = $1 AND w.id = $2`, applicationID, id))
	if err != nil {
		return w, translate(err, "webhook")
	}
	return w, openSecrets(t.secrets, &w)
}

// Webhooks lists the application's endpoints, oldest first.
func (t *tx) Webhooks(ctx context.Context, applicationID string) ([]account.Webhook, error) {
	rows, err := t.q.QueryContext(ctx, `SELECT `+webhookColumns+`
		FROM webhook_endpoints w WHERE w.application_id = $1 ORDER BY w.id`, applicationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		if err := openSecrets(t.secrets, &w); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// UpdateWebhook writes every column of an endpoint but its id, application and
// creation time.
func (t *tx) UpdateWebhook(ctx context.Context, w account.Webhook) error {
	w, err := sealSecrets(t.secrets, w)
	if err != nil {
		return err
	}
	res, err := t.q.ExecContext(ctx, `
		UPDATE webhook_endpoints SET url = $3, events = $4, description = $5, enabled = $6, secret = $7,
			previous_secret = $8, previous_until = $9, disabled_reason = $10, updated_at = $11,
			failing_since = CASE WHEN $6 THEN failing_since ELSE NULL END
		WHERE application_id = $1 AND id = $2`,
		w.ApplicationID, w.ID, w.URL, joinTypes(w.Events), w.Description, w.Enabled, w.Secret,
		w.PreviousSecret, nullTime(w.PreviousUntil), w.DisabledReason, ts(w.UpdatedAt))
	return affected(res, err, "webhook")
}

// DeleteWebhook deletes an endpoint of the application, and its deliveries.
func (t *tx) DeleteWebhook(ctx context.Context, applicationID, id string) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE application_id = $1 AND id = $2`,
		applicationID, id)
	return affected(res, err, "webhook")
}

// InsertDirectEvent writes an event that is in no feed and its one delivery.
func (t *tx) InsertDirectEvent(ctx context.Context, e account.Event, d account.Delivery) error {
	if _, err := t.q.ExecContext(ctx, `
		INSERT INTO events (id, org_id, type, data_json, created_at) VALUES ($1, $2, $3, $4, $5)`,
		e.ID, e.OrgID, string(e.Type), string(e.Data), ts(e.CreatedAt)); err != nil {
		return translate(err, "event")
	}
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, state, next_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, 'pending', $5, $6, $6)`,
		d.ID, d.WebhookID, e.ID, string(e.Type), ts(d.NextAt), ts(d.CreatedAt))
	t.delivered = true
	return translate(err, "delivery")
}

const deliveryColumns = `d.id, d.endpoint_id, d.event_id, d.event_type, d.state, d.attempts, d.status_code,
	d.duration_ms, d.last_error, d.next_at, d.created_at, d.updated_at`

func scanDelivery(sc interface{ Scan(...any) error }) (account.Delivery, error) {
	var d account.Delivery
	var typ, state string
	err := sc.Scan(&d.ID, &d.WebhookID, &d.EventID, &typ, &state, &d.Attempts, &d.StatusCode,
		&d.DurationMS, &d.Error, scanTime{&d.NextAt}, scanTime{&d.CreatedAt}, scanTime{&d.UpdatedAt})
	d.EventType, d.State = account.EventType(typ), account.DeliveryState(state)
	return d, err
}

// Deliveries lists an endpoint's deliveries, newest first (the endpoint must be the
// application's: the join says so).
func (t *tx) Deliveries(ctx context.Context, applicationID, webhookID, before string, n int) ([]account.Delivery, error) {
	var a args
	conds := []string{`w.application_id = ` + a.add(applicationID), `d.endpoint_id = ` + a.add(webhookID)}
	if before != "" {
		conds = append(conds, `d.id < `+a.add(before))
	}
	rows, err := t.q.QueryContext(ctx, `SELECT `+deliveryColumns+`
		FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id`+where(conds)+
		` ORDER BY d.id DESC`+limit(&a, n), a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// RetryDelivery makes a delivery of the application's endpoint pending and due at at.
func (t *tx) RetryDelivery(ctx context.Context, applicationID, webhookID, id string, at time.Time) error {
	res, err := t.q.ExecContext(ctx, `
		UPDATE webhook_deliveries SET state = 'pending', next_at = $4, claimed_until = NULL, updated_at = $4
		WHERE id = $3 AND endpoint_id = $2
			AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE application_id = $1)`,
		applicationID, webhookID, id, ts(at))
	t.delivered = true
	return affected(res, err, "delivery")
}
