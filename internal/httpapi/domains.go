package httpapi

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

// DomainVerificationView is the DNS record that proves a domain.
type DomainVerificationView struct {
	Type  string `json:"type" enum:"dns-txt"`
	Name  string `json:"name" doc:"Where the TXT record goes: _roster-verification.<domain>."`
	Value string `json:"value" doc:"What the TXT record holds, exactly."`
}

// DomainCheckView is the latest check of a domain's record.
type DomainCheckView struct {
	CheckedAt time.Time `json:"checked_at"`
	Error     *string   `json:"error" doc:"Why the record was not accepted; null when it was."`
}

// DomainView is one of an organization's email domains.
type DomainView struct {
	ID           string                 `json:"id"`
	Domain       string                 `json:"domain" doc:"In ASCII lower case (IDNA)."`
	State        string                 `json:"state" enum:"pending,verified,expired"`
	Verification DomainVerificationView `json:"verification"`
	VerifiedAt   *time.Time             `json:"verified_at"`
	VerifiedBy   *string                `json:"verified_by" enum:"dns,operator" doc:"How it was verified: its DNS record, or an operator marked it verified."`
	LastCheck    *DomainCheckView       `json:"last_check" doc:"The latest lookup of the record; null before the first."`
	PendingUntil time.Time              `json:"pending_until" doc:"Until when a pending domain is looked up again in the background; then it expires."`
	CreatedAt    time.Time              `json:"created_at"`
}

func domainView(d account.Domain) DomainView {
	v := DomainView{ID: d.ID, Domain: d.Name, State: string(d.State),
		Verification: DomainVerificationView{Type: account.DomainVerificationType, Name: d.VerificationName(),
			Value: d.VerificationValue()},
		VerifiedBy: nullable(d.VerifiedBy), PendingUntil: d.PendingUntil, CreatedAt: d.CreatedAt}
	if !d.VerifiedAt.IsZero() {
		at := d.VerifiedAt
		v.VerifiedAt = &at
	}
	if !d.CheckedAt.IsZero() {
		v.LastCheck = &DomainCheckView{CheckedAt: d.CheckedAt, Error: nullable(d.CheckError)}
	}
	return v
}

type domainOutput struct {
	Body DomainView
}

type addDomainInput struct {
	OrgPath
	Body struct {
		// No pattern: the domain's 422 names domain itself, with why.
		Domain string `json:"domain" required:"true" maxLength:"300" doc:"An email domain, such as acme.com; internationalized names are accepted and stored in ASCII."`
	}
}

func (s *Server) addDomain(ctx context.Context, in *addDomainInput) (*domainOutput, error) {
	d, err := s.svc.AddDomain(ctx, actorFrom(ctx), in.Org, in.Body.Domain)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &domainOutput{Body: domainView(d)}, nil
}

type domainsOutput struct {
	Body List[DomainView]
}

func (s *Server) listDomains(ctx context.Context, in *OrgPath) (*domainsOutput, error) {
	ds, err := s.svc.FindDomains(ctx, actorFrom(ctx), in.Org)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &domainsOutput{Body: listOf(account.Page[account.Domain]{Items: ds, Total: len(ds)}, domainView)}, nil
}

// DomainPath addresses one domain of an organization.
type DomainPath struct {
	OrgPath
	ID string `path:"id" maxLength:"64" doc:"The domain's id."`
}

func (s *Server) getDomain(ctx context.Context, in *DomainPath) (*domainOutput, error) {
	d, err := s.svc.FindDomain(ctx, actorFrom(ctx), in.Org, in.ID)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &domainOutput{Body: domainView(d)}, nil
}

func (s *Server) removeDomain(ctx context.Context, in *DomainPath) (*struct{}, error) {
	return nil, s.fail(ctx, s.svc.RemoveDomain(ctx, actorFrom(ctx), in.Org, in.ID))
}

type verifyDomainInput struct {
	DomainPath
	Body *struct {
		Force bool `json:"force" doc:"Operator only: mark the domain verified without looking its record up (audited)."`
	}
}

func (s *Server) verifyDomain(ctx context.Context, in *verifyDomainInput) (*domainOutput, error) {
	force := in.Body != nil && in.Body.Force
	d, err := s.svc.VerifyDomain(ctx, actorFrom(ctx), in.Org, in.ID, force)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &domainOutput{Body: domainView(d)}, nil
}
