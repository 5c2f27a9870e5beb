package httpapi

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

// MemberCountsView counts an organization's members by state.
type MemberCountsView struct {
	Total       int `json:"total"`
	Active      int `json:"active"`
	Invited     int `json:"invited"`
	Deactivated int `json:"deactivated"`
}

type summaryOutput struct {
	Body struct {
		Members       MemberCountsView   `json:"members"`
		Subscriptions []SubscriptionView `json:"subscriptions"`
	}
}

// SubscriptionView is an organization's subscription to an application.
type SubscriptionView struct {
	ID          string    `json:"id"`
	Application string    `json:"application" doc:"The application's key."`
	Seats       int       `json:"seats" doc:"The quota."`
	Assigned    int       `json:"assigned"`
	Available   int       `json:"available"`
	StartsAt    time.Time `json:"starts_at"`
	EndsAt      time.Time `json:"ends_at"`
	State       string    `json:"state" enum:"upcoming,active,expired"`
	Badges      []string  `json:"badges" doc:"starting_soon, ending_soon (within the organization's ending_soon_days)."`
	RenewedFrom *string   `json:"renewed_from" doc:"The subscription this one renewed."`
}

func (s *Server) getSummary(ctx context.Context, in *OrgPath) (*summaryOutput, error) {
	sum, err := s.svc.FindSummary(ctx, actorFrom(ctx), in.Org)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &summaryOutput{}
	c := sum.Members
	out.Body.Members = MemberCountsView{Total: c.Total, Active: c.Active, Invited: c.Invited, Deactivated: c.Deactivated}
	out.Body.Subscriptions = mapSlice(sum.Subscriptions, func(sub account.Subscription) SubscriptionView {
		return s.subscriptionView(sum.Organization, sub)
	})
	return out, nil
}

type listMembersInput struct {
	OrgPath
	Q            string `query:"q" doc:"Part of the email, username, first or last name (case-insensitive)."`
	Role         string `query:"role" doc:"A role id."`
	Team         string `query:"team" doc:"A team name (case-insensitive)."`
	State        string `query:"state" doc:"invited, active or deactivated."`
	Application  string `query:"application" doc:"An application key: only members holding a seat of it."`
	Subscription string `query:"subscription" doc:"A subscription id: only members holding a seat of it."`
	PageQuery
}

type membersOutput struct {
	Body List[MemberView]
}

func (s *Server) listMembers(ctx context.Context, in *listMembersInput) (*membersOutput, error) {
	p, err := s.svc.FindMembers(ctx, actorFrom(ctx), in.Org, account.MemberQuery{
		Q: in.Q, Role: in.Role, Team: in.Team, State: in.State, Application: in.Application, Subscription: in.Subscription,
		Cursor: in.Cursor, Limit: in.Limit})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &membersOutput{Body: listOf(p, s.memberView)}, nil
}

type addMemberInput struct {
	OrgPath
	Body struct {
		Email                     string   `json:"email" required:"true"`
		FirstName                 string   `json:"first_name" doc:"Required with send_invite false when the email has no account yet; an invitee gives it on accepting."`
		LastName                  string   `json:"last_name" doc:"Required with send_invite false when the email has no account yet; an invitee gives it on accepting."`
		Phone                     string   `json:"phone" doc:"International format; stored as E.164."`
		Username                  string   `json:"username"`
		Role                      string   `json:"role" doc:"A role id; member when omitted."`
		Teams                     []string `json:"teams" doc:"Team names."`
		Applications              []string `json:"applications" doc:"Application keys to give a seat of."`
		RequestSeats              []string `json:"request_seats" doc:"Application keys with no seat left: the person is added without a seat of each, and a request for one more seat of each is filed in the same transaction (needs seats.request)."`
		SendInvite                *bool    `json:"send_invite" required:"true" doc:"true: invite by email; false: create the account active with password."`
		Password                  string   `json:"password" doc:"The new account's password when send_invite is false."`
		ResetPasswordOnFirstLogin bool     `json:"reset_password_on_first_login"`
	}
}

type memberOutput struct {
	Body MemberView
}

// addMember counts against the caller's invitation emails as POST …/invitations
// does, by the domain's rule for every addition (account.AddMemberWithin).
func (s *Server) addMember(ctx context.Context, in *addMemberInput) (*memberOutput, error) {
	b := in.Body
	m, err := s.svc.AddMemberWithin(ctx, actorFrom(ctx), in.Org, account.AddMemberInput{
		Email: b.Email, FirstName: b.FirstName, LastName: b.LastName, Phone: b.Phone, Username: b.Username,
		Role: b.Role, Teams: b.Teams, Applications: b.Applications, RequestSeats: b.RequestSeats, SendInvite: b.SendInvite,
		Password: b.Password, ResetPasswordOnFirstLogin: b.ResetPasswordOnFirstLogin}, s.limits)
	return memberOut(ctx, s, m, err)
}

func memberOut(ctx context.Context, s *Server, m account.Member, err error) (*memberOutput, error) {
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &memberOutput{Body: s.memberView(m)}, nil
}

type MemberPath struct {
	OrgPath
	AccountPath
}

func (s *Server) getMember(ctx context.Context, in *MemberPath) (*memberOutput, error) {
	m, err := s.svc.FindMember(ctx, actorFrom(ctx), in.Org, in.Account)
	return memberOut(ctx, s, m, err)
}

type updateMemberInput struct {
	MemberPath
	Body struct {
		Role      *string   `json:"role"`
		Teams     *[]string `json:"teams" doc:"The member's teams by name; replaces the current ones."`
		FirstName *string   `json:"first_name"`
		LastName  *string   `json:"last_name"`
		Phone     *string   `json:"phone"`
		Username  *string   `json:"username"`
	}
}

func (s *Server) updateMember(ctx context.Context, in *updateMemberInput) (*memberOutput, error) {
	b := in.Body
	m, err := s.svc.UpdateMember(ctx, actorFrom(ctx), in.Org, in.Account, account.UpdateMemberInput{
		Role: b.Role, Teams: b.Teams, FirstName: b.FirstName, LastName: b.LastName, Phone: b.Phone, Username: b.Username})
	return memberOut(ctx, s, m, err)
}

func (s *Server) deactivateMember(ctx context.Context, in *MemberPath) (*memberOutput, error) {
	m, err := s.svc.DeactivateMember(ctx, actorFrom(ctx), in.Org, in.Account)
	return memberOut(ctx, s, m, err)
}

func (s *Server) reactivateMember(ctx context.Context, in *MemberPath) (*memberOutput, error) {
	m, err := s.svc.ReactivateMember(ctx, actorFrom(ctx), in.Org, in.Account)
	return memberOut(ctx, s, m, err)
}

func (s *Server) removeMember(ctx context.Context, in *MemberPath) (*struct{}, error) {
	return nil, s.fail(ctx, s.svc.RemoveMember(ctx, actorFrom(ctx), in.Org, in.Account))
}

type removeMembersInput struct {
	OrgPath
	Body struct {
		Accounts []string `json:"accounts" required:"true" maxItems:"500" doc:"Account ids, at most 500."`
	}
}

// RemoveResultView is the outcome for one account of a bulk removal.
type RemoveResultView struct {
	Account string       `json:"account"`
	Status  string       `json:"status" enum:"removed,failed"`
	Error   *ResultError `json:"error,omitempty"`
}

// ResultError is why one item of a bulk request failed: a problem slug and detail.
type ResultError struct {
	Type   string               `json:"type"`
	Status int                  `json:"status"`
	Detail string               `json:"detail"`
	Errors []account.FieldError `json:"errors,omitempty" doc:"The invalid fields, for a validation failure."`
}

type removeMembersOutput struct {
	Body struct {
		Results []RemoveResultView `json:"results"`
	}
}

func (s *Server) removeMembers(ctx context.Context, in *removeMembersInput) (*removeMembersOutput, error) {
	results, err := s.svc.RemoveMembers(ctx, actorFrom(ctx), in.Org, in.Body.Accounts)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &removeMembersOutput{}
	out.Body.Results = mapSlice(results, func(r account.RemoveResult) RemoveResultView {
		if r.Err == nil {
			return RemoveResultView{Account: r.Account, Status: "removed"}
		}
		return RemoveResultView{Account: r.Account, Status: "failed", Error: s.resultError(ctx, r.Err)}
	})
	return out, nil
}
