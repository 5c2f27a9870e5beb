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
			c.putFacts(1, true, factsKey(fmt.Sprintf("org%023d", i%1000), fmt.Sprintf("acc%023d", i), "app00000000000000000000001"), f)
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
	for i := range 1000 {
		c.putFacts(1, true, fmt.Sprint(i), EntitlementFacts{Found: true})
	}
	total := 0
	for i := range c.shards {
		if n := len(c.shards[i].m); n > 2 {
			t.Fatalf("shard %d holds %d entries, limit 2", i, n)
		}
		total += len(c.shards[i].m)
	}
	if total == 0 {
		t.Fatal("nothing kept")
	}
	c.putFacts(3, true, "a", EntitlementFacts{Found: true})
	c.putFacts(2, true, "a", EntitlementFacts{})
	if f, hit := c.facts(3, true, "a"); !hit || !f.Found {
		t.Fatalf("facts at epoch 3 = %v %v, want the ones put at 3", f, hit)
	}
	if _, hit := c.facts(4, true, "a"); hit {
		t.Fatal("an entry of epoch 3 answered at epoch 4")
	}
	if _, hit := c.facts(3, false, "a"); hit {
		t.Fatal("an entry answered while the store does not vouch")
	}
}
