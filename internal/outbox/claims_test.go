package outbox_test

import (
	"context"
	"errors"
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

// senderFunc is a mail.Sender of a function.
type senderFunc func(ctx context.Context, m mail.Message) error

func (f senderFunc) Send(ctx context.Context, m mail.Message) error { return f(ctx, m) }

// wantReceivedOnce checks that srv received each of ids exactly once.
func wantReceivedOnce(t *testing.T, srv *smtptest.Server, ids []string) {
	t.Helper()
	got := srv.CountByMessageID()
	if len(got) != len(ids) {
		t.Errorf("received %v, want each of %v once", got, ids)
	}
	for _, id := range ids {
		if got[mail.MessageID(id, "")] != 1 {
			t.Errorf("%s received %d times, want once", id, got[mail.MessageID(id, "")])
		}
	}
}

// TestWorkerHandsBackClaimsOnShutdown: a worker whose context ends mid-batch (SIGTERM)
// finishes the message in flight and hands back the claims of the others, which
// another worker then claims at once, with no attempt spent on them.
func TestWorkerHandsBackClaimsOnShutdown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		srv := smtptest.Start(t)
		c := testtime.At(t0)
		a := newWorker(t, db, srv, c)
		a.ID, a.BatchSize = "worker-a", 4
		ids := enqueue(t, db, t0, "ada@acme.example", "bob@acme.example", "cy@acme.example", "di@acme.example")
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		smtp := a.Sender
		var n atomic.Int32
		a.Sender = senderFunc(func(sctx context.Context, m mail.Message) error {
			if n.Add(1) == 2 {
				cancel() // SIGTERM while the second message is being sent
				time.Sleep(20 * time.Millisecond)
			}
			return smtp.Send(sctx, m)
		})
		sent, retried, failed, err := a.RunOnce(runCtx)
		if !errors.Is(err, context.Canceled) || sent != 2 || retried != 0 || failed != 0 {
			t.Fatalf("RunOnce cancelled: sent %d, retried %d, failed %d, %v; want 2, 0, 0, context canceled",
				sent, retried, failed, err)
		}
		for _, id := range ids[:2] {
			if m := message(t, db, id); m.State != account.OutboxSent {
				t.Errorf("%s, in flight or before: %+v", id, m)
			}
		}

		b := newWorker(t, db, srv, c) // no time passes
		b.ID = "worker-b"
		runOnce(t, b, 2, 0, 0)
		wantReceivedOnce(t, srv, ids)
		for _, id := range ids {
			if m := message(t, db, id); m.State != account.OutboxSent || m.Attempts != 1 {
				t.Errorf("%s: %+v, want sent at its first attempt", id, m)
			}
		}
	})
}

// TestWorkerFinishTimeout: at shutdown, a send that outlasts FinishTimeout is cut and
// its message put back, due at once, with the rest of the batch.
func TestWorkerFinishTimeout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		srv := smtptest.Start(t)
		c := testtime.At(t0)
		a := newWorker(t, db, srv, c)
		a.ID, a.FinishTimeout = "worker-a", 50*time.Millisecond
		ids := enqueue(t, db, t0, "ada@acme.example", "bob@acme.example")
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		a.Sender = senderFunc(func(sctx context.Context, m mail.Message) error {
			cancel()
			<-sctx.Done() // a mail server that never answers
			return sctx.Err()
		})
		start := time.Now()
		sent, retried, _, err := a.RunOnce(runCtx)
		if !errors.Is(err, context.Canceled) || sent != 0 || retried != 1 {
			t.Fatalf("RunOnce: sent %d, retried %d, %v", sent, retried, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("RunOnce took %v after its context ended", d)
		}
		if m := message(t, db, ids[0]); m.State != account.OutboxPending || !m.NextAt.Equal(t0) ||
			!strings.Contains(m.LastError, "interrupted at shutdown") {
			t.Errorf("the message cut: %+v", m)
		}
		b := newWorker(t, db, srv, c)
		b.ID = "worker-b"
		runOnce(t, b, 2, 0, 0)
		wantReceivedOnce(t, srv, ids)
	})
}

// TestWorkerRenewsClaims: while a worker is still sending its batch, its claims are
// renewed, and another worker does not take them after the lease.
func TestWorkerRenewsClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		srv := smtptest.Start(t)
		a := newWorker(t, db, srv, nil)
		a.Now, a.ID, a.Lease, a.RenewEvery = nil, "worker-a", 300*time.Millisecond, 50*time.Millisecond
		ids := enqueue(t, db, time.Now().Add(-time.Second), "ada@acme.example", "bob@acme.example")
		smtp := a.Sender
		entered, proceed := make(chan struct{}), make(chan struct{})
		var once sync.Once
		a.Sender = senderFunc(func(sctx context.Context, m mail.Message) error {
			once.Do(func() { close(entered); <-proceed }) // a slow first send
			return smtp.Send(sctx, m)
		})
		type result struct{ sent, retried, failed int }
		done := make(chan result, 1)
		go func() {
			s, r, f, err := a.RunOnce(ctx)
			if err != nil {
				t.Errorf("RunOnce: %v", err)
			}
			done <- result{s, r, f}
		}()
		<-entered
		b := newWorker(t, db, srv, nil)
		b.Now, b.ID = nil, "worker-b"
		for range 4 { // over two leases
			time.Sleep(150 * time.Millisecond)
			if s, r, f, err := b.RunOnce(ctx); err != nil || s+r+f != 0 {
				t.Errorf("another worker took renewed claims: sent %d, retried %d, failed %d, %v", s, r, f, err)
			}
		}
		close(proceed)
		if got := <-done; got != (result{2, 0, 0}) {
			t.Errorf("the renewing worker: %+v, want 2 sent", got)
		}
		wantReceivedOnce(t, srv, ids)
	})
}

// TestWorkerLapsedClaim: the claims of a worker that died (SIGKILL) lapse after the
// default lease, about a minute, when another worker takes them.
func TestWorkerLapsedClaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		srv := smtptest.Start(t)
		c := testtime.At(t0)
		ids := enqueue(t, db, t0, "ada@acme.example")
		// A worker's claim, at the default lease, and then the worker is gone.
		if ms, err := db.ClaimEmails(ctx, "worker-dead", t0, 10, outbox.DefaultLease); err != nil || len(ms) != 1 {
			t.Fatalf("claim: %v, %v", ms, err)
		}
		w := newWorker(t, db, srv, c)
		w.ID = "worker-b"
		c.Advance(outbox.DefaultLease - time.Second)
		runOnce(t, w, 0, 0, 0)
		c.Advance(time.Second + time.Microsecond)
		if c.Now().Sub(t0) > time.Minute+time.Millisecond {
			t.Fatalf("the default lease is %v, want about a minute", outbox.DefaultLease)
		}
		runOnce(t, w, 1, 0, 0)
		if m := message(t, db, ids[0]); m.State != account.OutboxSent || m.Attempts != 2 {
			t.Fatalf("after the lapse: %+v", m)
		}
	})
}

// TestWorkerDropAfterData: a mail server that drops the connection after the data
// (delivered or not: the worker cannot know) gets the message again after the
// backoff, with the same Message-ID.
func TestWorkerDropAfterData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		var drops atomic.Int32
		drops.Store(1)
		srv := smtptest.Start(t, func(s *smtptest.Server) {
			s.DropAfterData = func(smtptest.Received) bool { return drops.Add(-1) >= 0 }
		})
		c := testtime.At(t0)
		w := newWorker(t, db, srv, c)
		ids := enqueue(t, db, t0, "ada@acme.example")
		runOnce(t, w, 0, 1, 0)
		if m := message(t, db, ids[0]); m.State != account.OutboxPending || m.LastError == "" {
			t.Fatalf("after the drop: %+v", m)
		}
		runOnce(t, w, 0, 0, 0) // not again before the backoff
		c.Advance(backoff)
		runOnce(t, w, 1, 0, 0)
		got := srv.CountByMessageID()
		if len(got) != 1 || got[mail.MessageID(ids[0], "")] != 2 {
			t.Errorf("received %v, want %s twice", got, mail.MessageID(ids[0], ""))
		}
		if m := message(t, db, ids[0]); m.State != account.OutboxSent || m.Attempts != 2 {
			t.Errorf("after the retry: %+v", m)
		}
	})
}

// failingMarks is a store whose MarkEmailSent fails while fails > 0 (each failure
// counting down; a negative count fails for ever).
type failingMarks struct {
	*sqlstore.DB
	fails atomic.Int32
	tries atomic.Int32
}

func (s *failingMarks) MarkEmailSent(ctx context.Context, id string, at time.Time) error {
	s.tries.Add(1)
	if n := s.fails.Load(); n != 0 {
		s.fails.Add(-1)
		return errors.New("store: connection refused")
	}
	return s.DB.MarkEmailSent(ctx, id, at)
}

// TestWorkerMarkFails: a mark the store fails to write is written again shortly; one
// it never writes leaves the message claimed until the lease lapses (not sent again at
// once), the rest of the batch handed back.
func TestWorkerMarkFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		srv := smtptest.Start(t)
		c := testtime.At(t0)
		store := &failingMarks{DB: db}
		w := newWorker(t, db, srv, c)
		w.Store, w.ID, w.MarkRetryWait = store, "worker-a", time.Millisecond

		// A store that fails twice, then answers.
		ids := enqueue(t, db, t0, "ada@acme.example")
		store.fails.Store(2)
		runOnce(t, w, 1, 0, 0)
		if n := store.tries.Load(); n != 3 {
			t.Errorf("%d marks, want 3", n)
		}
		wantReceivedOnce(t, srv, ids)

		// A store that fails for ever (for this worker).
		more := enqueue(t, db, t0, "bob@acme.example", "cy@acme.example")
		store.fails.Store(-1)
		store.tries.Store(0)
		if _, _, _, err := w.RunOnce(ctx); err == nil {
			t.Fatal("RunOnce: no error from a store that cannot mark")
		}
		if n := store.tries.Load(); n < 2 || n > 10 {
			t.Errorf("%d marks, want a few", n)
		}
		b := newWorker(t, db, srv, c)
		b.ID = "worker-b"
		runOnce(t, b, 1, 0, 0) // cy@, handed back; bob@ stays claimed
		if got := srv.CountByMessageID()[mail.MessageID(more[0], "")]; got != 1 {
			t.Errorf("bob@ received %d times before the lease lapsed, want once", got)
		}
		c.Advance(outbox.DefaultLease + time.Microsecond)
		runOnce(t, b, 1, 0, 0)
		if got := srv.CountByMessageID(); got[mail.MessageID(more[0], "")] != 2 || got[mail.MessageID(more[1], "")] != 1 {
			t.Errorf("received %v, want bob@ twice (same Message-ID) and cy@ once", got)
		}
	})
}
