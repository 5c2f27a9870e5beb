package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/app"
	"roster.dev/roster/internal/config"
	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/mail"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/ratelimit"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
	"roster.dev/roster/internal/testtime"
)

// TestLoginDeviceTokens: OWASP's device cookies. Failed logins from clients that are
// not a known device of the account are bounded per email (429 with Retry-After, for
// them only); a device that logged in before keeps its own allowance, so an attacker's
// failures never keep the owner out; a device that keeps failing is locked itself.
func TestLoginDeviceTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, withLimits(func(d *limits.Config) {
			d.LoginPerEmail = ratelimit.Limit{Every: time.Minute, Burst: 3}
			d.LoginPerDevice = ratelimit.Limit{Every: time.Minute, Burst: 2}
		}))
		e.org("acme", "")
		e.member(e.op, "acme", "owner@acme.test", "owner")
		login := "/api/v1/auth/login"
		right := map[string]any{"email": "owner@acme.test", "password": pw}
		wrong := map[string]any{"email": "owner@acme.test", "password": "guess guess"}
		with := func(b map[string]any, device string) map[string]any {
			out := map[string]any{"device_token": device}
			for k, v := range b {
				out[k] = v
			}
			return out
		}
		// Two of the owner's clients log in and become known devices.
		phone := e.must(200, "", "POST", login, right)["device_token"].(string)
		laptop := e.must(200, "", "POST", login, right)["device_token"].(string)
		if !strings.HasPrefix(phone, "rd_") || phone == laptop {
			t.Fatalf("device tokens %q, %q: want two distinct rd_ tokens", phone, laptop)
		}
		opDevice := e.must(200, "", "POST", login, map[string]any{"email": operatorEmail, "password": pw})["device_token"].(string)

		// An attacker guesses from an unknown client until the email's allowance for
		// unknown clients is spent; a right password from an unknown client waits too.
		for range 3 {
			problem(t, e.call("", "POST", login, wrong), 401, "unauthenticated")
		}
		r := e.call("", "POST", login, wrong)
		problem(t, r, 429, "rate-limited")
		if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Errorf("Retry-After = %q", ra)
		}
		problem(t, e.call("", "POST", login, right), 429, "rate-limited")
		// A token that is not the account's known device is an unknown client: another
		// account's, a made-up one, one of the wrong form.
		for _, fake := range []string{opDevice, "rd_" + strings.Repeat("A", 43), "not a token"} {
			problem(t, e.call("", "POST", login, with(wrong, fake)), 429, "rate-limited")
		}

		// The owner's device is not locked out by all that, and keeps its token.
		r = e.call("", "POST", login, with(right, phone))
		if r.Status != 200 || r.Body["device_token"] != phone {
			t.Fatalf("the owner's known device: %d %v, want 200 with the same device_token", r.Status, r.Raw)
		}
		// A known device that keeps failing is locked, on its own.
		for range 2 {
			problem(t, e.call("", "POST", login, with(wrong, phone)), 401, "unauthenticated")
		}
		problem(t, e.call("", "POST", login, with(wrong, phone)), 429, "rate-limited")
		problem(t, e.call("", "POST", login, with(right, phone)), 429, "rate-limited")
		// Right passwords spend nothing: more logins than the allowance, then its
		// failures still answer 401.
		for range 3 {
			e.must(200, "", "POST", login, with(right, laptop))
		}
		problem(t, e.call("", "POST", login, with(wrong, laptop)), 401, "unauthenticated")

		// Time heals every allowance.
		e.clock.Advance(5 * time.Minute)
		e.must(200, "", "POST", login, right)
		e.must(200, "", "POST", login, with(right, phone))
		// A device token lasts 90 days; past them the client is unknown again and is
		// given a new one.
		e.clock.Advance(91 * 24 * time.Hour)
		if got := e.must(200, "", "POST", login, with(right, laptop))["device_token"]; got == laptop {
			t.Error("an expired device token was kept")
		}
	})
}

// TestLoginPerAddressSparesKnownDevices: the per-address allowance bounds what unknown
// clients try from one address; the account's known devices behind the same address
// are not held to it.
func TestLoginPerAddressSparesKnownDevices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, withLimits(func(d *limits.Config) {
			d.LoginPerIP = ratelimit.Limit{Every: time.Minute, Burst: 4}
		}))
		login := "/api/v1/auth/login"
		// newEnv's login spent one of the address's four attempts.
		device := e.must(200, "", "POST", login, map[string]any{"email": operatorEmail, "password": pw})["device_token"].(string)
		for _, email := range []string{"a@acme.test", "b@acme.test"} {
			problem(t, e.call("", "POST", login, map[string]any{"email": email, "password": "guess guess"}), 401, "unauthenticated")
		}
		problem(t, e.call("", "POST", login, map[string]any{"email": "c@acme.test", "password": "guess guess"}), 429, "rate-limited")
		problem(t, e.call("", "POST", login, map[string]any{"email": operatorEmail, "password": pw}), 429, "rate-limited")
		e.must(200, "", "POST", login, map[string]any{"email": operatorEmail, "password": pw, "device_token": device})
	})
}

// TestChangePasswordGuesses: a session may try five wrong current passwords, then one
// every five minutes (429 with Retry-After); a new password the policy refuses spends
// nothing.
func TestChangePasswordGuesses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db)
		e.org("acme", "")
		e.member(e.op, "acme", "kim@acme.test", "member")
		tok := e.login("kim@acme.test", pw)
		change := func(current, next string) resp {
			return e.call(tok, "PUT", "/api/v1/me/password", map[string]any{"current_password": current, "new_password": next})
		}
		for range 3 {
			problem(t, change(pw, "short"), 422, "validation", "new_password")
		}
		for range 5 {
			problem(t, change("guess guess", "a new secret"), 422, "validation", "current_password")
		}
		r := change("guess guess", "a new secret")
		problem(t, r, 429, "rate-limited")
		if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Errorf("Retry-After = %q", ra)
		}
		problem(t, change(pw, "a new secret"), 429, "rate-limited")
		// Another account's allowance is its own.
		e.must(204, e.op, "PUT", "/api/v1/me/password", map[string]any{"current_password": pw, "new_password": "another secret"})
		// One guess every five minutes.
		e.clock.Advance(5 * time.Minute)
		problem(t, change("guess again", "a new secret"), 422, "validation", "current_password")
		problem(t, change(pw, "a new secret"), 429, "rate-limited")
		e.clock.Advance(5 * time.Minute)
		e.must(204, tok, "PUT", "/api/v1/me/password", map[string]any{"current_password": pw, "new_password": "a new secret"})
	})
}

// gatedStore holds every store call until open is closed.
type gatedStore struct {
	*sqlstore.DB
	open chan struct{}
}

func (g *gatedStore) Read(ctx context.Context, fn func(account.Tx) error) error {
	<-g.open
	return g.DB.Read(ctx, fn)
}

func (g *gatedStore) Write(ctx context.Context, fn func(account.Tx) error) error {
	<-g.open
	return g.DB.Write(ctx, fn)
}

// TestSelfServiceAnswersBeforeTheStore: a password reset and a sign-up are answered
// before the store is touched, the same for a known and an unknown email: the store
// is held shut until both are answered. Their work is done after the answer, and
// Close waits for it.
func TestSelfServiceAnswersBeforeTheStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		gate := &gatedStore{DB: db, open: make(chan struct{})}
		opened := false
		defer func() {
			if !opened {
				close(gate.open)
			}
		}()
		clock := testtime.At(time.Now())
		opts := account.Options{Hasher: password.NewHasher(password.TestParams, 4, rand.Reader), Now: clock.Now,
			Rand: rand.Reader, Renderer: mail.NewNoticeRenderer(), BaseURL: "http://roster.test"}
		setup := opts
		setup.Store = db
		if _, _, err := account.NewService(setup).Bootstrap(ctx, operatorEmail, pw); err != nil {
			t.Fatal(err)
		}
		e := &env{t: t, db: db, logs: &syncBuffer{}, clock: clock}
		a, err := app.New(ctx, app.Options{
			Config: config.Config{BaseURL: "http://roster.test", SignUp: true, CheckCache: account.DefaultCheckCacheEntries},
			DB:     db, ServiceStore: func(account.Store) account.Store { return gate },
			Logger: slog.New(slog.NewTextHandler(e.logs, nil)), Now: clock.Now, Hasher: opts.Hasher, NoConsole: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		e.svc, e.api = a.Service, a.API
		e.srv = httptest.NewServer(a.Handler)
		defer e.srv.Close()
		client := &http.Client{Timeout: 20 * time.Second} // a failure here is the handler waiting on the store
		post := func(path string, body map[string]any) (int, string) {
			t.Helper()
			b, _ := json.Marshal(body)
			res, err := client.Post(e.srv.URL+path, "application/json", bytes.NewReader(b))
			if err != nil {
				t.Fatalf("POST %s %v: no answer while the store is held: %v", path, body, err)
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(raw)
		}
		reset := "/api/v1/auth/password-reset"
		known, knownBody := post(reset, map[string]any{"email": operatorEmail})
		unknown, unknownBody := post(reset, map[string]any{"email": "nobody@roster.test"})
		if known != 202 || unknown != 202 || knownBody != unknownBody {
			t.Fatalf("password reset: known %d %q, unknown %d %q; want the same 202", known, knownBody, unknown, unknownBody)
		}
		signup := "/api/v1/auth/signup"
		known, knownBody = post(signup, map[string]any{"email": operatorEmail, "first_name": "O", "last_name": "P", "password": pw})
		unknown, unknownBody = post(signup, map[string]any{"email": "new@roster.test", "first_name": "N", "last_name": "M", "password": pw})
		if known != 202 || unknown != 202 || knownBody != unknownBody {
			t.Fatalf("sign-up: known %d %q, unknown %d %q; want the same 202", known, knownBody, unknown, unknownBody)
		}
		// Bad input is still refused at once, naming the field.
		if status, body := post(reset, map[string]any{"email": "not an email"}); status != 422 || !strings.Contains(body, `"field":"email"`) {
			t.Fatalf("a bad email: %d %s", status, body)
		}

		// The work is done after the answers, and a graceful stop waits for it.
		close(gate.open)
		opened = true
		shutdown, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := e.api.Close(shutdown); err != nil {
			t.Fatal(err)
		}
		e.link(account.NoticePasswordReset, operatorEmail)
		e.link(account.NoticeVerifyEmail, "new@roster.test")
		if n := e.count(account.NoticePasswordReset, "nobody@roster.test"); n != 0 {
			t.Errorf("%d reset emails to an unknown address", n)
		}
		if n := e.count(account.NoticeAccountExists, operatorEmail); n != 1 {
			t.Errorf("%d account-exists emails to the operator, want 1", n)
		}
		// After Close, new work is refused as busy, the same for every email.
		if status, _ := post(reset, map[string]any{"email": operatorEmail}); status != 503 {
			t.Errorf("a reset after Close: %d, want 503", status)
		}
	})
}

// TestNewPasswordForgetsDevices: a changed or reset password ends the known devices
// of the account with its sessions — a client that logged in with the old password
// (the attacker who had it) no longer gets a known device's allowance of failed
// logins; the next login with the new password makes a device known again.
func TestNewPasswordForgetsDevices(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.member(e.op, "acme", "ada@acme.test", "member")
		login := func(password, device string) (string, string) {
			t.Helper()
			b := e.must(200, "", "POST", "/api/v1/auth/login", map[string]any{"email": "ada@acme.test", "password": password, "device_token": device})
			return b["token"].(string), b["device_token"].(string)
		}
		session, device := login(pw, "")
		if _, again := login(pw, device); again != device {
			t.Fatalf("a known device is not kept: %q then %q", device, again)
		}

		e.must(204, session, "PUT", "/api/v1/me/password", map[string]any{"current_password": pw, "new_password": "ada's second secret"})
		_, after := login("ada's second secret", device)
		if after == device {
			t.Error("the device of the old password is still known after a password change")
		}
		if _, again := login("ada's second secret", after); again != after {
			t.Errorf("the new device is not known: %q then %q", after, again)
		}

		e.must(202, "", "POST", "/api/v1/auth/password-reset", map[string]any{"email": "ada@acme.test"})
		token := e.link(account.NoticePasswordReset, "ada@acme.test")
		e.must(204, "", "POST", "/api/v1/auth/password-reset/confirm", map[string]any{"token": token, "new_password": "ada's third secret"})
		if _, reset := login("ada's third secret", after); reset == after {
			t.Error("the device is still known after a password reset")
		}
	})
}
