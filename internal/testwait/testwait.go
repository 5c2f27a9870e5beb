// Package testwait is the suite's one way of waiting for something another
// goroutine or process does: poll the condition itself, briefly, and fail naming
// what did not happen. Tests wait for the state they assert on, never for a time.
package testwait

import (
	"testing"
	"time"
)

// Interval is how often For asks again.
const Interval = 10 * time.Millisecond

// For polls cond every Interval until it holds, and fails the test with what (the
// condition waited for, e.g. "the worker has claimed once") if it does not within
// timeout. The timeout only bounds a failing test: a passing one returns as soon
// as cond holds. Call it from the test's goroutine.
func For(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: not %s", timeout, what)
		}
		time.Sleep(Interval)
	}
}
