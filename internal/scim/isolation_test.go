package scim_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestIsolation: a SCIM token reaches its own organization's SCIM endpoint and
// nothing else; no other credential reaches the SCIM endpoint.
func TestIsolation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		acme := e.org("acme")
		globex := e.org("globex")
		g := e.must(201, globex, "POST", "/scim/v2/organizations/globex/Users", user("g@globex.test", nil))["id"].(string)
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		appKey := e.must(201, e.op, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "k"})["key"].(string)
		session := e.op

		for _, c := range []struct {
			name, token, method, path string
		}{
			{"A's token on B's users", acme, "GET", "/scim/v2/organizations/globex/Users"},
			{"A's token on B's user", acme, "GET", "/scim/v2/organizations/globex/Users/" + g},
			{"A's token deleting B's user", acme, "DELETE", "/scim/v2/organizations/globex/Users/" + g},
			{"A's token on B by id", acme, "GET", "/scim/v2/organizations/" + orgID(e, "globex") + "/Groups"},
			{"A's token on an unknown organization", acme, "GET", "/scim/v2/organizations/nowhere/Users"},
			{"a session", session, "GET", "/scim/v2/organizations/acme/Users"},
			{"an application key", appKey, "GET", "/scim/v2/organizations/acme/Users"},
			{"no token", "", "GET", "/scim/v2/organizations/acme/Users"},
			{"a forged token", "rc_" + strings.Repeat("A", 43), "GET", "/scim/v2/organizations/acme/Users"},
		} {
			r := e.call(c.token, c.method, c.path, nil)
			if r.Status != 401 {
				t.Errorf("%s: %s %s = %d, want 401\n%s", c.name, c.method, c.path, r.Status, r.Raw)
			}
		}
		// A's token on A's endpoint, for B's user: not found.
		scimError(t, e.call(acme, "GET", base+"/Users/"+g, nil), 404, "")
		scimError(t, e.call(acme, "DELETE", base+"/Users/"+g, nil), 404, "")

		// A SCIM token is no API credential, on any route.
		var doc struct {
			Paths map[string]map[string]any `json:"paths"`
		}
		if err := json.Unmarshal([]byte(e.call("", "GET", "/api/v1/openapi.json", nil).Raw), &doc); err != nil {
			t.Fatal(err)
		}
		routes := 0
		for path, ops := range doc.Paths {
			concrete := strings.NewReplacer("{org}", "acme", "{account}", g, "{token}", "x").Replace(path)
			for method, op := range ops {
				if sec, _ := op.(map[string]any)["security"].([]any); len(sec) == 0 {
					continue // public
				}
				routes++
				r := e.call(acme, strings.ToUpper(method), strings.NewReplacer("{", "", "}", "").Replace(concrete), map[string]any{})
				if r.Status != 401 && !(r.Status == 200 && strings.Contains(path, "accept")) {
					t.Errorf("SCIM token on %s %s = %d, want 401", method, path, r.Status)
				}
			}
		}
		if routes < 50 {
			t.Errorf("only %d routes checked", routes)
		}
		// Globex's user is untouched.
		e.must(200, globex, "GET", "/scim/v2/organizations/globex/Users/"+g, nil)

		// A revoked token stops at once; the list shows it with its last use.
		list := e.must(200, e.op, "GET", "/api/v1/organizations/acme/scim-tokens", nil)
		tok := list["items"].([]any)[0].(map[string]any)
		if tok["last_used_at"] == nil || tok["revoked_at"] != nil || list["total"] != 1.0 || tok["token"] != nil {
			t.Errorf("tokens = %v", list)
		}
		e.must(204, e.op, "DELETE", "/api/v1/organizations/acme/scim-tokens/"+tok["id"].(string), nil)
		if r := e.call(acme, "GET", base+"/Users", nil); r.Status != 401 {
			t.Errorf("revoked token = %d, want 401", r.Status)
		}
		if r := e.call(e.op, "DELETE", "/api/v1/organizations/acme/scim-tokens/"+tok["id"].(string), nil); r.Status != 404 {
			t.Errorf("revoking twice = %d, want 404", r.Status)
		}
		// Managing tokens needs organization.manage: an admin may not.
		e.member("acme", "adm@acme.test", "admin")
		adm := e.login("adm@acme.test", pw)
		if r := e.call(adm, "POST", "/api/v1/organizations/acme/scim-tokens", map[string]any{"description": "x"}); r.Status != 403 {
			t.Errorf("an admin creating a SCIM token = %d, want 403", r.Status)
		}
	})
}

func orgID(e *env, slug string) string {
	return e.must(200, e.op, "GET", "/api/v1/organizations/"+slug, nil)["id"].(string)
}

// TestAuditAndCeiling: SCIM writes are audited with the token as the actor, and the
// token acts with the admin role's permissions at most.
func TestAuditAndCeiling(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tok := e.org("acme")
		tokenID := e.must(200, e.op, "GET", "/api/v1/organizations/acme/scim-tokens", nil)["items"].([]any)[0].(map[string]any)["id"]
		u := e.must(201, tok, "POST", base+"/Users", user("ann@acme.test", nil))["id"].(string)
		e.must(200, tok, "PATCH", base+"/Users/"+u, map[string]any{"Operations": []any{
			map[string]any{"op": "replace", "path": "active", "value": false}}})
		grp := e.must(201, tok, "POST", base+"/Groups", map[string]any{"displayName": "Ops", "members": []any{map[string]any{"value": u}}})
		e.must(204, tok, "DELETE", base+"/Groups/"+grp["id"].(string), nil)
		e.must(204, tok, "DELETE", base+"/Users/"+u, nil)

		audit := e.must(200, e.op, "GET", "/api/v1/organizations/acme/audit", nil)
		var actions []string
		for _, it := range audit["items"].([]any) {
			ev := it.(map[string]any)
			actor, _ := ev["actor"].(map[string]any)
			if actor == nil || actor["id"] != tokenID {
				continue
			}
			if actor["email"] != "scim:acme IdP" {
				t.Errorf("actor = %v, want scim:acme IdP", actor)
			}
			actions = append(actions, ev["action"].(string))
		}
		for _, want := range []string{"member.added", "member.scim_updated", "member.deactivated", "team.created",
			"team.members_changed", "team.deleted", "member.removed"} {
			if !slices.Contains(actions, want) {
				t.Errorf("no %s event by the SCIM token; got %v", want, actions)
			}
		}

		// The role ceiling: no owner is made, and no owner is touched.
		r := e.call(tok, "POST", base+"/Users", user("boss@acme.test", map[string]any{"roles": []any{map[string]any{"value": "owner"}}}))
		scimError(t, r, 403, "")
		owner := e.member("acme", "own@acme.test", "owner")
		e.member("acme", "own2@acme.test", "owner")
		scimError(t, e.call(tok, "PATCH", base+"/Users/"+owner, map[string]any{"Operations": []any{
			map[string]any{"op": "replace", "path": "active", "value": false}}}), 403, "")
		scimError(t, e.call(tok, "DELETE", base+"/Users/"+owner, nil), 403, "")
		admin := e.must(201, tok, "POST", base+"/Users", user("adm@acme.test", map[string]any{"roles": []any{map[string]any{"value": "admin"}}}))
		if admin["roles"].([]any)[0].(map[string]any)["value"] != "admin" {
			t.Errorf("roles = %v", admin["roles"])
		}
	})
}

// TestActivationEmail: a new account gets a link to set its password unless the
// organization turned that off; an existing account joining gets none.
func TestActivationEmail(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tok := e.org("acme")
		e.must(201, tok, "POST", base+"/Users", user("new@acme.test", nil))
		if got := e.outbox(); !slices.Equal(got, []string{"account.activation new@acme.test"}) {
			t.Errorf("outbox = %v", got)
		}
		org := e.must(200, e.op, "PATCH", "/api/v1/organizations/acme", map[string]any{"scim_activation_email": false})
		if org["scim_activation_email"] != false {
			t.Errorf("organization = %v", org)
		}
		e.must(201, tok, "POST", base+"/Users", user("quiet@acme.test", nil))
		if got := e.outbox(); len(got) != 1 {
			t.Errorf("outbox = %v, want no second email", got)
		}
	})
}
