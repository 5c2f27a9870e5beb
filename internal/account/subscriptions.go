package account

import (
	"context"
	"time"
)

// maxSeats bounds a quota, so that a typo cannot ask for billions of seats.
const maxSeats = 10_000_000

// SubscriptionInput creates or renews a subscription.
type SubscriptionInput struct {
	Application string // id or key
	Seats       *int
	StartsAt    time.Time
	EndsAt      time.Time
}

// canManageSubscriptions: quotas are the vendor's to sell, so only an operator, or a
// manager of the organization's partner, sets them; the organization's own admins
// ask for seats instead.
func (s *Service) canManageSubscriptions(ctx context.Context, tx Tx, actor Actor, a access) error {
	if actor.Account.Operator {
		return nil
	}
	if a.org.ParentID != "" {
		perms, _, err := s.memberPermissions(ctx, tx, a.org.ParentID, actor.Account.ID)
		if err != nil {
			return err
		}
		if perms.Has(PermOrganizationManage) {
			return nil
		}
	}
	return Errorf(EFORBIDDEN, "only an operator or the partner's managers change subscriptions")
}

func checkPeriod(v *Validation, starts, ends time.Time) {
	if starts.IsZero() {
		v.Add("starts_at", "is required")
	}
	if ends.IsZero() {
		v.Add("ends_at", "is required")
	}
	if !starts.IsZero() && !ends.IsZero() && !ends.After(starts) {
		v.Add("ends_at", "must be after starts_at")
	}
}

func checkSeats(v *Validation, seats *int) {
	switch {
	case seats == nil:
		v.Add("seats", "is required")
	case *seats < 0 || *seats > maxSeats:
		v.Add("seats", "must be between 0 and 10000000")
	}
}

// CreateSubscription gives an organization a seat quota of an application over a
// period. Errors: EINVALID, EFORBIDDEN, ENOTFOUND.
func (s *Service) CreateSubscription(ctx context.Context, actor Actor, orgRef string, in SubscriptionInput) (org Organization, sub Subscription, err error) {
	defer wrap(&err, "CreateSubscription(%s)", orgRef)
	err = s.readIn(ctx, actor, orgRef, "", func(tx Tx, a access) error {
		return s.canManageSubscriptions(ctx, tx, actor, a)
	})
	if err != nil {
		return org, sub, err
	}
	var v Validation
	if in.Application == "" {
		v.Add("application", "is required")
	}
	checkSeats(&v, in.Seats)
	checkPeriod(&v, in.StartsAt, in.EndsAt)
	if err := v.Err(); err != nil {
		return org, sub, err
	}
	err = s.writeIn(ctx, actor, orgRef, "", func(tx Tx, a access) error {
		org = a.org
		if err := s.canManageSubscriptions(ctx, tx, actor, a); err != nil {
			return err
		}
		if a.org.Kind != KindOrganization {
			return Invalid("organization", "a partner has no subscriptions of its own; create them for its organizations")
		}
		app, err := tx.Application(ctx, in.Application)
		if ErrorCode(err) == ENOTFOUND {
			return Invalid("application", "unknown application "+quote(in.Application))
		} else if err != nil {
			return err
		}
		now := s.now()
		sub = Subscription{ID: s.ids.New(), OrgID: a.org.ID, ApplicationID: app.ID, ApplicationKey: app.Key,
			Seats: *in.Seats, StartsAt: in.StartsAt.UTC().Truncate(time.Microsecond), EndsAt: in.EndsAt.UTC().Truncate(time.Microsecond),
			CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateSubscription(ctx, sub); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, a.org.ID, AuditSubscriptionCreated, "subscription", sub.ID, nil, subscriptionState(sub))
	})
	return org, sub, err
}

// FindSubscriptions lists an organization's subscriptions with their counts. Needs
// members.read.
func (s *Service) FindSubscriptions(ctx context.Context, actor Actor, orgRef string) (org Organization, subs []Subscription, err error) {
	err = s.readIn(ctx, actor, orgRef, PermMembersRead, func(tx Tx, a access) error {
		org = a.org
		subs, err = tx.Subscriptions(ctx, a.org.ID)
		return err
	})
	return org, subs, err
}

// FindSubscription returns one subscription of the organization. Needs members.read.
func (s *Service) FindSubscription(ctx context.Context, actor Actor, orgRef, id string) (org Organization, sub Subscription, err error) {
	err = s.readIn(ctx, actor, orgRef, PermMembersRead, func(tx Tx, a access) error {
		org = a.org
		sub, err = tx.Subscription(ctx, a.org.ID, id)
		return notFound(err, "subscription")
	})
	return org, sub, err
}

// UpdateSubscriptionInput changes a quota or an end date; nil fields stay.
type UpdateSubscriptionInput struct {
	Seats  *int
	EndsAt *time.Time
}

// UpdateSubscription changes the quota or the end. A quota below the seats assigned
// is ECONFLICT: unassign seats first.
func (s *Service) UpdateSubscription(ctx context.Context, actor Actor, orgRef, id string, in UpdateSubscriptionInput) (org Organization, sub Subscription, err error) {
	defer wrap(&err, "UpdateSubscription(%s, %s)", orgRef, id)
	err = s.store.Write(ctx, func(tx Tx) error {
		a, cur, err := s.managedSubscription(ctx, tx, actor, orgRef, id)
		if err != nil {
			return err
		}
		org, sub = a.org, cur
		before := subscriptionState(sub)
		var v Validation
		if in.Seats != nil {
			checkSeats(&v, in.Seats)
			sub.Seats = *in.Seats
		}
		if in.EndsAt != nil {
			sub.EndsAt = in.EndsAt.UTC().Truncate(time.Microsecond)
			checkPeriod(&v, sub.StartsAt, sub.EndsAt)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if sub.Seats < sub.Assigned {
			return &Error{Code: ECONFLICT, Message: "the quota cannot go below the seats assigned; unassign seats first",
				Fields: []FieldError{{Field: "seats", Message: "is below the " + itoa(sub.Assigned) + " seats assigned"}}}
		}
		b, after := diff(before, subscriptionState(sub))
		if len(after) == 0 {
			return nil
		}
		sub.UpdatedAt = s.now()
		if err := tx.UpdateSubscription(ctx, sub); err != nil {
			if ErrorCode(err) == EQUOTAEXCEEDED { // seats taken meanwhile
				return Errorf(ECONFLICT, "the quota cannot go below the seats assigned; unassign seats first")
			}
			return err
		}
		return s.audit(ctx, tx, actor, a.org.ID, AuditSubscriptionUpdated, "subscription", sub.ID, b, after)
	})
	return org, sub, err
}

// RenewSubscription creates the next entry of a subscription: a new quota and
// period, with every seat of the old entry copied in the same transaction. The two
// are independent afterwards. A quota below the old entry's assigned seats is
// ECONFLICT.
func (s *Service) RenewSubscription(ctx context.Context, actor Actor, orgRef, id string, in SubscriptionInput) (org Organization, sub Subscription, err error) {
	defer wrap(&err, "RenewSubscription(%s, %s)", orgRef, id)
	err = s.store.Read(ctx, func(tx Tx) error {
		_, _, err := s.managedSubscription(ctx, tx, actor, orgRef, id)
		return err
	})
	if err != nil {
		return org, sub, err
	}
	var v Validation
	checkSeats(&v, in.Seats)
	checkPeriod(&v, in.StartsAt, in.EndsAt)
	if err := v.Err(); err != nil {
		return org, sub, err
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		a, old, err := s.managedSubscription(ctx, tx, actor, orgRef, id)
		if err != nil {
			return err
		}
		org = a.org
		if err := notRenewed(ctx, tx, a.org.ID, old.ID); err != nil {
			return err
		}
		if *in.Seats < old.Assigned {
			return &Error{Code: ECONFLICT, Message: "the renewal's quota is below the seats to copy",
				Fields: []FieldError{{Field: "seats", Message: "must be at least the " + itoa(old.Assigned) + " seats assigned"}}}
		}
		now := s.now()
		sub = Subscription{ID: s.ids.New(), OrgID: a.org.ID, ApplicationID: old.ApplicationID, ApplicationKey: old.ApplicationKey,
			Seats: *in.Seats, StartsAt: in.StartsAt.UTC().Truncate(time.Microsecond), EndsAt: in.EndsAt.UTC().Truncate(time.Microsecond),
			RenewedFrom: old.ID, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateSubscription(ctx, sub); err != nil {
			if ErrorCode(err) == ECONFLICT { // renewed meanwhile (the store's unique renewed_from)
				return errRenewed()
			}
			return err
		}
		n, err := tx.CopySeats(ctx, a.org.ID, old.ID, sub.ID, now)
		if err != nil {
			return err
		}
		sub.Assigned = n
		after := subscriptionState(sub)
		after["renewed_from"], after["seats_copied"] = old.ID, n
		return s.audit(ctx, tx, actor, a.org.ID, AuditSubscriptionRenewed, "subscription", sub.ID, nil, after)
	})
	return org, sub, err
}

// errRenewed is the answer to a second renewal of one subscription.
func errRenewed() error {
	return Errorf(ECONFLICT, "the subscription was already renewed; renew its renewal instead")
}

// notRenewed is ECONFLICT when the subscription id of orgID already has a renewal:
// a subscription is renewed at most once, so that the same request sent twice (a
// retry, a double click) does not double the seats. The store's unique index on
// renewed_from holds the rule against renewals of other processes at the same
// moment.
func notRenewed(ctx context.Context, tx Tx, orgID, id string) error {
	subs, err := tx.Subscriptions(ctx, orgID)
	if err != nil {
		return err
	}
	for _, s := range subs {
		if s.RenewedFrom == id {
			return errRenewed()
		}
	}
	return nil
}

// managedSubscription resolves a subscription whose quota or period the actor may
// change, with the organization's row locked: quota changes of one organization
// queue there (PostgreSQL), so that concurrent changes and seat-request approvals do
// not overwrite each other.
func (s *Service) managedSubscription(ctx context.Context, tx Tx, actor Actor, orgRef, id string) (access, Subscription, error) {
	a, err := s.authorize(ctx, tx, actor, orgRef, "")
	if err != nil {
		return a, Subscription{}, err
	}
	if err := s.canManageSubscriptions(ctx, tx, actor, a); err != nil {
		return a, Subscription{}, err
	}
	if err := tx.LockOrganization(ctx, a.org.ID); err != nil {
		return a, Subscription{}, err
	}
	sub, err := tx.Subscription(ctx, a.org.ID, id)
	return a, sub, notFound(err, "subscription")
}

func subscriptionState(s Subscription) map[string]any {
	return map[string]any{"application": s.ApplicationKey, "seats": s.Seats,
		"starts_at": s.StartsAt.Format(time.RFC3339), "ends_at": s.EndsAt.Format(time.RFC3339)}
}
