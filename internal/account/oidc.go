package account

import (
	"context"
	"crypto/subtle"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Sign in with Roster: Roster is the OpenID Connect provider of the applications.
// An application has at most one client; the protocol itself is the op package's
// (internal/oidcop), and every rule of who may sign in where, and what the tokens
// say, is here.

// OIDCClient is an application's OpenID Connect client. ClientID is the
// application's id. A confidential client has a secret, of which only the SHA-256
// is kept; a public one has none and must use PKCE.
type OIDCClient struct {
	ApplicationID          string
	ClientID               string
	SecretHash             []byte
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// BackchannelLogoutURI is where Roster POSTs logout tokens (OpenID Connect
	// Back-Channel Logout 1.0); "" for none.
	BackchannelLogoutURI string
	Public               bool
	RequireSeat          bool
	CreatedAt            time.Time
	UpdatedAt            time.Time
	// Application is the client's application, filled by reads.
	Application Application
}

// OIDCAuthRequest is an authorization request from /oauth/authorize until its code
// is exchanged. AccountID, OrgID and AuthTime are set when the person signs in
// (Done).
type OIDCAuthRequest struct {
	ID                  string
	ApplicationID       string
	RedirectURI         string
	Scopes              []string
	State               string
	Nonce               string
	ResponseType        string
	ResponseMode        string
	CodeChallenge       string
	CodeChallengeMethod string
	// OrganizationHint is the organization parameter (an id or a slug): it
	// preselects and restricts the organization the person signs in to.
	OrganizationHint string
	// Prompt is the request's prompt values (none, login, consent,
	// select_account); MaxAge its max_age, nil when not asked (prompt=login makes
	// it 0). See Prompts and LoginFresh.
	Prompt    []string
	MaxAge    *time.Duration
	AccountID string
	OrgID     string
	AuthTime  time.Time
	Done      bool
	CodeUsed  bool
	CreatedAt time.Time
	ExpiresAt time.Time
}

// OIDCAccessToken is an issued access token's row (the token is a JWT naming ID).
type OIDCAccessToken struct {
	ID            string
	ApplicationID string
	OrgID         string
	AccountID     string
	AuthRequestID string
	FamilyID      string
	Scopes        []string
	Revoked       bool
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// RefreshState is the life cycle of a refresh token.
type RefreshState string

const (
	RefreshActive  RefreshState = "active"
	RefreshUsed    RefreshState = "used"
	RefreshRevoked RefreshState = "revoked"
)

// OIDCRefreshToken is a refresh token's row; only its SHA-256 is kept.
type OIDCRefreshToken struct {
	ID            string
	Hash          []byte
	FamilyID      string
	ApplicationID string
	OrgID         string
	AccountID     string
	AuthRequestID string
	Scopes        []string
	AuthTime      time.Time
	State         RefreshState
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// SigningKeyState is the life cycle of a signing key.
type SigningKeyState string

const (
	SigningKeyCurrent  SigningKeyState = "current"
	SigningKeyPrevious SigningKeyState = "previous"
	SigningKeyRetired  SigningKeyState = "retired"
)

// SigningKey is one of the provider's signing keys. PrivateKey is as stored
// (internal/oidcop seals and opens it).
type SigningKey struct {
	ID         string
	Algorithm  string
	PrivateKey string
	State      SigningKeyState
	CreatedAt  time.Time
	RotatedAt  time.Time
}

// OIDCTx holds the queries of the OpenID Connect provider. Every query of a
// client's requests and tokens takes the application's id and filters on it.
type OIDCTx interface {
	OIDCClient(ctx context.Context, applicationID string) (OIDCClient, error)
	// PutOIDCClient creates the application's client or replaces every column but
	// application_id, client_id and created_at.
	PutOIDCClient(ctx context.Context, c OIDCClient) error

	CreateOIDCAuthRequest(ctx context.Context, r OIDCAuthRequest) error
	OIDCAuthRequest(ctx context.Context, applicationID, id string) (OIDCAuthRequest, error)
	// OIDCAuthRequestByID finds a request of any application: the console's
	// sign-in page holds only its id (the application is read from the row).
	OIDCAuthRequestByID(ctx context.Context, id string) (OIDCAuthRequest, error)
	OIDCAuthRequestByCode(ctx context.Context, hash []byte) (OIDCAuthRequest, error)
	// CompleteOIDCAuthRequest sets the person, the organization and the time, done.
	CompleteOIDCAuthRequest(ctx context.Context, applicationID, id, accountID, orgID string, at time.Time) error
	// SetOIDCCode keeps the code's hash on a done request and shortens its life to
	// expires.
	SetOIDCCode(ctx context.Context, applicationID, id string, hash []byte, expires time.Time) error
	// SpendOIDCCode marks the request's code used, and reports false when it was
	// already: of two concurrent exchanges exactly one wins.
	SpendOIDCCode(ctx context.Context, applicationID, id string) (bool, error)
	DeleteOIDCAuthRequest(ctx context.Context, applicationID, id string) error

	CreateOIDCAccessToken(ctx context.Context, t OIDCAccessToken) error
	OIDCAccessToken(ctx context.Context, id string) (OIDCAccessToken, error)
	RevokeOIDCAccessToken(ctx context.Context, applicationID, id string) error

	CreateOIDCRefreshToken(ctx context.Context, t OIDCRefreshToken) error
	OIDCRefreshTokenByHash(ctx context.Context, hash []byte) (OIDCRefreshToken, error)
	// SpendOIDCRefreshToken marks an active token used at now, and reports false
	// when it was not active.
	SpendOIDCRefreshToken(ctx context.Context, applicationID, id string, now time.Time) (bool, error)
	// RevokeOIDCFamily revokes every refresh and access token of a family.
	RevokeOIDCFamily(ctx context.Context, applicationID, familyID string) error
	// RevokeOIDCAuthRequestTokens revokes every token issued from one code.
	RevokeOIDCAuthRequestTokens(ctx context.Context, applicationID, authRequestID string) error
	// RevokeOIDCAccountTokens revokes every token of the application's one person.
	RevokeOIDCAccountTokens(ctx context.Context, applicationID, accountID string) error

	// OIDCOrgChoice is the organization accountID last picked for the application
	// ("" when none); SetOIDCOrgChoice keeps one.
	OIDCOrgChoice(ctx context.Context, applicationID, accountID string) (string, error)
	SetOIDCOrgChoice(ctx context.Context, applicationID, accountID, orgID string, at time.Time) error

	// DeleteExpiredOIDC deletes the requests, access tokens and refresh tokens that
	// expired before now, and the logout notices done for OIDCLogoutKeep, and
	// reports how many.
	DeleteExpiredOIDC(ctx context.Context, now time.Time) (int, error)

	// SigningKeys lists the current and previous keys, newest first.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// AddSigningKey inserts k as the current key unless there is one; it reports
	// whether it did.
	AddSigningKey(ctx context.Context, k SigningKey) (bool, error)
	// DemoteSigningKeys makes the current key previous and every previous key
	// retired, at now.
	DemoteSigningKeys(ctx context.Context, now time.Time) error
}

// Lifetimes of the provider's requests and tokens. Access and ID tokens are short,
// so that what they say stays fresh; /check stays the live authority.
const (
	OIDCRequestTTL = 10 * time.Minute
	OIDCCodeTTL    = time.Minute
	OIDCAccessTTL  = 5 * time.Minute
	OIDCIDTokenTTL = 5 * time.Minute
	OIDCRefreshTTL = 30 * 24 * time.Hour
)

// oidcSecretPrefix starts every client secret.
const oidcSecretPrefix = "rcs_"

// OIDCClientInput is the body of PUT /api/v1/applications/{app}/oidc.
type OIDCClientInput struct {
	RedirectURIs           *[]string
	PostLogoutRedirectURIs *[]string
	// BackchannelLogoutURI is nil or "" for none.
	BackchannelLogoutURI *string
	Public               *bool
	RequireSeat          *bool
}

// maxRedirectURIs bounds a client's registered URIs.
const maxRedirectURIs = 20

// validRedirectURIs checks registered URIs: absolute, no fragment, no credentials;
// https, or http only to a loopback host (a developer's machine). They are matched
// exactly, byte for byte.
func validRedirectURIs(field string, in []string, required bool) ([]string, error) {
	if required && len(in) == 0 {
		return nil, Invalid(field, "is required: at least one URI")
	}
	if len(in) > maxRedirectURIs {
		return nil, Invalid(field, "must hold at most 20 URIs")
	}
	out := []string{}
	for _, raw := range in {
		u, err := url.Parse(raw)
		switch {
		case raw == "" || strings.TrimSpace(raw) != raw:
			return nil, Invalid(field, "holds an empty URI or one with spaces around it")
		case len(raw) > 2000:
			return nil, Invalid(field, "holds a URI longer than 2000 characters")
		case strings.ContainsAny(raw, "\n\r\t "):
			return nil, Invalid(field, "holds a URI with white space in it")
		case err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "":
			return nil, Invalid(field, "holds a URI that is not absolute: "+clip(raw, 80))
		case u.Fragment != "" || strings.Contains(raw, "#"):
			return nil, Invalid(field, "holds a URI with a fragment: "+clip(raw, 80))
		case u.User != nil:
			return nil, Invalid(field, "holds a URI with credentials")
		case u.Scheme == "http" && !loopbackHost(u.Hostname()), u.Scheme != "https" && u.Scheme != "http":
			return nil, Invalid(field, "holds a URI that is not https (http only to localhost): "+clip(raw, 80))
		}
		if !slices.Contains(out, raw) {
			out = append(out, raw)
		}
	}
	return out, nil
}

func loopbackHost(h string) bool {
	h = strings.ToLower(h)
	return h == "localhost" || h == "127.0.0.1" || h == "::1" || strings.HasPrefix(h, "127.")
}

func oidcClientState(c OIDCClient) map[string]any {
	return map[string]any{"redirect_uris": c.RedirectURIs, "post_logout_redirect_uris": c.PostLogoutRedirectURIs,
		"backchannel_logout_uri": c.BackchannelLogoutURI, "public": c.Public, "require_seat": c.RequireSeat}
}

// SetOIDCClient registers the application's client, or replaces its settings.
// The secret is returned when one is made: the first time a confidential client is
// registered (or a public one becomes confidential), and shown this once.
// Operators only.
func (s *Service) SetOIDCClient(ctx context.Context, actor Actor, appRef string, in OIDCClientInput) (c OIDCClient, secret string, err error) {
	defer wrap(&err, "SetOIDCClient(%s)", appRef)
	if err := requireOperator(actor, "manages sign-in clients"); err != nil {
		return c, "", err
	}
	var v Validation
	var redirects, logouts []string
	if in.RedirectURIs == nil {
		v.Add("redirect_uris", "is required: at least one URI")
	} else {
		r, err := validRedirectURIs("redirect_uris", *in.RedirectURIs, true)
		addErr(&v, err)
		redirects = r
	}
	if in.PostLogoutRedirectURIs != nil {
		r, err := validRedirectURIs("post_logout_redirect_uris", *in.PostLogoutRedirectURIs, false)
		addErr(&v, err)
		logouts = r
	}
	backchannel := ""
	if in.BackchannelLogoutURI != nil && *in.BackchannelLogoutURI != "" {
		r, err := validRedirectURIs("backchannel_logout_uri", []string{*in.BackchannelLogoutURI}, true)
		addErr(&v, err)
		if err == nil {
			backchannel = r[0]
		}
	}
	if err := v.Err(); err != nil {
		return c, "", err
	}
	if logouts == nil {
		logouts = []string{}
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		app, err := tx.Application(ctx, appRef)
		if err != nil {
			return notFound(err, "application")
		}
		cur, err := tx.OIDCClient(ctx, app.ID)
		existed := err == nil
		if err != nil && ErrorCode(err) != ENOTFOUND {
			return err
		}
		now := s.now()
		c = OIDCClient{ApplicationID: app.ID, ClientID: app.ID, RedirectURIs: redirects, PostLogoutRedirectURIs: logouts,
			BackchannelLogoutURI: backchannel, CreatedAt: now, UpdatedAt: now, Application: app, SecretHash: cur.SecretHash}
		if existed {
			c.CreatedAt = cur.CreatedAt
		}
		if in.Public != nil {
			c.Public = *in.Public
		}
		if in.RequireSeat != nil {
			c.RequireSeat = *in.RequireSeat
		}
		secret = ""
		switch {
		case c.Public:
			c.SecretHash = nil
		case !existed || cur.Public || len(cur.SecretHash) == 0:
			var hash []byte
			secret, hash = s.newToken(oidcSecretPrefix)
			c.SecretHash = hash
		}
		if err := tx.PutOIDCClient(ctx, c); err != nil {
			return err
		}
		var before any
		if existed {
			before = oidcClientState(cur)
		}
		return s.audit(ctx, tx, actor, "", AuditOIDCClientUpdated, "application", app.ID, before, oidcClientState(c))
	})
	return c, secret, err
}

// FindOIDCClient returns the application's client (without its secret). Operators
// only; ENOTFOUND when the application has none.
func (s *Service) FindOIDCClient(ctx context.Context, actor Actor, appRef string) (c OIDCClient, err error) {
	if err := requireOperator(actor, "manages sign-in clients"); err != nil {
		return c, err
	}
	err = s.store.Read(ctx, func(tx Tx) error {
		app, err := tx.Application(ctx, appRef)
		if err != nil {
			return notFound(err, "application")
		}
		c, err = tx.OIDCClient(ctx, app.ID)
		c.Application = app
		return notFound(err, "sign-in client")
	})
	return c, err
}

// RotateOIDCSecret gives a confidential client a new secret, shown this once; the
// old one stops working at once. A public client has none (ECONFLICT). Operators
// only.
func (s *Service) RotateOIDCSecret(ctx context.Context, actor Actor, appRef string) (secret string, err error) {
	defer wrap(&err, "RotateOIDCSecret(%s)", appRef)
	if err := requireOperator(actor, "manages sign-in clients"); err != nil {
		return "", err
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		app, err := tx.Application(ctx, appRef)
		if err != nil {
			return notFound(err, "application")
		}
		c, err := tx.OIDCClient(ctx, app.ID)
		if err != nil {
			return notFound(err, "sign-in client")
		}
		if c.Public {
			return Errorf(ECONFLICT, "a public client has no secret: it signs in with PKCE alone")
		}
		var hash []byte
		secret, hash = s.newToken(oidcSecretPrefix)
		c.SecretHash, c.UpdatedAt = hash, s.now()
		if err := tx.PutOIDCClient(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "", AuditOIDCSecretRotated, "application", app.ID, nil, nil)
	})
	return secret, err
}

// OIDCClientByID returns the client with clientID, with its application, for the
// protocol (no actor: the client is who asks).
func (s *Service) OIDCClientByID(ctx context.Context, clientID string) (c OIDCClient, err error) {
	if !wellFormedClientID(clientID) {
		return c, Errorf(ENOTFOUND, "sign-in client not found")
	}
	err = s.store.Read(ctx, func(tx Tx) error {
		c, err = s.oidcClientIn(ctx, tx, clientID)
		return err
	})
	return c, err
}

// AuthenticateOIDCClient checks a confidential client's secret (EUNAUTHENTICATED).
func (s *Service) AuthenticateOIDCClient(ctx context.Context, clientID, secret string) error {
	c, err := s.OIDCClientByID(ctx, clientID)
	if ErrorCode(err) == ENOTFOUND {
		return Errorf(EUNAUTHENTICATED, "unknown client or wrong secret")
	}
	if err != nil {
		return err
	}
	if c.Public || len(c.SecretHash) == 0 || subtle.ConstantTimeCompare(TokenHash(secret), c.SecretHash) != 1 {
		return Errorf(EUNAUTHENTICATED, "unknown client or wrong secret")
	}
	return nil
}

// CreateOIDCAuthRequest keeps a validated authorization request (the op package
// validated the client, the redirect URI and the scopes) and returns it with its id.
// PKCE (S256) is required of a public client.
func (s *Service) CreateOIDCAuthRequest(ctx context.Context, c OIDCClient, r OIDCAuthRequest) (OIDCAuthRequest, error) {
	if c.Public && r.CodeChallenge == "" {
		return r, Invalid("code_challenge", "is required of a public client (PKCE, S256)")
	}
	if r.CodeChallenge != "" && r.CodeChallengeMethod != "S256" {
		return r, Invalid("code_challenge_method", "must be S256")
	}
	if len(r.OrganizationHint) > 200 {
		return r, Invalid("organization", "must be at most 200 characters")
	}
	for _, f := range []struct{ name, value string }{{"state", r.State}, {"nonce", r.Nonce}, {"code_challenge", r.CodeChallenge},
		{"organization", r.OrganizationHint}, {"redirect_uri", r.RedirectURI}, {"scope", strings.Join(r.Scopes, " ")},
		{"response_mode", r.ResponseMode}, {"prompt", strings.Join(r.Prompt, " ")}} {
		switch {
		case len(f.value) > 2000:
			return r, Invalid(f.name, "must be at most 2000 characters")
		case !utf8.ValidString(f.value) || strings.ContainsRune(f.value, 0):
			return r, Invalid(f.name, "must be text: no NUL character, valid UTF-8")
		}
	}
	now := s.now()
	// The id is in the sign-in page's URL: random, not time-ordered.
	id, _ := s.newToken("")
	r.ID, r.ApplicationID, r.CreatedAt, r.ExpiresAt = id, c.ApplicationID, now, now.Add(OIDCRequestTTL)
	r.AccountID, r.OrgID, r.Done, r.CodeUsed = "", "", false, false
	err := s.store.Write(ctx, func(tx Tx) error { return tx.CreateOIDCAuthRequest(ctx, r) })
	return r, err
}

// OIDCAuthRequest returns a live (unexpired) request of the client.
func (s *Service) OIDCAuthRequest(ctx context.Context, id string) (r OIDCAuthRequest, err error) {
	err = s.store.Read(ctx, func(tx Tx) error {
		r, err = tx.OIDCAuthRequestByID(ctx, id)
		return err
	})
	if err == nil && !s.now().Before(r.ExpiresAt) {
		return OIDCAuthRequest{}, Errorf(ENOTFOUND, "the sign-in request expired")
	}
	return r, notFound(err, "sign-in request")
}

// AbandonOIDCSignIn ends a prompt=none request that finds nobody signed in: the
// request is spent, and returned so that the client hears login_required.
// ENOTFOUND: an unknown, expired or already finished request, or one that did not
// ask for prompt=none.
func (s *Service) AbandonOIDCSignIn(ctx context.Context, requestID string) (r OIDCAuthRequest, err error) {
	defer wrap(&err, "AbandonOIDCSignIn(%s)", requestID)
	if requestID == "" || len(requestID) > 100 {
		return r, Errorf(ENOTFOUND, "sign-in request not found")
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		var err error
		if r, err = tx.OIDCAuthRequestByID(ctx, requestID); err != nil {
			return notFound(err, "sign-in request")
		}
		if r.Done || !s.now().Before(r.ExpiresAt) || !r.Prompts(PromptNone) {
			return Errorf(ENOTFOUND, "the sign-in request expired or was already used")
		}
		return tx.DeleteOIDCAuthRequest(ctx, r.ApplicationID, r.ID)
	})
	return r, err
}

// SaveOIDCCode keeps the hash of the code issued for a done request.
func (s *Service) SaveOIDCCode(ctx context.Context, id, code string) error {
	return s.store.Write(ctx, func(tx Tx) error {
		r, err := tx.OIDCAuthRequestByID(ctx, id)
		if err != nil {
			return notFound(err, "sign-in request")
		}
		if !r.Done {
			return Errorf(ECONFLICT, "the person has not signed in yet")
		}
		return tx.SetOIDCCode(ctx, r.ApplicationID, r.ID, TokenHash(code), s.now().Add(OIDCCodeTTL))
	})
}

// OIDCAuthRequestByCode returns the done request of an unexpired code. A code
// presented again after its exchange revokes every token that exchange issued, and
// is refused (ENOTFOUND), as are an unknown and an expired one.
func (s *Service) OIDCAuthRequestByCode(ctx context.Context, code string) (r OIDCAuthRequest, err error) {
	if code == "" || len(code) > 200 {
		return r, Errorf(ENOTFOUND, "unknown or expired code")
	}
	var refused error
	err = s.store.Write(ctx, func(tx Tx) error {
		r, err = tx.OIDCAuthRequestByCode(ctx, TokenHash(code))
		if ErrorCode(err) == ENOTFOUND {
			refused = Errorf(ENOTFOUND, "unknown or expired code")
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case r.CodeUsed:
			refused = Errorf(ENOTFOUND, "the code was already exchanged")
			if err := tx.RevokeOIDCAuthRequestTokens(ctx, r.ApplicationID, r.ID); err != nil {
				return err
			}
			return s.oidcRefusal(ctx, tx, r.ApplicationID, r.OrgID, r.AccountID, "code-reused")
		case !s.now().Before(r.ExpiresAt) || !r.Done:
			refused = Errorf(ENOTFOUND, "unknown or expired code")
		}
		return nil
	})
	if err == nil {
		err = refused
	}
	return r, err
}

// oidcRefusal audits a token refusal in the organization (at the platform when
// none is known).
func (s *Service) oidcRefusal(ctx context.Context, tx Tx, appID, orgID, accountID, reason string) error {
	return s.audit(ctx, tx, Actor{}, orgID, AuditOIDCTokenRefused, "account", accountID, nil,
		map[string]any{"application": appID, "reason": reason})
}

// OIDCClaims are what Roster's tokens say of the person, in the organization they
// signed in to, for the application.
type OIDCClaims struct {
	Account     Account
	Org         Organization
	Role        string   // the role's id (owner, admin, member or a custom role's)
	Permissions []string // the role's permissions
	Seat        *OIDCSeat
}

// OIDCSeat is the live seat the person holds of the application there.
type OIDCSeat struct {
	SubscriptionID string
	EndsAt         time.Time
}

// OIDCRefusal is why a person may not sign in to an application in an
// organization (the client gets access_denied); Message is for the person.
type OIDCRefusal struct {
	Reason  string // a ReasonX of the entitlement check, or not-subscribed
	Message string
	// Org is the organization refused, when it is known. SeatsAdmin says the
	// person may assign or request seats there (no-seat only): the page offers it.
	Org        Organization
	SeatsAdmin bool
}

// ReasonNotSubscribed: the organization has no live subscription of the application.
const ReasonNotSubscribed = "not-subscribed"

// oidcEligible decides whether accountID may sign in to the client's application in
// orgID now, and what the tokens say if so: an active account, an active membership,
// a live subscription of the application, and with RequireSeat a live seat.
func (s *Service) oidcEligible(ctx context.Context, tx Tx, c OIDCClient, accountID, orgID string) (OIDCClaims, *OIDCRefusal, error) {
	var cl OIDCClaims
	acct, err := tx.AccountByID(ctx, accountID)
	if ErrorCode(err) == ENOTFOUND {
		return cl, &OIDCRefusal{Reason: ReasonNotMember, Message: "Your account no longer exists."}, nil
	}
	if err != nil {
		return cl, nil, err
	}
	org, err := tx.OrganizationByRef(ctx, orgID)
	if ErrorCode(err) == ENOTFOUND {
		return cl, &OIDCRefusal{Reason: ReasonNotMember, Message: "The organization no longer exists."}, nil
	}
	if err != nil {
		return cl, nil, err
	}
	cl.Account, cl.Org = acct, org
	appName := c.Application.Name
	if acct.State == AccountDisabled {
		return cl, &OIDCRefusal{Reason: ReasonAccountDisabled, Message: "Your account is disabled."}, nil
	}
	m, err := tx.Membership(ctx, org.ID, acct.ID)
	if ErrorCode(err) == ENOTFOUND || (err == nil && m.State == MemberInvited) {
		return cl, &OIDCRefusal{Reason: ReasonNotMember, Message: "You are not a member of " + org.Name + "."}, nil
	}
	if err != nil {
		return cl, nil, err
	}
	if m.State == MemberDeactivated {
		return cl, &OIDCRefusal{Reason: ReasonDeactivated, Message: "Your membership of " + org.Name + " is deactivated."}, nil
	}
	role, err := s.role(ctx, tx, org.ID, m.RoleID)
	if err != nil {
		return cl, nil, err
	}
	cl.Role, cl.Permissions = role.ID, role.Permissions.Names()
	subs, err := tx.Subscriptions(ctx, org.ID)
	if err != nil {
		return cl, nil, err
	}
	now := s.now()
	live := map[string]Subscription{}
	for _, sub := range subs {
		if sub.ApplicationID == c.ApplicationID && sub.State(now) == SubscriptionActive {
			live[sub.ID] = sub
		}
	}
	if len(live) == 0 {
		return cl, &OIDCRefusal{Reason: ReasonNotSubscribed, Message: org.Name + " has no " + appName + " subscription."}, nil
	}
	mem, err := tx.Member(ctx, org.ID, acct.ID)
	if err != nil {
		return cl, nil, err
	}
	for _, seat := range mem.Seats {
		if sub, ok := live[seat.SubscriptionID]; ok && (cl.Seat == nil || sub.EndsAt.After(cl.Seat.EndsAt)) {
			cl.Seat = &OIDCSeat{SubscriptionID: sub.ID, EndsAt: sub.EndsAt}
		}
	}
	if cl.Seat == nil && c.RequireSeat {
		return cl, &OIDCRefusal{Reason: ReasonNoSeat, Message: "You have no " + appName + " seat in " + org.Name + ".", Org: org,
			SeatsAdmin: role.Permissions.Has(PermSeatsAssign) || role.Permissions.Has(PermSeatsRequest)}, nil
	}
	return cl, nil, nil
}

// OIDCSignIn is where a person's sign-in to an application stands.
type OIDCSignIn struct {
	Request OIDCAuthRequest
	Client  OIDCClient
	// Choices are the organizations to pick from (more than one, and none chosen),
	// the one last picked for the application first (LastChoice).
	Choices    []Organization
	LastChoice string
	// Refusal, when set, is why the person may not sign in; the request is spent.
	Refusal *OIDCRefusal
	// Org is where they signed in (when Done).
	Org  Organization
	Done bool
	// LoginRequired: the session's login is older than the request's max_age
	// allows (prompt=login asks for a login after the request): the person must
	// give their password again, and the request waits for it.
	LoginRequired bool
	// PromptError, when set, is the OpenID Connect error the client hears because
	// the request asked that no page be shown (prompt=none) and one would be:
	// login_required or interaction_required. The request is spent.
	PromptError string
}

// The prompt values of an authorization request (OpenID Connect Core 3.1.2.1).
const (
	PromptNone          = "none"
	PromptLogin         = "login"
	PromptConsent       = "consent"
	PromptSelectAccount = "select_account"
)

// The errors a prompt=none request ends with when a page would be needed.
const (
	OIDCLoginRequired       = "login_required"
	OIDCInteractionRequired = "interaction_required"
)

// Prompts reports whether the request asked for prompt value v.
func (r OIDCAuthRequest) Prompts(v string) bool { return slices.Contains(r.Prompt, v) }

// LoginFresh reports whether a login at authTime is recent enough for the request:
// with a max_age, no earlier than max_age before the request was made (prompt=login
// sets it to 0: a login after the request). A zero authTime (no session) never is
// when a max_age is asked.
func (r OIDCAuthRequest) LoginFresh(authTime time.Time) bool {
	if r.MaxAge == nil {
		return true
	}
	return !authTime.IsZero() && !authTime.Before(r.CreatedAt.Add(-*r.MaxAge))
}

// SignInOIDC signs the actor in to the request's application, in orgRef (an id or
// a slug; empty to let Roster choose). The candidates are the organizations where
// the actor is an active member and that subscribe to the application, restricted
// to the request's organization hint; with more than one and none chosen, Choices
// lists them. A person who may not sign in gets a Refusal (audited; the request is
// spent so the client hears access_denied). ENOTFOUND: an unknown, expired or
// already finished request.
func (s *Service) SignInOIDC(ctx context.Context, actor Actor, requestID, orgRef string) (si OIDCSignIn, err error) {
	defer wrap(&err, "SignInOIDC(%s)", requestID)
	if requestID == "" || len(requestID) > 100 || len(orgRef) > 200 {
		return si, Errorf(ENOTFOUND, "sign-in request not found")
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		si = OIDCSignIn{}
		r, err := tx.OIDCAuthRequestByID(ctx, requestID)
		if err != nil {
			return notFound(err, "sign-in request")
		}
		if r.Done || !s.now().Before(r.ExpiresAt) {
			return Errorf(ENOTFOUND, "the sign-in request expired or was already used")
		}
		c, err := s.oidcClientIn(ctx, tx, r.ApplicationID)
		if err != nil {
			return err
		}
		app := c.Application
		si.Request, si.Client = r, c
		silent := r.Prompts(PromptNone)
		// promptError ends a prompt=none request that would need a page.
		promptError := func(code string) error {
			si.PromptError = code
			return tx.DeleteOIDCAuthRequest(ctx, app.ID, r.ID)
		}
		if !r.LoginFresh(actor.AuthTime) {
			if silent {
				return promptError(OIDCLoginRequired)
			}
			si.LoginRequired = true
			return nil
		}
		if silent && actor.Account.MustResetPassword {
			return promptError(OIDCInteractionRequired)
		}
		refuse := func(orgID string, ref *OIDCRefusal) error {
			si.Refusal = ref
			if err := tx.DeleteOIDCAuthRequest(ctx, app.ID, r.ID); err != nil {
				return err
			}
			return s.audit(ctx, tx, actor, orgID, AuditOIDCSignInRefused, "account", actor.Account.ID, nil,
				map[string]any{"application": app.Key, "reason": ref.Reason})
		}
		if actor.Account.State == AccountDisabled {
			return refuse("", &OIDCRefusal{Reason: ReasonAccountDisabled, Message: "Your account is disabled."})
		}
		ms, err := tx.MembershipsOfAccount(ctx, actor.Account.ID)
		if err != nil {
			return err
		}
		hint := r.OrganizationHint
		if orgRef != "" && hint != "" && !refersTo(hint, orgRef, ms) {
			return Invalid("organization", "is not the organization this sign-in is for")
		}
		var candidates []Organization
		var hinted *AccountMembership
		now := s.now()
		for i, m := range ms {
			if hint != "" && m.Organization.ID != hint && !strings.EqualFold(m.Organization.Slug, hint) {
				continue
			}
			if hint != "" || len(ms) == 1 {
				hinted = &ms[i]
			}
			if m.State != MemberActive {
				continue
			}
			subs, err := tx.Subscriptions(ctx, m.Organization.ID)
			if err != nil {
				return err
			}
			if slices.ContainsFunc(subs, func(sub Subscription) bool {
				return sub.ApplicationID == app.ID && sub.State(now) == SubscriptionActive
			}) {
				candidates = append(candidates, m.Organization)
			}
		}
		if orgRef != "" && len(candidates) > 0 {
			// The person's pick, among the candidates only.
			i := slices.IndexFunc(candidates, func(o Organization) bool { return o.ID == orgRef || strings.EqualFold(o.Slug, orgRef) })
			if i < 0 {
				return Invalid("organization", "is not one of your organizations that use "+app.Name)
			}
			candidates = candidates[i : i+1]
		}
		switch {
		case len(candidates) == 0 && hinted != nil:
			// The one organization asked for (or the person's only one): say why it
			// cannot be.
			_, ref, err := s.oidcEligible(ctx, tx, c, actor.Account.ID, hinted.Organization.ID)
			if err != nil {
				return err
			}
			if ref == nil {
				ref = &OIDCRefusal{Reason: ReasonNotSubscribed, Message: hinted.Organization.Name + " has no " + app.Name + " subscription."}
			}
			return refuse(hinted.Organization.ID, ref)
		case len(candidates) == 0 && hint != "":
			return refuse("", &OIDCRefusal{Reason: ReasonNotMember, Message: "You are not a member of that organization."})
		case len(candidates) == 0:
			return refuse("", &OIDCRefusal{Reason: ReasonNotMember,
				Message: "You are not a member of an organization that uses " + app.Name + "."})
		case len(candidates) > 1:
			last, err := tx.OIDCOrgChoice(ctx, app.ID, actor.Account.ID)
			if err != nil {
				return err
			}
			if i := slices.IndexFunc(candidates, func(o Organization) bool { return o.ID == last }); i > 0 {
				candidates = append(append([]Organization{candidates[i]}, candidates[:i]...), candidates[i+1:]...)
			}
			if slices.ContainsFunc(candidates, func(o Organization) bool { return o.ID == last }) {
				si.LastChoice = last
			}
			switch {
			case silent && si.LastChoice != "":
				// No page: the organization picked last time (now first).
				candidates, si.LastChoice = candidates[:1], ""
			case silent:
				return promptError(OIDCInteractionRequired)
			default:
				si.Choices = candidates
				return nil
			}
		}
		org := candidates[0]
		_, ref, err := s.oidcEligible(ctx, tx, c, actor.Account.ID, org.ID)
		if err != nil {
			return err
		}
		if ref != nil {
			return refuse(org.ID, ref)
		}
		// auth_time is when the person gave their password, not this sign-in.
		at := actor.AuthTime
		if at.IsZero() {
			at = s.now()
		}
		if err := tx.CompleteOIDCAuthRequest(ctx, app.ID, r.ID, actor.Account.ID, org.ID, at); err != nil {
			return err
		}
		si.Request.AccountID, si.Request.OrgID, si.Request.AuthTime, si.Request.Done = actor.Account.ID, org.ID, at, true
		si.Org, si.Done = org, true
		if orgRef != "" {
			if err := tx.SetOIDCOrgChoice(ctx, app.ID, actor.Account.ID, org.ID, s.now()); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, actor, org.ID, AuditOIDCSignedIn, "account", actor.Account.ID, nil,
			map[string]any{"application": app.Key})
	})
	return si, err
}

// refersTo reports whether two organization references (ids or slugs) name the same
// organization among ms (or are equal).
func refersTo(a, b string, ms []AccountMembership) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	for _, m := range ms {
		o := m.Organization
		if (o.ID == a || strings.EqualFold(o.Slug, a)) && (o.ID == b || strings.EqualFold(o.Slug, b)) {
			return true
		}
	}
	return false
}

// OIDCGrant is what a token request issues: an access token's row, the refresh
// token (when one is issued) and the claims, read in the same transaction.
type OIDCGrant struct {
	AccessToken  OIDCAccessToken
	RefreshToken string
	Claims       OIDCClaims
}

// errOIDCDenied is the refusal of a token request (the client hears invalid_grant).
func errOIDCDenied(reason string) error {
	return &Error{Code: EFORBIDDEN, Message: "the grant is refused: " + reason}
}

// ExchangeOIDCCode spends a done request's code and issues its tokens: an access
// token, and with refresh a refresh token of a new family. The person must still be
// allowed to sign in there (a deactivation between the sign-in and the exchange
// counts). Of two concurrent exchanges of one code exactly one wins; the other is
// ENOTFOUND.
func (s *Service) ExchangeOIDCCode(ctx context.Context, clientID, requestID string, refresh bool) (g OIDCGrant, err error) {
	var refused error
	err = s.store.Write(ctx, func(tx Tx) error {
		g = OIDCGrant{}
		c, err := s.oidcClientIn(ctx, tx, clientID)
		if err != nil {
			return err
		}
		r, err := tx.OIDCAuthRequest(ctx, c.ApplicationID, requestID)
		if err != nil {
			return notFound(err, "code")
		}
		ok, err := tx.SpendOIDCCode(ctx, c.ApplicationID, r.ID)
		if err != nil {
			return err
		}
		if !ok || !r.Done {
			refused = Errorf(ENOTFOUND, "the code was already exchanged")
			return nil
		}
		cl, ref, err := s.oidcEligible(ctx, tx, c, r.AccountID, r.OrgID)
		if err != nil {
			return err
		}
		if ref != nil {
			refused = errOIDCDenied(ref.Reason)
			return s.oidcRefusal(ctx, tx, c.ApplicationID, r.OrgID, r.AccountID, ref.Reason)
		}
		g.Claims = cl
		family := ""
		if refresh {
			family = s.ids.New()
			g.RefreshToken, err = s.issueRefresh(ctx, tx, c, r.OrgID, r.AccountID, r.ID, family, r.Scopes, r.AuthTime)
			if err != nil {
				return err
			}
		}
		g.AccessToken, err = s.issueAccess(ctx, tx, c, r.OrgID, r.AccountID, r.ID, family, r.Scopes)
		return err
	})
	if err == nil {
		err = refused
	}
	return g, err
}

// wellFormedClientID: what a client id can be (an application's id) before any
// query sees it.
func wellFormedClientID(id string) bool {
	return id != "" && len(id) <= 100 && utf8.ValidString(id) && !strings.ContainsRune(id, 0)
}

// oidcClientIn reads the client with clientID (its application's id), with its
// application, in tx: an unknown or malformed id is ENOTFOUND.
func (s *Service) oidcClientIn(ctx context.Context, tx Tx, clientID string) (OIDCClient, error) {
	if !wellFormedClientID(clientID) {
		return OIDCClient{}, Errorf(ENOTFOUND, "sign-in client not found")
	}
	app, err := tx.Application(ctx, clientID)
	if err != nil || app.ID != clientID {
		return OIDCClient{}, Errorf(ENOTFOUND, "sign-in client not found")
	}
	c, err := tx.OIDCClient(ctx, app.ID)
	c.Application = app
	return c, notFound(err, "sign-in client")
}

func (s *Service) issueAccess(ctx context.Context, tx Tx, c OIDCClient, orgID, accountID, requestID, family string, scopes []string) (OIDCAccessToken, error) {
	now := s.now()
	t := OIDCAccessToken{ID: s.ids.New(), ApplicationID: c.ApplicationID, OrgID: orgID, AccountID: accountID,
		AuthRequestID: requestID, FamilyID: family, Scopes: scopes, CreatedAt: now, ExpiresAt: now.Add(OIDCAccessTTL)}
	return t, tx.CreateOIDCAccessToken(ctx, t)
}

func (s *Service) issueRefresh(ctx context.Context, tx Tx, c OIDCClient, orgID, accountID, requestID, family string, scopes []string, authTime time.Time) (string, error) {
	token, hash := s.newToken(refreshPrefix)
	now := s.now()
	return token, tx.CreateOIDCRefreshToken(ctx, OIDCRefreshToken{ID: s.ids.New(), Hash: hash, FamilyID: family,
		ApplicationID: c.ApplicationID, OrgID: orgID, AccountID: accountID, AuthRequestID: requestID, Scopes: scopes,
		AuthTime: authTime, State: RefreshActive, CreatedAt: now, ExpiresAt: now.Add(OIDCRefreshTTL)})
}

// refreshPrefix starts every refresh token.
const refreshPrefix = "rrt_"

// IsOIDCRefreshToken reports whether token has the form of a refresh token.
func IsOIDCRefreshToken(token string) bool { return WellFormedToken(refreshPrefix, token) }

// OIDCRefreshToken returns the active, unexpired refresh token. One that was spent
// or revoked is reuse: its whole family is revoked (the audit says so) and it is
// refused, as are an unknown and an expired one (ENOTFOUND).
func (s *Service) OIDCRefreshToken(ctx context.Context, token string) (t OIDCRefreshToken, err error) {
	if !IsOIDCRefreshToken(token) {
		return t, Errorf(ENOTFOUND, "unknown refresh token")
	}
	var refused error
	err = s.store.Write(ctx, func(tx Tx) error {
		t, err = tx.OIDCRefreshTokenByHash(ctx, TokenHash(token))
		if ErrorCode(err) == ENOTFOUND {
			refused = Errorf(ENOTFOUND, "unknown refresh token")
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case t.State != RefreshActive:
			refused = Errorf(ENOTFOUND, "the refresh token was already used: its family is revoked")
			if err := tx.RevokeOIDCFamily(ctx, t.ApplicationID, t.FamilyID); err != nil {
				return err
			}
			return s.oidcRefusal(ctx, tx, t.ApplicationID, t.OrgID, t.AccountID, "refresh-token-reused")
		case !s.now().Before(t.ExpiresAt):
			refused = Errorf(ENOTFOUND, "the refresh token expired")
		}
		return nil
	})
	if err == nil {
		err = refused
	}
	return t, err
}

// RefreshOIDC spends the refresh token and issues the next of its family with a new
// access token, for the person as they are now: one no longer allowed there is
// refused and the family revoked. A token spent concurrently (or before) is reuse:
// the family is revoked.
func (s *Service) RefreshOIDC(ctx context.Context, clientID, token string, scopes []string) (g OIDCGrant, err error) {
	var refused error
	err = s.store.Write(ctx, func(tx Tx) error {
		g = OIDCGrant{}
		c, err := s.oidcClientIn(ctx, tx, clientID)
		if err != nil {
			return err
		}
		t, err := tx.OIDCRefreshTokenByHash(ctx, TokenHash(token))
		if err != nil || t.ApplicationID != c.ApplicationID {
			return Errorf(ENOTFOUND, "unknown refresh token")
		}
		ok, err := tx.SpendOIDCRefreshToken(ctx, c.ApplicationID, t.ID, s.now())
		if err != nil {
			return err
		}
		if !ok {
			refused = Errorf(ENOTFOUND, "the refresh token was already used: its family is revoked")
			if err := tx.RevokeOIDCFamily(ctx, c.ApplicationID, t.FamilyID); err != nil {
				return err
			}
			return s.oidcRefusal(ctx, tx, c.ApplicationID, t.OrgID, t.AccountID, "refresh-token-reused")
		}
		cl, ref, err := s.oidcEligible(ctx, tx, c, t.AccountID, t.OrgID)
		if err != nil {
			return err
		}
		if ref != nil {
			refused = errOIDCDenied(ref.Reason)
			if err := tx.RevokeOIDCFamily(ctx, c.ApplicationID, t.FamilyID); err != nil {
				return err
			}
			return s.oidcRefusal(ctx, tx, c.ApplicationID, t.OrgID, t.AccountID, ref.Reason)
		}
		if len(scopes) == 0 {
			scopes = t.Scopes
		}
		g.Claims = cl
		g.RefreshToken, err = s.issueRefresh(ctx, tx, c, t.OrgID, t.AccountID, t.AuthRequestID, t.FamilyID, scopes, t.AuthTime)
		if err != nil {
			return err
		}
		g.AccessToken, err = s.issueAccess(ctx, tx, c, t.OrgID, t.AccountID, t.AuthRequestID, t.FamilyID, scopes)
		return err
	})
	if err == nil {
		err = refused
	}
	return g, err
}

// OIDCUserinfo returns the claims of a live access token (unrevoked, unexpired),
// read now: a person no longer allowed there is refused (EFORBIDDEN).
func (s *Service) OIDCUserinfo(ctx context.Context, tokenID string) (t OIDCAccessToken, cl OIDCClaims, err error) {
	err = s.store.Read(ctx, func(tx Tx) error {
		t, err = tx.OIDCAccessToken(ctx, tokenID)
		if err != nil {
			return notFound(err, "access token")
		}
		if t.Revoked || !s.now().Before(t.ExpiresAt) {
			return Errorf(ENOTFOUND, "the access token is revoked or expired")
		}
		c, err := s.oidcClientIn(ctx, tx, t.ApplicationID)
		if err != nil {
			return err
		}
		var ref *OIDCRefusal
		cl, ref, err = s.oidcEligible(ctx, tx, c, t.AccountID, t.OrgID)
		if err == nil && ref != nil {
			err = errOIDCDenied(ref.Reason)
		}
		return err
	})
	return t, cl, err
}

// OIDCGrantClaims reads the claims of a grant in force (for an ID token after a
// refresh, or introspection): the access token's person and organization, now.
func (s *Service) OIDCGrantClaims(ctx context.Context, clientID, accountID, orgID string) (cl OIDCClaims, err error) {
	err = s.store.Read(ctx, func(tx Tx) error {
		c, err := s.oidcClientIn(ctx, tx, clientID)
		if err != nil {
			return err
		}
		var ref *OIDCRefusal
		cl, ref, err = s.oidcEligible(ctx, tx, c, accountID, orgID)
		if err == nil && ref != nil {
			err = errOIDCDenied(ref.Reason)
		}
		return err
	})
	return cl, err
}

// RevokeOIDCToken revokes a refresh token (its whole family) or an access token of
// the client. An unknown token is no error (RFC 7009).
func (s *Service) RevokeOIDCToken(ctx context.Context, clientID, token, accessTokenID string) error {
	return s.store.Write(ctx, func(tx Tx) error {
		c, err := s.oidcClientIn(ctx, tx, clientID)
		if err != nil {
			return err
		}
		if accessTokenID != "" {
			t, err := tx.OIDCAccessToken(ctx, accessTokenID)
			if err != nil || t.ApplicationID != c.ApplicationID {
				return nil
			}
			if t.FamilyID != "" {
				return tx.RevokeOIDCFamily(ctx, c.ApplicationID, t.FamilyID)
			}
			return tx.RevokeOIDCAccessToken(ctx, c.ApplicationID, t.ID)
		}
		if !IsOIDCRefreshToken(token) {
			return nil
		}
		t, err := tx.OIDCRefreshTokenByHash(ctx, TokenHash(token))
		if err != nil || t.ApplicationID != c.ApplicationID {
			return nil
		}
		return tx.RevokeOIDCFamily(ctx, c.ApplicationID, t.FamilyID)
	})
}

// EndOIDCSession revokes every token of the person's grants to the client
// (RP-initiated logout).
func (s *Service) EndOIDCSession(ctx context.Context, clientID, accountID string) error {
	return s.store.Write(ctx, func(tx Tx) error {
		c, err := s.oidcClientIn(ctx, tx, clientID)
		if err != nil {
			return err
		}
		return tx.RevokeOIDCAccountTokens(ctx, c.ApplicationID, accountID)
	})
}

// SigningKeys returns the current and previous signing keys, newest first; when
// there is none, generate (given the algorithm and a fresh stored private key) is
// called and its key becomes the current one. Of concurrent first starts, one key
// wins and every process reads it.
func (s *Service) SigningKeys(ctx context.Context, generate func() (SigningKey, error)) (keys []SigningKey, err error) {
	err = s.store.Read(ctx, func(tx Tx) error {
		keys, err = tx.SigningKeys(ctx)
		return err
	})
	if err != nil || (len(keys) > 0 && keys[0].State == SigningKeyCurrent) {
		return keys, err
	}
	k, err := generate()
	if err != nil {
		return nil, err
	}
	k.ID, k.State, k.CreatedAt = s.ids.New(), SigningKeyCurrent, s.now()
	err = s.store.Write(ctx, func(tx Tx) error {
		if _, err := tx.AddSigningKey(ctx, k); err != nil {
			return err
		}
		keys, err = tx.SigningKeys(ctx)
		return err
	})
	return keys, err
}

// RotateSigningKey makes k the current signing key; the current one becomes
// previous (still in the JWKS, so tokens it signed verify until they expire) and
// older ones are retired. Audited at the platform.
func (s *Service) RotateSigningKey(ctx context.Context, k SigningKey) (SigningKey, error) {
	k.ID, k.State, k.CreatedAt = s.ids.New(), SigningKeyCurrent, s.now()
	err := s.store.Write(ctx, func(tx Tx) error {
		if err := tx.DemoteSigningKeys(ctx, k.CreatedAt); err != nil {
			return err
		}
		ok, err := tx.AddSigningKey(ctx, k)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(ECONFLICT, "another rotation made a current key at the same time")
		}
		return s.audit(ctx, tx, Actor{}, "", AuditOIDCKeyRotated, "signing_key", k.ID, nil, map[string]any{"algorithm": k.Algorithm})
	})
	return k, err
}
