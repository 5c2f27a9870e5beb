package httpapi

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

// ApplicationView is an application of the vendor.
type ApplicationView struct {
	ID        string    `json:"id"`
	Key       string    `json:"key"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

func applicationView(a account.Application) ApplicationView {
	return ApplicationView{ID: a.ID, Key: a.Key, Name: a.Name, CreatedAt: a.CreatedAt}
}

type applicationOutput struct {
	Body ApplicationView
}

type createApplicationInput struct {
	Body struct {
		Key  string `json:"key" required:"true" doc:"Lower-case letters, digits and dashes; permanent."`
		Name string `json:"name" required:"true"`
	}
}

func (s *Server) createApplication(ctx context.Context, in *createApplicationInput) (*applicationOutput, error) {
	app, err := s.svc.CreateApplication(ctx, actorFrom(ctx), account.ApplicationInput{Key: in.Body.Key, Name: in.Body.Name})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &applicationOutput{Body: applicationView(app)}, nil
}

type applicationsOutput struct {
	Body List[ApplicationView]
}

func (s *Server) listApplications(ctx context.Context, _ *struct{}) (*applicationsOutput, error) {
	apps, err := s.svc.FindApplications(ctx, actorFrom(ctx))
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &applicationsOutput{Body: List[ApplicationView]{Items: mapSlice(apps, applicationView), Total: len(apps)}}, nil
}

// AppPath addresses an application by id or key.
type AppPath struct {
	App string `path:"app" doc:"The application's id or key."`
}

func (s *Server) getApplication(ctx context.Context, in *AppPath) (*applicationOutput, error) {
	app, err := s.svc.FindApplication(ctx, actorFrom(ctx), in.App)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &applicationOutput{Body: applicationView(app)}, nil
}

type renameApplicationInput struct {
	AppPath
	Body struct {
		Name string `json:"name" required:"true"`
	}
}

func (s *Server) renameApplication(ctx context.Context, in *renameApplicationInput) (*applicationOutput, error) {
	app, err := s.svc.RenameApplication(ctx, actorFrom(ctx), in.App, in.Body.Name)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &applicationOutput{Body: applicationView(app)}, nil
}

// ApplicationKeyView is an API key without its secret.
type ApplicationKeyView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix" doc:"The key's first characters."`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func applicationKeyView(k account.ApplicationKey) ApplicationKeyView {
	return ApplicationKeyView{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: k.CreatedAt,
		LastUsedAt: nullableTime(k.LastUsedAt), RevokedAt: nullableTime(k.RevokedAt)}
}

type createKeyInput struct {
	AppPath
	Body struct {
		Name string `json:"name" doc:"What the key is for, e.g. the server that uses it."`
	}
}

type createKeyOutput struct {
	Body struct {
		ApplicationKeyView
		Key string `json:"key" doc:"The API key. Shown once: only its hash is kept."`
	}
}

func (s *Server) createApplicationKey(ctx context.Context, in *createKeyInput) (*createKeyOutput, error) {
	k, key, err := s.svc.CreateApplicationKey(ctx, actorFrom(ctx), in.App, in.Body.Name)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &createKeyOutput{}
	out.Body.ApplicationKeyView = applicationKeyView(k)
	out.Body.Key = key
	return out, nil
}

type keysOutput struct {
	Body List[ApplicationKeyView]
}

func (s *Server) listApplicationKeys(ctx context.Context, in *AppPath) (*keysOutput, error) {
	keys, err := s.svc.FindApplicationKeys(ctx, actorFrom(ctx), in.App)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &keysOutput{Body: List[ApplicationKeyView]{Items: mapSlice(keys, applicationKeyView), Total: len(keys)}}, nil
}

type keyPath struct {
	AppPath
	ID string `path:"id" doc:"The key's id."`
}

func (s *Server) revokeApplicationKey(ctx context.Context, in *keyPath) (*struct{}, error) {
	return nil, s.fail(ctx, s.svc.RevokeApplicationKey(ctx, actorFrom(ctx), in.App, in.ID))
}

func (s *Server) subscriptionView(o account.Organization, sub account.Subscription) SubscriptionView {
	now := s.now()
	return SubscriptionView{ID: sub.ID, Application: sub.ApplicationKey, Seats: sub.Seats, Assigned: sub.Assigned,
		Available: sub.Available(), StartsAt: sub.StartsAt, EndsAt: sub.EndsAt, State: string(sub.State(now)),
		Badges: sub.Badges(now, o.EndingSoonDays), RenewedFrom: nullable(sub.RenewedFrom)}
}

type subscriptionOutput struct {
	Body SubscriptionView
}

func (s *Server) subOut(ctx context.Context, o account.Organization, sub account.Subscription, err error) (*subscriptionOutput, error) {
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &subscriptionOutput{Body: s.subscriptionView(o, sub)}, nil
}

type subscriptionBody struct {
	Application string    `json:"application" doc:"The application's key (or id)."`
	Seats       *int      `json:"seats" required:"true" doc:"The quota."`
	StartsAt    time.Time `json:"starts_at" required:"true"`
	EndsAt      time.Time `json:"ends_at" required:"true"`
}

type createSubscriptionInput struct {
	OrgPath
	Body subscriptionBody
}

func (s *Server) createSubscription(ctx context.Context, in *createSubscriptionInput) (*subscriptionOutput, error) {
	b := in.Body
	o, sub, err := s.svc.CreateSubscription(ctx, actorFrom(ctx), in.Org, account.SubscriptionInput{
		Application: b.Application, Seats: b.Seats, StartsAt: b.StartsAt, EndsAt: b.EndsAt})
	return s.subOut(ctx, o, sub, err)
}

type subscriptionsOutput struct {
	Body List[SubscriptionView]
}

func (s *Server) listSubscriptions(ctx context.Context, in *OrgPath) (*subscriptionsOutput, error) {
	o, subs, err := s.svc.FindSubscriptions(ctx, actorFrom(ctx), in.Org)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	views := mapSlice(subs, func(sub account.Subscription) SubscriptionView { return s.subscriptionView(o, sub) })
	return &subscriptionsOutput{Body: List[SubscriptionView]{Items: views, Total: len(views)}}, nil
}

// SubPath addresses a subscription of an organization.
type SubPath struct {
	OrgPath
	Sub string `path:"sub" doc:"The subscription's id."`
}

func (s *Server) getSubscription(ctx context.Context, in *SubPath) (*subscriptionOutput, error) {
	o, sub, err := s.svc.FindSubscription(ctx, actorFrom(ctx), in.Org, in.Sub)
	return s.subOut(ctx, o, sub, err)
}

type updateSubscriptionInput struct {
	SubPath
	Body struct {
		Seats  *int       `json:"seats" doc:"The new quota; not below the seats assigned."`
		EndsAt *time.Time `json:"ends_at"`
	}
}

func (s *Server) updateSubscription(ctx context.Context, in *updateSubscriptionInput) (*subscriptionOutput, error) {
	o, sub, err := s.svc.UpdateSubscription(ctx, actorFrom(ctx), in.Org, in.Sub, account.UpdateSubscriptionInput{
		Seats: in.Body.Seats, EndsAt: in.Body.EndsAt})
	return s.subOut(ctx, o, sub, err)
}

type renewSubscriptionInput struct {
	SubPath
	Body struct {
		Seats    *int      `json:"seats" required:"true"`
		StartsAt time.Time `json:"starts_at" required:"true"`
		EndsAt   time.Time `json:"ends_at" required:"true"`
	}
}

func (s *Server) renewSubscription(ctx context.Context, in *renewSubscriptionInput) (*subscriptionOutput, error) {
	b := in.Body
	o, sub, err := s.svc.RenewSubscription(ctx, actorFrom(ctx), in.Org, in.Sub, account.SubscriptionInput{
		Seats: b.Seats, StartsAt: b.StartsAt, EndsAt: b.EndsAt})
	return s.subOut(ctx, o, sub, err)
}

type seatPath struct {
	SubPath
	AccountPath
}

func (s *Server) assignSeat(ctx context.Context, in *seatPath) (*subscriptionOutput, error) {
	o, sub, err := s.svc.AssignSeat(ctx, actorFrom(ctx), in.Org, in.Sub, in.Account)
	return s.subOut(ctx, o, sub, err)
}

func (s *Server) unassignSeat(ctx context.Context, in *seatPath) (*struct{}, error) {
	return nil, s.fail(ctx, s.svc.UnassignSeat(ctx, actorFrom(ctx), in.Org, in.Sub, in.Account))
}

type updateSeatsInput struct {
	SubPath
	Body struct {
		Assign   []string `json:"assign" maxItems:"500" doc:"Account ids to give a seat."`
		Unassign []string `json:"unassign" maxItems:"500" doc:"Account ids whose seat to take back."`
	}
}

func (s *Server) updateSeats(ctx context.Context, in *updateSeatsInput) (*subscriptionOutput, error) {
	o, sub, err := s.svc.UpdateSeats(ctx, actorFrom(ctx), in.Org, in.Sub, account.SeatChanges{
		Assign: in.Body.Assign, Unassign: in.Body.Unassign})
	return s.subOut(ctx, o, sub, err)
}

func nullableTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
