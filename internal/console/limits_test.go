package console_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/ratelimit"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// limitsEnv is the whole server with tight login limits, on a real port.
func limitsEnv(t *testing.T, db *sqlstore.DB) *opEnv {
	t.Helper()
	e := &opEnv{t: t, db: db}
	e.srv = httptest.NewUnstartedServer(nil)
	ts := newTestServer(t, db, "http://"+e.srv.Listener.Addr().String(), serverOptions{limits: func(d *limits.Config) {
		d.LoginPerEmail = ratelimit.Limit{Every: time.Minute, Burst: 3}
		d.LoginPerDevice = ratelimit.Limit{Every: time.Minute, Burst: 2}
	}})
	e.srv.Config.Handler = ts.handler
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	e.svc, e.op = ts.svc, ts.op
	return e
}

func (e *opEnv) anonymous() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// TestConsoleLoginDeviceCookie: a browser that logged in holds an HttpOnly,
// SameSite=Strict roster_device cookie for /login; with it, the owner logs in while
// an attacker's failures have locked unknown clients out, and its own failures lock
// it alone.
func TestConsoleLoginDeviceCookie(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := limitsEnv(t, db)
		if _, err := e.svc.CreateOrganization(context.Background(), e.op, account.CreateOrganizationInput{Name: "Acme",
			Slug: "acme", Kind: account.KindOrganization}); err != nil {
			t.Fatal(err)
		}
		e.addPerson("acme", "owner@acme.test", "owner")
		right := url.Values{"email": {"owner@acme.test"}, "password": {opPass}}
		wrong := url.Values{"email": {"owner@acme.test"}, "password": {"guess guess"}}

		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(right.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		var device *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == "roster_device" {
				device = c
			}
		}
		if device == nil || !device.HttpOnly || device.SameSite != http.SameSiteStrictMode || device.Path != "/login" ||
			!strings.HasPrefix(device.Value, "rd_") || device.MaxAge < 80*24*3600 {
			t.Fatalf("roster_device cookie = %+v", device)
		}
		owner := e.anonymous()
		owner.client.Jar.SetCookies(mustURL(t, e.srv.URL+"/login"), []*http.Cookie{{Name: "roster_device", Value: device.Value, Path: "/login"}})

		attacker := e.anonymous()
		for range 3 {
			wantStatus(t, attacker.post("/login", wrong), http.StatusUnauthorized)
		}
		wantStatus(t, attacker.post("/login", wrong), http.StatusTooManyRequests)
		wantStatus(t, e.anonymous().post("/login", right), http.StatusTooManyRequests)

		wantStatus(t, owner.post("/login", right), http.StatusSeeOther)
		for range 2 {
			wantStatus(t, owner.post("/login", wrong), http.StatusUnauthorized)
		}
		wantStatus(t, owner.post("/login", right), http.StatusTooManyRequests)
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestConsoleChangePasswordGuesses: the console's change-password form shares the
// API's allowance of wrong current passwords.
func TestConsoleChangePasswordGuesses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newOpEnv(t, db)
		b := e.login(opEmail, opPass)
		wrong := url.Values{"current_password": {"guess guess"}, "new_password": {"a new secret"}}
		for range 5 {
			wantStatus(t, b.post("/password", wrong), http.StatusUnprocessableEntity)
		}
		res := b.post("/password", wrong)
		wantStatus(t, res, http.StatusTooManyRequests)
		wantIn(t, res, "too many wrong current passwords")
		wantStatus(t, b.post("/password", url.Values{"current_password": {opPass}, "new_password": {"a new secret"}}), http.StatusTooManyRequests)
	})
}
