package account

import (
	"context"
	"fmt"
	"time"
)

// The reasons of an entitlement check (API.md).
const (
	ReasonOK                   = "ok"
	ReasonNoSeat               = "no-seat"
	ReasonNotMember            = "not-member"
	ReasonDeactivated          = "deactivated"
	ReasonSubscriptionInactive = "subscription-inactive"
	ReasonAccountDisabled      = "account-disabled"
)

// EntitlementFacts are what the store knows about one account, organization and
// application, read in one query. They do not depend on the time: Decide takes it,
// so facts kept in memory stay right as subscriptions start and end.
type EntitlementFacts struct {
	Found        bool         // the organization and the account exist
	AccountState AccountState //
	MemberState  MemberState  // empty without a membership
	// Seats are the periods of the subscriptions of the application in which the
	// account holds a seat in the organization (usually one; more across renewals).
	Seats []SeatPeriod
}

// SeatPeriod is when one held seat grants access: from StartsAt, until EndsAt.
type SeatPeriod struct{ StartsAt, EndsAt time.Time }

// Live reports whether the period covers t (the start included, the end not).
func (p SeatPeriod) Live(t time.Time) bool { return !t.Before(p.StartsAt) && t.Before(p.EndsAt) }

// Decide turns the facts into the answer at now: the first reason that denies, in
// the order a person would fix them.
func (f EntitlementFacts) Decide(now time.Time) (allowed bool, reason string) {
	switch {
	case !f.Found, f.MemberState == "", f.MemberState == MemberInvited:
		return false, ReasonNotMember
	case f.AccountState == AccountDisabled:
		return false, ReasonAccountDisabled
	case f.MemberState == MemberDeactivated:
		return false, ReasonDeactivated
	case len(f.Seats) == 0:
		return false, ReasonNoSeat
	}
	for _, p := range f.Seats {
		if p.Live(now) {
			return true, ReasonOK
		}
	}
	return false, ReasonSubscriptionInactive
}

// AppActor is an application authenticated by one of its API keys.
type AppActor struct {
	Key         ApplicationKey
	Application Application
}

// AuthenticateApplication resolves an application API key. An unknown or revoked key
// is EUNAUTHENTICATED.
func (s *Service) AuthenticateApplication(ctx context.Context, token string) (AppActor, error) {
	if !IsApplicationKey(token) || len(token) > 100 {
		return AppActor{}, Errorf(EUNAUTHENTICATED, "invalid or revoked application key")
	}
	hash := TokenHash(token)
	epoch := s.checks.epoch()
	k, hit := s.checks.key(epoch, string(hash))
	if !hit {
		var act AppActor
		err := s.store.Read(ctx, func(tx Tx) error {
			var err error
			act.Key, act.Application, err = tx.ApplicationKeyByHash(ctx, hash)
			return err
		})
		if ErrorCode(err) == ENOTFOUND {
			return AppActor{}, Errorf(EUNAUTHENTICATED, "invalid or revoked application key")
		}
		if err != nil {
			return AppActor{}, err
		}
		k = s.checks.putKey(epoch, string(hash), act)
	}
	// last_used_at is kept to the minute: one write a minute per key, not one per check
	// (a write that leaves the cache alone: see sqlstore's Write).
	now := s.now()
	if !k.touchDue(now) {
		return k.actor, nil
	}
	act := k.actor
	act.Key.LastUsedAt = now
	return act, s.store.Write(ctx, func(tx Tx) error { return tx.TouchApplicationKey(ctx, act.Key.ID, now) })
}

// keyTouchEvery is how stale an application key's last_used_at may get.
const keyTouchEvery = time.Minute

// Check answers whether an account may use the calling application in an
// organization right now. The facts come from memory while the store vouches that
// nothing changed them (see CacheEpoch), else from one indexed query; either way a
// change is seen by every Roster process as soon as it commits. application, when
// given, must be the caller's own (id or key): an application asks only about itself.
func (s *Service) Check(ctx context.Context, app AppActor, orgRef, accountID, application string) (allowed bool, reason string, err error) {
	var v Validation
	if orgRef == "" {
		v.Add("organization", "is required")
	}
	if accountID == "" {
		v.Add("account", "is required")
	}
	if err := v.Err(); err != nil {
		return false, "", err
	}
	if application != "" && application != app.Application.Key && application != app.Application.ID {
		return false, "", &Error{Code: EFORBIDDEN, Message: "an application key checks its own application only",
			Fields: []FieldError{{Field: "application", Message: "is not this key's application"}}}
	}
	epoch := s.checks.epoch()
	key := s.checks.factsKey(orgRef, accountID, app.Application.ID)
	var seats [cachedPeriods]SeatPeriod
	if f, hit := s.checks.getFacts(epoch, key, &seats); hit {
		allowed, reason = f.Decide(s.now())
		return allowed, reason, nil
	}
	f, err := s.readFacts(ctx, orgRef, accountID, app.Application.ID)
	if err != nil {
		return false, "", err
	}
	s.checks.putFacts(epoch, key, f)
	allowed, reason = f.Decide(s.now())
	return allowed, reason, nil
}

// MaxCheckBatch is how many questions one batch check may ask (API.md).
const MaxCheckBatch = 100

// CheckQuestion is one question of a batch check: may Account use the application in
// Organization now? Application, when given, must be the caller's own.
type CheckQuestion struct{ Organization, Account, Application string }

// CheckAnswer is the answer to one CheckQuestion, by the rule of Check.
type CheckAnswer struct {
	Allowed bool
	Reason  string
}

// CheckBatch answers up to MaxCheckBatch questions at once, in their order, each as
// Check would. The answers kept in memory are used as Check uses them; the others are
// read in one read transaction. A question about another application refuses the
// batch (EFORBIDDEN), before any question is validated; a question without its
// organization or account refuses it too (EINVALID), naming items[i] and the field.
func (s *Service) CheckBatch(ctx context.Context, app AppActor, qs []CheckQuestion) ([]CheckAnswer, error) {
	var forbidden []FieldError
	for i, q := range qs {
		if q.Application != "" && q.Application != app.Application.Key && q.Application != app.Application.ID {
			forbidden = append(forbidden, FieldError{Field: fmt.Sprintf("items[%d].application", i),
				Message: "is not this key's application"})
		}
	}
	if len(forbidden) > 0 {
		return nil, &Error{Code: EFORBIDDEN, Message: "an application key checks its own application only", Fields: forbidden}
	}
	var v Validation
	switch {
	case len(qs) == 0:
		v.Add("items", "must hold at least one question")
	case len(qs) > MaxCheckBatch:
		v.Add("items", fmt.Sprintf("may hold at most %d questions; split them into several requests", MaxCheckBatch))
	}
	for i, q := range qs {
		if q.Organization == "" {
			v.Add(fmt.Sprintf("items[%d].organization", i), "is required")
		}
		if q.Account == "" {
			v.Add(fmt.Sprintf("items[%d].account", i), "is required")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	epoch := s.checks.epoch()
	now := s.now()
	answers := make([]CheckAnswer, len(qs))
	var missed []int
	var seats [cachedPeriods]SeatPeriod
	for i, q := range qs {
		key := s.checks.factsKey(q.Organization, q.Account, app.Application.ID)
		if f, hit := s.checks.getFacts(epoch, key, &seats); hit {
			answers[i].Allowed, answers[i].Reason = f.Decide(now)
			continue
		}
		missed = append(missed, i)
	}
	if len(missed) == 0 {
		return answers, nil
	}
	facts := make([]EntitlementFacts, len(missed))
	err := s.store.Read(ctx, func(tx Tx) error {
		for j, i := range missed {
			var err error
			if facts[j], err = tx.Entitlement(ctx, qs[i].Organization, qs[i].Account, app.Application.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for j, i := range missed {
		s.checks.putFacts(epoch, s.checks.factsKey(qs[i].Organization, qs[i].Account, app.Application.ID), facts[j])
		answers[i].Allowed, answers[i].Reason = facts[j].Decide(now)
	}
	return answers, nil
}

// readFacts reads the entitlement facts from the store. (Apart from Check, so that
// a check answered from memory allocates nothing for them.)
func (s *Service) readFacts(ctx context.Context, orgRef, accountID, applicationID string) (f EntitlementFacts, err error) {
	err = s.store.Read(ctx, func(tx Tx) error {
		f, err = tx.Entitlement(ctx, orgRef, accountID, applicationID)
		return err
	})
	return f, err
}

// Entitlement is one organization where an account may use an application now.
type Entitlement struct {
	Organization   Organization
	ApplicationKey string
	SubscriptionID string
	EndsAt         time.Time
}

// HeldSeat is one seat an account holds, with what decides whether it grants access.
type HeldSeat struct {
	Organization Organization
	MemberState  MemberState
	AccountState AccountState
	Subscription Subscription
}

// FindEntitlements lists where the account may use the calling application now,
// by the same rule as Check: an active account, an active membership and a seat of
// a subscription live now; one entry per organization, its subscription lasting
// longest.
func (s *Service) FindEntitlements(ctx context.Context, app AppActor, accountID string) ([]Entitlement, error) {
	var seats []HeldSeat
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		seats, err = tx.SeatsOfAccount(ctx, accountID, app.Application.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []Entitlement{}
	index := map[string]int{}
	for _, h := range seats {
		f := EntitlementFacts{Found: true, AccountState: h.AccountState, MemberState: h.MemberState,
			Seats: []SeatPeriod{{StartsAt: h.Subscription.StartsAt, EndsAt: h.Subscription.EndsAt}}}
		if ok, _ := f.Decide(now); !ok {
			continue
		}
		e := Entitlement{Organization: h.Organization, ApplicationKey: h.Subscription.ApplicationKey,
			SubscriptionID: h.Subscription.ID, EndsAt: h.Subscription.EndsAt}
		if i, seen := index[h.Organization.ID]; !seen {
			index[h.Organization.ID] = len(out)
			out = append(out, e)
		} else if e.EndsAt.After(out[i].EndsAt) {
			out[i] = e
		}
	}
	return out, nil
}
