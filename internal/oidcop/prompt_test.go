package oidcop_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"roster.dev/roster/internal/account"
)

// silent checks the redirect straight back to the application (no page shown) with
// the OpenID Connect error want, the request's state and the issuer.
func (e *env) silent(r response, f flow, want string) {
	e.t.Helper()
	if r.location == nil || r.location.Scheme+"://"+r.location.Host+r.location.Path != callback {
		e.t.Fatalf("want a redirect to %s with %s, got %d %s %v: %.300s", callback, want, r.status, r.url, r.location, r.body)
	}
	q := r.location.Query()
	if q.Get("error") != want || q.Get("state") != f.state || q.Get("iss") != e.issuer || q.Get("code") != "" {
		e.t.Errorf("want error=%s with state and iss, got %s", want, r.location.RawQuery)
	}
}

// authTime is the auth_time of the ID token the code of flow f exchanges for.
func (e *env) authTime(r *rp, code string, f flow) time.Time {
	e.t.Helper()
	tok, err := e.exchange(r, code, f.verifier)
	if err != nil {
		e.t.Fatalf("exchange: %v", err)
	}
	idt, err := r.verifier.Verify(context.Background(), tok.Extra("id_token").(string))
	if err != nil {
		e.t.Fatalf("ID token: %v", err)
	}
	var cl struct {
		AuthTime int64 `json:"auth_time"`
	}
	if err := idt.Claims(&cl); err != nil || cl.AuthTime == 0 {
		e.t.Fatalf("ID token without auth_time (%v)", err)
	}
	return time.Unix(cl.AuthTime, 0)
}

// TestSignInPrompt: the prompt and max_age parameters of an authorization request
// (OpenID Connect Core 3.1.2.1), as relying parties send them for silent renewal and
// step-up. prompt=none never shows a page: nobody signed in is login_required, a
// choice to make or a password to change is interaction_required, a refusal is
// access_denied, and a signed-in person gets a code at once. auth_time is when the
// person logged in, and max_age or prompt=login send a signed-in person to log in
// again (a silent request is login_required instead).
func TestSignInPrompt(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		r := e.rp(e.clientID, e.secret)
		b := e.browser()
		none := oauth2.SetAuthURLParam("prompt", "none")

		// Nobody signed in: straight back, and the request is spent.
		f := r.start(none)
		page := b.get(f.url)
		e.silent(page, f, account.OIDCLoginRequired)

		// Signed in: a code without a page, auth_time the login's.
		f = r.start()
		loggedIn := e.clock.Now().Truncate(time.Second)
		first := e.authTime(r, e.code(b.login(b.get(f.url), "ada@acme.test"), f), f)
		if first.Before(loggedIn.Add(-time.Second)) || first.After(e.clock.Now().Add(time.Second)) {
			t.Errorf("auth_time %v, want the login's (%v)", first, loggedIn)
		}
		e.clock.Advance(2 * time.Minute)
		f = r.start(none)
		if got := e.authTime(r, e.code(b.get(f.url), f), f); !got.Equal(first) {
			t.Errorf("a silent sign-in two minutes later: auth_time %v, want the login's %v", got, first)
		}

		// max_age shorter than the session's age: silent is login_required; otherwise
		// log in again, and auth_time is the new login's.
		maxAge := oauth2.SetAuthURLParam("max_age", "60")
		f = r.start(none, maxAge)
		e.silent(b.get(f.url), f, account.OIDCLoginRequired)
		f = r.start(maxAge)
		page = b.get(f.url)
		if page.url.Path != "/login" || page.url.Query().Get("again") != "1" || !strings.Contains(page.body, "log in again") ||
			!strings.Contains(page.body, `value="ada@acme.test"`) {
			t.Fatalf("max_age past the session's age: want the login again, got %d %s: %.500s", page.status, page.url, page.body)
		}
		second := e.authTime(r, e.code(b.login(page, "ada@acme.test"), f), f)
		if !second.After(first) {
			t.Errorf("auth_time after logging in again %v, want later than %v", second, first)
		}
		// A max_age the session meets signs in at once.
		f = r.start(oauth2.SetAuthURLParam("max_age", "3600"))
		if got := e.authTime(r, e.code(b.get(f.url), f), f); !got.Equal(second) {
			t.Errorf("max_age=3600: auth_time %v, want %v", got, second)
		}

		// prompt=login asks for a login after the request, even from a fresh session.
		e.clock.Advance(time.Second)
		f = r.start(oauth2.SetAuthURLParam("prompt", "login"))
		page = b.get(f.url)
		if page.url.Path != "/login" || page.url.Query().Get("again") != "1" {
			t.Fatalf("prompt=login: want the login again, got %d %s", page.status, page.url)
		}
		if third := e.authTime(r, e.code(b.login(page, "ada@acme.test"), f), f); !third.After(second) {
			t.Errorf("prompt=login: auth_time %v, want later than %v", third, second)
		}
		// none with another value is the provider's invalid_request.
		f = r.start(oauth2.SetAuthURLParam("prompt", "none login"))
		if got := b.get(f.url); got.location == nil || got.location.Query().Get("error") != "invalid_request" {
			t.Errorf("prompt=none login: %d %v, want invalid_request", got.status, got.location)
		}

		// A refusal comes back as access_denied, without the refusal page.
		f = r.start(none, oauth2.SetAuthURLParam("organization", "globex"))
		e.silent(b.get(f.url), f, "access_denied")

		// Two organizations and none picked before: the picker is a page.
		ctx := context.Background()
		e.member("acme", "pat@acme.test", account.RoleMember)
		no := false
		if _, err := e.svc.AddMember(ctx, e.op, "globex", account.AddMemberInput{Email: "pat@acme.test", Role: account.RoleAdmin, SendInvite: &no}); err != nil {
			t.Fatal(err)
		}
		pb := e.browser()
		pb.login(pb.get(e.srv.URL+"/login"), "pat@acme.test")
		f = r.start(none)
		e.silent(pb.get(f.url), f, account.OIDCInteractionRequired)
		// Once picked, a silent sign-in takes the organization picked last.
		f = r.start()
		picker := pb.get(f.url)
		if picker.status != http.StatusOK || !strings.Contains(picker.body, "Which one do you sign in to?") {
			t.Fatalf("picker: %d %.300s", picker.status, picker.body)
		}
		org, err := e.svc.FindOrganization(ctx, e.op, "globex")
		if err != nil {
			t.Fatal(err)
		}
		e.code(pb.post(e.srv.URL+picker.url.Path, url.Values{"organization": {org.ID}}), f)
		f = r.start(none)
		tok, err := e.exchange(r, e.code(pb.get(f.url), f), f.verifier)
		if err != nil {
			t.Fatal(err)
		}
		idt, err := r.verifier.Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatal(err)
		}
		var cl rosterClaims
		if err := idt.Claims(&cl); err != nil || cl.Org.Slug != "globex" {
			t.Errorf("a silent sign-in after picking globex: org %+v (%v)", cl.Org, err)
		}

		// A password to change first is a page: interaction_required.
		if _, err := e.svc.AddMember(ctx, e.op, "acme", account.AddMemberInput{Email: "new@acme.test", FirstName: "New", LastName: "Comer",
			Role: account.RoleMember, SendInvite: &no, Password: pw, ResetPasswordOnFirstLogin: true}); err != nil {
			t.Fatal(err)
		}
		nb := e.browser()
		nb.login(nb.get(e.srv.URL+"/login"), "new@acme.test")
		f = r.start(none)
		e.silent(nb.get(f.url), f, account.OIDCInteractionRequired)
	})
}
