package oidcop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"roster.dev/roster/internal/account"
)

// The endpoints, under the issuer (the server's public base URL).
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	Prefix        = "/oauth/"
)

// Options are what New builds the provider from.
type Options struct {
	Service *account.Service
	// Issuer is the server's public base URL (--base-url), without a trailing slash.
	Issuer string
	// KeySecret, when set, seals the signing keys stored in the database
	// (--oidc-key-secret).
	KeySecret string
	Logger    *slog.Logger
	Now       func() time.Time
}

// Provider is the OpenID Connect provider: Handler serves discovery and /oauth/…;
// Finish ends a sign-in the console completed.
type Provider struct {
	op     *op.Provider
	issuer string
	keys   *keyring
	store  *storage
}

// New builds the provider.
func New(o Options) (*Provider, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	issuer := strings.TrimRight(o.Issuer, "/")
	keys := &keyring{svc: o.Service, kek: newKEK(o.KeySecret), now: o.Now}
	st := &storage{svc: o.Service, keys: keys}
	cfg := &op.Config{
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedScopes:       []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess},
		SupportedClaims: []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "amr", "at_hash", "c_hash", "azp",
			"sid", "name", "given_name", "family_name", "email", "email_verified", "org", "org_role", "permissions", "seat"},
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
	}
	opts := []op.Option{
		op.WithCustomAuthEndpoint(op.NewEndpoint("oauth/authorize")),
		op.WithCustomTokenEndpoint(op.NewEndpoint("oauth/token")),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint("oauth/introspect")),
		op.WithCustomUserinfoEndpoint(op.NewEndpoint("oauth/userinfo")),
		op.WithCustomRevocationEndpoint(op.NewEndpoint("oauth/revoke")),
		op.WithCustomEndSessionEndpoint(op.NewEndpoint("oauth/end_session")),
		op.WithCustomKeysEndpoint(op.NewEndpoint("oauth/jwks")),
		op.WithCustomDeviceAuthorizationEndpoint(op.NewEndpoint("oauth/device_authorization")),
		op.WithCrypto(randomCodes{}),
		op.WithHttpInterceptors(organizationHint),
	}
	if strings.HasPrefix(issuer, "http://") {
		opts = append(opts, op.WithAllowInsecure())
	}
	p, err := op.NewProvider(cfg, st, op.StaticIssuer(issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc provider: %w", err)
	}
	return &Provider{op: p, issuer: issuer, keys: keys, store: st}, nil
}

// organizationHint keeps the authorization request's organization parameter for
// CreateAuthRequest.
func organizationHint(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/authorize" {
			if err := r.ParseForm(); err == nil {
				if org := r.Form.Get("organization"); org != "" {
					r = r.WithContext(context.WithValue(r.Context(), orgHintKey{}, org))
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Handler serves discovery and the endpoints under /oauth/. The op package's own
// login callback is not served: the console finishes a sign-in (Finish), for the
// browser of the person who signed in only. Redirects back to a client carry the
// iss parameter (RFC 9207), and discovery says so.
func (p *Provider) Handler() http.Handler {
	h := p.op.HttpHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == DiscoveryPath:
			p.discovery(h, w, r)
		case r.URL.Path == "/oauth/authorize/callback", r.URL.Path == "/oauth/device_authorization",
			r.URL.Path == "/oauth/healthz", r.URL.Path == "/oauth/ready":
			http.NotFound(w, r)
		case r.URL.Path == "/oauth/authorize":
			h.ServeHTTP(&issWriter{ResponseWriter: w, issuer: p.issuer}, r)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// discovery serves the op package's document with
// authorization_response_iss_parameter_supported (RFC 9207) and without the
// device endpoint, which is not served.
func (p *Provider) discovery(h http.Handler, w http.ResponseWriter, r *http.Request) {
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	h.ServeHTTP(rec, r)
	var doc map[string]any
	if rec.status != http.StatusOK || json.Unmarshal(rec.body.Bytes(), &doc) != nil {
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
		return
	}
	doc["authorization_response_iss_parameter_supported"] = true
	delete(doc, "device_authorization_endpoint")
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(s int)           { r.status = s }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

// issWriter adds iss to the redirects of the authorization endpoint that go back to
// the client (an error there); the redirect to the console's sign-in is left alone.
type issWriter struct {
	http.ResponseWriter
	issuer string
}

func (w *issWriter) WriteHeader(status int) {
	if status == http.StatusFound || status == http.StatusSeeOther {
		if loc := w.Header().Get("Location"); loc != "" && !strings.HasPrefix(loc, "/") {
			w.Header().Set("Location", withIss(loc, w.issuer))
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

// withIss adds the iss parameter to a redirect to the client, in its query or,
// for a fragment response, its fragment.
func withIss(loc, issuer string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	if u.Fragment != "" {
		q, _ := url.ParseQuery(u.Fragment)
		q.Set("iss", issuer)
		u.Fragment = q.Encode()
		return u.String()
	}
	q := u.Query()
	q.Set("iss", issuer)
	u.RawQuery = q.Encode()
	return u.String()
}

// Finish is where the person's browser goes once the console has done with a
// sign-in: back to the client with a code (and state, and iss), or, when the person
// was refused, with access_denied.
func (p *Provider) Finish(ctx context.Context, si account.OIDCSignIn) (string, error) {
	ctx = op.ContextWithIssuer(ctx, p.issuer)
	req := &authRequest{r: si.Request}
	if si.Refusal != nil || si.PromptError != "" {
		var e *oidc.Error
		switch si.PromptError {
		case account.OIDCLoginRequired:
			e = oidc.ErrLoginRequired().WithDescription("nobody is signed in to Roster here, or the login is older than max_age allows")
		case account.OIDCInteractionRequired:
			e = oidc.ErrInteractionRequired().WithDescription("signing in needs a page: choose an organization, or a new password")
		case "":
			e = oidc.ErrAccessDenied().WithDescription("%s", si.Refusal.Message)
		default:
			return "", fmt.Errorf("oidcop: unknown prompt error %q", si.PromptError)
		}
		e.State = req.GetState()
		loc, err := op.AuthResponseURL(req.GetRedirectURI(), req.GetResponseType(), req.GetResponseMode(), e, p.op.Encoder())
		if err != nil {
			return "", err
		}
		return withIss(loc, p.issuer), nil
	}
	if !si.Done {
		return "", fmt.Errorf("oidcop: the sign-in is not done")
	}
	loc, err := op.BuildAuthResponseCallbackURL(ctx, req, p.op)
	if err != nil {
		return "", err
	}
	return withIss(loc, p.issuer), nil
}

// randomCodes is the op package's Crypto: an authorization code is a fresh random
// secret (only its hash is kept), not an encryption of the request's id. Access
// tokens are JWTs, so nothing is ever decrypted.
type randomCodes struct{}

func (randomCodes) Encrypt(string) (string, error) {
	var b [32]byte
	if _, err := randRead(b[:]); err != nil {
		return "", err
	}
	return "rac_" + b64(b[:]), nil
}

func (randomCodes) Decrypt(string) (string, error) {
	return "", fmt.Errorf("oidcop: opaque tokens are not issued")
}
