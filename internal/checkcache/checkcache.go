// Package checkcache keeps answers in memory only while the store that gave them
// vouches that nothing changed them: every entry is tagged with the store's cache
// epoch at the time it was read (account.CacheEpoch has the contract), and found
// only at that epoch. The cache compares numbers; what an entry means, and whether
// it may be kept at all, is its user's business.
//
// A Map is split into shards, each with its own lock, its own epoch and its own
// share of the limit; a full shard drops an arbitrary entry. An entry is found by
// a Key of two independent 64-bit hashes, and stored without its key's text: a Map
// of values that hold no pointer costs the garbage collector nothing to mark.
package checkcache

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// Epoch is one reading of the store's cache epoch, taken before anything is read
// from the store, so that what is read can only be tagged with an epoch at least as
// old. The zero Epoch (Valid false: the store does not vouch) keeps and finds
// nothing.
type Epoch struct {
	Value uint64
	Valid bool
}

// Key names one entry by two independent 64-bit hashes: find places it, and check
// must match too, so two different questions share an answer only if both hashes
// collide (about one chance in 2^128 per pair, with seeds no caller knows).
type Key struct{ find, check uint64 }

// Hasher makes Keys; the Keys of one Hasher only are comparable.
type Hasher struct{ seeds [2]maphash.Seed }

// NewHasher returns a Hasher of fresh random seeds.
func NewHasher() Hasher {
	return Hasher{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
}

// Key returns the key of parts. Each part is hashed after its length, so that no
// two lists of parts hash the same bytes ("ab", "c" is not "a", "bc").
func (h Hasher) Key(parts ...string) Key {
	var k [2]uint64
	var n [8]byte
	for i := range k {
		var mh maphash.Hash
		mh.SetSeed(h.seeds[i])
		for _, part := range parts {
			binary.LittleEndian.PutUint64(n[:], uint64(len(part)))
			_, _ = mh.Write(n[:])
			_, _ = mh.WriteString(part)
		}
		k[i] = mh.Sum64()
	}
	return Key{find: k[0], check: k[1]}
}

// Shards is how many shards a Map has.
const Shards = 64

// Map holds values of type V by Key, each good at one Epoch.
type Map[V any] struct {
	shards [Shards]shard[V]
	perMax int // entries per shard
}

type shard[V any] struct {
	mu    sync.RWMutex
	epoch uint64
	m     map[uint64]slot[V] // by Key.find
}

type slot[V any] struct {
	check uint64
	v     V
}

// New returns a Map of at most limit entries (at least one a shard).
func New[V any](limit int) *Map[V] {
	m := &Map[V]{perMax: max(1, limit/Shards)}
	for i := range m.shards {
		m.shards[i].m = map[uint64]slot[V]{}
	}
	return m
}

func (m *Map[V]) shard(k Key) *shard[V] { return &m.shards[k.find%Shards] }

// Get returns the value kept for k at e, if any.
func (m *Map[V]) Get(e Epoch, k Key) (v V, hit bool) {
	if !e.Valid {
		return v, false
	}
	sh := m.shard(k)
	sh.mu.RLock()
	if sh.epoch == e.Value {
		var s slot[V]
		s, hit = sh.m[k.find]
		hit = hit && s.check == k.check
		v = s.v
	}
	sh.mu.RUnlock()
	return v, hit
}

// Put keeps v for k, read after e was taken. A shard holding an older epoch is
// emptied first; one already at a newer epoch refuses v, which may predate it.
func (m *Map[V]) Put(e Epoch, k Key, v V) {
	if !e.Valid {
		return
	}
	sh := m.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.epoch != e.Value {
		if e.Value < sh.epoch {
			return
		}
		clear(sh.m)
		sh.epoch = e.Value
	}
	if _, ok := sh.m[k.find]; !ok && len(sh.m) >= m.perMax {
		for old := range sh.m { // an arbitrary entry: map order is random
			delete(sh.m, old)
			break
		}
	}
	sh.m[k.find] = slot[V]{check: k.check, v: v}
}

// Delete forgets what is kept for k, at any epoch.
func (m *Map[V]) Delete(k Key) {
	sh := m.shard(k)
	sh.mu.Lock()
	delete(sh.m, k.find)
	sh.mu.Unlock()
}

// Len is how many entries the Map holds, of any epoch.
func (m *Map[V]) Len() int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

// MaxShardLen is the number of entries of the fullest shard.
func (m *Map[V]) MaxShardLen() int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.RLock()
		n = max(n, len(sh.m))
		sh.mu.RUnlock()
	}
	return n
}

// Stats counts the questions answered from memory (hits) and those that read the
// store (misses).
type Stats struct{ hits, misses atomic.Uint64 }

// Hit counts one answer from memory.
func (s *Stats) Hit() { s.hits.Add(1) }

// Miss counts one answer that read the store.
func (s *Stats) Miss() { s.misses.Add(1) }

// Load returns the counts so far.
func (s *Stats) Load() (hits, misses uint64) { return s.hits.Load(), s.misses.Load() }
