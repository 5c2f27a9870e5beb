package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// metricsAs asks for /metrics as a client at peer (host:port), with headers.
func metricsAs(e *env, peer string, headers map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.RemoteAddr = peer
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.api.ServeHTTP(rec, req)
	return rec
}

// TestMetricsLoopbackOnly: without --metrics-token, /metrics answers a client on
// this host only, judged by the TCP peer and never by X-Forwarded-For; everyone else,
// and any request a proxy relayed, gets the 404 of a route that does not exist.
func TestMetricsLoopbackOnly(t *testing.T) {
	db := storetest.Open(t, sqlstore.SQLite)
	e := newEnv(t, db, withMetrics(db, ""))
	// Over a real connection from this host.
	if r := e.call("", "GET", "/metrics", nil); r.Status != 200 || !strings.Contains(r.Raw, "go_goroutines") {
		t.Fatalf("/metrics from loopback = %d\n%.300s", r.Status, r.Raw)
	}
	for _, peer := range []string{"127.0.0.1:5000", "127.8.9.10:1", "[::1]:5000", "[::ffff:127.0.0.1]:5000"} {
		if rec := metricsAs(e, peer, nil); rec.Code != 200 {
			t.Errorf("/metrics from %s = %d, want 200", peer, rec.Code)
		}
	}
	for _, c := range []struct {
		peer    string
		headers map[string]string
	}{
		{"203.0.113.7:5000", nil},
		{"10.0.0.1:5000", nil},
		{"[2001:db8::1]:5000", nil},
		{"[fe80::1]:5000", nil},
		{"203.0.113.7:5000", map[string]string{"X-Forwarded-For": "127.0.0.1"}},
		{"127.0.0.1:5000", map[string]string{"X-Forwarded-For": "203.0.113.7"}}, // a proxy on this host
		{"127.0.0.1:5000", map[string]string{"Forwarded": "for=203.0.113.7"}},
		{"127.0.0.1:5000", map[string]string{"X-Real-IP": "203.0.113.7"}},
	} {
		rec := metricsAs(e, c.peer, c.headers)
		if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "go_goroutines") ||
			!strings.Contains(rec.Body.String(), `"no such route"`) {
			t.Errorf("/metrics from %s %v = %d, want the 404 of no route\n%.300s", c.peer, c.headers, rec.Code, rec.Body)
		}
	}
	// The refusals count as unmatched requests, not as /metrics.
	body := metricsAs(e, "127.0.0.1:1", nil).Body.String()
	if got := sample(t, body, `roster_http_requests_total{route="unmatched",status="4xx"}`); got != 8 {
		t.Errorf("unmatched 4xx = %v, want 8", got)
	}
	if got := sample(t, body, `roster_http_requests_total{route="GET /metrics",status="4xx"}`); got != -1 {
		t.Errorf("GET /metrics 4xx = %v, want none", got)
	}
}

// TestMetricsTokenFromAnywhere: with --metrics-token, the token is what counts:
// loopback without it is 401, a remote scraper with it is served.
func TestMetricsTokenFromAnywhere(t *testing.T) {
	db := storetest.Open(t, sqlstore.SQLite)
	e := newEnv(t, db, withMetrics(db, "scrape-secret"))
	if rec := metricsAs(e, "127.0.0.1:5000", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("loopback without the token = %d, want 401", rec.Code)
	}
	if rec := metricsAs(e, "203.0.113.7:5000", map[string]string{"Authorization": "Bearer scrape-secret", "X-Forwarded-For": "198.51.100.1"}); rec.Code != 200 {
		t.Errorf("remote with the token = %d, want 200", rec.Code)
	}
}
