package account

import (
	"context"
)

// seatScope is what the seat changes of one request share: the organization with
// the actor's permissions there, the subscription, and its application's name,
// read once for all the notices of a bulk change.
type seatScope struct {
	access
	sub     Subscription
	appName string
}

// applicationName returns the name of the subscription's application.
func (sc *seatScope) applicationName(ctx context.Context, tx Tx) (string, error) {
	if sc.appName == "" {
		app, err := tx.Application(ctx, sc.sub.ApplicationID)
		if err != nil {
			return "", err
		}
		sc.appName = app.Name
	}
	return sc.appName, nil
}

// seatTx resolves, for a seat change, the organization (the actor needs seats.assign
// there) and the subscription, which must be the organization's.
func (s *Service) seatTx(ctx context.Context, tx Tx, actor Actor, orgRef, subID string) (*seatScope, error) {
	a, err := s.authorize(ctx, tx, actor, orgRef, PermSeatsAssign)
	if err != nil {
		return nil, err
	}
	sub, err := tx.Subscription(ctx, a.org.ID, subID)
	if err != nil {
		return nil, notFound(err, "subscription")
	}
	return &seatScope{access: a, sub: sub}, nil
}

// AssignSeat gives a member a seat of a subscription. Assigning a seat the member
// holds already changes nothing. Needs seats.assign. Errors: ENOTFOUND (no such
// member or subscription), ECONFLICT (the subscription has expired), EQUOTAEXCEEDED.
func (s *Service) AssignSeat(ctx context.Context, actor Actor, orgRef, subID, accountID string) (org Organization, sub Subscription, err error) {
	defer wrap(&err, "AssignSeat(%s, %s, %s)", orgRef, subID, accountID)
	err = s.store.Write(ctx, func(tx Tx) error {
		sc, err := s.seatTx(ctx, tx, actor, orgRef, subID)
		if err != nil {
			return err
		}
		org = sc.org
		if err := s.assign(ctx, tx, actor, sc, "account", accountID, false); err != nil {
			return err
		}
		sub, err = tx.Subscription(ctx, sc.org.ID, subID)
		return err
	})
	return org, sub, err
}

// assign gives one seat, audited, and unless quiet emails the member about it. The
// store refuses a non-member (ENOTFOUND; the subscription is known to be the
// organization's) and a seat beyond the quota.
func (s *Service) assign(ctx context.Context, tx Tx, actor Actor, sc *seatScope, field, accountID string, quiet bool) error {
	sub := sc.sub
	if sub.State(s.now()) == SubscriptionExpired {
		return Errorf(ECONFLICT, "the subscription ended on %s; assign seats of its renewal", sub.EndsAt.Format("2006-01-02"))
	}
	// The name is read first: after a refused seat PostgreSQL's transaction reads
	// nothing more, and a full quota is told by the application's name.
	name, nerr := sc.applicationName(ctx, tx)
	if nerr != nil {
		return nerr
	}
	added, err := tx.AssignSeat(ctx, sc.org.ID, sub.ID, accountID, s.now())
	switch ErrorCode(err) {
	case ENOTFOUND:
		return &Error{Code: ENOTFOUND, Message: "only members of the organization can hold a seat",
			Fields: []FieldError{{Field: field, Message: "is not a member of this organization"}}}
	case EQUOTAEXCEEDED:
		return &Error{Code: EQUOTAEXCEEDED, Message: "all " + itoa(sub.Seats) + " seats of " + name + " are taken; request more seats",
			Fields: []FieldError{{Field: field, Message: "no seat left"}}}
	}
	if err != nil || !added {
		return err
	}
	if !quiet {
		if err := s.seatNotice(ctx, tx, actor, sc, accountID, NoticeSeatAssigned); err != nil {
			return err
		}
	}
	return s.audit(ctx, tx, actor, sc.org.ID, AuditSeatAssigned, "account", accountID, nil,
		map[string]any{"subscription": sub.ID, "application": sub.ApplicationKey})
}

// seatNotice emails a member that they got or lost a seat of the scope's application.
func (s *Service) seatNotice(ctx context.Context, tx Tx, actor Actor, sc *seatScope, accountID, kind string) error {
	if s.renderer == nil {
		return nil
	}
	// An invitee hears of their seats in the invitation, not before they joined.
	if ms, err := tx.Membership(ctx, sc.org.ID, accountID); err != nil || ms.State == MemberInvited {
		return err
	}
	acct, err := tx.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	n := s.notice(kind, sc.org, actor, Member{Account: acct})
	if n.Application, err = sc.applicationName(ctx, tx); err != nil {
		return err
	}
	return s.notify(ctx, tx, sc.org.ID, n)
}

// UnassignSeat takes a member's seat back. Needs seats.assign. Errors: ENOTFOUND
// (no such subscription, or the account holds no seat of it).
func (s *Service) UnassignSeat(ctx context.Context, actor Actor, orgRef, subID, accountID string) (err error) {
	defer wrap(&err, "UnassignSeat(%s, %s, %s)", orgRef, subID, accountID)
	return s.store.Write(ctx, func(tx Tx) error {
		sc, err := s.seatTx(ctx, tx, actor, orgRef, subID)
		if err != nil {
			return err
		}
		return s.unassign(ctx, tx, actor, sc, "account", accountID)
	})
}

func (s *Service) unassign(ctx context.Context, tx Tx, actor Actor, sc *seatScope, field, accountID string) error {
	sub := sc.sub
	removed, err := tx.UnassignSeat(ctx, sc.org.ID, sub.ID, accountID)
	if err != nil {
		return err
	}
	if !removed {
		return &Error{Code: ENOTFOUND, Message: "the account holds no seat of this subscription",
			Fields: []FieldError{{Field: field, Message: "holds no seat of this subscription"}}}
	}
	// A seat of an entry that another entry of the application renews is no loss of
	// access: the member still holds the renewal's seat, and hears nothing.
	keeps, err := s.keepsAccess(ctx, tx, sc, accountID)
	if err != nil {
		return err
	}
	if !keeps {
		if err := s.seatNotice(ctx, tx, actor, sc, accountID, NoticeSeatUnassigned); err != nil {
			return err
		}
	}
	return s.audit(ctx, tx, actor, sc.org.ID, AuditSeatUnassigned, "account", accountID,
		map[string]any{"subscription": sub.ID, "application": sub.ApplicationKey}, nil)
}

// SeatChanges assigns and unassigns several seats of one subscription.
type SeatChanges struct {
	Assign   []string
	Unassign []string
}

// UpdateSeats applies SeatChanges all or nothing, in one transaction: the
// unassignments first (freeing seats), then the assignments. Any refusal rolls back
// every change; its error names the entry (assign[3]). Needs seats.assign.
func (s *Service) UpdateSeats(ctx context.Context, actor Actor, orgRef, subID string, in SeatChanges) (org Organization, sub Subscription, err error) {
	defer wrap(&err, "UpdateSeats(%s, %s)", orgRef, subID)
	if err = s.permitted(ctx, actor, orgRef, PermSeatsAssign); err != nil {
		return org, sub, err
	}
	var v Validation
	if len(in.Assign)+len(in.Unassign) == 0 {
		v.Add("assign", "give at least one account to assign or unassign")
	}
	if len(in.Assign) > maxBulk {
		v.Add("assign", "at most 500 accounts at once")
	}
	if len(in.Unassign) > maxBulk {
		v.Add("unassign", "at most 500 accounts at once")
	}
	seen := map[string]string{}
	for _, list := range []struct {
		field string
		ids   []string
	}{{"unassign", in.Unassign}, {"assign", in.Assign}} {
		for i, id := range list.ids {
			f := fieldIndex(list.field, i)
			if prev, dup := seen[id]; dup {
				v.Add(f, "repeats "+prev)
			}
			seen[id] = f
		}
	}
	if err := v.Err(); err != nil {
		return org, sub, err
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		sc, err := s.seatTx(ctx, tx, actor, orgRef, subID)
		if err != nil {
			return err
		}
		org = sc.org
		for i, id := range in.Unassign {
			if err := s.unassign(ctx, tx, actor, sc, fieldIndex("unassign", i), id); err != nil {
				return err
			}
		}
		for i, id := range in.Assign {
			if err := s.assign(ctx, tx, actor, sc, fieldIndex("assign", i), id, false); err != nil {
				return err
			}
		}
		sub, err = tx.Subscription(ctx, sc.org.ID, subID)
		return err
	})
	return org, sub, err
}

// seatsForApplications resolves AddMember's application keys to the subscription
// whose seat each new member gets: the active subscription of that application with
// a seat left and the latest end. Errors name applications[i].
func (s *Service) seatsForApplications(ctx context.Context, tx Tx, orgID string, keys []string) ([]Subscription, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	subs, err := tx.Subscriptions(ctx, orgID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var v Validation
	var out []Subscription
	for i, key := range keys {
		var best *Subscription
		known, active := false, false
		for j := range subs {
			sb := &subs[j]
			if sb.ApplicationKey != key {
				continue
			}
			known = true
			if sb.State(now) != SubscriptionActive {
				continue
			}
			active = true
			if sb.Available() > 0 && (best == nil || sb.EndsAt.After(best.EndsAt)) {
				best = sb
			}
		}
		switch {
		case !known:
			v.Add(fieldIndex("applications", i), "the organization has no subscription of "+quote(key))
		case !active:
			v.Add(fieldIndex("applications", i), "the organization's subscription of "+quote(key)+" is not active")
		case best == nil:
			return nil, &Error{Code: EQUOTAEXCEEDED, Message: "no seat of " + appName(ctx, tx, key) + " is left; request more seats",
				Fields: []FieldError{{Field: fieldIndex("applications", i), Message: "no seat left"}}}
		default:
			out = append(out, *best)
		}
	}
	return out, v.Err()
}

// appName is the name of the application with key, for a message a person reads;
// the key itself if the application cannot be read.
func appName(ctx context.Context, tx Tx, key string) string {
	if a, err := tx.Application(ctx, key); err == nil && a.Name != "" {
		return a.Name
	}
	return key
}

// keepsAccess reports whether accountID still holds a seat of the scope's
// application in the scope's organization under another subscription in force
// now: the access an unassigned seat gave goes on.
func (s *Service) keepsAccess(ctx context.Context, tx Tx, sc *seatScope, accountID string) (bool, error) {
	held, err := tx.SeatsOfAccount(ctx, accountID, sc.sub.ApplicationID)
	if err != nil {
		return false, err
	}
	now := s.now()
	for _, h := range held {
		if h.Organization.ID == sc.org.ID && h.Subscription.ID != sc.sub.ID && h.Subscription.State(now) == SubscriptionActive {
			return true, nil
		}
	}
	return false, nil
}
