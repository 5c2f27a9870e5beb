// Package outbox delivers the emails that use cases write to the outbox table (with
// account.Tx.EnqueueEmail, in the transaction of the change that causes them).
//
// A Worker claims a batch of due messages for a lease, sends each, and marks it sent,
// pending again after a backoff, or failed. No message is lost: a worker that dies
// after claiming leaves its messages claimed until the lease expires, when any worker
// claims them again. The price is that such a message may be sent twice; both copies
// carry the same Message-ID. Several workers, in one process or in several sharing a
// PostgreSQL database, never claim the same message at once.
package outbox

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/mail"
)

// Store is what the worker needs of the database (*sqlstore.DB implements it).
type Store interface {
	ClaimEmails(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]account.OutboxMessage, error)
	MarkEmailSent(ctx context.Context, id string, at time.Time) error
	MarkEmailRetry(ctx context.Context, id string, nextAt time.Time, errText string) error
	MarkEmailFailed(ctx context.Context, id, errText string, at time.Time) error
}

// Defaults of the Worker's zero fields.
const (
	DefaultBatchSize   = 10
	DefaultMaxAttempts = 8
	DefaultPollEvery   = 2 * time.Second
	// DefaultLease outlasts a whole batch of sends that each take their full timeout.
	DefaultLease = 2 * DefaultBatchSize * mail.DefaultTimeout
)

// Worker delivers the outbox. Store and Sender are required; zero fields take the
// defaults above.
type Worker struct {
	Store  Store
	Sender mail.Sender
	From   string       // the From of every message
	Log    *slog.Logger // nil: slog.Default()
	Now    func() time.Time

	BatchSize int           // messages claimed at once
	Lease     time.Duration // how long a claim lasts: longer than sending a batch takes
	// MaxAttempts is the number of attempts after which a temporary failure is final.
	MaxAttempts int
	// Backoff is the wait after the attempt-th failed attempt (1 for the first);
	// default DefaultBackoff.
	Backoff   func(attempt int) time.Duration
	PollEvery time.Duration // the wait when the outbox has nothing due
	// Observe, when set, is told the outcome of every attempt: "sent", "retry" or
	// "failed" (serve counts them in its metrics). It must not block.
	Observe func(outcome string)

	wakeOnce sync.Once
	wake     chan struct{}
}

// Wake makes a waiting Run look at the outbox now rather than at its next poll (call
// it after committing an email). It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wakeChan() <- struct{}{}:
	default: // a wake-up is pending already
	}
}

func (w *Worker) wakeChan() chan struct{} {
	w.wakeOnce.Do(func() { w.wake = make(chan struct{}, 1) })
	return w.wake
}

// DefaultBackoff waits 30s·2^(attempt-1), at most an hour, give or take 20%.
func DefaultBackoff(attempt int) time.Duration {
	d := time.Hour
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 8 { // 30s·2^7 = 64 min
		d = min(30*time.Second<<(attempt-1), time.Hour)
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}

func (w *Worker) observe(outcome string) {
	if w.Observe != nil {
		w.Observe(outcome)
	}
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Run delivers until ctx ends (then it returns nil): it works through due messages
// batch after batch, and polls every PollEvery once none is due. A store error is
// logged and retried at the next poll.
func (w *Worker) Run(ctx context.Context) error {
	batch := orDefault(w.BatchSize, DefaultBatchSize)
	for {
		sent, retried, failed, err := w.RunOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			w.log().ErrorContext(ctx, "outbox: delivery interrupted", "err", err)
		}
		if err == nil && sent+retried+failed >= batch {
			continue // there may be more due now
		}
		t := time.NewTimer(orDefault(w.PollEvery, DefaultPollEvery))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-w.wakeChan():
			t.Stop()
		}
	}
}

// RunOnce claims one batch of due messages and tries to deliver each, counting the
// messages sent, put back for a retry, and failed for good. On a store error it
// stops and returns it: the messages of the batch not yet marked stay claimed until
// their lease expires, and are delivered then.
func (w *Worker) RunOnce(ctx context.Context) (sent, retried, failed int, err error) {
	lease := orDefault(w.Lease, DefaultLease)
	ms, err := w.Store.ClaimEmails(ctx, w.now(), orDefault(w.BatchSize, DefaultBatchSize), lease)
	if err != nil {
		return 0, 0, 0, err
	}
	maxAttempts := orDefault(w.MaxAttempts, DefaultMaxAttempts)
	backoff := w.Backoff
	if backoff == nil {
		backoff = DefaultBackoff
	}
	for _, m := range ms {
		if err := ctx.Err(); err != nil {
			return sent, retried, failed, err
		}
		log := w.log().With("message_id", m.ID, "kind", m.Kind, "org_id", m.OrgID, "attempt", m.Attempts)
		sendErr := w.Sender.Send(ctx, mail.Message{
			From: w.From, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, ID: m.ID,
		})
		var markErr error
		switch {
		case sendErr == nil:
			markErr = w.Store.MarkEmailSent(ctx, m.ID, w.now())
			sent++
			w.observe("sent")
			log.DebugContext(ctx, "outbox: email sent")
		case ctx.Err() != nil:
			// Shutting down mid-send: the claim lapses and the message is sent later.
			return sent, retried, failed, ctx.Err()
		case mail.IsPermanent(sendErr) || m.Attempts >= maxAttempts:
			markErr = w.Store.MarkEmailFailed(ctx, m.ID, sendErr.Error(), w.now())
			failed++
			w.observe("failed")
			log.WarnContext(ctx, "outbox: email failed for good", "err", sendErr,
				"permanent", mail.IsPermanent(sendErr))
		default:
			next := w.now().Add(backoff(m.Attempts))
			markErr = w.Store.MarkEmailRetry(ctx, m.ID, next, sendErr.Error())
			retried++
			w.observe("retry")
			log.InfoContext(ctx, "outbox: email will be retried", "err", sendErr, "next_at", next)
		}
		if markErr != nil {
			if account.ErrorCode(markErr) == account.ENOTFOUND {
				// Our lease expired and another worker claimed and finished the message.
				log.WarnContext(ctx, "outbox: message finished meanwhile by another worker (lease too short?)")
				continue
			}
			return sent, retried, failed, markErr
		}
	}
	return sent, retried, failed, nil
}
