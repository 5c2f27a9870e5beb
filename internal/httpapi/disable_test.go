package httpapi_test

import (
	"slices"
	"testing"
	"time"
)

// TestAccountDisabling: only an operator disables an account and enables it again;
// disabled, its sessions are gone and its login answers as a wrong password does;
// the application of its organization reads account.disabled then account.enabled.
func TestAccountDisabling(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		key := e.must(201, e.op, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "events"})["key"].(string)
		e.subscribe("acme", "studio", 3, 30*24*time.Hour)
		e.member(e.op, "acme", "own@acme.test", "owner")
		bob := accountID(e.member(e.op, "acme", "bob@acme.test", "member"))
		own := e.login("own@acme.test", pw)
		session := e.login("bob@acme.test", pw)
		opID := e.must(200, e.op, "GET", "/api/v1/me", nil)["account"].(map[string]any)["id"].(string)

		for _, action := range []string{"disable", "enable"} {
			problem(t, e.call(own, "POST", "/api/v1/accounts/"+bob+"/"+action, nil), 403, "forbidden")
			problem(t, e.call(own, "POST", "/api/v1/accounts/nope/"+action, nil), 403, "forbidden")
			problem(t, e.call(e.op, "POST", "/api/v1/accounts/nope/"+action, nil), 404, "not-found")
			problem(t, e.call("", "POST", "/api/v1/accounts/"+bob+"/"+action, nil), 401, "unauthenticated")
		}
		problem(t, e.call(e.op, "POST", "/api/v1/accounts/"+opID+"/disable", nil), 409, "conflict")
		e.must(200, session, "GET", "/api/v1/me", nil) // the refusals changed nothing

		b := e.must(200, e.op, "POST", "/api/v1/accounts/"+bob+"/disable", nil)
		if jpath(b, "account", "id") != bob || jpath(b, "account", "state") != "disabled" {
			t.Fatalf("disable = %v", b)
		}
		problem(t, e.call(session, "GET", "/api/v1/me", nil), 401, "unauthenticated")
		wrong := e.call("", "POST", "/api/v1/auth/login", map[string]any{"email": "bob@acme.test", "password": "not the password"})
		disabled := e.call("", "POST", "/api/v1/auth/login", map[string]any{"email": "bob@acme.test", "password": pw})
		problem(t, disabled, 401, "unauthenticated")
		if disabled.Body["detail"] != wrong.Body["detail"] {
			t.Errorf("a disabled account's login says %q, a wrong password %q", disabled.Body["detail"], wrong.Body["detail"])
		}
		if m := e.must(200, e.op, "GET", "/api/v1/organizations/acme/members/"+bob, nil); m["state"] != "active" {
			t.Errorf("the membership changed: %v", m["state"])
		}

		b = e.must(200, e.op, "POST", "/api/v1/accounts/"+bob+"/enable", nil)
		if jpath(b, "account", "state") != "active" {
			t.Fatalf("enable = %v", b)
		}
		e.login("bob@acme.test", pw)

		e.relay()
		evs := e.feed(key, "studio", 0, "&types=account.disabled,account.enabled")
		if got := eventTypes(evs); !slices.Equal(got, []string{"account.disabled", "account.enabled"}) {
			t.Fatalf("studio's feed = %v", got)
		}
		if jpath(evs[0], "data", "member", "account", "id") != bob || jpath(evs[0], "data", "actor", "email") != operatorEmail {
			t.Errorf("account.disabled's data = %v", evs[0]["data"])
		}
	})
}
