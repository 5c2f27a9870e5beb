package httpapi_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
)

// notInFeeds are the types of the catalogue no feed holds: organization.created
// (a new organization has no subscription, so no application could learn of it)
// and webhook.test (sent to one endpoint only).
var notInFeeds = []account.EventType{account.EventOrganizationCreated, account.EventWebhookTest}

// TestEventSamples makes every event type of the catalogue happen through the API
// and checks that a feed holds each, as a webhook would receive it; and that
// docs/events.md, the README's samples, shows each. ROSTER_EVENT_SAMPLES=1 (on
// SQLite) rewrites docs/events.md from what the feed held.
func TestEventSamples(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		key := e.must(201, e.op, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "events"})["key"].(string)
		e.org("acme", "")
		e.org("globex", "")
		day := 24 * time.Hour
		sub := e.subscribe("acme", "studio", 3, 30*day)
		subPath := "/api/v1/organizations/acme/subscriptions/" + sub["id"].(string)
		e.must(200, e.op, "PATCH", "/api/v1/organizations/acme", map[string]any{"name": "Acme Corp"})
		e.member(e.op, "acme", "ada@acme.test", "admin")
		ada := e.login("ada@acme.test", pw)

		// A member's life: added, changed, deactivated and back, a seat given and
		// taken back.
		bob := accountID(e.member(ada, "acme", "bob@acme.test", "member"))
		member := "/api/v1/organizations/acme/members/" + bob
		e.must(200, ada, "PATCH", member, map[string]any{"role": "admin"})
		e.must(200, ada, "POST", member+"/deactivate", nil)
		e.must(200, ada, "POST", member+"/reactivate", nil)
		e.must(200, ada, "PUT", subPath+"/seats/"+bob, nil)
		e.must(204, ada, "DELETE", subPath+"/seats/"+bob, nil)

		// The subscription: more seats, then a renewal.
		e.must(200, e.op, "PATCH", subPath, map[string]any{"seats": 5})
		ends, err := time.Parse(time.RFC3339Nano, sub["ends_at"].(string))
		if err != nil {
			t.Fatal(err)
		}
		e.must(201, e.op, "POST", subPath+"/renew", map[string]any{"seats": 5, "starts_at": ends, "ends_at": ends.Add(365 * day)})

		// Invitations: one resent and cancelled, one accepted.
		inv := e.must(200, ada, "POST", "/api/v1/organizations/acme/invitations", map[string]any{
			"emails": []string{"cat@acme.test"}, "role": "member"})
		invID := jpath(inv["results"].([]any)[0], "invitation", "id").(string)
		e.must(200, ada, "POST", "/api/v1/organizations/acme/invitations/"+invID+"/resend", nil)
		e.must(204, ada, "DELETE", "/api/v1/organizations/acme/invitations/"+invID, nil)
		e.must(200, ada, "POST", "/api/v1/organizations/acme/invitations", map[string]any{
			"emails": []string{"dan@acme.test"}, "role": "member"})
		e.must(200, "", "POST", "/api/v1/invitations/"+e.link("invitation", "dan@acme.test")+"/accept",
			map[string]any{"first_name": "Dan", "last_name": "Dale", "password": pw})

		// Seat requests: one approved, one denied.
		sr := e.must(201, ada, "POST", "/api/v1/organizations/acme/seat-requests", map[string]any{"application": "studio", "quantity": 2, "note": "new hires"})
		e.must(200, e.op, "POST", "/api/v1/seat-requests/"+sr["id"].(string)+"/approve", map[string]any{"seats": 2})
		sr = e.must(201, ada, "POST", "/api/v1/organizations/acme/seat-requests", map[string]any{"application": "studio", "quantity": 9})
		e.must(200, e.op, "POST", "/api/v1/seat-requests/"+sr["id"].(string)+"/deny", nil)

		// Join requests from people of another organization: approved, denied, and
		// one withdrawn by its author.
		joinFrom := func(email string) (string, string) {
			e.member(e.op, "globex", email, "member")
			who := e.login(email, pw)
			return who, e.must(201, who, "POST", "/api/v1/organizations/acme/join-requests", map[string]any{"message": "hello"})["id"].(string)
		}
		_, jr := joinFrom("gus@globex.test")
		e.must(200, ada, "POST", "/api/v1/organizations/acme/join-requests/"+jr+"/approve", map[string]any{"role": "member"})
		_, jr = joinFrom("hal@globex.test")
		e.must(200, ada, "POST", "/api/v1/organizations/acme/join-requests/"+jr+"/deny", nil)
		ivy, jr := joinFrom("ivy@globex.test")
		e.must(200, ivy, "POST", "/api/v1/me/join-requests/"+jr+"/cancel", nil)

		// The operator disables and enables an account, and deletes it (its
		// membership goes with it: member.removed, then account.deleted).
		e.must(200, e.op, "POST", "/api/v1/accounts/"+bob+"/disable", nil)
		e.must(200, e.op, "POST", "/api/v1/accounts/"+bob+"/enable", nil)
		e.must(204, e.op, "DELETE", "/api/v1/accounts/"+bob, nil)

		// A domain proven, then removed.
		d := e.must(201, ada, "POST", "/api/v1/organizations/acme/domains", map[string]any{"domain": "acme.example"})
		e.publish(d)
		if v := e.must(200, ada, "POST", "/api/v1/organizations/acme/domains/"+d["id"].(string)+"/verify", nil); v["state"] != "verified" {
			t.Fatalf("the domain is %v after its record was published", v["state"])
		}
		e.must(204, ada, "DELETE", "/api/v1/organizations/acme/domains/"+d["id"].(string), nil)

		e.must(204, e.op, "DELETE", "/api/v1/organizations/acme", nil)
		e.relay()

		// The first event of each type, as a webhook receives it.
		samples := map[string]eventBody{}
		for _, ev := range e.feed(key, "studio", 0, "") {
			typ := ev["type"].(string)
			if _, seen := samples[typ]; !seen {
				samples[typ] = eventBody{Type: typ, Timestamp: ev["timestamp"], Data: ev["data"]}
			}
		}
		var missing []string
		for _, typ := range account.EventTypes {
			if _, ok := samples[string(typ)]; !ok && !slices.Contains(notInFeeds, typ) {
				missing = append(missing, string(typ))
			}
		}
		if len(missing) > 0 {
			t.Fatalf("the feed holds no %q: the scenario must make every type happen", missing)
		}

		_, file, _, _ := runtime.Caller(0)
		doc := filepath.Join(filepath.Dir(file), "..", "..", "docs", "events.md")
		if e.db.Engine() == sqlstore.SQLite && os.Getenv("ROSTER_EVENT_SAMPLES") != "" {
			if err := os.WriteFile(doc, []byte(eventSamplesDoc(samples)), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		raw, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for typ := range samples {
			if !strings.Contains(string(raw), "\n## `"+typ+"`\n") {
				t.Errorf("docs/events.md has no sample of %s: run ROSTER_EVENT_SAMPLES=1 go test ./internal/httpapi -run TestEventSamples", typ)
			}
		}
	})
}

// eventBody is a webhook's body, its fields in their order.
type eventBody struct {
	Type      string `json:"type"`
	Timestamp any    `json:"timestamp"`
	Data      any    `json:"data"`
}

// eventSamplesDoc is docs/events.md: one sample of each type, in the catalogue's order.
func eventSamplesDoc(samples map[string]eventBody) string {
	var b strings.Builder
	b.WriteString(`# Event samples

One event of each type as a webhook receives it (the body of the POST; a feed's
item is the same with its ` + "`id`" + ` and ` + "`sequence`" + `), made by
` + "`TestEventSamples`" + ` through the API and rewritten with
` + "`ROSTER_EVENT_SAMPLES=1 go test ./internal/httpapi -run TestEventSamples`" + `. The
catalogue, and what each type's ` + "`data`" + ` holds, is in the README ("Events for your
applications"). Not in any feed, so not here: ` + "`organization.created`" + ` (a new
organization has no subscription, so no application could learn of it) and
` + "`webhook.test`" + ` (sent to one endpoint only: ` + "`data`" + ` is ` + "`{webhook, application, actor}`" + `).
`)
	for _, typ := range account.EventTypes {
		s, ok := samples[string(typ)]
		if !ok {
			continue
		}
		body, _ := json.MarshalIndent(s, "", "  ")
		b.WriteString("\n## `" + string(typ) + "`\n\n```json\n" + string(body) + "\n```\n")
	}
	return b.String()
}
