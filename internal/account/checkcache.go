package account

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// checkCache keeps what the entitlement check reads — application keys by hash and
// entitlement facts by organization, account and application — in memory, each
// tagged with the store's cache epoch (see CacheEpoch). An entry is used only while
// the store still reports the epoch it was read at, so a committed change to any of
// the rows behind it, by this process or another, retires it before the change's
// writer has its answer; the store decides, the cache only compares numbers.
//
// The facts are split into shards, each with its own lock and its own share of the
// limit; a full shard drops an arbitrary entry. An entry costs about 250 bytes
// (BenchmarkCheckCacheMemory).
type checkCache struct {
	source CacheEpoch // nil when the store cannot vouch: every check reads it
	seed   maphash.Seed
	shards [cacheShards]factsShard
	perMax int // entries per shard

	keysMu    sync.RWMutex
	keysEpoch uint64
	keys      map[string]*keyEntry

	hits, misses atomic.Uint64
}

const cacheShards = 64

type factsShard struct {
	mu    sync.RWMutex
	epoch uint64
	m     map[string]EntitlementFacts
}

// keyEntry is one application key, with when its last_used_at was last written.
type keyEntry struct {
	actor   AppActor
	touched atomic.Int64 // unix nanoseconds
}

// DefaultCheckCacheEntries bounds the entitlement facts kept in memory (about 250
// MB when full).
const DefaultCheckCacheEntries = 1_000_000

func newCheckCache(store Store, limit int) *checkCache {
	c := &checkCache{seed: maphash.MakeSeed(), keys: map[string]*keyEntry{}}
	if src, ok := store.(CacheEpoch); ok && limit >= 0 {
		c.source = src
	}
	if limit <= 0 {
		limit = DefaultCheckCacheEntries
	}
	c.perMax = max(1, limit/cacheShards)
	for i := range c.shards {
		c.shards[i].m = map[string]EntitlementFacts{}
	}
	return c
}

// epoch reads the store's epoch once per check, before anything is read from the
// store, so that what is read can only be tagged with an epoch at least as old.
func (c *checkCache) epoch() (uint64, bool) {
	if c.source == nil {
		return 0, false
	}
	return c.source.CacheEpoch()
}

func factsKey(orgRef, accountID, applicationID string) string {
	return orgRef + "\x00" + accountID + "\x00" + applicationID
}

func (c *checkCache) shard(key string) *factsShard {
	return &c.shards[maphash.String(c.seed, key)%cacheShards]
}

// facts returns the facts kept for key at epoch.
func (c *checkCache) facts(epoch uint64, ok bool, key string) (EntitlementFacts, bool) {
	if !ok {
		c.misses.Add(1)
		return EntitlementFacts{}, false
	}
	sh := c.shard(key)
	sh.mu.RLock()
	f, hit := sh.m[key]
	hit = hit && sh.epoch == epoch
	sh.mu.RUnlock()
	if hit {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return f, hit
}

// putFacts keeps f, read after epoch was taken. A shard holding an older epoch is
// emptied first; one already at a newer epoch refuses f, which may predate it.
func (c *checkCache) putFacts(epoch uint64, ok bool, key string, f EntitlementFacts) {
	if !ok {
		return
	}
	f.AccountState, f.MemberState = internAccountState(f.AccountState), internMemberState(f.MemberState)
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.epoch != epoch {
		if epoch < sh.epoch {
			return
		}
		clear(sh.m)
		sh.epoch = epoch
	}
	if _, present := sh.m[key]; !present && len(sh.m) >= c.perMax {
		for k := range sh.m { // an arbitrary entry: map order is random
			delete(sh.m, k)
			break
		}
	}
	sh.m[key] = f
}

// key returns the application key kept for hash at epoch.
func (c *checkCache) key(epoch uint64, ok bool, hash string) (*keyEntry, bool) {
	if !ok {
		return nil, false
	}
	c.keysMu.RLock()
	k, hit := c.keys[hash]
	hit = hit && c.keysEpoch == epoch
	c.keysMu.RUnlock()
	return k, hit
}

// putKey keeps act (when ok) and returns its entry.
func (c *checkCache) putKey(epoch uint64, ok bool, hash string, act AppActor) *keyEntry {
	k := &keyEntry{actor: act}
	k.touched.Store(act.Key.LastUsedAt.UnixNano())
	if !ok {
		return k
	}
	c.keysMu.Lock()
	defer c.keysMu.Unlock()
	if c.keysEpoch != epoch {
		if epoch < c.keysEpoch {
			return k
		}
		clear(c.keys)
		c.keysEpoch = epoch
	}
	if len(c.keys) >= 10_000 { // keys are few; bound them all the same
		clear(c.keys)
	}
	c.keys[hash] = k
	return k
}

// touchDue reports whether the key's last_used_at should be written now: at most
// once per keyTouchEvery, by one caller.
func (k *keyEntry) touchDue(now time.Time) bool {
	last := k.touched.Load()
	if now.UnixNano()-last < int64(keyTouchEvery) {
		return false
	}
	return k.touched.CompareAndSwap(last, now.UnixNano())
}

// CheckCacheStats counts the entitlement checks answered from memory and those
// that read the store.
func (s *Service) CheckCacheStats() (hits, misses uint64) {
	return s.checks.hits.Load(), s.checks.misses.Load()
}

// internAccountState and internMemberState share one copy of each state's string
// among the cached entries.
func internAccountState(s AccountState) AccountState {
	for _, v := range []AccountState{AccountActive, AccountDisabled, AccountPending} {
		if s == v {
			return v
		}
	}
	return s
}

func internMemberState(s MemberState) MemberState {
	for _, v := range []MemberState{MemberActive, MemberDeactivated, MemberInvited} {
		if s == v {
			return v
		}
	}
	return s
}
