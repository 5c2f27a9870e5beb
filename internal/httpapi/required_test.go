package httpapi_test

import (
	"slices"
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
