package limits

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpedge"
)

// background runs work after its request is answered, in order, from a bounded queue:
// the self-service requests whose store work differs between a known and an unknown
// email (a password reset, a sign-up), so that the answer is the same and takes the
// same time either way. Limits.Close drains it; Limits.Settle waits for it.
type background struct {
	log  *slog.Logger
	jobs chan func(context.Context)
	done chan struct{}

	mu      sync.Mutex
	idle    *sync.Cond // broadcast when pending drops to 0
	pending int        // queued or running
	closed  bool
}

// jobTimeout bounds one job's store work.
const jobTimeout = 30 * time.Second

func newBackground(log *slog.Logger, size int) *background {
	if log == nil {
		log = slog.Default()
	}
	b := &background{log: log, jobs: make(chan func(context.Context), size), done: make(chan struct{})}
	b.idle = sync.NewCond(&b.mu)
	go b.run()
	return b
}

func (b *background) run() {
	defer close(b.done)
	for job := range b.jobs {
		job(context.Background())
		b.mu.Lock()
		b.pending--
		if b.pending == 0 {
			b.idle.Broadcast()
		}
		b.mu.Unlock()
	}
}

// enqueue queues fn, to run with ctx's values (the request id) but not its end. A full
// queue, or one closed for shutdown, answers 503 with Retry-After: whatever the email.
func (b *background) enqueue(ctx context.Context, what string, fn func(ctx context.Context) error) error {
	values := context.WithoutCancel(ctx)
	job := func(context.Context) {
		ctx, cancel := context.WithTimeout(values, jobTimeout)
		defer cancel()
		if err := fn(ctx); err != nil {
			b.log.ErrorContext(ctx, what+" failed after its answer", "err", err, "request_id", httpedge.RequestID(ctx))
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		select {
		case b.jobs <- job:
			b.pending++
			return nil
		default:
		}
	}
	return &Refused{Code: account.EUNAVAILABLE, Message: "the server is busy; try again in a moment", RetryAfter: 5}
}

// settle waits until every job queued so far has run.
func (b *background) settle() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.pending > 0 {
		b.idle.Wait()
	}
}

// close refuses new jobs and waits, until ctx ends, for the queued ones to run.
func (b *background) close(ctx context.Context) error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.jobs)
	}
	b.mu.Unlock()
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
