package account

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"roster.dev/roster/internal/checkcache"
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
		c := newCheckCache(epochStore{}, 2*n) // room for all n: none dropped
		now := time.Now()
		for i := range n {
			f := EntitlementFacts{Found: true, AccountState: AccountState("active"), MemberState: MemberState("active"),
				Seats: []SeatPeriod{{StartsAt: now, EndsAt: now.Add(time.Hour)}}}
			c.putFacts(checkcache.Epoch{Value: 1, Valid: true}, c.factsKey(fmt.Sprintf("org%023d", i%1000), fmt.Sprintf("acc%023d", i), "app00000000000000000000001"), f)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/entry")
		runtime.KeepAlive(c)
	}
}

// TestCheckCacheMore: facts that do not fit a cachedFacts are kept apart, and an
// account's facts replaced by ones of the other form give one answer.
func TestCheckCacheMore(t *testing.T) {
	c := newCheckCache(epochStore{}, 0)
	many := EntitlementFacts{Found: true, AccountState: AccountActive, MemberState: MemberActive}
	for i := range 4 { // periods that do not merge: kept apart from the compact entries
		start := time.Date(2026, 1, 1+2*i, 0, 0, 0, 0, time.UTC)
		many.Seats = append(many.Seats, SeatPeriod{StartsAt: start, EndsAt: start.Add(24 * time.Hour)})
	}
	e := checkcache.Epoch{Value: 3, Valid: true}
	a := c.factsKey("org", "a", "app")
	var buf [cachedPeriods]SeatPeriod
	c.putFacts(e, a, EntitlementFacts{Found: true})
	c.putFacts(e, a, many)
	if f, hit := c.getFacts(e, a, &buf); !hit || len(f.Seats) != 4 {
		t.Fatalf("facts with four periods = %v %v", f, hit)
	}
	if c.facts.Len() != 0 || c.more.Len() != 1 {
		t.Fatalf("kept %d compact and %d other facts, want 0 and 1", c.facts.Len(), c.more.Len())
	}
	c.putFacts(e, a, EntitlementFacts{})
	if f, hit := c.getFacts(e, a, &buf); !hit || f.Found {
		t.Fatalf("facts replaced = %v %v, want not found", f, hit)
	}
	if c.facts.Len() != 1 || c.more.Len() != 0 {
		t.Fatalf("kept %d compact and %d other facts, want 1 and 0", c.facts.Len(), c.more.Len())
	}
	if _, hit := c.getFacts(checkcache.Epoch{Value: 4, Valid: true}, a, &buf); hit {
		t.Fatal("facts of epoch 3 answered at epoch 4")
	}
	// A store that does not vouch keeps nothing.
	none := newCheckCache(Store(nil), 0)
	if e := none.epoch(); e.Valid {
		t.Fatalf("a store without CacheEpoch vouches: %+v", e)
	}
	if hits, misses := c.stats.Load(); hits != 2 || misses != 1 {
		t.Fatalf("stats = %d hits, %d misses; want 2 and 1", hits, misses)
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
					c.putFacts(checkcache.Epoch{Value: 1, Valid: true}, key, f)
					var buf [cachedPeriods]SeatPeriod
					got, hit := c.getFacts(checkcache.Epoch{Value: 1, Valid: true}, key, &buf)
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
	if _, fits := compact(EntitlementFacts{AccountState: "unheard-of"}); fits {
		t.Fatal("a state the store should not have fits an entry")
	}
}

// BenchmarkCheckCacheHit is one check's work in memory: the key's two hashes, the
// lookup and the facts given back.
func BenchmarkCheckCacheHit(b *testing.B) {
	c := newCheckCache(epochStore{}, 0)
	now := time.Now()
	key := c.factsKey("org00000000000000000000001", "acc00000000000000000000001", "app00000000000000000000001")
	e := checkcache.Epoch{Value: 1, Valid: true}
	c.putFacts(e, key, EntitlementFacts{Found: true, AccountState: AccountActive, MemberState: MemberActive,
		Seats: []SeatPeriod{{StartsAt: now, EndsAt: now.Add(time.Hour)}}})
	b.ReportAllocs()
	for b.Loop() {
		var buf [cachedPeriods]SeatPeriod
		key := c.factsKey("org00000000000000000000001", "acc00000000000000000000001", "app00000000000000000000001")
		if f, hit := c.getFacts(e, key, &buf); !hit || !f.Found {
			b.Fatal("missed")
		}
	}
}
