package httpapi

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpedge"
)

// InvitationRefView is the invitation inside an invited member.
type InvitationRefView struct {
	ID        string    `json:"id"`
	ExpiresAt time.Time `json:"expires_at"`
	State     string    `json:"state" enum:"pending,expired"`
}

// InviterView is who sent an invitation.
type InviterView struct {
	ID   *string `json:"id" doc:"The inviter's account id (null when deleted since)."`
	Name string  `json:"name"`
}

// InvitationView is an invitation as its organization's admins see it. The token
// is never shown: it only travels in the email.
type InvitationView struct {
	ID         string      `json:"id"`
	Email      string      `json:"email"`
	Account    string      `json:"account" doc:"The invitee's account id."`
	Role       string      `json:"role"`
	State      string      `json:"state" enum:"pending,accepted,expired,cancelled"`
	ExpiresAt  time.Time   `json:"expires_at"`
	Inviter    InviterView `json:"inviter"`
	CreatedAt  time.Time   `json:"created_at"`
	UpdatedAt  time.Time   `json:"updated_at"`
	AcceptedAt *time.Time  `json:"accepted_at"`
}

func invitationView(inv account.Invitation, now time.Time) InvitationView {
	v := InvitationView{
		ID: inv.ID, Email: inv.Email, Account: inv.AccountID, Role: inv.RoleID, State: string(inv.StateAt(now)),
		ExpiresAt: inv.ExpiresAt, Inviter: InviterView{ID: nullable(inv.InviterID), Name: inv.InviterName},
		CreatedAt: inv.CreatedAt, UpdatedAt: inv.UpdatedAt,
	}
	if !inv.AcceptedAt.IsZero() {
		at := inv.AcceptedAt
		v.AcceptedAt = &at
	}
	return v
}

// resultError is why one item of a bulk request failed.
func (s *Server) resultError(ctx context.Context, err error) *ResultError {
	p := problemFor(ctx, s.log, err)
	return &ResultError{Type: p.Type, Status: p.Status, Detail: p.Detail, Errors: p.Errors}
}

type inviteInput struct {
	OrgPath
	Body struct {
		Emails       []string `json:"emails" required:"true" maxItems:"500" doc:"At most 500 addresses."`
		Role         string   `json:"role" doc:"A role id; member when omitted."`
		Teams        []string `json:"teams" maxItems:"100" doc:"Team names."`
		Applications []string `json:"applications" maxItems:"50" doc:"Application keys: a seat of each is reserved for every invitee."`
	}
}

// InviteResultView is the outcome for one email of a bulk invitation.
type InviteResultView struct {
	Email      string          `json:"email"`
	Invitation *InvitationView `json:"invitation,omitempty"`
	Member     *MemberView     `json:"member,omitempty" doc:"Instead of an invitation: the person, an active member at once (an account the organization manages by its verified domain, manage_domain_accounts)."`
	Error      *ResultError    `json:"error,omitempty"`
}

type inviteOutput struct {
	Body struct {
		Results []InviteResultView `json:"results"`
	}
}

// invite sends invitations to several emails; each email gets its own result.
// Invitation emails are rate limited per caller.
func (s *Server) invite(ctx context.Context, in *inviteInput) (*inviteOutput, error) {
	actor := actorFrom(ctx)
	if err := s.allowInvitations(ctx, actor, len(in.Body.Emails)); err != nil {
		return nil, err
	}
	results, err := s.svc.Invite(ctx, actor, in.Org, account.InviteInput{
		Emails: in.Body.Emails, Role: in.Body.Role, Teams: in.Body.Teams, Applications: in.Body.Applications})
	s.limits.RefundInvitations(actor, len(in.Body.Emails)-sent(results, err, func(r account.InviteResult) error { return r.Err }))
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	now := s.now()
	out := &inviteOutput{}
	out.Body.Results = mapSlice(results, func(r account.InviteResult) InviteResultView {
		v := InviteResultView{Email: r.Email}
		switch {
		case r.Err != nil:
			v.Error = s.resultError(ctx, r.Err)
		case r.Invitation.ID == "":
			mv := s.memberView(r.Member)
			v.Member = &mv
		default:
			iv := invitationView(r.Invitation, now)
			v.Invitation = &iv
		}
		return v
	})
	return out, nil
}

// allowInvitations takes n invitation emails from the caller's allowance
// (limits.Limits.AllowInvitations); RefundInvitations gives back those not sent.
func (s *Server) allowInvitations(ctx context.Context, actor account.Actor, n int) error {
	return s.fail(ctx, s.limits.AllowInvitations(ctx, actor, n))
}

// sent counts the items of a bulk request's results that were applied: none when the
// request failed as a whole.
func sent[T any](results []T, err error, errOf func(T) error) int {
	if err != nil {
		return 0
	}
	n := 0
	for _, r := range results {
		if errOf(r) == nil {
			n++
		}
	}
	return n
}

type listInvitationsInput struct {
	OrgPath
	Status string `query:"status" enum:"pending,expired,accepted,cancelled" doc:"Only invitations in this state."`
	PageQuery
}

type invitationsOutput struct {
	Body List[InvitationView]
}

func (s *Server) listInvitations(ctx context.Context, in *listInvitationsInput) (*invitationsOutput, error) {
	p, err := s.svc.FindInvitations(ctx, actorFrom(ctx), in.Org, account.InvitationQuery{
		Status: in.Status, Cursor: in.Cursor, Limit: in.Limit})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	now := s.now()
	return &invitationsOutput{Body: listOf(p, func(i account.Invitation) InvitationView { return invitationView(i, now) })}, nil
}

// InvitationPath addresses one invitation of an organization.
type InvitationPath struct {
	OrgPath
	ID string `path:"id" maxLength:"64" doc:"The invitation's id."`
}

type invitationOutput struct {
	Body InvitationView
}

func (s *Server) getInvitation(ctx context.Context, in *InvitationPath) (*invitationOutput, error) {
	inv, err := s.svc.FindInvitation(ctx, actorFrom(ctx), in.Org, in.ID)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &invitationOutput{Body: invitationView(inv, s.now())}, nil
}

func (s *Server) resendInvitation(ctx context.Context, in *InvitationPath) (*invitationOutput, error) {
	actor := actorFrom(ctx)
	if err := s.allowInvitations(ctx, actor, 1); err != nil {
		return nil, err
	}
	inv, err := s.svc.ResendInvitation(ctx, actor, in.Org, in.ID)
	if err != nil {
		s.limits.RefundInvitations(actor, 1)
		return nil, s.fail(ctx, err)
	}
	return &invitationOutput{Body: invitationView(inv, s.now())}, nil
}

type resendInvitationsInput struct {
	OrgPath
	Body struct {
		Invitations []string `json:"invitations" required:"true" maxItems:"500" doc:"Invitation ids, at most 500."`
	}
}

// ResendResultView is the outcome for one invitation of a bulk resend.
type ResendResultView struct {
	ID         string          `json:"id"`
	Invitation *InvitationView `json:"invitation,omitempty"`
	Error      *ResultError    `json:"error,omitempty"`
}

type resendInvitationsOutput struct {
	Body struct {
		Results []ResendResultView `json:"results"`
	}
}

func (s *Server) resendInvitations(ctx context.Context, in *resendInvitationsInput) (*resendInvitationsOutput, error) {
	actor := actorFrom(ctx)
	if err := s.allowInvitations(ctx, actor, len(in.Body.Invitations)); err != nil {
		return nil, err
	}
	results, err := s.svc.ResendInvitations(ctx, actor, in.Org, in.Body.Invitations)
	s.limits.RefundInvitations(actor, len(in.Body.Invitations)-sent(results, err, func(r account.ResendResult) error { return r.Err }))
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	now := s.now()
	out := &resendInvitationsOutput{}
	out.Body.Results = mapSlice(results, func(r account.ResendResult) ResendResultView {
		v := ResendResultView{ID: r.ID}
		if r.Err != nil {
			v.Error = s.resultError(ctx, r.Err)
		} else {
			iv := invitationView(r.Invitation, now)
			v.Invitation = &iv
		}
		return v
	})
	return out, nil
}

func (s *Server) cancelInvitation(ctx context.Context, in *InvitationPath) (*struct{}, error) {
	return nil, s.fail(ctx, s.svc.CancelInvitation(ctx, actorFrom(ctx), in.Org, in.ID))
}

// TokenPath is a public link's secret token.
type TokenPath struct {
	Token string `path:"token" maxLength:"100" doc:"The token from the invitation email's link."`
}

type invitationPreviewOutput struct {
	Body struct {
		Organization struct {
			Name string `json:"name"`
		} `json:"organization"`
		Email            string    `json:"email"`
		Inviter          string    `json:"inviter" doc:"Who sent the invitation."`
		ExpiresAt        time.Time `json:"expires_at"`
		AccountExists    bool      `json:"account_exists" doc:"When true, accept with the account's own session (unless password_required); otherwise with names and a password."`
		PasswordRequired bool      `json:"password_required" doc:"The account is managed by an organization: accept with a new password (no session needed), which claims the account from the mailbox and ends its other sessions."`
		Role             string    `json:"role" doc:"The name of the role offered."`
		FirstName        string    `json:"first_name" doc:"The names the inviter gave, if any."`
		LastName         string    `json:"last_name"`
		RequiredFields   []string  `json:"required_fields" enum:"phone,username" doc:"The profile fields the organization requires that the account lacks: the acceptance must give each (422 naming the field otherwise)."`
	}
}

func (s *Server) previewInvitation(ctx context.Context, in *TokenPath) (*invitationPreviewOutput, error) {
	p, err := s.svc.PreviewInvitation(ctx, in.Token)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &invitationPreviewOutput{}
	b := &out.Body
	b.Organization.Name = p.Organization.Name
	b.Email, b.Inviter, b.ExpiresAt, b.AccountExists = p.Invitation.Email, p.Inviter, p.Invitation.ExpiresAt, p.AccountExists
	b.Role, b.FirstName, b.LastName, b.PasswordRequired = p.Role.Name, p.FirstName, p.LastName, p.Claim
	b.RequiredFields = append([]string{}, p.Required...)
	return out, nil
}

type acceptInvitationInput struct {
	TokenPath
	Body *struct {
		FirstName string `json:"first_name" maxLength:"200"`
		LastName  string `json:"last_name" maxLength:"200"`
		Password  string `json:"password" maxLength:"256"`
		Phone     string `json:"phone" doc:"Only when the preview's required_fields names phone: the account lacks it and the organization requires it."`
		Username  string `json:"username" doc:"Only when the preview's required_fields names username."`
	}
}

type acceptInvitationOutput struct {
	Body struct {
		Account    AccountView    `json:"account"`
		Membership MembershipView `json:"membership"`
	}
}

// acceptInvitation accepts with names and a password (a person new to Roster), or
// with the bearer session of the invited account.
func (s *Server) acceptInvitation(ctx context.Context, in *acceptInvitationInput) (*acceptInvitationOutput, error) {
	var ai account.AcceptInput
	if in.Body != nil {
		ai = account.AcceptInput{FirstName: in.Body.FirstName, LastName: in.Body.LastName, Password: in.Body.Password,
			Phone: in.Body.Phone, Username: in.Body.Username}
	}
	ai.Token = in.Token
	var actor *account.Actor
	if a, ok := ctx.Value(actorKey).(account.Actor); ok {
		actor = &a
	}
	res, err := s.svc.AcceptInvitation(ctx, actor, ai, httpedge.ClientIP(ctx))
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &acceptInvitationOutput{}
	out.Body.Account = accountView(res.Account)
	m := res.Member
	out.Body.Membership = membershipView(account.AccountMembership{Membership: m.Membership,
		Organization: res.Organization, Teams: m.Teams, Seats: m.Seats})
	return out, nil
}
