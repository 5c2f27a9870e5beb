package httpapi_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/eventrelay"
	"roster.dev/roster/internal/httpapi"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// relay numbers every pending event, as the relay of roster serve does.
func (e *env) relay() {
	e.t.Helper()
	for {
		n, err := e.db.RelayEvents(context.Background(), time.Now(), 500)
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// feed reads an application's whole feed after after, as token, with query extra.
func (e *env) feed(token, app string, after int, extra string) []map[string]any {
	e.t.Helper()
	b := e.must(200, token, "GET", fmt.Sprintf("/api/v1/applications/%s/events?after=%d&limit=500%s", app, after, extra), nil)
	var out []map[string]any
	for _, it := range b["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

func eventTypes(evs []map[string]any) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev["type"].(string)
	}
	return out
}

// path reads a value inside a decoded JSON object: jpath("data", "member", "role").
func jpath(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// TestEventFeed walks the use cases that emit events and reads them back from the
// feeds of two applications: each event in commit order with the object as the API
// shows it, sequences without gaps, and each application only its own.
func TestEventFeed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "support", "name": "Support"})
		studioKey := e.must(201, e.op, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "events"})["key"].(string)
		supportKey := e.must(201, e.op, "POST", "/api/v1/applications/support/keys", map[string]any{"name": "events"})["key"].(string)
		acme, globex := e.org("acme", ""), e.org("globex", "")
		e.member(e.op, "acme", "early@acme.test", "member") // before any subscription: no application learns of it

		sub := e.subscribe("acme", "studio", 3, 30*24*time.Hour)
		subID := sub["id"].(string)
		e.subscribe("globex", "support", 1, 30*24*time.Hour)
		bob := accountID(e.member(e.op, "acme", "bob@acme.test", "member"))
		e.member(e.op, "globex", "gil@globex.test", "member")
		e.must(200, e.op, "PATCH", "/api/v1/organizations/acme/members/"+bob, map[string]any{"role": "admin"})
		e.must(200, e.op, "POST", "/api/v1/organizations/acme/members/"+bob+"/deactivate", nil)
		e.must(200, e.op, "POST", "/api/v1/organizations/acme/members/"+bob+"/reactivate", nil)
		seat := "/api/v1/organizations/acme/subscriptions/" + subID + "/seats/" + bob
		e.must(200, e.op, "PUT", seat, nil)
		e.must(204, e.op, "DELETE", seat, nil)
		e.must(200, e.op, "PATCH", "/api/v1/organizations/acme/subscriptions/"+subID, map[string]any{"seats": 5})
		inv := e.must(200, e.op, "POST", "/api/v1/organizations/acme/invitations", map[string]any{
			"emails": []string{"cat@acme.test"}, "role": "member"})
		invID := jpath(inv["results"].([]any)[0], "invitation", "id").(string)
		e.must(200, e.op, "POST", "/api/v1/organizations/acme/invitations/"+invID+"/resend", nil)
		e.must(204, e.op, "DELETE", "/api/v1/organizations/acme/invitations/"+invID, nil)
		e.must(204, e.op, "DELETE", "/api/v1/organizations/acme/members/"+bob, nil)

		// Nothing is in a feed before the relay numbers it.
		if got := e.feed(studioKey, "studio", 0, ""); len(got) != 0 {
			t.Fatalf("feed before the relay = %v", eventTypes(got))
		}
		e.relay()

		studio := e.feed(studioKey, "studio", 0, "")
		want := []string{"subscription.created", "member.added", "member.updated", "member.deactivated", "member.reactivated",
			"seat.assigned", "seat.unassigned", "subscription.updated", "member.added", "invitation.created",
			"invitation.resent", "invitation.cancelled", "member.removed"}
		if got := eventTypes(studio); !slices.Equal(got, want) {
			t.Fatalf("studio's feed = %q\nwant %q", got, want)
		}
		for i, ev := range studio {
			if ev["sequence"] != float64(i+1) {
				t.Errorf("event %d (%s) has sequence %v, want %d", i, ev["type"], ev["sequence"], i+1)
			}
			if jpath(ev, "data", "organization", "id") != acme["id"] || jpath(ev, "data", "actor", "email") != operatorEmail {
				t.Errorf("event %d (%s): organization %v, actor %v", i, ev["type"], jpath(ev, "data", "organization"), jpath(ev, "data", "actor"))
			}
			if ev["id"] == "" || ev["timestamp"] == nil {
				t.Errorf("event %d has no id or timestamp: %v", i, ev)
			}
		}
		if m := jpath(studio[1], "data", "member"); jpath(m, "account", "email") != "bob@acme.test" || jpath(m, "state") != "active" || jpath(m, "role") != "member" {
			t.Errorf("member.added's member = %v", m)
		}
		if d := jpath(studio[2], "data"); jpath(d, "member", "role") != "admin" || jpath(d, "previous", "role") != "member" {
			t.Errorf("member.updated's data = %v", d)
		}
		if d := jpath(studio[3], "data"); jpath(d, "member", "state") != "deactivated" || jpath(d, "previous", "state") != "active" {
			t.Errorf("member.deactivated's data = %v", d)
		}
		if d := jpath(studio[5], "data"); jpath(d, "seat", "subscription") != subID || jpath(d, "seat", "account") != bob ||
			jpath(d, "seat", "application") != "studio" || jpath(d, "subscription", "assigned") != 1.0 ||
			len(jpath(d, "member", "seats").([]any)) != 1 || jpath(jpath(d, "member", "seats").([]any)[0], "subscription") != subID {
			t.Errorf("seat.assigned's data = %v", d)
		}
		if d := jpath(studio[7], "data"); jpath(d, "subscription", "seats") != 5.0 || jpath(d, "previous", "seats") != 3.0 {
			t.Errorf("subscription.updated's data = %v", d)
		}
		if d := jpath(studio[8], "data"); jpath(d, "member", "state") != "invited" || jpath(d, "member", "account", "email") != "cat@acme.test" {
			t.Errorf("the invitee's member.added = %v", d)
		}
		if d := jpath(studio[9], "data"); jpath(d, "invitation", "id") != invID || jpath(d, "invitation", "state") != "pending" {
			t.Errorf("invitation.created's data = %v", d)
		}
		if d := jpath(studio[11], "data"); jpath(d, "invitation", "state") != "cancelled" || jpath(d, "member") != nil {
			t.Errorf("invitation.cancelled's data = %v", d)
		}
		if d := jpath(studio[12], "data"); jpath(d, "member", "account", "id") != bob {
			t.Errorf("bob's member.removed = %v", d)
		}

		// The other application learns only of its own organization.
		support := e.feed(supportKey, "support", 0, "")
		if got := eventTypes(support); !slices.Equal(got, []string{"subscription.created", "member.added"}) {
			t.Errorf("support's feed = %q", got)
		}
		for _, ev := range support {
			if jpath(ev, "data", "organization", "id") != globex["id"] {
				t.Errorf("support's feed holds an event of %v", jpath(ev, "data", "organization", "slug"))
			}
		}

		// after, types and limit; next_cursor is what to read after next.
		if got := eventTypes(e.feed(studioKey, "studio", 5, "&types=seat.assigned,seat.unassigned")); !slices.Equal(got, []string{"seat.assigned", "seat.unassigned"}) {
			t.Errorf("types filter = %q", got)
		}
		page := e.must(200, studioKey, "GET", "/api/v1/applications/studio/events?limit=2", nil)
		if len(page["items"].([]any)) != 2 || page["next_cursor"] != "2" {
			t.Errorf("limit 2: %d items, next_cursor %v", len(page["items"].([]any)), page["next_cursor"])
		}
		if got := e.feed(studioKey, "studio", len(studio), ""); len(got) != 0 {
			t.Errorf("after the last = %q", eventTypes(got))
		}
		// The operator reads every application's feed.
		if got := e.feed(e.op, "support", 0, ""); len(got) != len(support) {
			t.Errorf("the operator reads %d of support's events, want %d", len(got), len(support))
		}
	})
}

// TestEventFeedRefusals: another application's key, a member and no credentials
// cannot read a feed, and bad input is a 422 naming its field, after authorization.
func TestEventFeedRefusals(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "support", "name": "Support"})
		studioKey := e.must(201, e.op, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "events"})["key"].(string)
		support := e.must(200, e.op, "GET", "/api/v1/applications/support", nil)
		e.org("acme", "")
		e.member(e.op, "acme", "ada@acme.test", "owner")
		ada := e.login("ada@acme.test", pw)

		for _, ref := range []string{"support", support["id"].(string), "nope"} {
			problem(t, e.call(studioKey, "GET", "/api/v1/applications/"+ref+"/events", nil), 404, "not-found")
			problem(t, e.call(studioKey, "GET", "/api/v1/applications/"+ref+"/events?after=-1&wait=1h", nil), 404, "not-found")
		}
		problem(t, e.call(ada, "GET", "/api/v1/applications/studio/events", nil), 403, "forbidden")
		problem(t, e.call(ada, "GET", "/api/v1/applications/studio/events?types=nope", nil), 403, "forbidden")
		problem(t, e.call("", "GET", "/api/v1/applications/studio/events", nil), 401, "unauthenticated")
		problem(t, e.call("rk_not-a-key", "GET", "/api/v1/applications/studio/events", nil), 401, "unauthenticated")
		problem(t, e.call(e.op, "GET", "/api/v1/applications/nope/events", nil), 404, "not-found")

		for q, field := range map[string]string{"after=-1": "after", "after=x": "after", "types=member.added,nope": "types",
			"limit=501": "limit", "wait=31s": "wait", "wait=soon": "wait", "wait=-1s": "wait"} {
			for _, tok := range []string{studioKey, e.op} {
				problem(t, e.call(tok, "GET", "/api/v1/applications/studio/events?"+q, nil), 422, "validation", field)
			}
		}
	})
}

// TestEventFeedLongPoll: a wait answers as soon as the relay numbers an event,
// woken by its signal; without anything to number it answers empty at the wait's end.
func TestEventFeedLongPoll(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		relay := &eventrelay.Relay{Store: db}
		e := newEnv(t, db, withDeps(func(d *httpapi.Deps) { d.Events = relay }))
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		key := e.must(201, e.op, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "events"})["key"].(string)
		e.org("acme", "")
		e.subscribe("acme", "studio", 3, 30*24*time.Hour)
		if _, err := relay.RelayOnce(context.Background(), time.Now()); err != nil {
			t.Fatal(err)
		}
		got := make(chan resp, 1)
		go func() {
			got <- e.call(key, "GET", "/api/v1/applications/studio/events?after=1&wait=30s", nil)
		}()
		e.member(e.op, "acme", "bob@acme.test", "member")
		if _, err := relay.RelayOnce(context.Background(), time.Now()); err != nil {
			t.Fatal(err)
		}
		r := <-got
		if r.Status != 200 {
			t.Fatalf("long poll = %d\n%s", r.Status, r.Raw)
		}
		items := r.Body["items"].([]any)
		if len(items) != 1 || jpath(items[0], "type") != "member.added" || jpath(items[0], "sequence") != 2.0 {
			t.Fatalf("long poll answered %v", items)
		}
		// Nothing new: an answer after the wait, empty, its cursor unchanged.
		q := url.Values{"after": {"2"}, "wait": {"1"}}
		b := e.must(200, key, "GET", "/api/v1/applications/studio/events?"+q.Encode(), nil)
		if len(b["items"].([]any)) != 0 || b["next_cursor"] != "2" {
			t.Fatalf("an empty wait answered %v", b)
		}
	})
}

// TestEventFeedRequestsAndDeletion: seat requests go to their application only,
// join requests to the organization's applications, and deleting an organization
// tells the applications it subscribed to, though its subscriptions go with it.
func TestEventFeedRequestsAndDeletion(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "support", "name": "Support"})
		studioKey := e.must(201, e.op, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "events"})["key"].(string)
		supportKey := e.must(201, e.op, "POST", "/api/v1/applications/support/keys", map[string]any{"name": "events"})["key"].(string)
		e.org("acme", "")
		e.org("globex", "")
		e.subscribe("acme", "studio", 3, 30*24*time.Hour)
		e.subscribe("acme", "support", 3, 30*24*time.Hour)
		e.member(e.op, "acme", "ada@acme.test", "admin")
		ada := e.login("ada@acme.test", pw)
		e.relay()
		studioFrom, supportFrom := len(e.feed(studioKey, "studio", 0, "")), len(e.feed(supportKey, "support", 0, ""))

		sr := e.must(201, ada, "POST", "/api/v1/organizations/acme/seat-requests", map[string]any{"application": "studio", "quantity": 2, "note": "new hires"})
		e.must(200, e.op, "POST", "/api/v1/seat-requests/"+sr["id"].(string)+"/approve", map[string]any{"seats": 2})
		e.member(e.op, "globex", "gus@globex.test", "member")
		jr := e.must(201, e.login("gus@globex.test", pw), "POST", "/api/v1/organizations/acme/join-requests", map[string]any{"message": "hi"})
		e.must(200, ada, "POST", "/api/v1/organizations/acme/join-requests/"+jr["id"].(string)+"/deny", nil)
		e.must(204, e.op, "DELETE", "/api/v1/organizations/acme", nil)
		e.relay()

		studio := e.feed(studioKey, "studio", studioFrom, "")
		if got, want := eventTypes(studio), []string{"seat_request.created", "subscription.updated", "seat_request.approved",
			"join_request.created", "join_request.denied", "organization.deleted"}; !slices.Equal(got, want) {
			t.Fatalf("studio's feed = %q\nwant %q", got, want)
		}
		if d := jpath(studio[0], "data", "seat_request"); jpath(d, "application") != "studio" || jpath(d, "quantity") != 2.0 || jpath(d, "status") != "pending" {
			t.Errorf("seat_request.created = %v", d)
		}
		if d := jpath(studio[2], "data", "seat_request"); jpath(d, "status") != "approved" || jpath(d, "approved_seats") != 2.0 {
			t.Errorf("seat_request.approved = %v", d)
		}
		if d := jpath(studio[4], "data", "join_request"); jpath(d, "state") != "denied" || jpath(d, "account", "email") != "gus@globex.test" {
			t.Errorf("join_request.denied = %v", d)
		}
		if d := jpath(studio[5], "data", "organization"); jpath(d, "slug") != "acme" {
			t.Errorf("organization.deleted = %v", d)
		}
		support := e.feed(supportKey, "support", supportFrom, "")
		if got, want := eventTypes(support), []string{"join_request.created", "join_request.denied", "organization.deleted"}; !slices.Equal(got, want) {
			t.Errorf("support's feed = %q\nwant %q (no seat request of studio)", got, want)
		}
	})
}

// TestEventFeedAccountDeleted: deleting an account emits member.removed in each of
// its organizations and one account.deleted, with the account as it was and its
// organizations' ids, to every application one of them subscribes to, and to no
// other.
func TestEventFeedAccountDeleted(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		keys := map[string]string{}
		for _, app := range []string{"studio", "support", "billing"} {
			e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": app, "name": app})
			keys[app] = e.must(201, e.op, "POST", "/api/v1/applications/"+app+"/keys", map[string]any{"name": "events"})["key"].(string)
		}
		acme, globex := e.org("acme", ""), e.org("globex", "")
		e.org("initech", "")
		e.subscribe("acme", "studio", 3, 30*24*time.Hour)
		e.subscribe("globex", "support", 3, 30*24*time.Hour)
		e.subscribe("initech", "billing", 3, 30*24*time.Hour)
		dee := accountID(e.member(e.op, "acme", "dee@acme.test", "member"))
		second := e.must(201, e.op, "POST", "/api/v1/organizations/globex/members", map[string]any{"email": "dee@acme.test", "role": "member", "send_invite": false})
		if id := accountID(second); id != dee {
			t.Fatalf("dee's second membership is account %s, want %s", id, dee)
		}
		e.relay()
		from := map[string]int{}
		for app, key := range keys {
			from[app] = len(e.feed(key, app, 0, ""))
		}
		e.must(204, e.op, "DELETE", "/api/v1/accounts/"+dee, nil)
		e.relay()

		for app, org := range map[string]map[string]any{"studio": acme, "support": globex} {
			evs := e.feed(keys[app], app, from[app], "")
			if got, want := eventTypes(evs), []string{"member.removed", "account.deleted"}; !slices.Equal(got, want) {
				t.Fatalf("%s's feed = %q\nwant %q", app, got, want)
			}
			if jpath(evs[0], "data", "organization", "id") != org["id"] || jpath(evs[0], "data", "member", "account", "id") != dee {
				t.Errorf("%s's member.removed = %v", app, evs[0]["data"])
			}
			d := jpath(evs[1], "data")
			orgs, _ := jpath(d, "organizations").([]any)
			if jpath(d, "account", "id") != dee || jpath(d, "account", "email") != "dee@acme.test" || jpath(d, "account", "first_name") != nil ||
				jpath(d, "actor", "email") != operatorEmail || len(orgs) != 2 || !slices.Contains(orgs, acme["id"]) || !slices.Contains(orgs, globex["id"]) {
				t.Errorf("%s's account.deleted = %v", app, d)
			}
		}
		if got := e.feed(keys["billing"], "billing", from["billing"], ""); len(got) != 0 {
			t.Errorf("billing, of an organization dee was not in, got %q", eventTypes(got))
		}
	})
}

// TestImportEvents: an import into an organization that subscribes to two
// applications emits, for each row applied, the events the same change made through
// the API emits — in bulk (new people without seats) and row by row (seats, existing
// accounts), across batches whose rejected rows roll back their savepoints — to
// both applications, seat events to the seat's application only, and nothing to an
// application of another organization.
func TestImportEvents(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		for _, app := range []string{"studio", "support", "other"} {
			e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": app, "name": app})
		}
		e.org("acme", "")
		e.org("globex", "")
		e.subscribe("acme", "studio", 1, 30*24*time.Hour)
		e.subscribe("acme", "support", 5, 30*24*time.Hour)
		e.subscribe("globex", "other", 5, 30*24*time.Hour)
		old := accountID(e.member(e.op, "acme", "old@acme.test", "member"))
		e.relay()
		base := map[string]int{}
		for _, app := range []string{"studio", "support", "other"} {
			base[app] = len(e.feed(e.op, app, 0, ""))
		}

		file := xlsxFile(t, [][]string{
			{"email", "first_name", "last_name", "role", "applications", "send_invite"},
			{"new1@acme.test", "New", "One", "member", "", "no"},          // bulk: member.added
			{"new2@acme.test", "New", "Two", "member", "", "yes"},         // bulk: member.added (invited), invitation.created
			{"bad", "Bad", "Email", "", "", ""},                           // rejected
			{"new3@acme.test", "New", "Three", "", "studio", "no"},        // row by row: member.added, seat.assigned
			{"new4@acme.test", "New", "Four", "", "studio", "no"},         // no seat left: rolled back, nothing
			{"old@acme.test", "", "", "admin", "", ""},                    // row by row: member.updated
			{"new5@acme.test", "New", "Five", "member", "support", "yes"}, // row by row: invited, invitation.created, seat.assigned
		})
		e.must(202, e.op, "POST", "/api/v1/organizations/acme/imports", upload{name: "people.xlsx", content: file})
		e.runImports()
		e.relay()

		type ev struct{ typ, email string }
		got := func(app string) []ev {
			var out []ev
			for _, x := range e.feed(e.op, app, base[app], "") {
				email, _ := jpath(x, "data", "member", "account", "email").(string)
				if inv, ok := jpath(x, "data", "invitation", "email").(string); ok {
					email = inv
				}
				if x["type"] == "seat.assigned" && jpath(x, "data", "seat", "account") == old {
					email = "old@acme.test"
				}
				if jpath(x, "data", "organization", "slug") != "acme" {
					t.Errorf("%s: an event of %v", app, jpath(x, "data", "organization", "slug"))
				}
				out = append(out, ev{x["type"].(string), email})
			}
			slices.SortFunc(out, func(a, b ev) int {
				if a.email != b.email {
					return strings.Compare(a.email, b.email)
				}
				return strings.Compare(a.typ, b.typ)
			})
			return out
		}
		both := []ev{{"member.added", "new1@acme.test"}, {"invitation.created", "new2@acme.test"}, {"member.added", "new2@acme.test"},
			{"member.added", "new3@acme.test"}, {"invitation.created", "new5@acme.test"}, {"member.added", "new5@acme.test"},
			{"member.updated", "old@acme.test"}}
		with := func(extra ...ev) []ev {
			out := append(slices.Clone(both), extra...)
			slices.SortFunc(out, func(a, b ev) int {
				if a.email != b.email {
					return strings.Compare(a.email, b.email)
				}
				return strings.Compare(a.typ, b.typ)
			})
			return out
		}
		if g, w := got("studio"), with(ev{"seat.assigned", "new3@acme.test"}); !slices.Equal(g, w) {
			t.Errorf("studio's events of the import:\n%v\nwant\n%v", g, w)
		}
		if g, w := got("support"), with(ev{"seat.assigned", "new5@acme.test"}); !slices.Equal(g, w) {
			t.Errorf("support's events of the import:\n%v\nwant\n%v", g, w)
		}
		if g := got("other"); len(g) != 0 {
			t.Errorf("other (globex's application) learnt of the import: %v", g)
		}
	})
}
