package scim_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

func members(g map[string]any) []string {
	var out []string
	ms, _ := g["members"].([]any)
	for _, m := range ms {
		d, _ := m.(map[string]any)["display"].(string)
		out = append(out, m.(map[string]any)["value"].(string)+"="+d)
	}
	slices.Sort(out)
	return out
}

// TestGroups: SCIM groups are teams, with their members.
func TestGroups(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tok := e.org("acme")
		a := e.must(201, tok, "POST", base+"/Users", user("a@acme.test", nil))["id"].(string)
		b := e.must(201, tok, "POST", base+"/Users", user("b@acme.test", nil))["id"].(string)
		g := e.must(201, tok, "POST", base+"/Groups", map[string]any{"displayName": "Sales", "externalId": "g-1",
			"members": []any{map[string]any{"value": a, "display": "Ann"}, map[string]any{"value": "not-a-member"}}})
		id := g["id"].(string)
		if got := members(g); !slices.Equal(got, []string{a + "=Ann"}) || g["externalId"] != "g-1" {
			t.Errorf("group = %v", g)
		}
		// The team exists in the API, with its member.
		teams := e.must(200, e.op, "GET", "/api/v1/organizations/acme/teams", nil)
		if teams["total"] != 1.0 {
			t.Errorf("teams = %v", teams)
		}
		m := e.must(200, e.op, "GET", "/api/v1/organizations/acme/members/"+a, nil)
		if !slices.Equal(m["teams"].([]any), []any{"Sales"}) {
			t.Errorf("member teams = %v", m["teams"])
		}
		patch := func(ops ...map[string]any) map[string]any {
			return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
		}
		e.must(200, tok, "PATCH", base+"/Groups/"+id, patch(map[string]any{"op": "Add", "path": "members",
			"value": []any{map[string]any{"value": b, "displayName": "Bea"}}}))
		if got := members(e.must(200, tok, "GET", base+"/Groups/"+id, nil)); !slices.Equal(got, sorted(a+"=Ann", b+"=Bea")) {
			t.Errorf("after add: %v", got)
		}
		e.must(200, tok, "PATCH", base+"/Groups/"+id, patch(map[string]any{"op": "remove", "path": `members[value eq "` + a + `"]`}))
		if got := members(e.must(200, tok, "GET", base+"/Groups/"+id, nil)); !slices.Equal(got, []string{b + "=Bea"}) {
			t.Errorf("after remove: %v", got)
		}
		for _, c := range []struct {
			filter string
			want   float64
		}{
			{`displayName eq "sales"`, 1},
			{`members.value eq "` + b + `"`, 1},
			{`members.value eq "` + a + `"`, 0},
			{`externalId eq "g-1" and members pr`, -1},
			{`externalId eq "g-1"`, 1},
			{`members[value eq "` + b + `"]`, 1},
			{`members[value eq "` + a + `"] or displayName eq "nope"`, 0},
			{`members[display eq "x"]`, -1},
		} {
			r := e.call(tok, "GET", base+"/Groups?filter="+query(c.filter), nil)
			if c.want < 0 {
				scimError(t, r, 400, "invalidFilter")
				continue
			}
			if r.Status != 200 || r.Body["totalResults"] != c.want {
				t.Errorf("filter %s = %d %v, want %v", c.filter, r.Status, r.Body["totalResults"], c.want)
			}
		}
		e.must(200, tok, "PATCH", base+"/Groups/"+id, patch(map[string]any{"op": "remove", "path": "members"}))
		if got := members(e.must(200, tok, "GET", base+"/Groups/"+id, nil)); len(got) != 0 {
			t.Errorf("after remove-all: %v", got)
		}
		put := e.must(200, tok, "PUT", base+"/Groups/"+id, map[string]any{"displayName": "Sales EMEA",
			"members": []any{map[string]any{"value": a}}})
		if put["displayName"] != "Sales EMEA" || len(members(put)) != 1 || put["externalId"] != nil {
			t.Errorf("put = %v", put)
		}
		if g := e.must(200, tok, "GET", base+"/Groups/"+id+"?excludedAttributes=members", nil); g["members"] != nil {
			t.Errorf("excludedAttributes=members returned %v", g["members"])
		}
		scimError(t, e.call(tok, "POST", base+"/Groups", map[string]any{"displayName": "sales emea"}), 409, "uniqueness")
		scimError(t, e.call(tok, "POST", base+"/Groups", map[string]any{"members": []any{}}), 400, "invalidValue")
		e.must(204, tok, "DELETE", base+"/Groups/"+id, nil)
		scimError(t, e.call(tok, "GET", base+"/Groups/"+id, nil), 404, "")
		if l := e.must(200, tok, "GET", base+"/Groups", nil); l["totalResults"] != 0.0 {
			t.Errorf("groups left: %v", l)
		}
		// The members stay in the organization.
		e.must(200, e.op, "GET", "/api/v1/organizations/acme/members/"+a, nil)
	})
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// TestDiscovery: the discovery documents say what is supported.
func TestDiscovery(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tok := e.org("acme")
		spc := e.must(200, tok, "GET", base+"/ServiceProviderConfig", nil)
		if spc["patch"].(map[string]any)["supported"] != true || spc["bulk"].(map[string]any)["supported"] != false ||
			spc["sort"].(map[string]any)["supported"] != false || spc["filter"].(map[string]any)["supported"] != true {
			t.Errorf("ServiceProviderConfig = %v", spc)
		}
		rt := e.must(200, tok, "GET", base+"/ResourceTypes", nil)
		if rt["Resources"].([]any)[0].(map[string]any)["endpoint"] != "/Users" {
			t.Errorf("ResourceTypes = %v", rt)
		}
		e.must(200, tok, "GET", base+"/ResourceTypes/Group", nil)
		s := e.call(tok, "GET", base+"/Schemas", nil)
		if s.Status != 200 || !strings.Contains(s.Raw, "User Account") || !strings.Contains(s.Raw, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User") {
			t.Errorf("Schemas = %d %s", s.Status, s.Raw)
		}
		scimError(t, e.call(tok, "GET", base+"/Nope", nil), 404, "")
		scimError(t, e.call(tok, "POST", base+"/Schemas", nil), 405, "")
	})
}

// TestConcurrentPatches: identity providers send a group's member changes in
// parallel; none is lost.
func TestConcurrentPatches(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tok := e.org("acme")
		id := e.must(201, tok, "POST", base+"/Groups", map[string]any{"displayName": "All"})["id"].(string)
		var users []string
		for i := range 8 {
			users = append(users, e.must(201, tok, "POST", base+"/Users", user(fmt.Sprintf("u%d@acme.test", i), nil))["id"].(string))
		}
		var wg sync.WaitGroup
		for _, u := range users {
			wg.Go(func() {
				r := e.call(tok, "PATCH", base+"/Groups/"+id, map[string]any{"Operations": []any{
					map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": u}}}}})
				if r.Status != 200 {
					t.Errorf("PATCH = %d\n%s", r.Status, r.Raw)
				}
			})
		}
		wg.Wait()
		if got := members(e.must(200, tok, "GET", base+"/Groups/"+id, nil)); len(got) != len(users) {
			t.Errorf("members after %d parallel adds: %v", len(users), got)
		}
	})
}
