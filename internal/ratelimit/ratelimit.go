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

// bucket holds tokens as of last; it gains one every limit.Every, up to limit.Burst.
type bucket struct {
	tokens float64
	last   time.Time
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
	if n > k.limit.Burst {
		return false, k.limit.Every
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.bucket(key, now)
	if b.tokens >= float64(n) {
		b.tokens -= float64(n)
		return true, 0
	}
	wait := time.Duration((float64(n) - b.tokens) * float64(k.limit.Every))
	return false, time.Duration(math.Ceil(wait.Seconds())) * time.Second
}

// Refund gives back one token taken from key's bucket, for an attempt that turned
// out not to count (a right password): a bucket never holds more than its burst.
func (k *Keyed) Refund(key string) {
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.bucket(key, now)
	b.tokens = min(float64(k.limit.Burst), b.tokens+1)
}

// bucket returns key's bucket refilled up to now, creating a full one for a new key.
func (k *Keyed) bucket(key string, now time.Time) *bucket {
	b, ok := k.buckets[key]
	if !ok {
		if len(k.buckets) >= k.maxKeys {
			k.sweep(now)
		}
		b = &bucket{tokens: float64(k.limit.Burst), last: now}
		k.buckets[key] = b
		return b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 && k.limit.Every > 0 {
		b.tokens = min(float64(k.limit.Burst), b.tokens+float64(elapsed)/float64(k.limit.Every))
	}
	if now.After(b.last) {
		b.last = now
	}
	return b
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
