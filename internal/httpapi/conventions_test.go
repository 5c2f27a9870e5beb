package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"roster.dev/roster/internal/httpapi"
	"roster.dev/roster/internal/limits"
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
		// An empty body sent chunked, of unknown length, is no body either.
		req, err := http.NewRequest("POST", e.srv.URL+"/api/v1/applications/studio/keys", io.NopCloser(strings.NewReader("")))
		if err != nil {
			t.Fatal(err)
		}
		req.TransferEncoding = []string{"chunked"}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.op)
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 201 {
			t.Errorf("an empty chunked body = %d\n%s", res.StatusCode, raw)
		}
		appKey := e.must(201, e.op, "POST", "/api/v1/applications/studio/keys", nil)["key"].(string)
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
					switch op["operationId"] {
					case "logout":
						token = e.login(operatorEmail, pw) // not the session the sweep uses
					case "check-batch":
						token = appKey // an application's operation
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
		e := newEnv(t, db, withLimits(func(d *limits.Config) {
			d.InvitesPerAccount = ratelimit.Limit{Every: time.Minute, Burst: 3}
		}))
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

		// The import agrees: an invited row needs only its email; a row made a member
		// at once (send_invite no) needs the names.
		job := e.must(202, e.op, "POST", "/api/v1/organizations/acme/imports", upload{name: "people.csv",
			content: []byte("email,send_invite\nrow2@acme.test,yes\nrow3@acme.test,no\n")})
		e.runImports()
		got := e.must(200, e.op, "GET", "/api/v1/organizations/acme/imports/"+job["id"].(string), nil)
		if got["invited"] != 1.0 || got["failed"] != 1.0 || e.count("invitation", "row2@acme.test") != 1 {
			t.Errorf("import = %v", got)
		}
		if errs, _ := got["errors"].([]any); len(errs) != 2 || errs[0].(map[string]any)["row"] != 3.0 {
			t.Errorf("import errors = %v, want row 3's first_name and last_name", got["errors"])
		}
	})
}

// send makes one request with a raw body and Content-Type (either may be empty).
func (e *env) send(method, path, contentType, body string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+e.op)
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if strings.Contains(res.Header.Get("Content-Type"), "json") && len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			e.t.Fatalf("%s %s: %v\n%s", method, path, err, raw)
		}
	}
	return out
}

// TestWrongMethod: a known path asked with a method it does not take is 405
// method-not-allowed, with Allow naming the ones it takes (the API's, /setup's,
// /healthz's and /metrics'); an unknown path stays 404 not-found, whatever the
// method; nothing of the API falls through to the console.
func TestWrongMethod(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.api.MountConsole(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusTeapot)
			_, _ = io.WriteString(w, "<p>console</p>")
		}))
		e.org("acme", "")
		for _, c := range []struct{ method, path, allow string }{
			{"PUT", "/api/v1/auth/login", "POST"},
			{"GET", "/api/v1/auth/login", "POST"},
			{"DELETE", "/api/v1/me", "GET, HEAD, PATCH"},
			{"POST", "/api/v1/me", "GET, HEAD, PATCH"},
			{"PUT", "/api/v1/organizations/acme", "GET, HEAD, PATCH, DELETE"},
			{"DELETE", "/api/v1/organizations/acme/members", "GET, HEAD, POST"},
			{"GET", "/api/v1/organizations/acme/invitations/x/resend", "POST"},
			{"POST", "/api/v1/organizations/acme/subscriptions/s/seats/a", "PUT, DELETE"},
			{"POST", "/api/v1/openapi.json", "GET, HEAD"},
			{"PATCH", "/setup/sometoken", "GET, HEAD, POST"},
			{"POST", "/healthz", "GET, HEAD"},
			{"DELETE", "/readyz", "GET, HEAD"},
		} {
			r := e.call(e.op, c.method, c.path, nil)
			problem(t, r, http.StatusMethodNotAllowed, "method-not-allowed")
			if got := r.Header.Get("Allow"); got != c.allow {
				t.Errorf("%s %s: Allow = %q, want %q", c.method, c.path, got, c.allow)
			}
		}
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v1/nope"},
			{"POST", "/api/v1/nope"},
			{"DELETE", "/api/v1/organizations/acme/members/a/b/c"},
			{"GET", "/api/"},
			{"GET", "/metrics"}, // --metrics=false: the route does not exist
			{"POST", "/metrics"},
		} {
			r := e.call(e.op, c.method, c.path, nil)
			problem(t, r, http.StatusNotFound, "not-found")
			if r.Header.Get("Allow") != "" {
				t.Errorf("%s %s: a 404 with Allow %q", c.method, c.path, r.Header.Get("Allow"))
			}
		}
		if r := e.call("", "GET", "/login", nil); r.Status != http.StatusTeapot {
			t.Errorf("the console's paths stay the console's: GET /login = %d", r.Status)
		}
		// The method that is allowed still answers.
		e.must(200, e.op, "GET", "/api/v1/me", nil)
	})
}

// TestUnsupportedMediaType: a body in a Content-Type the operation does not read is
// 415 with a problem type of its own (never internal), and the operation is not run.
func TestUnsupportedMediaType(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		for _, c := range []struct{ path, ctype, body string }{
			{"/api/v1/organizations", "text/plain", `{"name": "Acme", "slug": "acme", "kind": "organization"}`},
			{"/api/v1/organizations", "application/x-www-form-urlencoded", "name=Acme&slug=acme&kind=organization"},
			{"/api/v1/organizations", "application/xml", "<organization/>"},
		} {
			r := e.send("POST", c.path, c.ctype, c.body)
			problem(t, r, http.StatusUnsupportedMediaType, "unsupported-media-type")
		}
		problem(t, e.call(e.op, "GET", "/api/v1/organizations/acme", nil), 404, "not-found")
		e.org("globex", "")
		problem(t, e.send("POST", "/api/v1/organizations/globex/imports", "application/json", `{"file": "x"}`),
			http.StatusUnsupportedMediaType, "unsupported-media-type")
		// JSON under its other names is read.
		e.must(201, e.op, "POST", "/api/v1/organizations", map[string]any{"name": "Acme", "slug": "acme", "kind": "organization"})
		if r := e.send("POST", "/api/v1/organizations", "application/json; charset=utf-8", `{"name": "B", "slug": "b", "kind": "organization"}`); r.Status != 201 {
			t.Errorf("application/json; charset=utf-8 = %d\n%s", r.Status, r.Raw)
		}
	})
}

// TestHealthAndMetricsProblems: /healthz answers a 503 problem (unavailable, with
// Retry-After) while the store is down, and /metrics' refusals are problems.
func TestHealthAndMetricsProblems(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		var down atomic.Bool
		e := newEnv(t, db, withMetrics(db, "scrape-secret"), withDeps(func(d *httpapi.Deps) {
			d.Ready = func(ctx context.Context) error {
				if down.Load() {
					return errors.New("the store is gone")
				}
				return db.Ping(ctx)
			}
		}))
		if r := e.call("", "GET", "/healthz", nil); r.Status != 200 || r.Body["status"] != "ok" {
			t.Fatalf("healthz = %d %s", r.Status, r.Raw)
		}
		down.Store(true)
		r := e.call("", "GET", "/healthz", nil)
		problem(t, r, http.StatusServiceUnavailable, "unavailable")
		if r.Header.Get("Retry-After") == "" || strings.Contains(r.Raw, "the store is gone") {
			t.Errorf("healthz down: Retry-After %q\n%s", r.Header.Get("Retry-After"), r.Raw)
		}
		if !strings.Contains(e.logs.String(), "the store is gone") {
			t.Error("the cause is not logged")
		}
		down.Store(false)
		problem(t, e.call("", "GET", "/metrics", nil), http.StatusUnauthorized, "unauthenticated")
		problem(t, e.call("wrong", "GET", "/metrics", nil), http.StatusUnauthorized, "unauthenticated")
		if r := e.call("scrape-secret", "GET", "/metrics", nil); r.Status != 200 {
			t.Errorf("metrics with the token = %d", r.Status)
		}
		r = e.call("scrape-secret", "POST", "/metrics", nil)
		problem(t, r, http.StatusMethodNotAllowed, "method-not-allowed")
		if r.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST /metrics: Allow = %q", r.Header.Get("Allow"))
		}
	})
}

// TestOpenAPIDocument: the served document is what linters and client generators
// expect (Redocly's recommended rules run in CI on it, .ci/redocly.yaml): servers,
// every operation with a summary, a description, a declared tag and its security
// (the public ones an explicit none), and no component schema that nothing uses or
// that is named after a Go type of huma's.
func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t, storetest.Open(t, sqlstore.SQLite))
	doc := e.must(200, "", "GET", "/api/v1/openapi.json", nil)
	if servers, _ := doc["servers"].([]any); len(servers) == 0 {
		t.Error("no servers")
	}
	declared := map[string]bool{}
	for _, tag := range doc["tags"].([]any) {
		tag := tag.(map[string]any)
		if tag["description"] == "" || tag["description"] == nil {
			t.Errorf("tag %v has no description", tag["name"])
		}
		declared[tag["name"].(string)] = true
	}
	public := 0
	for p, ops := range doc["paths"].(map[string]any) {
		for method, o := range ops.(map[string]any) {
			op := o.(map[string]any)
			where := strings.ToUpper(method) + " " + p
			for _, k := range []string{"summary", "description", "operationId"} {
				if s, _ := op[k].(string); strings.TrimSpace(s) == "" {
					t.Errorf("%s has no %s", where, k)
				}
			}
			if op["description"] == op["summary"] {
				t.Errorf("%s: the description only repeats the summary", where)
			}
			tags, _ := op["tags"].([]any)
			if len(tags) == 0 {
				t.Errorf("%s has no tag", where)
			}
			for _, tag := range tags {
				if !declared[tag.(string)] {
					t.Errorf("%s: tag %v is not declared", where, tag)
				}
			}
			security, ok := op["security"].([]any)
			switch {
			case !ok:
				t.Errorf("%s declares no security", where)
			case len(security) == 0:
				public++
			}
		}
	}
	if public < 7 {
		t.Errorf("%d operations declare security: [], want the 7 public ones at least", public)
	}
	raw := e.call("", "GET", "/api/v1/openapi.json", nil).Raw
	for name := range doc["components"].(map[string]any)["schemas"].(map[string]any) {
		if strings.Contains(name, "FormFile") || strings.Contains(name, "Multipart") {
			t.Errorf("schema %s is named after a Go type", name)
		}
		if !strings.Contains(raw, `"#/components/schemas/`+name+`"`) {
			t.Errorf("schema %s is not used", name)
		}
	}
}
