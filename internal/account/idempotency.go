package account

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"
)

// Idempotent requests (the IETF httpapi draft "The Idempotency-Key HTTP Header
// Field"). A request that names a key reserves it for its caller before it runs and
// records its answer after; a retry with the same key, from the same caller, of the
// same request gets that answer again instead of a second change.
//
// The reservation and the answer are written in transactions of their own, around
// the request's; what ties them to it is the fence: every write transaction run
// under a reservation (WithIdempotency) first marks the reservation applied, in the
// same transaction, and fails when its owner no longer holds it. So:
//   - a request that crashed before any write leaves a reservation that is not
//     applied: once its lease lapses, a retry takes it over and runs;
//   - a request that crashed after a write committed, before its answer was
//     recorded, leaves an applied reservation: a retry learns the change was made
//     (IdempotencyLost) and nothing runs twice;
//   - a request slower than its lease, whose reservation a retry took over, has
//     its writes refused from then on: only one of the two changes anything.
const (
	// IdempotencyTTL is how long a key is kept from its first request.
	IdempotencyTTL = 24 * time.Hour
	// IdempotencyLease is how long a reservation stands for a request that has not
	// answered: requests are bounded by the store's timeout, far below it.
	IdempotencyLease = time.Minute
)

// IdempotencyKey is one stored key of one caller.
type IdempotencyKey struct {
	Caller      string // "account:<id>", "application:<id>", "anonymous"
	KeyHash     []byte
	Fingerprint []byte
	Owner       string // the reservation's holder, a random id
	Done        bool   // the answer is recorded
	Applied     bool   // a write of the request committed
	Answer      []byte // sealed
	CreatedAt   time.Time
	LeaseUntil  time.Time
	ExpiresAt   time.Time
}

// IdempotencyOutcome is what a reservation found.
type IdempotencyOutcome int

const (
	IdempotencyReserved IdempotencyOutcome = iota // run the request, then Complete or Release
	IdempotencyReplay                             // the first request's answer
	IdempotencyInFlight                           // the first request has not answered yet
	IdempotencyMismatch                           // the key was used for another request
	IdempotencyLost                               // the first request was applied; its answer was lost
)

// IdempotentRequest is a request that names an idempotency key.
type IdempotentRequest struct {
	Caller      string
	Key         string // as the client sent it, validated by the caller of Reserve
	Fingerprint []byte // of the method, the path and the body
}

// Reservation is a key held by the request running under it.
type Reservation struct {
	Caller  string
	KeyHash []byte
	Owner   string
	seal    []byte // AES key of the answer, derived from the key
}

type reservationKey struct{}

// WithIdempotency returns ctx for the writes of the request that holds r: the
// store's Write marks r applied in each of them, and refuses them once r is
// another's (IdempotencyFence).
func WithIdempotency(ctx context.Context, r Reservation) context.Context {
	return context.WithValue(ctx, reservationKey{}, r)
}

// IdempotencyFence is the reservation ctx's writes run under, if any.
func IdempotencyFence(ctx context.Context) (Reservation, bool) {
	r, ok := ctx.Value(reservationKey{}).(Reservation)
	return r, ok
}

// ErrReservationLost is the error of a write whose request's idempotency
// reservation was taken over by a retry after its lease lapsed.
var ErrReservationLost = Errorf(ECONFLICT, "this request's Idempotency-Key was taken over by a retry; the retry's answer is the one that counts")

// derive is HMAC-SHA-256 of the caller and the key under a label.
func derive(label, caller, key string) []byte {
	m := hmac.New(sha256.New, []byte("roster idempotency "+label))
	m.Write([]byte(caller))
	m.Write([]byte{0})
	m.Write([]byte(key))
	return m.Sum(nil)
}

// ReserveIdempotency looks req's key up for its caller and, when it is new (or
// expired, or its reservation lapsed before anything was applied), reserves it. With
// IdempotencyReplay it returns the first answer, as Complete was given it.
func (s *Service) ReserveIdempotency(ctx context.Context, req IdempotentRequest) (Reservation, IdempotencyOutcome, []byte, error) {
	owner := make([]byte, 16)
	if _, err := io.ReadFull(s.rand, owner); err != nil {
		return Reservation{}, 0, nil, err
	}
	r := Reservation{Caller: req.Caller, KeyHash: derive("lookup", req.Caller, req.Key),
		Owner: hex.EncodeToString(owner), seal: derive("seal", req.Caller, req.Key)}
	var outcome IdempotencyOutcome
	var answer []byte
	err := s.store.Write(ctx, func(tx Tx) error {
		now := s.now()
		fresh := IdempotencyKey{Caller: r.Caller, KeyHash: r.KeyHash, Fingerprint: req.Fingerprint,
			Owner: r.Owner, CreatedAt: now, LeaseUntil: now.Add(IdempotencyLease), ExpiresAt: now.Add(IdempotencyTTL)}
		outcome, answer = IdempotencyReserved, nil
		inserted, err := tx.InsertIdempotencyKey(ctx, fresh)
		if err != nil || inserted {
			return err
		}
		k, err := tx.IdempotencyKey(ctx, r.Caller, r.KeyHash) // locked until the end of tx
		if err != nil {
			return err
		}
		switch {
		case !k.ExpiresAt.After(now):
			return tx.ReplaceIdempotencyKey(ctx, fresh) // an expired key is a new one
		case !hmac.Equal(k.Fingerprint, req.Fingerprint):
			outcome = IdempotencyMismatch
		case k.Done:
			plain, err := open(r.seal, k.Answer)
			if err != nil {
				return err
			}
			outcome, answer = IdempotencyReplay, plain
		case k.LeaseUntil.After(now):
			outcome = IdempotencyInFlight
		case k.Applied:
			outcome = IdempotencyLost
		default:
			// The first request stopped before it changed anything: this one runs in its
			// place, and the first, should it still be running, is fenced off.
			fresh.CreatedAt, fresh.ExpiresAt = k.CreatedAt, k.ExpiresAt
			return tx.ReplaceIdempotencyKey(ctx, fresh)
		}
		return nil
	})
	if err != nil {
		return Reservation{}, 0, nil, err
	}
	return r, outcome, answer, nil
}

// CompleteIdempotency records the answer of the request that holds r; retries get it
// from now on. It does nothing when r was taken over.
func (s *Service) CompleteIdempotency(ctx context.Context, r Reservation, answer []byte) error {
	sealed, err := s.sealAnswer(r.seal, answer)
	if err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx Tx) error {
		return tx.CompleteIdempotencyKey(ctx, r.Caller, r.KeyHash, r.Owner, sealed)
	})
}

// ReleaseIdempotency forgets r's key, held by a request that answered what is not
// kept (a server error): a retry runs afresh. It does nothing when r was taken over,
// or when a write of the request was applied (the reservation then stays, for a retry
// to learn so).
func (s *Service) ReleaseIdempotency(ctx context.Context, r Reservation) error {
	return s.store.Write(ctx, func(tx Tx) error {
		return tx.DeleteIdempotencyKey(ctx, r.Caller, r.KeyHash, r.Owner)
	})
}

func (s *Service) sealAnswer(key, plain []byte) ([]byte, error) {
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(s.rand, nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, plain, nil), nil
}

func open(key, sealed []byte) ([]byte, error) {
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("idempotency: stored answer too short")
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return nil, fmt.Errorf("idempotency: stored answer: %w", err)
	}
	return plain, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
