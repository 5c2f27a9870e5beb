package httpapi

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpedge"
)

type loginInput struct {
	UserAgent string `header:"User-Agent"`
	Body      struct {
		Email       string `json:"email" required:"true" maxLength:"254"`
		Password    string `json:"password" required:"true" maxLength:"256"`
		DeviceToken string `json:"device_token,omitempty" maxLength:"100" doc:"The device_token of an earlier login of this account on this client: its failed attempts then have their own allowance, apart from other clients'. An unknown, expired or another account's token is ignored."`
	}
}

type loginOutput struct {
	Body struct {
		Token                 string      `json:"token" doc:"The bearer token of the new session. Shown once."`
		ExpiresAt             time.Time   `json:"expires_at"`
		Account               AccountView `json:"account"`
		PasswordResetRequired bool        `json:"password_reset_required" doc:"When true, only PUT /api/v1/me/password, GET /api/v1/me and logout are allowed."`
		DeviceToken           string      `json:"device_token" doc:"Marks this client as a known device of the account: send it with the next logins (device_token). The one sent, if it was valid, else a new one."`
	}
}

// login opens a session under the login limits (limits.Limits.Login).
func (s *Server) login(ctx context.Context, in *loginInput) (*loginOutput, error) {
	var devices []string
	if in.Body.DeviceToken != "" {
		devices = []string{in.Body.DeviceToken}
	}
	res, err := s.limits.Login(ctx, account.LoginInput{Email: in.Body.Email, Password: in.Body.Password,
		DeviceTokens: devices, UserAgent: truncate(in.UserAgent, 200)})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &loginOutput{}
	out.Body.Token = res.Token
	out.Body.ExpiresAt = res.Session.ExpiresAt
	out.Body.Account = accountView(res.Account)
	out.Body.PasswordResetRequired = res.Account.MustResetPassword
	out.Body.DeviceToken = res.DeviceToken
	return out, nil
}

func (s *Server) logout(ctx context.Context, _ *struct{}) (*struct{}, error) {
	if err := s.svc.Logout(ctx, actorFrom(ctx)); err != nil {
		return nil, s.fail(ctx, err)
	}
	return nil, nil
}

// OrganizationRef names an organization inside another object.
type OrganizationRef struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
	Kind string `json:"kind" enum:"partner,organization"`
}

func organizationRef(o account.Organization) OrganizationRef {
	return OrganizationRef{ID: o.ID, Slug: o.Slug, Name: o.Name, Kind: string(o.Kind)}
}

// MembershipView is one of the caller's memberships.
type MembershipView struct {
	Organization OrganizationRef `json:"organization"`
	Role         string          `json:"role"`
	State        string          `json:"state" enum:"invited,active,deactivated"`
	Teams        []string        `json:"teams"`
	Seats        []SeatView      `json:"seats"`
}

type meOutput struct {
	Body struct {
		Account     AccountView      `json:"account"`
		Memberships []MembershipView `json:"memberships"`
		// Beyond API.md's shape: the domain join policies.
		SuggestedOrganizations []OrganizationRef `json:"suggested_organizations" doc:"Organizations the caller may ask to join (POST …/join-requests) because they verified the domain of the caller's proven email and suggest themselves to its people; empty otherwise."`
	}
}

func (s *Server) me(ctx context.Context, _ *struct{}) (*meOutput, error) {
	a, ms, sug, err := s.svc.Me(ctx, actorFrom(ctx))
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &meOutput{}
	out.Body.Account = accountView(a)
	out.Body.Memberships = mapSlice(ms, membershipView)
	out.Body.SuggestedOrganizations = mapSlice(sug, organizationRef)
	return out, nil
}

func membershipView(m account.AccountMembership) MembershipView {
	teams := m.Teams
	if teams == nil {
		teams = []string{}
	}
	return MembershipView{Organization: organizationRef(m.Organization), Role: m.RoleID,
		State: string(m.State), Teams: teams, Seats: seatViews(m.Seats)}
}

type changePasswordInput struct {
	Body struct {
		CurrentPassword string `json:"current_password" required:"true"`
		NewPassword     string `json:"new_password" required:"true"`
	}
}

// changePassword sets a new password; every other session of the account is revoked.
func (s *Server) changePassword(ctx context.Context, in *changePasswordInput) (*struct{}, error) {
	if err := s.limits.ChangePassword(ctx, actorFrom(ctx), in.Body.CurrentPassword, in.Body.NewPassword); err != nil {
		return nil, s.fail(ctx, err)
	}
	return nil, nil
}

type setupInput struct {
	Body struct {
		Token     string `json:"token" required:"true" doc:"The token of the setup link printed at first start."`
		Email     string `json:"email" required:"true"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Password  string `json:"password" required:"true"`
	}
}

type accountOutput struct {
	Body struct {
		Account AccountView `json:"account"`
	}
}

// completeSetup creates the first operator from the one-time setup link's token.
func (s *Server) completeSetup(ctx context.Context, in *setupInput) (*accountOutput, error) {
	b := in.Body
	a, err := s.svc.CompleteSetup(ctx, account.SetupInput{Token: b.Token, Email: b.Email,
		FirstName: b.FirstName, LastName: b.LastName, Password: b.Password}, httpedge.ClientIP(ctx))
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &accountOutput{}
	out.Body.Account = accountView(a)
	return out, nil
}

// PermissionView is one permission of the catalogue.
type PermissionView struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type permissionsOutput struct {
	Body struct {
		Permissions []PermissionView `json:"permissions"`
		Roles       []RoleView       `json:"roles" doc:"The predefined roles."`
	}
}

func (s *Server) listPermissions(ctx context.Context, _ *struct{}) (*permissionsOutput, error) {
	out := &permissionsOutput{}
	out.Body.Permissions = mapSlice(account.Catalogue(), func(p account.Permission) PermissionView {
		return PermissionView{Name: string(p), Description: p.Description()}
	})
	out.Body.Roles = mapSlice(account.PredefinedRoles(), roleView)
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
