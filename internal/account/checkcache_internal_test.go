package account

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

type fixedEpoch struct{}

func (fixedEpoch) CacheEpoch() (uint64, bool) { return 1, true }

type epochStore struct {
	Store
	fixedEpoch
}

// BenchmarkCheckCacheMemory reports the heap one cached entitlement answer costs
// (the figure --check-cache's help gives).
func BenchmarkCheckCacheMemory(b *testing.B) {
	const n = 200_000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c := newCheckCache(epochStore{}, n)
		now := time.Now()
		for i := range n {
			f := EntitlementFacts{Found: true, AccountState: AccountState("active"), MemberState: MemberState("active"),
				Seats: []SeatPeriod{{StartsAt: now, EndsAt: now.Add(time.Hour)}}}
			c.putFacts(1, true, c.factsKey(fmt.Sprintf("org%023d", i%1000), fmt.Sprintf("acc%023d", i), "app00000000000000000000001"), f)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/entry")
		runtime.KeepAlive(c)
	}
}

// TestCheckCacheBounds: a full shard drops an entry for a new one; an entry read
// at an older epoch is refused once a newer one is seen.
func TestCheckCacheBounds(t *testing.T) {
	c := newCheckCache(epochStore{}, cacheShards*2)
	many := EntitlementFacts{Found: true, AccountState: AccountActive, MemberState: MemberActive}
	for i := range 4 { // periods that do not merge: kept apart from the compact entries
		start := time.Date(2026, 1, 1+2*i, 0, 0, 0, 0, time.UTC)
		many.Seats = append(many.Seats, SeatPeriod{StartsAt: start, EndsAt: start.Add(24 * time.Hour)})
	}
	for i := range 1000 {
		f := EntitlementFacts{Found: true}
		if i%3 == 0 {
			f = many
		}
		c.putFacts(1, true, c.factsKey("org", fmt.Sprint(i), "app"), f)
	}
	total, more := 0, 0
	for i := range c.shards {
		if n := len(c.shards[i].m) + len(c.shards[i].more); n > 2 {
			t.Fatalf("shard %d holds %d entries, limit 2", i, n)
		}
		total += len(c.shards[i].m) + len(c.shards[i].more)
		more += len(c.shards[i].more)
	}
	if total == 0 || more == 0 {
		t.Fatalf("kept %d entries, %d of them with many periods", total, more)
	}
	a := c.factsKey("org", "a", "app")
	var buf [cachedPeriods]SeatPeriod
	c.putFacts(3, true, a, EntitlementFacts{Found: true})
	c.putFacts(2, true, a, EntitlementFacts{})
	if f, hit := c.facts(3, true, a, &buf); !hit || !f.Found {
		t.Fatalf("facts at epoch 3 = %v %v, want the ones put at 3", f, hit)
	}
	if _, hit := c.facts(4, true, a, &buf); hit {
		t.Fatal("an entry of epoch 3 answered at epoch 4")
	}
	if _, hit := c.facts(3, false, a, &buf); hit {
		t.Fatal("an entry answered while the store does not vouch")
	}
	// Replaced by facts that do not fit an entry, then by facts that do: one answer.
	c.putFacts(3, true, a, many)
	if f, hit := c.facts(3, true, a, &buf); !hit || len(f.Seats) != 4 {
		t.Fatalf("facts with four periods = %v %v", f, hit)
	}
	c.putFacts(3, true, a, EntitlementFacts{})
	if f, hit := c.facts(3, true, a, &buf); !hit || f.Found {
		t.Fatalf("facts replaced = %v %v, want not found", f, hit)
	}
	// Keys of different parts, even when their concatenations are equal.
	if c.factsKey("ab", "c", "app") == c.factsKey("a", "bc", "app") {
		t.Fatal("two different questions have one key")
	}
}

// TestCachedFacts: the facts an entry gives back decide every question at every
// time as the facts put in: periods overlapping, touching, empty, apart, and more
// of them than an entry holds; every state.
func TestCachedFacts(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	at := func(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }
	period := func(from, to int) SeatPeriod { return SeatPeriod{StartsAt: at(from), EndsAt: at(to)} }
	seatSets := [][]SeatPeriod{
		nil,
		{period(0, 10)},
		{period(5, 5)},                  // empty: a seat that never grants
		{period(10, 0)},                 // ends before it starts
		{period(0, 10), period(10, 20)}, // a renewal, touching
		{period(10, 20), period(0, 15)}, // overlapping, out of order
		{period(0, 10), period(12, 20)}, // a gap
		{period(0, 10), period(12, 20), period(8, 13)}, // the third closes the gap
		{period(0, 2), period(4, 6), period(8, 10)},    // three apart: more than an entry holds
		{period(3, 3), period(0, 1)},
	}
	c := newCheckCache(epochStore{}, 1000)
	n := 0
	for _, seats := range seatSets {
		for _, as := range accountStates {
			for _, ms := range memberStates {
				for _, found := range []bool{true, false} {
					f := EntitlementFacts{Found: found, AccountState: as, MemberState: ms, Seats: seats}
					key := c.factsKey("org", fmt.Sprint(n), "app")
					n++
					c.putFacts(1, true, key, f)
					var buf [cachedPeriods]SeatPeriod
					got, hit := c.facts(1, true, key, &buf)
					if !hit {
						t.Fatalf("%+v: not kept", f)
					}
					for h := -2; h <= 22; h++ {
						for _, d := range []time.Duration{-1, 0, 1} {
							now := at(h).Add(d)
							wa, wr := f.Decide(now)
							ga, gr := got.Decide(now)
							if wa != ga || wr != gr {
								t.Fatalf("%+v at %s: kept %+v answers %v %s, want %v %s", f, now, got, ga, gr, wa, wr)
							}
						}
					}
				}
			}
		}
	}
	if _, fits := compact(0, EntitlementFacts{AccountState: "unheard-of"}); fits {
		t.Fatal("a state the store should not have fits an entry")
	}
}

// BenchmarkCheckCacheHit is one check's work in memory: the key's two hashes, the
// lookup and the facts given back.
func BenchmarkCheckCacheHit(b *testing.B) {
	c := newCheckCache(epochStore{}, 0)
	now := time.Now()
	key := c.factsKey("org00000000000000000000001", "acc00000000000000000000001", "app00000000000000000000001")
	c.putFacts(1, true, key, EntitlementFacts{Found: true, AccountState: AccountActive, MemberState: MemberActive,
		Seats: []SeatPeriod{{StartsAt: now, EndsAt: now.Add(time.Hour)}}})
	b.ReportAllocs()
	for b.Loop() {
		var buf [cachedPeriods]SeatPeriod
		key := c.factsKey("org00000000000000000000001", "acc00000000000000000000001", "app00000000000000000000001")
		if f, hit := c.facts(1, true, key, &buf); !hit || !f.Found {
			b.Fatal("missed")
		}
	}
}
