// Package ratelimit limits events per key (an IP address, an email) with one token
// bucket per key, forgetting keys that have been idle long enough to be full again.
package ratelimit

import (
	"math"
	"sync"
	"time"
)

// Limit is a bucket's refill rate and size.
type Limit struct {
	Every time.Duration // one token is added every Every
	Burst int
}

// Keyed holds one bucket per key. It is safe for concurrent use.
type Keyed struct {
	limit   Limit
	now     func() time.Time
	maxKeys int

	mu      sync.Mutex
	buckets map[string]*bucket
}

// bucket is one key's tokens: tokens as of at, refilled one per Every up to Burst.
type bucket struct {
	tokens float64
	at     time.Time
	last   time.Time // last use, for the sweep
}

// fill adds the tokens earned since b.at, up to the burst.
func (k *Keyed) fill(b *bucket, now time.Time) {
	if now.After(b.at) {
		if k.limit.Every > 0 {
			b.tokens += float64(now.Sub(b.at)) / float64(k.limit.Every)
		}
		b.at = now
	}
	if burst := float64(k.limit.Burst); b.tokens > burst {
		b.tokens = burst
	}
}

// New returns a Keyed limiter. maxKeys bounds memory: past it, idle keys are swept,
// and if none is idle the oldest half is dropped (those keys start over full, which
// errs on the side of letting people in rather than growing without bound).
func New(l Limit, maxKeys int, now func() time.Time) *Keyed {
	if now == nil {
		now = time.Now
	}
	return &Keyed{limit: l, now: now, maxKeys: maxKeys, buckets: map[string]*bucket{}}
}

// Allow takes one token from key's bucket. When there is none it returns false and
// how long until there is.
func (k *Keyed) Allow(key string) (bool, time.Duration) { return k.AllowN(key, 1) }

// AllowN takes n tokens from key's bucket at once, or none: when there are fewer it
// returns false and how long until there are enough (n above the burst never is).
func (k *Keyed) AllowN(key string, n int) (bool, time.Duration) {
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.buckets[key]
	if !ok {
		if len(k.buckets) >= k.maxKeys {
			k.sweep(now)
		}
		b = &bucket{tokens: float64(k.limit.Burst), at: now}
		k.buckets[key] = b
	}
	b.last = now
	if k.limit.Every <= 0 { // no limit
		return true, 0
	}
	if n > k.limit.Burst {
		return false, k.limit.Every
	}
	k.fill(b, now)
	if missing := float64(n) - b.tokens; missing > 0 {
		d := time.Duration(missing * float64(k.limit.Every))
		return false, time.Duration(math.Ceil(d.Seconds())) * time.Second
	}
	b.tokens -= float64(n)
	return true, 0
}

// Refund gives back n tokens that AllowN took from key's bucket for work that was
// not done after all (a request that failed, the items of a bulk request that were
// refused), up to the burst: a limit counts only what was applied.
func (k *Keyed) Refund(key string, n int) {
	if n <= 0 {
		return
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.buckets[key]
	if !ok { // swept meanwhile: it starts over full
		return
	}
	k.fill(b, now)
	b.tokens = min(b.tokens+float64(n), float64(k.limit.Burst))
}

// sweep drops keys idle long enough for a full refill, then if still full, the
// least recently used half.
func (k *Keyed) sweep(now time.Time) {
	full := k.limit.Every * time.Duration(k.limit.Burst)
	for key, b := range k.buckets {
		if now.Sub(b.last) >= full {
			delete(k.buckets, key)
		}
	}
	if len(k.buckets) < k.maxKeys {
		return
	}
	var cutoff time.Time
	times := make([]time.Time, 0, len(k.buckets))
	for _, b := range k.buckets {
		times = append(times, b.last)
	}
	// The median last-use time splits the keys in half.
	cutoff = quickMedian(times)
	for key, b := range k.buckets {
		if !b.last.After(cutoff) {
			delete(k.buckets, key)
		}
	}
}

func quickMedian(ts []time.Time) time.Time {
	// Keys are few (maxKeys); a simple selection by sorting a copy is enough.
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
	return ts[len(ts)/2]
}
