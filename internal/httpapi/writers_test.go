package httpapi_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/ratelimit"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestConcurrentWriters: 16 writers of every kind at once into one organization —
// bulk invitations reserving seats of two applications (listed in either order),
// adds with seats, bulk seat changes of both subscriptions — all succeed. On
// PostgreSQL each of these touches the organization's member counts and several
// subscriptions' seat counters in one transaction; none may deadlock into a 5xx.
func TestConcurrentWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("16 writers at once for seconds on each engine: skipped by -short (go test ./... runs it)")
	}
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, withLimits(func(d *limits.Config) {
			d.InvitesPerAccount = ratelimit.Limit{Every: time.Microsecond, Burst: 1_000_000}
		}))
		e.org("acme", "")
		for _, app := range []string{"studio", "design"} {
			e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": app, "name": app})
		}
		subs := []string{
			e.subscribe("acme", "studio", 100_000, 365*24*time.Hour)["id"].(string),
			e.subscribe("acme", "design", 100_000, 365*24*time.Hour)["id"].(string),
		}
		// Members whose seats the seat changers move, 16 per changer.
		const changers, perChanger = 4, 16
		var seated [changers][]string
		for c := range changers {
			for i := range perChanger {
				m := e.member(e.op, "acme", fmt.Sprintf("s%d-%02d@acme.test", c, i), "")
				seated[c] = append(seated[c], accountID(m))
			}
		}
		const rounds = 2
		var mu sync.Mutex
		var failures []string
		fail := func(what string, r resp) {
			mu.Lock()
			defer mu.Unlock()
			failures = append(failures, fmt.Sprintf("%s = %d %s", what, r.Status, r.Raw))
		}
		var slowest time.Duration
		call := func(method, path string, body any) resp {
			t0 := time.Now()
			r := e.call(e.op, method, path, body)
			mu.Lock()
			slowest = max(slowest, time.Since(t0))
			mu.Unlock()
			return r
		}
		var wg sync.WaitGroup
		t0 := time.Now()
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				apps := []string{"studio", "design"}
				if w%2 == 1 {
					apps = []string{"design", "studio"}
				}
				for round := range rounds {
					switch w % 4 {
					case 0, 1: // bulk invitations, 25 new emails each
						var emails []string
						for i := range 25 {
							emails = append(emails, fmt.Sprintf("i%02d-%d-%02d@acme.test", w, round, i))
						}
						r := call("POST", "/api/v1/organizations/acme/invitations",
							map[string]any{"emails": emails, "applications": apps})
						if r.Status != 200 {
							fail("invite", r)
							continue
						}
						for _, res := range r.Body["results"].([]any) {
							if errv := res.(map[string]any)["error"]; errv != nil {
								fail("invite result", resp{Status: 200, Raw: fmt.Sprint(errv)})
							}
						}
					case 2: // adds, each with seats of both applications
						for i := range 5 {
							r := call("POST", "/api/v1/organizations/acme/members", map[string]any{
								"email": fmt.Sprintf("a%02d-%d-%d@acme.test", w, round, i), "first_name": "A", "last_name": "A",
								"send_invite": false, "password": pw, "applications": apps})
							if r.Status != 201 {
								fail("add", r)
							}
						}
					case 3: // bulk seat changes of both subscriptions, in either order
						ids := seated[w/4]
						order := subs
						if w/4%2 == 1 {
							order = []string{subs[1], subs[0]}
						}
						for _, sub := range order {
							path := "/api/v1/organizations/acme/subscriptions/" + sub + "/seats"
							body := map[string]any{"assign": ids}
							if round%2 == 1 {
								body = map[string]any{"unassign": ids}
							}
							if r := call("POST", path, body); r.Status != 200 {
								fail("seats", r)
							}
						}
					}
				}
			}()
		}
		wg.Wait()
		t.Logf("16 writers, %d rounds: %v, the slowest request %v, retries %v", rounds, time.Since(t0), slowest, db.WriteRetries())
		for _, f := range failures {
			t.Error(f)
		}
		// Retries would hide a lock-order deadlock from the clients; there must be none.
		if n := db.WriteRetries()["40P01"]; n > 0 {
			t.Errorf("%d transactions were deadlock victims, want none", n)
		}
		// 8 inviters × 3 rounds × 25, 4 adders × 3 × 5, and the 64 seated members.
		want := 8*rounds*25 + 4*rounds*5 + changers*perChanger
		list := e.must(200, e.op, "GET", "/api/v1/organizations/acme/members?limit=1", nil)
		if got := int(list["total"].(float64)); got != want {
			t.Errorf("members total = %d, want %d", got, want)
		}
	})
}

// TestRenewOnce: a subscription is renewed at most once. The same renewal sent twice
// is 201 then 409 conflict, and eight sent at once make exactly one renewal, its
// seats copied once.
func TestRenewOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		start := time.Now().Add(-24 * time.Hour).UTC()
		renewal := map[string]any{"seats": 10, "starts_at": start.Add(365 * 24 * time.Hour), "ends_at": start.Add(730 * 24 * time.Hour)}
		seat := func(sub string) {
			m := e.member(e.op, "acme", "m-"+sub[len(sub)-6:]+"@acme.test", "")
			e.must(200, e.op, "PUT", "/api/v1/organizations/acme/subscriptions/"+sub+"/seats/"+accountID(m), nil)
		}

		sub := e.subscribe("acme", "studio", 10, 365*24*time.Hour)["id"].(string)
		seat(sub)
		path := "/api/v1/organizations/acme/subscriptions/" + sub + "/renew"
		first := e.must(201, e.op, "POST", path, renewal)
		problem(t, e.call(e.op, "POST", path, renewal), 409, "conflict")
		// The renewal itself may be renewed.
		e.must(201, e.op, "POST", "/api/v1/organizations/acme/subscriptions/"+first["id"].(string)+"/renew", renewal)

		sub = e.subscribe("acme", "studio", 10, 365*24*time.Hour)["id"].(string)
		seat(sub)
		path = "/api/v1/organizations/acme/subscriptions/" + sub + "/renew"
		var mu sync.Mutex
		statuses := map[int]int{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.call(e.op, "POST", path, renewal)
				mu.Lock()
				defer mu.Unlock()
				statuses[r.Status]++
				if r.Status != 201 && (r.Status != 409 || r.Body["type"] != "https://roster.dev/problems/conflict") {
					t.Errorf("renewal = %d %s", r.Status, r.Raw)
				}
			}()
		}
		wg.Wait()
		if statuses[201] != 1 || statuses[409] != 7 {
			t.Errorf("eight renewals at once answered %v, want one 201 and seven 409", statuses)
		}
		renewals := 0
		for _, it := range e.must(200, e.op, "GET", "/api/v1/organizations/acme/subscriptions", nil)["items"].([]any) {
			s := it.(map[string]any)
			if s["renewed_from"] == sub {
				renewals++
				if s["assigned"] != 1.0 {
					t.Errorf("the renewal holds %v seats, want the 1 copied", s["assigned"])
				}
			}
		}
		if renewals != 1 {
			t.Errorf("%d renewals of %s, want 1", renewals, sub)
		}
	})
}

// TestFailedInvitationsSpendNoAllowance: the invitation rate limit counts only the
// invitations sent. A request that fails as a whole, and the emails of a bulk
// request that fail, give their allowance back.
func TestFailedInvitationsSpendNoAllowance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, withLimits(func(d *limits.Config) {
			d.InvitesPerAccount = ratelimit.Limit{Every: time.Hour, Burst: 4}
		}))
		e.org("acme", "")
		path := "/api/v1/organizations/acme/invitations"
		for range 5 { // an unknown application fails the whole request, five times over
			problem(t, e.call(e.op, "POST", path, map[string]any{
				"emails": []string{"x1@acme.test", "x2@acme.test", "x3@acme.test"}, "applications": []string{"nope"}}), 422, "validation", "applications[0]")
		}
		// One bad address and one already a member fail; two are sent.
		e.member(e.op, "acme", "here@acme.test", "")
		r := e.must(200, e.op, "POST", path, map[string]any{
			"emails": []string{"not-an-email", "here@acme.test", "a@acme.test", "b@acme.test"}})
		failed := 0
		for _, res := range r["results"].([]any) {
			if res.(map[string]any)["error"] != nil {
				failed++
			}
		}
		if failed != 2 {
			t.Fatalf("%d of the four emails failed, want 2\n%v", failed, r)
		}
		// Two of the four are left.
		e.must(200, e.op, "POST", path, map[string]any{"emails": []string{"c@acme.test", "d@acme.test"}})
		problem(t, e.call(e.op, "POST", path, map[string]any{"emails": []string{"e@acme.test"}}), 429, "rate-limited")
	})
}
