package account

import (
	"context"
	"strings"
	"time"
)

// SeatRequestStatus is the life cycle of a seat request.
type SeatRequestStatus string

const (
	SeatRequestPending  SeatRequestStatus = "pending"
	SeatRequestApproved SeatRequestStatus = "approved"
	SeatRequestDenied   SeatRequestStatus = "denied"
)

// SeatRequest is an organization asking the operator for more seats.
type SeatRequest struct {
	ID             string
	OrgID          string
	Organization   Organization // filled by reads
	ApplicationID  string
	ApplicationKey string // filled by reads
	Quantity       int
	Note           string
	Status         SeatRequestStatus
	RequestedBy    string
	RequesterEmail string
	DecidedBy      string
	ApprovedSeats  int
	SubscriptionID string // the subscription whose quota an approval raised
	CreatedAt      time.Time
	DecidedAt      time.Time
}

// SeatRequestFilter selects seat requests, newest first.
type SeatRequestFilter struct {
	OrgID  string // empty: every organization
	Status SeatRequestStatus
	Before string // keyset: id < Before
	Limit  int
}

// maxNoteLen bounds a request's note.
const maxNoteLen = 2000

// SeatRequestInput asks for more seats.
type SeatRequestInput struct {
	Application string
	Quantity    int
	Note        string
}

// RequestSeats records an organization's request for more seats of an application
// it subscribes to. Needs seats.request. Errors: EINVALID, EFORBIDDEN, ENOTFOUND.
func (s *Service) RequestSeats(ctx context.Context, actor Actor, orgRef string, in SeatRequestInput) (r SeatRequest, err error) {
	defer wrap(&err, "RequestSeats(%s)", orgRef)
	if err = s.permitted(ctx, actor, orgRef, PermSeatsRequest); err != nil {
		return r, err
	}
	var v Validation
	if strings.TrimSpace(in.Application) == "" {
		v.Add("application", "is required")
	}
	if in.Quantity < 1 || in.Quantity > maxSeats {
		v.Add("quantity", "must be between 1 and 10000000")
	}
	note := strings.TrimSpace(in.Note)
	if len(note) > maxNoteLen {
		v.Add("note", "must be at most 2000 bytes")
	}
	if err := v.Err(); err != nil {
		return r, err
	}
	err = s.writeIn(ctx, actor, orgRef, PermSeatsRequest, func(tx Tx, a access) error {
		r, err = s.fileSeatRequest(ctx, tx, actor, a, "application", SeatRequestInput{Application: in.Application, Quantity: in.Quantity, Note: note})
		return err
	})
	return r, err
}

// fileSeatRequest records, in tx, a's organization's request for more seats of an
// application (in validated but for the application, which field names), tells the
// operators and audits it. Errors: EINVALID naming field (an unknown application).
func (s *Service) fileSeatRequest(ctx context.Context, tx Tx, actor Actor, a access, field string, in SeatRequestInput) (SeatRequest, error) {
	app, err := tx.Application(ctx, in.Application)
	if ErrorCode(err) == ENOTFOUND {
		return SeatRequest{}, Invalid(field, "unknown application "+quote(in.Application))
	} else if err != nil {
		return SeatRequest{}, err
	}
	r := SeatRequest{ID: s.ids.New(), OrgID: a.org.ID, Organization: a.org, ApplicationID: app.ID, ApplicationKey: app.Key,
		Quantity: in.Quantity, Note: in.Note, Status: SeatRequestPending, RequestedBy: actor.Account.ID,
		RequesterEmail: actor.Account.Email, CreatedAt: s.now()}
	if err := tx.CreateSeatRequest(ctx, r); err != nil {
		return r, err
	}
	// The operators decide: each active one is told, in this transaction (but an
	// operator asking on an organization's behalf, who knows).
	operators, err := tx.ActiveOperators(ctx)
	if err != nil {
		return r, err
	}
	for _, op := range operators {
		if op.ID == actor.Account.ID {
			continue
		}
		n := s.notice(NoticeSeatRequest, a.org, actor, Member{Account: op})
		n.Application, n.Seats, n.Message = app.Name, r.Quantity, in.Note
		n.Link = s.baseURL + "/operator/seat-requests" // the console's Seat requests screen
		if err := s.notify(ctx, tx, a.org.ID, n); err != nil {
			return r, err
		}
	}
	return r, s.audit(ctx, tx, actor, a.org.ID, AuditSeatRequestCreated, "seat_request", r.ID, nil,
		map[string]any{"application": app.Key, "quantity": r.Quantity, "note": in.Note})
}

// SeatRequestQuery pages through seat requests.
type SeatRequestQuery struct {
	Status, Cursor string
	Limit          int
}

// FindSeatRequests lists every organization's seat requests, newest first.
// Operators only.
func (s *Service) FindSeatRequests(ctx context.Context, actor Actor, q SeatRequestQuery) (p Page[SeatRequest], err error) {
	if err := requireOperator(actor, "reviews seat requests"); err != nil {
		return p, err
	}
	return s.findSeatRequests(ctx, "", q)
}

// FindOrganizationSeatRequests lists one organization's seat requests. Needs
// seats.request.
func (s *Service) FindOrganizationSeatRequests(ctx context.Context, actor Actor, orgRef string, q SeatRequestQuery) (p Page[SeatRequest], err error) {
	var orgID string
	err = s.store.Read(ctx, func(tx Tx) error {
		a, err := s.authorize(ctx, tx, actor, orgRef, PermSeatsRequest)
		orgID = a.org.ID
		return err
	})
	if err != nil {
		return p, err
	}
	return s.findSeatRequests(ctx, orgID, q)
}

func (s *Service) findSeatRequests(ctx context.Context, orgID string, q SeatRequestQuery) (p Page[SeatRequest], err error) {
	limit, cur, err := listParams(q.Limit, q.Cursor, "status", q.Status, string(SeatRequestPending), string(SeatRequestApproved), string(SeatRequestDenied))
	if err != nil {
		return p, err
	}
	f := SeatRequestFilter{OrgID: orgID, Status: SeatRequestStatus(q.Status), Before: cur.after, Limit: limit + 1}
	err = s.store.Read(ctx, func(tx Tx) error {
		items, total, err := tx.FindSeatRequests(ctx, f)
		p = pageOf(items, total, limit, func(r SeatRequest) string { return r.ID })
		return err
	})
	return p, err
}

// ApproveSeatRequest raises the quota of the organization's current subscription of
// the application (active, or else the next to start; the latest-ending first) by
// seats (the quantity asked when zero). Operators only. Errors: ENOTFOUND, ECONFLICT
// (decided already, or no subscription to raise), EINVALID.
func (s *Service) ApproveSeatRequest(ctx context.Context, actor Actor, id string, seats int) (r SeatRequest, err error) {
	defer wrap(&err, "ApproveSeatRequest(%s)", id)
	if err := requireOperator(actor, "approves seat requests"); err != nil {
		return r, err
	}
	if seats < 0 || seats > maxSeats {
		return r, Invalid("seats", "must be between 1 and 10000000")
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		if r, err = s.pendingSeatRequest(ctx, tx, id); err != nil {
			return err
		}
		// Quota changes of one organization queue on its row (PostgreSQL), so that an
		// approval and a concurrent PATCH of the quota do not overwrite each other.
		if err := tx.LockOrganization(ctx, r.OrgID); err != nil {
			return err
		}
		seats := seats // the parameter stays as given, should Write run this again
		if seats == 0 {
			seats = r.Quantity
		}
		subs, err := tx.Subscriptions(ctx, r.OrgID)
		if err != nil {
			return err
		}
		now := s.now()
		var target *Subscription
		for i := range subs {
			sb := &subs[i]
			if sb.ApplicationID != r.ApplicationID || sb.State(now) == SubscriptionExpired {
				continue
			}
			if target == nil || rank(*sb, now) > rank(*target, now) {
				target = sb
			}
		}
		if target == nil {
			return Errorf(ECONFLICT, "the organization has no current subscription of %s to raise; create one", r.ApplicationKey)
		}
		before := target.Seats
		target.Seats += seats
		target.UpdatedAt = now
		if target.Seats > maxSeats {
			return Invalid("seats", "would raise the quota above 10000000")
		}
		if err := tx.UpdateSubscription(ctx, *target); err != nil {
			return err
		}
		r.Status, r.ApprovedSeats, r.SubscriptionID = SeatRequestApproved, seats, target.ID
		r.DecidedBy, r.DecidedAt = actor.Account.ID, now
		if err := tx.UpdateSeatRequest(ctx, r); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, actor, r.OrgID, AuditSubscriptionUpdated, "subscription", target.ID,
			map[string]any{"seats": before}, map[string]any{"seats": target.Seats, "seat_request": r.ID}); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, actor, r.OrgID, AuditSeatRequestApproved, "seat_request", r.ID, nil,
			map[string]any{"seats": seats, "subscription": target.ID}); err != nil {
			return err
		}
		return s.notifyRequester(ctx, tx, actor, r, NoticeSeatRequestApproved, seats)
	})
	return r, err
}

// rank orders the subscriptions an approval may raise: active before upcoming, then
// the one that ends last.
func rank(sb Subscription, now time.Time) int64 {
	r := sb.EndsAt.Unix()
	if sb.State(now) == SubscriptionActive {
		r += 1 << 40
	}
	return r
}

// DenySeatRequest closes a request without changing any quota. Operators only.
func (s *Service) DenySeatRequest(ctx context.Context, actor Actor, id string) (r SeatRequest, err error) {
	defer wrap(&err, "DenySeatRequest(%s)", id)
	if err := requireOperator(actor, "denies seat requests"); err != nil {
		return r, err
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		if r, err = s.pendingSeatRequest(ctx, tx, id); err != nil {
			return err
		}
		r.Status, r.DecidedBy, r.DecidedAt = SeatRequestDenied, actor.Account.ID, s.now()
		if err := tx.UpdateSeatRequest(ctx, r); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, actor, r.OrgID, AuditSeatRequestDenied, "seat_request", r.ID, nil, nil); err != nil {
			return err
		}
		return s.notifyRequester(ctx, tx, actor, r, NoticeSeatRequestDenied, r.Quantity)
	})
	return r, err
}

// notifyRequester tells the person who asked for seats what became of the request
// (kind: approved or denied; seats: the seats added, or asked for). Only while they
// are an active member of the organization, which the email is about: someone who
// has left it, or whose account is gone, is not told; nor is an operator who decides
// on their own request.
func (s *Service) notifyRequester(ctx context.Context, tx Tx, actor Actor, r SeatRequest, kind string, seats int) error {
	if r.RequestedBy == actor.Account.ID {
		return nil
	}
	m, err := tx.Membership(ctx, r.OrgID, r.RequestedBy)
	if ErrorCode(err) == ENOTFOUND || (err == nil && m.State != MemberActive) {
		return nil
	} else if err != nil {
		return err
	}
	to, err := tx.AccountByID(ctx, r.RequestedBy)
	if ErrorCode(err) == ENOTFOUND || (err == nil && to.State != AccountActive) {
		return nil
	} else if err != nil {
		return err
	}
	app, err := tx.Application(ctx, r.ApplicationID)
	if err != nil {
		return err
	}
	n := s.notice(kind, r.Organization, actor, Member{Account: to})
	n.Application, n.Seats, n.Message = app.Name, seats, r.Note
	n.Link = s.baseURL + "/o/" + r.Organization.Slug + "/subscriptions" // the console's Subscriptions screen
	return s.notify(ctx, tx, r.OrgID, n)
}

func (s *Service) pendingSeatRequest(ctx context.Context, tx Tx, id string) (SeatRequest, error) {
	r, err := tx.SeatRequest(ctx, id)
	if err != nil {
		return r, notFound(err, "seat request")
	}
	if r.Status != SeatRequestPending {
		return r, Errorf(ECONFLICT, "the request was %s already", r.Status)
	}
	return r, nil
}
