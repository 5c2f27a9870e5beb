package httpapi_test

import (
	"slices"
	"strings"
	"testing"
)

// TestOwnJoinRequestsAndLeave: GET /api/v1/me/join-requests lists the caller's own
// requests only; POST …/cancel withdraws one's own pending request (200, cancelled),
// another account's is 404 and stays pending, a second cancel is 409; DELETE
// /api/v1/me/memberships/{org} leaves (204), with the confirmation and the admins'
// email in the outbox; the last active owner is 409 with the reason; an
// organization one is not in is 404.
func TestOwnJoinRequestsAndLeave(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.org("globex", "")
		e.member(e.op, "acme", "own@acme.test", "owner")
		e.member(e.op, "acme", "adm@acme.test", "admin")
		e.member(e.op, "acme", "mem@acme.test", "member")
		e.person("globex", "joe@globex.test", "member")
		e.person("globex", "kim@globex.test", "member")
		joe, kim := e.login("joe@globex.test", pw), e.login("kim@globex.test", pw)
		adm, mem, own := e.login("adm@acme.test", pw), e.login("mem@acme.test", pw), e.login("own@acme.test", pw)

		jr := e.must(201, joe, "POST", "/api/v1/organizations/acme/join-requests", map[string]any{"message": "Lisbon"})
		kr := e.must(201, kim, "POST", "/api/v1/organizations/acme/join-requests", nil)
		l := e.must(200, joe, "GET", "/api/v1/me/join-requests", nil)
		items := l["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("joe's requests = %v, want his one", l)
		}
		if it := items[0].(map[string]any); it["id"] != jr["id"] || it["state"] != "pending" ||
			it["organization"].(map[string]any)["slug"] != "acme" || it["message"] != "Lisbon" {
			t.Errorf("joe's request = %v", it)
		}
		if l := e.must(200, mem, "GET", "/api/v1/me/join-requests", nil); len(l["items"].([]any)) != 0 {
			t.Errorf("mem asked for nothing: %v", l)
		}

		kid := kr["id"].(string)
		problem(t, e.call(joe, "POST", "/api/v1/me/join-requests/"+kid+"/cancel", nil), 404, "not-found")
		problem(t, e.call(adm, "POST", "/api/v1/me/join-requests/"+kid+"/cancel", nil), 404, "not-found")
		if p := e.must(200, adm, "GET", "/api/v1/organizations/acme/join-requests?status=pending", nil); p["total"] != 2.0 {
			t.Errorf("after the refused cancellations, pending = %v", p)
		}
		c := e.must(200, joe, "POST", "/api/v1/me/join-requests/"+jr["id"].(string)+"/cancel", nil)
		if c["state"] != "cancelled" || c["decided_at"] == nil || c["organization"].(map[string]any)["name"] != "Acme" {
			t.Errorf("cancelled = %v", c)
		}
		problem(t, e.call(joe, "POST", "/api/v1/me/join-requests/"+jr["id"].(string)+"/cancel", nil), 409, "conflict")
		if p := e.must(200, adm, "GET", "/api/v1/organizations/acme/join-requests?status=pending", nil); p["total"] != 1.0 {
			t.Errorf("after the cancellation, pending = %v", p)
		}
		audit := e.must(200, adm, "GET", "/api/v1/organizations/acme/audit", nil)
		if first := audit["items"].([]any)[0].(map[string]any); first["action"] != "join_request.cancelled" {
			t.Errorf("newest audit event = %v, want join_request.cancelled", first)
		}

		before := len(e.outbox())
		r := e.call(mem, "DELETE", "/api/v1/me/memberships/acme", nil)
		if r.Status != 204 {
			t.Fatalf("leave = %d\n%s", r.Status, r.Raw)
		}
		sent := e.outbox()[before:]
		for _, want := range []string{"member.left mem@acme.test", "member.left.admin adm@acme.test", "member.left.admin own@acme.test"} {
			if !slices.Contains(sent, want) {
				t.Errorf("emails of the leave = %v, lack %q", sent, want)
			}
		}
		problem(t, e.call(mem, "DELETE", "/api/v1/me/memberships/acme", nil), 404, "not-found")
		problem(t, e.call(joe, "DELETE", "/api/v1/me/memberships/acme", nil), 404, "not-found")
		r = e.call(own, "DELETE", "/api/v1/me/memberships/acme", nil)
		problem(t, r, 409, "conflict")
		if d, _ := r.Body["detail"].(string); !strings.Contains(d, "last active owner") {
			t.Errorf("the last owner's refusal says %q", d)
		}
		if m := e.must(200, adm, "GET", "/api/v1/organizations/acme/members?q=own@acme.test", nil); m["total"] != 1.0 {
			t.Errorf("the owner after the refused leave: %v", m)
		}
	})
}
