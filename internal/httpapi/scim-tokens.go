package httpapi

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

// SCIMTokenView is one of an organization's SCIM tokens (never the secret).
type SCIMTokenView struct {
	ID          string     `json:"id"`
	Description string     `json:"description"`
	Prefix      string     `json:"prefix" doc:"The token's first characters."`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at" doc:"Kept to the minute."`
	RevokedAt   *time.Time `json:"revoked_at"`
}

func scimTokenView(t account.SCIMToken) SCIMTokenView {
	return SCIMTokenView{ID: t.ID, Description: t.Description, Prefix: t.Prefix, CreatedAt: t.CreatedAt,
		LastUsedAt: nullableTime(t.LastUsedAt), RevokedAt: nullableTime(t.RevokedAt)}
}

type createSCIMTokenInput struct {
	OrgPath
	Body struct {
		Description string `json:"description" required:"true" maxLength:"100" doc:"What the token is for, e.g. the identity provider that holds it."`
	}
}

type createSCIMTokenOutput struct {
	Body struct {
		SCIMTokenView
		Token string `json:"token" doc:"The bearer token for /scim/v2/organizations/{org}/. Shown once: only its hash is kept."`
	}
}

func (s *Server) createSCIMToken(ctx context.Context, in *createSCIMTokenInput) (*createSCIMTokenOutput, error) {
	t, token, err := s.svc.CreateSCIMToken(ctx, actorFrom(ctx), in.Org, in.Body.Description)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &createSCIMTokenOutput{}
	out.Body.SCIMTokenView = scimTokenView(t)
	out.Body.Token = token
	return out, nil
}

type scimTokensOutput struct {
	Body List[SCIMTokenView]
}

func (s *Server) listSCIMTokens(ctx context.Context, in *OrgPath) (*scimTokensOutput, error) {
	ts, err := s.svc.FindSCIMTokens(ctx, actorFrom(ctx), in.Org)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &scimTokensOutput{Body: List[SCIMTokenView]{Items: mapSlice(ts, scimTokenView), Total: len(ts)}}, nil
}

type scimTokenPath struct {
	OrgPath
	ID string `path:"id" doc:"The token's id."`
}

func (s *Server) revokeSCIMToken(ctx context.Context, in *scimTokenPath) (*struct{}, error) {
	return nil, s.fail(ctx, s.svc.RevokeSCIMToken(ctx, actorFrom(ctx), in.Org, in.ID))
}
