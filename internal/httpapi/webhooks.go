package httpapi

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

// WebhookView is a webhook endpoint, without its secret.
type WebhookView struct {
	ID             string    `json:"id"`
	URL            string    `json:"url"`
	Events         []string  `json:"events" doc:"The event types it takes; empty: every type."`
	Description    string    `json:"description"`
	Enabled        bool      `json:"enabled"`
	DisabledReason *string   `json:"disabled_reason" doc:"Why Roster disabled the endpoint (its answer 410 Gone), or null."`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func webhookView(w account.Webhook) WebhookView {
	evs := make([]string, len(w.Events))
	for i, e := range w.Events {
		evs[i] = string(e)
	}
	return WebhookView{ID: w.ID, URL: w.URL, Events: evs, Description: w.Description, Enabled: w.Enabled,
		DisabledReason: nullable(w.DisabledReason), CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

// WebhookPath addresses one endpoint of an application.
type WebhookPath struct {
	AppPath
	ID string `path:"id" doc:"The webhook's id."`
}

type webhookBody struct {
	URL         *string   `json:"url,omitempty" doc:"Where events are POSTed: an https URL."`
	Events      *[]string `json:"events,omitempty" doc:"The event types to send (every type when omitted or empty)."`
	Description *string   `json:"description,omitempty"`
	Enabled     *bool     `json:"enabled,omitempty"`
}

func (b webhookBody) input() account.WebhookInput {
	return account.WebhookInput{URL: b.URL, Events: b.Events, Description: b.Description, Enabled: b.Enabled}
}

type createWebhookInput struct {
	AppPath
	Body webhookBody
}

type createWebhookOutput struct {
	Body struct {
		WebhookView
		Secret string `json:"secret" doc:"The signing secret (whsec_…), shown this once."`
	}
}

func (s *Server) createWebhook(ctx context.Context, in *createWebhookInput) (*createWebhookOutput, error) {
	w, err := s.svc.CreateWebhook(ctx, actorFrom(ctx), in.App, in.Body.input())
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &createWebhookOutput{}
	out.Body.WebhookView, out.Body.Secret = webhookView(w), w.Secret
	return out, nil
}

type webhooksOutput struct {
	Body List[WebhookView]
}

func (s *Server) listWebhooks(ctx context.Context, in *AppPath) (*webhooksOutput, error) {
	ws, err := s.svc.FindWebhooks(ctx, actorFrom(ctx), in.App)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &webhooksOutput{Body: List[WebhookView]{Items: mapSlice(ws, webhookView), Total: len(ws)}}, nil
}

type webhookOutput struct {
	Body WebhookView
}

func (s *Server) getWebhook(ctx context.Context, in *WebhookPath) (*webhookOutput, error) {
	w, err := s.svc.FindWebhook(ctx, actorFrom(ctx), in.App, in.ID)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &webhookOutput{Body: webhookView(w)}, nil
}

type updateWebhookInput struct {
	WebhookPath
	Body webhookBody
}

func (s *Server) updateWebhook(ctx context.Context, in *updateWebhookInput) (*webhookOutput, error) {
	w, err := s.svc.UpdateWebhook(ctx, actorFrom(ctx), in.App, in.ID, in.Body.input())
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &webhookOutput{Body: webhookView(w)}, nil
}

func (s *Server) deleteWebhook(ctx context.Context, in *WebhookPath) (*struct{}, error) {
	return nil, s.fail(ctx, s.svc.DeleteWebhook(ctx, actorFrom(ctx), in.App, in.ID))
}

type rotateSecretOutput struct {
	Body struct {
		Secret string `json:"secret" doc:"The new signing secret, shown this once; the previous one also signs for 24 hours."`
	}
}

func (s *Server) rotateWebhookSecret(ctx context.Context, in *WebhookPath) (*rotateSecretOutput, error) {
	secret, err := s.svc.RotateWebhookSecret(ctx, actorFrom(ctx), in.App, in.ID)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &rotateSecretOutput{}
	out.Body.Secret = secret
	return out, nil
}

func (s *Server) testWebhook(ctx context.Context, in *WebhookPath) (*struct{}, error) {
	return nil, s.fail(ctx, s.svc.TestWebhook(ctx, actorFrom(ctx), in.App, in.ID))
}

// DeliveryView is one event's delivery to an endpoint, with its latest attempt.
type DeliveryView struct {
	ID            string     `json:"id"`
	Event         string     `json:"event" doc:"The event's id (the webhook-id header)."`
	Type          string     `json:"type"`
	State         string     `json:"state" enum:"pending,delivered,failed"`
	Attempt       int        `json:"attempt" doc:"How many attempts were made."`
	StatusCode    *int       `json:"status_code" doc:"The endpoint's status at the latest attempt, or null."`
	DurationMS    int        `json:"duration_ms"`
	Error         *string    `json:"error"`
	NextAttemptAt *time.Time `json:"next_attempt_at" doc:"When the next attempt is due (pending only)."`
	CreatedAt     time.Time  `json:"created_at"`
}

func deliveryView(d account.Delivery) DeliveryView {
	v := DeliveryView{ID: d.ID, Event: d.EventID, Type: string(d.EventType), State: string(d.State), Attempt: d.Attempts,
		DurationMS: d.DurationMS, Error: nullable(d.Error), CreatedAt: d.CreatedAt}
	if d.StatusCode != 0 {
		code := d.StatusCode
		v.StatusCode = &code
	}
	if d.State == account.DeliveryPending {
		at := d.NextAt
		v.NextAttemptAt = &at
	}
	return v
}

type listDeliveriesInput struct {
	WebhookPath
	Cursor string `query:"cursor" doc:"The next_cursor of the previous page."`
	Limit  int    `query:"limit" doc:"Page size (default 50, max 500)."`
}

type deliveriesOutput struct {
	Body List[DeliveryView]
}

func (s *Server) listDeliveries(ctx context.Context, in *listDeliveriesInput) (*deliveriesOutput, error) {
	p, err := s.svc.FindDeliveries(ctx, actorFrom(ctx), in.App, in.ID, account.DeliveryQuery{Cursor: in.Cursor, Limit: in.Limit})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &deliveriesOutput{Body: listOf(p, deliveryView)}, nil
}

type retryDeliveryInput struct {
	WebhookPath
	Delivery string `path:"delivery" doc:"The delivery's id."`
}

func (s *Server) retryDelivery(ctx context.Context, in *retryDeliveryInput) (*struct{}, error) {
	return nil, s.fail(ctx, s.svc.RetryDelivery(ctx, actorFrom(ctx), in.App, in.ID, in.Delivery))
}
