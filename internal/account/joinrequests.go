package account

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// maxJoinMessageLen bounds a join request's message.
const maxJoinMessageLen = 2000

// RequestToJoin asks, as the calling account, to join an organization (by id or
// slug) with a message; every member who may review join requests is emailed. Any
// logged-in account may ask. Errors: ENOTFOUND, ECONFLICT (a member or invited
// already, or a pending request exists), EINVALID.
func (s *Service) RequestToJoin(ctx context.Context, actor Actor, orgRef, message string) (r JoinRequest, err error) {
	defer wrap(&err, "RequestToJoin(%s)", orgRef)
	message = strings.TrimSpace(message)
	if err := CheckText("message", message); err != nil {
		return r, err
	}
	if utf8.RuneCountInString(message) > maxJoinMessageLen {
		return r, Invalid("message", "must be at most 2000 characters")
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		org, err := tx.OrganizationByRef(ctx, orgRef)
		if err != nil {
			return notFound(err, "organization")
		}
		switch m, err := tx.Membership(ctx, org.ID, actor.Account.ID); {
		case err == nil && m.State == MemberInvited:
			return Errorf(ECONFLICT, "you are invited to %s already: accept the invitation from your email", org.Name)
		case err == nil:
			return Errorf(ECONFLICT, "you are a member of %s already", org.Name)
		case ErrorCode(err) != ENOTFOUND:
			return err
		}
		now := s.now()
		r = JoinRequest{ID: s.ids.New(), OrgID: org.ID, AccountID: actor.Account.ID, Account: actor.Account,
			Message: message, State: JoinRequestPending, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateJoinRequest(ctx, r); err != nil {
			if ErrorCode(err) == ECONFLICT {
				return &Error{Code: ECONFLICT, Message: "you have asked to join " + org.Name + " already; an administrator will answer",
					Fields: []FieldError{{Field: "organization", Message: "has a pending request of yours"}}}
			}
			return err
		}
		reviewers, err := s.holders(ctx, tx, org.ID, PermJoinRequestsReview)
		if err != nil {
			return err
		}
		for _, to := range reviewers {
			n := s.notice(NoticeJoinRequest, org, actor, Member{Account: to})
			n.Message = message
			n.Link = s.baseURL + "/o/" + org.Slug + "/join-requests" // the console's Join requests screen
			if err := s.notify(ctx, tx, org.ID, n); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, actor, org.ID, AuditJoinRequestCreated, "join_request", r.ID, nil,
			map[string]any{"account": actor.Account.ID, "email": actor.Account.Email, "message": message})
	})
	return r, err
}

// holders are the accounts of orgID's active members whose role holds perm: who
// reviews join requests, who is told that a member left.
func (s *Service) holders(ctx context.Context, tx Tx, orgID string, perm Permission) ([]Account, error) {
	var roleIDs []string
	for _, r := range PredefinedRoles() {
		if r.Permissions.Has(perm) {
			roleIDs = append(roleIDs, r.ID)
		}
	}
	custom, err := tx.CustomRoles(ctx, orgID)
	if err != nil {
		return nil, err
	}
	for _, r := range custom {
		if r.Active && r.Permissions.Has(perm) {
			roleIDs = append(roleIDs, r.ID)
		}
	}
	return tx.ActiveMembersWithRoles(ctx, orgID, roleIDs)
}

// JoinRequestQuery filters FindJoinRequests.
type JoinRequestQuery struct {
	Status string
	Cursor string
	Limit  int
}

// FindJoinRequests lists an organization's join requests, newest first. Needs
// join_requests.review.
func (s *Service) FindJoinRequests(ctx context.Context, actor Actor, orgRef string, q JoinRequestQuery) (p Page[JoinRequest], err error) {
	defer wrap(&err, "FindJoinRequests(%s)", orgRef)
	err = s.readIn(ctx, actor, orgRef, PermJoinRequestsReview, func(tx Tx, a access) error {
		limit, cur, err := listParams(q.Limit, q.Cursor, "status", q.Status, string(JoinRequestPending), string(JoinRequestApproved), string(JoinRequestDenied), string(JoinRequestCancelled))
		if err != nil {
			return err
		}
		items, total, err := tx.FindJoinRequests(ctx, JoinRequestFilter{
			OrgID: a.org.ID, State: JoinRequestState(q.Status), Before: cur.after, Limit: limit + 1, SkipTotal: cur.total >= 0})
		if cur.total >= 0 {
			total = cur.total
		}
		p = pageOf(items, total, limit, func(r JoinRequest) string { return r.ID })
		return err
	})
	return p, err
}

// ApproveInput is the offer an approval invites the requester with.
type ApproveInput struct {
	Role         string // "member" when empty
	Teams        []string
	Applications []string
}

// ApproveJoinRequest approves a pending request: the requester is invited (an email
// with the invitation link) with the role, teams and applications given. Needs
// join_requests.review, and members.invite. Errors: ENOTFOUND, ECONFLICT (decided
// already, or a member meanwhile), EROLECEILING, EINVALID, EQUOTAEXCEEDED.
func (s *Service) ApproveJoinRequest(ctx context.Context, actor Actor, orgRef, id string, in ApproveInput) (r JoinRequest, err error) {
	defer wrap(&err, "ApproveJoinRequest(%s, %s)", orgRef, id)
	err = s.store.Write(ctx, func(tx Tx) error {
		a, r0, err := s.pendingJoinRequest(ctx, tx, actor, orgRef, id)
		if err != nil {
			return err
		}
		r = r0
		if err := a.require(PermMembersInvite); err != nil {
			return err
		}
		role, err := s.assignableRole(ctx, tx, a, "role", in.Role)
		if err != nil {
			return err
		}
		teamIDs, teamNames, err := s.resolveTeams(ctx, tx, a.org.ID, in.Teams)
		if err != nil {
			return err
		}
		if len(in.Applications) > 0 {
			if err := a.require(PermSeatsAssign); err != nil {
				return err
			}
		}
		_, inv, err := s.invite(ctx, tx, actor, a, invitee{email: r.Account.Email, role: role,
			teamIDs: teamIDs, teamNames: teamNames, apps: in.Applications})
		if ErrorCode(err) == EDUPLICATEEMAIL {
			return Errorf(ECONFLICT, "%s is a member of %s already", r.Account.Email, a.org.Name)
		}
		if err != nil {
			return err
		}
		return s.decide(ctx, tx, actor, &r, JoinRequestApproved, inv.ID)
	})
	return r, err
}

// DenyJoinRequest denies a pending request; nothing else changes and nobody is
// emailed. Needs join_requests.review. Errors: ENOTFOUND, ECONFLICT (decided already).
func (s *Service) DenyJoinRequest(ctx context.Context, actor Actor, orgRef, id string) (r JoinRequest, err error) {
	defer wrap(&err, "DenyJoinRequest(%s, %s)", orgRef, id)
	err = s.store.Write(ctx, func(tx Tx) error {
		_, r0, err := s.pendingJoinRequest(ctx, tx, actor, orgRef, id)
		if err != nil {
			return err
		}
		r = r0
		return s.decide(ctx, tx, actor, &r, JoinRequestDenied, "")
	})
	return r, err
}

func (s *Service) pendingJoinRequest(ctx context.Context, tx Tx, actor Actor, orgRef, id string) (access, JoinRequest, error) {
	a, err := s.authorize(ctx, tx, actor, orgRef, PermJoinRequestsReview)
	if err != nil {
		return a, JoinRequest{}, err
	}
	// Two reviewers deciding one request at once: the second sees it decided.
	if err := tx.LockOrganization(ctx, a.org.ID); err != nil {
		return a, JoinRequest{}, err
	}
	r, err := tx.JoinRequest(ctx, a.org.ID, id)
	if err != nil {
		return a, r, notFound(err, "join request")
	}
	if r.State != JoinRequestPending {
		return a, r, Errorf(ECONFLICT, "the request was %s already", r.State)
	}
	return a, r, nil
}

func (s *Service) decide(ctx context.Context, tx Tx, actor Actor, r *JoinRequest, to JoinRequestState, invitationID string) error {
	now := s.now()
	r.State, r.DecidedBy, r.DecidedAt, r.InvitationID, r.UpdatedAt = to, actor.Account.ID, now, invitationID, now
	if err := tx.UpdateJoinRequest(ctx, *r); err != nil {
		return err
	}
	after := map[string]any{"state": to, "account": r.AccountID}
	if invitationID != "" {
		after["invitation"] = invitationID
	}
	action := AuditJoinRequestApproved
	if to == JoinRequestDenied {
		action = AuditJoinRequestDenied
	}
	return s.audit(ctx, tx, actor, r.OrgID, action, "join_request", r.ID,
		map[string]any{"state": JoinRequestPending}, after)
}

// Bounds of the requester's own list of join requests: every pending one, and those
// decided or cancelled in the last 90 days, at most 100.
const (
	ownJoinRequestsWindow = 90 * 24 * time.Hour
	maxOwnJoinRequests    = 100
)

// FindOwnJoinRequests lists the calling account's own join requests in every
// organization, newest first, each with its organization: the pending ones and
// those decided or cancelled in the last 90 days (at most 100). Any logged-in
// account may ask; it sees only its own.
func (s *Service) FindOwnJoinRequests(ctx context.Context, actor Actor) (rs []JoinRequest, err error) {
	defer wrap(&err, "FindOwnJoinRequests")
	if err := ownAccount(actor); err != nil {
		return nil, err
	}
	err = s.store.Read(ctx, func(tx Tx) error {
		rs, err = tx.JoinRequestsOfAccount(ctx, actor.Account.ID, s.now().Add(-ownJoinRequestsWindow), maxOwnJoinRequests)
		return err
	})
	return rs, err
}

// CancelJoinRequest withdraws the calling account's own pending join request: it
// leaves the reviewers' pending list, and the organization's audit trail records
// it. Only the requester cancels: another account's request, in any organization,
// is not found. Errors: ENOTFOUND, ECONFLICT (approved, denied or cancelled
// already, as for a reviewer deciding it twice).
func (s *Service) CancelJoinRequest(ctx context.Context, actor Actor, id string) (r JoinRequest, err error) {
	defer wrap(&err, "CancelJoinRequest(%s)", id)
	if err := ownAccount(actor); err != nil {
		return r, err
	}
	if err := CheckText("id", id); err != nil {
		return r, err
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		mine, err := tx.JoinRequestOfAccount(ctx, actor.Account.ID, id)
		if err != nil {
			return notFound(err, "join request")
		}
		// A reviewer deciding it at the same moment locks the organization first too:
		// whoever comes second sees it decided.
		if err := tx.LockOrganization(ctx, mine.OrgID); err != nil {
			return err
		}
		if r, err = tx.JoinRequest(ctx, mine.OrgID, id); err != nil {
			return notFound(err, "join request")
		}
		if r.State != JoinRequestPending {
			return Errorf(ECONFLICT, "the request was %s already", r.State)
		}
		now := s.now()
		r.State, r.DecidedBy, r.DecidedAt, r.UpdatedAt = JoinRequestCancelled, actor.Account.ID, now, now
		if err := tx.UpdateJoinRequest(ctx, r); err != nil {
			return err
		}
		if r.Organization, err = tx.OrganizationByRef(ctx, r.OrgID); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, r.OrgID, AuditJoinRequestCancelled, "join_request", r.ID,
			map[string]any{"state": JoinRequestPending}, map[string]any{"state": JoinRequestCancelled, "account": r.AccountID, "email": r.Account.Email})
	})
	return r, err
}

// ownAccount refuses the self-service use cases to a SCIM client, which acts for an
// organization and has no account of its own.
func ownAccount(actor Actor) error {
	if actor.SCIMOrgID != "" || actor.Account.ID == "" {
		return Errorf(EFORBIDDEN, "only a person signed in to their own account may do this")
	}
	return nil
}
