// Package outbox delivers the emails that use cases write to the outbox table (with
// account.Tx.EnqueueEmail, in the transaction of the change that causes them).
//
// A Worker claims a batch of due messages for a short lease (a minute), in its own
// name, and renews the lease while it is still sending that batch; it sends each
// message, and marks it sent, pending again after a backoff, or failed. When its
// context ends it finishes the message in flight (for at most FinishTimeout) and hands
// back the claims of the messages it has not tried, which any worker then claims at
// once. No message is lost: a worker that dies (SIGKILL, a crash, a store that went
// away) leaves its claims to lapse within a lease, when any worker claims them again.
//
// Delivery is at least once, as SMTP's is: a message whose sending was cut after its
// data went out, or whose mark could not be written, is sent again; every copy carries
// the same Message-ID, by which mail clients drop the duplicate. Several workers, in
// one process or in several sharing a PostgreSQL database, never claim the same
// message at once.
package outbox

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/mail"
)

// Store is what the worker needs of the database (*sqlstore.DB implements it).
type Store interface {
	ClaimEmails(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]account.OutboxMessage, error)
	RenewEmailClaims(ctx context.Context, owner string, ids []string, until time.Time) (int64, error)
	ReleaseEmailClaims(ctx context.Context, owner string, ids []string) (int64, error)
	MarkEmailSent(ctx context.Context, id string, at time.Time) error
	MarkEmailRetry(ctx context.Context, id string, nextAt time.Time, errText string) error
	MarkEmailFailed(ctx context.Context, id, errText string, at time.Time) error
}

// Defaults of the Worker's zero fields.
const (
	DefaultBatchSize   = 10
	DefaultMaxAttempts = 8
	DefaultPollEvery   = 2 * time.Second
	// DefaultLease is how long a claim lasts unless renewed: how long the messages of
	// a worker that died wait before another worker sends them.
	DefaultLease = time.Minute
	// DefaultRenewEvery renews the claims of the batch being sent, well within a lease.
	DefaultRenewEvery = DefaultLease / 3
	// DefaultFinishTimeout bounds the message in flight once the worker's context
	// ends; a send cut then is handed back, and may have been delivered.
	DefaultFinishTimeout = 10 * time.Second
	// DefaultMarkRetryWait is the first wait before writing a mark again (then
	// doubled, three times) when the store failed to.
	DefaultMarkRetryWait = 200 * time.Millisecond
	markTries            = 4
	// releaseTimeout bounds handing the claims back.
	releaseTimeout = 5 * time.Second
)

// Worker delivers the outbox. Store and Sender are required; zero fields take the
// defaults above.
type Worker struct {
	Store  Store
	Sender mail.Sender
	From   string // the From of every message
	// Domain is the domain of every message's Message-ID: mail.MessageDomain of the
	// base URL; empty is mail.DefaultDomain.
	Domain string
	Log    *slog.Logger // nil: slog.Default()
	Now    func() time.Time

	// ID is the worker's identity in its claims: only it renews or hands them back.
	// Empty: host/pid/random, set on first use. Two workers must not share one.
	ID string

	BatchSize  int           // messages claimed at once
	Lease      time.Duration // how long a claim lasts unless renewed
	RenewEvery time.Duration // how often the claims of the batch being sent are renewed: well within Lease
	// FinishTimeout bounds the message in flight once Run's or RunOnce's context ends.
	FinishTimeout time.Duration
	// MarkRetryWait is the first wait before writing a failed mark again.
	MarkRetryWait time.Duration
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
	idOnce   sync.Once
}

func (w *Worker) owner() string {
	w.idOnce.Do(func() {
		if w.ID == "" {
			host, _ := os.Hostname()
			var b [6]byte
			_, _ = crand.Read(b[:])
			w.ID = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
		}
	})
	return w.ID
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

// Run delivers until ctx ends: it works through due messages
// batch after batch, and polls every PollEvery once none is due. A store error is
// logged and retried at the next poll.
func (w *Worker) Run(ctx context.Context) {
	batch := orDefault(w.BatchSize, DefaultBatchSize)
	for {
		sent, retried, failed, err := w.RunOnce(ctx)
		if ctx.Err() != nil {
			return
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
			return
		case <-t.C:
		case <-w.wakeChan():
			t.Stop()
		}
	}
}

// RunOnce claims one batch of due messages and tries to deliver each, counting the
// messages sent, put back for a retry, and failed for good. While it sends, it renews
// the claims of the messages not yet marked.
//
// When ctx ends it starts no other message: the one in flight is sent and marked (for
// at most FinishTimeout; a send cut then is put back, due at once), the claims of the
// others are handed back, and it returns ctx's error. On a store error that writing a
// mark again briefly does not cure, it stops and returns it: that message's claim is
// left to lapse (it is sent again then, with the same Message-ID), and the claims of
// the messages not tried are handed back if the store lets it (else they lapse too).
func (w *Worker) RunOnce(ctx context.Context) (sent, retried, failed int, err error) {
	owner := w.owner()
	lease := orDefault(w.Lease, DefaultLease)
	ms, err := w.Store.ClaimEmails(ctx, owner, w.now(), orDefault(w.BatchSize, DefaultBatchSize), lease)
	if err != nil || len(ms) == 0 {
		return 0, 0, 0, err
	}
	// work outlives ctx by FinishTimeout, for the message in flight and its mark.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopFinish := context.AfterFunc(ctx, func() {
		time.AfterFunc(orDefault(w.FinishTimeout, DefaultFinishTimeout), cancelWork)
	})
	defer stopFinish()

	c := &claims{ids: make([]string, len(ms))}
	for i, m := range ms {
		c.ids[i] = m.ID
	}
	stopRenew := w.renew(work, owner, lease, c)
	defer func() {
		stopRenew()
		w.release(ctx, owner, c.take())
	}()

	maxAttempts := orDefault(w.MaxAttempts, DefaultMaxAttempts)
	backoff := w.Backoff
	if backoff == nil {
		backoff = DefaultBackoff
	}
	for _, m := range ms {
		if err := ctx.Err(); err != nil {
			return sent, retried, failed, err // the rest are handed back
		}
		log := w.log().With("message_id", m.ID, "kind", m.Kind, "org_id", m.OrgID, "attempt", m.Attempts)
		var sendErr error
		if account.Undeliverable(m.To) {
			// A placeholder address (written before Roster refused to enqueue them):
			// it reaches no one, and is failed without a try.
			sendErr = &mail.Error{Permanent: true, Err: fmt.Errorf("%s is a placeholder address: never mailed", m.To)}
		} else {
			sendErr = w.Sender.Send(work, mail.Message{
				From: w.From, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, ID: m.ID,
				Domain: w.Domain,
			})
		}
		var mark func(context.Context) error
		switch {
		case sendErr == nil:
			mark = func(ctx context.Context) error { return w.Store.MarkEmailSent(ctx, m.ID, w.now()) }
			sent++
			w.observe("sent")
			log.DebugContext(ctx, "outbox: email sent")
		case work.Err() != nil:
			// Shutting down, and the send outlasted FinishTimeout: put it back, due
			// at once; it may have been delivered, and would then go twice.
			errText := "interrupted at shutdown: " + sendErr.Error()
			mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
			if err := w.markAgain(mctx, log, func(ctx context.Context) error {
				return w.Store.MarkEmailRetry(ctx, m.ID, w.now(), errText)
			}); err != nil && account.ErrorCode(err) != account.ENOTFOUND {
				log.ErrorContext(ctx, "outbox: could not put back the email cut at shutdown; its claim lapses",
					"err", err, "lease", lease.String())
			}
			cancel()
			c.done(m.ID)
			retried++
			w.observe("retry")
			log.WarnContext(ctx, "outbox: send cut at shutdown; the email is sent again", "err", sendErr)
			return sent, retried, failed, ctx.Err()
		case mail.IsPermanent(sendErr) || m.Attempts >= maxAttempts:
			mark = func(ctx context.Context) error {
				return w.Store.MarkEmailFailed(ctx, m.ID, sendErr.Error(), w.now())
			}
			failed++
			w.observe("failed")
			log.WarnContext(ctx, "outbox: email failed for good", "err", sendErr,
				"permanent", mail.IsPermanent(sendErr))
		default:
			next := w.now().Add(backoff(m.Attempts))
			mark = func(ctx context.Context) error {
				return w.Store.MarkEmailRetry(ctx, m.ID, next, sendErr.Error())
			}
			retried++
			w.observe("retry")
			log.InfoContext(ctx, "outbox: email will be retried", "err", sendErr, "next_at", next)
		}
		markErr := w.markAgain(work, log, mark)
		// Marked or not, this claim is no longer renewed nor handed back: unmarked,
		// it lapses, and the message goes again (not at once: it may have gone).
		c.done(m.ID)
		if markErr != nil {
			if account.ErrorCode(markErr) == account.ENOTFOUND {
				// Our lease expired and another worker claimed and finished the message.
				log.WarnContext(ctx, "outbox: message finished meanwhile by another worker (lease too short?)")
				continue
			}
			log.ErrorContext(ctx, "outbox: could not record the attempt; the email is tried again once its claim lapses",
				"err", markErr, "lease", lease.String())
			return sent, retried, failed, markErr
		}
	}
	return sent, retried, failed, nil
}

// markAgain writes a mark, and again after a short wait while the store fails to (a
// message not found is an answer, not a failure), until work ends.
func (w *Worker) markAgain(work context.Context, log *slog.Logger, mark func(context.Context) error) error {
	wait := orDefault(w.MarkRetryWait, DefaultMarkRetryWait)
	var err error
	for try := 1; ; try++ {
		err = mark(work)
		if err == nil || account.ErrorCode(err) == account.ENOTFOUND || try == markTries || work.Err() != nil {
			return err
		}
		log.WarnContext(work, "outbox: could not record the attempt; trying again", "err", err, "in", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-work.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait *= 2
	}
}

// claims are the ids of a batch whose claims the worker still holds and uses.
type claims struct {
	mu  sync.Mutex
	ids []string
}

func (c *claims) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ids)
}

func (c *claims) done(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids = slices.DeleteFunc(c.ids, func(s string) bool { return s == id })
}

func (c *claims) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := c.ids
	c.ids = nil
	return ids
}

// renew extends the claims c still holds by a lease every RenewEvery, until the
// returned stop, which waits for a renewal in flight.
func (w *Worker) renew(work context.Context, owner string, lease time.Duration, c *claims) (stop func()) {
	every := orDefault(w.RenewEvery, DefaultRenewEvery)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-work.Done():
				return
			case <-t.C:
			}
			ids := c.list()
			if len(ids) == 0 {
				continue
			}
			n, err := w.Store.RenewEmailClaims(work, owner, ids, w.now().Add(lease))
			switch {
			case err != nil:
				w.log().WarnContext(work, "outbox: could not renew the claims of the batch being sent", "err", err)
			case n < int64(len(ids)):
				w.log().WarnContext(work, "outbox: claims lost before they were renewed (lease too short?)",
					"held", len(ids), "renewed", n)
			}
		}
	}()
	return func() { close(quit); <-done }
}

// release hands back the claims of the messages ids, not tried, so that any worker
// claims them at once.
func (w *Worker) release(ctx context.Context, owner string, ids []string) {
	if len(ids) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	n, err := w.Store.ReleaseEmailClaims(rctx, owner, ids)
	if err != nil {
		w.log().ErrorContext(ctx, "outbox: could not hand back claims; they lapse within a lease",
			"err", err, "count", len(ids), "lease", orDefault(w.Lease, DefaultLease).String())
		return
	}
	w.log().InfoContext(ctx, "outbox: claims handed back", "count", n)
}
