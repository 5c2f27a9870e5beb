package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
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

// login opens a session under the login limits (Login).
func (s *Server) login(ctx context.Context, in *loginInput) (*loginOutput, error) {
	var devices []string
	if in.Body.DeviceToken != "" {
		devices = []string{in.Body.DeviceToken}
	}
	res, err := s.Login(ctx, account.LoginInput{Email: in.Body.Email, Password: in.Body.Password,
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

// Login runs a login attempt from the request's client under the login limits (429
// with Retry-After), which are OWASP's device cookies: a known device of the account
// (one of in.DeviceTokens) spends its own allowance of failed attempts; every other
// client spends its address's allowance of attempts and the email's allowance of
// failed attempts from unknown clients. So guessing is bounded, and failures from
// elsewhere never lock the account's own devices out. A right password gives the
// failure allowance back. The console's login shares these limits with the API's.
func (s *Server) Login(ctx context.Context, in account.LoginInput) (account.LoginResult, error) {
	ip := httpedge.ClientIP(ctx)
	in.IP = ip
	// A client that presents no device token cannot be a known device: its address's
	// allowance is spent before the store is read.
	mayBeKnown := slices.ContainsFunc(in.DeviceTokens, account.IsDeviceToken)
	if !mayBeKnown {
		if ok, wait := s.loginIP.Allow(ip); !ok {
			return account.LoginResult{}, rateLimited(ctx, wait, "too many login attempts from this address")
		}
	}
	in.Gate = func(emailKey, device string) (func(bool), error) {
		if device != "" {
			if ok, wait := s.loginDevice.Allow(device); !ok {
				return nil, rateLimited(ctx, wait, "too many failed logins from this device; try again later")
			}
			return func(ok bool) {
				if ok {
					s.loginDevice.Refund(device, 1)
				}
			}, nil
		}
		if mayBeKnown {
			if ok, wait := s.loginIP.Allow(ip); !ok {
				return nil, rateLimited(ctx, wait, "too many login attempts from this address")
			}
		}
		if ok, wait := s.loginEmail.Allow(emailKey); !ok {
			return nil, rateLimited(ctx, wait, "too many failed logins for this email; log in from a device that logged in to it before, or try again later")
		}
		return func(ok bool) {
			if ok {
				s.loginEmail.Refund(emailKey, 1)
			}
		}, nil
	}
	return s.svc.LoginWith(ctx, in)
}

func rateLimited(ctx context.Context, wait time.Duration, detail string) *Problem {
	p := newProblem(ctx, http.StatusTooManyRequests, account.ERATELIMITED, detail)
	p.retryAfter = max(1, int((wait+time.Second-1)/time.Second))
	return p
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
	}
}

func (s *Server) me(ctx context.Context, _ *struct{}) (*meOutput, error) {
	a, ms, err := s.svc.Me(ctx, actorFrom(ctx))
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &meOutput{}
	out.Body.Account = accountView(a)
	out.Body.Memberships = mapSlice(ms, membershipView)
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
	if err := s.ChangePassword(ctx, actorFrom(ctx), in.Body.CurrentPassword, in.Body.NewPassword); err != nil {
		return nil, s.fail(ctx, err)
	}
	return nil, nil
}

// ChangePassword changes the actor's password under the account's allowance of wrong
// current passwords (429 with Retry-After once it is spent), so that a session cannot
// guess the password without bound. Only a wrong current password spends it. The
// console's form shares the allowance with the API.
func (s *Server) ChangePassword(ctx context.Context, actor account.Actor, current, next string) error {
	key := actor.Account.ID
	if ok, wait := s.passwordChecks.Allow(key); !ok {
		return rateLimited(ctx, wait, "too many wrong current passwords; try again later")
	}
	err := s.svc.ChangePassword(ctx, actor, current, next)
	if !wrongCurrentPassword(err) {
		s.passwordChecks.Refund(key, 1)
	}
	return err
}

// wrongCurrentPassword reports whether err refuses the current_password.
func wrongCurrentPassword(err error) bool {
	var de *account.Error
	if !errors.As(err, &de) || de.Code != account.EINVALID {
		return false
	}
	return slices.ContainsFunc(de.Fields, func(f account.FieldError) bool { return f.Field == "current_password" })
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
