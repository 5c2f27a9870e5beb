package httpapi_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// subscribe gives org a subscription of app with seats, active from a day ago for
// the given duration.
func (e *env) subscribe(org, app string, seats int, lasts time.Duration) map[string]any {
	e.t.Helper()
	start := time.Now().Add(-24 * time.Hour).UTC()
	return e.must(201, e.op, "POST", "/api/v1/organizations/"+org+"/subscriptions", map[string]any{
		"application": app, "seats": seats, "starts_at": start, "ends_at": start.Add(lasts)})
}

func seatApps(member map[string]any) []string {
	var out []string
	for _, s := range member["seats"].([]any) {
		out = append(out, s.(map[string]any)["application"].(string))
	}
	return out
}

// TestSeats walks the seat items of the acceptance checklist: quota, cards and their
// filter, renewal, removal and deactivation.
func TestSeats(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("northwind", "-")
		e.org("acme", "northwind")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "support", "name": "Support"})
		e.member(e.op, "acme", "ada@acme.test", "admin")
		ada := e.login("ada@acme.test", pw)
		bob, cat, dan := e.member(ada, "acme", "bob@acme.test", "member"), e.member(ada, "acme", "cat@acme.test", "member"), e.member(ada, "acme", "dan@acme.test", "member")

		// Quotas are the operator's (or the partner's) to set, not the organization's.
		problem(t, e.call(ada, "POST", "/api/v1/organizations/acme/subscriptions", map[string]any{
			"application": "studio", "seats": 5, "starts_at": time.Now(), "ends_at": time.Now().Add(time.Hour)}), 403, "forbidden")
		sub := e.subscribe("acme", "studio", 2, 20*24*time.Hour)
		if sub["state"] != "active" || sub["available"] != 2.0 || !slices.Equal(toStrings(sub["badges"]), []string{"ending_soon"}) {
			t.Fatalf("subscription = %v", sub)
		}
		seats := "/api/v1/organizations/acme/subscriptions/" + sub["id"].(string) + "/seats/"

		// Assign within the quota; assigning again changes nothing; one more is refused.
		e.must(200, ada, "PUT", seats+accountID(bob), nil)
		e.must(200, ada, "PUT", seats+accountID(bob), nil)
		if got := e.must(200, ada, "PUT", seats+accountID(cat), nil); got["assigned"] != 2.0 || got["available"] != 0.0 {
			t.Errorf("after two seats: %v", got)
		}
		problem(t, e.call(ada, "PUT", seats+accountID(dan), nil), 409, "quota-exceeded")
		problem(t, e.call(ada, "PUT", seats+"not-a-member", nil), 404, "not-found")

		// The card: counts in the summary; clicking it filters the list to its holders.
		sum := e.must(200, ada, "GET", "/api/v1/organizations/acme/summary", nil)
		card := sum["subscriptions"].([]any)[0].(map[string]any)
		if card["assigned"] != 2.0 || card["available"] != 0.0 || card["application"] != "studio" {
			t.Errorf("summary card = %v", card)
		}
		for _, q := range []string{"?application=studio", "?subscription=" + sub["id"].(string)} {
			got := emails(e.must(200, ada, "GET", "/api/v1/organizations/acme/members"+q, nil))
			slices.Sort(got)
			if d := cmp.Diff([]string{"bob@acme.test", "cat@acme.test"}, got); d != "" {
				t.Errorf("members%s (-want +got):\n%s", q, d)
			}
		}
		problem(t, e.call(ada, "GET", "/api/v1/organizations/acme/members?application=nope", nil), 422, "validation", "application")
		if got := seatApps(e.must(200, ada, "GET", "/api/v1/organizations/acme/members/"+accountID(bob), nil)); !slices.Equal(got, []string{"studio"}) {
			t.Errorf("bob's seats = %v", got)
		}

		// The quota cannot drop below the seats assigned.
		subPath := "/api/v1/organizations/acme/subscriptions/" + sub["id"].(string)
		problem(t, e.call(e.op, "PATCH", subPath, map[string]any{"seats": 1}), 409, "conflict", "seats")
		e.must(200, e.op, "PATCH", subPath, map[string]any{"seats": 3})

		// Deactivating keeps the seat; removing frees it.
		e.must(200, ada, "POST", "/api/v1/organizations/acme/members/"+accountID(cat)+"/deactivate", nil)
		if got := e.must(200, ada, "GET", subPath, nil)["assigned"]; got != 2.0 {
			t.Errorf("after deactivation assigned = %v, want 2", got)
		}
		e.must(204, ada, "DELETE", "/api/v1/organizations/acme/members/"+accountID(cat), nil)
		if got := e.must(200, ada, "GET", subPath, nil)["assigned"]; got != 1.0 {
			t.Errorf("after removal assigned = %v, want 1", got)
		}

		// Renewal copies the seats; afterwards the two are independent.
		start := time.Now().Add(19 * 24 * time.Hour).UTC()
		renewed := e.must(201, e.op, "POST", subPath+"/renew", map[string]any{"seats": 5, "starts_at": start, "ends_at": start.Add(365 * 24 * time.Hour)})
		if renewed["assigned"] != 1.0 || renewed["state"] != "upcoming" || renewed["renewed_from"] != sub["id"] ||
			!slices.Equal(toStrings(renewed["badges"]), []string{"starting_soon"}) {
			t.Errorf("renewed = %v", renewed)
		}
		e.must(204, ada, "DELETE", seats+accountID(bob), nil)
		problem(t, e.call(ada, "DELETE", seats+accountID(bob), nil), 404, "not-found")
		renewedPath := "/api/v1/organizations/acme/subscriptions/" + renewed["id"].(string)
		if got := e.must(200, ada, "GET", renewedPath, nil)["assigned"]; got != 1.0 {
			t.Errorf("the renewal lost bob's seat when the old entry's was taken: assigned = %v", got)
		}
		problem(t, e.call(e.op, "POST", subPath+"/renew", map[string]any{"seats": -1, "starts_at": start, "ends_at": start.Add(time.Hour)}), 422, "validation", "seats")

		// Bulk: all or nothing.
		bulk := subPath + "/seats"
		problem(t, e.call(ada, "POST", bulk, map[string]any{"assign": []string{accountID(dan), "stranger"}}), 404, "not-found", "assign[1]")
		if got := e.must(200, ada, "GET", subPath, nil)["assigned"]; got != 0.0 {
			t.Errorf("a refused bulk request left %v seats", got)
		}
		e.member(ada, "acme", "eve@acme.test", "member")
		eve := e.member(ada, "acme", "fay@acme.test", "member")
		problem(t, e.call(ada, "POST", bulk, map[string]any{"assign": []string{accountID(dan), accountID(bob), accountID(eve), accountID(e.member(ada, "acme", "gus@acme.test", "member"))}}), 409, "quota-exceeded", "assign[3]")
		got := e.must(200, ada, "POST", bulk, map[string]any{"assign": []string{accountID(dan), accountID(eve)}, "unassign": []string{}})
		if got["assigned"] != 2.0 {
			t.Errorf("bulk assign: %v", got)
		}
		problem(t, e.call(ada, "POST", bulk, map[string]any{"assign": []string{accountID(dan)}, "unassign": []string{accountID(dan)}}), 422, "validation", "assign[0]")

		// Adding a person with an application gives them a seat at once.
		m := e.member(ada, "acme", "hal@acme.test", "member", map[string]any{"applications": []string{"studio"}})
		if !slices.Equal(seatApps(m), []string{"studio"}) {
			t.Errorf("hal's seats = %v", m["seats"])
		}
		problem(t, e.call(ada, "POST", "/api/v1/organizations/acme/members", map[string]any{"email": "ivy@acme.test", "first_name": "I", "last_name": "V",
			"send_invite": false, "password": pw, "applications": []string{"support"}}), 422, "validation", "applications[0]")

		// The audit log has every seat change.
		audit := e.must(200, ada, "GET", "/api/v1/organizations/acme/audit?limit=500", nil)
		var actions []string
		for _, it := range audit["items"].([]any) {
			actions = append(actions, it.(map[string]any)["action"].(string))
		}
		for _, want := range []string{"subscription.created", "subscription.updated", "subscription.renewed", "seat.assigned", "seat.unassigned"} {
			if !slices.Contains(actions, want) {
				t.Errorf("audit lacks %s", want)
			}
		}
	})
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestSeatRace: 64 clients race for a 100-seat subscription, and bulk requests race
// single ones: exactly 100 seats are taken, every other request is 409 quota-exceeded.
func TestSeatRace(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		sub := e.subscribe("acme", "studio", 100, 365*24*time.Hour)
		path := "/api/v1/organizations/acme/subscriptions/" + sub["id"].(string)
		var ids []string
		for i := range 160 {
			m := e.must(201, e.op, "POST", "/api/v1/organizations/acme/members", map[string]any{
				"email": fmt.Sprintf("m%03d@acme.test", i), "first_name": "M", "last_name": "M", "send_invite": false, "password": pw})
			ids = append(ids, accountID(m))
		}
		var mu sync.Mutex
		won, lost := 0, 0
		var wg sync.WaitGroup
		next := make(chan []string)
		go func() {
			for i := 0; i < len(ids); {
				if i%16 == 0 && i+4 <= len(ids) { // now and then a bulk request of four
					next <- ids[i : i+4]
					i += 4
				} else {
					next <- ids[i : i+1]
					i++
				}
			}
			close(next)
		}()
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for batch := range next {
					var r resp
					if len(batch) == 1 {
						r = e.call(e.op, "PUT", path+"/seats/"+batch[0], nil)
					} else {
						r = e.call(e.op, "POST", path+"/seats", map[string]any{"assign": batch})
					}
					mu.Lock()
					switch {
					case r.Status == 200:
						won += len(batch)
					case r.Status == 409 && r.Body["type"] == "https://roster.dev/problems/quota-exceeded":
						lost += len(batch)
					default:
						t.Errorf("seat request = %d %s", r.Status, r.Raw)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		got := e.must(200, e.op, "GET", path, nil)
		holders := e.must(200, e.op, "GET", "/api/v1/organizations/acme/members?limit=1&subscription="+sub["id"].(string), nil)["total"]
		if got["assigned"] != 100.0 || holders != 100.0 || won > 100 || won+lost != 160 {
			t.Errorf("assigned %v, holders %v, won %d, lost %d; want 100 seats taken", got["assigned"], holders, won, lost)
		}
	})
}

// TestSeatRequests: an admin asks for more seats; the operator approves (the quota
// rises) or denies (nothing changes); a decided request stays decided.
func TestSeatRequests(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		sub := e.subscribe("acme", "studio", 2, 365*24*time.Hour)
		e.member(e.op, "acme", "ada@acme.test", "admin")
		e.member(e.op, "acme", "mo@acme.test", "member")
		ada, mo := e.login("ada@acme.test", pw), e.login("mo@acme.test", pw)
		reqs := "/api/v1/organizations/acme/seat-requests"

		problem(t, e.call(mo, "POST", reqs, map[string]any{"application": "studio", "quantity": 3}), 403, "forbidden")
		problem(t, e.call(ada, "POST", reqs, map[string]any{"application": "studio", "quantity": 0}), 422, "validation", "quantity")
		problem(t, e.call(ada, "POST", reqs, map[string]any{"application": "nope", "quantity": 1}), 422, "validation", "application")
		r1 := e.must(201, ada, "POST", reqs, map[string]any{"application": "studio", "quantity": 3, "note": "new hires"})
		r2 := e.must(201, ada, "POST", reqs, map[string]any{"application": "studio", "quantity": 50})
		if r1["status"] != "pending" || r1["requested_by"].(map[string]any)["email"] != "ada@acme.test" {
			t.Fatalf("request = %v", r1)
		}

		problem(t, e.call(ada, "GET", "/api/v1/seat-requests", nil), 403, "forbidden")
		if got := e.must(200, e.op, "GET", "/api/v1/seat-requests?status=pending", nil)["total"]; got != 2.0 {
			t.Errorf("pending requests = %v", got)
		}
		problem(t, e.call(ada, "POST", "/api/v1/seat-requests/"+r1["id"].(string)+"/approve", map[string]any{}), 403, "forbidden")
		ok := e.must(200, e.op, "POST", "/api/v1/seat-requests/"+r1["id"].(string)+"/approve", map[string]any{"seats": 2})
		if ok["status"] != "approved" || ok["approved_seats"] != 2.0 || ok["subscription"] != sub["id"] {
			t.Errorf("approved = %v", ok)
		}
		if got := e.must(200, ada, "GET", "/api/v1/organizations/acme/subscriptions/"+sub["id"].(string), nil)["seats"]; got != 4.0 {
			t.Errorf("quota after approval = %v, want 4", got)
		}
		e.must(200, e.op, "POST", "/api/v1/seat-requests/"+r2["id"].(string)+"/deny", nil)
		problem(t, e.call(e.op, "POST", "/api/v1/seat-requests/"+r2["id"].(string)+"/approve", nil), 409, "conflict")
		if got := e.must(200, ada, "GET", "/api/v1/organizations/acme/subscriptions/"+sub["id"].(string), nil)["seats"]; got != 4.0 {
			t.Errorf("quota after denial = %v, want 4", got)
		}
		mine := e.must(200, ada, "GET", reqs+"?status=denied", nil)
		if mine["total"] != 1.0 {
			t.Errorf("denied requests of acme = %v", mine)
		}
		problem(t, e.call(e.op, "POST", "/api/v1/seat-requests/nope/deny", nil), 404, "not-found")
	})
}

// TestAddMemberRequestSeats: POST …/members with request_seats adds the person
// without the seat none is left of and files a request for one more in the same
// answer's transaction; a member without seats.request is 403 before the body is
// read; an application both given and requested is 422 naming request_seats.
func TestAddMemberRequestSeats(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		e.subscribe("acme", "studio", 1, 365*24*time.Hour)
		e.member(e.op, "acme", "ada@acme.test", "admin", map[string]any{"applications": []string{"studio"}})
		e.member(e.op, "acme", "mem@acme.test", "member")
		ada, mem := e.login("ada@acme.test", pw), e.login("mem@acme.test", pw)
		members := "/api/v1/organizations/acme/members"
		problem(t, e.call(mem, "POST", members, map[string]any{"email": "x", "request_seats": []string{"studio"}, "send_invite": true}), 403, "forbidden")
		problem(t, e.call(ada, "POST", members, map[string]any{"email": "new@acme.test", "applications": []string{"studio"},
			"request_seats": []string{"studio"}, "send_invite": true}), 422, "validation", "request_seats[0]")
		problem(t, e.call(ada, "POST", members, map[string]any{"email": "new@acme.test", "applications": []string{"studio"}, "send_invite": true}),
			409, "quota-exceeded")
		m := e.must(201, ada, "POST", members, map[string]any{"email": "new@acme.test", "request_seats": []string{"studio"}, "send_invite": true})
		if m["state"] != "invited" || len(seatApps(m)) != 0 {
			t.Errorf("added = %v, want invited without a seat", m)
		}
		reqs := e.must(200, ada, "GET", "/api/v1/organizations/acme/seat-requests", nil)["items"].([]any)
		if len(reqs) != 1 || reqs[0].(map[string]any)["quantity"] != 1.0 || reqs[0].(map[string]any)["status"] != "pending" {
			t.Errorf("seat requests = %v, want one pending for one seat", reqs)
		}
	})
}
