package httpapi_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestRequiredProfileFieldsAPI: PATCH …/organizations/{org} sets
// required_profile_fields (organization.manage, decided before the body is looked
// at), refuses anything but a subset of phone and username naming the field, the
// organization's view shows it, and POST …/members then requires the phone.
func TestRequiredProfileFieldsAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.member(e.op, "acme", "mem@acme.test", "member")
		mem := e.login("mem@acme.test", pw)
		org := "/api/v1/organizations/acme"
		if got := e.must(200, e.op, "GET", org, nil)["required_profile_fields"]; !slices.Equal(strs(got), []string{}) || got == nil {
			t.Errorf("a new organization's required_profile_fields = %#v, want []", got)
		}
		problem(t, e.call(mem, "PATCH", org, map[string]any{"required_profile_fields": []string{"fax"}}), 403, "forbidden")
		for _, bad := range []any{[]string{"fax"}, []string{"phone", "phone"}, []string{"email"}} {
			problem(t, e.call(e.op, "PATCH", org, map[string]any{"required_profile_fields": bad}), 422, "validation", "required_profile_fields")
		}
		problem(t, e.call(e.op, "PATCH", org, map[string]any{"required_profile_fields": "phone"}), 422, "validation", "required_profile_fields")
		got := e.must(200, e.op, "PATCH", org, map[string]any{"required_profile_fields": []string{"username", "phone"}})
		if !slices.Equal(strs(got["required_profile_fields"]), []string{"phone", "username"}) {
			t.Errorf("PATCH answered required_profile_fields %v", got["required_profile_fields"])
		}
		if got := e.must(200, e.op, "GET", org, nil)["required_profile_fields"]; !slices.Equal(strs(got), []string{"phone", "username"}) {
			t.Errorf("GET required_profile_fields = %v", got)
		}
		problem(t, e.call(e.op, "POST", org+"/members", map[string]any{"email": "new@acme.test", "first_name": "N", "last_name": "A",
			"send_invite": false, "password": pw}), 422, "validation", "phone", "username")
		e.must(201, e.op, "POST", org+"/members", map[string]any{"email": "new@acme.test", "first_name": "N", "last_name": "A",
			"phone": "+14155550100", "username": "newbie", "send_invite": false, "password": pw})
		e.must(201, e.op, "POST", org+"/members", map[string]any{"email": "invitee@acme.test", "send_invite": true})
		if got := e.must(200, e.op, "PATCH", org, map[string]any{"required_profile_fields": []string{}})["required_profile_fields"]; len(strs(got)) != 0 {
			t.Errorf("cleared, required_profile_fields = %v", got)
		}
	})
}

// strs is a JSON array of strings as []string (nil for anything else).
func strs(v any) []string {
	arr, ok := v.([]any)
	if !ok {
		return nil
	}
	out := []string{}
	for _, x := range arr {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestAcceptRequiredFields: an invitee into an organization that requires phone and
// username is told so by the preview (required_fields, only the fields the account
// lacks), and the accept is refused with 422 naming each missing field — beside any
// other bad field, at once — until they are given; nothing is accepted meanwhile.
// Given, they are on the account, audited on the platform's trail. An existing
// account accepting with its session completes only what it lacks; a value it has
// already is not changed here; a username another account holds is 409.
func TestAcceptRequiredFields(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.org("globex", "")
		e.must(200, e.op, "PATCH", "/api/v1/organizations/acme", map[string]any{"required_profile_fields": []string{"phone", "username"}})
		e.member(e.op, "acme", "ada@acme.test", "admin", map[string]any{"phone": "+14155550101", "username": "ada"})
		ada := e.login("ada@acme.test", pw)

		// A person new to Roster.
		e.must(201, ada, "POST", "/api/v1/organizations/acme/members", map[string]any{"email": "new@acme.test", "send_invite": true})
		token := e.link("invitation", "new@acme.test")
		p := e.must(200, "", "GET", "/api/v1/invitations/"+token, nil)
		if got := strs(p["required_fields"]); !slices.Equal(got, []string{"phone", "username"}) {
			t.Fatalf("preview required_fields = %v, want [phone username]", p["required_fields"])
		}
		r := e.call("", "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{"first_name": "Nia", "last_name": "New", "password": "short"})
		problem(t, r, 422, "validation", "password", "phone", "username")
		if !strings.Contains(r.Raw, "is required by Acme") {
			t.Errorf("the refusal does not say who requires the fields:\n%s", r.Raw)
		}
		problem(t, e.call("", "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{"first_name": "Nia", "last_name": "New",
			"password": pw, "phone": "not a phone", "username": "nia"}), 422, "validation", "phone")
		// The username ada holds.
		problem(t, e.call("", "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{"first_name": "Nia", "last_name": "New",
			"password": pw, "phone": "+14155550102", "username": "ADA"}), 409, "conflict", "username")
		// Refused every time, nothing was accepted: the link still works.
		e.must(200, "", "GET", "/api/v1/invitations/"+token, nil)
		acc := e.must(200, "", "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{"first_name": "Nia", "last_name": "New",
			"password": pw, "phone": "+1 415 555 0102", "username": "nia"})
		a := acc["account"].(map[string]any)
		if a["phone"] != "+14155550102" || a["username"] != "nia" || a["state"] != "active" {
			t.Errorf("accepted account = %v", a)
		}
		var updated bool
		for _, ev := range e.must(200, e.op, "GET", "/api/v1/audit?limit=500", nil)["items"].([]any) {
			ev := ev.(map[string]any)
			if ev["action"] == "account.updated" && ev["target"].(map[string]any)["id"] == a["id"] {
				updated = strings.Contains(fmtJSON(ev["after"]), "+14155550102")
			}
		}
		if !updated {
			t.Error("the profile completed on acceptance is not on the platform's audit trail")
		}

		// An existing account with a phone already, accepting with its session: only
		// the username is asked for.
		e.person("globex", "gus@globex.test", "member")
		gus := e.login("gus@globex.test", pw)
		e.must(200, gus, "PATCH", "/api/v1/me", map[string]any{"phone": "+14155550103"})
		e.must(201, ada, "POST", "/api/v1/organizations/acme/members", map[string]any{"email": "gus@globex.test", "send_invite": true})
		token = e.link("invitation", "gus@globex.test")
		if got := strs(e.must(200, "", "GET", "/api/v1/invitations/"+token, nil)["required_fields"]); !slices.Equal(got, []string{"username"}) {
			t.Fatalf("gus's preview required_fields = %v, want [username]", got)
		}
		problem(t, e.call(gus, "POST", "/api/v1/invitations/"+token+"/accept", nil), 422, "validation", "username")
		problem(t, e.call(gus, "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{"username": "gus", "phone": "+14155550199"}), 422, "validation", "phone")
		acc = e.must(200, gus, "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{"username": "gus", "phone": "+1 415 555 0103"})
		if a := acc["account"].(map[string]any); a["username"] != "gus" || a["phone"] != "+14155550103" {
			t.Errorf("gus after accepting = %v", a)
		}

		// An organization that requires nothing: no field asked for, and none needed.
		e.must(201, e.op, "POST", "/api/v1/organizations/globex/members", map[string]any{"email": "hal@globex.test", "send_invite": true})
		token = e.link("invitation", "hal@globex.test")
		if got := e.must(200, "", "GET", "/api/v1/invitations/"+token, nil)["required_fields"]; got == nil || len(strs(got)) != 0 {
			t.Errorf("globex's preview required_fields = %#v, want []", got)
		}
		e.must(200, "", "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{"first_name": "Hal", "last_name": "H", "password": pw})
	})
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
