package httpapi

import (
	"context"
	"time"

	"roster.dev/roster/internal/account"
)

// OIDCClientView is an application's sign-in client (Sign in with Roster), without
// its secret.
type OIDCClientView struct {
	ClientID               string    `json:"client_id" doc:"The client_id the application's OpenID Connect library is configured with: the application's id."`
	RedirectURIs           []string  `json:"redirect_uris" doc:"Where the authorization endpoint may send the person back, matched exactly."`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris" doc:"Where the end-session endpoint may send the person after logout, matched exactly."`
	BackchannelLogoutURI   *string   `json:"backchannel_logout_uri" doc:"Where Roster POSTs a logout token (OpenID Connect Back-Channel Logout 1.0) when a person's sign-in ends: deactivated or removed in the organization they signed in through, their account disabled or deleted, their password reset or changed; null for none."`
	Public                 bool      `json:"public" doc:"A public client (a single-page or native app) has no secret and must use PKCE (S256)."`
	RequireSeat            bool      `json:"require_seat" doc:"Only people holding a live seat of the application in the organization may sign in."`
	CreatedAt              time.Time `json:"created_at"`
	UpdatedAt              time.Time `json:"updated_at"`
}

func oidcClientView(c account.OIDCClient) OIDCClientView {
	return OIDCClientView{ClientID: c.ClientID, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		BackchannelLogoutURI: nullable(c.BackchannelLogoutURI), Public: c.Public, RequireSeat: c.RequireSeat, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

type putOIDCClientInput struct {
	AppPath
	Body struct {
		RedirectURIs           *[]string `json:"redirect_uris,omitempty" doc:"Required: at least one absolute URI, https (http only to localhost), without a fragment; up to 20."`
		PostLogoutRedirectURIs *[]string `json:"post_logout_redirect_uris,omitempty" doc:"Up to 20, as redirect_uris."`
		BackchannelLogoutURI   *string   `json:"backchannel_logout_uri,omitempty" doc:"Optional: an absolute https URI (http only to localhost), without a fragment, where logout tokens are POSTed; omitted, null or empty for none."`
		Public                 *bool     `json:"public,omitempty" doc:"Default false: a confidential client with a secret."`
		RequireSeat            *bool     `json:"require_seat,omitempty" doc:"Default false."`
	}
}

type putOIDCClientOutput struct {
	Body struct {
		OIDCClientView
		ClientSecret *string `json:"client_secret" doc:"The client secret (rcs_…), shown in this answer only: when a confidential client is registered, or a public one becomes confidential; null otherwise (the secret is unchanged)."`
	}
}

func (s *Server) putOIDCClient(ctx context.Context, in *putOIDCClientInput) (*putOIDCClientOutput, error) {
	c, secret, err := s.svc.SetOIDCClient(ctx, actorFrom(ctx), in.App, account.OIDCClientInput{
		RedirectURIs: in.Body.RedirectURIs, PostLogoutRedirectURIs: in.Body.PostLogoutRedirectURIs,
		BackchannelLogoutURI: in.Body.BackchannelLogoutURI, Public: in.Body.Public, RequireSeat: in.Body.RequireSeat})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &putOIDCClientOutput{}
	out.Body.OIDCClientView, out.Body.ClientSecret = oidcClientView(c), nullable(secret)
	return out, nil
}

type oidcClientOutput struct {
	Body OIDCClientView
}

func (s *Server) getOIDCClient(ctx context.Context, in *AppPath) (*oidcClientOutput, error) {
	c, err := s.svc.FindOIDCClient(ctx, actorFrom(ctx), in.App)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &oidcClientOutput{Body: oidcClientView(c)}, nil
}

type rotateOIDCSecretOutput struct {
	Body struct {
		ClientSecret string `json:"client_secret" doc:"The new client secret, shown in this answer only; the previous one stops working at once."`
	}
}

func (s *Server) rotateOIDCSecret(ctx context.Context, in *AppPath) (*rotateOIDCSecretOutput, error) {
	secret, err := s.svc.RotateOIDCSecret(ctx, actorFrom(ctx), in.App)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &rotateOIDCSecretOutput{}
	out.Body.ClientSecret = secret
	return out, nil
}
