package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// relyingParty is the vendor's application in the browser tests of Sign in with
// Roster: go-oidc and x/oauth2 (not Roster's code) on a port of its own. /start
// begins a sign-in; /callback exchanges the code, verifies the ID token and says
// who signed in where, in #result, or what the application heard instead.
type relyingParty struct {
	url      string
	mu       sync.Mutex
	verifier map[string]string // state → PKCE verifier
}

func startRelyingParty(t *testing.T, s *stack, studio string) *relyingParty {
	t.Helper()
	rp := &relyingParty{verifier: map[string]string{}}
	srv := httptest.NewUnstartedServer(nil)
	rp.url = "http://" + srv.Listener.Addr().String()
	yes := true
	client, secret, err := s.svc.SetOIDCClient(context.Background(), s.op, studio, account.OIDCClientInput{
		RedirectURIs: &[]string{rp.url + "/callback"}, RequireSeat: &yes})
	if err != nil {
		t.Fatal(err)
	}
	var (
		once     sync.Once
		cfg      oauth2.Config
		verifier *gooidc.IDTokenVerifier
	)
	setup := func(ctx context.Context) {
		once.Do(func() {
			p, err := gooidc.NewProvider(ctx, s.url)
			if err != nil {
				t.Errorf("relying party: discovery: %v", err)
				return
			}
			verifier = p.Verifier(&gooidc.Config{ClientID: client.ClientID})
			cfg = oauth2.Config{ClientID: client.ClientID, ClientSecret: secret, Endpoint: p.Endpoint(),
				RedirectURL: rp.url + "/callback", Scopes: []string{gooidc.ScopeOpenID, "profile", "email"}}
		})
	}
	result := func(w http.ResponseWriter, msg string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Studio</title><main><h1 id="result">%s</h1></main></html>`, html.EscapeString(msg))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) {
		setup(r.Context())
		state, v := oauth2.GenerateVerifier()[:16], oauth2.GenerateVerifier()
		rp.mu.Lock()
		rp.verifier[state] = v
		rp.mu.Unlock()
		http.Redirect(w, r, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(v)), http.StatusFound)
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		rp.mu.Lock()
		v, ok := rp.verifier[q.Get("state")]
		delete(rp.verifier, q.Get("state"))
		rp.mu.Unlock()
		switch {
		case !ok:
			result(w, "unknown state")
		case q.Get("error") != "":
			result(w, "refused: "+q.Get("error"))
		default:
			tok, err := cfg.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(v))
			if err != nil {
				result(w, "exchange: "+err.Error())
				return
			}
			idt, err := verifier.Verify(r.Context(), tok.Extra("id_token").(string))
			if err != nil {
				result(w, "ID token: "+err.Error())
				return
			}
			var cl struct {
				Email string `json:"email"`
				Org   struct{ Slug string }
				Seat  *struct{ Subscription string }
			}
			_ = idt.Claims(&cl)
			result(w, fmt.Sprintf("Signed in: %s in %s, seat %v", cl.Email, cl.Org.Slug, cl.Seat != nil))
		}
	})
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return rp
}

// TestConsoleSignIn walks Sign in with Roster in Chromium at 1280 and 390 px, as Bob,
// a member of Acme (with a Studio seat) and of Globex (without): the application
// sends him to Roster's login, he picks Acme among his organizations and is back in
// the application, signed in with a seat; the next time Acme comes first, as the
// last used; picking Globex shows the page that says he has no Studio seat there,
// whose link takes him back to the application, which heard access_denied. Every
// page fits the screen and passes axe-core (when installed, as in CI).
func TestConsoleSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newStack(t, db)
		w := seedAcme(t, s)
		ctx := context.Background()
		must[account.Organization](t)(s.svc.CreateOrganization(ctx, s.op, account.CreateOrganizationInput{Name: "Globex", Slug: "globex", Kind: account.KindOrganization}))
		ten := 10
		now := s.clock.Now()
		must[account.Subscription](t)(func() (account.Subscription, error) {
			_, sub, err := s.svc.CreateSubscription(ctx, s.op, "globex", account.SubscriptionInput{Application: "studio", Seats: &ten,
				StartsAt: now.AddDate(0, -1, 0), EndsAt: now.AddDate(1, 0, 0)})
			return sub, err
		}())
		no := false
		must[account.Member](t)(s.svc.AddMember(ctx, s.op, "globex", account.AddMemberInput{Email: "bob@acme.test", Role: "member", SendInvite: &no}))
		rp := startRelyingParty(t, s, "studio")
		b := s.browser(screenshots(db))
		axe := axeIfPresent()
		for _, width := range []int{1280, 390} {
			b.resize(width)
			b.run(chromedp.Navigate(rp.url + "/start"))
			b.see("main h1", "Log in")
			b.accessible(axe, "the login of a sign-in")
			b.fill("#f-email", w.bob.Account.Email)
			b.fill("#f-password", pass)
			b.click("main form button[type=submit]")
			b.see("main h1", "Sign in to Studio")
			b.see("main", "Which one do you sign in to?")
			b.fitsWidth()
			b.accessible(axe, "the organization picker")
			b.shot("sign-in-picker")
			b.click(`ul[aria-label="Organizations"] li:first-child button`)
			b.see("#result", "Signed in: bob@acme.test in acme, seat true")

			b.run(chromedp.Navigate(rp.url + "/start"))
			b.see(`ul[aria-label="Organizations"] li:first-child button`, "Acme Corp (last used)")
			b.click(`ul[aria-label="Organizations"] li:nth-child(2) button`)
			b.see("main h1", "You cannot sign in to Studio")
			b.see("main [role=alert]", "Globex")
			b.fitsWidth()
			b.accessible(axe, "the no-seat page")
			b.shot("sign-in-no-seat")
			b.click(`main a[href^="` + rp.url + `/callback"]`)
			b.see("#result", "refused: access_denied")

			b.open("/")
			b.logout()
		}
	})
}
