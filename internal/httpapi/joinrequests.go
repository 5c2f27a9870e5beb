package httpapi

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

// RequesterView is the account that asked to join.
type RequesterView struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// JoinRequestView is a request to join an organization.
type JoinRequestView struct {
	ID         string        `json:"id"`
	Account    RequesterView `json:"account"`
	Message    string        `json:"message"`
	State      string        `json:"state" enum:"pending,approved,denied,cancelled"`
	CreatedAt  time.Time     `json:"created_at"`
	DecidedAt  *time.Time    `json:"decided_at"`
	DecidedBy  *string       `json:"decided_by" doc:"The account id that approved, denied or cancelled it."`
	Invitation *string       `json:"invitation" doc:"The invitation an approval sent."`
}

func joinRequestView(r account.JoinRequest) JoinRequestView {
	v := JoinRequestView{
		ID: r.ID, Message: r.Message, State: string(r.State), CreatedAt: r.CreatedAt,
		Account:   RequesterView{ID: r.Account.ID, Email: r.Account.Email, FirstName: r.Account.FirstName, LastName: r.Account.LastName},
		DecidedBy: nullable(r.DecidedBy), Invitation: nullable(r.InvitationID),
	}
	if v.Account.ID == "" {
		v.Account.ID = r.AccountID
	}
	if !r.DecidedAt.IsZero() {
		at := r.DecidedAt
		v.DecidedAt = &at
	}
	return v
}

type joinRequestOutput struct {
	Body JoinRequestView
}

type createJoinRequestInput struct {
	OrgPath
	Body *struct {
		Message string `json:"message" maxLength:"2000" doc:"Why the caller wants to join."`
	}
}

// createJoinRequest asks, as the calling account, to join the organization.
func (s *Server) createJoinRequest(ctx context.Context, in *createJoinRequestInput) (*joinRequestOutput, error) {
	actor := actorFrom(ctx)
	if err := s.allowJoinRequest(ctx, actor); err != nil {
		return nil, err
	}
	msg := ""
	if in.Body != nil {
		msg = in.Body.Message
	}
	r, err := s.svc.RequestToJoin(ctx, actor, in.Org, msg)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &joinRequestOutput{Body: joinRequestView(r)}, nil
}

type listJoinRequestsInput struct {
	OrgPath
	Status string `query:"status" enum:"pending,approved,denied,cancelled" doc:"Only requests in this state."`
	PageQuery
}

type joinRequestsOutput struct {
	Body List[JoinRequestView]
}

func (s *Server) listJoinRequests(ctx context.Context, in *listJoinRequestsInput) (*joinRequestsOutput, error) {
	p, err := s.svc.FindJoinRequests(ctx, actorFrom(ctx), in.Org, account.JoinRequestQuery{
		Status: in.Status, Cursor: in.Cursor, Limit: in.Limit})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &joinRequestsOutput{Body: listOf(p, joinRequestView)}, nil
}

// JoinRequestPath addresses one join request of an organization.
type JoinRequestPath struct {
	OrgPath
	ID string `path:"id" maxLength:"64" doc:"The join request's id."`
}

type approveJoinRequestInput struct {
	JoinRequestPath
	Body *struct {
		Role         string   `json:"role" doc:"The role offered; member when omitted."`
		Teams        []string `json:"teams" maxItems:"100"`
		Applications []string `json:"applications" maxItems:"50" doc:"Application keys: a seat of each is reserved."`
	}
}

// approveJoinRequest invites the requester.
func (s *Server) approveJoinRequest(ctx context.Context, in *approveJoinRequestInput) (*joinRequestOutput, error) {
	actor := actorFrom(ctx)
	if err := s.allowInvitations(ctx, actor, 1); err != nil {
		return nil, err
	}
	var ai account.ApproveInput
	if in.Body != nil {
		ai = account.ApproveInput{Role: in.Body.Role, Teams: in.Body.Teams, Applications: in.Body.Applications}
	}
	r, err := s.svc.ApproveJoinRequest(ctx, actor, in.Org, in.ID, ai)
	if err != nil {
		s.limits.RefundInvitations(actor, 1)
		return nil, s.fail(ctx, err)
	}
	return &joinRequestOutput{Body: joinRequestView(r)}, nil
}

func (s *Server) denyJoinRequest(ctx context.Context, in *JoinRequestPath) (*joinRequestOutput, error) {
	r, err := s.svc.DenyJoinRequest(ctx, actorFrom(ctx), in.Org, in.ID)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &joinRequestOutput{Body: joinRequestView(r)}, nil
}

// allowJoinRequest takes one join request from the actor's allowance (429 problem
// when it is spent).
func (s *Server) allowJoinRequest(ctx context.Context, actor account.Actor) error {
	return s.fail(ctx, s.limits.AllowJoinRequest(ctx, actor))
}

// JoinedOrganizationView names the organization a join request of the caller's asks
// to join.
type JoinedOrganizationView struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// OwnJoinRequestView is one of the caller's own join requests.
type OwnJoinRequestView struct {
	ID           string                 `json:"id"`
	Organization JoinedOrganizationView `json:"organization"`
	Message      string                 `json:"message"`
	State        string                 `json:"state" enum:"pending,approved,denied,cancelled"`
	CreatedAt    time.Time              `json:"created_at"`
	DecidedAt    *time.Time             `json:"decided_at" doc:"When it was approved, denied or cancelled."`
}

func ownJoinRequestView(r account.JoinRequest) OwnJoinRequestView {
	v := OwnJoinRequestView{ID: r.ID, Message: r.Message, State: string(r.State), CreatedAt: r.CreatedAt,
		Organization: JoinedOrganizationView{ID: r.Organization.ID, Slug: r.Organization.Slug, Name: r.Organization.Name}}
	if v.Organization.ID == "" {
		v.Organization.ID = r.OrgID
	}
	if !r.DecidedAt.IsZero() {
		at := r.DecidedAt
		v.DecidedAt = &at
	}
	return v
}

type ownJoinRequestsOutput struct {
	Body struct {
		Items []OwnJoinRequestView `json:"items" doc:"Newest first: every pending request, and those decided or cancelled in the last 90 days (at most 100)."`
	}
}

// listOwnJoinRequests lists the caller's own join requests, in every organization.
func (s *Server) listOwnJoinRequests(ctx context.Context, _ *struct{}) (*ownJoinRequestsOutput, error) {
	rs, err := s.svc.FindOwnJoinRequests(ctx, actorFrom(ctx))
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &ownJoinRequestsOutput{}
	out.Body.Items = mapSlice(rs, ownJoinRequestView)
	return out, nil
}

type ownJoinRequestOutput struct {
	Body OwnJoinRequestView
}

// OwnJoinRequestPath addresses one of the caller's own join requests.
type OwnJoinRequestPath struct {
	ID string `path:"id" maxLength:"64" doc:"The join request's id."`
}

// cancelOwnJoinRequest withdraws the caller's own pending join request.
func (s *Server) cancelOwnJoinRequest(ctx context.Context, in *OwnJoinRequestPath) (*ownJoinRequestOutput, error) {
	r, err := s.svc.CancelJoinRequest(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &ownJoinRequestOutput{Body: ownJoinRequestView(r)}, nil
}

// leaveOrganization ends the caller's own membership of an organization.
func (s *Server) leaveOrganization(ctx context.Context, in *OrgPath) (*struct{}, error) {
	return nil, s.fail(ctx, s.svc.LeaveOrganization(ctx, actorFrom(ctx), in.Org))
}
