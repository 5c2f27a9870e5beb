package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/app"
	"roster.dev/roster/internal/config"
	"roster.dev/roster/internal/dnstest"
	"roster.dev/roster/internal/httpapi"
	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/ratelimit"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
	"roster.dev/roster/internal/testtime"
)

const (
	operatorEmail = "op@roster.test"
	pw            = "correct horse battery"
)

// env is one Roster API over one database, with the operator logged in.
type env struct {
	t     testing.TB
	db    *sqlstore.DB
	svc   *account.Service
	srv   *httptest.Server
	api   *httpapi.Server
	op    string // the operator's session token
	logs  *syncBuffer
	clock *testtime.Clock
	dns   *dnstest.Server // where domains' TXT records are looked up
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// envOption changes what newEnv wires (app.Options).
type envOption func(*app.Options)

// withDeps changes the API's dependencies (after the options before it did).
func withDeps(f func(*httpapi.Deps)) envOption {
	return func(o *app.Options) {
		prev := o.API
		o.API = func(d *httpapi.Deps) {
			if prev != nil {
				prev(d)
			}
			f(d)
		}
	}
}

// withLimits changes the rate limits.
func withLimits(f func(*limits.Config)) envOption {
	return func(o *app.Options) { f(&o.Limits) }
}

func newEnv(t testing.TB, db *sqlstore.DB, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, db: db, logs: &syncBuffer{}, clock: testtime.At(time.Now())}
	// The service and the rate limiters share the test clock: tests move it to
	// expire links and refill buckets. The API is served without the console.
	// Domains' TXT records are looked up at a DNS server of the test's own.
	e.dns = dnstest.Start(t)
	o := app.Options{
		Config: config.Config{BaseURL: "http://roster.test", SignUp: true, CheckCache: account.DefaultCheckCacheEntries,
			DNSResolver: e.dns.Addr()},
		DB: db, Logger: slog.New(slog.NewTextHandler(e.logs, nil)), Now: e.clock.Now,
		Hasher:    password.NewHasher(password.TestParams, 4, rand.Reader),
		Limits:    limits.Config{LoginPerIP: ratelimit.Limit{Every: time.Millisecond, Burst: 1000}}, // tests log in often
		NoConsole: true,
		// As in roster serve: entitlement checks come from memory while this process
		// holds the cache lease, so every test of a change and the next check proves
		// it never answers stale.
		Work: []app.Work{app.CacheLease},
	}
	for _, f := range opts {
		f(&o)
	}
	a, err := app.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	a.Start(ctx)
	t.Cleanup(func() { stop(); a.Stop(context.Background()) })
	if _, _, err := a.Service.Bootstrap(context.Background(), operatorEmail, pw); err != nil {
		t.Fatal(err)
	}
	e.svc, e.api = a.Service, a.API
	e.srv = httptest.NewServer(a.Handler)
	t.Cleanup(e.srv.Close)
	e.op = e.login(operatorEmail, pw)
	return e
}

// resp is an answer, with its body decoded as JSON when it is JSON.
type resp struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// call sends a request as token ("" for none). body is JSON-encoded unless it is a
// string, which is sent as it is.
func (e *env) call(token, method, path string, body any) resp {
	e.t.Helper()
	var r io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case upload:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, err := mw.CreateFormFile("file", b.name)
		if err != nil {
			e.t.Fatal(err)
		}
		fw.Write(b.content)
		mw.Close()
		r, contentType = &buf, mw.FormDataContentType()
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
		req.Header.Set("Content-Type", contentType)
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
	// What the request queued for after its answer (a password reset's email) is done
	// before the test looks.
	e.api.Settle()
	out := resp{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if len(raw) > 0 && strings.Contains(res.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			e.t.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, path, err, raw)
		}
	}
	return out
}

// upload is a call body sent as a multipart form with one file field named file.
type upload struct {
	name    string
	content []byte
}

// must calls and fails the test unless the status is want; it returns the body.
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
	b := e.must(200, "", "POST", "/api/v1/auth/login", map[string]any{"email": email, "password": password})
	return b["token"].(string)
}

// org creates an organization (kind organization, or partner when parent is "-").
func (e *env) org(slug, parent string) map[string]any {
	e.t.Helper()
	body := map[string]any{"name": strings.ToUpper(slug[:1]) + slug[1:], "slug": slug, "kind": "organization"}
	switch parent {
	case "-":
		body["kind"] = "partner"
	case "":
	default:
		body["parent"] = parent
	}
	return e.must(201, e.op, "POST", "/api/v1/organizations", body)
}

// member adds a person with a password, as token, and returns the member.
func (e *env) member(token, org, email, role string, extra ...map[string]any) map[string]any {
	e.t.Helper()
	body := map[string]any{"email": email, "first_name": "F" + email[:2], "last_name": "L" + email[:2],
		"role": role, "send_invite": false, "password": pw}
	for _, x := range extra {
		for k, v := range x {
			body[k] = v
		}
	}
	return e.must(201, token, "POST", "/api/v1/organizations/"+org+"/members", body)
}

// person adds a person to org as the operator would, and leaves the account as a
// claim from the mailbox does (TestClaimByPasswordReset shows a reset does it): the
// person's own, managed by no organization, its email verified, with the password pw.
func (e *env) person(org, email, role string) map[string]any {
	e.t.Helper()
	m := e.member(e.op, org, email, role)
	err := e.db.Write(context.Background(), func(tx account.Tx) error {
		a, err := tx.AccountByEmail(context.Background(), email)
		if err != nil {
			return err
		}
		a.ManagedBy, a.EmailVerified = "", true
		return tx.UpdateAccount(context.Background(), a)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func accountID(member map[string]any) string {
	return member["account"].(map[string]any)["id"].(string)
}

// problem checks that r is a problem of the given status and slug, naming fields.
func problem(t *testing.T, r resp, status int, slug string, fields ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d\n%s", r.Status, status, r.Raw)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	if got := r.Body["type"]; got != "https://roster.dev/problems/"+slug {
		t.Errorf("type = %v, want slug %s\n%s", got, slug, r.Raw)
	}
	if int(r.Body["status"].(float64)) != status {
		t.Errorf("body status = %v, want %d", r.Body["status"], status)
	}
	named := map[string]bool{}
	errs, _ := r.Body["errors"].([]any)
	for _, fe := range errs {
		named[fe.(map[string]any)["field"].(string)] = true
	}
	for _, f := range fields {
		if !named[f] {
			t.Errorf("errors do not name field %q\n%s", f, r.Raw)
		}
	}
}

// emails lists the account emails of a member list body, in order.
func emails(list map[string]any) []string {
	var out []string
	for _, it := range list["items"].([]any) {
		out = append(out, it.(map[string]any)["account"].(map[string]any)["email"].(string))
	}
	return out
}

func forEachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) { fn(t, newEnv(t, db)) })
}
