package oidcop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/app"
	"roster.dev/roster/internal/oidcop"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
	"roster.dev/roster/internal/testtime"
)

// The application's back-channel logout endpoint: a local server that keeps every
// logout token POSTed to it, and answers status.
type logoutEndpoint struct {
	t      *testing.T
	srv    *httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	tokens []string
}

func newLogoutEndpoint(t *testing.T) *logoutEndpoint {
	l := &logoutEndpoint{t: t}
	l.status.Store(http.StatusOK)
	l.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, err := url.ParseQuery(string(body))
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
			err != nil || form.Get("logout_token") == "" {
			t.Errorf("not a back-channel logout request: %s %s %q", r.Method, r.Header.Get("Content-Type"), body)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		l.mu.Lock()
		l.tokens = append(l.tokens, form.Get("logout_token"))
		l.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(int(l.status.Load()))
	}))
	t.Cleanup(l.srv.Close)
	return l
}

func (l *logoutEndpoint) URL() string { return l.srv.URL + "/backchannel-logout" }

func (l *logoutEndpoint) received() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.tokens...)
}

// wait waits for the nth logout token and returns it.
func (l *logoutEndpoint) wait(n int, what string) string {
	l.t.Helper()
	testtime.WaitFor(l.t, 10*time.Second, what, func() bool { return len(l.received()) >= n })
	return l.received()[n-1]
}

// logoutClaims are what a logout token says.
type logoutClaims struct {
	Iss    string                     `json:"iss"`
	Sub    string                     `json:"sub"`
	Aud    any                        `json:"aud"`
	Iat    int64                      `json:"iat"`
	Exp    int64                      `json:"exp"`
	Jti    string                     `json:"jti"`
	Sid    string                     `json:"sid"`
	Events map[string]json.RawMessage `json:"events"`
	Nonce  *string                    `json:"nonce"`
}

// verifyLogout checks a logout token as a relying party must (Back-Channel Logout
// 1.0, section 2.6): the signature against Roster's JWKS, iss, aud and exp with
// go-oidc's verifier; then typ, the event, no nonce, a jti and iat, and sub and sid.
func (e *env) verifyLogout(raw, sub, sid string) logoutClaims {
	e.t.Helper()
	ctx := context.Background()
	p, err := gooidc.NewProvider(ctx, e.issuer)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := p.Verifier(&gooidc.Config{ClientID: e.clientID, Now: e.clock.Now}).Verify(ctx, raw)
	if err != nil {
		e.t.Fatalf("the logout token does not verify: %v", err)
	}
	hdr, err := base64URL(strings.Split(raw, ".")[0])
	if err != nil {
		e.t.Fatal(err)
	}
	var h struct{ Typ, Alg, Kid string }
	if err := json.Unmarshal(hdr, &h); err != nil || h.Typ != "logout+jwt" || h.Alg != "ES256" || h.Kid == "" {
		e.t.Errorf("logout token header %s", hdr)
	}
	var cl logoutClaims
	if err := tok.Claims(&cl); err != nil {
		e.t.Fatal(err)
	}
	ev, ok := cl.Events["http://schemas.openid.net/event/backchannel-logout"]
	if !ok || strings.TrimSpace(string(ev)) != "{}" || len(cl.Events) != 1 {
		e.t.Errorf("events claim %v", cl.Events)
	}
	if cl.Nonce != nil {
		e.t.Error("a logout token carries a nonce")
	}
	if cl.Iss != e.issuer || cl.Jti == "" || cl.Iat == 0 || cl.Exp-cl.Iat > 300 || cl.Exp <= cl.Iat {
		e.t.Errorf("logout token claims %+v", cl)
	}
	if cl.Sub != sub || sid != "" && cl.Sid != sid || cl.Sid == "" {
		e.t.Errorf("logout token of sub %q sid %q, want %q %q", cl.Sub, cl.Sid, sub, sid)
	}
	return cl
}

// signIn signs email in to studio (through org, when set) and returns the tokens
// and the ID token's sid.
func (e *env) signIn(email, org string) (*oauth2.Token, string) {
	e.t.Helper()
	r := e.rp(e.clientID, e.secret)
	b := e.browser()
	var extra []oauth2.AuthCodeOption
	if org != "" {
		extra = append(extra, oauth2.SetAuthURLParam("organization", org))
	}
	f := r.start(extra...)
	tok, err := e.exchange(r, e.code(b.login(b.get(f.url), email), f), f.verifier)
	if err != nil {
		e.t.Fatalf("sign-in of %s: %v", email, err)
	}
	idt, err := r.verifier.Verify(context.Background(), tok.Extra("id_token").(string))
	if err != nil {
		e.t.Fatal(err)
	}
	var cl struct {
		Sid string `json:"sid"`
	}
	if err := idt.Claims(&cl); err != nil || cl.Sid == "" {
		e.t.Fatalf("the ID token has no sid (%v)", err)
	}
	return tok, cl.Sid
}

// refresh wants the refresh token refused (ok false) or working (ok true).
func (e *env) refresh(tok *oauth2.Token, ok bool, what string) {
	e.t.Helper()
	r := e.rp(e.clientID, e.secret)
	_, err := r.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if ok && err != nil {
		e.t.Errorf("%s: the refresh token is refused: %v", what, err)
	}
	if !ok {
		wantGrantError(e.t, err, what)
	}
}

func (e *env) notices(accountID string) []account.OIDCLogoutNotice {
	e.t.Helper()
	ns, err := e.svc.OIDCLogoutNotices(context.Background(), e.op, accountID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ns
}

// audited counts the events of action in the organization's trail.
func (e *env) audited(org, action string) int {
	e.t.Helper()
	ev := e.api(http.MethodGet, "/api/v1/organizations/"+org+"/audit?limit=100", e.opToken, nil, 200)
	n := 0
	for _, it := range ev["items"].([]any) {
		if it.(map[string]any)["action"] == action {
			n++
		}
	}
	return n
}

// backchannelEnv is a test's Roster with the logout worker running, and studio's
// client registered with l's URI.
func backchannelEnv(t *testing.T, db *sqlstore.DB, l *logoutEndpoint) *env {
	e := newEnvWork(t, db, []app.Work{app.Logouts})
	e.api(http.MethodPut, "/api/v1/applications/studio/oidc", e.opToken,
		map[string]any{"redirect_uris": []string{callback}, "backchannel_logout_uri": l.URL()}, 200)
	e.app.Start(context.Background())
	return e
}

// TestBackchannelLogoutDeactivation: a member signed in to studio is deactivated
// through the API; studio's endpoint receives a logout token within seconds, which
// verifies against Roster's JWKS, and the refresh token no longer works.
func TestBackchannelLogoutDeactivation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		l := newLogoutEndpoint(t)
		e := backchannelEnv(t, db, l)
		got := e.api(http.MethodGet, "/api/v1/applications/studio/oidc", e.opToken, nil, 200)
		if got["backchannel_logout_uri"] != l.URL() {
			t.Errorf("GET: backchannel_logout_uri %v, want %s", got["backchannel_logout_uri"], l.URL())
		}
		var doc map[string]any
		r := e.rp(e.clientID, e.secret)
		if err := r.provider.Claims(&doc); err != nil {
			t.Fatal(err)
		}
		if doc["backchannel_logout_supported"] != true || doc["backchannel_logout_session_supported"] != true {
			t.Errorf("discovery: backchannel_logout_supported %v, backchannel_logout_session_supported %v",
				doc["backchannel_logout_supported"], doc["backchannel_logout_session_supported"])
		}

		ada := e.accountID("ada@acme.test")
		tok, sid := e.signIn("ada@acme.test", "")
		e.refresh(tok, true, "before the deactivation")
		tok, sid2 := e.signIn("ada@acme.test", "") // a second sign-in: its own notice
		if sid2 == sid {
			t.Fatal("two sign-ins share a sid")
		}
		start := time.Now()
		e.api(http.MethodPost, "/api/v1/organizations/acme/members/"+ada+"/deactivate", e.opToken, nil, 200)
		l.wait(2, "two logout tokens received")
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the logout tokens came after %v", d)
		}
		sids := map[string]bool{}
		for _, raw := range l.received() {
			sids[e.verifyLogout(raw, ada, "").Sid] = true
		}
		if !sids[sid] || !sids[sid2] {
			t.Errorf("logout tokens of sids %v, want %s and %s", sids, sid, sid2)
		}
		e.refresh(tok, false, "after the deactivation")
		if _, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
			t.Error("the access token still answers userinfo after the deactivation")
		}
		testtime.WaitFor(t, 5*time.Second, "the notices sent", func() bool {
			ns := e.notices(ada)
			return len(ns) == 2 && ns[0].State == account.LogoutSent && ns[1].State == account.LogoutSent
		})
		if n := e.audited("acme", "oidc.logout_sent"); n != 2 {
			t.Errorf("%d oidc.logout_sent in acme's trail, want 2", n)
		}
		// A reactivation and another deactivation without a new sign-in: nothing
		// live, nothing sent.
		e.api(http.MethodPost, "/api/v1/organizations/acme/members/"+ada+"/reactivate", e.opToken, nil, 200)
		e.api(http.MethodPost, "/api/v1/organizations/acme/members/"+ada+"/deactivate", e.opToken, nil, 200)
		if ns := e.notices(ada); len(ns) != 2 {
			t.Errorf("%d notices after a deactivation without a live sign-in, want 2", len(ns))
		}

		// A notice whose client lost its URI meanwhile is given up at its next
		// attempt, not retried.
		e.member("acme", "pat@acme.test", account.RoleMember)
		pat := e.accountID("pat@acme.test")
		e.signIn("pat@acme.test", "")
		l.status.Store(http.StatusServiceUnavailable)
		e.api(http.MethodPost, "/api/v1/organizations/acme/members/"+pat+"/deactivate", e.opToken, nil, 200)
		testtime.WaitFor(t, 5*time.Second, "the first attempt recorded", func() bool {
			ns := e.notices(pat)
			return len(ns) == 1 && ns[0].StatusCode == 503
		})
		e.api(http.MethodPut, "/api/v1/applications/studio/oidc", e.opToken, map[string]any{"redirect_uris": []string{callback}}, 200)
		e.clock.Advance(time.Minute)
		e.app.Logouts.Wake()
		testtime.WaitFor(t, 5*time.Second, "the notice given up", func() bool {
			ns := e.notices(pat)
			return ns[0].State == account.LogoutFailed && strings.Contains(ns[0].LastError, "no backchannel_logout_uri") && ns[0].Attempts == 2
		})
		if n := len(l.received()); n != 3 {
			t.Errorf("%d logout tokens received, want 3", n)
		}

		// Housekeeping deletes the notices done for OIDCLogoutKeep.
		e.clock.Advance(account.OIDCLogoutKeep + time.Hour)
		if _, err := e.svc.PurgeExpiredSessions(context.Background()); err != nil {
			t.Fatal(err)
		}
		if ns := append(e.notices(ada), e.notices(pat)...); len(ns) != 0 {
			t.Errorf("notices kept after %v: %+v", account.OIDCLogoutKeep, ns)
		}
	})
}

var resetLinkRE = regexp.MustCompile(`/password-reset/([A-Za-z0-9_-]+)`)

// TestBackchannelLogoutAccount: a password reset, an account disabled and an
// account deleted each log the person out of studio.
func TestBackchannelLogoutAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		l := newLogoutEndpoint(t)
		e := backchannelEnv(t, db, l)

		// A password reset.
		ada := e.accountID("ada@acme.test")
		tok, sid := e.signIn("ada@acme.test", "")
		if err := e.svc.RequestPasswordReset(ctx, "ada@acme.test", "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		msgs, err := db.FindEmails(ctx, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		token := ""
		for _, m := range msgs {
			if m.Kind == account.NoticePasswordReset && m.To == "ada@acme.test" {
				if mm := resetLinkRE.FindStringSubmatch(m.Text); mm != nil {
					token = mm[1]
					break
				}
			}
		}
		if token == "" {
			t.Fatal("no reset link")
		}
		if err := e.svc.ResetPassword(ctx, token, "another horse battery", "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		e.verifyLogout(l.wait(1, "a logout token after the password reset"), ada, sid)
		e.refresh(tok, false, "after the password reset")
		if ns := e.notices(ada); len(ns) != 1 || ns[0].Reason != account.LogoutPasswordReset {
			t.Errorf("notices %+v", ns)
		}

		// An account disabled, through the API.
		e.member("acme", "pat@acme.test", account.RoleMember)
		pat := e.accountID("pat@acme.test")
		tok, sid = e.signIn("pat@acme.test", "")
		e.api(http.MethodPost, "/api/v1/accounts/"+pat+"/disable", e.opToken, nil, 200)
		e.verifyLogout(l.wait(2, "a logout token after the disable"), pat, sid)
		e.refresh(tok, false, "after the disable")

		// An account deleted, through the API.
		e.member("acme", "sam@acme.test", account.RoleMember)
		sam := e.accountID("sam@acme.test")
		_, sid = e.signIn("sam@acme.test", "")
		e.api(http.MethodDelete, "/api/v1/accounts/"+sam, e.opToken, nil, 204)
		e.verifyLogout(l.wait(3, "a logout token after the deletion"), sam, sid)
		testtime.WaitFor(t, 5*time.Second, "the deleted account's notice sent", func() bool {
			ns := e.notices(sam)
			return len(ns) == 1 && ns[0].State == account.LogoutSent
		})
	})
}

// TestBackchannelLogoutOrganizationScope: a person in two organizations signed in
// to studio through acme is deactivated in globex: studio is not told, and the
// grant still works; removed from acme, studio is told.
func TestBackchannelLogoutOrganizationScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		l := newLogoutEndpoint(t)
		e := backchannelEnv(t, db, l)
		e.member("acme", "pat@acme.test", account.RoleMember)
		pat := e.accountID("pat@acme.test")
		no := false
		if _, err := e.svc.AddMember(ctx, e.op, "globex", account.AddMemberInput{Email: "pat@acme.test", Role: account.RoleMember, SendInvite: &no}); err != nil {
			t.Fatal(err)
		}
		tok, sid := e.signIn("pat@acme.test", "acme")

		e.api(http.MethodPost, "/api/v1/organizations/globex/members/"+pat+"/deactivate", e.opToken, nil, 200)
		if ns := e.notices(pat); len(ns) != 0 {
			t.Errorf("a deactivation in globex queued %+v for a sign-in through acme", ns)
		}
		e.refresh(tok, true, "after a deactivation in another organization")

		e.api(http.MethodDelete, "/api/v1/organizations/acme/members/"+pat, e.opToken, nil, 204)
		e.verifyLogout(l.wait(1, "a logout token after the removal from acme"), pat, sid)
		if got := l.received(); len(got) != 1 {
			t.Errorf("%d logout tokens, want 1", len(got))
		}
		if ns := e.notices(pat); len(ns) != 1 || ns[0].Reason != account.LogoutMemberRemoved {
			t.Errorf("notices %+v", ns)
		}
	})
}

// TestBackchannelLogoutOrganizationDeleted: deleting the organization a person
// signed in through tells the application (its tokens go with the organization);
// a sign-in through another organization is not told.
func TestBackchannelLogoutOrganizationDeleted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		l := newLogoutEndpoint(t)
		e := backchannelEnv(t, db, l)
		e.member("acme", "pat@acme.test", account.RoleMember)
		pat := e.accountID("pat@acme.test")
		no := false
		if _, err := e.svc.AddMember(ctx, e.op, "globex", account.AddMemberInput{Email: "pat@acme.test", Role: account.RoleMember, SendInvite: &no}); err != nil {
			t.Fatal(err)
		}
		acmeTok, acmeSid := e.signIn("pat@acme.test", "acme")
		globexTok, _ := e.signIn("pat@acme.test", "globex")

		e.api(http.MethodDelete, "/api/v1/organizations/acme", e.opToken, nil, 204)
		e.verifyLogout(l.wait(1, "a logout token after acme's deletion"), pat, acmeSid)
		ns := e.notices(pat)
		if len(ns) != 1 || ns[0].Reason != account.LogoutOrganizationDeleted || ns[0].SID != acmeSid {
			t.Errorf("notices %+v, want one organization-deleted for the sign-in through acme", ns)
		}
		e.refresh(acmeTok, false, "the refresh token of a sign-in through a deleted organization")
		e.refresh(globexTok, true, "the refresh token of a sign-in through globex")
		if got := l.received(); len(got) != 1 {
			t.Errorf("%d logout tokens, want 1", len(got))
		}
	})
}

// TestBackchannelLogoutRetry: an endpoint that fails is tried again (each time
// with a new token) until it answers 200; one that keeps failing is given up after
// the schedule, and the trail says so.
func TestBackchannelLogoutRetry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		l := newLogoutEndpoint(t)
		l.status.Store(http.StatusServiceUnavailable)
		e := backchannelEnv(t, db, l)
		ada := e.accountID("ada@acme.test")
		_, sid := e.signIn("ada@acme.test", "")
		e.api(http.MethodPost, "/api/v1/organizations/acme/members/"+ada+"/deactivate", e.opToken, nil, 200)
		first := l.wait(1, "the first attempt")
		testtime.WaitFor(t, 5*time.Second, "the first attempt recorded", func() bool {
			ns := e.notices(ada)
			return len(ns) == 1 && ns[0].Attempts == 1 && ns[0].State == account.LogoutPending &&
				ns[0].StatusCode == 503 && strings.Contains(ns[0].LastError, "503")
		})
		l.status.Store(http.StatusNoContent)
		e.clock.Advance(oidcop.LogoutSchedule[0] * 2)
		e.app.Logouts.Wake()
		second := l.wait(2, "the second attempt")
		a, b := e.verifyLogout(first, ada, sid), e.verifyLogout(second, ada, sid)
		if a.Jti == b.Jti {
			t.Error("two attempts sent the same jti")
		}
		testtime.WaitFor(t, 5*time.Second, "the notice sent", func() bool {
			ns := e.notices(ada)
			return len(ns) == 1 && ns[0].State == account.LogoutSent && ns[0].Attempts == 2
		})

		// An endpoint that keeps failing.
		l.status.Store(http.StatusInternalServerError)
		e.member("acme", "pat@acme.test", account.RoleMember)
		pat := e.accountID("pat@acme.test")
		e.signIn("pat@acme.test", "")
		e.api(http.MethodPost, "/api/v1/organizations/acme/members/"+pat+"/deactivate", e.opToken, nil, 200)
		for i := 1; i <= len(oidcop.LogoutSchedule)+1; i++ {
			testtime.WaitFor(t, 5*time.Second, fmt.Sprintf("attempt %d recorded", i), func() bool {
				// Recorded, not only claimed: due again later, or given up.
				ns := e.notices(pat)
				return len(ns) == 1 && ns[0].Attempts == i &&
					(ns[0].State == account.LogoutFailed || ns[0].NextAt.After(e.clock.Now()))
			})
			if i <= len(oidcop.LogoutSchedule) {
				e.clock.Advance(oidcop.LogoutSchedule[i-1] * 2)
				e.app.Logouts.Wake()
			}
		}
		testtime.WaitFor(t, 5*time.Second, "the notice given up", func() bool {
			ns := e.notices(pat)
			return ns[0].State == account.LogoutFailed
		})
		if n := len(l.received()); n != 2+len(oidcop.LogoutSchedule)+1 {
			t.Errorf("%d attempts in all, want %d", n, 2+len(oidcop.LogoutSchedule)+1)
		}
		ev, err := e.svc.FindAuditEvents(context.Background(), e.op, "acme", account.AuditQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		failed := 0
		for _, it := range ev.Items {
			if it.Action == string(account.AuditOIDCLogoutFailed) && it.TargetID == pat {
				failed++
			}
		}
		if failed != 1 {
			t.Errorf("%d oidc.logout_failed of pat in acme's trail, want 1", failed)
		}
	})
}

// TestBackchannelLogoutURI: the URI is validated (422 naming it), cleared by a PUT
// without it, and neither read nor set by an organization's admin.
func TestBackchannelLogoutURI(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		for _, bad := range []string{"/relative", "ftp://studio.example.com/bcl", "http://studio.example.com/bcl",
			"https://studio.example.com/bcl#frag", "https://user:pw@studio.example.com/bcl", " https://studio.example.com/bcl"} {
			p := e.api(http.MethodPut, "/api/v1/applications/studio/oidc", e.opToken,
				map[string]any{"redirect_uris": []string{callback}, "backchannel_logout_uri": bad}, 422)
			if !strings.Contains(mustJSON(p), `"backchannel_logout_uri"`) {
				t.Errorf("%q: problem %v does not name backchannel_logout_uri", bad, p)
			}
		}
		for _, good := range []string{"https://studio.example.com/bcl?x=1", "http://localhost:8080/bcl", "http://127.0.0.1/bcl"} {
			got := e.api(http.MethodPut, "/api/v1/applications/studio/oidc", e.opToken,
				map[string]any{"redirect_uris": []string{callback}, "backchannel_logout_uri": good}, 200)
			if got["backchannel_logout_uri"] != good {
				t.Errorf("PUT %s: %v", good, got["backchannel_logout_uri"])
			}
		}
		// An organization's admin (an attacker as far as the platform goes).
		adaToken := e.token("ada@acme.test")
		e.api(http.MethodPut, "/api/v1/applications/studio/oidc", adaToken,
			map[string]any{"redirect_uris": []string{callback}, "backchannel_logout_uri": "https://evil.example/bcl"}, 403)
		if p := e.api(http.MethodGet, "/api/v1/applications/studio/oidc", adaToken, nil, 403); strings.Contains(mustJSON(p), "127.0.0.1") {
			t.Errorf("a refusal shows the URI: %v", p)
		}
		if got := e.api(http.MethodGet, "/api/v1/applications/studio/oidc", e.opToken, nil, 200); got["backchannel_logout_uri"] != "http://127.0.0.1/bcl" {
			t.Errorf("after a refused PUT: %v", got["backchannel_logout_uri"])
		}
		// A PUT without it: none.
		got := e.api(http.MethodPut, "/api/v1/applications/studio/oidc", e.opToken, map[string]any{"redirect_uris": []string{callback}}, 200)
		if v, ok := got["backchannel_logout_uri"]; !ok || v != nil {
			t.Errorf("a PUT without backchannel_logout_uri: %v (present %v), want null", v, ok)
		}
	})
}
