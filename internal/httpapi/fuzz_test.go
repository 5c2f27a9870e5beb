package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// The API under arbitrary input, fuzzed: `go test -fuzz FuzzAPIRequests
// ./internal/httpapi/`. Seeds are in testdata/fuzz/FuzzX; CI runs each briefly.

// fuzzWorld is one Roster on SQLite with objects for the fuzzed requests to aim at:
// acme with members, a custom role, a team, a subscription, invitations and a join
// request.
type fuzzWorld struct {
	e                              *env
	org, member, role, sub, invite string
}

func newFuzzWorld(f *testing.F) *fuzzWorld {
	e := newEnv(f, storetest.Open(f, sqlstore.SQLite), matrixLimits)
	w := &fuzzWorld{e: e}
	w.org = e.org("acme", "")["id"].(string)
	e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
	w.sub = e.subscribe("acme", "studio", 100, 1e15)["id"].(string)
	w.role = e.must(201, e.op, "POST", "/api/v1/organizations/acme/roles", map[string]any{"name": "Viewer", "permissions": []string{"members.read"}})["id"].(string)
	e.must(201, e.op, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Sales"})
	w.member = accountID(e.member(e.op, "acme", "ada@acme.test", "admin", map[string]any{"teams": []string{"Sales"}}))
	e.member(e.op, "acme", "bob@acme.test", "member", map[string]any{"applications": []string{"studio"}})
	e.member(e.op, "acme", "cat@acme.test", w.role)
	for _, to := range []string{"dan@acme.test", "eve@acme.test"} {
		e.must(201, e.op, "POST", "/api/v1/organizations/acme/members", map[string]any{"email": to, "first_name": "I", "last_name": "N", "send_invite": true})
	}
	w.invite = e.link("invitation", "dan@acme.test")
	e.org("globex", "")
	e.member(e.op, "globex", "joe@globex.test", "member")
	e.must(201, e.login("joe@globex.test", pw), "POST", "/api/v1/organizations/acme/join-requests", map[string]any{"message": "hi"})
	return w
}

// do sends one request and checks the answer: never a 5xx, an error is a
// problem+json document of its status, and nothing is logged at ERROR.
func (w *fuzzWorld) do(t *testing.T, token, method, path string, body []byte) (int, []byte) {
	t.Helper()
	logged := len(w.e.logs.String())
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, w.e.srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := w.e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode >= 500 {
		t.Fatalf("%s %s %q = %d\n%s", method, path, body, res.StatusCode, raw)
	}
	if res.StatusCode >= 400 {
		var p struct {
			Type   string `json:"type"`
			Status int    `json:"status"`
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s %s %q = %d with Content-Type %q\n%s", method, path, body, res.StatusCode, ct, raw)
		}
		if err := json.Unmarshal(raw, &p); err != nil || !strings.HasPrefix(p.Type, "https://roster.dev/problems/") || p.Status != res.StatusCode {
			t.Fatalf("%s %s %q = %d, not a problem of that status (%v)\n%s", method, path, body, res.StatusCode, err, raw)
		}
	}
	if tail := w.e.logs.String()[logged:]; strings.Contains(tail, "level=ERROR") {
		t.Fatalf("%s %s %q logged an error:\n%s", method, path, body, tail)
	}
	return res.StatusCode, raw
}

// FuzzAPIRequests posts arbitrary bodies to write routes, public and behind a
// session, through the real handlers: JSON decoding, schema validation and the use
// cases' own checks answer 4xx problems, never a 5xx.
func FuzzAPIRequests(f *testing.F) {
	w := newFuzzWorld(f)
	org := "/api/v1/organizations/" + w.org
	routes := []struct{ method, path string }{
		{"POST", org + "/members"},
		{"PATCH", org + "/members/" + w.member},
		{"POST", org + "/invitations"},
		{"POST", org + "/roles"},
		{"PATCH", org + "/roles/" + w.role},
		{"POST", org + "/teams"},
		{"POST", "/api/v1/organizations"},
		{"PATCH", org},
		{"POST", org + "/subscriptions"},
		{"PATCH", org + "/subscriptions/" + w.sub},
		{"POST", org + "/subscriptions/" + w.sub + "/seats"},
		{"POST", org + "/members/remove"},
		{"POST", org + "/seat-requests"},
		{"POST", "/api/v1/auth/login"},
		{"POST", "/api/v1/auth/signup"},
		{"POST", "/api/v1/auth/verify-email"},
		{"POST", "/api/v1/auth/password-reset/confirm"},
		{"POST", "/api/v1/invitations/" + w.invite + "/accept"},
	}
	for i, b := range []string{
		`{"email":"new@acme.test","first_name":"N","last_name":"M","role":"member","send_invite":false,"password":"a long secret"}`,
		`{"role":"admin","teams":["Sales","sales"],"phone":"+44 20 7946 0018","username":"ada"}`,
		`{"emails":["x@acme.test","not-an-email"],"role":"member","teams":["Sales"],"applications":["studio"]}`,
		`{"name":"Auditor","permissions":["audit.read","audit.read"]}`,
		`{"active":false,"permissions":[]}`,
		`{"name":"\u0000"}`,
		`{"name":"X","slug":"06h0xjfjrmrhkhq2n15ezhhcrm","kind":"organization","parent":"acme"}`,
		`{"invitation_ttl_hours":99999999999999999999,"ending_soon_days":-1}`,
		`{"application":"studio","seats":1e3,"starts_at":"2026-01-01T00:00:00Z","ends_at":"2025-01-01T00:00:00Z"}`,
		`{"seats":-1}`,
		`{"assign":[""],"unassign":null}`,
		`{"accounts":[1,2,3]}`,
		`{"application":"studio","quantity":0,"note":"` + strings.Repeat("n", 3000) + `"}`,
		`{"email":"ada@acme.test","password":"` + strings.Repeat("p", 300) + `"}`,
		`{"email":"joe@else.test","first_name":"J","last_name":"E","password":"short"}`,
		`{"token":"rv_AAAA"}`,
		`{"token":"","new_password":"x"}`,
		`{"first_name":"Dan","last_name":"D","password":"dan's secret"}`,
		`[]`, `null`, `{"email": `, `{"a":{"b":{"c":[[[[[[]]]]]]}}}`, "\xff\xfe", `{"email":"\ud800@x.com"}`,
	} {
		f.Add(uint8(i), []byte(b))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := routes[int(route)%len(routes)]
		token := w.e.op
		if strings.Contains(r.path, "/auth/") || strings.Contains(r.path, "/invitations/"+w.invite) {
			token = ""
		}
		w.do(t, token, r.method, r.path, body)
	})
}

// FuzzListQueries sends arbitrary limit, cursor, q and filter values to the lists:
// a bad value is a 4xx problem, never a 5xx; a list's own next_cursor always works.
func FuzzListQueries(f *testing.F) {
	w := newFuzzWorld(f)
	org := "/api/v1/organizations/" + w.org
	routes := []struct{ path, filter string }{
		{org + "/members", "state"},
		{org + "/members", "role"},
		{org + "/members", "team"},
		{org + "/members", "application"},
		{"/api/v1/organizations", "kind"},
		{"/api/v1/organizations", "parent"},
		{org + "/invitations", "status"},
		{org + "/join-requests", "status"},
		{org + "/seat-requests", "status"},
		{"/api/v1/seat-requests", "status"},
		{org + "/audit", ""},
		{"/api/v1/audit", ""},
		{org + "/imports", ""},
		{org + "/members/export.csv", "state"},
	}
	for i, c := range []struct{ limit, cursor, q, filter string }{
		{"1", "", "", "active"},
		{"2", "", "a", "admin"},
		{"", "", "", "sales"},
		{"1", "", "", "studio"},
		{"501", "", "", "club"},
		{"-1", "bm90LWEtY3Vyc29y", "%", ""},
		{"ten", "azo1OmFiYw", "_", "pending"},
		{"1", "azotMjph", "\x00", "approved"},
		{"0", "!!!", strings.Repeat("q", 500), "denied"},
		{"1", "", "", ""},
		{"1e3", "", "' OR 1=1 --", ""},
		{"", "", "", ""},
		{"99999999999999999999", "", "", ""},
		{"1", "", "ada", "invited"},
	} {
		f.Add(uint8(i), c.limit, c.cursor, c.q, c.filter)
	}
	f.Fuzz(func(t *testing.T, route uint8, limit, cursor, q, filter string) {
		r := routes[int(route)%len(routes)]
		v := url.Values{}
		for k, s := range map[string]string{"limit": limit, "cursor": cursor, "q": q, r.filter: filter} {
			if k != "" && s != "" {
				v.Set(k, s)
			}
		}
		status, raw := w.do(t, w.e.op, "GET", r.path+"?"+v.Encode(), nil)
		if status != 200 || strings.HasSuffix(r.path, ".csv") {
			return
		}
		var list struct {
			Items      []any   `json:"items"`
			NextCursor *string `json:"next_cursor"`
			Total      *int    `json:"total"`
		}
		if err := json.Unmarshal(raw, &list); err != nil || list.Items == nil || list.Total == nil {
			t.Fatalf("GET %s?%s: not a list (%v)\n%s", r.path, v.Encode(), err, raw)
		}
		if list.NextCursor != nil {
			v.Set("cursor", *list.NextCursor)
			if status, raw := w.do(t, w.e.op, "GET", r.path+"?"+v.Encode(), nil); status != 200 {
				t.Fatalf("GET %s?%s, the list's own next page = %d\n%s", r.path, v.Encode(), status, raw)
			}
		}
	})
}
