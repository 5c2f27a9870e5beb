package outbox_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/mail"
	"roster.dev/roster/internal/mail/smtptest"
	"roster.dev/roster/internal/outbox"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
	"roster.dev/roster/internal/testtime"
)

var _ outbox.Store = (*sqlstore.DB)(nil)

// countingStore counts the claims made through it, and those that found nothing due.
type countingStore struct {
	outbox.Store
	calls, empty atomic.Int32
}

func (s *countingStore) ClaimEmails(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]account.OutboxMessage, error) {
	ms, err := s.Store.ClaimEmails(ctx, owner, now, limit, lease)
	if err == nil && len(ms) == 0 {
		s.empty.Add(1)
	}
	s.calls.Add(1)
	return ms, err
}

var ctx = context.Background()

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)

const backoff = time.Minute

// newWorker is a worker on db sending to srv, at the time of c, with a fixed backoff.
func newWorker(t *testing.T, db *sqlstore.DB, srv *smtptest.Server, c *testtime.Clock) *outbox.Worker {
	t.Helper()
	sender, err := mail.NewSMTPSender(srv.URL(), "Roster <no-reply@roster.example>")
	if err != nil {
		t.Fatal(err)
	}
	return &outbox.Worker{
		Store: db, Sender: sender, From: "Roster <no-reply@roster.example>",
		Log: slog.New(slog.DiscardHandler), Now: c.Now,
		Backoff: func(int) time.Duration { return backoff },
	}
}

func enqueue(t *testing.T, db *sqlstore.DB, at time.Time, tos ...string) []string {
	t.Helper()
	var ids []string
	err := db.Write(ctx, func(tx account.Tx) error {
		for _, to := range tos {
			id := fmt.Sprintf("em-%s", strings.NewReplacer("@", "-", ".", "-").Replace(to))
			ids = append(ids, id)
			err := tx.EnqueueEmail(ctx, account.Email{
				ID: id, OrgID: "org-acme", Kind: "invitation", To: to,
				Subject: "Join Acme", Text: "Hello " + to, HTML: "<p>Hello " + to + "</p>", CreatedAt: at,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func runOnce(t *testing.T, w *outbox.Worker, sent, retried, failed int) {
	t.Helper()
	s, r, f, err := w.RunOnce(ctx)
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if s != sent || r != retried || f != failed {
		t.Fatalf("RunOnce: sent %d, retried %d, failed %d; want %d, %d, %d", s, r, f, sent, retried, failed)
	}
}

func message(t *testing.T, db *sqlstore.DB, id string) account.OutboxMessage {
	t.Helper()
	ms, err := db.FindEmails(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("no message %s", id)
	return account.OutboxMessage{}
}

func TestWorkerDeliversOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		srv := smtptest.Start(t)
		c := testtime.At(t0)
		w := newWorker(t, db, srv, c)
		w.BatchSize = 3
		ids := enqueue(t, db, t0, "ada@acme.example", "bob@acme.example", "cy@acme.example", "di@acme.example")
		enqueue(t, db, t0.Add(time.Hour), "later@acme.example")

		runOnce(t, w, 3, 0, 0)
		runOnce(t, w, 1, 0, 0)
		runOnce(t, w, 0, 0, 0)
		got := srv.CountByMessageID()
		if len(got) != 4 {
			t.Fatalf("received %v, want 4 messages", got)
		}
		for _, id := range ids {
			if got[mail.MessageID(id, "")] != 1 {
				t.Errorf("%s received %d times", id, got[mail.MessageID(id, "")])
			}
			if m := message(t, db, id); m.State != account.OutboxSent || !m.SentAt.Equal(t0) || m.Attempts != 1 {
				t.Errorf("%s: %+v", id, m)
			}
		}
		r := srv.Received()[0]
		if r.Header.Get("From") != `"Roster" <no-reply@roster.example>` || r.Text != "Hello ada@acme.example" ||
			r.HTML != "<p>Hello ada@acme.example</p>" || r.Header.Get("Subject") != "Join Acme" {
			t.Errorf("received %+v", r)
		}

		// The later message when due.
		c.Advance(time.Hour)
		runOnce(t, w, 1, 0, 0)
		if n := len(srv.Received()); n != 5 {
			t.Errorf("%d messages received, want 5", n)
		}
	})
}

func TestWorkerRetriesTemporaryFailures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		var busy atomic.Int32
		busy.Store(1) // the first attempt at busy@ is refused
		srv := smtptest.Start(t, func(s *smtptest.Server) {
			s.Rcpt = func(to string) error {
				if strings.HasPrefix(to, "busy@") && busy.Add(-1) >= 0 {
					return smtptest.Reply(451, "greylisted, try again later")
				}
				return nil
			}
		})
		c := testtime.At(t0)
		w := newWorker(t, db, srv, c)
		ids := enqueue(t, db, t0, "busy@acme.example")

		runOnce(t, w, 0, 1, 0)
		m := message(t, db, ids[0])
		if m.State != account.OutboxPending || !m.NextAt.Equal(t0.Add(backoff)) || !strings.Contains(m.LastError, "451") {
			t.Fatalf("after a 451: %+v", m)
		}
		runOnce(t, w, 0, 0, 0) // not due before its backoff
		c.Advance(backoff)
		runOnce(t, w, 1, 0, 0)
		m = message(t, db, ids[0])
		if m.State != account.OutboxSent || m.Attempts != 2 || m.LastError != "" {
			t.Fatalf("after the retry: %+v", m)
		}
		if got := srv.CountByMessageID(); len(got) != 1 || got[mail.MessageID(ids[0], "")] != 1 {
			t.Errorf("received %v", got)
		}
	})
}

func TestWorkerFailures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		srv := smtptest.Start(t, func(s *smtptest.Server) {
			s.Rcpt = func(to string) error {
				switch {
				case strings.HasPrefix(to, "nobody@"):
					return smtptest.Reply(550, "no such user")
				case strings.HasPrefix(to, "busy@"):
					return smtptest.Reply(451, "try again later")
				}
				return nil
			}
		})
		c := testtime.At(t0)
		w := newWorker(t, db, srv, c)
		w.MaxAttempts = 3
		var mu sync.Mutex
		outcomes := map[string]int{}
		w.Observe = func(o string) { mu.Lock(); outcomes[o]++; mu.Unlock() }
		ids := enqueue(t, db, t0, "busy@acme.example", "nobody@acme.example")

		// A 550 fails at once; a 451 is retried until MaxAttempts.
		runOnce(t, w, 0, 1, 1)
		m := message(t, db, ids[1])
		if m.State != account.OutboxFailed || m.Attempts != 1 || !strings.Contains(m.LastError, "550") {
			t.Fatalf("after a 550: %+v", m)
		}
		c.Advance(backoff)
		runOnce(t, w, 0, 1, 0)
		c.Advance(backoff)
		runOnce(t, w, 0, 0, 1)
		m = message(t, db, ids[0])
		if m.State != account.OutboxFailed || m.Attempts != 3 || !strings.Contains(m.LastError, "451") {
			t.Fatalf("after MaxAttempts: %+v", m)
		}
		c.Advance(24 * time.Hour)
		runOnce(t, w, 0, 0, 0)

		// An operator's retry sends it again with MaxAttempts fresh attempts.
		if err := db.RetryEmail(ctx, ids[0], c.Now()); err != nil {
			t.Fatal(err)
		}
		runOnce(t, w, 0, 1, 0)
		if n := len(srv.Received()); n != 0 {
			t.Errorf("%d messages received, want 0", n)
		}
		mu.Lock()
		defer mu.Unlock()
		if want := map[string]int{"retry": 3, "failed": 2}; fmt.Sprint(outcomes) != fmt.Sprint(want) {
			t.Errorf("observed outcomes %v, want %v", outcomes, want)
		}
	})
}

// TestWorkerLeaseExpiry: a worker that claimed messages and died leaves them to be
// delivered once the lease expires.
func TestWorkerLeaseExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		srv := smtptest.Start(t)
		c := testtime.At(t0)
		w := newWorker(t, db, srv, c)
		w.Lease = 5 * time.Minute
		ids := enqueue(t, db, t0, "ada@acme.example")
		if ms, err := db.ClaimEmails(ctx, "test", t0, 10, w.Lease); err != nil || len(ms) != 1 {
			t.Fatalf("claim: %v, %v", ms, err)
		}
		runOnce(t, w, 0, 0, 0)
		c.Advance(w.Lease + time.Microsecond)
		runOnce(t, w, 1, 0, 0)
		if m := message(t, db, ids[0]); m.State != account.OutboxSent || m.Attempts != 2 {
			t.Fatalf("after expiry: %+v", m)
		}
	})
}

func TestWorkerConnectionRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		srv := smtptest.Start(t)
		c := testtime.At(t0)
		w := newWorker(t, db, srv, c)
		// A sender to a port where nothing listens.
		dead, err := mail.NewSMTPSender("smtp://127.0.0.1:1", "a@b.example")
		if err != nil {
			t.Fatal(err)
		}
		w.Sender = dead
		ids := enqueue(t, db, t0, "ada@acme.example")
		runOnce(t, w, 0, 1, 0)
		if m := message(t, db, ids[0]); m.State != account.OutboxPending || m.LastError == "" {
			t.Fatalf("after refusal: %+v", m)
		}
	})
}

func TestWorkerLogSender(t *testing.T) {
	db := storetest.Open(t, sqlstore.SQLite)
	var buf bytes.Buffer
	c := testtime.At(t0)
	w := &outbox.Worker{Store: db, Sender: mail.NewLogSender(slog.New(slog.NewTextHandler(&buf, nil))), Now: c.Now,
		Log: slog.New(slog.DiscardHandler)}
	ids := enqueue(t, db, t0, "ada@acme.example")
	runOnce(t, w, 1, 0, 0)
	if out := buf.String(); !strings.Contains(out, "to=ada@acme.example") || !strings.Contains(out, "Hello ada@acme.example") {
		t.Errorf("log %q", out)
	}
	if m := message(t, db, ids[0]); m.State != account.OutboxSent {
		t.Errorf("%+v", m)
	}
}

// TestWorkersShareTheOutbox runs two workers, each on its own DB of one database (as
// two Roster processes), until 100 messages are delivered: each exactly once.
func TestWorkersShareTheOutbox(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(string(engine), func(t *testing.T) {
			dbs := storetest.OpenShared(t, engine, 2)
			srv := smtptest.Start(t)
			const n = 100
			tos := make([]string, n)
			for i := range tos {
				tos[i] = fmt.Sprintf("user%03d@acme.example", i)
			}
			ids := enqueue(t, dbs[0], time.Now().Add(-time.Minute), tos...)

			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			var wg sync.WaitGroup
			for _, db := range dbs {
				w := newWorker(t, db, srv, nil)
				w.Now, w.BatchSize, w.PollEvery = nil, 4, 10*time.Millisecond
				wg.Go(func() { w.Run(ctx) })
			}
			for ctx.Err() == nil {
				counts, err := dbs[1].CountEmails(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if counts[account.OutboxSent] == n {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
			wg.Wait()

			got := srv.CountByMessageID()
			if len(got) != n {
				t.Errorf("%d distinct messages received, want %d", len(got), n)
			}
			for _, id := range ids {
				if c := got[mail.MessageID(id, "")]; c != 1 {
					t.Errorf("%s received %d times", id, c)
				}
			}
		})
	}
}

func TestDefaultBackoff(t *testing.T) {
	for attempt, want := range map[int]time.Duration{
		0: 30 * time.Second, 1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute,
		7: 32 * time.Minute, 8: time.Hour, 9: time.Hour, 100: time.Hour,
	} {
		for range 50 {
			got := outbox.DefaultBackoff(attempt)
			if lo, hi := want*8/10, want*12/10; got < lo || got > hi {
				t.Fatalf("DefaultBackoff(%d) = %v, want within 20%% of %v", attempt, got, want)
			}
		}
	}
}

// TestWakeOnCommit: with the store's OnEmail wired to Wake, a committed email is
// delivered at once, not at the next poll (an hour away here): the worker has
// found the outbox empty before the email is committed, so only the wake-up can
// make it look again.
func TestWakeOnCommit(t *testing.T) {
	db := storetest.Open(t, sqlstore.SQLite)
	srv := smtptest.Start(t)
	w := newWorker(t, db, srv, testtime.At(time.Now()))
	claims := &countingStore{Store: db}
	w.Store, w.Now, w.PollEvery = claims, nil, time.Hour
	db.OnEmail(w.Wake)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	testtime.WaitFor(t, 20*time.Second, "the worker has found the outbox empty", func() bool { return claims.empty.Load() == 1 })
	enqueue(t, db, time.Now(), "ada@acme.example")
	testtime.WaitFor(t, 20*time.Second, "the committed email delivered (the worker woken)", func() bool { return len(srv.Received()) == 1 })
	if n := claims.calls.Load(); n != 2 {
		t.Errorf("the worker claimed %d times, want 2: the empty poll and the one woken", n)
	}
	w.Wake()
	w.Wake() // never blocks, even with a wake-up pending
}

// TestWorkerNeverMailsPlaceholders: an email to a placeholder address left in the
// outbox (written before Roster refused to enqueue them) fails at once, unsent.
func TestWorkerNeverMailsPlaceholders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		var mu sync.Mutex
		var tried []string
		srv := smtptest.Start(t, func(s *smtptest.Server) {
			s.Rcpt = func(to string) error {
				mu.Lock()
				defer mu.Unlock()
				tried = append(tried, to)
				return nil
			}
		})
		c := testtime.At(t0)
		w := newWorker(t, db, srv, c)
		ids := enqueue(t, db, t0, "06h3qq1smtzt3ktx8d2wae9vsm@scim.invalid", "ada@acme.example")
		runOnce(t, w, 1, 0, 1)
		if m := message(t, db, ids[0]); m.State != account.OutboxFailed || !strings.Contains(m.LastError, "placeholder") {
			t.Errorf("the placeholder's email is %s (%q), want failed", m.State, m.LastError)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(tried) != 1 || tried[0] != "ada@acme.example" {
			t.Errorf("recipients tried: %v, want ada@acme.example alone", tried)
		}
	})
}
