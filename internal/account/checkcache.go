package account

import (
	"slices"
	"sync/atomic"
	"time"

	"roster.dev/roster/internal/checkcache"
)

// checkCache keeps what the entitlement check reads — application keys by hash and
// entitlement facts by organization, account and application — in memory while the
// store vouches for them (see CacheEpoch): each entry is tagged with the epoch it
// was read at and used only while the store still reports that epoch, so a
// committed change to any of the rows behind it, by this process or another,
// retires it before the change's writer has its answer. internal/checkcache keeps
// the entries and compares the epochs; this file decides what an entry holds.
//
// Facts are kept as cachedFacts, which hold no pointer, so that a million of them
// cost the garbage collector nothing to mark, and about 100 bytes
// (BenchmarkCheckCacheMemory); the rare facts that do not fit one are kept apart, in
// a Map of a small share of the limit.
type checkCache struct {
	source CacheEpoch // nil when the store cannot vouch: every check reads it
	hash   checkcache.Hasher
	facts  *checkcache.Map[cachedFacts]
	more   *checkcache.Map[EntitlementFacts] // more than cachedPeriods periods, or a state the store should not have
	keys   *checkcache.Map[*keyEntry]        // by the key's hash
	stats  checkcache.Stats
}

// keyEntry is one application key, with when its last_used_at was last written.
type keyEntry struct {
	actor   AppActor
	touched atomic.Int64 // unix nanoseconds
}

// cachedPeriods is how many separate periods of access a cachedFacts holds: one
// seat's subscription, or a few renewals of it, are one period once merged.
const cachedPeriods = 2

// cachedFacts is EntitlementFacts without a pointer: the states by their index in
// accountStates and memberStates, and the seats' periods merged where they overlap
// or touch (which changes no answer of Decide).
type cachedFacts struct {
	found, hasSeats bool
	account, member uint8
	n               uint8 // periods[:n] in use
	periods         [cachedPeriods]cachedPeriod
}

type cachedPeriod struct {
	fromSec, toSec   int64
	fromNsec, toNsec int32
}

var (
	accountStates = [...]AccountState{"", AccountActive, AccountDisabled, AccountPending}
	memberStates  = [...]MemberState{"", MemberActive, MemberDeactivated, MemberInvited}
)

// compact returns f as a cachedFacts, if it fits one.
func compact(f EntitlementFacts) (cachedFacts, bool) {
	c := cachedFacts{found: f.Found, hasSeats: len(f.Seats) > 0}
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

// maxCachedKeys bounds the application keys kept: keys are few; bound them all the same.
const maxCachedKeys = 10_000

func newCheckCache(store Store, limit int) *checkCache {
	c := &checkCache{hash: checkcache.NewHasher(), keys: checkcache.New[*keyEntry](maxCachedKeys)}
	if src, ok := store.(CacheEpoch); ok && limit >= 0 {
		c.source = src
	}
	if limit <= 0 {
		limit = DefaultCheckCacheEntries
	}
	// The facts that do not fit a cachedFacts get a 64th of the limit (a shard's
	// share, at least one entry a shard); the compact ones the rest.
	more := max(checkcache.Shards, limit/64)
	c.facts = checkcache.New[cachedFacts](max(checkcache.Shards, limit-more))
	c.more = checkcache.New[EntitlementFacts](more)
	return c
}

// epoch reads the store's epoch once per check, before anything is read from the
// store, so that what is read can only be tagged with an epoch at least as old.
func (c *checkCache) epoch() checkcache.Epoch {
	if c.source == nil {
		return checkcache.Epoch{}
	}
	n, ok := c.source.CacheEpoch()
	return checkcache.Epoch{Value: n, Valid: ok}
}

// factsKey returns the key of the facts of an account in an organization for an
// application.
func (c *checkCache) factsKey(orgRef, accountID, applicationID string) checkcache.Key {
	return c.hash.Key(orgRef, accountID, applicationID)
}

// getFacts returns the facts kept for key at e, their Seats in buf.
func (c *checkCache) getFacts(e checkcache.Epoch, key checkcache.Key, buf *[cachedPeriods]SeatPeriod) (EntitlementFacts, bool) {
	if cf, hit := c.facts.Get(e, key); hit {
		c.stats.Hit()
		return cf.facts(buf), true
	}
	if f, hit := c.more.Get(e, key); hit {
		c.stats.Hit()
		return f, true
	}
	c.stats.Miss()
	return EntitlementFacts{}, false
}

// putFacts keeps f, read after e was taken, in place of what was kept for key.
func (c *checkCache) putFacts(e checkcache.Epoch, key checkcache.Key, f EntitlementFacts) {
	if !e.Valid {
		return
	}
	if cf, fits := compact(f); fits {
		c.more.Delete(key)
		c.facts.Put(e, key, cf)
		return
	}
	c.facts.Delete(key)
	c.more.Put(e, key, EntitlementFacts{Found: f.Found, AccountState: f.AccountState, MemberState: f.MemberState,
		Seats: slices.Clone(f.Seats)})
}

// key returns the application key kept for hash at e.
func (c *checkCache) key(e checkcache.Epoch, hash string) (*keyEntry, bool) {
	return c.keys.Get(e, c.hash.Key(hash))
}

// putKey keeps act (when e is valid) and returns its entry.
func (c *checkCache) putKey(e checkcache.Epoch, hash string, act AppActor) *keyEntry {
	k := &keyEntry{actor: act}
	k.touched.Store(act.Key.LastUsedAt.UnixNano())
	c.keys.Put(e, c.hash.Key(hash), k)
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
func (s *Service) CheckCacheStats() (hits, misses uint64) { return s.checks.stats.Load() }
