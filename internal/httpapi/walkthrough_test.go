package httpapi_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWalkthrough follows the README: the operator sets up a partner and an
// organization with an admin; the admin adds people, gives them roles and teams,
// finds them, deactivates, reactivates and removes them.
func TestWalkthrough(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		partner := e.org("northwind", "-")
		if partner["kind"] != "partner" || partner["parent"] != nil {
			t.Fatalf("partner = %v", partner)
		}
		org := e.org("acme", "northwind")
		if org["parent"] != partner["id"] || org["invitation_ttl_hours"] != 168.0 || org["ending_soon_days"] != 30.0 {
			t.Fatalf("organization = %v", org)
		}
		e.must(200, e.op, "PATCH", "/api/v1/organizations/acme", map[string]any{"invitation_ttl_hours": 24})

		admin := e.member(e.op, "acme", "ada@acme.test", "admin", map[string]any{"phone": "+49 (30) 123-4567"})
		if admin["state"] != "active" || admin["role"] != "admin" || admin["account"].(map[string]any)["phone"] != "+49301234567" {
			t.Fatalf("admin = %v", admin)
		}
		ada := e.login("ada@acme.test", pw)
		me := e.must(200, ada, "GET", "/api/v1/me", nil)
		ms := me["memberships"].([]any)
		if len(ms) != 1 || ms[0].(map[string]any)["role"] != "admin" {
			t.Fatalf("me = %v", me)
		}

		e.must(201, ada, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Sales"})
		e.must(201, ada, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Support"})
		bob := e.member(ada, "acme", "bob@acme.test", "member", map[string]any{"teams": []string{"sales"}})
		if d := cmp.Diff([]any{"Sales"}, bob["teams"]); d != "" {
			t.Errorf("team names are canonical (-want +got):\n%s", d)
		}
		cat := e.member(ada, "acme", "cat@acme.test", "member", map[string]any{"username": "cat"})
		dan := e.member(ada, "acme", "dan@acme.test", "member")

		// Role and teams.
		e.must(200, ada, "PATCH", "/api/v1/organizations/acme/members/"+accountID(cat),
			map[string]any{"role": "admin", "teams": []string{"Support", "Sales"}})

		// Search and filter.
		list := func(query string) []string {
			return emails(e.must(200, ada, "GET", "/api/v1/organizations/acme/members"+query, nil))
		}
		for query, want := range map[string][]string{
			"":                    {"ada@acme.test", "bob@acme.test", "cat@acme.test", "dan@acme.test"},
			"?q=CAT":              {"cat@acme.test"},
			"?q=fda":              {"dan@acme.test"}, // first name "Fda"
			"?role=admin":         {"ada@acme.test", "cat@acme.test"},
			"?team=sales":         {"bob@acme.test", "cat@acme.test"},
			"?team=support&q=cat": {"cat@acme.test"},
			"?state=deactivated":  nil,
		} {
			got := list(query)
			slices.Sort(got)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("members%s (-want +got):\n%s", query, d)
			}
		}

		// Deactivate, reactivate, remove.
		path := "/api/v1/organizations/acme/members/" + accountID(dan)
		if m := e.must(200, ada, "POST", path+"/deactivate", nil); m["state"] != "deactivated" {
			t.Errorf("after deactivate: %v", m["state"])
		}
		if got := list("?state=deactivated"); !slices.Equal(got, []string{"dan@acme.test"}) {
			t.Errorf("deactivated = %v", got)
		}
		if m := e.must(200, ada, "POST", path+"/reactivate", nil); m["state"] != "active" {
			t.Errorf("after reactivate: %v", m["state"])
		}
		e.must(204, ada, "DELETE", path, nil)
		e.must(404, ada, "GET", path, nil)
		res := e.must(200, ada, "POST", "/api/v1/organizations/acme/members/remove",
			map[string]any{"accounts": []string{accountID(bob), accountID(dan)}})
		results := res["results"].([]any)
		if results[0].(map[string]any)["status"] != "removed" || results[1].(map[string]any)["status"] != "failed" {
			t.Errorf("bulk remove results = %v", results)
		}

		sum := e.must(200, ada, "GET", "/api/v1/organizations/acme/summary", nil)
		if d := cmp.Diff(map[string]any{"total": 2.0, "active": 2.0, "invited": 0.0, "deactivated": 0.0}, sum["members"]); d != "" {
			t.Errorf("summary (-want +got):\n%s", d)
		}

		// The audit trail has every change, newest first.
		audit := e.must(200, ada, "GET", "/api/v1/organizations/acme/audit?limit=500", nil)
		var actions []string
		for _, it := range audit["items"].([]any) {
			actions = append(actions, it.(map[string]any)["action"].(string))
		}
		for _, want := range []string{"organization.created", "organization.updated", "member.added", "team.created",
			"member.updated", "member.deactivated", "member.reactivated", "member.removed"} {
			if !slices.Contains(actions, want) {
				t.Errorf("audit has no %s: %v", want, actions)
			}
		}
		if int(audit["total"].(float64)) != len(actions) {
			t.Errorf("audit total = %v, items %d", audit["total"], len(actions))
		}
		first := audit["items"].([]any)[0].(map[string]any)
		if first["actor"].(map[string]any)["email"] != "ada@acme.test" || first["ip"] == "" {
			t.Errorf("newest event = %v", first)
		}

		// The partner's admin acts in the organization under it.
		e.member(e.op, "northwind", "pat@northwind.test", "admin")
		pat := e.login("pat@northwind.test", pw)
		e.must(200, pat, "GET", "/api/v1/organizations/acme/members", nil)
		orgs := e.must(200, pat, "GET", "/api/v1/organizations", nil)
		if orgs["total"] != 2.0 {
			t.Errorf("partner admin sees %v organizations, want the partner and acme", orgs["total"])
		}
		// Logout revokes the session.
		e.must(204, ada, "POST", "/api/v1/auth/logout", nil)
		problem(t, e.call(ada, "GET", "/api/v1/me", nil), 401, "unauthenticated")
	})
}

// TestMemberPaging walks the member list page by page: every member once, in a
// stable order, each page with the total of the first, also when members join
// between pages.
func TestMemberPaging(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		for i := range 7 {
			e.member(e.op, "acme", fmt.Sprintf("p%d@acme.test", i), "member")
		}
		seen := map[string]bool{}
		cursor := ""
		for page := 0; ; page++ {
			path := "/api/v1/organizations/acme/members?limit=3"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			body := e.must(200, e.op, "GET", path, nil)
			if body["total"] != 7.0 {
				t.Errorf("page %d: total = %v, want 7", page, body["total"])
			}
			for _, em := range emails(body) {
				if seen[em] {
					t.Errorf("page %d repeats %s", page, em)
				}
				seen[em] = true
			}
			if page == 0 {
				// A member added now sorts after every existing one (ids grow).
				e.member(e.op, "acme", "late@acme.test", "member")
			}
			next, _ := body["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		if len(seen) != 8 || !seen["late@acme.test"] {
			t.Errorf("saw %d members: %v", len(seen), seen)
		}
		if got := e.must(200, e.op, "GET", "/api/v1/organizations/acme/members?limit=3", nil)["total"]; got != 8.0 {
			t.Errorf("a new first page counts again: total = %v, want 8", got)
		}
	})
}

// TestOrganizations: partners, their organizations, who may create, see and delete them.
func TestOrganizations(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("northwind", "-")
		e.org("acme", "northwind")
		e.org("solo", "")
		e.member(e.op, "northwind", "pat@northwind.test", "owner")
		pat := e.login("pat@northwind.test", pw)

		// A partner's owner creates organizations under it, not partners or orphans.
		created := e.must(201, pat, "POST", "/api/v1/organizations", map[string]any{"name": "Globex Ltd", "kind": "organization", "parent": "northwind"})
		if created["slug"] != "globex-ltd" {
			t.Errorf("derived slug = %v", created["slug"])
		}
		problem(t, e.call(pat, "POST", "/api/v1/organizations", map[string]any{"name": "P2", "kind": "partner"}), 403, "forbidden")
		problem(t, e.call(pat, "POST", "/api/v1/organizations", map[string]any{"name": "Orphan", "kind": "organization"}), 403, "forbidden")
		// Another tenant as parent reads as no partner at all.
		problem(t, e.call(pat, "POST", "/api/v1/organizations", map[string]any{"name": "X", "kind": "organization", "parent": "solo"}), 422, "validation", "parent")
		problem(t, e.call(pat, "POST", "/api/v1/organizations", map[string]any{"name": "X", "kind": "organization", "parent": "nope"}), 422, "validation", "parent")

		// Listing: what each caller may see, with filters.
		count := func(token, query string) any {
			return e.must(200, token, "GET", "/api/v1/organizations"+query, nil)["total"]
		}
		for _, c := range []struct {
			token, query string
			want         float64
		}{
			{e.op, "", 4}, {e.op, "?kind=partner", 1}, {e.op, "?parent=northwind", 2}, {e.op, "?q=GLOB", 1},
			{pat, "", 3}, {pat, "?q=solo", 0}, {pat, "?kind=organization", 2},
		} {
			if got := count(c.token, c.query); got != c.want {
				t.Errorf("organizations%s = %v, want %v", c.query, got, c.want)
			}
		}

		// Settings are checked; a slug change keeps the id.
		upd := e.must(200, pat, "PATCH", "/api/v1/organizations/globex-ltd", map[string]any{"slug": "globex", "ending_soon_days": 14})
		if upd["id"] != created["id"] || upd["ending_soon_days"] != 14.0 {
			t.Errorf("updated = %v", upd)
		}
		problem(t, e.call(pat, "PATCH", "/api/v1/organizations/globex", map[string]any{"ending_soon_days": 400}), 422, "validation", "ending_soon_days")

		// Deleting: a partner with organizations refuses; the partner's owner deletes
		// an organization under it; its members' accounts survive.
		e.member(e.op, "globex", "gus@globex.test", "member")
		problem(t, e.call(e.op, "DELETE", "/api/v1/organizations/northwind", nil), 409, "conflict")
		problem(t, e.call(pat, "DELETE", "/api/v1/organizations/northwind", nil), 403, "forbidden")
		e.must(204, pat, "DELETE", "/api/v1/organizations/globex", nil)
		problem(t, e.call(e.op, "GET", "/api/v1/organizations/globex", nil), 404, "not-found")
		e.login("gus@globex.test", pw)

		// An existing account joins another organization with its email alone.
		m := e.must(201, e.op, "POST", "/api/v1/organizations/solo/members", map[string]any{"email": "GUS@globex.test", "send_invite": false})
		if a := m["account"].(map[string]any); a["first_name"] != "Fgu" || a["email"] != "gus@globex.test" || m["role"] != "member" {
			t.Errorf("linked member = %v", m)
		}
	})
}
