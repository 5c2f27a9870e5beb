package soak

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 200; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 100 * time.Millisecond, 0.99: 198 * time.Millisecond, 1: 200 * time.Millisecond} {
		if got := quantile(ds, q); got != want {
			t.Errorf("quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if got := quantile(ds[:1], 0.99); got != time.Millisecond {
		t.Errorf("quantile of one = %v", got)
	}
}

// TestTrend: the slope leaves out the sample taken before the load, and samples
// before from.
func TestTrend(t *testing.T) {
	r := Report{Samples: []MemSample{{At: 0, RSS: 900 << 20}}}
	for i := 1; i <= 10; i++ {
		r.Samples = append(r.Samples, MemSample{At: time.Duration(i) * time.Minute, RSS: float64(50+2*i) * (1 << 20), HeapInuse: 8 << 20})
	}
	if got := r.RSSTrend(0); math.Abs(got-2) > 1e-9 {
		t.Errorf("RSSTrend = %v, want 2 MiB/min", got)
	}
	if got := r.HeapTrend(0); math.Abs(got) > 1e-9 {
		t.Errorf("HeapTrend = %v, want 0", got)
	}
	// A warm-up that the second half leaves out.
	r.Samples[1].RSS, r.Samples[2].RSS = 10<<20, 20<<20
	if got := r.RSSTrend(5 * time.Minute); math.Abs(got-2) > 1e-9 {
		t.Errorf("RSSTrend(5m) = %v, want 2 MiB/min", got)
	}
	r.Ops = map[string]OpStats{OpCheck: {Count: 10, Errors: 1, P50: time.Millisecond, P99: 3 * time.Millisecond}}
	r.Elapsed = 10 * time.Minute
	var b strings.Builder
	r.Write(&b)
	if !strings.Contains(b.String(), "| check | 10 | 1 | 1.0 ms | 3.0 ms | 0.0 ms |") || r.TotalErrors() != 1 {
		t.Errorf("report:\n%s", b.String())
	}
}

// TestWritersReport: a 5xx, a failed operation, a broken invariant and a deadlock
// retry each show in the totals that rosterload and TestWriters judge by.
func TestWritersReport(t *testing.T) {
	r := WritersReport{Elapsed: 10 * time.Second, Workers: 16, Bases: []string{"http://a", "http://b"},
		Kinds: map[string]KindStats{
			KindInvite: {Ops: 10, Requests: 10, FiveXX: 1, Errors: 1, P50: time.Millisecond},
			KindImport: {Ops: 5, Requests: 20, Errors: 2},
		},
		Retries:    []map[string]float64{{"40P01": 2, "40001": 0}, {}},
		Invariants: []Invariant{{What: "seats within the quota", OK: true}, {What: "counts agree", OK: false}},
	}
	if r.FiveXX() != 1 || r.Failed() != 3 || r.DeadlockRetries() != 2 {
		t.Errorf("5xx %d, failed %d, deadlock retries %v", r.FiveXX(), r.Failed(), r.DeadlockRetries())
	}
	if b := r.Broken(); len(b) != 1 || b[0] != "counts agree" {
		t.Errorf("broken = %v", b)
	}
	var b strings.Builder
	r.Write(&b)
	for _, want := range []string{"15 operations (1.5/s), 30 requests (3.0/s), 1 5xx, 3 failed",
		"| bulk invitations | 10 | 1.0 | 10 | 1 | 1 | 1.0 ms |", "deadlock (40P01) 2", "no store retries reported", "- BROKEN: counts agree"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
