package httpapi

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

type checkInput struct {
	Organization string `query:"organization" doc:"The organization's id or slug."`
	Account      string `query:"account" doc:"The account's id."`
	Application  string `query:"application" doc:"The application's key or id; the caller's own application when omitted."`
}

type checkOutput struct {
	Body struct {
		Allowed bool   `json:"allowed"`
		Reason  string `json:"reason" enum:"ok,no-seat,not-member,deactivated,subscription-inactive,account-disabled"`
	}
}

// check answers an application: may this account use it in this organization now?
func (s *Server) check(ctx context.Context, in *checkInput) (*checkOutput, error) {
	allowed, reason, err := s.svc.Check(ctx, appFrom(ctx), in.Organization, in.Account, in.Application)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	s.metrics.ObserveCheck(reason)
	out := &checkOutput{}
	out.Body.Allowed, out.Body.Reason = allowed, reason
	return out, nil
}

type checkBatchInput struct {
	Body struct {
		Items []checkQuestion `json:"items" required:"true" minItems:"1" maxItems:"100" doc:"At most 100 questions, answered in their order."`
	}
}

type checkQuestion struct {
	Organization string `json:"organization" required:"true" doc:"The organization's id or slug."`
	Account      string `json:"account" required:"true" doc:"The account's id."`
	Application  string `json:"application,omitempty" doc:"The application's key or id; the caller's own application when omitted."`
}

type checkAnswer struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason" enum:"ok,no-seat,not-member,deactivated,subscription-inactive,account-disabled"`
}

type checkBatchOutput struct {
	Body struct {
		Items []checkAnswer `json:"items" doc:"One answer per question, in the questions' order."`
	}
}

// checkBatch answers up to 100 checks at once, each as check would.
func (s *Server) checkBatch(ctx context.Context, in *checkBatchInput) (*checkBatchOutput, error) {
	qs := mapSlice(in.Body.Items, func(q checkQuestion) account.CheckQuestion {
		return account.CheckQuestion{Organization: q.Organization, Account: q.Account, Application: q.Application}
	})
	answers, err := s.svc.CheckBatch(ctx, appFrom(ctx), qs)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &checkBatchOutput{}
	out.Body.Items = make([]checkAnswer, len(answers))
	for i, a := range answers {
		s.metrics.ObserveCheck(a.Reason)
		out.Body.Items[i] = checkAnswer{Allowed: a.Allowed, Reason: a.Reason}
	}
	return out, nil
}

// EntitlementView is one organization where an account may use the application now.
type EntitlementView struct {
	Organization OrganizationRef `json:"organization"`
	Application  string          `json:"application"`
	Subscription string          `json:"subscription"`
	EndsAt       time.Time       `json:"ends_at"`
}

type entitlementsOutput struct {
	Body List[EntitlementView]
}

func (s *Server) listEntitlements(ctx context.Context, in *AccountPath) (*entitlementsOutput, error) {
	es, err := s.svc.FindEntitlements(ctx, appFrom(ctx), in.Account)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	items := mapSlice(es, func(e account.Entitlement) EntitlementView {
		return EntitlementView{Organization: organizationRef(e.Organization), Application: e.ApplicationKey,
			Subscription: e.SubscriptionID, EndsAt: e.EndsAt}
	})
	return &entitlementsOutput{Body: List[EntitlementView]{Items: items, Total: len(items)}}, nil
}

// appFrom returns the application of an operation authenticated by an API key.
func appFrom(ctx context.Context) account.AppActor {
	a, _ := ctx.Value(appKey).(account.AppActor)
	return a
}
