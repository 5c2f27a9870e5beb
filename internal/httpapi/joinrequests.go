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
	State      string        `json:"state" enum:"pending,approved,denied"`
	CreatedAt  time.Time     `json:"created_at"`
	DecidedAt  *time.Time    `json:"decided_at"`
	DecidedBy  *string       `json:"decided_by" doc:"The account id that approved or denied it."`
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
	Status string `query:"status" enum:"pending,approved,denied" doc:"Only requests in this state."`
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
