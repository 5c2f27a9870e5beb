package testtime_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"roster.dev/roster/internal/testtime"
)

func TestWaitFor(t *testing.T) {
	var n atomic.Int32
	go func() {
		for range 3 {
			n.Add(1)
		}
	}()
	testtime.WaitFor(t, 10*time.Second, "counted to 3", func() bool { return n.Load() == 3 })
}

// TestWaitForFails: a condition that never holds fails the test, naming it.
func TestWaitForFails(t *testing.T) {
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		testtime.WaitFor(rec, 30*time.Millisecond, "the moon blue", func() bool { return false })
	}()
	<-done
	if !strings.Contains(rec.msg, "not the moon blue") {
		t.Fatalf("WaitFor failed with %q, want it to name the condition", rec.msg)
	}
}

// recorder records Fatalf instead of failing, and ends its goroutine as Fatalf does.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = strings.TrimSpace(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func TestClock(t *testing.T) {
	t0 := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	c := testtime.At(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("At(t0).Now() = %v", got)
	}
	c.Advance(time.Hour)
	if got := c.Now(); !got.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after Advance(1h): %v, want %v", got, t0.Add(time.Hour))
	}
	var real testtime.Clock
	before := time.Now()
	real.Advance(24 * time.Hour)
	if got := real.Now(); got.Before(before.Add(24*time.Hour)) || got.After(time.Now().Add(24*time.Hour)) {
		t.Fatalf("a real clock advanced a day: %v, now %v", got, time.Now())
	}
}
