package sqlstore

import (
	"context"
	"sync/atomic"
)

// writeGate admits SQLite's write transactions to its one writer connection one at a
// time, in the order they asked. database/sql hands a freed connection to a random
// one of its waiters, so behind a queue of writers some would wait for many turns
// and fail on the store's timeout while later ones went first. A channel's blocked
// senders are woken first come, first served, and a newcomer finds the gate full
// until every earlier writer has had its turn. A nil gate (PostgreSQL, with a pool
// of connections) admits everyone at once.
type writeGate struct {
	turn    chan struct{}
	waiting atomic.Int64 // writers in enter, for the tests
}

func newWriteGate() *writeGate { return &writeGate{turn: make(chan struct{}, 1)} }

// enter waits for this writer's turn, or for ctx to end (its error, wrapped, then).
func (g *writeGate) enter(ctx context.Context) error {
	if g == nil {
		return nil
	}
	g.waiting.Add(1)
	defer g.waiting.Add(-1)
	select {
	case g.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &gateWaitError{err: ctx.Err()}
	}
}

// leave ends the turn begun by a successful enter.
func (g *writeGate) leave() {
	if g != nil {
		<-g.turn
	}
}

// gateWaitError is a writer's wait for its turn cut short by its context.
type gateWaitError struct{ err error }

func (e *gateWaitError) Error() string { return "waiting for the writer: " + e.err.Error() }
func (e *gateWaitError) Unwrap() error { return e.err }
