package testwait_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"roster.dev/roster/internal/testwait"
)

func TestFor(t *testing.T) {
	var n atomic.Int32
	go func() {
		for range 3 {
			n.Add(1)
		}
	}()
	testwait.For(t, 10*time.Second, "counted to 3", func() bool { return n.Load() == 3 })
}

// TestForFails: a condition that never holds fails the test, naming it.
func TestForFails(t *testing.T) {
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		testwait.For(rec, 30*time.Millisecond, "the moon blue", func() bool { return false })
	}()
	<-done
	if !strings.Contains(rec.msg, "not the moon blue") {
		t.Fatalf("For failed with %q, want it to name the condition", rec.msg)
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
