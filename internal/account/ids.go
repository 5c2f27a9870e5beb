package account

import (
	"encoding/base32"
	"encoding/binary"
	"io"
	"sync"
	"time"
)

// idEncoding is lower-case Crockford-like base32 without padding: ids are URL-safe
// and case-insensitive to read aloud.
var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// idLen is the length of an encoded id: 16 bytes → 26 characters.
const idLen = 26

// IDSource makes time-ordered, unique ids: 48 bits of milliseconds then 80 random bits,
// like a ULID. Within one millisecond the random part is incremented, so ids made by
// one process are strictly increasing; keyset pagination and the audit trail's order
// rely on that.
type IDSource struct {
	mu     sync.Mutex
	rand   io.Reader
	now    func() time.Time
	lastMS uint64
	last   [16]byte
}

// NewIDSource returns an IDSource reading randomness from rand and time from now.
func NewIDSource(rand io.Reader, now func() time.Time) *IDSource {
	return &IDSource{rand: rand, now: now}
}

// New returns a new id. It panics only if the random source fails, which for
// crypto/rand means the process cannot safely continue.
func (s *IDSource) New() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := uint64(s.now().UnixMilli())
	var id [16]byte
	if ms <= s.lastMS {
		// Same (or earlier, if the clock stepped back) millisecond: increment.
		id = s.last
		for i := 15; i >= 6; i-- {
			id[i]++
			if id[i] != 0 {
				break
			}
		}
	} else {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], ms)
		copy(id[:6], b[2:])
		if _, err := io.ReadFull(s.rand, id[6:]); err != nil {
			panic("account: random source failed: " + err.Error())
		}
		s.lastMS = ms
	}
	s.last = id
	return idEncoding.EncodeToString(id[:])
}

// looksLikeID reports whether s has the form of an id made by IDSource.
func looksLikeID(s string) bool {
	if len(s) != idLen {
		return false
	}
	_, err := idEncoding.DecodeString(s)
	return err == nil
}
