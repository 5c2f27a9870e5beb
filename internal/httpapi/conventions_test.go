package httpapi_test

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/httpapi"
	"roster.dev/roster/internal/ratelimit"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestOptionalBodies: a body that API.md does not require may be omitted, as no
// body or as {} (issue 18). The operations the issue names succeed without one;
// then every write operation of the OpenAPI document is sent no body and {}: {}
// is never a 400, and no body is 400 "request body is required" exactly where the
// document says the body is required, which is where its schema requires a field.
func TestOptionalBodies(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		for _, body := range []any{nil, "", map[string]any{}} {
			if k := e.must(201, e.op, "POST", "/api/v1/applications/studio/keys", body); k["key"] == "" || k["key"] == nil {
				t.Errorf("a key issued without a body has no key: %v", k)
			}
		}
		m := e.must(201, e.op, "POST", "/api/v1/organizations/acme/members", map[string]any{
			"email": "ivy@acme.test", "first_name": "Ivy", "last_name": "I", "send_invite": true})
		inv := m["invitation"].(map[string]any)["id"].(string)
		for _, body := range []any{nil, "", map[string]any{}} {
			if r := e.must(200, e.op, "POST", "/api/v1/organizations/acme/invitations/"+inv+"/resend", body); r["state"] != "pending" {
				t.Errorf("resent invitation = %v", r)
			}
		}
		bob := accountID(e.member(e.op, "acme", "bob@acme.test", "member"))
		for _, action := range []string{"deactivate", "reactivate"} {
			e.must(200, e.op, "POST", "/api/v1/organizations/acme/members/"+bob+"/"+action, nil)
		}
		e.must(200, e.op, "PATCH", "/api/v1/me", nil)
		e.must(200, e.op, "PATCH", "/api/v1/organizations/acme", map[string]any{})

		doc := e.must(200, "", "GET", "/api/v1/openapi.json", nil)
		schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
		param := regexp.MustCompile(`\{[a-z]+\}`)
		paths := doc["paths"].(map[string]any)
		var ordered []string
		for p := range paths {
			ordered = append(ordered, p)
		}
		sort.Strings(ordered)
		optional := 0
		for _, p := range ordered {
			for method, o := range paths[p].(map[string]any) {
				method = strings.ToUpper(method)
				if method != http.MethodPost && method != http.MethodPut && method != http.MethodPatch {
					continue
				}
				op := o.(map[string]any)
				required, fields := false, []any(nil)
				if rb, ok := op["requestBody"].(map[string]any); ok {
					mt, ok := rb["content"].(map[string]any)["application/json"].(map[string]any)
					if !ok {
						continue // the upload: a multipart file, which the contract requires
					}
					required, _ = rb["required"].(bool)
					schema := mt["schema"].(map[string]any)
					if ref, ok := schema["$ref"].(string); ok {
						schema = schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
					}
					fields, _ = schema["required"].([]any)
				}
				if required != (len(fields) > 0) {
					t.Errorf("%s %s: the body is required (%v) though its schema requires %v", method, p, required, fields)
				}
				if !required {
					optional++
				}
				path := param.ReplaceAllString(p, "x")
				// No body at all, an empty one said to be JSON (curl -X POST -H
				// 'Content-Type: application/json'), and {}.
				for _, body := range []any{nil, "", map[string]any{}} {
					token := e.op
					if op["operationId"] == "logout" {
						token = e.login(operatorEmail, pw) // not the session the sweep uses
					}
					r := e.call(token, method, path, body)
					refused := r.Status == 400 && strings.Contains(r.Raw, "body is required")
					switch {
					case body != nil && body != "" && r.Status == 400:
						t.Errorf("%s %s with {} = 400\n%s", method, p, r.Raw)
					case (body == nil || body == "") && refused != required:
						t.Errorf("%s %s without a body = %d (body required: %v)\n%s", method, p, r.Status, required, r.Raw)
					case r.Status >= 500:
						t.Errorf("%s %s = %d\n%s", method, p, r.Status, r.Raw)
					}
				}
			}
		}
		if optional < 15 {
			t.Errorf("only %d write operations take an optional body", optional)
		}
	})
}

// TestAddMemberInviteeNames: POST …/members with send_invite: true takes an email
// alone, and the invitee gives the names on accepting; with send_invite: false a new
// email still needs names and a password (422 naming them). Every add that sends an
// invitation counts against the inviter's invitation emails, with POST invitations.
func TestAddMemberInviteeNames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, func(d *httpapi.Deps) {
			d.InvitesPerAccount = ratelimit.Limit{Every: time.Minute, Burst: 3}
		})
		e.org("acme", "")
		members := "/api/v1/organizations/acme/members"
		m := e.must(201, e.op, "POST", members, map[string]any{"email": "ivy@acme.test", "send_invite": true})
		acct := m["account"].(map[string]any)
		if m["state"] != "invited" || acct["first_name"] != "" || acct["last_name"] != "" || m["invitation"] == nil {
			t.Errorf("member = %v", m)
		}
		token := e.link("invitation", "ivy@acme.test")
		problem(t, e.call("", "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{"password": pw}),
			422, "validation", "first_name", "last_name")
		e.must(200, "", "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{
			"first_name": "Ivy", "last_name": "Ives", "password": pw})
		me := e.must(200, e.login("ivy@acme.test", pw), "GET", "/api/v1/me", nil)["account"].(map[string]any)
		if me["first_name"] != "Ivy" || me["last_name"] != "Ives" {
			t.Errorf("account = %v", me)
		}

		// send_invite: false creates the account: names and password are required.
		problem(t, e.call(e.op, "POST", members, map[string]any{"email": "new@acme.test", "send_invite": false}),
			422, "validation", "first_name", "last_name", "password")
		problem(t, e.call(e.op, "POST", members, map[string]any{"email": "new@acme.test", "send_invite": false,
			"first_name": "N", "password": pw}), 422, "validation", "last_name")
		// Invalid names are refused for an invitee as for anyone.
		problem(t, e.call(e.op, "POST", members, map[string]any{"email": "bad@acme.test", "send_invite": true,
			"first_name": strings.Repeat("x", 300)}), 422, "validation", "first_name")

		// One of the three invitation emails is spent (ivy's); the refusals above and an
		// active member, which no email announces, spent none.
		e.member(e.op, "acme", "active@acme.test", "member")
		e.must(201, e.op, "POST", members, map[string]any{"email": "i2@acme.test", "send_invite": true})
		e.must(200, e.op, "POST", "/api/v1/organizations/acme/invitations", map[string]any{"emails": []string{"i3@acme.test"}})
		r := e.call(e.op, "POST", members, map[string]any{"email": "i4@acme.test", "send_invite": true})
		problem(t, r, http.StatusTooManyRequests, "rate-limited")
		if r.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		if n := e.count("invitation", "i4@acme.test"); n != 0 {
			t.Errorf("%d invitations to i4 past the limit", n)
		}
		e.clock.Advance(time.Minute)
		e.must(201, e.op, "POST", members, map[string]any{"email": "i4@acme.test", "send_invite": true})
		if n := e.count("invitation", "i4@acme.test"); n != 1 {
			t.Errorf("%d invitations to i4, want 1", n)
		}
	})
}
