package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/mail/smtptest"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/testtime"
)

// enqueue writes an email to the outbox of the store at dbURL, as a use case would.
func enqueue(t *testing.T, dbURL string, e account.Email) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, func(tx account.Tx) error { return tx.EnqueueEmail(ctx, e) }); err != nil {
		t.Fatal(err)
	}
}

// TestServeDeliversOutbox: serve runs the outbox worker with the --smtp server.
func TestServeDeliversOutbox(t *testing.T) {
	srv := smtptest.Start(t)
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "roster.db")
	start(t, map[string]string{"ROSTER_DATABASE_URL": dbURL, "ROSTER_BOOTSTRAP_EMAIL": "op@roster.test",
		"ROSTER_BOOTSTRAP_PASSWORD": "correct horse battery"}, "--smtp", srv.URL(), "--mail-from", "Roster <roster@acme.test>")
	enqueue(t, dbURL, account.Email{ID: "mail1", Kind: "test", To: "ada@acme.test", Subject: "Hello",
		Text: "Hello, Ada.", HTML: "<p>Hello, Ada.</p>", CreatedAt: time.Now()})
	testtime.WaitFor(t, 20*time.Second, "the outbox worker has delivered", func() bool { return len(srv.Received()) > 0 })
	got := srv.Received()[0]
	if got.Header.Get("Subject") != "Hello" || !strings.Contains(got.Header.Get("From"), "roster@acme.test") || got.Text != "Hello, Ada." {
		t.Errorf("delivered %+v", got)
	}
}

func TestOutboxCommand(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "roster.db")
	enqueue(t, dbURL, account.Email{ID: "m1", Kind: "test", To: "ada@acme.test", Subject: "First", Text: "x", CreatedAt: time.Now()})
	env := func(k string) string { return map[string]string{"ROSTER_DATABASE_URL": dbURL}[k] }
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"outbox", "list"}, env, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	if !strings.Contains(out.String(), "pending 1, sent 0, failed 0") || !strings.Contains(out.String(), "First") {
		t.Errorf("outbox list printed:\n%s", out.String())
	}
	if err := run(context.Background(), []string{"outbox", "list", "-state", "lost"}, env, &out, &errb); err == nil {
		t.Error("a bad -state was accepted")
	}
	// Only a failed message can be retried.
	if err := run(context.Background(), []string{"outbox", "retry", "m1"}, env, &out, &errb); err == nil {
		t.Error("retrying a pending message succeeded")
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimEmails(ctx, "test", time.Now(), 10, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkEmailFailed(ctx, "m1", "550 no such user", time.Now()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out.Reset()
	if err := run(context.Background(), []string{"outbox", "retry", "m1"}, env, &out, &errb); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"outbox", "list", "-state", "pending"}, env, &out, &errb); err != nil || !strings.Contains(out.String(), "m1") {
		t.Errorf("after retry: %q, %v", out.String(), err)
	}
	// -all retries every failed message; ids and -all do not go together.
	db, err = sqlstore.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimEmails(ctx, "test", time.Now(), 10, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkEmailFailed(ctx, "m1", "550 no such user", time.Now()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := run(ctx, []string{"outbox", "retry", "-all", "m1"}, env, &out, &errb); err == nil {
		t.Error("retry -all with an id succeeded")
	}
	out.Reset()
	if err := run(ctx, []string{"outbox", "retry", "-all"}, env, &out, &errb); err != nil || !strings.Contains(out.String(), "1 failed message will be sent again") {
		t.Errorf("retry -all = %q, %v", out.String(), err)
	}
	out.Reset()
	if err := run(ctx, []string{"outbox", "list", "-state", "failed"}, env, &out, &errb); err != nil || !strings.Contains(out.String(), "failed 0") {
		t.Errorf("after retry -all: %q, %v", out.String(), err)
	}
}

// TestServeHandsBackMailClaims: serve stopped (SIGTERM) while its worker sends a batch
// finishes the email in flight and hands back the others before the store closes:
// another process claims them at once.
func TestServeHandsBackMailClaims(t *testing.T) {
	for name, dbURL := range databases(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var once sync.Once
			inFlight := make(chan struct{})
			srv := smtptest.Start(t, func(s *smtptest.Server) {
				s.Rcpt = func(string) error {
					once.Do(func() {
						close(inFlight)
						time.Sleep(200 * time.Millisecond) // SIGTERM meanwhile
					})
					return nil
				}
			})
			db, err := sqlstore.Open(ctx, dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			err = db.Write(ctx, func(tx account.Tx) error {
				for i := range 3 {
					err := tx.EnqueueEmail(ctx, account.Email{ID: fmt.Sprintf("mail%d", i), Kind: "test",
						To: fmt.Sprintf("u%d@acme.test", i), Subject: "Hello", Text: "Hello.", CreatedAt: time.Now()})
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			stderr := &lockedBuffer{}
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"serve", "--addr", freeAddr(t), "--smtp", srv.URL(), "--mail-from", "roster@acme.test"},
					func(k string) string { return map[string]string{"ROSTER_DATABASE_URL": dbURL}[k] }, io.Discard, stderr)
			}()
			select {
			case <-inFlight:
			case err := <-done:
				t.Fatalf("serve exited: %v\n%s", err, stderr)
			case <-time.After(30 * time.Second):
				t.Fatalf("no email in flight within 30s\n%s", stderr)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("serve: %v\n%s", err, stderr)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop within 30s")
			}
			if n := len(srv.Received()); n != 1 {
				t.Errorf("%d emails received, want the one in flight", n)
			}
			ms, err := db.ClaimEmails(context.Background(), "other-process", time.Now(), 10, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 2 {
				t.Fatalf("another process claimed %d emails at once, want the 2 handed back\n%s", len(ms), stderr)
			}
			for _, m := range ms {
				if m.Attempts != 1 {
					t.Errorf("%s: attempt %d, want 1 (none spent before)", m.ID, m.Attempts)
				}
			}
		})
	}
}
