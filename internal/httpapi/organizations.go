package httpapi

import (
	"context"

	"roster.dev/roster/internal/account"
)

type OrgPath struct {
	Org string `path:"org" doc:"The organization's id or slug."`
}

type organizationOutput struct {
	Body OrganizationView
}

func orgOut(o account.Organization) *organizationOutput {
	return &organizationOutput{Body: organizationView(o)}
}

type createOrganizationInput struct {
	Body struct {
		Name   string `json:"name" required:"true"`
		Slug   string `json:"slug" doc:"Lower-case letters, digits and dashes; derived from the name when omitted."`
		Kind   string `json:"kind" required:"true" enum:"partner,organization"`
		Parent string `json:"parent" doc:"The partner (id or slug) an organization belongs to."`
	}
}

func (s *Server) createOrganization(ctx context.Context, in *createOrganizationInput) (*organizationOutput, error) {
	b := in.Body
	o, err := s.svc.CreateOrganization(ctx, actorFrom(ctx), account.CreateOrganizationInput{
		Name: b.Name, Slug: b.Slug, Kind: account.OrgKind(b.Kind), Parent: b.Parent})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return orgOut(o), nil
}

type PageQuery struct {
	Limit  int    `query:"limit" doc:"Items per page (default 50, at most 500)."`
	Cursor string `query:"cursor" doc:"The next_cursor of the previous page."`
}

type listOrganizationsInput struct {
	Q      string `query:"q" doc:"Part of the name or slug."`
	Kind   string `query:"kind" doc:"partner or organization."`
	Parent string `query:"parent" doc:"Only organizations under this partner (id or slug)."`
	PageQuery
}

type organizationsOutput struct {
	Body List[OrganizationView]
}

func (s *Server) listOrganizations(ctx context.Context, in *listOrganizationsInput) (*organizationsOutput, error) {
	p, err := s.svc.FindOrganizations(ctx, actorFrom(ctx), account.OrganizationQuery{
		Q: in.Q, Kind: in.Kind, Parent: in.Parent, Cursor: in.Cursor, Limit: in.Limit})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &organizationsOutput{Body: listOf(p, organizationView)}, nil
}

func (s *Server) getOrganization(ctx context.Context, in *OrgPath) (*organizationOutput, error) {
	o, err := s.svc.FindOrganization(ctx, actorFrom(ctx), in.Org)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return orgOut(o), nil
}

type updateOrganizationInput struct {
	OrgPath
	Body struct {
		Name                *string `json:"name"`
		Slug                *string `json:"slug"`
		InvitationTTLHours  *int    `json:"invitation_ttl_hours" doc:"How long an invitation stays valid, 1 to 720 hours."`
		EndingSoonDays      *int    `json:"ending_soon_days" doc:"The window of the starting_soon and ending_soon badges, 1 to 365 days."`
		SCIMActivationEmail *bool   `json:"scim_activation_email" doc:"Whether people SCIM provisions with a new account are emailed a link to set their password."`
		// Not an enum: the domain's 422 names required_profile_fields itself.
		RequiredProfileFields *[]string `json:"required_profile_fields" doc:"The profile fields required of the people the organization adds with a profile (send_invite false, import rows with send_invite no, SCIM) and kept by every update: a subset of phone and username; [] requires none."`
		// Not enums: the domain's 422 names the field itself.
		DomainJoinPolicy     *string `json:"domain_join_policy" doc:"What people whose proven email is at one of the organization's verified domains may do: off (nothing), suggest (they see the organization on their account page and may ask to join) or auto (they join at once, with domain_join_role, when they sign up or log in)."`
		DomainJoinRole       *string `json:"domain_join_role" doc:"The role auto gives: a role id below owner that the caller could grant."`
		ManageDomainAccounts *bool   `json:"manage_domain_accounts" doc:"Whether the organization manages the accounts whose email is at one of its verified domains (exactly the domain, not a subdomain; never an operator's), as if it had created them: it sees and edits their profile, and adding, inviting, importing or SCIM-provisioning such an account makes it an active member at once, without the person's acceptance; the person is emailed each time. Computed from the domains verified now: removing the domain or turning this off ends it at once. Passwords stay the person's own."`
	}
}

func (s *Server) updateOrganization(ctx context.Context, in *updateOrganizationInput) (*organizationOutput, error) {
	b := in.Body
	o, err := s.svc.UpdateOrganization(ctx, actorFrom(ctx), in.Org, account.UpdateOrganizationInput{
		Name: b.Name, Slug: b.Slug, InvitationTTLHours: b.InvitationTTLHours, EndingSoonDays: b.EndingSoonDays,
		SCIMActivationEmail: b.SCIMActivationEmail, RequiredProfileFields: b.RequiredProfileFields,
		DomainJoinPolicy: b.DomainJoinPolicy, DomainJoinRole: b.DomainJoinRole, ManageDomainAccounts: b.ManageDomainAccounts})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return orgOut(o), nil
}

func (s *Server) deleteOrganization(ctx context.Context, in *OrgPath) (*struct{}, error) {
	return nil, s.fail(ctx, s.svc.DeleteOrganization(ctx, actorFrom(ctx), in.Org))
}

type AccountPath struct {
	Account string `path:"account" doc:"The account's id."`
}

func (s *Server) deleteAccount(ctx context.Context, in *AccountPath) (*struct{}, error) {
	return nil, s.fail(ctx, s.svc.DeleteAccount(ctx, actorFrom(ctx), in.Account))
}

func (s *Server) disableAccount(ctx context.Context, in *AccountPath) (*accountOutput, error) {
	a, err := s.svc.DisableAccount(ctx, actorFrom(ctx), in.Account)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &accountOutput{}
	out.Body.Account = accountView(a)
	return out, nil
}

func (s *Server) enableAccount(ctx context.Context, in *AccountPath) (*accountOutput, error) {
	a, err := s.svc.EnableAccount(ctx, actorFrom(ctx), in.Account)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &accountOutput{}
	out.Body.Account = accountView(a)
	return out, nil
}

type auditInput struct {
	PageQuery
}

type auditOutput struct {
	Body List[AuditEventView]
}

func (s *Server) listPlatformAudit(ctx context.Context, in *auditInput) (*auditOutput, error) {
	p, err := s.svc.FindPlatformAuditEvents(ctx, actorFrom(ctx), account.AuditQuery{Cursor: in.Cursor, Limit: in.Limit})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &auditOutput{Body: listOf(p, auditEventView)}, nil
}

type orgAuditInput struct {
	OrgPath
	PageQuery
}

func (s *Server) listAudit(ctx context.Context, in *orgAuditInput) (*auditOutput, error) {
	p, err := s.svc.FindAuditEvents(ctx, actorFrom(ctx), in.Org, account.AuditQuery{Cursor: in.Cursor, Limit: in.Limit})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &auditOutput{Body: listOf(p, auditEventView)}, nil
}
