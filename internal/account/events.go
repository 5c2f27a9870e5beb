package account

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EventType names a change event the vendor's applications learn of, as
// "<object>.<what happened>": the catalogue below is every type Roster emits (or, for
// the ones not yet written, reserves). It is API.md's list.
type EventType string

// The event types.
const (
	EventMemberAdded       EventType = "member.added"
	EventMemberUpdated     EventType = "member.updated"
	EventMemberDeactivated EventType = "member.deactivated"
	EventMemberReactivated EventType = "member.reactivated"
	EventMemberRemoved     EventType = "member.removed"

	EventInvitationCreated   EventType = "invitation.created"
	EventInvitationResent    EventType = "invitation.resent"
	EventInvitationAccepted  EventType = "invitation.accepted"
	EventInvitationCancelled EventType = "invitation.cancelled"

	EventSeatAssigned   EventType = "seat.assigned"
	EventSeatUnassigned EventType = "seat.unassigned"

	EventSubscriptionCreated EventType = "subscription.created"
	EventSubscriptionUpdated EventType = "subscription.updated"
	EventSubscriptionRenewed EventType = "subscription.renewed"

	EventOrganizationCreated EventType = "organization.created"
	EventOrganizationUpdated EventType = "organization.updated"
	EventOrganizationDeleted EventType = "organization.deleted"

	EventSeatRequestCreated  EventType = "seat_request.created"
	EventSeatRequestApproved EventType = "seat_request.approved"
	EventSeatRequestDenied   EventType = "seat_request.denied"

	EventJoinRequestCreated  EventType = "join_request.created"
	EventJoinRequestApproved EventType = "join_request.approved"
	EventJoinRequestDenied   EventType = "join_request.denied"
	// The requester withdrew it (beyond API.md's list: POST /api/v1/me/join-requests/{id}/cancel).
	EventJoinRequestCancelled EventType = "join_request.cancelled"

	EventAccountDisabled EventType = "account.disabled"
	// An operator enabled a disabled account again (beyond API.md's list: POST
	// /api/v1/accounts/{account}/enable).
	EventAccountEnabled EventType = "account.enabled"
	EventAccountDeleted EventType = "account.deleted"

	EventDomainVerified EventType = "domain.verified"
	EventDomainRemoved  EventType = "domain.removed"

	EventWebhookTest EventType = "webhook.test"
)

// EventTypes is the catalogue, in API.md's order: what a feed's or a webhook's
// "types" filter may name.
var EventTypes = []EventType{
	EventOrganizationCreated, EventOrganizationUpdated, EventOrganizationDeleted,
	EventMemberAdded, EventMemberUpdated, EventMemberDeactivated, EventMemberReactivated, EventMemberRemoved,
	EventInvitationCreated, EventInvitationResent, EventInvitationAccepted, EventInvitationCancelled,
	EventSeatAssigned, EventSeatUnassigned,
	EventSubscriptionCreated, EventSubscriptionUpdated, EventSubscriptionRenewed,
	EventSeatRequestCreated, EventSeatRequestApproved, EventSeatRequestDenied,
	EventJoinRequestCreated, EventJoinRequestApproved, EventJoinRequestDenied, EventJoinRequestCancelled,
	EventAccountDisabled, EventAccountEnabled, EventAccountDeleted,
	EventDomainVerified, EventDomainRemoved,
	EventWebhookTest,
}

// eventOf is the event each audited action emits, in the same transaction: audit
// writes it (emit), so a use case that audits cannot forget its event. An action
// missing here emits none.
var eventOf = map[AuditAction]EventType{
	AuditMemberAdded:       EventMemberAdded,
	AuditMemberInvited:     EventMemberAdded, // state "invited"
	AuditMemberUpdated:     EventMemberUpdated,
	AuditMemberSCIMUpdated: EventMemberUpdated,
	AuditMemberDeactivated: EventMemberDeactivated,
	AuditMemberReactivated: EventMemberReactivated,
	AuditMemberRemoved:     EventMemberRemoved,
	AuditMemberLeft:        EventMemberRemoved, // the member's own act; the audit trail says so

	AuditInvitationCreated:   EventInvitationCreated,
	AuditInvitationResent:    EventInvitationResent,
	AuditInvitationAccepted:  EventInvitationAccepted,
	AuditInvitationCancelled: EventInvitationCancelled,

	AuditSeatAssigned:   EventSeatAssigned,
	AuditSeatUnassigned: EventSeatUnassigned,

	AuditSubscriptionCreated: EventSubscriptionCreated,
	AuditSubscriptionUpdated: EventSubscriptionUpdated,
	AuditSubscriptionRenewed: EventSubscriptionRenewed,

	AuditOrganizationUpdated: EventOrganizationUpdated,
	AuditOrganizationDeleted: EventOrganizationDeleted,
	AuditAccountDeleted:      EventAccountDeleted,

	AuditSeatRequestCreated:  EventSeatRequestCreated,
	AuditSeatRequestApproved: EventSeatRequestApproved,
	AuditSeatRequestDenied:   EventSeatRequestDenied,

	AuditJoinRequestCreated:   EventJoinRequestCreated,
	AuditJoinRequestApproved:  EventJoinRequestApproved,
	AuditJoinRequestDenied:    EventJoinRequestDenied,
	AuditJoinRequestCancelled: EventJoinRequestCancelled,

	// Audited in the platform trail (no event) and in each organization's of the account.
	AuditAccountDisabled: EventAccountDisabled,
	AuditAccountEnabled:  EventAccountEnabled,

	AuditDomainVerified: EventDomainVerified,
	AuditDomainRemoved:  EventDomainRemoved,
}

// Event is one change event. Applications are the ids of the applications that
// learn of it, decided in the transaction that writes it; Sequence is its place in
// one application's feed (0 until the relay numbers it, and on writes).
type Event struct {
	ID           string
	OrgID        string
	Type         EventType
	Sequence     int64
	Data         json.RawMessage
	CreatedAt    time.Time
	Applications []string
}

// EventFilter selects one application's numbered feed: sequences above After, of
// Types (any when empty), at most Limit, in sequence order.
type EventFilter struct {
	ApplicationID string
	After         int64
	Types         []EventType
	Limit         int
}

// EventTx holds the queries of change events.
type EventTx interface {
	// InsertEvent writes e and one pending (unnumbered) feed row for each of
	// e.Applications; the relay numbers them after the commit.
	InsertEvent(ctx context.Context, e Event) error
	// SubscribedApplications lists the ids of the applications orgID holds a
	// subscription of (upcoming, active or expired), each once.
	SubscribedApplications(ctx context.Context, orgID string) ([]string, error)
	// FeedEvents reads one application's numbered feed (see EventFilter).
	FeedEvents(ctx context.Context, f EventFilter) ([]Event, error)
}

// The data shapes of events: the object as the API shows it, with the API's field
// names, defined once here for every event.

// EventData is an event's "data".
type EventData struct {
	Organization EventOrganization  `json:"organization"`
	Actor        *EventActor        `json:"actor"`
	Member       *EventMember       `json:"member,omitempty"`
	Invitation   *EventInvitation   `json:"invitation,omitempty"`
	Seat         *EventSeat         `json:"seat,omitempty"`
	Subscription *EventSubscription `json:"subscription,omitempty"`
	SeatRequest  *EventSeatRequest  `json:"seat_request,omitempty"`
	JoinRequest  *EventJoinRequest  `json:"join_request,omitempty"`
	Domain       *EventDomain       `json:"domain,omitempty"`
	// Previous holds, for an update, the changed fields' values before it.
	Previous map[string]any `json:"previous,omitempty"`
}

// EventOrganization is the organization an event concerns.
type EventOrganization struct {
	ID     string  `json:"id"`
	Slug   string  `json:"slug"`
	Name   string  `json:"name"`
	Kind   OrgKind `json:"kind"`
	Parent *string `json:"parent"`
}

// EventActor is who made the change: an account, or an organization's SCIM token
// (its id, and "scim:<description>" as email). Null for Roster itself.
type EventActor struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// EventMember is a member, as GET …/members/{account} shows it.
type EventMember struct {
	Account    EventMemberAccount  `json:"account"`
	Role       string              `json:"role"`
	Teams      []string            `json:"teams"`
	State      MemberState         `json:"state"`
	Seats      []EventSeatRef      `json:"seats"`
	Invitation *EventInvitationRef `json:"invitation,omitempty"`
	CreatedAt  time.Time           `json:"created_at"`
	UpdatedAt  time.Time           `json:"updated_at"`
}

// EventMemberAccount is a member's account; until an invited person accepts, an
// account the organization does not manage shows only its id and email.
type EventMemberAccount struct {
	ID        string  `json:"id"`
	Email     string  `json:"email"`
	Username  *string `json:"username"`
	FirstName string  `json:"first_name"`
	LastName  string  `json:"last_name"`
	Phone     *string `json:"phone"`
	Managed   bool    `json:"managed"`
}

// EventSeatRef is one seat a member holds.
type EventSeatRef struct {
	Subscription string `json:"subscription"`
	Application  string `json:"application"`
}

// EventInvitationRef is the pending invitation of an invited member.
type EventInvitationRef struct {
	ID        string          `json:"id"`
	ExpiresAt time.Time       `json:"expires_at"`
	State     InvitationState `json:"state"`
}

// EventInvitation is an invitation, as GET …/invitations shows it.
type EventInvitation struct {
	ID         string          `json:"id"`
	Email      string          `json:"email"`
	Account    string          `json:"account"`
	Role       string          `json:"role"`
	State      InvitationState `json:"state"`
	ExpiresAt  time.Time       `json:"expires_at"`
	Inviter    EventInviter    `json:"inviter"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	AcceptedAt *time.Time      `json:"accepted_at"`
}

// EventInviter is who sent an invitation (id null when deleted since).
type EventInviter struct {
	ID   *string `json:"id"`
	Name string  `json:"name"`
}

// EventSeat is the seat a seat event gives or takes.
type EventSeat struct {
	Subscription string `json:"subscription"`
	Application  string `json:"application"`
	Account      string `json:"account"`
}

// EventSubscription is a subscription, as GET …/subscriptions shows it.
type EventSubscription struct {
	ID          string            `json:"id"`
	Application string            `json:"application"`
	Seats       int               `json:"seats"`
	Assigned    int               `json:"assigned"`
	Available   int               `json:"available"`
	StartsAt    time.Time         `json:"starts_at"`
	EndsAt      time.Time         `json:"ends_at"`
	State       SubscriptionState `json:"state"`
	Badges      []string          `json:"badges"`
	RenewedFrom *string           `json:"renewed_from"`
}

// EventSeatRequest is a request for more seats, as GET /api/v1/seat-requests shows it.
type EventSeatRequest struct {
	ID            string            `json:"id"`
	Application   string            `json:"application"`
	Quantity      int               `json:"quantity"`
	Note          string            `json:"note"`
	Status        SeatRequestStatus `json:"status"`
	RequestedBy   EventActor        `json:"requested_by"`
	ApprovedSeats int               `json:"approved_seats"`
	Subscription  *string           `json:"subscription"`
	CreatedAt     time.Time         `json:"created_at"`
	DecidedAt     *time.Time        `json:"decided_at"`
}

// EventDomain is an organization's email domain: verified, or removed (as it was).
type EventDomain struct {
	ID     string      `json:"id"`
	Domain string      `json:"domain"`
	State  DomainState `json:"state"`
}

// EventJoinRequest is a request to join, as GET …/join-requests shows it.
type EventJoinRequest struct {
	ID         string           `json:"id"`
	Account    EventRequester   `json:"account"`
	Message    string           `json:"message"`
	State      JoinRequestState `json:"state"`
	CreatedAt  time.Time        `json:"created_at"`
	DecidedAt  *time.Time       `json:"decided_at"`
	DecidedBy  *string          `json:"decided_by"`
	Invitation *string          `json:"invitation"`
}

// EventRequester is who asked to join.
type EventRequester struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func eventOrganization(o Organization) EventOrganization {
	return EventOrganization{ID: o.ID, Slug: o.Slug, Name: o.Name, Kind: o.Kind, Parent: optional(o.ParentID)}
}

func eventMember(m Member) *EventMember {
	a := m.Account
	teams := m.Teams
	if teams == nil {
		teams = []string{}
	}
	seats := make([]EventSeatRef, len(m.Seats))
	for i, s := range m.Seats {
		seats[i] = EventSeatRef{Subscription: s.SubscriptionID, Application: s.ApplicationKey}
	}
	v := &EventMember{
		Account: EventMemberAccount{ID: a.ID, Email: a.Email, Username: optional(a.Username), FirstName: a.FirstName,
			LastName: a.LastName, Phone: optional(a.Phone), Managed: m.Managed},
		Role: m.RoleID, Teams: teams, State: m.State, Seats: seats, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
	}
	if inv := m.Invitation; inv != nil {
		v.Invitation = &EventInvitationRef{ID: inv.ID, ExpiresAt: inv.ExpiresAt, State: inv.StateAt(m.UpdatedAt)}
	}
	return v
}

func eventInvitation(inv Invitation, now time.Time) *EventInvitation {
	v := &EventInvitation{ID: inv.ID, Email: inv.Email, Account: inv.AccountID, Role: inv.RoleID, State: inv.StateAt(now),
		ExpiresAt: inv.ExpiresAt, Inviter: EventInviter{ID: optional(inv.InviterID), Name: inv.InviterName},
		CreatedAt: inv.CreatedAt, UpdatedAt: inv.UpdatedAt}
	if !inv.AcceptedAt.IsZero() {
		at := inv.AcceptedAt
		v.AcceptedAt = &at
	}
	return v
}

func eventSubscription(s Subscription, org Organization, now time.Time) *EventSubscription {
	badges := s.Badges(now, org.EndingSoonDays)
	if badges == nil {
		badges = []string{}
	}
	return &EventSubscription{ID: s.ID, Application: s.ApplicationKey, Seats: s.Seats, Assigned: s.Assigned,
		Available: s.Available(), StartsAt: s.StartsAt, EndsAt: s.EndsAt, State: s.State(now), Badges: badges,
		RenewedFrom: optional(s.RenewedFrom)}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// emit writes the event of an audited action (if it has one) in tx, beside its
// audit event ev: it reads the object as it now is, decides which applications
// learn of it, and writes nothing when none does. gone is the member of a
// member.removed event, read before it was deleted (nil for the other events: a
// removal that does not give it fails, rather than emit an event without its object).
func (s *Service) emit(ctx context.Context, tx Tx, ev AuditEvent, before, after any, gone *Member) error {
	return s.emitIn(ctx, tx, nil, ev, before, after, gone)
}

// emitIn is emit for a caller that holds ev's organization as the transaction has
// it (org, not changed since it was read; nil to read it): a bulk write emits many
// events of one organization without reading it again for each.
func (s *Service) emitIn(ctx context.Context, tx Tx, org *Organization, ev AuditEvent, before, after any, gone *Member) error {
	typ, ok := eventOf[AuditAction(ev.Action)]
	if !ok || ev.OrgID == "" { // the platform trail's events concern no organization: none emits
		return nil
	}
	if org != nil && org.ID != ev.OrgID {
		return Errorf(EINTERNAL, "an event of %s emitted with organization %s", ev.OrgID, org.ID)
	}
	if err := s.emitOne(ctx, tx, org, typ, ev, before, after, gone); err != nil {
		return err
	}
	// An invitation sent with a new membership is audited once, on the member.
	if _, sent := stateValue(after, "invitation").(string); sent && AuditAction(ev.Action) == AuditMemberInvited {
		return s.emitOne(ctx, tx, org, EventInvitationCreated, ev, before, after, gone)
	}
	return nil
}

func (s *Service) emitOne(ctx context.Context, tx Tx, known *Organization, typ EventType, ev AuditEvent, before, after any, gone *Member) error {
	if typ == EventOrganizationDeleted {
		// Its subscriptions are gone with it: DeleteOrganization emits it itself,
		// with the applications read before (emitOrganizationDeleted).
		if _, ok := stateValue(after, "applications").([]string); !ok {
			return Errorf(EINTERNAL, "organization.deleted of %s emitted without its applications", ev.OrgID)
		}
		return nil
	}
	if typ == EventAccountDeleted {
		// Its memberships are gone with it: DeleteAccount emits it itself, with the
		// organizations and applications read before (emitAccountDeleted).
		return nil
	}
	// Events of the whole organization go to every application it subscribes to:
	// with none (an organization without subscriptions, as in a large first
	// import), nothing is read to build them.
	var orgApps []string
	if !ownApplication(typ) {
		var err error
		if orgApps, err = tx.SubscribedApplications(ctx, ev.OrgID); err != nil {
			return err
		}
		if len(orgApps) == 0 {
			return nil // no application learns of it
		}
	}
	var org Organization
	if known != nil {
		org = *known
	} else {
		var err error
		if org, err = tx.OrganizationByRef(ctx, ev.OrgID); err != nil {
			return err
		}
	}
	var err error
	now := ev.CreatedAt
	d := EventData{Organization: eventOrganization(org)}
	if ev.ActorID != "" {
		d.Actor = &EventActor{ID: ev.ActorID, Email: ev.ActorEmail}
	}
	// Seat and subscription events go to their subscription's application only;
	// the others to every application the organization subscribes to.
	var apps []string
	subscriptionApp := func(id string) error {
		sub, err := tx.Subscription(ctx, org.ID, id)
		if err != nil {
			return err
		}
		d.Subscription = eventSubscription(sub, org, now)
		apps = []string{sub.ApplicationID}
		return nil
	}
	member := func(accountID string, optional bool) error {
		m, err := tx.Member(ctx, org.ID, accountID)
		if optional && ErrorCode(err) == ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		d.Member = eventMember(redact(Actor{}, org, m))
		return nil
	}
	switch typ {
	case EventMemberRemoved:
		if gone == nil {
			return Errorf(EINTERNAL, "member.removed of %s emitted without the member", ev.TargetID)
		}
		d.Member = eventMember(redact(Actor{}, org, *gone))
	case EventMemberAdded, EventMemberUpdated, EventMemberDeactivated, EventMemberReactivated,
		EventAccountDisabled, EventAccountEnabled: // the account as a member of this organization
		err = member(ev.TargetID, false)
	case EventInvitationCreated, EventInvitationResent, EventInvitationCancelled, EventInvitationAccepted:
		invID := ev.TargetID
		if ev.TargetType == "account" { // accepted, or sent with a membership: audited on the account
			invID, _ = stateValue(after, "invitation").(string)
		}
		inv, ierr := tx.Invitation(ctx, org.ID, invID)
		if ierr != nil {
			return ierr
		}
		d.Invitation = eventInvitation(inv, now)
		err = member(inv.AccountID, true) // a cancelled invitation's membership is gone
	case EventSeatAssigned, EventSeatUnassigned:
		st := after
		if typ == EventSeatUnassigned {
			st = before
		}
		subID, _ := stateValue(st, "subscription").(string)
		if err = subscriptionApp(subID); err == nil {
			d.Seat = &EventSeat{Subscription: subID, Application: d.Subscription.Application, Account: ev.TargetID}
			err = member(ev.TargetID, true)
		}
	case EventSubscriptionCreated, EventSubscriptionUpdated, EventSubscriptionRenewed:
		err = subscriptionApp(ev.TargetID)
	case EventSeatRequestCreated, EventSeatRequestApproved, EventSeatRequestDenied:
		// A request for seats of one application: that application's only.
		r, rerr := tx.SeatRequest(ctx, ev.TargetID)
		if rerr == nil && r.OrgID != org.ID {
			rerr = Errorf(ENOTFOUND, "seat request not found")
		}
		if rerr != nil {
			return rerr
		}
		d.SeatRequest = &EventSeatRequest{ID: r.ID, Application: r.ApplicationKey, Quantity: r.Quantity, Note: r.Note,
			Status: r.Status, RequestedBy: EventActor{ID: r.RequestedBy, Email: r.RequesterEmail}, ApprovedSeats: r.ApprovedSeats,
			Subscription: optional(r.SubscriptionID), CreatedAt: r.CreatedAt, DecidedAt: optionalTime(r.DecidedAt)}
		apps = []string{r.ApplicationID}
	case EventJoinRequestCreated, EventJoinRequestApproved, EventJoinRequestDenied, EventJoinRequestCancelled:
		r, rerr := tx.JoinRequest(ctx, org.ID, ev.TargetID)
		if rerr != nil {
			return rerr
		}
		d.JoinRequest = &EventJoinRequest{ID: r.ID, Message: r.Message, State: r.State, CreatedAt: r.CreatedAt,
			Account:   EventRequester{ID: r.Account.ID, Email: r.Account.Email, FirstName: r.Account.FirstName, LastName: r.Account.LastName},
			DecidedAt: optionalTime(r.DecidedAt), DecidedBy: optional(r.DecidedBy), Invitation: optional(r.InvitationID)}
	case EventDomainVerified, EventDomainRemoved:
		st := after
		if typ == EventDomainRemoved {
			st = before
		}
		name, _ := stateValue(st, "domain").(string)
		state, _ := stateValue(st, "state").(DomainState)
		d.Domain = &EventDomain{ID: ev.TargetID, Domain: name, State: state}
	}
	if err != nil {
		return err
	}
	switch typ {
	case EventMemberUpdated, EventMemberDeactivated, EventMemberReactivated, EventSubscriptionUpdated, EventOrganizationUpdated:
		if m, ok := before.(map[string]any); ok && len(m) > 0 {
			d.Previous = m
		}
	}
	if apps == nil {
		apps = orgApps
	}
	if len(apps) == 0 {
		return nil // no application learns of it
	}
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return tx.InsertEvent(ctx, Event{ID: s.ids.New(), OrgID: org.ID, Type: typ, Data: data, CreatedAt: now, Applications: apps})
}

// ownApplication reports whether events of type typ go to one application only,
// that of their subscription (seats, subscriptions, seat requests), rather than to
// every application the organization subscribes to.
func ownApplication(typ EventType) bool {
	switch typ {
	case EventSeatAssigned, EventSeatUnassigned, EventSubscriptionCreated, EventSubscriptionUpdated,
		EventSubscriptionRenewed, EventSeatRequestCreated, EventSeatRequestApproved, EventSeatRequestDenied:
		return true
	}
	return false
}

// stateValue is the value of key in an audit state (a map), or nil.
func stateValue(state any, key string) any {
	if m, ok := state.(map[string]any); ok {
		return m[key]
	}
	return nil
}

// EventQuery reads an application's feed: the events numbered above After, of
// Types (every type when empty; a comma-separated list is accepted), at most Limit
// (default 50, max 500).
type EventQuery struct {
	After string
	Types string
	Limit int
}

// FindEvents reads an application's event feed, in the order events were committed.
// The caller is the application itself (its API key: app) or an operator (actor);
// another application's key finds no such application (ENOTFOUND), whatever the query
// holds. Authorization is decided before the query is validated.
func (s *Service) FindEvents(ctx context.Context, actor Actor, app AppActor, appRef string, q EventQuery) (evs []Event, err error) {
	defer wrap(&err, "FindEvents(%s)", appRef)
	if app.Application.ID == "" {
		if err := requireOperator(actor, "reads another application's events"); err != nil {
			return nil, err
		}
	} else if appRef != app.Application.ID && appRef != app.Application.Key {
		return nil, Errorf(ENOTFOUND, "application not found")
	}
	f, err := eventFilter(q)
	if err != nil {
		return nil, err
	}
	err = s.store.Read(ctx, func(tx Tx) error {
		id := app.Application.ID
		if id == "" {
			a, err := tx.Application(ctx, appRef)
			if err != nil {
				return notFound(err, "application")
			}
			id = a.ID
		}
		f.ApplicationID = id
		evs, err = tx.FeedEvents(ctx, f)
		return err
	})
	return evs, err
}

// eventFilter validates a feed query, naming each bad field.
func eventFilter(q EventQuery) (EventFilter, error) {
	var v Validation
	f := EventFilter{}
	if q.After != "" {
		n, err := strconv.ParseInt(q.After, 10, 64)
		if err != nil || n < 0 {
			v.Add("after", "must be a sequence: a whole number, 0 or more")
		}
		f.After = n
	}
	if q.Types != "" {
		for _, t := range strings.Split(q.Types, ",") {
			t = strings.TrimSpace(t)
			if !slices.Contains(EventTypes, EventType(t)) {
				v.Add("types", "names an unknown event type: "+strconv.Quote(clip(t, 60)))
				continue
			}
			if !slices.Contains(f.Types, EventType(t)) {
				f.Types = append(f.Types, EventType(t))
			}
		}
	}
	limit, err := pageLimit(q.Limit)
	addErr(&v, err)
	f.Limit = limit
	return f, v.Err()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// emitOrganizationDeleted writes the organization.deleted event of o, whose
// subscriptions' applications apps were read before it was deleted.
func (s *Service) emitOrganizationDeleted(ctx context.Context, tx Tx, actor Actor, o Organization, apps []string) error {
	if len(apps) == 0 {
		return nil
	}
	d := EventData{Organization: eventOrganization(o)}
	if actor.Account.ID != "" {
		d.Actor = &EventActor{ID: actor.Account.ID, Email: actor.Account.Email}
	}
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return tx.InsertEvent(ctx, Event{ID: s.ids.New(), OrgID: o.ID, Type: EventOrganizationDeleted, Data: data,
		CreatedAt: s.now(), Applications: apps})
}

// EventAccountDeletedData is the data of account.deleted: the account as it was,
// the organizations it belonged to (their ids) and who deleted it.
type EventAccountDeletedData struct {
	Account       EventActor  `json:"account"` // id and email: see emitAccountDeleted
	Organizations []string    `json:"organizations"`
	Actor         *EventActor `json:"actor"`
}

// emitAccountDeleted writes the account.deleted event of a, which belonged to
// orgIDs, for every application one of them subscribes to (read in tx before the
// account's memberships are deleted); nothing when none does.
func (s *Service) emitAccountDeleted(ctx context.Context, tx Tx, actor Actor, a Account, orgIDs []string) error {
	var apps []string
	for _, id := range orgIDs {
		ids, err := tx.SubscribedApplications(ctx, id)
		if err != nil {
			return err
		}
		for _, app := range ids {
			if !slices.Contains(apps, app) {
				apps = append(apps, app)
			}
		}
	}
	if len(apps) == 0 {
		return nil
	}
	// The account as every organization may see it (redact): its id and email; the
	// profile is visible only where an organization manages it, and this event
	// goes to the applications of all of them.
	d := EventAccountDeletedData{Organizations: orgIDs, Account: EventActor{ID: a.ID, Email: a.Email}}
	if actor.Account.ID != "" {
		d.Actor = &EventActor{ID: actor.Account.ID, Email: actor.Account.Email}
	}
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return tx.InsertEvent(ctx, Event{ID: s.ids.New(), Type: EventAccountDeleted, Data: data,
		CreatedAt: s.now(), Applications: apps})
}
