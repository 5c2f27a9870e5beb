package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"roster.dev/roster/internal/httpapi"
	"roster.dev/roster/internal/metrics"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// withMetrics serves /metrics from a registry whose store counts are never reused.
func withMetrics(db *sqlstore.DB, token string) envOption {
	return withDeps(func(d *httpapi.Deps) {
		d.Metrics = metrics.New(db, slog.New(slog.DiscardHandler), metrics.Options{StoreEvery: time.Nanosecond})
		d.MetricsToken = token
	})
}

// sample reads one sample's value from a Prometheus text exposition; -1 when absent.
func sample(t *testing.T, text, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", series, err)
	}
	return v
}

// TestMetrics: /metrics counts requests by route pattern and status class (never by
// raw path), the check's decisions, and reads the outbox and import queues from the
// store; with a token it is closed to everyone else.
func TestMetrics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, withMetrics(db, "scrape-secret"))
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		key := e.must(201, e.op, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "prod"})["key"].(string)
		sub := e.subscribe("acme", "studio", 10, 30*24*time.Hour)
		bob := accountID(e.member(e.op, "acme", "bob@acme.test", "member"))
		e.must(200, e.op, "PUT", "/api/v1/organizations/acme/subscriptions/"+sub["id"].(string)+"/seats/"+bob, nil)
		e.must(200, key, "GET", "/api/v1/check?organization=acme&account="+bob, nil)
		e.must(200, key, "GET", "/api/v1/check?organization=acme&account=nobody", nil)
		e.must(200, e.op, "GET", "/api/v1/organizations/acme/members", nil)
		e.must(200, e.op, "GET", "/api/v1/organizations/acme/members?limit=1", nil)
		e.must(404, e.op, "GET", "/api/v1/organizations/nowhere/members", nil)
		e.must(404, "", "GET", "/api/v1/no/such/route", nil)
		// The seat's notice and an invitation wait in the outbox (no worker runs here);
		// an upload waits for a runner.
		e.must(201, e.op, "POST", "/api/v1/organizations/acme/members", map[string]any{"email": "new@acme.test",
			"first_name": "N", "last_name": "W", "send_invite": true})
		e.must(202, e.op, "POST", "/api/v1/organizations/acme/imports", upload{name: "people.csv", content: []byte("email\nx@acme.test\n")})

		problem(t, e.call("", "GET", "/metrics", nil), 401, "unauthenticated")
		problem(t, e.call("wrong", "GET", "/metrics", nil), 401, "unauthenticated")
		r := e.call("scrape-secret", "GET", "/metrics", nil)
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("/metrics = %d %s", r.Status, r.Header.Get("Content-Type"))
		}
		for series, want := range map[string]float64{
			`roster_http_requests_total{route="GET /api/v1/organizations/{org}/members",status="2xx"}`:                 2,
			`roster_http_requests_total{route="GET /api/v1/organizations/{org}/members",status="4xx"}`:                 1,
			`roster_http_request_duration_seconds_count{route="GET /api/v1/organizations/{org}/members",status="2xx"}`: 2,
			`roster_http_requests_total{route="GET /api/v1/check",status="2xx"}`:                                       2,
			`roster_http_requests_total{route="unmatched",status="4xx"}`:                                               1,
			`roster_http_requests_total{route="GET /metrics",status="4xx"}`:                                            2,
			`roster_check_decisions_total{reason="ok"}`:                                                                1,
			`roster_check_decisions_total{reason="not-member"}`:                                                        1,
			`roster_check_decisions_total{reason="deactivated"}`:                                                       0,
			`roster_outbox_messages{state="pending"}`:                                                                  2,
			`roster_outbox_messages{state="failed"}`:                                                                   0,
			`roster_outbox_deliveries_total{outcome="sent"}`:                                                           0,
			`roster_import_jobs{state="queued"}`:                                                                       1,
			`roster_import_jobs{state="done"}`:                                                                         0,
			`roster_store_scrape_error`:                                                                                0,
		} {
			if got := sample(t, r.Raw, series); got != want {
				t.Errorf("%s = %v, want %v", series, got, want)
			}
		}
		for _, series := range []string{"process_resident_memory_bytes", "go_memstats_heap_alloc_bytes", "go_goroutines"} {
			if sample(t, r.Raw, series) <= 0 {
				t.Errorf("%s missing", series)
			}
		}
		if strings.Contains(r.Raw, "/organizations/acme") || strings.Contains(r.Raw, bob) {
			t.Errorf("a raw path or an id reached the metrics' labels")
		}

		// A store that does not answer is reported, not shown as stale numbers.
		db.Close()
		r = e.call("scrape-secret", "GET", "/metrics", nil)
		if got := sample(t, r.Raw, "roster_store_scrape_error"); r.Status != 200 || got != 1 {
			t.Errorf("with the store closed: %d, roster_store_scrape_error = %v", r.Status, got)
		}
		if strings.Contains(r.Raw, "roster_outbox_messages{") {
			t.Errorf("outbox counts shown without a store")
		}
	})
}

// TestMetricsOff: without Metrics there is no /metrics route.
func TestMetricsOff(t *testing.T) {
	e := newEnv(t, storetest.Open(t, sqlstore.SQLite))
	problem(t, e.call("", "GET", "/metrics", nil), 404, "not-found")
}

// TestReadyz: /readyz follows the readiness check and turns 503 once the server
// drains, while /healthz and the API go on answering.
func TestReadyz(t *testing.T) {
	db := storetest.Open(t, sqlstore.SQLite)
	var broken atomic.Bool
	e := newEnv(t, db, withDeps(func(d *httpapi.Deps) {
		d.Readiness = func(ctx context.Context) error {
			if broken.Load() {
				return errors.New("the schema is behind")
			}
			return db.Ready(ctx)
		}
	}))
	if r := e.call("", "GET", "/readyz", nil); r.Status != 200 || r.Body["status"] != "ok" {
		t.Fatalf("readyz = %d %s", r.Status, r.Raw)
	}
	broken.Store(true)
	if r := e.call("", "GET", "/readyz", nil); r.Status != 503 || r.Body["status"] != "unavailable" {
		t.Errorf("readyz with a failing check = %d %s", r.Status, r.Raw)
	}
	if !strings.Contains(e.logs.String(), "the schema is behind") {
		t.Errorf("the failing check is not logged")
	}
	broken.Store(false)
	e.api.Drain()
	if r := e.call("", "GET", "/readyz", nil); r.Status != 503 || r.Body["status"] != "draining" {
		t.Errorf("readyz while draining = %d %s", r.Status, r.Raw)
	}
	if r := e.call("", "GET", "/healthz", nil); r.Status != 200 {
		t.Errorf("healthz while draining = %d", r.Status)
	}
	e.must(200, e.op, "GET", "/api/v1/me", nil)
}

// TestRequestIDs: every problem carries the request id of its X-Request-ID header
// and of the request's log line, a valid id sent by the client is kept, and an
// internal error's log line carries it too.
func TestRequestIDs(t *testing.T) {
	db := storetest.Open(t, sqlstore.SQLite)
	e := newEnv(t, db)
	cases := []resp{
		e.call("", "POST", "/api/v1/auth/login", `{"email":`),                                                                         // 400
		e.call(e.op, "POST", "/api/v1/organizations", map[string]any{"name": "", "kind": "organization"}),                             // 422
		e.call(e.op, "GET", "/api/v1/organizations/nowhere", nil),                                                                     // 404
		e.call("", "GET", "/api/v1/me", nil),                                                                                          // 401
		e.call(e.op, "POST", "/api/v1/organizations", map[string]any{"name": "X", "kind": "organization", "parent": "x", "bogus": 1}), // 422
	}
	for _, r := range cases {
		id := r.Header.Get("X-Request-ID")
		if r.Status < 400 || id == "" || r.Body["request_id"] != id {
			t.Errorf("%d: request_id %v, header %q\n%s", r.Status, r.Body["request_id"], id, r.Raw)
			continue
		}
		if !strings.Contains(e.logs.String(), "request_id="+id) {
			t.Errorf("no log line carries request_id=%s", id)
		}
	}

	req := func(id string) resp {
		t.Helper()
		hreq, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/organizations/nowhere", nil)
		hreq.Header.Set("Authorization", "Bearer "+e.op)
		hreq.Header.Set("X-Request-ID", id)
		res, err := e.srv.Client().Do(hreq)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out := resp{Status: res.StatusCode, Header: res.Header}
		if err := json.NewDecoder(res.Body).Decode(&out.Body); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if r := req("lb-7f3a.2"); r.Header.Get("X-Request-ID") != "lb-7f3a.2" || r.Body["request_id"] != "lb-7f3a.2" {
		t.Errorf("a client's request id is not kept: %v %s", r.Header, r.Raw)
	}
	if r := req("bad id with spaces"); r.Header.Get("X-Request-ID") == "bad id with spaces" || r.Body["request_id"] != r.Header.Get("X-Request-ID") {
		t.Errorf("an invalid request id is kept: %v %s", r.Header, r.Raw)
	}

	// An internal error: the answer says only "internal error" and its request id,
	// which the log line with the cause carries.
	db.Close()
	r := e.call(e.op, "GET", "/api/v1/organizations/acme/members", nil)
	id := r.Header.Get("X-Request-ID")
	if r.Status != 500 || r.Body["request_id"] != id || strings.Contains(r.Raw, "closed") {
		t.Fatalf("internal error = %d %s", r.Status, r.Raw)
	}
	if !regexp.MustCompile(`msg="internal error".*request_id=` + id).MatchString(e.logs.String()) {
		t.Errorf("the internal error's log line lacks request_id=%s:\n%s", id, e.logs.String())
	}
}
