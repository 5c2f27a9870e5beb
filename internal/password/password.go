// Package password hashes and verifies passwords with argon2id, encoded in the PHC
// string format so that parameters can be raised later without breaking old hashes.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters.
type Params struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
}

// DefaultParams follow OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane):
// about 30 ms a hash on one core of a current server.
var DefaultParams = Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1}

// TestParams are cheap, for tests only; they still exercise the real algorithm.
var TestParams = Params{Memory: 64, Iterations: 1, Parallelism: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// Hasher hashes and verifies passwords. At most `concurrency` hashes run at once, so a
// burst of logins cannot take all memory (each hash holds Params.Memory KiB) or CPU;
// callers beyond the bound wait, or give up when their context ends.
type Hasher struct {
	params Params
	slots  chan struct{}
	rand   io.Reader
	dummy  string // a real hash, verified against when an account does not exist
}

// NewHasher returns a Hasher with the given parameters and concurrency bound (at least 1).
func NewHasher(p Params, concurrency int, random io.Reader) *Hasher {
	if concurrency < 1 {
		concurrency = 1
	}
	if random == nil {
		random = rand.Reader
	}
	h := &Hasher{params: p, slots: make(chan struct{}, concurrency), rand: random}
	salt := make([]byte, saltLen)
	h.dummy = encode(p, salt, argon2.IDKey([]byte("roster-dummy"), salt, p.Iterations, p.Memory, p.Parallelism, keyLen))
	return h
}

// Hash returns the PHC-encoded argon2id hash of password. It fails only if ctx ends
// while waiting for a slot or if the random source fails.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(h.rand, salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	key := argon2.IDKey([]byte(password), salt, h.params.Iterations, h.params.Memory, h.params.Parallelism, keyLen)
	return encode(h.params, salt, key), nil
}

// Verify reports whether password matches encoded. An empty or malformed encoded hash
// is verified against a dummy hash (so the time taken does not tell whether an account
// exists) and never matches.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	p, salt, want, err := decode(encoded)
	valid := err == nil
	if !valid {
		p, salt, want, _ = decode(h.dummy)
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, uint32(len(want)))
	return valid && subtle.ConstantTimeCompare(got, want) == 1, nil
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

var b64 = base64.RawStdEncoding

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Iterations, p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key))
}

var errMalformed = errors.New("malformed password hash")

func decode(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, errMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errMalformed
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Iterations, &p.Parallelism); err != nil {
		return p, nil, nil, errMalformed
	}
	// Refuse parameters no hash of ours has, so a tampered row cannot make us burn memory.
	if p.Memory == 0 || p.Memory > 1<<20 || p.Iterations == 0 || p.Iterations > 16 || p.Parallelism == 0 {
		return p, nil, nil, errMalformed
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, errMalformed
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errMalformed
	}
	return p, salt, key, nil
}
