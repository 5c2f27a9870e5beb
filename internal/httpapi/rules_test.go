package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/ratelimit"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// sampleBodies holds a valid body for every organization route that takes one, so
// that the isolation test reaches the handler. A new route with a body and no entry
// here fails TestTenantIsolation.
var sampleBodies = map[string]any{
	"update-organization":  map[string]any{"name": "Renamed"},
	"add-member":           map[string]any{"email": "new@acme.test", "first_name": "N", "last_name": "N", "send_invite": false, "password": pw},
	"update-member":        map[string]any{"role": "member"},
	"remove-members":       map[string]any{"accounts": []string{"x"}},
	"create-role":          map[string]any{"name": "Auditor", "permissions": []string{"audit.read"}},
	"update-role":          map[string]any{"active": false},
	"create-team":          map[string]any{"name": "Ops"},
	"rename-team":          map[string]any{"name": "Ops2"},
	"create-subscription":  map[string]any{"application": "studio", "seats": 1, "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z"},
	"update-subscription":  map[string]any{"seats": 7},
	"renew-subscription":   map[string]any{"seats": 7, "starts_at": "2027-01-01T00:00:00Z", "ends_at": "2028-01-01T00:00:00Z"},
	"assign-seat":          nil,
	"update-seats":         map[string]any{"unassign": []string{"x"}},
	"create-seat-request":  map[string]any{"application": "studio", "quantity": 5, "note": "more"},
	"invite":               map[string]any{"emails": []string{"x@acme.test"}},
	"resend-invitations":   map[string]any{"invitations": []string{"x"}},
	"resend-invitation":    nil,
	"approve-join-request": nil,
	"upload-import":        upload{name: "people.csv", content: []byte("email\nx@acme.test\n")},
	"deny-join-request":    nil,
	"create-scim-token":    map[string]any{"description": "Entra ID"},
	"add-domain":           map[string]any{"domain": "evil.example"},
	"verify-domain":        map[string]any{"force": true},
}

// openToOutsiders are the organization routes an account outside the organization may
// call by design: asking to join it (TestJoinRequests covers it).
var openToOutsiders = map[string]bool{"create-join-request": true}

// TestTenantIsolation calls every organization route of the OpenAPI document on
// another organization's objects, as that organization's neighbour's admin: each
// answers 404, exactly as for an organization that does not exist.
func TestTenantIsolation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		acme := e.org("acme", "")
		e.org("globex", "")
		owner := e.member(e.op, "acme", "own@acme.test", "owner")
		role := e.must(201, e.op, "POST", "/api/v1/organizations/acme/roles", map[string]any{"name": "Viewer", "permissions": []string{"members.read"}})
		team := e.must(201, e.op, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Sales"})
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		sub := e.subscribe("acme", "studio", 5, 365*24*time.Hour)
		e.must(200, e.op, "PUT", "/api/v1/organizations/acme/subscriptions/"+sub["id"].(string)+"/seats/"+accountID(owner), nil)
		e.member(e.op, "globex", "boss@globex.test", "owner")
		intruder := e.login("boss@globex.test", pw)
		inv := e.must(201, e.op, "POST", "/api/v1/organizations/acme/members", map[string]any{
			"email": "inv@acme.test", "first_name": "I", "last_name": "N", "send_invite": true})["invitation"].(map[string]any)
		e.member(e.op, "globex", "req@globex.test", "member")
		jr := e.must(201, e.login("req@globex.test", pw), "POST", "/api/v1/organizations/acme/join-requests", map[string]any{"message": "hi"})
		imp := e.must(202, e.op, "POST", "/api/v1/organizations/acme/imports", upload{name: "p.csv", content: []byte("email\nz@acme.test\n")})
		dom := e.must(201, e.op, "POST", "/api/v1/organizations/acme/domains", map[string]any{"domain": "acme.example"})

		var doc struct {
			Paths map[string]map[string]struct {
				OperationID string `json:"operationId"`
			} `json:"paths"`
		}
		if err := json.Unmarshal([]byte(e.call("", "GET", "/api/v1/openapi.json", nil).Raw), &doc); err != nil {
			t.Fatal(err)
		}
		ids := map[string]string{"{org}": acme["id"].(string), "{account}": accountID(owner),
			"{role}": role["id"].(string), "{team}": team["id"].(string), "{sub}": sub["id"].(string)}
		routes := 0
		for path, ops := range doc.Paths {
			if !strings.Contains(path, "{org}") {
				continue
			}
			for method, op := range ops {
				method = strings.ToUpper(method)
				if openToOutsiders[op.OperationID] {
					continue
				}
				concrete := path
				if strings.Contains(path, "/join-requests/") {
					concrete = strings.ReplaceAll(concrete, "{id}", jr["id"].(string))
				}
				if strings.Contains(path, "/domains/") {
					concrete = strings.ReplaceAll(concrete, "{id}", dom["id"].(string))
				}
				if strings.Contains(path, "/imports/") {
					concrete = strings.ReplaceAll(concrete, "{id}", imp["id"].(string))
				}
				concrete = strings.ReplaceAll(concrete, "{id}", inv["id"].(string))
				for k, v := range ids {
					concrete = strings.ReplaceAll(concrete, k, v)
				}
				if strings.Contains(concrete, "{") {
					t.Errorf("%s %s: the test has no object for a path parameter", method, path)
					continue
				}
				var body any
				if method == "POST" || method == "PATCH" || method == "PUT" {
					b, ok := sampleBodies[op.OperationID]
					if !ok && !strings.HasSuffix(path, "activate") {
						t.Errorf("%s %s (%s): add a sample body to sampleBodies", method, path, op.OperationID)
						continue
					}
					body = b
				}
				routes++
				r := e.call(intruder, method, concrete, body)
				if r.Status != http.StatusNotFound || r.Body["type"] != "https://roster.dev/problems/not-found" {
					t.Errorf("%s %s as another organization's owner = %d, want 404 not-found\n%s", method, concrete, r.Status, r.Raw)
				}
			}
		}
		if routes < 20 {
			t.Errorf("only %d organization routes checked", routes)
		}
		// Nothing changed.
		e.must(200, e.op, "GET", "/api/v1/organizations/acme/members/"+accountID(owner), nil)
		if got := e.must(200, e.op, "GET", "/api/v1/organizations/acme", nil)["name"]; got != "Acme" {
			t.Errorf("acme renamed to %v", got)
		}
		if got := e.must(200, e.op, "GET", "/api/v1/organizations/acme/subscriptions/"+sub["id"].(string), nil); got["seats"] != 5.0 || got["assigned"] != 1.0 {
			t.Errorf("acme's subscription changed: %v", got)
		}
		// The slug works like the id, and a member of acme sees acme but not globex.
		member := e.member(e.op, "acme", "mem@acme.test", "member")
		_ = member
		mem := e.login("mem@acme.test", pw)
		e.must(200, mem, "GET", "/api/v1/organizations/acme", nil)
		problem(t, e.call(mem, "GET", "/api/v1/organizations/globex", nil), 404, "not-found")
		problem(t, e.call(mem, "GET", "/api/v1/organizations/acme/members", nil), 403, "forbidden")
		if got := e.must(200, mem, "GET", "/api/v1/organizations", nil)["total"]; got != 1.0 {
			t.Errorf("a member lists %v organizations, want 1", got)
		}
	})
}

// TestRoleCeiling: nobody grants, or acts on holders of, permissions they lack.
func TestRoleCeiling(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		owner := e.member(e.op, "acme", "own@acme.test", "owner")
		e.member(e.op, "acme", "adm@acme.test", "admin")
		adm := e.login("adm@acme.test", pw)
		path := "/api/v1/organizations/acme"

		// An admin cannot make an owner, nor a role holding organization.manage.
		r := e.call(adm, "POST", path+"/members", map[string]any{"email": "x@acme.test", "first_name": "X", "last_name": "X",
			"role": "owner", "send_invite": false, "password": pw})
		problem(t, r, 403, "role-ceiling")
		problem(t, e.call(adm, "POST", path+"/roles", map[string]any{"name": "Boss", "permissions": []string{"organization.manage"}}), 403, "role-ceiling")
		// An admin cannot edit, deactivate or remove an owner.
		ownerPath := path + "/members/" + accountID(owner)
		problem(t, e.call(adm, "PATCH", ownerPath, map[string]any{"first_name": "Y"}), 403, "role-ceiling")
		problem(t, e.call(adm, "POST", ownerPath+"/deactivate", nil), 403, "role-ceiling")
		problem(t, e.call(adm, "DELETE", ownerPath, nil), 403, "role-ceiling")

		// A custom role within the admin's permissions is fine; raising it above is not.
		inviter := e.must(201, adm, "POST", path+"/roles", map[string]any{"name": "Inviter", "permissions": []string{"members.read", "members.invite"}})
		RolePath := path + "/roles/" + inviter["id"].(string)
		problem(t, e.call(adm, "PATCH", RolePath, map[string]any{"permissions": []string{"organization.manage"}}), 403, "role-ceiling")

		// A holder of Inviter may add members but only with roles inside Inviter.
		e.member(adm, "acme", "inv@acme.test", inviter["id"].(string))
		inv := e.login("inv@acme.test", pw)
		problem(t, e.call(inv, "POST", path+"/members", map[string]any{"email": "y@acme.test", "first_name": "Y", "last_name": "Y",
			"role": "admin", "send_invite": false, "password": pw}), 403, "role-ceiling")
		e.member(inv, "acme", "z@acme.test", "member")
		// …and lacks members.manage altogether.
		problem(t, e.call(inv, "PATCH", path+"/members/"+accountID(owner), map[string]any{"first_name": "Q"}), 403, "forbidden")

		// An inactive role cannot be given; predefined roles cannot be changed.
		e.must(200, adm, "PATCH", RolePath, map[string]any{"active": false})
		problem(t, e.call(adm, "POST", path+"/members", map[string]any{"email": "w@acme.test", "first_name": "W", "last_name": "W",
			"role": inviter["id"], "send_invite": false, "password": pw}), 422, "validation", "role")
		problem(t, e.call(adm, "PATCH", path+"/roles/admin", map[string]any{"name": "Chief"}), 403, "forbidden")
		// A role in use cannot be deleted.
		problem(t, e.call(adm, "DELETE", RolePath, nil), 409, "conflict")
		// The owner may do what the admin may not.
		own := e.login("own@acme.test", pw)
		e.must(201, own, "POST", path+"/roles", map[string]any{"name": "Boss", "permissions": []string{"organization.manage"}})
	})
}

// TestLastOwner: an organization always keeps an active owner.
func TestLastOwner(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		a := e.member(e.op, "acme", "one@acme.test", "owner")
		one := e.login("one@acme.test", pw)
		path := "/api/v1/organizations/acme/members/"
		for _, c := range []struct {
			method, suffix string
			body           any
		}{
			{"PATCH", "", map[string]any{"role": "admin"}},
			{"POST", "/deactivate", nil},
			{"DELETE", "", nil},
		} {
			problem(t, e.call(one, c.method, path+accountID(a)+c.suffix, c.body), 409, "conflict")
			problem(t, e.call(e.op, c.method, path+accountID(a)+c.suffix, c.body), 409, "conflict")
		}
		res := e.must(200, e.op, "POST", "/api/v1/organizations/acme/members/remove", map[string]any{"accounts": []string{accountID(a)}})
		if r := res["results"].([]any)[0].(map[string]any); r["status"] != "failed" || r["error"].(map[string]any)["status"] != 409.0 {
			t.Errorf("bulk removal of the last owner = %v", r)
		}
		// With a second owner, the first may step down; then the second is the last.
		b := e.member(one, "acme", "two@acme.test", "owner")
		e.must(200, one, "PATCH", path+accountID(a), map[string]any{"role": "admin"})
		problem(t, e.call(e.op, "DELETE", path+accountID(b), nil), 409, "conflict")
		// A deactivated owner does not count.
		e.must(200, e.op, "PATCH", path+accountID(a), map[string]any{"role": "owner"})
		e.must(200, e.op, "POST", path+accountID(a)+"/deactivate", nil)
		problem(t, e.call(e.op, "POST", path+accountID(b)+"/deactivate", nil), 409, "conflict")
	})
}

// TestResetGate: a session that must change its password can do nothing else.
func TestResetGate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.member(e.op, "acme", "new@acme.test", "admin", map[string]any{"reset_password_on_first_login": true})
		r := e.must(200, "", "POST", "/api/v1/auth/login", map[string]any{"email": "NEW@acme.test", "password": pw})
		if r["password_reset_required"] != true {
			t.Fatalf("login = %v", r)
		}
		tok := r["token"].(string)
		other := e.login("new@acme.test", pw)
		e.must(200, tok, "GET", "/api/v1/me", nil)
		for _, c := range [][2]string{{"GET", "/api/v1/organizations"}, {"GET", "/api/v1/organizations/acme/members"}, {"GET", "/api/v1/permissions"}} {
			problem(t, e.call(tok, c[0], c[1], nil), 403, "password-reset-required")
		}
		problem(t, e.call(tok, "PUT", "/api/v1/me/password", map[string]any{"current_password": "wrong password", "new_password": "a new secret"}), 422, "validation", "current_password")
		problem(t, e.call(tok, "PUT", "/api/v1/me/password", map[string]any{"current_password": pw, "new_password": "short"}), 422, "validation", "new_password")
		e.must(204, tok, "PUT", "/api/v1/me/password", map[string]any{"current_password": pw, "new_password": "a new secret"})
		e.must(200, tok, "GET", "/api/v1/organizations/acme/members", nil)
		// The other session was revoked; the old password no longer works.
		problem(t, e.call(other, "GET", "/api/v1/me", nil), 401, "unauthenticated")
		problem(t, e.call("", "POST", "/api/v1/auth/login", map[string]any{"email": "new@acme.test", "password": pw}), 401, "unauthenticated")
		e.login("new@acme.test", "a new secret")
	})
}

// TestLoginRateLimit: attempts per email and per address are bounded, with Retry-After.
func TestLoginRateLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, withLimits(func(d *limits.Config) {
			d.LoginPerEmail = ratelimit.Limit{Every: time.Minute, Burst: 3}
			d.LoginPerIP = ratelimit.Limit{Every: time.Minute, Burst: 7}
		}))
		// newEnv's login spends one of the address's seven tokens; every attempt spends one,
		// also those the per-email limit then refuses.
		bad := map[string]any{"email": "victim@acme.test", "password": "guess guess"}
		for range 3 {
			problem(t, e.call("", "POST", "/api/v1/auth/login", bad), 401, "unauthenticated")
		}
		r := e.call("", "POST", "/api/v1/auth/login", bad)
		problem(t, r, 429, "rate-limited")
		if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Errorf("Retry-After = %q", ra)
		}
		// Another email still works from this address, until the address's budget is spent.
		e.login(operatorEmail, pw)
		problem(t, e.call("", "POST", "/api/v1/auth/login", map[string]any{"email": "x@acme.test", "password": "guess guess"}), 401, "unauthenticated")
		problem(t, e.call("", "POST", "/api/v1/auth/login", map[string]any{"email": "y@acme.test", "password": "guess guess"}), 429, "rate-limited")
		// Time heals.
		e.clock.Advance(10 * time.Minute)
		e.login(operatorEmail, pw)
	})
}

// TestValidation: bad input is a 4xx problem naming the field, never a 500.
func TestValidation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.member(e.op, "acme", "taken@acme.test", "member", map[string]any{"username": "taken"})
		members := "/api/v1/organizations/acme/members"
		add := func(over map[string]any) map[string]any {
			b := map[string]any{"email": "new@acme.test", "first_name": "N", "last_name": "M", "send_invite": false, "password": pw}
			for k, v := range over {
				if v == nil {
					delete(b, k)
				} else {
					b[k] = v
				}
			}
			return b
		}
		for _, c := range []struct {
			name   string
			method string
			path   string
			body   any
			status int
			slug   string
			fields []string
		}{
			{"unknown field", "POST", members, add(map[string]any{"nickname": "x"}), 422, "validation", []string{"nickname"}},
			{"wrong type", "POST", members, add(map[string]any{"send_invite": "no"}), 422, "validation", []string{"send_invite"}},
			{"bad json", "POST", members, `{"email": `, 400, "validation", nil},
			{"missing send_invite", "POST", members, add(map[string]any{"send_invite": nil}), 422, "validation", []string{"send_invite"}},
			{"a password with send_invite", "POST", members, add(map[string]any{"send_invite": true}), 422, "validation", []string{"password"}},
			{"bad email", "POST", members, add(map[string]any{"email": "not-an-email"}), 422, "validation", []string{"email"}},
			{"names for a new account", "POST", members, add(map[string]any{"first_name": nil, "last_name": ""}), 422, "validation", []string{"first_name", "last_name"}},
			{"bad phone", "POST", members, add(map[string]any{"phone": "030 1234"}), 422, "validation", []string{"phone"}},
			{"short password", "POST", members, add(map[string]any{"password": "short"}), 422, "validation", []string{"password"}},
			{"unknown role", "POST", members, add(map[string]any{"role": "wizard"}), 422, "validation", []string{"role"}},
			{"unknown team", "POST", members, add(map[string]any{"teams": []string{"Nope"}}), 422, "validation", []string{"teams[0]"}},
			{"unknown application", "POST", members, add(map[string]any{"applications": []string{"crm"}}), 422, "validation", []string{"applications[0]"}},
			{"duplicate email, any case", "POST", members, add(map[string]any{"email": "TAKEN@acme.test"}), 409, "duplicate-email", []string{"email"}},
			{"taken username", "POST", members, add(map[string]any{"username": "TAKEN"}), 409, "conflict", []string{"username"}},
			{"bad limit", "GET", members + "?limit=501", nil, 422, "validation", []string{"limit"}},
			{"limit not a number", "GET", members + "?limit=ten", nil, 422, "validation", []string{"limit"}},
			{"bad cursor", "GET", members + "?cursor=bm90LWEtY3Vyc29y", nil, 422, "validation", []string{"cursor"}},
			{"bad state", "GET", members + "?state=sleeping", nil, 422, "validation", []string{"state"}},
			{"bad kind", "POST", "/api/v1/organizations", map[string]any{"name": "X", "kind": "club"}, 422, "validation", []string{"kind"}},
			{"taken slug", "POST", "/api/v1/organizations", map[string]any{"name": "X", "slug": "acme", "kind": "organization"}, 409, "conflict", []string{"slug"}},
			{"integer overflow", "PATCH", "/api/v1/organizations/acme", `{"invitation_ttl_hours": 99999999999999999999}`, 422, "validation", []string{"invitation_ttl_hours"}},
			{"bad date", "POST", "/api/v1/organizations/acme/subscriptions", map[string]any{"application": "x", "seats": 1, "starts_at": "soon", "ends_at": "later"}, 422, "validation", []string{"starts_at", "ends_at"}},
			{"ttl out of range", "PATCH", "/api/v1/organizations/acme", map[string]any{"invitation_ttl_hours": 0}, 422, "validation", []string{"invitation_ttl_hours"}},
			{"unknown permission", "POST", "/api/v1/organizations/acme/roles", map[string]any{"name": "R", "permissions": []string{"launch.missiles"}}, 422, "validation", []string{"permissions[0]"}},
			{"empty team name", "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": " "}, 422, "validation", []string{"name"}},
			{"too many accounts", "POST", members + "/remove", map[string]any{"accounts": make([]string, 501)}, 422, "validation", []string{"accounts"}},
			{"body too large", "POST", members, `{"email": "` + strings.Repeat("a", 70<<10) + `"}`, 413, "too-large", nil},
			{"unknown route", "GET", "/api/v1/nope", nil, 404, "not-found", nil},
			{"no token", "GET", members, nil, 401, "unauthenticated", nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				token := e.op
				if c.name == "no token" {
					token = ""
				}
				problem(t, e.call(token, c.method, c.path, c.body), c.status, c.slug, c.fields...)
			})
		}
		if strings.Contains(e.logs.String(), "level=ERROR") {
			t.Errorf("bad input logged an error:\n%s", e.logs.String())
		}
	})
}

// TestAccountDeletion: only an operator deletes an account, everywhere at once.
func TestAccountDeletion(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.org("globex", "")
		e.member(e.op, "acme", "own@acme.test", "owner")
		m := e.member(e.op, "acme", "gone@acme.test", "member")
		e.must(201, e.op, "POST", "/api/v1/organizations/globex/members", map[string]any{ // the same account, linked
			"email": "gone@acme.test", "role": "member", "send_invite": false})
		own := e.login("own@acme.test", pw)
		gone := e.login("gone@acme.test", pw)
		problem(t, e.call(own, "DELETE", "/api/v1/accounts/"+accountID(m), nil), 403, "forbidden")
		e.must(204, e.op, "DELETE", "/api/v1/accounts/"+accountID(m), nil)
		problem(t, e.call(gone, "GET", "/api/v1/me", nil), 401, "unauthenticated")
		for _, org := range []string{"acme", "globex"} {
			e.must(404, e.op, "GET", "/api/v1/organizations/"+org+"/members/"+accountID(m), nil)
		}
		problem(t, e.call(e.op, "DELETE", "/api/v1/accounts/"+accountID(m), nil), 404, "not-found")
		platform := e.must(200, e.op, "GET", "/api/v1/audit", nil)
		var actions []string
		for _, it := range platform["items"].([]any) {
			actions = append(actions, it.(map[string]any)["action"].(string))
		}
		sort.Strings(actions)
		if i := sort.SearchStrings(actions, "account.deleted"); i == len(actions) || actions[i] != "account.deleted" {
			t.Errorf("platform audit = %v, want account.deleted", actions)
		}
	})
}

// TestLastOwnerConcurrent: two owners demoting each other at the same moment leave
// one owner, on both engines (PostgreSQL locks the organization row for the check).
func TestLastOwnerConcurrent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		for round := range 5 {
			a := e.member(e.op, "acme", fmt.Sprintf("a%d@acme.test", round), "owner")
			b := e.member(e.op, "acme", fmt.Sprintf("b%d@acme.test", round), "owner")
			// Only a and b are owners: demote every other owner first.
			list := e.must(200, e.op, "GET", "/api/v1/organizations/acme/members?role=owner", nil)
			for _, it := range list["items"].([]any) {
				id := it.(map[string]any)["account"].(map[string]any)["id"].(string)
				if id != accountID(a) && id != accountID(b) {
					e.must(200, e.op, "PATCH", "/api/v1/organizations/acme/members/"+id, map[string]any{"role": "member"})
				}
			}
			var wg sync.WaitGroup
			statuses := make([]int, 2)
			for i, m := range []map[string]any{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses[i] = e.call(e.op, "PATCH", "/api/v1/organizations/acme/members/"+accountID(m), map[string]any{"role": "admin"}).Status
				}()
			}
			wg.Wait()
			slices.Sort(statuses)
			if !slices.Equal(statuses, []int{200, 409}) {
				t.Fatalf("round %d: concurrent demotions = %v, want one 200 and one 409", round, statuses)
			}
			owners := e.must(200, e.op, "GET", "/api/v1/organizations/acme/members?role=owner", nil)
			if owners["total"] != 1.0 {
				t.Fatalf("round %d: %v owners left", round, owners["total"])
			}
		}
	})
}
