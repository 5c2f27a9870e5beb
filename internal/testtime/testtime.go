// Package testtime is the suite's one way of handling time: WaitFor waits for
// something another goroutine or process does by polling the condition itself
// (tests wait for the state they assert on, never for a time), and Clock is the
// settable clock tests hand to what they test.
package testtime

import (
	"sync"
	"testing"
	"time"
)

// Interval is how often WaitFor asks again.
const Interval = 10 * time.Millisecond

// WaitFor polls cond every Interval until it holds, and fails the test with what
// (the condition waited for, e.g. "the worker has found the outbox empty") if it
// does not within timeout. The timeout only bounds a failing test: a passing one
// returns as soon as cond holds. Call it from the test's goroutine.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: not %s", timeout, what)
		}
		time.Sleep(Interval)
	}
}

// Clock is a settable clock, safe for concurrent use. Its zero value follows the
// real time; At makes one that stands still. Advance moves either forward.
type Clock struct {
	mu    sync.Mutex
	at    time.Time // zero: the real time
	ahead time.Duration
}

// At returns a clock that stands at t until advanced.
func At(t time.Time) *Clock { return &Clock{at: t} }

// Now is the clock's time: where it stands, or the real time, plus every Advance.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		return time.Now().Add(c.ahead)
	}
	return c.at.Add(c.ahead)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ahead += d
}
