package httpapi_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/testtime"
)

// TestCheck: the entitlement check answers each reason of API.md, and a change is
// seen by the very next check.
func TestCheck(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "support", "name": "Support"})
		created := e.must(201, e.op, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "prod"})
		key := created["key"].(string)
		other := e.must(201, e.op, "POST", "/api/v1/applications/support/keys", map[string]any{})["key"].(string)
		sub := e.subscribe("acme", "studio", 10, 30*24*time.Hour)
		bob := accountID(e.member(e.op, "acme", "bob@acme.test", "member"))
		seat := "/api/v1/organizations/acme/subscriptions/" + sub["id"].(string) + "/seats/" + bob

		check := func(want string, query ...string) {
			t.Helper()
			q := "/api/v1/check?organization=acme&account=" + bob
			if len(query) > 0 {
				q = query[0]
			}
			r := e.must(200, key, "GET", q, nil)
			if r["reason"] != want || r["allowed"] != (want == "ok") {
				t.Errorf("check %s = %v, want %s", q, r, want)
			}
		}
		check("no-seat")
		e.must(200, e.op, "PUT", seat, nil)
		check("ok")
		testtime.WaitFor(t, 10*time.Second, "the cache lease taken", func() bool { _, ok := e.db.CacheEpoch(); return ok })
		hits, _ := e.svc.CheckCacheStats()
		check("ok")
		check("ok")
		if h, _ := e.svc.CheckCacheStats(); h <= hits {
			t.Fatalf("repeated checks were not answered from memory (hits %d → %d): the test would not prove the cache is never stale", hits, h)
		}
		me := e.must(200, e.login("bob@acme.test", pw), "GET", "/api/v1/me", nil)
		if ms := me["memberships"].([]any); len(ms) != 1 || !slices.Equal(seatApps(ms[0].(map[string]any)), []string{"studio"}) {
			t.Errorf("bob's memberships = %v", ms)
		}
		check("ok", "/api/v1/check?application=studio&organization="+e.must(200, e.op, "GET", "/api/v1/organizations/acme", nil)["id"].(string)+"&account="+bob)
		check("not-member", "/api/v1/check?organization=acme&account=nobody")
		check("not-member", "/api/v1/check?organization=nowhere&account="+bob)

		e.must(200, e.op, "POST", "/api/v1/organizations/acme/members/"+bob+"/deactivate", nil)
		check("deactivated")
		e.must(200, e.op, "POST", "/api/v1/organizations/acme/members/"+bob+"/reactivate", nil)
		check("ok") // the seat was kept: one step restores access
		e.must(200, e.op, "POST", "/api/v1/accounts/"+bob+"/disable", nil)
		check("account-disabled")
		e.must(200, e.op, "POST", "/api/v1/accounts/"+bob+"/enable", nil)
		check("ok")

		// The subscription outside its dates.
		e.must(200, e.op, "PATCH", "/api/v1/organizations/acme/subscriptions/"+sub["id"].(string), map[string]any{"ends_at": time.Now().Add(-time.Hour).UTC()})
		check("subscription-inactive")
		e.must(200, e.op, "PATCH", "/api/v1/organizations/acme/subscriptions/"+sub["id"].(string), map[string]any{"ends_at": time.Now().Add(time.Hour)})
		check("ok")

		ents := e.must(200, key, "GET", "/api/v1/accounts/"+bob+"/entitlements", nil)
		if ents["total"] != 1.0 {
			t.Errorf("entitlements = %v", ents)
		}

		e.must(204, e.op, "DELETE", seat, nil)
		check("no-seat")
		e.must(200, e.op, "PUT", seat, nil)
		e.must(204, e.op, "DELETE", "/api/v1/organizations/acme/members/"+bob, nil)
		check("not-member")

		// Keys: only for the application endpoints, only for their own application,
		// dead once revoked.
		problem(t, e.call(key, "GET", "/api/v1/me", nil), 401, "unauthenticated")
		problem(t, e.call(e.op, "GET", "/api/v1/check?organization=acme&account="+bob, nil), 401, "unauthenticated")
		problem(t, e.call(other, "GET", "/api/v1/check?organization=acme&account="+bob+"&application=studio", nil), 403, "forbidden", "application")
		problem(t, e.call(key, "GET", "/api/v1/check?account="+bob, nil), 422, "validation", "organization")
		keys := e.must(200, e.op, "GET", "/api/v1/applications/studio/keys", nil)
		if k := keys["items"].([]any)[0].(map[string]any); keys["total"] != 1.0 || k["prefix"] == "" || k["last_used_at"] == nil {
			t.Errorf("keys = %v", keys)
		}
		e.must(204, e.op, "DELETE", "/api/v1/applications/studio/keys/"+created["id"].(string), nil)
		problem(t, e.call(key, "GET", "/api/v1/check?organization=acme&account="+bob, nil), 401, "unauthenticated")
		problem(t, e.call(e.op, "DELETE", "/api/v1/applications/studio/keys/"+created["id"].(string), nil), 404, "not-found")
		if logs := e.logs.String(); contains(logs, key) || contains(logs, other) {
			t.Error("an API key is in the log")
		}
	})
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestCheckBatch: POST /api/v1/check answers each question as GET /api/v1/check
// would, in their order, from memory or the store alike; a change is seen by the very
// next batch; a batch about another application, or with a malformed question, is
// refused whole, naming the question.
func TestCheckBatch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.org("globex", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "support", "name": "Support"})
		key := e.must(201, e.op, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "prod"})["key"].(string)
		other := e.must(201, e.op, "POST", "/api/v1/applications/support/keys", map[string]any{})["key"].(string)
		sub := e.subscribe("acme", "studio", 10, 30*24*time.Hour)
		e.subscribe("globex", "studio", 10, 30*24*time.Hour)
		bob := accountID(e.member(e.op, "acme", "bob@acme.test", "member"))
		carol := accountID(e.member(e.op, "globex", "carol@globex.test", "member"))
		dave := accountID(e.member(e.op, "acme", "dave@acme.test", "member"))
		seat := func(who string) string {
			return "/api/v1/organizations/acme/subscriptions/" + sub["id"].(string) + "/seats/" + who
		}
		e.must(200, e.op, "PUT", seat(bob), nil)
		e.must(200, e.op, "PUT", seat(dave), nil)
		e.must(200, e.op, "POST", "/api/v1/organizations/acme/members/"+dave+"/deactivate", nil)

		type q = map[string]any
		questions := []any{
			q{"organization": "acme", "account": bob},
			q{"organization": "acme", "account": carol}, // carol is not in acme
			q{"organization": "globex", "account": carol, "application": "studio"},
			q{"organization": "acme", "account": dave},
			q{"organization": "nowhere", "account": bob},
			q{"organization": "globex", "account": bob},
			q{"organization": "acme", "account": bob}, // asked twice: answered twice
		}
		want := []string{"ok", "not-member", "no-seat", "deactivated", "not-member", "not-member", "ok"}
		batch := func(when string) {
			t.Helper()
			r := e.must(200, key, "POST", "/api/v1/check", q{"items": questions})
			items := r["items"].([]any)
			if len(items) != len(want) {
				t.Fatalf("%s: %d answers to %d questions: %v", when, len(items), len(want), r)
			}
			for i, it := range items {
				a := it.(map[string]any)
				if a["reason"] != want[i] || a["allowed"] != (want[i] == "ok") {
					t.Errorf("%s: answer %d = %v, want %s", when, i, a, want[i])
				}
				// The single check agrees.
				qi := questions[i].(q)
				single := e.must(200, key, "GET", "/api/v1/check?organization="+qi["organization"].(string)+"&account="+qi["account"].(string), nil)
				if single["reason"] != a["reason"] {
					t.Errorf("%s: answer %d is %v, the single check's %v", when, i, a["reason"], single["reason"])
				}
			}
		}
		batch("from the store")
		testtime.WaitFor(t, 10*time.Second, "the cache lease taken", func() bool { _, ok := e.db.CacheEpoch(); return ok })
		batch("filling memory")
		hits, _ := e.svc.CheckCacheStats()
		batch("from memory")
		if h, _ := e.svc.CheckCacheStats(); h <= hits {
			t.Fatalf("repeated batches were not answered from memory (hits %d → %d): the test would not prove the cache is never stale", hits, h)
		}

		// A change is seen by the next batch, every question about it included.
		e.must(204, e.op, "DELETE", seat(bob), nil)
		want[0], want[6] = "no-seat", "no-seat"
		e.must(200, e.op, "POST", "/api/v1/organizations/acme/members/"+dave+"/reactivate", nil)
		want[3] = "ok"
		batch("after the changes")

		// Refusals: the whole batch, naming the question at fault.
		problem(t, e.call(e.op, "POST", "/api/v1/check", q{"items": questions}), 401, "unauthenticated")
		problem(t, e.call(other, "POST", "/api/v1/check", q{"items": []any{
			q{"organization": "acme", "account": bob},
			q{"organization": "acme", "account": bob, "application": "studio"}}}), 403, "forbidden", "items[1].application")
		problem(t, e.call(key, "POST", "/api/v1/check", q{"items": []any{
			q{"organization": "acme", "account": bob},
			q{"organization": "acme", "account": ""}}}), 422, "validation", "items[1].account")
		problem(t, e.call(key, "POST", "/api/v1/check", q{"items": []any{q{"account": bob}}}), 422, "validation", "items[0].organization")
		problem(t, e.call(key, "POST", "/api/v1/check", q{"items": []any{}}), 422, "validation", "items")
		many := make([]any, 101)
		for i := range many {
			many[i] = q{"organization": "acme", "account": bob}
		}
		problem(t, e.call(key, "POST", "/api/v1/check", q{"items": many}), 422, "validation", "items")
		problem(t, e.call(key, "POST", "/api/v1/check", q{}), 422, "validation", "items")
	})
}
