package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpapi"
	"roster.dev/roster/internal/mail"
	"roster.dev/roster/internal/mail/smtptest"
	"roster.dev/roster/internal/outbox"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// sessionExists reports whether the store still holds the session of token.
func sessionExists(t *testing.T, db *sqlstore.DB, token string) bool {
	t.Helper()
	err := db.Read(context.Background(), func(tx account.Tx) error {
		_, _, err := tx.SessionByTokenHash(context.Background(), account.TokenHash(token))
		return err
	})
	if err != nil && account.ErrorCode(err) != account.ENOTFOUND {
		t.Fatal(err)
	}
	return err == nil
}

// TestSessionRevocation: a password change revokes every other session of the
// account (the one that changed it stays); a password reset revokes them all; an
// account's deletion deletes its sessions; a disabled account's sessions are refused
// at once. Sessions are checked in the store, not only through the API.
func TestSessionRevocation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.member(e.op, "acme", "ada@acme.test", "admin")
		e.member(e.op, "acme", "bob@acme.test", "member")
		gone := e.member(e.op, "acme", "gone@acme.test", "member")
		e.member(e.op, "acme", "dis@acme.test", "member")

		// A password change: the other sessions go, the changing one stays.
		s1, s2 := e.login("ada@acme.test", pw), e.login("ada@acme.test", pw)
		e.must(204, s1, "PUT", "/api/v1/me/password", map[string]any{"current_password": pw, "new_password": "ada's new secret"})
		if !sessionExists(t, e.db, s1) || sessionExists(t, e.db, s2) {
			t.Errorf("after a password change: changing session kept = %v (want true), other kept = %v (want false)",
				sessionExists(t, e.db, s1), sessionExists(t, e.db, s2))
		}
		e.must(200, s1, "GET", "/api/v1/me", nil)
		problem(t, e.call(s2, "GET", "/api/v1/me", nil), 401, "unauthenticated")

		// A password reset: every session goes.
		b1, b2 := e.login("bob@acme.test", pw), e.login("bob@acme.test", pw)
		e.must(202, "", "POST", "/api/v1/auth/password-reset", map[string]any{"email": "bob@acme.test"})
		e.must(204, "", "POST", "/api/v1/auth/password-reset/confirm", map[string]any{
			"token": e.link(account.NoticePasswordReset, "bob@acme.test"), "new_password": "bob's new secret"})
		for _, s := range []string{b1, b2} {
			if sessionExists(t, e.db, s) {
				t.Error("a session survived a password reset")
			}
			problem(t, e.call(s, "GET", "/api/v1/me", nil), 401, "unauthenticated")
		}

		// Deletion: the sessions are deleted with the account.
		g := e.login("gone@acme.test", pw)
		e.must(204, e.op, "DELETE", "/api/v1/accounts/"+accountID(gone), nil)
		if sessionExists(t, e.db, g) {
			t.Error("a session survived its account's deletion")
		}
		problem(t, e.call(g, "GET", "/api/v1/me", nil), 401, "unauthenticated")

		// Disabled: no API disables an account yet (API.md has no such route), so the
		// store does; a session of the account is refused at the next request, and
		// the account cannot log in.
		d := e.login("dis@acme.test", pw)
		e.must(200, d, "GET", "/api/v1/me", nil)
		err := e.db.Write(context.Background(), func(tx account.Tx) error {
			a, err := tx.AccountByEmail(context.Background(), "dis@acme.test")
			if err != nil {
				return err
			}
			a.State = account.AccountDisabled
			return tx.UpdateAccount(context.Background(), a)
		})
		if err != nil {
			t.Fatal(err)
		}
		problem(t, e.call(d, "GET", "/api/v1/me", nil), 401, "unauthenticated")
		problem(t, e.call("", "POST", "/api/v1/auth/login", map[string]any{"email": "dis@acme.test", "password": pw}), 401, "unauthenticated")
	})
}

// TestSecretsStaySecret runs the flows that issue secrets — logins, invitations
// (sent, resent, accepted), a join request's approval, sign-up and its verification,
// a password reset, a password change, application keys — with the server and the
// outbox worker logging at debug level into a buffer and the emails delivered over
// SMTP. No secret (session token, emailed token, API key, password, password hash)
// may appear in the logs, in an audit event (read through the API and from the
// store), or in any API answer but the one that issues it. Emails carry their links
// by design and are not checked.
func TestSecretsStaySecret(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		logs := &syncBuffer{}
		debug := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		e := newEnv(t, db, matrixLimits, withDeps(func(d *httpapi.Deps) { d.Logger = debug }))

		type answer struct {
			what, text string
		}
		var answers []answer
		secrets := map[string]int{} // secret → the answer that issued it (-1: none may show it)
		secret := func(s string, issuedBy int) {
			if s == "" {
				t.Fatal("an empty secret")
			}
			secrets[s] = issuedBy
		}
		call := func(token, method, path string, body any) resp {
			t.Helper()
			r := e.call(token, method, path, body)
			answers = append(answers, answer{fmt.Sprintf("%s %s = %d", method, path, r.Status), fmt.Sprint(r.Header) + "\n" + r.Raw})
			return r
		}
		must := func(want int, token, method, path string, body any) map[string]any {
			t.Helper()
			r := call(token, method, path, body)
			if r.Status != want {
				t.Fatalf("%s %s = %d, want %d\n%s", method, path, r.Status, want, r.Raw)
			}
			return r.Body
		}
		last := func() int { return len(answers) - 1 }
		login := func(email, password string) string {
			t.Helper()
			tok := must(200, "", "POST", "/api/v1/auth/login", map[string]any{"email": email, "password": password})["token"].(string)
			secret(tok, last())
			return tok
		}
		secret(pw, -1)
		for _, p := range []string{"ada's first secret", "ada's second secret", "carol's secret", "eve's secret",
			"eve's reset secret", "a wrong guess", "the new operator secret"} {
			secret(p, -1)
		}

		op := login(operatorEmail, pw)
		must(201, op, "POST", "/api/v1/organizations", map[string]any{"name": "Acme", "slug": "acme", "kind": "organization"})
		must(201, op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		must(201, op, "POST", "/api/v1/organizations/acme/subscriptions", map[string]any{"application": "studio", "seats": 10,
			"starts_at": time.Now().Add(-time.Hour).UTC(), "ends_at": time.Now().Add(24 * time.Hour).UTC()})
		key := must(201, op, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "production"})
		secret(key["key"].(string), last())
		must(200, op, "GET", "/api/v1/applications/studio/keys", nil)

		ada := accountID(must(201, op, "POST", "/api/v1/organizations/acme/members", map[string]any{"email": "ada@acme.test",
			"first_name": "Ada", "last_name": "L", "role": "admin", "send_invite": false, "password": "ada's first secret"}))
		problem(t, call("", "POST", "/api/v1/auth/login", map[string]any{"email": "ada@acme.test", "password": "a wrong guess"}), 401, "unauthenticated")
		adaS := login("ada@acme.test", "ada's first secret")

		// An invitation, previewed and accepted by a new account.
		must(201, adaS, "POST", "/api/v1/organizations/acme/members", map[string]any{"email": "carol@acme.test",
			"first_name": "Carol", "last_name": "S", "role": "member", "send_invite": true, "applications": []string{"studio"}})
		carolT := e.link(account.NoticeInvitation, "carol@acme.test")
		secret(carolT, -1)
		must(200, "", "GET", "/api/v1/invitations/"+carolT, nil)
		must(200, "", "POST", "/api/v1/invitations/"+carolT+"/accept", map[string]any{"password": "carol's secret"})
		carolS := login("carol@acme.test", "carol's secret")
		must(200, carolS, "GET", "/api/v1/me", nil)

		// Bulk invitations, resent: the old and the new token.
		res := must(200, adaS, "POST", "/api/v1/organizations/acme/invitations", map[string]any{"emails": []string{"dan@acme.test"}, "role": "member"})
		danInv := res["results"].([]any)[0].(map[string]any)["invitation"].(map[string]any)["id"].(string)
		secret(e.link(account.NoticeInvitation, "dan@acme.test"), -1)
		must(200, adaS, "POST", "/api/v1/organizations/acme/invitations/"+danInv+"/resend", nil)
		secret(e.link(account.NoticeInvitation, "dan@acme.test"), -1)
		must(200, adaS, "GET", "/api/v1/organizations/acme/invitations", nil)
		must(200, adaS, "GET", "/api/v1/organizations/acme/invitations/"+danInv, nil)

		// Sign-up, verification, a join request and its approval, a password reset.
		must(202, "", "POST", "/api/v1/auth/signup", map[string]any{"email": "eve@else.test", "first_name": "Eve", "last_name": "E", "password": "eve's secret"})
		verifyT := e.link(account.NoticeVerifyEmail, "eve@else.test")
		secret(verifyT, -1)
		must(200, "", "POST", "/api/v1/auth/verify-email", map[string]any{"token": verifyT, "password": "eve's secret"})
		eveS := login("eve@else.test", "eve's secret")
		jr := must(201, eveS, "POST", "/api/v1/organizations/acme/join-requests", map[string]any{"message": "hello"})
		must(200, adaS, "POST", "/api/v1/organizations/acme/join-requests/"+jr["id"].(string)+"/approve", nil)
		secret(e.link(account.NoticeInvitation, "eve@else.test"), -1)
		must(202, "", "POST", "/api/v1/auth/password-reset", map[string]any{"email": "eve@else.test"})
		resetT := e.link(account.NoticePasswordReset, "eve@else.test")
		secret(resetT, -1)
		must(204, "", "POST", "/api/v1/auth/password-reset/confirm", map[string]any{"token": resetT, "new_password": "eve's reset secret"})
		login("eve@else.test", "eve's reset secret")

		// A password change, an entitlement check with the key, logouts.
		must(204, adaS, "PUT", "/api/v1/me/password", map[string]any{"current_password": "ada's first secret", "new_password": "ada's second secret"})
		must(204, op, "PUT", "/api/v1/me/password", map[string]any{"current_password": pw, "new_password": "the new operator secret"})
		must(200, key["key"].(string), "GET", "/api/v1/check?organization=acme&account="+ada, nil)
		must(200, key["key"].(string), "GET", "/api/v1/accounts/"+ada+"/entitlements", nil)
		must(204, carolS, "POST", "/api/v1/auth/logout", nil)
		problem(t, call(carolS, "GET", "/api/v1/me", nil), 401, "unauthenticated")

		// The emails go out over SMTP, the worker logging into the same buffer.
		smtp := smtptest.Start(t)
		sender, err := mail.NewSMTPSender(smtp.URL(), "Roster <roster@acme.test>")
		if err != nil {
			t.Fatal(err)
		}
		w := &outbox.Worker{Store: db, Sender: sender, From: "Roster <roster@acme.test>", Log: debug, Now: e.clock.Now}
		for {
			sent, _, _, err := w.RunOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if sent == 0 {
				break
			}
		}
		if len(smtp.Received()) < 6 {
			t.Fatalf("%d emails delivered", len(smtp.Received()))
		}

		// Everything an administrator or the operator can read back.
		for _, path := range []string{"/api/v1/organizations/acme/audit?limit=500", "/api/v1/organizations/acme/members",
			"/api/v1/organizations/acme/join-requests", "/api/v1/organizations/acme/members/" + ada} {
			must(200, adaS, "GET", path, nil)
		}
		must(200, op, "GET", "/api/v1/audit?limit=500", nil)
		must(200, op, "GET", "/api/v1/organizations/acme/audit?limit=500", nil)

		// The stored password hashes are secrets too.
		var audit []account.AuditEvent
		err = db.Read(context.Background(), func(tx account.Tx) error {
			for _, email := range []string{operatorEmail, "ada@acme.test", "carol@acme.test", "eve@else.test"} {
				a, err := tx.AccountByEmail(context.Background(), email)
				if err != nil {
					return err
				}
				secret(a.PasswordHash, -1)
			}
			acme, err := tx.OrganizationByRef(context.Background(), "acme")
			if err != nil {
				return err
			}
			for _, org := range []string{"", acme.ID} {
				evs, err := tx.FindAudit(context.Background(), account.AuditFilter{OrgID: org, Limit: 1000})
				if err != nil {
					return err
				}
				audit = append(audit, evs...)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(audit) < 20 {
			t.Fatalf("only %d audit events", len(audit))
		}

		captured := logs.String()
		if !strings.Contains(captured, "outbox: email sent") || !strings.Contains(captured, "route=") {
			t.Fatalf("the logs did not capture the server and the worker:\n%s", captured)
		}
		for s, issuer := range secrets {
			short := s[:min(len(s), 12)] + "…"
			if strings.Contains(captured, s) {
				t.Errorf("secret %s is in the logs", short)
			}
			for _, ev := range audit {
				if strings.Contains(fmt.Sprintf("%s %s %s %s %s", ev.Action, ev.TargetID, ev.Before, ev.After, ev.ActorEmail), s) {
					t.Errorf("secret %s is in the audit event %s", short, ev.Action)
				}
			}
			for i, a := range answers {
				if i != issuer && strings.Contains(a.text, s) {
					t.Errorf("secret %s is in the answer to %s", short, a.what)
				}
			}
			if issuer >= 0 && !strings.Contains(answers[issuer].text, s) {
				t.Errorf("secret %s is not in the answer that issued it, %s", short, answers[issuer].what)
			}
		}
	})
}

// TestSecurityHeaders: every answer — success, refusal, validation, an unknown
// route or method, the routes outside the API, and a panic's 500 — carries the
// headers that stop sniffing, framing and referrer leaks.
func TestSecurityHeaders(t *testing.T) {
	db := storetest.Open(t, sqlstore.SQLite)
	var panicking atomic.Bool
	e := newEnv(t, db, withDeps(func(d *httpapi.Deps) {
		ready := d.Ready
		d.Ready = func(ctx context.Context) error {
			if panicking.Load() {
				panic("the store is on fire")
			}
			return ready(ctx)
		}
	}))
	e.org("acme", "")
	type check struct {
		method, path, token string
		body                any
		status              int
	}
	var checks []check
	for _, r := range outsideOpenAPI {
		checks = append(checks, check{r.method, r.path, "", nil, r.status})
	}
	for _, c := range append(checks, []check{
		{"GET", "/api/v1/me", e.op, nil, 200},
		{"GET", "/api/v1/organizations/acme/members/export.csv", e.op, nil, 200},
		{"GET", "/api/v1/organizations/acme/imports/template.xlsx", e.op, nil, 200},
		{"POST", "/api/v1/auth/logout", e.login(operatorEmail, pw), nil, 204},
		{"GET", "/api/v1/me", "", nil, 401},
		{"GET", "/api/v1/organizations/nope", e.op, nil, 404},
		{"POST", "/api/v1/organizations", e.op, map[string]any{"name": ""}, 422},
		{"POST", "/api/v1/organizations", e.op, `{"name":`, 400},
		{"GET", "/api/v1/nowhere", "", nil, 404},
		{"DELETE", "/api/v1/me", e.op, nil, 405}, // a wrong method on a known path
		{"GET", "/healthz", "", nil, 500},        // Ready panics: the middleware's recovery answers
	}...) {
		panicking.Store(c.status == 500)
		r := e.call(c.token, c.method, c.path, c.body)
		if c.status != 0 && r.Status != c.status || c.status == 0 && r.Status == 401 {
			t.Errorf("%s %s = %d, want %d\n%s", c.method, c.path, r.Status, c.status, r.Raw)
		}
		h := r.Header
		csp := h.Get("Content-Security-Policy")
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" ||
			!strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s %s (%d): X-Content-Type-Options %q, Referrer-Policy %q, Content-Security-Policy %q",
				c.method, c.path, r.Status, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"), csp)
		}
	}
	if !strings.Contains(e.logs.String(), "the store is on fire") {
		t.Error("the panic was not logged")
	}
}
