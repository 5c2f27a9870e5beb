package scim_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestProvisioningInvitesOthersAccounts: gamma's identity provider provisions
// cfo@gamma.test, whose account acme's admin planted with a password of their own.
// The user is created (201, active, as Entra and Okta expect), but the membership is
// invited and cfo is emailed an invitation: no silent link. The account's names stay
// hidden from gamma until cfo accepts; the names the identity provider gives are
// kept with the membership, not written to an account gamma does not manage.
func TestProvisioningInvitesOthersAccounts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme")
		tok := e.org("gamma")
		e.member("acme", "cfo@gamma.test", "member") // planted: "F L", password pw, managed by acme
		attacker := e.login("cfo@gamma.test", pw)

		u := e.must(201, tok, "POST", "/scim/v2/organizations/gamma/Users", user("cfo@gamma.test", map[string]any{
			"name": map[string]any{"givenName": "Carla", "familyName": "Fox"}}))
		id := u["id"].(string)
		if u["active"] != true || u["name"].(map[string]any)["givenName"] != "Carla" {
			t.Errorf("created user = %v", u)
		}
		m := e.must(200, e.op, "GET", "/api/v1/organizations/gamma/members/"+id, nil)
		if m["state"] != "invited" {
			t.Fatalf("gamma's membership = %v, want invited", m)
		}
		if !slices.Contains(e.outbox(), "invitation cfo@gamma.test") {
			t.Errorf("outbox = %v, want an invitation to cfo", e.outbox())
		}
		// The planted password reaches nothing in gamma.
		if r := e.call(attacker, "GET", "/api/v1/organizations/gamma/members", nil); r.Status != 404 {
			t.Errorf("the planted account in gamma: %d", r.Status)
		}
		// The account keeps its names; gamma's view of them is the IdP's.
		acct := e.must(200, e.op, "GET", "/api/v1/organizations/acme/members/"+id, nil)["account"].(map[string]any)
		if acct["first_name"] != "F" || acct["last_name"] != "L" {
			t.Errorf("the account's names = %v, want its own", acct)
		}
		// A filter finds what a read shows, and nothing it hides.
		for filter, want := range map[string]float64{`name.givenName eq "Carla"`: 1, `name.givenName eq "F"`: 0, `displayName eq "F L"`: 0} {
			got := e.must(200, tok, "GET", "/scim/v2/organizations/gamma/Users?filter="+url.QueryEscape(filter), nil)
			if got["totalResults"] != want {
				t.Errorf("filter %s: %v results, want %v", filter, got["totalResults"], want)
			}
		}
		raw := e.call(tok, "GET", "/scim/v2/organizations/gamma/Users/"+id, nil).Raw
		if strings.Contains(raw, `"F L"`) || strings.Contains(raw, `"givenName":"F"`) {
			t.Errorf("gamma's SCIM view shows the account's names: %s", raw)
		}
		// In a group, an invitee shows by email, not by the account's names.
		g := e.must(201, tok, "POST", "/scim/v2/organizations/gamma/Groups", map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Finance",
			"members": []any{map[string]any{"value": id}}})
		if got := e.must(200, tok, "GET", "/scim/v2/organizations/gamma/Groups/"+g["id"].(string), nil)["members"].([]any); len(got) != 1 ||
			got[0].(map[string]any)["display"] != "cfo@gamma.test" {
			t.Errorf("group members = %v", got)
		}
		// A rename from the IdP stays with the membership.
		if u := patchUser(e, tok, "gamma", id, "name.familyName", "Fuchs"); u["name"].(map[string]any)["familyName"] != "Fuchs" {
			t.Errorf("after the IdP's rename = %v", u)
		}
		acct = e.must(200, e.op, "GET", "/api/v1/organizations/acme/members/"+id, nil)["account"].(map[string]any)
		if acct["last_name"] != "L" {
			t.Errorf("an IdP's rename reached the account: %v", acct)
		}
		// Deactivated by the IdP: the invitation is withdrawn; activated: a new one.
		before := len(e.outbox())
		u = patchUser(e, tok, "gamma", id, "active", false)
		if u["active"] != false {
			t.Errorf("after active false = %v", u)
		}
		if inv := e.must(200, e.op, "GET", "/api/v1/organizations/gamma/members/"+id, nil)["invitation"]; inv != nil {
			t.Errorf("the invitation survived the IdP's deactivation: %v", inv)
		}
		u = patchUser(e, tok, "gamma", id, "active", true)
		if u["active"] != true || len(e.outbox()) != before+1 {
			t.Errorf("after active true = %v, outbox %v", u, e.outbox())
		}
	})
}

// TestProvisioningOwnAccounts: an account gamma's identity provider created is
// gamma's to manage: a PATCH of its names reaches the account.
func TestProvisioningOwnAccounts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tok := e.org("gamma")
		u := e.must(201, tok, "POST", "/scim/v2/organizations/gamma/Users", user("new@gamma.test", nil))
		id := u["id"].(string)
		m := e.must(200, e.op, "GET", "/api/v1/organizations/gamma/members/"+id, nil)
		if m["state"] != "active" || m["account"].(map[string]any)["managed"] != true {
			t.Fatalf("provisioned member = %v", m)
		}
		patchUser(e, tok, "gamma", id, "name.givenName", "Nora")
		if a := e.must(200, e.op, "GET", "/api/v1/organizations/gamma/members/"+id, nil)["account"].(map[string]any); a["first_name"] != "Nora" {
			t.Errorf("account = %v", a)
		}
	})
}

// patchUser replaces one attribute of a User by PATCH and returns the User as read
// back.
func patchUser(e *env, tok, org, id, path string, value any) map[string]any {
	e.t.Helper()
	users := "/scim/v2/organizations/" + org + "/Users/" + id
	r := e.call(tok, "PATCH", users, map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "replace", "path": path, "value": value}},
	})
	if r.Status != 200 && r.Status != 204 {
		e.t.Fatalf("PATCH %s = %d\n%s", users, r.Status, r.Raw)
	}
	return e.must(200, tok, "GET", users, nil)
}
