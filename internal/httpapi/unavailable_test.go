package httpapi_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/mail"
	"roster.dev/roster/internal/mail/smtptest"
	"roster.dev/roster/internal/outbox"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// faultTimeout is the store timeout of the fault tests: short, so that they are.
const faultTimeout = time.Second

// unavailableWithin sends method path as e.op and wants a 503 unavailable with
// Retry-After within limit.
func unavailableWithin(t *testing.T, e *env, limit time.Duration, method, path string, body any) {
	t.Helper()
	t0 := time.Now()
	r := e.call(e.op, method, path, body)
	took := time.Since(t0)
	problem(t, r, 503, "unavailable")
	if ra := r.Header.Get("Retry-After"); ra != "5" {
		t.Errorf("%s %s: Retry-After = %q, want 5", method, path, ra)
	}
	if took > limit {
		t.Errorf("%s %s answered 503 after %v, want within %v", method, path, took, limit)
	}
}

// eventually retries method path as e.op until it answers want, for up to limit.
func eventually(t *testing.T, e *env, limit time.Duration, want int, method, path string, body any) map[string]any {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		r := e.call(e.op, method, path, body)
		if r.Status == want {
			return r.Body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s = %d after %v, want %d\n%s", method, path, r.Status, limit, want, r.Raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPostgresOutage runs the API on a PostgreSQL server of the test's own and takes
// it away twice: stopped as by a crash, then frozen (SIGSTOP: connections open, no
// answer). Each time reads and writes answer 503 unavailable with Retry-After within
// the store timeout, never 500 and never a hang; once the server is back, requests
// succeed again and the outbox worker delivers what was written since.
func TestPostgresOutage(t *testing.T) {
	pg := storetest.StartPostgres(t)
	ctx := context.Background()
	db, err := sqlstore.OpenWith(ctx, pg.URL, sqlstore.Options{Timeout: faultTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, db)
	e.org("acme", "")

	smtp := smtptest.Start(t)
	sender, err := mail.NewSMTPSender(smtp.URL(), "Roster <roster@acme.test>")
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	w := &outbox.Worker{Store: db, Sender: sender, From: "Roster <roster@acme.test>",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), BatchSize: 10, MaxAttempts: 1000,
		Backoff: func(int) time.Duration { return 20 * time.Millisecond }, PollEvery: 20 * time.Millisecond}
	wg.Go(func() { w.Run(wctx) })
	t.Cleanup(func() { stop(); wg.Wait() })
	delivered := func(n int) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for len(smtp.Received()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d emails delivered after 15s, want %d", len(smtp.Received()), n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	invite := func(i int) map[string]any {
		return map[string]any{"emails": []string{fmt.Sprintf("p%d@invitee.test", i)}}
	}
	const invitations = "/api/v1/organizations/acme/invitations"
	e.must(200, e.op, "POST", invitations, invite(0))
	delivered(1)

	limit := faultTimeout + 2*time.Second
	for _, fault := range []struct {
		name       string
		take, back func()
	}{
		{"stopped", pg.StopImmediate, pg.Start},
		{"frozen", pg.Freeze, pg.Thaw},
	} {
		fault.take()
		unavailableWithin(t, e, limit, "GET", "/api/v1/organizations/acme", nil)
		unavailableWithin(t, e, limit, "GET", "/api/v1/organizations/acme/members", nil)
		unavailableWithin(t, e, limit, "POST", invitations, invite(99))
		fault.back()
		eventually(t, e, 15*time.Second, 200, "GET", "/api/v1/organizations/acme", nil)
		n := len(smtp.Received())
		eventually(t, e, 5*time.Second, 200, "POST", invitations, invite(n))
		delivered(n + 1)
		if t.Failed() {
			t.Fatalf("after the %s server", fault.name)
		}
	}
	if !strings.Contains(e.logs.String(), "store unavailable") {
		t.Errorf("no \"store unavailable\" warning logged")
	}
}

// TestSQLiteLocked: another process holds the SQLite file's write lock; writes
// answer 503 unavailable with Retry-After once the busy timeout (the store timeout)
// has passed, never 500 and never later; reads go on (WAL); once the lock is let go,
// writes succeed again.
func TestSQLiteLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.db")
	ctx := context.Background()
	db, err := sqlstore.OpenWith(ctx, "sqlite://"+path, sqlstore.Options{Timeout: faultTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, db)
	e.org("acme", "")

	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	unavailableWithin(t, e, faultTimeout+2*time.Second, "POST", "/api/v1/organizations", map[string]any{"name": "Beta", "slug": "beta", "kind": "organization"})
	e.must(200, e.op, "GET", "/api/v1/organizations/acme", nil)
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	e.must(201, e.op, "POST", "/api/v1/organizations", map[string]any{"name": "Beta", "slug": "beta", "kind": "organization"})
}
