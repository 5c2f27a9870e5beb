package httpapi

import (
	"testing"
	"time"
)

// TestSampledLog: one line per period, and the line says how many were held back.
func TestSampledLog(t *testing.T) {
	l := sampledLog{every: time.Second}
	t0 := time.Unix(1_800_000_000, 0)
	step := func(at time.Duration, wantOK bool, wantSkipped int64) {
		t.Helper()
		skipped, ok := l.take(t0.Add(at))
		if ok != wantOK || skipped != wantSkipped {
			t.Errorf("take at +%s = (%d, %v), want (%d, %v)", at, skipped, ok, wantSkipped, wantOK)
		}
	}
	step(0, true, 0)
	step(10*time.Millisecond, false, 0)
	step(500*time.Millisecond, false, 0)
	step(999*time.Millisecond, false, 0)
	step(time.Second, true, 3)
	step(1500*time.Millisecond, false, 0)
	step(5*time.Second, true, 1) // after a quiet spell, the next line at once
	step(6*time.Second, true, 0)
}
