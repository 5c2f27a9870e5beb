package checkcache

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// TestMapBounds: a full shard drops an entry for a new one, and replacing an entry
// drops none.
func TestMapBounds(t *testing.T) {
	m := New[int](Shards * 2)
	h := NewHasher()
	e := Epoch{Value: 1, Valid: true}
	for i := range 1000 {
		m.Put(e, h.Key("org", fmt.Sprint(i), "app"), i)
	}
	if n := m.MaxShardLen(); n > 2 {
		t.Fatalf("a shard holds %d entries, limit 2", n)
	}
	if n := m.Len(); n == 0 || n > Shards*2 {
		t.Fatalf("kept %d entries, limit %d", n, Shards*2)
	}
	// Replacing an entry of a full shard keeps its neighbour.
	a := h.Key("a")
	b := neighbour(h, a)
	m = New[int](Shards * 2)
	m.Put(e, a, 1)
	m.Put(e, b, 2)
	m.Put(e, a, 3)
	if v, hit := m.Get(e, a); !hit || v != 3 {
		t.Fatalf("replaced entry = %v %v, want 3", v, hit)
	}
	if v, hit := m.Get(e, b); !hit || v != 2 {
		t.Fatalf("its neighbour = %v %v, want 2", v, hit)
	}
}

// TestMapEpochs: an entry is found only at the epoch it was put at, and only while
// the store vouches; one read at an older epoch is refused once a newer one is seen,
// and a newer one retires every entry of the shard.
func TestMapEpochs(t *testing.T) {
	m := New[string](Shards * 4)
	h := NewHasher()
	a := h.Key("org", "a", "app")
	at := func(n uint64) Epoch { return Epoch{Value: n, Valid: true} }
	m.Put(at(3), a, "three")
	m.Put(at(2), a, "two")
	if v, hit := m.Get(at(3), a); !hit || v != "three" {
		t.Fatalf("at epoch 3 = %q %v, want the value put at 3", v, hit)
	}
	if _, hit := m.Get(at(4), a); hit {
		t.Fatal("an entry of epoch 3 answered at epoch 4")
	}
	if _, hit := m.Get(Epoch{Value: 3}, a); hit {
		t.Fatal("an entry answered while the store does not vouch")
	}
	m.Put(Epoch{Value: 5}, a, "unvouched")
	if _, hit := m.Get(at(5), a); hit {
		t.Fatal("an entry put while the store does not vouch was kept")
	}
	m.Put(at(4), neighbour(h, a), "b")
	m.Put(at(3), a, "three again")
	if _, hit := m.Get(at(3), a); hit {
		t.Fatal("a shard at epoch 4 kept an entry read at epoch 3")
	}
	if n := m.Len(); n != 1 {
		t.Fatalf("a newer epoch left %d entries in the shard, want its own 1", n)
	}
	m.Put(at(4), a, "four")
	m.Delete(a)
	if _, hit := m.Get(at(4), a); hit {
		t.Fatal("a deleted entry answered")
	}
	if n := m.Len(); n != 1 {
		t.Fatalf("Len = %d, want 1", n)
	}
}

// neighbour returns a key other than k in k's shard.
func neighbour(h Hasher, k Key) Key {
	for i := 0; ; i++ {
		if n := h.Key(fmt.Sprint(i)); n.find%Shards == k.find%Shards && n != k {
			return n
		}
	}
}

// TestKeyParts: keys of different parts differ, even when their concatenations are
// equal; keys of equal parts are equal; the check hash tells apart a find collision.
func TestKeyParts(t *testing.T) {
	h := NewHasher()
	if h.Key("ab", "c", "app") == h.Key("a", "bc", "app") {
		t.Fatal("two different questions have one key")
	}
	if h.Key("a", "b") != h.Key("a", "b") {
		t.Fatal("one question has two keys")
	}
	m := New[int](0)
	e := Epoch{Value: 1, Valid: true}
	k := h.Key("x")
	m.Put(e, k, 1)
	if _, hit := m.Get(e, Key{find: k.find, check: k.check + 1}); hit {
		t.Fatal("a key matching by its find hash only answered")
	}
}

// BenchmarkMapHit is a lookup in memory: the key's two hashes and the entry.
func BenchmarkMapHit(b *testing.B) {
	m := New[[64]byte](0)
	h := NewHasher()
	e := Epoch{Value: 1, Valid: true}
	m.Put(e, h.Key("org00000000000000000000001", "acc00000000000000000000001", "app00000000000000000000001"), [64]byte{1})
	b.ReportAllocs()
	for b.Loop() {
		if v, hit := m.Get(e, h.Key("org00000000000000000000001", "acc00000000000000000000001", "app00000000000000000000001")); !hit || v[0] != 1 {
			b.Fatal("missed")
		}
	}
}

// TestMapConcurrent: writers putting what they read at rising epochs and readers
// looking up at those epochs, all at once: a value is only ever found at the epoch
// it was put at (run with -race, as CI does).
func TestMapConcurrent(t *testing.T) {
	m := New[uint64](Shards * 4)
	h := NewHasher()
	keys := make([]Key, 50)
	for i := range keys {
		keys[i] = h.Key(fmt.Sprint(i))
	}
	var wg sync.WaitGroup
	var epoch atomic.Uint64
	epoch.Store(1)
	bad := make(chan string, 1)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				if w == 0 && i%100 == 0 {
					epoch.Add(1)
				}
				e := Epoch{Value: epoch.Load(), Valid: true}
				k := keys[(w*31+i)%len(keys)]
				if v, hit := m.Get(e, k); hit && v != e.Value {
					select {
					case bad <- fmt.Sprintf("found %d at epoch %d", v, e.Value):
					default:
					}
					return
				}
				m.Put(e, k, e.Value)
			}
		}()
	}
	wg.Wait()
	select {
	case msg := <-bad:
		t.Fatal(msg)
	default:
	}
	if m.MaxShardLen() > 4 {
		t.Fatalf("a shard holds %d entries, limit 4", m.MaxShardLen())
	}
}
