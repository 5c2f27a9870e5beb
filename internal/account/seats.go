package account

import (
	"context"
)

// seatTx resolves, for a seat change, the organization (the actor needs seats.assign
// there) and the subscription, which must be the organization's and not expired.
func (s *Service) seatTx(ctx context.Context, tx Tx, actor Actor, orgRef, subID string) (access, Subscription, error) {
	a, err := s.authorize(ctx, tx, actor, orgRef, PermSeatsAssign)
	if err != nil {
		return a, Subscription{}, err
	}
	sub, err := tx.Subscription(ctx, a.org.ID, subID)
	if err != nil {
		return a, sub, notFound(err, "subscription")
	}
	return a, sub, nil
}

// AssignSeat gives a member a seat of a subscription. Assigning a seat the member
// holds already changes nothing. Needs seats.assign. Errors: ENOTFOUND (no such
// member or subscription), ECONFLICT (the subscription has expired), EQUOTAEXCEEDED.
func (s *Service) AssignSeat(ctx context.Context, actor Actor, orgRef, subID, accountID string) (org Organization, sub Subscription, err error) {
	defer wrap(&err, "AssignSeat(%s, %s, %s)", orgRef, subID, accountID)
	err = s.store.Write(ctx, func(tx Tx) error {
		a, sb, err := s.seatTx(ctx, tx, actor, orgRef, subID)
		if err != nil {
			return err
		}
		org = a.org
		if err := s.assign(ctx, tx, actor, a, sb, "account", accountID, false); err != nil {
			return err
		}
		sub, err = tx.Subscription(ctx, a.org.ID, subID)
		return err
	})
	return org, sub, err
}

// assign gives one seat, audited, and unless quiet emails the member about it.
func (s *Service) assign(ctx context.Context, tx Tx, actor Actor, a access, sub Subscription, field, accountID string, quiet bool) error {
	if sub.State(s.now()) == SubscriptionExpired {
		return Errorf(ECONFLICT, "the subscription ended on %s; assign seats of its renewal", sub.EndsAt.Format("2006-01-02"))
	}
	if _, err := tx.Membership(ctx, a.org.ID, accountID); err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return &Error{Code: ENOTFOUND, Message: "only members of the organization can hold a seat",
				Fields: []FieldError{{Field: field, Message: "is not a member of this organization"}}}
		}
		return err
	}
	added, err := tx.AssignSeat(ctx, a.org.ID, sub.ID, accountID, s.now())
	if ErrorCode(err) == EQUOTAEXCEEDED {
		return &Error{Code: EQUOTAEXCEEDED, Message: "all " + itoa(sub.Seats) + " seats of " + sub.ApplicationKey + " are taken; request more seats",
			Fields: []FieldError{{Field: field, Message: "no seat left"}}}
	}
	if err != nil || !added {
		return err
	}
	if !quiet {
		if err := s.seatNotice(ctx, tx, actor, a, sub, accountID, NoticeSeatAssigned); err != nil {
			return err
		}
	}
	return s.audit(ctx, tx, actor, a.org.ID, "seat.assigned", "account", accountID, nil,
		map[string]any{"subscription": sub.ID, "application": sub.ApplicationKey})
}

// seatNotice emails a member that they got or lost a seat of sub's application.
func (s *Service) seatNotice(ctx context.Context, tx Tx, actor Actor, a access, sub Subscription, accountID, kind string) error {
	if s.renderer == nil {
		return nil
	}
	acct, err := tx.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	app, err := tx.Application(ctx, sub.ApplicationID)
	if err != nil {
		return err
	}
	n := s.notice(kind, a.org, actor, Member{Account: acct})
	n.Application = app.Name
	return s.notify(ctx, tx, a.org.ID, n)
}

// UnassignSeat takes a member's seat back. Needs seats.assign. Errors: ENOTFOUND
// (no such subscription, or the account holds no seat of it).
func (s *Service) UnassignSeat(ctx context.Context, actor Actor, orgRef, subID, accountID string) (err error) {
	defer wrap(&err, "UnassignSeat(%s, %s, %s)", orgRef, subID, accountID)
	return s.store.Write(ctx, func(tx Tx) error {
		a, sub, err := s.seatTx(ctx, tx, actor, orgRef, subID)
		if err != nil {
			return err
		}
		return s.unassign(ctx, tx, actor, a, sub, "account", accountID)
	})
}

func (s *Service) unassign(ctx context.Context, tx Tx, actor Actor, a access, sub Subscription, field, accountID string) error {
	removed, err := tx.UnassignSeat(ctx, a.org.ID, sub.ID, accountID)
	if err != nil {
		return err
	}
	if !removed {
		return &Error{Code: ENOTFOUND, Message: "the account holds no seat of this subscription",
			Fields: []FieldError{{Field: field, Message: "holds no seat of this subscription"}}}
	}
	if err := s.seatNotice(ctx, tx, actor, a, sub, accountID, NoticeSeatUnassigned); err != nil {
		return err
	}
	return s.audit(ctx, tx, actor, a.org.ID, "seat.unassigned", "account", accountID,
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
		a, sb, err := s.seatTx(ctx, tx, actor, orgRef, subID)
		if err != nil {
			return err
		}
		org = a.org
		for i, id := range in.Unassign {
			if err := s.unassign(ctx, tx, actor, a, sb, fieldIndex("unassign", i), id); err != nil {
				return err
			}
		}
		for i, id := range in.Assign {
			if err := s.assign(ctx, tx, actor, a, sb, fieldIndex("assign", i), id, false); err != nil {
				return err
			}
		}
		sub, err = tx.Subscription(ctx, a.org.ID, subID)
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
			return nil, &Error{Code: EQUOTAEXCEEDED, Message: "no seat of " + key + " is left; request more seats",
				Fields: []FieldError{{Field: fieldIndex("applications", i), Message: "no seat left"}}}
		default:
			out = append(out, *best)
		}
	}
	return out, v.Err()
}
