package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestKeyedBurstThenRefill(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k := New(Limit{Every: 10 * time.Second, Burst: 3}, 100, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if ok, _ := k.Allow("a"); !ok {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	ok, wait := k.Allow("a")
	if ok || wait != 10*time.Second {
		t.Fatalf("4th attempt: ok=%v wait=%v; want refused, 10s", ok, wait)
	}
	if ok, _ := k.Allow("b"); !ok {
		t.Fatal("another key shares a's bucket")
	}
	now = now.Add(10 * time.Second)
	if ok, _ := k.Allow("a"); !ok {
		t.Fatal("no token after a refill interval")
	}
	if ok, _ := k.Allow("a"); ok {
		t.Fatal("refill gave more than one token")
	}
}

func TestKeyedBoundsMemory(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k := New(Limit{Every: time.Minute, Burst: 1}, 50, func() time.Time { return now })
	for i := 0; i < 1000; i++ {
		now = now.Add(time.Millisecond)
		k.Allow(fmt.Sprint(i))
	}
	if n := len(k.buckets); n > 50 {
		t.Fatalf("%d buckets kept; the bound is 50", n)
	}
}

// TestKeyedRefund: tokens given back are there to take again, never above the burst.
func TestKeyedRefund(t *testing.T) {
	now := time.Unix(1000, 0)
	k := New(Limit{Every: 10 * time.Second, Burst: 5}, 10, func() time.Time { return now })
	if ok, _ := k.AllowN("a", 5); !ok {
		t.Fatal("a full bucket refused its burst")
	}
	if ok, _ := k.Allow("a"); ok {
		t.Fatal("an empty bucket allowed one more")
	}
	k.Refund("a", 3) // three of the five were not spent after all
	if ok, _ := k.AllowN("a", 3); !ok {
		t.Fatal("the refunded tokens cannot be taken again")
	}
	if ok, _ := k.Allow("a"); ok {
		t.Fatal("more than the refund came back")
	}
	k.Refund("a", 100)
	if ok, _ := k.AllowN("a", 5); !ok {
		t.Fatal("a bucket refunded past its burst is not full")
	}
	if ok, _ := k.Allow("a"); ok {
		t.Fatal("a refund filled the bucket past its burst")
	}
	k.Refund("nobody", 3) // a key never seen: nothing to give back
}

func TestKeyedRefundOne(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k := New(Limit{Every: time.Minute, Burst: 2}, 100, func() time.Time { return now })
	k.Allow("a")
	k.Allow("a")
	k.Refund("a", 1)
	if ok, _ := k.Allow("a"); !ok {
		t.Fatal("a refunded token was not given back")
	}
	if ok, _ := k.Allow("a"); ok {
		t.Fatal("the bucket held more than was refunded")
	}
	for range 5 {
		k.Refund("b", 1)
	}
	for i := range 3 {
		if ok, _ := k.Allow("b"); ok != (i < 2) {
			t.Fatalf("take %d after refunds: ok=%v; a bucket never holds more than its burst", i+1, ok)
		}
	}
}
