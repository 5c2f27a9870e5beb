package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
)

// fakeStore counts its reads and fails while err is set.
type fakeStore struct {
	mu    sync.Mutex
	reads int
	err   error
}

func (f *fakeStore) CountEmails(context.Context) (map[account.OutboxState]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	return map[account.OutboxState]int{account.OutboxPending: 3, account.OutboxSent: 9, account.OutboxFailed: 1}, nil
}

func (f *fakeStore) CountImports(context.Context) (map[account.ImportState]int, error) {
	return map[account.ImportState]int{account.ImportQueued: 2, account.ImportRunning: 1}, nil
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// TestStoreGauges: the store is read at most once per StoreEvery however often it
// is scraped; a failed read is reported and retried at the next scrape.
func TestStoreGauges(t *testing.T) {
	f := &fakeStore{}
	m := New(f, slog.New(slog.DiscardHandler), Options{StoreEvery: time.Hour})
	for range 3 {
		out := scrape(t, m)
		for _, want := range []string{`roster_outbox_messages{state="pending"} 3`, `roster_outbox_messages{state="failed"} 1`,
			`roster_import_jobs{state="queued"} 2`, `roster_store_scrape_error 0`} {
			if !strings.Contains(out, want) {
				t.Fatalf("missing %s in\n%s", want, out)
			}
		}
	}
	if f.reads != 1 {
		t.Errorf("the store was read %d times for 3 scrapes within StoreEvery", f.reads)
	}

	f = &fakeStore{err: errors.New("connection refused")}
	m = New(f, slog.New(slog.DiscardHandler), Options{StoreEvery: time.Hour})
	out := scrape(t, m)
	if !strings.Contains(out, "roster_store_scrape_error 1") || strings.Contains(out, "roster_outbox_messages{") {
		t.Errorf("a failed read:\n%s", out)
	}
	f.mu.Lock()
	f.err = nil
	f.mu.Unlock()
	if out := scrape(t, m); !strings.Contains(out, "roster_store_scrape_error 0") || f.reads != 2 {
		t.Errorf("after the store recovers (%d reads):\n%s", f.reads, out)
	}
}

// TestObserve: requests count by route and status class; a nil *Metrics is a no-op.
func TestObserve(t *testing.T) {
	m := New(nil, nil, Options{})
	m.ObserveRequest("GET /api/v1/me", 204, time.Millisecond)
	m.ObserveRequest("GET /api/v1/me", 200, time.Millisecond)
	m.ObserveRequest("GET /api/v1/me", 503, time.Second)
	m.ObserveCheck("no-seat")
	m.ObserveDelivery("retry")
	out := scrape(t, m)
	for _, want := range []string{
		`roster_http_requests_total{route="GET /api/v1/me",status="2xx"} 2`,
		`roster_http_requests_total{route="GET /api/v1/me",status="5xx"} 1`,
		`roster_http_request_duration_seconds_bucket{route="GET /api/v1/me",status="5xx",le="1"} 1`,
		`roster_http_request_duration_seconds_bucket{route="GET /api/v1/me",status="5xx",le="0.5"} 0`,
		`roster_check_decisions_total{reason="no-seat"} 1`,
		`roster_check_decisions_total{reason="ok"} 0`,
		`roster_outbox_deliveries_total{outcome="retry"} 1`,
		`roster_build_info{goversion="` + runtime.Version() + `",revision=`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(out, "roster_outbox_messages") {
		t.Errorf("store gauges without a store")
	}
	var none *Metrics
	none.ObserveRequest("x", 200, 0)
	none.ObserveCheck("ok")
	none.ObserveDelivery("sent")
}

// TestCheckCache: the cache's hits and misses, and the lease's state and events,
// are read at scrape time.
func TestCheckCache(t *testing.T) {
	m := New(nil, nil, Options{CheckCache: func() (uint64, uint64) { return 7, 3 },
		CacheLease: func() (bool, uint64, uint64, uint64) { return true, 4, 2, 1 }})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{`roster_check_cache_total{result="hit"} 7`, `roster_check_cache_total{result="miss"} 3`,
		"roster_cache_lease_held 1", `roster_cache_lease_events_total{event="taken"} 4`,
		`roster_cache_lease_events_total{event="revoked"} 2`, `roster_cache_lease_events_total{event="lapsed"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestStoreRetries: the store's retried transactions are counted by SQLSTATE.
func TestStoreRetries(t *testing.T) {
	m := New(nil, nil, Options{StoreRetries: func() map[string]uint64 { return map[string]uint64{"40P01": 3, "40001": 1} }})
	out := scrape(t, m)
	for _, want := range []string{`roster_store_retries_total{code="40P01"} 3`, `roster_store_retries_total{code="40001"} 1`} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
}

// TestSQLiteWAL: the WAL's size and the checkpoints are exported on SQLite.
func TestSQLiteWAL(t *testing.T) {
	m := New(nil, nil, Options{SQLiteWAL: func() (int64, int64, uint64, uint64, uint64) { return 120, 4100, 900, 7, 2 }})
	out := scrape(t, m)
	for _, want := range []string{"roster_sqlite_wal_pages 120", "roster_sqlite_wal_max_pages 4100",
		`roster_sqlite_checkpoints_total{mode="passive"} 900`, `roster_sqlite_checkpoints_total{mode="restart"} 7`,
		`roster_sqlite_checkpoints_total{mode="restart_busy"} 2`} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if out := scrape(t, New(nil, nil, Options{})); strings.Contains(out, "roster_sqlite") {
		t.Errorf("SQLite figures without SQLiteWAL:\n%s", out)
	}
}
