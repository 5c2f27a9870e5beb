package scim_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/app"
	"roster.dev/roster/internal/config"
	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/ratelimit"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

const (
	operatorEmail = "op@roster.test"
	pw            = "correct horse battery"
)

// env is Roster's API with the SCIM endpoint mounted, over one database, with the
// operator logged in.
type env struct {
	t   testing.TB
	db  *sqlstore.DB
	svc *account.Service
	srv *httptest.Server
	op  string
}

func newEnv(t testing.TB, db *sqlstore.DB) *env {
	t.Helper()
	a, err := app.New(context.Background(), app.Options{
		Config: config.Config{BaseURL: "http://roster.test", SignUp: true, CheckCache: account.DefaultCheckCacheEntries},
		DB:     db, Hasher: password.NewHasher(password.TestParams, 4, rand.Reader),
		Limits: limits.Config{LoginPerIP: ratelimit.Limit{Every: time.Millisecond, Burst: 1000}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	if _, _, err := a.Service.Bootstrap(context.Background(), operatorEmail, pw); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, svc: a.Service, srv: httptest.NewServer(a.Handler)}
	t.Cleanup(e.srv.Close)
	e.op = e.login(operatorEmail, pw)
	return e
}

func forEachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) { fn(t, newEnv(t, db)) })
}

type resp struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// call sends body (JSON-encoded unless a string) as token.
func (e *env) call(token, method, path string, body any) resp {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if len(raw) > 0 && strings.Contains(res.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			e.t.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, path, err, raw)
		}
	}
	return out
}

func (e *env) must(want int, token, method, path string, body any) map[string]any {
	e.t.Helper()
	r := e.call(token, method, path, body)
	if r.Status != want {
		e.t.Fatalf("%s %s = %d, want %d\n%s", method, path, r.Status, want, r.Raw)
	}
	return r.Body
}

func (e *env) login(email, password string) string {
	e.t.Helper()
	return e.must(200, "", "POST", "/api/v1/auth/login", map[string]any{"email": email, "password": password})["token"].(string)
}

// org creates an organization and a SCIM token for it, and returns the token.
func (e *env) org(slug string) string {
	e.t.Helper()
	e.must(201, e.op, "POST", "/api/v1/organizations", map[string]any{"name": strings.ToUpper(slug[:1]) + slug[1:],
		"slug": slug, "kind": "organization"})
	return e.must(201, e.op, "POST", "/api/v1/organizations/"+slug+"/scim-tokens",
		map[string]any{"description": slug + " IdP"})["token"].(string)
}

// member adds a person with a password through the API, and returns the account id.
func (e *env) member(org, email, role string) string {
	e.t.Helper()
	m := e.must(201, e.op, "POST", "/api/v1/organizations/"+org+"/members", map[string]any{"email": email,
		"first_name": "F", "last_name": "L", "role": role, "send_invite": false, "password": pw})
	return m["account"].(map[string]any)["id"].(string)
}

// outbox lists "kind to" of every email in the outbox, oldest first.
func (e *env) outbox() []string {
	e.t.Helper()
	msgs, err := e.db.FindEmails(context.Background(), "", 500)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range slices.Backward(msgs) {
		out = append(out, m.Kind+" "+m.To)
	}
	return out
}

// scimError checks that r is a SCIM error of status and scimType ("" for none).
func scimError(t *testing.T, r resp, status int, scimType string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d\n%s", r.Status, status, r.Raw)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/scim+json" {
		t.Errorf("Content-Type = %q, want application/scim+json", ct)
	}
	if got, _ := r.Body["scimType"].(string); got != scimType {
		t.Errorf("scimType = %q, want %q\n%s", got, scimType, r.Raw)
	}
	if r.Body["status"] != http.StatusText(status) && r.Body["status"] != itoa(status) {
		t.Errorf("body status = %v, want %d", r.Body["status"], status)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// user is a SCIM User body.
func user(userName string, extra map[string]any) map[string]any {
	u := map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": userName,
		"active":   true,
		"name":     map[string]any{"givenName": "Given", "familyName": "Family"},
	}
	for k, v := range extra {
		u[k] = v
	}
	return u
}
