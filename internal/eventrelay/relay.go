// Package eventrelay numbers the change events the transactions of the use cases
// wrote (sqlstore.RelayEvents) and prunes old ones: the one step between an event's
// commit and its place in an application's feed. It wakes on every local commit that
// wrote an event, and polls for those of other processes; whoever waits for the feed
// (a long poll) is told when something was numbered.
package eventrelay

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Store is what the relay needs of sqlstore.DB.
type Store interface {
	RelayEvents(ctx context.Context, now time.Time, batch int) (int, error)
	PruneEvents(ctx context.Context, before time.Time, batch int) (int64, error)
}

// Defaults of a Relay.
const (
	DefaultPoll  = time.Second
	DefaultKeep  = 30 * 24 * time.Hour
	DefaultBatch = 500
	pruneEvery   = 10 * time.Minute
)

// Relay runs the relay loop (Run). Its zero value but Store is usable.
type Relay struct {
	Store Store
	Log   *slog.Logger
	Now   func() time.Time
	// Poll is how often the relay looks for events it was not woken for (other
	// processes' writes, and its own retries); Keep how long events are kept.
	Poll time.Duration
	Keep time.Duration

	once    sync.Once
	wake    chan struct{}
	mu      sync.Mutex
	changed chan struct{}
}

func (r *Relay) init() {
	r.once.Do(func() {
		r.wake = make(chan struct{}, 1)
		r.changed = make(chan struct{})
	})
}

// Wake asks the relay to run now (sqlstore.DB.OnEvent). It never blocks.
func (r *Relay) Wake() {
	r.init()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Changed returns a channel closed the next time the relay numbers an event: a
// long poll takes it before it reads the feed, then waits on it.
func (r *Relay) Changed() <-chan struct{} {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

func (r *Relay) signal() {
	r.mu.Lock()
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// Run relays until ctx ends; a failure is logged and retried at the next poll.
func (r *Relay) Run(ctx context.Context) {
	r.init()
	poll, keep, now := r.Poll, r.Keep, r.Now
	if poll <= 0 {
		poll = DefaultPoll
	}
	if keep <= 0 {
		keep = DefaultKeep
	}
	if now == nil {
		now = time.Now
	}
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	lastPrune := time.Time{}
	for {
		if n, err := r.RelayOnce(ctx, now()); err != nil && ctx.Err() == nil {
			log.Error("relay events", "err", err)
		} else if n == DefaultBatch {
			continue // more are waiting
		}
		if at := now(); at.Sub(lastPrune) >= pruneEvery {
			lastPrune = at
			n, err := r.Store.PruneEvents(ctx, at.Add(-keep), DefaultBatch)
			if err != nil && ctx.Err() == nil {
				log.Error("prune events", "err", err)
			} else if n > 0 {
				log.Info("pruned old events", "count", n, "created_before", at.Add(-keep).Format(time.RFC3339))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-t.C:
		}
	}
}

// RelayOnce numbers one batch and tells the waiters when it numbered something.
func (r *Relay) RelayOnce(ctx context.Context, now time.Time) (int, error) {
	r.init()
	n, err := r.Store.RelayEvents(ctx, now, DefaultBatch)
	if n > 0 {
		r.signal()
	}
	return n, err
}
