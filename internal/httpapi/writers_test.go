package httpapi_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/httpapi"
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
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, func(d *httpapi.Deps) {
			d.InvitesPerAccount = ratelimit.Limit{Every: time.Microsecond, Burst: 1_000_000}
		})
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
		const rounds = 3
		var mu sync.Mutex
		var failures []string
		fail := func(what string, r resp) {
			mu.Lock()
			defer mu.Unlock()
			failures = append(failures, fmt.Sprintf("%s = %d %s", what, r.Status, r.Raw))
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
						r := e.call(e.op, "POST", "/api/v1/organizations/acme/invitations",
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
							r := e.call(e.op, "POST", "/api/v1/organizations/acme/members", map[string]any{
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
							if r := e.call(e.op, "POST", path, body); r.Status != 200 {
								fail("seats", r)
							}
						}
					}
				}
			}()
		}
		wg.Wait()
		t.Logf("16 writers, %d rounds: %v, retries %v", rounds, time.Since(t0), db.WriteRetries())
		for _, f := range failures {
			t.Error(f)
		}
		// 8 inviters × 3 rounds × 25, 4 adders × 3 × 5, and the 64 seated members.
		want := 8*rounds*25 + 4*rounds*5 + changers*perChanger
		list := e.must(200, e.op, "GET", "/api/v1/organizations/acme/members?limit=1", nil)
		if got := int(list["total"].(float64)); got != want {
			t.Errorf("members total = %d, want %d", got, want)
		}
	})
}
