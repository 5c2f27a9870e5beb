package account

import (
	"encoding/binary"
	"hash/maphash"
	"slices"
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
// limit; a full shard drops an arbitrary entry. An entry holds no pointer (see
// cachedFacts), so that a million of them cost the garbage collector nothing to
// mark, and about 100 bytes (BenchmarkCheckCacheMemory).
type checkCache struct {
	source CacheEpoch // nil when the store cannot vouch: every check reads it
	seeds  [2]maphash.Seed
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
	m     map[uint64]cachedFacts // by factsKey.find
	// more holds the rare facts that do not fit a cachedFacts: more than
	// cachedPeriods periods of access, or a state the store should not have.
	more map[uint64]moreFacts
}

// keyEntry is one application key, with when its last_used_at was last written.
type keyEntry struct {
	actor   AppActor
	touched atomic.Int64 // unix nanoseconds
}

// factsKey names one entry by two independent 64-bit hashes of the organization,
// account and application: find places it, and check must match too, so two
// different questions share an answer only if both hashes collide (about one chance
// in 2^128 per pair, with seeds no caller knows).
type factsKey struct{ find, check uint64 }

// cachedPeriods is how many separate periods of access a cachedFacts holds: one
// seat's subscription, or a few renewals of it, are one period once merged.
const cachedPeriods = 2

// cachedFacts is EntitlementFacts without a pointer: the states by their index in
// accountStates and memberStates, and the seats' periods merged where they overlap
// or touch (which changes no answer of Decide).
type cachedFacts struct {
	check           uint64
	found, hasSeats bool
	account, member uint8
	n               uint8 // periods[:n] in use
	periods         [cachedPeriods]cachedPeriod
}

type cachedPeriod struct {
	fromSec, toSec   int64
	fromNsec, toNsec int32
}

type moreFacts struct {
	check uint64
	facts EntitlementFacts
}

var (
	accountStates = [...]AccountState{"", AccountActive, AccountDisabled, AccountPending}
	memberStates  = [...]MemberState{"", MemberActive, MemberDeactivated, MemberInvited}
)

// compact returns f as a cachedFacts, if it fits one.
func compact(check uint64, f EntitlementFacts) (cachedFacts, bool) {
	c := cachedFacts{check: check, found: f.Found, hasSeats: len(f.Seats) > 0}
	a, m := slices.Index(accountStates[:], f.AccountState), slices.Index(memberStates[:], f.MemberState)
	if a < 0 || m < 0 {
		return cachedFacts{}, false
	}
	c.account, c.member = uint8(a), uint8(m)
	// The periods in which a seat grants access, by start, merged: an empty period
	// grants nothing (what remains of it is hasSeats).
	periods := make([]SeatPeriod, 0, len(f.Seats))
	for _, p := range f.Seats {
		if p.StartsAt.Before(p.EndsAt) {
			periods = append(periods, p)
		}
	}
	slices.SortFunc(periods, func(a, b SeatPeriod) int { return a.StartsAt.Compare(b.StartsAt) })
	for _, p := range periods {
		if c.n > 0 {
			last := &c.periods[c.n-1]
			if end := time.Unix(last.toSec, int64(last.toNsec)); !p.StartsAt.After(end) {
				if p.EndsAt.After(end) {
					last.toSec, last.toNsec = p.EndsAt.Unix(), int32(p.EndsAt.Nanosecond())
				}
				continue
			}
		}
		if int(c.n) == cachedPeriods {
			return cachedFacts{}, false
		}
		c.periods[c.n] = cachedPeriod{fromSec: p.StartsAt.Unix(), fromNsec: int32(p.StartsAt.Nanosecond()),
			toSec: p.EndsAt.Unix(), toNsec: int32(p.EndsAt.Nanosecond())}
		c.n++
	}
	return c, true
}

// facts returns the EntitlementFacts c stands for, its Seats in buf.
func (c *cachedFacts) facts(buf *[cachedPeriods]SeatPeriod) EntitlementFacts {
	f := EntitlementFacts{Found: c.found, AccountState: accountStates[c.account], MemberState: memberStates[c.member]}
	for i, p := range c.periods[:c.n] {
		buf[i] = SeatPeriod{StartsAt: time.Unix(p.fromSec, int64(p.fromNsec)), EndsAt: time.Unix(p.toSec, int64(p.toNsec))}
	}
	switch {
	case c.n > 0:
		f.Seats = buf[:c.n]
	case c.hasSeats: // seats, none of which ever grants access
		buf[0] = SeatPeriod{}
		f.Seats = buf[:1]
	}
	return f
}

// DefaultCheckCacheEntries bounds the entitlement facts kept in memory (about 100
// MB when full).
const DefaultCheckCacheEntries = 1_000_000

func newCheckCache(store Store, limit int) *checkCache {
	c := &checkCache{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, keys: map[string]*keyEntry{}}
	if src, ok := store.(CacheEpoch); ok && limit >= 0 {
		c.source = src
	}
	if limit <= 0 {
		limit = DefaultCheckCacheEntries
	}
	c.perMax = max(1, limit/cacheShards)
	for i := range c.shards {
		c.shards[i].m = map[uint64]cachedFacts{}
		c.shards[i].more = map[uint64]moreFacts{}
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

// factsKey returns the key of the facts of an account in an organization for an
// application.
func (c *checkCache) factsKey(orgRef, accountID, applicationID string) factsKey {
	var k [2]uint64
	var n [8]byte
	for i := range k {
		var h maphash.Hash
		h.SetSeed(c.seeds[i])
		for _, part := range [...]string{orgRef, accountID, applicationID} {
			// Each part after its length, so that no two triples hash the same bytes.
			binary.LittleEndian.PutUint64(n[:], uint64(len(part)))
			_, _ = h.Write(n[:])
			_, _ = h.WriteString(part)
		}
		k[i] = h.Sum64()
	}
	return factsKey{find: k[0], check: k[1]}
}

func (c *checkCache) shard(key factsKey) *factsShard {
	return &c.shards[key.find%cacheShards]
}

// facts returns the facts kept for key at epoch, their Seats in buf.
func (c *checkCache) facts(epoch uint64, ok bool, key factsKey, buf *[cachedPeriods]SeatPeriod) (EntitlementFacts, bool) {
	if !ok {
		c.misses.Add(1)
		return EntitlementFacts{}, false
	}
	sh := c.shard(key)
	var f EntitlementFacts
	sh.mu.RLock()
	hit := sh.epoch == epoch
	if hit {
		if cf, found := sh.m[key.find]; found && cf.check == key.check {
			f = cf.facts(buf)
		} else if mf, found := sh.more[key.find]; found && mf.check == key.check {
			f = mf.facts
		} else {
			hit = false
		}
	}
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
func (c *checkCache) putFacts(epoch uint64, ok bool, key factsKey, f EntitlementFacts) {
	if !ok {
		return
	}
	cf, fits := compact(key.check, f)
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.epoch != epoch {
		if epoch < sh.epoch {
			return
		}
		clear(sh.m)
		clear(sh.more)
		sh.epoch = epoch
	}
	delete(sh.m, key.find)
	delete(sh.more, key.find)
	if len(sh.m)+len(sh.more) >= c.perMax {
		// An arbitrary entry: map order is random.
		for k := range sh.m {
			delete(sh.m, k)
			break
		}
		if len(sh.m)+len(sh.more) >= c.perMax { // sh.m was empty
			for k := range sh.more {
				delete(sh.more, k)
				break
			}
		}
	}
	if fits {
		sh.m[key.find] = cf
		return
	}
	sh.more[key.find] = moreFacts{check: key.check, facts: EntitlementFacts{Found: f.Found,
		AccountState: f.AccountState, MemberState: f.MemberState, Seats: slices.Clone(f.Seats)}}
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
