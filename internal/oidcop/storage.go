// Package oidcop makes Roster the OpenID Connect provider of its applications
// ("Sign in with Roster"): the protocol is github.com/zitadel/oidc's op package
// (OpenID Certified), with Roster as its storage. Every rule — which client, who may
// sign in where, what the tokens say, when a token is refused — is the account
// service's; this package translates between the two.
package oidcop

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"roster.dev/roster/internal/account"
)

// storage is op.Storage over the account service.
type storage struct {
	svc  *account.Service
	keys *keyring
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
)

// orgHintKey carries the authorization request's organization parameter (which
// the op package does not parse) from the HTTP request to CreateAuthRequest.
type orgHintKey struct{}

// authRequest is an account.OIDCAuthRequest as the op package sees it; grant is set
// once its tokens are issued, for the claims of the tokens of the same response.
type authRequest struct {
	r     account.OIDCAuthRequest
	grant *account.OIDCGrant
}

func (a *authRequest) GetID() string         { return a.r.ID }
func (a *authRequest) GetACR() string        { return "" }
func (a *authRequest) GetAMR() []string      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string { return []string{a.r.ApplicationID} }
func (a *authRequest) GetAuthTime() time.Time {
	return a.r.AuthTime
}
func (a *authRequest) GetClientID() string { return a.r.ApplicationID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: oidc.CodeChallengeMethod(a.r.CodeChallengeMethod)}
}
func (a *authRequest) GetNonce() string                   { return a.r.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.r.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.r.ResponseType) }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.r.ResponseMode) }
func (a *authRequest) GetScopes() []string                { return a.r.Scopes }
func (a *authRequest) GetState() string                   { return a.r.State }
func (a *authRequest) GetSubject() string                 { return a.r.AccountID }
func (a *authRequest) Done() bool                         { return a.r.Done }

// refreshRequest is a refresh token's grant as the op package sees it.
type refreshRequest struct {
	t      account.OIDCRefreshToken
	scopes []string
	grant  *account.OIDCGrant
}

func (r *refreshRequest) GetAMR() []string                 { return []string{"pwd"} }
func (r *refreshRequest) GetAudience() []string            { return []string{r.t.ApplicationID} }
func (r *refreshRequest) GetAuthTime() time.Time           { return r.t.AuthTime }
func (r *refreshRequest) GetClientID() string              { return r.t.ApplicationID }
func (r *refreshRequest) GetScopes() []string              { return r.scopes }
func (r *refreshRequest) GetSubject() string               { return r.t.AccountID }
func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.scopes = scopes }

// protocolErr turns the service's refusals into the protocol's: what was not found
// or is refused is invalid_grant; anything else a server error.
func protocolErr(err error) error {
	switch account.ErrorCode(err) {
	case "":
		return nil
	case account.ENOTFOUND, account.EFORBIDDEN:
		return oidc.ErrInvalidGrant().WithDescription("%s", account.ErrorMessage(err))
	case account.EINVALID:
		return oidc.ErrInvalidRequest().WithDescription("%s", account.ErrorMessage(err))
	}
	return oidc.ErrServerError().WithParent(err)
}

func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	c, err := s.svc.OIDCClientByID(ctx, req.ClientID)
	if err != nil {
		return nil, protocolErr(err)
	}
	hint, _ := ctx.Value(orgHintKey{}).(string)
	r, err := s.svc.CreateOIDCAuthRequest(ctx, c, account.OIDCAuthRequest{
		RedirectURI: req.RedirectURI, Scopes: req.Scopes, State: req.State, Nonce: req.Nonce,
		ResponseType: string(req.ResponseType), ResponseMode: string(req.ResponseMode),
		CodeChallenge: req.CodeChallenge, CodeChallengeMethod: string(req.CodeChallengeMethod), OrganizationHint: hint,
		Prompt: req.Prompt, MaxAge: maxAge(req.MaxAge),
	})
	if err != nil {
		return nil, protocolErr(err)
	}
	return &authRequest{r: r}, nil
}

// maxAge is a request's max_age (op made it 0 for prompt=login), as a duration: a
// value past ten years asks for no more than any session's age.
func maxAge(seconds *uint) *time.Duration {
	if seconds == nil {
		return nil
	}
	const most = 10 * 365 * 24 * time.Hour
	d := most
	if *seconds < uint(most/time.Second) {
		d = time.Duration(*seconds) * time.Second
	}
	return &d
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.svc.OIDCAuthRequest(ctx, id)
	if err != nil {
		return nil, protocolErr(err)
	}
	return &authRequest{r: r}, nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.svc.OIDCAuthRequestByCode(ctx, code)
	if err != nil {
		return nil, protocolErr(err)
	}
	return &authRequest{r: r}, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return protocolErr(s.svc.SaveOIDCCode(ctx, id, code))
}

// DeleteAuthRequest is called once a code's tokens are issued: the request stays,
// spent, so that the code presented again is known as reuse (and revokes them).
func (s *storage) DeleteAuthRequest(context.Context, string) error { return nil }

func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	g, err := s.issue(ctx, req, "", false)
	if err != nil {
		return "", time.Time{}, err
	}
	return g.AccessToken.ID, g.AccessToken.ExpiresAt, nil
}

func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	g, err := s.issue(ctx, req, current, true)
	if err != nil {
		return "", "", time.Time{}, err
	}
	return g.AccessToken.ID, g.RefreshToken, g.AccessToken.ExpiresAt, nil
}

// issue spends a code (an authRequest) or a refresh token (a refreshRequest) and
// issues the tokens — a refresh token too when the op package asks for one (the
// offline_access scope) — keeping the grant on the request for the ID token's
// claims.
func (s *storage) issue(ctx context.Context, req op.TokenRequest, current string, refresh bool) (*account.OIDCGrant, error) {
	switch r := req.(type) {
	case *authRequest:
		g, err := s.svc.ExchangeOIDCCode(ctx, r.r.ApplicationID, r.r.ID, refresh)
		if err != nil {
			return nil, protocolErr(err)
		}
		r.grant = &g
		return &g, nil
	case *refreshRequest:
		g, err := s.svc.RefreshOIDC(ctx, r.t.ApplicationID, current, r.scopes)
		if err != nil {
			return nil, protocolErr(err)
		}
		r.grant = &g
		return &g, nil
	}
	return nil, oidc.ErrUnsupportedGrantType()
}

func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	t, err := s.svc.OIDCRefreshToken(ctx, token)
	if err != nil {
		return nil, protocolErr(err)
	}
	return &refreshRequest{t: t, scopes: t.Scopes}, nil
}

// TerminateSession ends the person's grants to the client (RP-initiated logout).
func (s *storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	return protocolErr(s.svc.EndOIDCSession(ctx, clientID, userID))
}

func (s *storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	var err error
	if userID != "" {
		err = s.svc.RevokeOIDCToken(ctx, clientID, "", tokenOrID)
	} else {
		err = s.svc.RevokeOIDCToken(ctx, clientID, tokenOrID, "")
	}
	if err != nil && account.ErrorCode(err) != account.ENOTFOUND {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	if !account.IsOIDCRefreshToken(token) {
		return "", "", op.ErrInvalidRefreshToken
	}
	return "", token, nil
}

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, err := s.keys.current(ctx)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return k, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256}, nil
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	ks, err := s.keys.all(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(ks))
	for i, k := range ks {
		out[i] = publicKey{k}
	}
	return out, nil
}

func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.svc.OIDCClientByID(ctx, clientID)
	if account.ErrorCode(err) == account.ENOTFOUND {
		return nil, errors.New("unknown client")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return &client{c: c}, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	err := s.svc.AuthenticateOIDCClient(ctx, clientID, secret)
	if account.ErrorCode(err) == account.EUNAUTHENTICATED {
		return errors.New("unknown client or wrong secret")
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in the op package; SetUserinfoFromRequest
// sets the ID token's claims.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	var g *account.OIDCGrant
	sid := ""
	switch r := req.(type) {
	case *authRequest:
		g, sid = r.grant, r.r.ID
	case *refreshRequest:
		g, sid = r.grant, r.t.AuthRequestID
	}
	if g == nil {
		return oidc.ErrServerError().WithDescription("no grant for the ID token")
	}
	setUserinfo(info, g.Claims, scopes)
	// The sign-in's id (its authorization request's, kept by every token of its
	// grant, refreshed ones too): a back-channel logout token names the same sid.
	info.AppendClaims("sid", sid)
	return nil
}

func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, cl, err := s.svc.OIDCUserinfo(ctx, tokenID)
	if err != nil {
		return oidc.ErrAccessDenied().WithDescription("%s", account.ErrorMessage(err))
	}
	if t.AccountID != subject {
		return oidc.ErrAccessDenied().WithDescription("the token is not this subject's")
	}
	setUserinfo(info, cl, t.Scopes)
	return nil
}

func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, cl, err := s.svc.OIDCUserinfo(ctx, tokenID)
	if err != nil || t.AccountID != subject || t.ApplicationID != clientID {
		return oidc.ErrInvalidRequest().WithDescription("the token is not active")
	}
	info := new(oidc.UserInfo)
	setUserinfo(info, cl, t.Scopes)
	resp.SetUserInfo(info)
	resp.Scope, resp.ClientID = t.Scopes, t.ApplicationID
	resp.Active = true
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	var g *account.OIDCGrant
	switch r := req.(type) {
	case *authRequest:
		g = r.grant
	case *refreshRequest:
		g = r.grant
	}
	if g == nil {
		return nil, nil
	}
	return rosterClaims(g.Claims), nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT client authentication is not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("the JWT profile grant is not supported")
}

func (s *storage) Health(context.Context) error { return nil }

// setUserinfo writes the claims: sub always, the profile and email claims by scope,
// and Roster's own (org, org_role, permissions, seat) always.
func setUserinfo(info *oidc.UserInfo, cl account.OIDCClaims, scopes []string) {
	info.Subject = cl.Account.ID
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeEmail:
			info.Email, info.EmailVerified = cl.Account.Email, oidc.Bool(cl.Account.EmailVerified)
		case oidc.ScopeProfile:
			info.GivenName, info.FamilyName = cl.Account.FirstName, cl.Account.LastName
			info.Name = strings.TrimSpace(cl.Account.FirstName + " " + cl.Account.LastName)
		}
	}
	for k, v := range rosterClaims(cl) {
		info.AppendClaims(k, v)
	}
}

// rosterClaims are Roster's own claims (API.md, "Sign in with Roster").
func rosterClaims(cl account.OIDCClaims) map[string]any {
	var seat any
	if cl.Seat != nil {
		seat = map[string]any{"subscription": cl.Seat.SubscriptionID, "ends_at": cl.Seat.EndsAt.UTC().Format(time.RFC3339)}
	}
	perms := cl.Permissions
	if perms == nil {
		perms = []string{}
	}
	return map[string]any{
		"org":         map[string]any{"id": cl.Org.ID, "slug": cl.Org.Slug, "name": cl.Org.Name},
		"org_role":    cl.Role,
		"permissions": perms,
		"seat":        seat,
	}
}

// client is an account.OIDCClient as the op package sees it.
type client struct{ c account.OIDCClient }

func (c *client) GetID() string                    { return c.c.ClientID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }
func (c *client) ApplicationType() op.ApplicationType {
	if c.c.Public {
		return op.ApplicationTypeUserAgent
	}
	return op.ApplicationTypeWeb
}
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

// LoginURL is the console's sign-in page of the request: it sends a person without
// a session to the console's login first.
func (c *client) LoginURL(id string) string           { return "/sign-in/" + id }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration      { return account.OIDCIDTokenTTL }

// DevMode lets a public client's registered http://localhost URIs through; the
// registration allows http only to loopback hosts, and the match stays exact.
func (c *client) DevMode() bool { return c.c.Public }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(string) bool           { return false }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

// signingKey is the current key, for signing.
type signingKey struct {
	id  string
	key *ecdsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is a key of the JWKS.
type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.key.PublicKey }
