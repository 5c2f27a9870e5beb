package httpapi

import (
	"encoding/json"
	"time"

	"roster.dev/roster/internal/account"
)

// The JSON shapes of API.md. Optional strings are null when empty.

// AccountView is an account as its owner and operators see it.
type AccountView struct {
	ID                string    `json:"id"`
	Email             string    `json:"email"`
	Username          *string   `json:"username"`
	FirstName         string    `json:"first_name"`
	LastName          string    `json:"last_name"`
	Phone             *string   `json:"phone"`
	State             string    `json:"state" enum:"pending,active,disabled"`
	MustResetPassword bool      `json:"must_reset_password"`
	Operator          bool      `json:"operator"`
	EmailVerified     bool      `json:"email_verified" doc:"The person proved the mailbox: accepted an emailed invitation, followed a sign-up's link or completed a password reset."`
	ManagedBy         *string   `json:"managed_by" doc:"The organization that manages the account (it created it, and the person has not claimed it from their mailbox since), or null."`
	CreatedAt         time.Time `json:"created_at"`
}

func accountView(a account.Account) AccountView {
	return AccountView{
		ID: a.ID, Email: a.Email, Username: nullable(a.Username), FirstName: a.FirstName, LastName: a.LastName,
		Phone: nullable(a.Phone), State: string(a.State), MustResetPassword: a.MustResetPassword,
		Operator: a.Operator, EmailVerified: a.EmailVerified, ManagedBy: nullable(a.ManagedBy), CreatedAt: a.CreatedAt,
	}
}

// MemberAccountView is the account inside a member.
type MemberAccountView struct {
	ID        string  `json:"id"`
	Email     string  `json:"email"`
	Username  *string `json:"username"`
	FirstName string  `json:"first_name"`
	LastName  string  `json:"last_name"`
	Phone     *string `json:"phone"`
	Managed   bool    `json:"managed" doc:"The organization manages the account: its admins may edit the profile. Until an invited person accepts, an account the organization does not manage shows only its id and email."`
}

// SeatView is one seat a member holds.
type SeatView struct {
	Subscription string `json:"subscription"`
	Application  string `json:"application"`
}

// MemberView is a member of an organization.
type MemberView struct {
	Account MemberAccountView `json:"account"`
	Role    string            `json:"role"`
	Teams   []string          `json:"teams"`
	State   string            `json:"state" enum:"invited,active,deactivated"`
	Seats   []SeatView        `json:"seats"`
	// Invitation is the pending (or expired) invitation of an invited member.
	Invitation *InvitationRefView `json:"invitation,omitempty"`
	CreatedAt  time.Time          `json:"created_at"`
	UpdatedAt  time.Time          `json:"updated_at"`
}

func seatViews(seats []account.MemberSeat) []SeatView {
	return mapSlice(seats, func(s account.MemberSeat) SeatView {
		return SeatView{Subscription: s.SubscriptionID, Application: s.ApplicationKey}
	})
}

func (s *Server) memberView(m account.Member) MemberView {
	a := m.Account
	teams := m.Teams
	if teams == nil {
		teams = []string{}
	}
	return MemberView{
		Account: MemberAccountView{ID: a.ID, Email: a.Email, Username: nullable(a.Username),
			FirstName: a.FirstName, LastName: a.LastName, Phone: nullable(a.Phone), Managed: m.Managed},
		Role: m.RoleID, Teams: teams, State: string(m.State),
		Seats:      seatViews(m.Seats),
		Invitation: s.invitationRef(m.Invitation),
		CreatedAt:  m.CreatedAt, UpdatedAt: m.UpdatedAt,
	}
}

func (s *Server) invitationRef(inv *account.Invitation) *InvitationRefView {
	if inv == nil {
		return nil
	}
	return &InvitationRefView{ID: inv.ID, ExpiresAt: inv.ExpiresAt, State: string(inv.StateAt(s.now()))}
}

// OrganizationView is a partner or an organization with its settings.
type OrganizationView struct {
	ID                    string    `json:"id"`
	Kind                  string    `json:"kind" enum:"partner,organization"`
	Name                  string    `json:"name"`
	Slug                  string    `json:"slug"`
	Parent                *string   `json:"parent"`
	InvitationTTLHours    int       `json:"invitation_ttl_hours"`
	EndingSoonDays        int       `json:"ending_soon_days"`
	SCIMActivationEmail   bool      `json:"scim_activation_email" doc:"People SCIM provisions with a new account are emailed a link to set their password."`
	RequiredProfileFields []string  `json:"required_profile_fields" doc:"The profile fields the organization requires (phone, username); empty when none."`
	DomainJoinPolicy      string    `json:"domain_join_policy" enum:"off,suggest,auto" doc:"What people of the organization's verified domains may do."`
	DomainJoinRole        string    `json:"domain_join_role" doc:"The role the auto join policy gives."`
	ManageDomainAccounts  bool      `json:"manage_domain_accounts" doc:"The organization manages the accounts whose email is at one of its verified domains."`
	CreatedAt             time.Time `json:"created_at"`
	UpdatedAt             time.Time `json:"updated_at"`
}

func organizationView(o account.Organization) OrganizationView {
	return OrganizationView{
		ID: o.ID, Kind: string(o.Kind), Name: o.Name, Slug: o.Slug, Parent: nullable(o.ParentID),
		InvitationTTLHours: o.InvitationTTLHours, EndingSoonDays: o.EndingSoonDays,
		SCIMActivationEmail: o.SCIMActivationEmail, RequiredProfileFields: o.RequiredFields(),
		DomainJoinPolicy: orDefault(o.DomainJoinPolicy, account.JoinPolicyOff), DomainJoinRole: orDefault(o.DomainJoinRole, account.RoleMember),
		ManageDomainAccounts: o.ManageDomainAccounts, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
	}
}

// RoleView is a predefined or custom role.
type RoleView struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
	Active      bool     `json:"active"`
	Predefined  bool     `json:"predefined"`
}

func roleView(r account.Role) RoleView {
	return RoleView{ID: r.ID, Name: r.Name, Permissions: r.Permissions.Names(), Active: r.Active, Predefined: r.Predefined}
}

// TeamView is a team with its member count.
type TeamView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Members   int       `json:"members"`
	CreatedAt time.Time `json:"created_at"`
}

func teamView(t account.Team) TeamView {
	return TeamView{ID: t.ID, Name: t.Name, Members: t.Members, CreatedAt: t.CreatedAt}
}

// ActorView is who did something.
type ActorView struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// TargetView is what something was done to.
type TargetView struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// AuditEventView is one audit event.
type AuditEventView struct {
	ID           string          `json:"id"`
	Time         time.Time       `json:"time"`
	Action       string          `json:"action"`
	Actor        *ActorView      `json:"actor"`
	Target       TargetView      `json:"target"`
	Organization *string         `json:"organization"`
	Before       json.RawMessage `json:"before" doc:"The changed fields before the change (null when created)."`
	After        json.RawMessage `json:"after" doc:"The changed fields after the change (null when deleted)."`
	IP           string          `json:"ip"`
}

func auditEventView(e account.AuditEvent) AuditEventView {
	v := AuditEventView{
		ID: e.ID, Time: e.CreatedAt, Action: e.Action, Target: TargetView{Type: e.TargetType, ID: e.TargetID},
		Organization: nullable(e.OrgID), Before: rawOrNull(e.Before), After: rawOrNull(e.After), IP: e.IP,
	}
	if e.ActorID != "" {
		v.Actor = &ActorView{ID: e.ActorID, Email: e.ActorEmail}
	}
	return v
}

// List is the body of every list answer.
type List[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
	Total      int     `json:"total"`
}

func listOf[S, T any](p account.Page[S], view func(S) T) List[T] {
	items := make([]T, len(p.Items))
	for i, it := range p.Items {
		items[i] = view(it)
	}
	return List[T]{Items: items, NextCursor: nullable(p.NextCursor), Total: p.Total}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func rawOrNull(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return json.RawMessage(b)
}

func mapSlice[S, T any](in []S, f func(S) T) []T {
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// orDefault is v, or def when v is empty.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
