package account

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Webhook is an endpoint of an application that its events are delivered to
// (Standard Webhooks). Events is the types it takes (every type when empty).
// Secret signs the deliveries; PreviousSecret, until PreviousUntil, signs beside it
// after a rotation. Secrets are kept so that the worker can sign, and shown only
// when made.
type Webhook struct {
	ID             string
	ApplicationID  string
	URL            string
	Events         []EventType
	Description    string
	Enabled        bool
	Secret         string
	PreviousSecret string
	PreviousUntil  time.Time
	// DisabledReason says why Roster disabled the endpoint ("410 Gone"), or "".
	DisabledReason string
	// FailingSince is the first failed attempt since the last delivered one (zero
	// when that one succeeded): failing for FailingLimit disables the endpoint.
	FailingSince time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Secrets are the secrets that sign a delivery at now: the current one, and the
// previous one for 24 hours after a rotation.
func (w Webhook) Secrets(now time.Time) []string {
	out := []string{w.Secret}
	if w.PreviousSecret != "" && now.Before(w.PreviousUntil) {
		out = append(out, w.PreviousSecret)
	}
	return out
}

// Takes reports whether the endpoint takes events of typ.
func (w Webhook) Takes(typ EventType) bool {
	return len(w.Events) == 0 || slices.Contains(w.Events, typ)
}

// DeliveryState is the life cycle of a delivery.
type DeliveryState string

const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed"
)

// Delivery is the delivery of one event to one endpoint, with its latest attempt.
type Delivery struct {
	ID         string
	WebhookID  string
	EventID    string
	EventType  EventType
	State      DeliveryState
	Attempts   int
	StatusCode int
	DurationMS int
	Error      string
	NextAt     time.Time // when pending: when the next attempt is due
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// WebhookTx holds the queries of webhook endpoints and their deliveries. Every one
// takes the application's id and filters on it.
type WebhookTx interface {
	CreateWebhook(ctx context.Context, w Webhook) error
	Webhook(ctx context.Context, applicationID, id string) (Webhook, error)
	Webhooks(ctx context.Context, applicationID string) ([]Webhook, error) // oldest first
	UpdateWebhook(ctx context.Context, w Webhook) error                    // every column but id, application_id, created_at
	DeleteWebhook(ctx context.Context, applicationID, id string) error
	// InsertDirectEvent writes e (no feed row: e.g. webhook.test) and one pending
	// delivery of it to the endpoint, due at once.
	InsertDirectEvent(ctx context.Context, e Event, d Delivery) error
	// Deliveries lists an endpoint's deliveries, newest first, before the id before
	// ("" for the first page).
	Deliveries(ctx context.Context, applicationID, webhookID, before string, limit int) ([]Delivery, error)
	// RetryDelivery makes a delivery of the endpoint pending and due at at once.
	RetryDelivery(ctx context.Context, applicationID, webhookID, id string, at time.Time) error
}

// WebhookInput creates (URL required) or changes (nil fields unchanged) an endpoint.
type WebhookInput struct {
	URL         *string
	Events      *[]string
	Description *string
	Enabled     *bool
}

// webhookSecretPrefix starts every endpoint secret (Standard Webhooks' whsec_).
const webhookSecretPrefix = "whsec_"

// webhookSecretBytes is the randomness of an endpoint secret.
const webhookSecretBytes = 32

// rotationOverlap is how long the previous secret still signs after a rotation.
const rotationOverlap = 24 * time.Hour

func (s *Service) newWebhookSecret() (string, error) {
	b := make([]byte, webhookSecretBytes)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", err
	}
	return webhookSecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// validWebhookURL checks an endpoint's URL: absolute https (http only when private
// destinations are allowed, for tests and local receivers), with a host, no
// credentials, no fragment; a literal address that is private, loopback or
// link-local is refused unless allowed (the dialer checks the address actually
// dialled, too).
func (s *Service) validWebhookURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "", Invalid("url", "is required")
	case len(raw) > 2000:
		return "", Invalid("url", "must be at most 2000 characters")
	case err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "":
		return "", Invalid("url", "must be an absolute https URL")
	case u.User != nil:
		return "", Invalid("url", "must not hold credentials")
	case u.Fragment != "":
		return "", Invalid("url", "must not hold a fragment")
	case u.Scheme == "http" && !s.webhooksAllowPrivate, u.Scheme != "https" && u.Scheme != "http":
		return "", Invalid("url", "must be an https URL")
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !s.webhooksAllowPrivate && !PublicAddr(ip) {
		return "", Invalid("url", "must not be a private, loopback or link-local address")
	}
	if h := strings.ToLower(u.Hostname()); !s.webhooksAllowPrivate && (h == "localhost" || strings.HasSuffix(h, ".localhost")) {
		return "", Invalid("url", "must not be a private, loopback or link-local address")
	}
	return u.String(), nil
}

// PublicAddr reports whether ip is a destination webhooks may reach: not loopback,
// private, link-local, multicast, unspecified or otherwise special.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"), netip.MustParsePrefix("240.0.0.0/4"), netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("2001:db8::/32"),
}

func webhookEvents(in []string) ([]EventType, error) {
	out := []EventType{}
	for _, t := range in {
		typ := EventType(strings.TrimSpace(t))
		if !slices.Contains(EventTypes, typ) {
			return nil, Invalid("events", "names an unknown event type: "+clip(t, 60))
		}
		if !slices.Contains(out, typ) {
			out = append(out, typ)
		}
	}
	return out, nil
}

func webhookState(w Webhook) map[string]any {
	evs := make([]string, len(w.Events))
	for i, e := range w.Events {
		evs[i] = string(e)
	}
	return map[string]any{"url": w.URL, "events": evs, "description": w.Description, "enabled": w.Enabled}
}

// webhookApp resolves the application of an operator's webhook request.
func (s *Service) webhookApp(ctx context.Context, tx Tx, _ Actor, appRef string) (Application, error) {
	app, err := tx.Application(ctx, appRef)
	return app, notFound(err, "application")
}

// endpointIn runs fn in a read (or, with write, a write) on the endpoint id of
// appRef's application, once the actor is known to be an operator: the webhook use
// cases on one endpoint cannot skip either. Errors: EFORBIDDEN, ENOTFOUND (the
// application, or an endpoint of another application).
func (s *Service) endpointIn(ctx context.Context, actor Actor, appRef, id string, write bool, fn func(tx Tx, app Application, w Webhook) error) error {
	if err := requireOperator(actor, "manages webhooks"); err != nil {
		return err
	}
	run := s.store.Read
	if write {
		run = s.store.Write
	}
	return run(ctx, func(tx Tx) error {
		app, err := s.webhookApp(ctx, tx, actor, appRef)
		if err != nil {
			return err
		}
		w, err := tx.Webhook(ctx, app.ID, id)
		if err != nil {
			return notFound(err, "webhook")
		}
		return fn(tx, app, w)
	})
}

// CreateWebhook adds an endpoint to an application and returns it with its secret,
// which is shown this once. Operators only.
func (s *Service) CreateWebhook(ctx context.Context, actor Actor, appRef string, in WebhookInput) (w Webhook, err error) {
	defer wrap(&err, "CreateWebhook(%s)", appRef)
	if err := requireOperator(actor, "manages webhooks"); err != nil {
		return w, err
	}
	var v Validation
	raw := ""
	if in.URL != nil {
		raw = *in.URL
	}
	u, errU := s.validWebhookURL(raw)
	addErr(&v, errU)
	var evs []EventType
	if in.Events != nil {
		var errE error
		evs, errE = webhookEvents(*in.Events)
		addErr(&v, errE)
	}
	desc := ""
	if in.Description != nil {
		d, errD := NormalizeName("description", *in.Description, false)
		addErr(&v, errD)
		desc = d
	}
	if err := v.Err(); err != nil {
		return w, err
	}
	secret, err := s.newWebhookSecret()
	if err != nil {
		return w, err
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		app, err := s.webhookApp(ctx, tx, actor, appRef)
		if err != nil {
			return err
		}
		now := s.now()
		w = Webhook{ID: s.ids.New(), ApplicationID: app.ID, URL: u, Events: evs, Description: desc, Enabled: true,
			Secret: secret, CreatedAt: now, UpdatedAt: now}
		if in.Enabled != nil {
			w.Enabled = *in.Enabled
		}
		if err := tx.CreateWebhook(ctx, w); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "", AuditWebhookCreated, "webhook", w.ID, nil, webhookState(w))
	})
	return w, err
}

// FindWebhooks lists an application's endpoints (without secrets). Operators only.
func (s *Service) FindWebhooks(ctx context.Context, actor Actor, appRef string) (ws []Webhook, err error) {
	if err := requireOperator(actor, "manages webhooks"); err != nil {
		return nil, err
	}
	err = s.store.Read(ctx, func(tx Tx) error {
		app, err := s.webhookApp(ctx, tx, actor, appRef)
		if err != nil {
			return err
		}
		ws, err = tx.Webhooks(ctx, app.ID)
		return err
	})
	return ws, err
}

// FindWebhook returns one endpoint of an application. Operators only.
func (s *Service) FindWebhook(ctx context.Context, actor Actor, appRef, id string) (w Webhook, err error) {
	err = s.endpointIn(ctx, actor, appRef, id, false, func(_ Tx, _ Application, cur Webhook) error {
		w = cur
		return nil
	})
	return w, err
}

// UpdateWebhook changes an endpoint's URL, types, description or enabled flag.
// Enabling it again clears why Roster disabled it. Operators only.
func (s *Service) UpdateWebhook(ctx context.Context, actor Actor, appRef, id string, in WebhookInput) (w Webhook, err error) {
	defer wrap(&err, "UpdateWebhook(%s, %s)", appRef, id)
	err = s.endpointIn(ctx, actor, appRef, id, true, func(tx Tx, _ Application, cur Webhook) error {
		w = cur
		var v Validation
		if in.URL != nil {
			u, errU := s.validWebhookURL(*in.URL)
			addErr(&v, errU)
			w.URL = u
		}
		if in.Events != nil {
			evs, errE := webhookEvents(*in.Events)
			addErr(&v, errE)
			w.Events = evs
		}
		if in.Description != nil {
			d, errD := NormalizeName("description", *in.Description, false)
			addErr(&v, errD)
			w.Description = d
		}
		if in.Enabled != nil {
			w.Enabled = *in.Enabled
			if w.Enabled {
				w.DisabledReason = ""
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		before, after := diff(webhookState(cur), webhookState(w))
		if len(after) == 0 && len(before) == 0 {
			return nil
		}
		w.UpdatedAt = s.now()
		if err := tx.UpdateWebhook(ctx, w); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "", AuditWebhookUpdated, "webhook", w.ID, before, after)
	})
	return w, err
}

// DeleteWebhook deletes an endpoint and its deliveries. Operators only.
func (s *Service) DeleteWebhook(ctx context.Context, actor Actor, appRef, id string) (err error) {
	defer wrap(&err, "DeleteWebhook(%s, %s)", appRef, id)
	return s.endpointIn(ctx, actor, appRef, id, true, func(tx Tx, app Application, cur Webhook) error {
		if err := tx.DeleteWebhook(ctx, app.ID, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "", AuditWebhookDeleted, "webhook", id, webhookState(cur), nil)
	})
}

// RotateWebhookSecret gives an endpoint a new secret, returned this once; the old
// one still signs beside it for 24 hours. Operators only.
func (s *Service) RotateWebhookSecret(ctx context.Context, actor Actor, appRef, id string) (secret string, err error) {
	defer wrap(&err, "RotateWebhookSecret(%s, %s)", appRef, id)
	if err := requireOperator(actor, "manages webhooks"); err != nil {
		return "", err
	}
	if secret, err = s.newWebhookSecret(); err != nil {
		return "", err
	}
	err = s.endpointIn(ctx, actor, appRef, id, true, func(tx Tx, _ Application, w Webhook) error {
		now := s.now()
		w.PreviousSecret, w.PreviousUntil, w.Secret, w.UpdatedAt = w.Secret, now.Add(rotationOverlap), secret, now
		if err := tx.UpdateWebhook(ctx, w); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "", AuditWebhookSecretRotated, "webhook", id, nil,
			map[string]any{"previous_signs_until": w.PreviousUntil})
	})
	return secret, err
}

// TestWebhook sends a webhook.test event to one endpoint (only): it is delivered
// like any event, and listed among the endpoint's deliveries. Operators only.
func (s *Service) TestWebhook(ctx context.Context, actor Actor, appRef, id string) (err error) {
	defer wrap(&err, "TestWebhook(%s, %s)", appRef, id)
	return s.endpointIn(ctx, actor, appRef, id, true, func(tx Tx, app Application, w Webhook) error {
		now := s.now()
		data, err := json.Marshal(map[string]any{"webhook": w.ID, "application": app.Key,
			"actor": EventActor{ID: actor.Account.ID, Email: actor.Account.Email}})
		if err != nil {
			return err
		}
		e := Event{ID: s.ids.New(), Type: EventWebhookTest, Data: data, CreatedAt: now}
		return tx.InsertDirectEvent(ctx, e, Delivery{ID: s.ids.New(), WebhookID: w.ID, EventID: e.ID,
			EventType: e.Type, State: DeliveryPending, NextAt: now, CreatedAt: now, UpdatedAt: now})
	})
}

// DeliveryQuery pages through an endpoint's deliveries, newest first.
type DeliveryQuery struct {
	Cursor string
	Limit  int
}

// FindDeliveries lists an endpoint's deliveries. Operators only.
func (s *Service) FindDeliveries(ctx context.Context, actor Actor, appRef, id string, q DeliveryQuery) (p Page[Delivery], err error) {
	if err := requireOperator(actor, "manages webhooks"); err != nil {
		return p, err
	}
	limit, errL := pageLimit(q.Limit)
	cur, errC := decodeCursor(q.Cursor)
	if err := collect(errL, errC); err != nil {
		return p, err
	}
	err = s.store.Read(ctx, func(tx Tx) error {
		app, err := s.webhookApp(ctx, tx, actor, appRef)
		if err != nil {
			return err
		}
		if _, err := tx.Webhook(ctx, app.ID, id); err != nil {
			return notFound(err, "webhook")
		}
		ds, err := tx.Deliveries(ctx, app.ID, id, cur.after, limit+1)
		if err != nil {
			return err
		}
		p.Items = ds
		if len(ds) > limit {
			p.Items = ds[:limit]
			p.NextCursor = encodeCursor(ds[limit-1].ID, 0)
		}
		p.Total = len(p.Items)
		return nil
	})
	return p, err
}

// RetryDelivery makes a delivery due again now, whatever its state. Operators only.
func (s *Service) RetryDelivery(ctx context.Context, actor Actor, appRef, webhookID, id string) (err error) {
	defer wrap(&err, "RetryDelivery(%s, %s)", webhookID, id)
	if err := requireOperator(actor, "manages webhooks"); err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx Tx) error {
		app, err := s.webhookApp(ctx, tx, actor, appRef)
		if err != nil {
			return err
		}
		if err := tx.RetryDelivery(ctx, app.ID, webhookID, id, s.now()); err != nil {
			return notFound(err, "delivery")
		}
		return s.audit(ctx, tx, actor, "", AuditWebhookDeliveryRetried, "webhook_delivery", id, nil, map[string]any{"webhook": webhookID})
	})
}

// DeliveryJob is a claimed delivery with what its worker needs: the endpoint (its
// URL and secrets) and the event.
type DeliveryJob struct {
	Delivery Delivery
	Webhook  Webhook
	Event    Event
}

// DeliveryOutcome is the result of one attempt. Gone says the endpoint answered
// 410 Gone (it is disabled); NextAt, when not zero, is when to try again (else the
// delivery is done: delivered when Delivered, failed otherwise).
type DeliveryOutcome struct {
	Delivered  bool
	Gone       bool
	StatusCode int
	DurationMS int
	Error      string
	NextAt     time.Time
}

// FailingLimit is how long an endpoint's deliveries may fail, none delivered, before
// Roster disables it and tells the operators.
const FailingLimit = 5 * 24 * time.Hour

// DisableFailingWebhook disables an endpoint that has failed every attempt since
// since, if that is FailingLimit ago or more and it is still enabled, audits it and
// emails every active operator; the delivery worker calls it (Roster is the actor).
func (s *Service) DisableFailingWebhook(ctx context.Context, applicationID, id string, since time.Time) (err error) {
	defer wrap(&err, "DisableFailingWebhook(%s)", id)
	if since.IsZero() || s.now().Sub(since) < FailingLimit {
		return nil
	}
	return s.store.Write(ctx, func(tx Tx) error {
		app, err := tx.Application(ctx, applicationID)
		if err != nil {
			return notFound(err, "application")
		}
		w, err := tx.Webhook(ctx, app.ID, id)
		if err != nil {
			return notFound(err, "webhook")
		}
		if !w.Enabled {
			return nil
		}
		w.Enabled, w.DisabledReason, w.UpdatedAt = false, "failing for 5 days", s.now()
		if err := tx.UpdateWebhook(ctx, w); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, Actor{}, "", AuditWebhookDisabled, "webhook", w.ID,
			map[string]any{"enabled": true}, map[string]any{"enabled": false, "reason": w.DisabledReason, "failing_since": since}); err != nil {
			return err
		}
		operators, err := tx.ActiveOperators(ctx)
		if err != nil {
			return err
		}
		for _, op := range operators {
			n := s.notice(NoticeWebhookDisabled, Organization{}, Actor{}, Member{Account: op})
			n.Application, n.Message, n.Expires = app.Name, w.URL, since.UTC().Format("2006-01-02 15:04 UTC")
			n.Link = s.baseURL + "/operator"
			if err := s.notify(ctx, tx, "", n); err != nil {
				return err
			}
		}
		return nil
	})
}
