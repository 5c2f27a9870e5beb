package oidcop_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/app"
	"roster.dev/roster/internal/config"
	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/oidcop"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/ratelimit"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
	"roster.dev/roster/internal/testtime"
)

// The tests drive Sign in with Roster as the vendor's application would: a real
// relying party (go-oidc and x/oauth2, not Roster's code) against the whole Roster
// handler on a real listener, through the console's real login form.

const (
	opEmail  = "op@roster.test"
	pw       = "correct horse battery"
	callback = "https://studio.example.com/callback"
)

type env struct {
	t        testing.TB
	srv      *httptest.Server
	issuer   string
	svc      *account.Service
	db       *sqlstore.DB
	clock    *testtime.Clock
	op       account.Actor
	opToken  string
	studio   account.Application
	acmeSub  account.Subscription
	clientID string
	secret   string
	app      *app.App
}

func each(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) { fn(t, newEnv(t, db)) })
}

func newEnv(t testing.TB, db *sqlstore.DB) *env { return newEnvWork(t, db, nil) }

// newEnvWork is newEnv with the background work a test Starts (e.app.Start); the
// logout worker may reach the test's local endpoints (WebhooksAllowPrivate).
func newEnvWork(t testing.TB, db *sqlstore.DB, work []app.Work) *env {
	t.Helper()
	e := &env{t: t, db: db, clock: &testtime.Clock{}}
	e.srv = httptest.NewUnstartedServer(nil)
	e.issuer = "http://" + e.srv.Listener.Addr().String()
	a, err := app.New(context.Background(), app.Options{
		Config: config.Config{BaseURL: e.issuer, CheckCache: account.DefaultCheckCacheEntries, OIDCKeySecret: "a test key secret",
			WebhooksAllowPrivate: true},
		DB: db, Now: e.clock.Now, Hasher: password.NewHasher(password.TestParams, 4, rand.Reader),
		Limits: limits.Config{LoginPerIP: ratelimit.Limit{Every: time.Millisecond, Burst: 1000}},
		Work:   work,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.app = a
	t.Cleanup(func() { a.Stop(context.Background()) })
	e.srv.Config.Handler = a.Handler
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	e.svc = a.Service
	ctx := context.Background()
	if _, _, err := e.svc.Bootstrap(ctx, opEmail, pw); err != nil {
		t.Fatal(err)
	}
	e.op = e.actor(opEmail)
	res, err := e.svc.Login(ctx, opEmail, pw, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	e.opToken = res.Token
	for _, slug := range []string{"acme", "globex"} {
		if _, err := e.svc.CreateOrganization(ctx, e.op, account.CreateOrganizationInput{
			Name: strings.ToUpper(slug[:1]) + slug[1:], Slug: slug, Kind: account.KindOrganization}); err != nil {
			t.Fatal(err)
		}
	}
	if e.studio, err = e.svc.CreateApplication(ctx, e.op, account.ApplicationInput{Key: "studio", Name: "Studio"}); err != nil {
		t.Fatal(err)
	}
	e.acmeSub = e.subscribe("acme", "studio")
	e.subscribe("globex", "studio")
	e.member("acme", "ada@acme.test", account.RoleAdmin)
	reg := e.api(http.MethodPut, "/api/v1/applications/studio/oidc", e.opToken,
		map[string]any{"redirect_uris": []string{callback}, "post_logout_redirect_uris": []string{"https://studio.example.com/bye"}}, 200)
	e.clientID, e.secret = reg["client_id"].(string), reg["client_secret"].(string)
	return e
}

func (e *env) actor(email string) account.Actor {
	e.t.Helper()
	ctx := context.Background()
	res, err := e.svc.Login(ctx, email, pw, "127.0.0.1", "test")
	if err != nil {
		e.t.Fatalf("login %s: %v", email, err)
	}
	a, err := e.svc.Authenticate(ctx, res.Token, "127.0.0.1")
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// token is a session token of email, for the API.
func (e *env) token(email string) string {
	e.t.Helper()
	res, err := e.svc.Login(context.Background(), email, pw, "127.0.0.1", "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Token
}

func (e *env) subscribe(org, appKey string) account.Subscription {
	e.t.Helper()
	seats := 10
	now := e.clock.Now()
	_, sub, err := e.svc.CreateSubscription(context.Background(), e.op, org, account.SubscriptionInput{
		Application: appKey, Seats: &seats, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(365 * 24 * time.Hour)})
	if err != nil {
		e.t.Fatal(err)
	}
	return sub
}

func (e *env) member(org, email, role string) account.Member {
	e.t.Helper()
	no := false
	m, err := e.svc.AddMember(context.Background(), e.op, org, account.AddMemberInput{
		Email: email, FirstName: "Ada", LastName: "Lovelace", Role: role, SendInvite: &no, Password: pw})
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) accountID(email string) string {
	return e.actor(email).Account.ID
}

// api calls the JSON API and wants status.
func (e *env) api(method, path, token string, body any, status int) map[string]any {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, status, raw)
	}
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return out
}

// rp is a relying party: go-oidc's provider from discovery, and x/oauth2.
type rp struct {
	provider *gooidc.Provider
	cfg      oauth2.Config
	verifier *gooidc.IDTokenVerifier
}

func (e *env) rp(clientID, secret string) *rp {
	e.t.Helper()
	p, err := gooidc.NewProvider(context.Background(), e.issuer)
	if err != nil {
		e.t.Fatalf("discovery: %v", err)
	}
	return &rp{provider: p, verifier: p.Verifier(&gooidc.Config{ClientID: clientID}),
		cfg: oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: callback,
			Scopes: []string{gooidc.ScopeOpenID, "profile", "email", gooidc.ScopeOfflineAccess}}}
}

// browser is a person's browser: cookies, following redirects on Roster, stopping
// at the one back to the application.
type browser struct {
	t      testing.TB
	e      *env
	client *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	host := e.srv.Listener.Addr().String()
	return &browser{t: e.t, e: e, client: &http.Client{Jar: jar, Transport: localOnly{host}, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != host {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

// localOnly refuses any request that is not to the test server: the
// applications' URLs are not dialled, nor even looked up.
type localOnly struct{ host string }

func (l localOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != l.host {
		return nil, errors.New("the test browser reaches the test server only, not " + req.URL.Host)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// response is what the browser ended on: a page of Roster's, or the redirect to
// the application (Location).
type response struct {
	header   http.Header
	status   int
	body     string
	url      *url.URL
	location *url.URL
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{header: resp.Header, status: resp.StatusCode, body: string(raw), url: resp.Request.URL}
	if loc := resp.Header.Get("Location"); loc != "" {
		r.location, _ = url.Parse(loc)
	}
	return r
}

func (b *browser) get(u string) response {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) response {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// login fills the console's login form the authorize endpoint sent the browser to.
func (b *browser) login(page response, email string) response {
	b.t.Helper()
	if page.url.Path != "/login" || page.status != 200 {
		b.t.Fatalf("want the login page, got %d %s", page.status, page.url)
	}
	return b.post(b.e.srv.URL+"/login", url.Values{"email": {email}, "password": {pw}, "next": {page.url.Query().Get("next")}})
}

// flow is one authorization request of a relying party.
type flow struct {
	state, nonce, verifier string
	url                    string
}

func (r *rp) start(extra ...oauth2.AuthCodeOption) flow {
	f := flow{state: oauth2.GenerateVerifier()[:20], nonce: oauth2.GenerateVerifier()[:20], verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), gooidc.Nonce(f.nonce)}, extra...)
	f.url = r.cfg.AuthCodeURL(f.state, opts...)
	return f
}

// code checks the redirect back to the application and returns its code.
func (e *env) code(r response, f flow) string {
	e.t.Helper()
	if r.location == nil || r.location.Scheme+"://"+r.location.Host+r.location.Path != callback {
		e.t.Fatalf("want a redirect to %s, got %d %v: %.300s", callback, r.status, r.location, r.body)
	}
	q := r.location.Query()
	if q.Get("error") != "" {
		e.t.Fatalf("authorization error %s: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != f.state {
		e.t.Errorf("state %q, want %q", q.Get("state"), f.state)
	}
	if q.Get("iss") != e.issuer {
		e.t.Errorf("iss %q, want %q (RFC 9207)", q.Get("iss"), e.issuer)
	}
	if q.Get("code") == "" {
		e.t.Fatal("no code")
	}
	return q.Get("code")
}

// denied checks a link back to the application with access_denied (it is not
// followed: the application is not here).
func (e *env) denied(back string, f flow) {
	e.t.Helper()
	u, err := url.Parse(back)
	if err != nil || !strings.HasPrefix(back, callback+"?") {
		e.t.Fatalf("want a link to %s, got %q", callback, back)
	}
	q := u.Query()
	if q.Get("error") != "access_denied" || q.Get("state") != f.state || q.Get("iss") != e.issuer || q.Get("code") != "" {
		e.t.Errorf("want access_denied with state and iss, got %s", u.RawQuery)
	}
}

func (e *env) exchange(r *rp, code, verifier string) (*oauth2.Token, error) {
	return r.cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
}

func wantGrantError(t testing.TB, err error, what string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("%s: want an OAuth error, got %v", what, err)
	}
	if re.ErrorCode != "invalid_grant" {
		t.Errorf("%s: error %q (%s), want invalid_grant", what, re.ErrorCode, re.ErrorDescription)
	}
}

// rosterClaims are what Roster's ID token and userinfo say.
type rosterClaims struct {
	Sub           string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name"`
	GivenName     string `json:"given_name"`
	FamilyName    string `json:"family_name"`
	Nonce         string `json:"nonce"`
	Org           struct {
		ID, Slug, Name string
	} `json:"org"`
	OrgRole     string   `json:"org_role"`
	Permissions []string `json:"permissions"`
	Seat        *struct {
		Subscription string `json:"subscription"`
		EndsAt       string `json:"ends_at"`
	} `json:"seat"`
}

func TestSignInCodeFlow(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada := e.accountID("ada@acme.test")
		if _, _, err := e.svc.AssignSeat(ctx, e.op, "acme", e.acmeSub.ID, ada); err != nil {
			t.Fatal(err)
		}
		r := e.rp(e.clientID, e.secret)
		b := e.browser()

		// Unauthenticated: the authorize endpoint sends the browser to the console's
		// login, which comes back to finish the request.
		f := r.start()
		page := b.get(f.url)
		code := e.code(b.login(page, "ada@acme.test"), f)

		tok, err := e.exchange(r, code, f.verifier)
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := r.verifier.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("ID token: %v", err)
		}
		var cl rosterClaims
		if err := idt.Claims(&cl); err != nil {
			t.Fatal(err)
		}
		if cl.Sub != ada || cl.Nonce != f.nonce || cl.Email != "ada@acme.test" || cl.GivenName != "Ada" || cl.FamilyName != "Lovelace" ||
			cl.Name != "Ada Lovelace" || cl.Org.Slug != "acme" || cl.Org.Name != "Acme" || cl.OrgRole != "admin" {
			t.Errorf("ID token claims: %+v", cl)
		}
		if cl.Seat == nil || cl.Seat.Subscription != e.acmeSub.ID || cl.Seat.EndsAt != e.acmeSub.EndsAt.UTC().Format(time.RFC3339) {
			t.Errorf("seat claim %+v, want subscription %s", cl.Seat, e.acmeSub.ID)
		}
		if len(cl.Permissions) == 0 {
			t.Error("an admin's permissions are missing")
		}
		if life := time.Until(idt.Expiry); life > 6*time.Minute || life < time.Minute {
			t.Errorf("ID token lives %v, want minutes", life)
		}
		if life := time.Until(tok.Expiry); life > 6*time.Minute || life < time.Minute {
			t.Errorf("access token lives %v, want minutes", life)
		}

		// Userinfo, with the access token.
		ui, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		var uc rosterClaims
		if err := ui.Claims(&uc); err != nil {
			t.Fatal(err)
		}
		if uc.Sub != ada || uc.Email != "ada@acme.test" || uc.Org.ID == "" || uc.Seat == nil {
			t.Errorf("userinfo claims: %+v", uc)
		}

		// Refresh rotates: a new refresh token; the old one presented again is reuse,
		// which revokes the family (the new one too, and its access token).
		rt1 := tok.RefreshToken
		if rt1 == "" {
			t.Fatal("no refresh token with offline_access")
		}
		tok2, err := r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt1}).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if tok2.RefreshToken == "" || tok2.RefreshToken == rt1 {
			t.Fatalf("refresh token not rotated: %q", tok2.RefreshToken)
		}
		if raw2, _ := tok2.Extra("id_token").(string); raw2 != "" {
			if _, err := r.verifier.Verify(ctx, raw2); err != nil {
				t.Errorf("refreshed ID token: %v", err)
			}
		}
		if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok2)); err != nil {
			t.Fatalf("userinfo after refresh: %v", err)
		}
		_, err = r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt1}).Token()
		wantGrantError(t, err, "the spent refresh token again")
		_, err = r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token()
		wantGrantError(t, err, "the family's newest refresh token after reuse")
		if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok2)); err == nil {
			t.Error("userinfo answered with an access token of a revoked family")
		}

		// The console session signs in again without a password.
		f2 := r.start()
		code2 := e.code(b.get(f2.url), f2)
		if _, err := e.exchange(r, code2, f2.verifier); err != nil {
			t.Fatalf("second exchange: %v", err)
		}

		// The audit names the sign-ins and the refusal, in acme.
		ev := e.api(http.MethodGet, "/api/v1/organizations/acme/audit?limit=50", e.opToken, nil, 200)
		actions := map[string]int{}
		for _, it := range ev["items"].([]any) {
			actions[it.(map[string]any)["action"].(string)]++
		}
		if actions["oidc.signed_in"] != 2 || actions["oidc.token_refused"] != 2 {
			t.Errorf("audit actions %v, want 2 oidc.signed_in and 2 oidc.token_refused (the spent token, then its newer sibling)", actions)
		}
	})
}

func TestSignInDiscoveryAndKeys(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		doc := e.api(http.MethodGet, "/.well-known/openid-configuration", "", nil, 200)
		for k, want := range map[string]string{
			"issuer": e.issuer, "authorization_endpoint": e.issuer + "/oauth/authorize", "token_endpoint": e.issuer + "/oauth/token",
			"userinfo_endpoint": e.issuer + "/oauth/userinfo", "jwks_uri": e.issuer + "/oauth/jwks",
			"revocation_endpoint": e.issuer + "/oauth/revoke", "introspection_endpoint": e.issuer + "/oauth/introspect",
			"end_session_endpoint": e.issuer + "/oauth/end_session",
		} {
			if doc[k] != want {
				t.Errorf("%s = %v, want %s", k, doc[k], want)
			}
		}
		if doc["authorization_response_iss_parameter_supported"] != true {
			t.Error("discovery does not say iss is in the authorization response")
		}
		if _, ok := doc["device_authorization_endpoint"]; ok {
			t.Error("discovery names a device endpoint that is not served")
		}
		keys := e.api(http.MethodGet, "/oauth/jwks", "", nil, 200)["keys"].([]any)
		if len(keys) != 1 || keys[0].(map[string]any)["alg"] != "ES256" {
			t.Fatalf("JWKS %v, want one ES256 key", keys)
		}
		// The key is stored sealed (a key secret is configured).
		stored, err := e.svc.SigningKeys(context.Background(), nil)
		if err != nil || len(stored) != 1 {
			t.Fatalf("stored keys %d: %v", len(stored), err)
		}
		if !strings.HasPrefix(stored[0].PrivateKey, "sealed:") || stored[0].ID != keys[0].(map[string]any)["kid"] {
			t.Errorf("stored key %.20q… (%s) is not the sealed key of the JWKS", stored[0].PrivateKey, stored[0].ID)
		}
		if r := e.browser().get(e.srv.URL + "/oauth/authorize/callback?id=x"); r.status != http.StatusNotFound {
			t.Errorf("the op package's own callback answers %d, want 404", r.status)
		}
	})
}

func TestSignInRefusals(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		r := e.rp(e.clientID, e.secret)

		// An unregistered redirect URI: Roster says so itself and sends the browser
		// nowhere.
		evil := r.cfg
		evil.RedirectURL = "https://evil.example/callback"
		bad := (&rp{cfg: evil}).start()
		if got := e.browser().get(bad.url); got.status != http.StatusBadRequest || got.location != nil {
			t.Errorf("unregistered redirect URI: %d to %v, want 400 and no redirect", got.status, got.location)
		}
		prefix := r.cfg
		prefix.RedirectURL = callback + "/more"
		if got := e.browser().get((&rp{cfg: prefix}).start().url); got.status != http.StatusBadRequest || got.location != nil {
			t.Errorf("a longer redirect URI: %d to %v, want 400 (exact match)", got.status, got.location)
		}

		// A code is good once: the second exchange fails and revokes what the first
		// one issued.
		b := e.browser()
		f := r.start()
		code := e.code(b.login(b.get(f.url), "ada@acme.test"), f)
		tok, err := e.exchange(r, code, f.verifier)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.exchange(r, code, f.verifier)
		wantGrantError(t, err, "the code again")
		if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Error("the access token of a reused code still answers userinfo")
		}
		if _, err := r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Error("the refresh token of a reused code still refreshes")
		}

		// Another tenant's organization asked for: refused, not signed in there.
		f = r.start(oauth2.SetAuthURLParam("organization", "globex"))
		page := b.get(f.url)
		if page.status != http.StatusForbidden || !strings.Contains(page.body, "You are not a member of that organization.") {
			t.Errorf("ada asking for globex: %d %.300s", page.status, page.body)
		}
		e.denied(backLink(t, page.body), f)

		// PKCE: the wrong verifier.
		f = r.start()
		code = e.code(b.get(f.url), f)
		_, err = e.exchange(r, code, oauth2.GenerateVerifier())
		wantGrantError(t, err, "a wrong code_verifier")

		// An expired code.
		f = r.start()
		code = e.code(b.get(f.url), f)
		e.clock.Advance(2 * time.Minute)
		_, err = e.exchange(r, code, f.verifier)
		wantGrantError(t, err, "an expired code")

		// Another application's client presenting studio's code.
		if _, err := e.svc.CreateApplication(ctx, e.op, account.ApplicationInput{Key: "ledger", Name: "Ledger"}); err != nil {
			t.Fatal(err)
		}
		reg := e.api(http.MethodPut, "/api/v1/applications/ledger/oidc", e.opToken, map[string]any{"redirect_uris": []string{callback}}, 200)
		ledger := e.rp(reg["client_id"].(string), reg["client_secret"].(string))
		f = r.start()
		code = e.code(b.get(f.url), f)
		_, err = e.exchange(ledger, code, f.verifier)
		wantGrantError(t, err, "ledger's client with studio's code")
		// A wrong secret for studio.
		wrong := e.rp(e.clientID, "rcs_wrong")
		f = r.start()
		code = e.code(b.get(f.url), f)
		if _, err := e.exchange(wrong, code, f.verifier); err == nil {
			t.Error("a wrong client secret exchanged a code")
		}

		// A deactivated member: a clear page, and access_denied for the client.
		e.member("acme", "mel@acme.test", account.RoleMember)
		mel := e.accountID("mel@acme.test")
		if _, err := e.svc.DeactivateMember(ctx, e.op, "acme", mel); err != nil {
			t.Fatal(err)
		}
		mb := e.browser()
		f = r.start()
		page = mb.login(mb.get(f.url), "mel@acme.test")
		if page.status != http.StatusForbidden || !strings.Contains(page.body, "Your membership of Acme is deactivated.") {
			t.Errorf("deactivated member: %d %.400s", page.status, page.body)
		}
		e.denied(backLink(t, page.body), f)
		// With the organization asked for, the page says why.
		f = r.start(oauth2.SetAuthURLParam("organization", "acme"))
		page = mb.get(f.url)
		if page.status != http.StatusForbidden || !strings.Contains(page.body, "Your membership of Acme is deactivated.") {
			t.Errorf("deactivated member of the organization asked for: %d %.400s", page.status, page.body)
		}
		e.denied(backLink(t, page.body), f)

		// A member deactivated between the sign-in and the exchange: refused.
		e.member("acme", "sam@acme.test", account.RoleMember)
		sb := e.browser()
		f = r.start()
		code = e.code(sb.login(sb.get(f.url), "sam@acme.test"), f)
		if _, err := e.svc.DeactivateMember(ctx, e.op, "acme", e.accountID("sam@acme.test")); err != nil {
			t.Fatal(err)
		}
		_, err = e.exchange(r, code, f.verifier)
		wantGrantError(t, err, "a code of a member deactivated since")

		// A disabled account cannot log in to the console at all.
		e.member("acme", "dee@acme.test", account.RoleMember)
		if _, err := e.svc.DisableAccount(ctx, e.op, e.accountID("dee@acme.test")); err != nil {
			t.Fatal(err)
		}
		db := e.browser()
		f = r.start()
		if got := db.login(db.get(f.url), "dee@acme.test"); got.location != nil || got.status == http.StatusOK && !strings.Contains(got.body, "Log in") {
			t.Errorf("a disabled account got past the login: %d %v", got.status, got.location)
		}

		// require_seat: a person without a seat of Studio in Acme.
		e.api(http.MethodPut, "/api/v1/applications/studio/oidc", e.opToken,
			map[string]any{"redirect_uris": []string{callback}, "require_seat": true}, 200)
		f = r.start()
		page = b.get(f.url)
		if page.status != http.StatusForbidden || !strings.Contains(page.body, "You have no Studio seat in Acme") ||
			!strings.Contains(page.body, `href="/o/acme/users/`+e.accountID("ada@acme.test")+`">Request a seat`) {
			t.Errorf("require_seat without a seat, for an admin: %d %.1500s", page.status, page.body)
		}
		e.denied(backLink(t, page.body), f)
		if panel := b.get(e.srv.URL + "/o/acme/users/" + e.accountID("ada@acme.test")); panel.status != 200 || !strings.Contains(panel.body, `id="licenses-title"`) || !strings.Contains(panel.body, "Assign") {
			t.Errorf("the Request a seat link leads to %d without a way to a seat", panel.status)
		}
		// A plain member is told whom to ask.
		e.member("acme", "max@acme.test", account.RoleMember)
		xb := e.browser()
		f = r.start()
		page = xb.login(xb.get(f.url), "max@acme.test")
		if page.status != http.StatusForbidden || !strings.Contains(page.body, "Ask an administrator of Acme for a seat.") ||
			strings.Contains(page.body, "Request a seat") {
			t.Errorf("require_seat without a seat, for a member: %d %.1500s", page.status, page.body)
		}
		// With a seat, it signs in.
		if _, _, err := e.svc.AssignSeat(ctx, e.op, "acme", e.acmeSub.ID, e.accountID("ada@acme.test")); err != nil {
			t.Fatal(err)
		}
		f = r.start()
		if _, err := e.exchange(r, e.code(b.get(f.url), f), f.verifier); err != nil {
			t.Fatalf("with a seat: %v", err)
		}

		ev := e.api(http.MethodGet, "/api/v1/organizations/acme/audit?limit=100", e.opToken, nil, 200)
		refused := 0
		for _, it := range ev["items"].([]any) {
			if it.(map[string]any)["action"] == "oidc.sign_in_refused" {
				refused++
			}
		}
		if refused < 2 {
			t.Errorf("%d sign-in refusals audited in acme, want the deactivated member's and the seatless one's", refused)
		}
	})
}

// backLink is the refusal page's link back to the application.
func backLink(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, `href="`+callback)
	if i < 0 {
		t.Fatalf("no link back to the application in %.600s", body)
	}
	rest := body[i+len(`href="`):]
	return htmlUnescape(rest[:strings.Index(rest, `"`)])
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

func TestSignInOrganizationPicker(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.member("acme", "pat@acme.test", account.RoleMember)
		pat := e.accountID("pat@acme.test")
		no := false
		if _, err := e.svc.AddMember(ctx, e.op, "globex", account.AddMemberInput{Email: "pat@acme.test", Role: account.RoleAdmin, SendInvite: &no}); err != nil {
			t.Fatal(err)
		}
		r := e.rp(e.clientID, e.secret)
		b := e.browser()
		f := r.start()
		login := b.get(f.url)
		// Chromium checks form-action on the redirects after a form's submission:
		// the login's and the picker's forms may lead to the application.
		const formAction = "form-action 'self' https://studio.example.com;"
		if csp := login.header.Get("Content-Security-Policy"); !strings.Contains(csp, formAction) {
			t.Errorf("the login page of a sign-in: CSP %q", csp)
		}
		if csp := b.get(e.srv.URL + "/login").header.Get("Content-Security-Policy"); strings.Contains(csp, "studio.example.com") {
			t.Errorf("a plain login page: CSP %q", csp)
		}
		page := b.login(login, "pat@acme.test")
		if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, formAction) {
			t.Errorf("the picker: CSP %q", csp)
		}
		if page.status != 200 || !strings.Contains(page.body, "Which one do you sign in to?") ||
			!strings.Contains(page.body, ">Acme<") || !strings.Contains(page.body, ">Globex<") {
			t.Fatalf("picker: %d %.600s", page.status, page.body)
		}
		var globexID string
		org, err := e.svc.FindOrganization(ctx, e.op, "globex")
		if err != nil {
			t.Fatal(err)
		}
		globexID = org.ID
		// An organization the person is not in is refused, not chosen.
		if got := b.post(e.srv.URL+page.url.Path, url.Values{"organization": {"no-such-org"}}); got.location != nil || got.status != http.StatusUnprocessableEntity {
			t.Errorf("an organization not among the choices: %d %v, want 422", got.status, got.location)
		}
		code := e.code(b.post(e.srv.URL+page.url.Path, url.Values{"organization": {globexID}}), f)
		tok, err := e.exchange(r, code, f.verifier)
		if err != nil {
			t.Fatal(err)
		}
		idt, err := r.verifier.Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatal(err)
		}
		var cl rosterClaims
		_ = idt.Claims(&cl)
		if cl.Sub != pat || cl.Org.Slug != "globex" || cl.OrgRole != "admin" || cl.Seat != nil {
			t.Errorf("claims after picking globex: %+v", cl)
		}
		// Next time the picker offers globex first, as the last used.
		again := b.get(r.start().url)
		if i, j := strings.Index(again.body, "Globex <small>(last used)</small>"), strings.Index(again.body, ">Acme<"); i < 0 || j < 0 || i > j {
			t.Errorf("the picker after picking globex: %.1500s", again.body)
		}
		// The organization parameter preselects: no picker.
		f = r.start(oauth2.SetAuthURLParam("organization", "acme"))
		code = e.code(b.get(f.url), f)
		tok, err = e.exchange(r, code, f.verifier)
		if err != nil {
			t.Fatal(err)
		}
		idt, _ = r.verifier.Verify(ctx, tok.Extra("id_token").(string))
		_ = idt.Claims(&cl)
		if cl.Org.Slug != "acme" || cl.OrgRole != "member" || cl.Seat != nil {
			t.Errorf("claims with organization=acme: %+v", cl)
		}
		// A sign-in request is finished once.
		if got := b.post(e.srv.URL+page.url.Path, url.Values{"organization": {globexID}}); got.status != http.StatusNotFound {
			t.Errorf("a finished sign-in again: %d, want 404", got.status)
		}
	})
}

func TestSignInPublicClient(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		reg := e.api(http.MethodPut, "/api/v1/applications/studio/oidc", e.opToken,
			map[string]any{"redirect_uris": []string{"http://localhost:5173/callback", callback}, "public": true}, 200)
		if reg["client_secret"] != nil || reg["public"] != true {
			t.Fatalf("public client: %v", reg)
		}
		r := e.rp(e.clientID, "")
		r.cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
		b := e.browser()
		// Without PKCE: refused, to the client.
		noPKCE := r.cfg.AuthCodeURL("s1", gooidc.Nonce("n1"))
		got := b.get(noPKCE)
		if got.location == nil || got.location.Query().Get("error") != "invalid_request" || got.location.Query().Get("iss") != e.issuer {
			t.Errorf("a public client without PKCE: %d %v", got.status, got.location)
		}
		f := r.start()
		code := e.code(b.login(b.get(f.url), "ada@acme.test"), f)
		if _, err := e.exchange(r, code, f.verifier); err != nil {
			t.Fatalf("public client's exchange: %v", err)
		}
		// The secret the client had before is gone.
		if _, err := e.exchange(e.rp(e.clientID, e.secret), code, f.verifier); err == nil {
			t.Error("the old secret still works")
		}
		e.api(http.MethodPost, "/api/v1/applications/studio/oidc/rotate-secret", e.opToken, nil, 409)
	})
}

func TestOIDCClientAPI(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		// Read back: no secret.
		got := e.api(http.MethodGet, "/api/v1/applications/studio/oidc", e.opToken, nil, 200)
		if _, ok := got["client_secret"]; ok || got["client_id"] != e.studio.ID || got["require_seat"] != false {
			t.Errorf("GET: %v", got)
		}
		// Changing settings keeps the secret (null in the answer).
		put := e.api(http.MethodPut, "/api/v1/applications/studio/oidc", e.opToken,
			map[string]any{"redirect_uris": []string{callback}, "require_seat": true}, 200)
		if put["client_secret"] != nil {
			t.Errorf("a change showed a secret: %v", put["client_secret"])
		}
		if err := e.svc.AuthenticateOIDCClient(context.Background(), e.clientID, e.secret); err != nil {
			t.Errorf("the secret changed with the settings: %v", err)
		}
		// Rotation: a new secret once; the old one stops working.
		rot := e.api(http.MethodPost, "/api/v1/applications/studio/oidc/rotate-secret", e.opToken, nil, 200)
		if s, _ := rot["client_secret"].(string); !strings.HasPrefix(s, "rcs_") || s == e.secret {
			t.Fatalf("rotate: %v", rot)
		}
		if err := e.svc.AuthenticateOIDCClient(context.Background(), e.clientID, e.secret); err == nil {
			t.Error("the old secret works after a rotation")
		}
		if err := e.svc.AuthenticateOIDCClient(context.Background(), e.clientID, rot["client_secret"].(string)); err != nil {
			t.Errorf("the new secret: %v", err)
		}
		// Validation names the field.
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{}, "redirect_uris"},
			{map[string]any{"redirect_uris": []string{}}, "redirect_uris"},
			{map[string]any{"redirect_uris": []string{"/relative"}}, "redirect_uris"},
			{map[string]any{"redirect_uris": []string{"http://studio.example.com/cb"}}, "redirect_uris"},
			{map[string]any{"redirect_uris": []string{"https://studio.example.com/cb#frag"}}, "redirect_uris"},
			{map[string]any{"redirect_uris": []string{callback}, "post_logout_redirect_uris": []string{"ftp://x/y"}}, "post_logout_redirect_uris"},
		} {
			p := e.api(http.MethodPut, "/api/v1/applications/studio/oidc", e.opToken, c.body, 422)
			if !strings.Contains(mustJSON(p), `"`+c.field+`"`) {
				t.Errorf("%v: problem %v does not name %s", c.body, p, c.field)
			}
		}
		// An unknown application; an application without a client.
		e.api(http.MethodGet, "/api/v1/applications/nope/oidc", e.opToken, nil, 404)
		if _, err := e.svc.CreateApplication(context.Background(), e.op, account.ApplicationInput{Key: "ledger", Name: "Ledger"}); err != nil {
			t.Fatal(err)
		}
		e.api(http.MethodGet, "/api/v1/applications/ledger/oidc", e.opToken, nil, 404)
		e.api(http.MethodPost, "/api/v1/applications/ledger/oidc/rotate-secret", e.opToken, nil, 404)

		// An organization's own admin (not the platform's operator) may not touch it.
		adaToken := e.token("ada@acme.test")
		e.api(http.MethodPut, "/api/v1/applications/studio/oidc", adaToken, map[string]any{"redirect_uris": []string{"https://evil.example/cb"}}, 403)
		e.api(http.MethodGet, "/api/v1/applications/studio/oidc", adaToken, nil, 403)
		e.api(http.MethodPost, "/api/v1/applications/studio/oidc/rotate-secret", adaToken, nil, 403)
		if err := e.svc.AuthenticateOIDCClient(context.Background(), e.clientID, rot["client_secret"].(string)); err != nil {
			t.Errorf("a refused request changed the secret: %v", err)
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestSignInForcedPasswordChange(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		no := false
		if _, err := e.svc.AddMember(context.Background(), e.op, "acme", account.AddMemberInput{Email: "new@acme.test", FirstName: "New", LastName: "Comer", Role: account.RoleMember,
			SendInvite: &no, Password: pw, ResetPasswordOnFirstLogin: true}); err != nil {
			t.Fatal(err)
		}
		r := e.rp(e.clientID, e.secret)
		b := e.browser()
		f := r.start()
		page := b.login(b.get(f.url), "new@acme.test")
		if page.url.Path != "/password" || page.location != nil {
			t.Fatalf("a forced password change: ended on %d %s %v", page.status, page.url, page.location)
		}
		done := b.post(e.srv.URL+"/password", url.Values{"current_password": {pw}, "new_password": {"a brand new one"},
			"next": {page.url.Query().Get("next")}})
		if _, err := e.exchange(r, e.code(done, f), f.verifier); err != nil {
			t.Fatal(err)
		}
		// A session that must still change its password goes there first, too, and
		// comes back.
		if _, err := e.svc.AddMember(context.Background(), e.op, "acme", account.AddMemberInput{Email: "late@acme.test", FirstName: "Late", LastName: "Comer", Role: account.RoleMember,
			SendInvite: &no, Password: pw, ResetPasswordOnFirstLogin: true}); err != nil {
			t.Fatal(err)
		}
		lb := e.browser()
		lb.login(lb.get(e.srv.URL+"/login"), "late@acme.test")
		f = r.start()
		page = lb.get(f.url)
		if page.url.Path != "/password" || !strings.HasPrefix(page.url.Query().Get("next"), "/sign-in/") {
			t.Fatalf("a session that must change its password: %s", page.url)
		}
	})
}

func TestSigningKeyRotation(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		r := e.rp(e.clientID, e.secret)
		b := e.browser()
		idToken := func() (string, string) {
			t.Helper()
			f := r.start()
			var code string
			if page := b.get(f.url); page.url.Path == "/login" {
				code = e.code(b.login(page, "ada@acme.test"), f)
			} else {
				code = e.code(page, f)
			}
			tok, err := e.exchange(r, code, f.verifier)
			if err != nil {
				t.Fatal(err)
			}
			raw := tok.Extra("id_token").(string)
			idt, err := r.verifier.Verify(ctx, raw)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			_ = idt
			var hdr struct{ Kid string }
			seg, _ := base64URL(strings.Split(raw, ".")[0])
			_ = json.Unmarshal(seg, &hdr)
			return raw, hdr.Kid
		}
		old, kidA := idToken()
		kidB, err := oidcop.Rotate(ctx, e.svc, "a test key secret")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := oidcop.Rotate(ctx, e.svc, "the wrong secret"); err == nil {
			t.Error("a rotation with a secret that does not open the stored keys went ahead")
		}
		e.clock.Advance(2 * time.Minute) // past the keyring's minute: the running server reads the new key
		kids := func() []string {
			var out []string
			for _, k := range e.api(http.MethodGet, "/oauth/jwks", "", nil, 200)["keys"].([]any) {
				out = append(out, k.(map[string]any)["kid"].(string))
			}
			return out
		}
		if got := kids(); len(got) != 2 || got[0] != kidB || got[1] != kidA {
			t.Fatalf("JWKS after a rotation: %v, want [%s %s]", got, kidB, kidA)
		}
		if _, kid := idToken(); kid != kidB {
			t.Errorf("signed with %s after the rotation, want %s", kid, kidB)
		}
		if _, err := r.verifier.Verify(ctx, old); err != nil {
			t.Errorf("a token signed by the previous key: %v", err)
		}
		kidC, err := oidcop.Rotate(ctx, e.svc, "a test key secret")
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(2 * time.Minute)
		if got := kids(); len(got) != 2 || got[0] != kidC || got[1] != kidB {
			t.Errorf("JWKS after a second rotation: %v, want [%s %s] (the first retired)", got, kidC, kidB)
		}
		ev := e.api(http.MethodGet, "/api/v1/audit?limit=100", e.opToken, nil, 200)
		n := 0
		for _, it := range ev["items"].([]any) {
			if it.(map[string]any)["action"] == "oidc.key_rotated" {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d key rotations audited, want 2", n)
		}
	})
}

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func TestSignInEndSession(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		r := e.rp(e.clientID, e.secret)
		b := e.browser()
		f := r.start()
		tok, err := e.exchange(r, e.code(b.login(b.get(f.url), "ada@acme.test"), f), f.verifier)
		if err != nil {
			t.Fatal(err)
		}
		idt := tok.Extra("id_token").(string)
		var endpoint struct {
			EndSession string `json:"end_session_endpoint"`
		}
		if err := r.provider.Claims(&endpoint); err != nil {
			t.Fatal(err)
		}
		// An unregistered post-logout URI is refused.
		bad := b.get(endpoint.EndSession + "?" + url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {"https://evil.example/bye"}}.Encode())
		if bad.location != nil && strings.HasPrefix(bad.location.String(), "https://evil.example") {
			t.Errorf("logout sent the browser to an unregistered URI: %v", bad.location)
		}
		got := b.get(endpoint.EndSession + "?" + url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {"https://studio.example.com/bye"},
			"state": {"st"}}.Encode())
		if got.location == nil || got.location.Host != "studio.example.com" || got.location.Path != "/bye" || got.location.Query().Get("state") != "st" {
			t.Fatalf("end session: %d %v", got.status, got.location)
		}
		// The person's grants to studio are over.
		if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Error("userinfo answers after the logout")
		}
		_, err = r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		wantGrantError(t, err, "a refresh after the logout")
	})
}

func TestSignInRevokeAndIntrospect(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		r := e.rp(e.clientID, e.secret)
		b := e.browser()
		f := r.start()
		tok, err := e.exchange(r, e.code(b.login(b.get(f.url), "ada@acme.test"), f), f.verifier)
		if err != nil {
			t.Fatal(err)
		}
		post := func(path, id, secret string, form url.Values) map[string]any {
			t.Helper()
			req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(id, secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			out := map[string]any{"status": float64(resp.StatusCode)}
			_ = json.Unmarshal(raw, &out)
			return out
		}
		in := post("/oauth/introspect", e.clientID, e.secret, url.Values{"token": {tok.AccessToken}})
		org, _ := in["org"].(map[string]any)
		if in["active"] != true || in["client_id"] != e.clientID || org["slug"] != "acme" {
			t.Errorf("introspection by studio: %v", in)
		}
		if _, err := e.svc.CreateApplication(ctx, e.op, account.ApplicationInput{Key: "ledger", Name: "Ledger"}); err != nil {
			t.Fatal(err)
		}
		reg := e.api(http.MethodPut, "/api/v1/applications/ledger/oidc", e.opToken, map[string]any{"redirect_uris": []string{callback}}, 200)
		if other := post("/oauth/introspect", reg["client_id"].(string), reg["client_secret"].(string), url.Values{"token": {tok.AccessToken}}); other["active"] == true {
			t.Errorf("ledger introspected studio's token: %v", other)
		}
		// Ledger cannot revoke studio's refresh token; studio can.
		post("/oauth/revoke", reg["client_id"].(string), reg["client_secret"].(string), url.Values{"token": {tok.RefreshToken}})
		if _, err := r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
			t.Fatalf("another client's revocation took effect: %v", err)
		}
		// (That refresh rotated it; revoke the family through the spent one's sibling.)
		f = r.start()
		tok, err = e.exchange(r, e.code(b.get(f.url), f), f.verifier)
		if err != nil {
			t.Fatal(err)
		}
		if res := post("/oauth/revoke", e.clientID, e.secret, url.Values{"token": {tok.RefreshToken}}); res["status"] != float64(200) {
			t.Errorf("revoke: %v", res)
		}
		_, err = r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		wantGrantError(t, err, "a revoked refresh token")
		if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Error("the access token of a revoked family answers userinfo")
		}
	})
}

func TestSignInHousekeeping(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		r := e.rp(e.clientID, e.secret)
		b := e.browser()
		f := r.start()
		tok, err := e.exchange(r, e.code(b.login(b.get(f.url), "ada@acme.test"), f), f.verifier)
		if err != nil {
			t.Fatal(err)
		}
		b.get(r.start().url) // a code never exchanged
		if n, err := e.svc.PurgeExpiredSessions(ctx); err != nil || n != 0 {
			t.Fatalf("purged %d (%v) while everything is live", n, err)
		}
		e.clock.Advance(account.OIDCRefreshTTL + time.Hour)
		if _, err := e.svc.OIDCRefreshToken(ctx, tok.RefreshToken); account.ErrorMessage(err) != "the refresh token expired" {
			t.Fatalf("before the purge: %v, want it expired", err)
		}
		if _, err := e.svc.PurgeExpiredSessions(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.OIDCRefreshToken(ctx, tok.RefreshToken); account.ErrorMessage(err) != "unknown refresh token" {
			t.Errorf("after the purge: %v, want it gone", err)
		}
		_, err = r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		wantGrantError(t, err, "a purged refresh token")
	})
}

func TestSignInClaimsStayFresh(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ada := e.accountID("ada@acme.test")
		if _, _, err := e.svc.AssignSeat(ctx, e.op, "acme", e.acmeSub.ID, ada); err != nil {
			t.Fatal(err)
		}
		e.api(http.MethodPut, "/api/v1/applications/studio/oidc", e.opToken,
			map[string]any{"redirect_uris": []string{callback}, "require_seat": true}, 200)
		r := e.rp(e.clientID, e.secret)
		b := e.browser()
		f := r.start()
		tok, err := e.exchange(r, e.code(b.login(b.get(f.url), "ada@acme.test"), f), f.verifier)
		if err != nil {
			t.Fatal(err)
		}
		// A refresh says what is true now: a role changed since.
		if _, err := e.svc.UpdateMember(ctx, e.op, "acme", ada, account.UpdateMemberInput{Role: ptr(account.RoleMember)}); err != nil {
			t.Fatal(err)
		}
		tok, err = r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatal(err)
		}
		idt, err := r.verifier.Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatal(err)
		}
		var cl rosterClaims
		_ = idt.Claims(&cl)
		if cl.OrgRole != "member" || len(cl.Permissions) != 0 || cl.Seat == nil {
			t.Errorf("claims after a role change: %+v", cl)
		}
		// The seat taken back: the refresh is refused and the family revoked.
		if err := e.svc.UnassignSeat(ctx, e.op, "acme", e.acmeSub.ID, ada); err != nil {
			t.Fatal(err)
		}
		if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Error("userinfo answered for a person who lost the required seat")
		}
		_, err = r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		wantGrantError(t, err, "a refresh after the seat was taken back")
		if _, _, err := e.svc.AssignSeat(ctx, e.op, "acme", e.acmeSub.ID, ada); err != nil {
			t.Fatal(err)
		}
		_, err = r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		wantGrantError(t, err, "the revoked family after the seat came back")
	})
}

func ptr[T any](v T) *T { return &v }

// Signing in and using tokens writes nothing an entitlement check reads: the check
// cache stays warm through them.
func TestSignInLeavesCheckCache(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		r := e.rp(e.clientID, e.secret)
		b := e.browser()
		b.get(e.srv.URL + "/oauth/jwks") // the first key is made
		f := r.start()
		page := b.get(f.url)
		before, _ := e.db.CacheEpoch()
		tok, err := e.exchange(r, e.code(b.login(page, "ada@acme.test"), f), f.verifier)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
			t.Fatal(err)
		}
		if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
			t.Fatal(err)
		}
		// The login itself writes a session (neutral too).
		if after, _ := e.db.CacheEpoch(); after != before {
			t.Errorf("the check cache's epoch moved from %d to %d through a sign-in", before, after)
		}
	})
}

// Without offline_access there is no refresh token.
func TestSignInWithoutOfflineAccess(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		r := e.rp(e.clientID, e.secret)
		r.cfg.Scopes = []string{gooidc.ScopeOpenID, "email"}
		b := e.browser()
		f := r.start()
		tok, err := e.exchange(r, e.code(b.login(b.get(f.url), "ada@acme.test"), f), f.verifier)
		if err != nil {
			t.Fatal(err)
		}
		if tok.RefreshToken != "" {
			t.Errorf("a refresh token without offline_access: %q", tok.RefreshToken)
		}
		idt, err := r.verifier.Verify(context.Background(), tok.Extra("id_token").(string))
		if err != nil {
			t.Fatal(err)
		}
		var cl rosterClaims
		_ = idt.Claims(&cl)
		if cl.Email != "ada@acme.test" || cl.Name != "" || cl.Org.Slug != "acme" {
			t.Errorf("claims with openid email: %+v (no profile claims, Roster's always)", cl)
		}
	})
}

// The console's login form is boosted by htmx: the redirects it follows end in
// HX-Redirect, so that the browser itself goes back to the application.
func TestSignInThroughBoostedLogin(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		r := e.rp(e.clientID, e.secret)
		b := e.browser()
		f := r.start()
		page := b.get(f.url)
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(url.Values{"email": {"ada@acme.test"},
			"password": {pw}, "next": {page.url.Query().Get("next")}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		to := resp.Header.Get("HX-Redirect")
		if resp.StatusCode != http.StatusNoContent || !strings.HasPrefix(to, callback+"?") {
			t.Fatalf("boosted login: %d HX-Redirect %q", resp.StatusCode, to)
		}
		u, _ := url.Parse(to)
		if _, err := e.exchange(r, e.code(response{status: 303, location: u}, f), f.verifier); err != nil {
			t.Fatal(err)
		}
	})
}

// What the client sends is text or refused, on both engines: never a server error.
func TestSignInMalformedRequest(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		r := e.rp(e.clientID, e.secret)
		b := e.browser()
		for name, opt := range map[string]oauth2.AuthCodeOption{
			"nonce":        gooidc.Nonce("a\x00b"),
			"organization": oauth2.SetAuthURLParam("organization", "\xff\xfe"),
			"long state":   oauth2.SetAuthURLParam("state", strings.Repeat("s", 3000)),
		} {
			got := b.get(r.start(opt).url)
			if got.location == nil || got.location.Query().Get("error") != "invalid_request" {
				t.Errorf("%s: %d %v, want invalid_request to the client", name, got.status, got.location)
			}
		}
		// A client id that is not text, at the authorization and token endpoints.
		bad := r.cfg
		bad.ClientID = "stu\x00dio"
		if got := b.get(bad.AuthCodeURL("s")); got.status != http.StatusBadRequest || got.location != nil {
			t.Errorf("a NUL in client_id at authorize: %d %v", got.status, got.location)
		}
		if _, err := bad.Exchange(context.Background(), "code"); err == nil || strings.Contains(err.Error(), "500") {
			t.Errorf("a NUL in client_id at the token endpoint: %v", err)
		}
		got := b.get(r.cfg.AuthCodeURL("st\x00ate", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if got.status >= 500 || got.location == nil || got.location.Query().Get("error") != "invalid_request" {
			t.Errorf("a NUL in state: %d %v", got.status, got.location)
		}
	})
}
