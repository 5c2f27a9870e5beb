package sqlstore_test

import (
	"bytes"
	"crypto/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestIdempotencyKeyStore: keys are their caller's (the same key of two callers is
// two rows, each found only by its own caller), an answer is kept only by the
// reservation's owner, a key whose request was applied is not released, and the
// purge deletes exactly the expired keys.
func TestIdempotencyKeyStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		now := time.Now().UTC().Truncate(time.Microsecond)
		hash := bytes.Repeat([]byte{7}, 32)
		key := func(caller, owner string, expires time.Time) account.IdempotencyKey {
			return account.IdempotencyKey{Caller: caller, KeyHash: hash, Fingerprint: []byte(caller), Owner: owner,
				CreatedAt: now, LeaseUntil: now.Add(time.Minute), ExpiresAt: expires}
		}
		write := func(fn func(tx account.Tx) error) {
			t.Helper()
			if err := db.Write(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		read := func(caller string) account.IdempotencyKey {
			t.Helper()
			var k account.IdempotencyKey
			write(func(tx account.Tx) error {
				var err error
				k, err = tx.IdempotencyKey(ctx, caller, hash)
				return err
			})
			return k
		}
		write(func(tx account.Tx) error {
			for _, k := range []account.IdempotencyKey{key("account:a", "o1", now.Add(time.Hour)),
				key("account:b", "o2", now.Add(-time.Second))} {
				if ok, err := tx.InsertIdempotencyKey(ctx, k); err != nil || !ok {
					t.Fatalf("insert %s = %v, %v", k.Caller, ok, err)
				}
			}
			if ok, err := tx.InsertIdempotencyKey(ctx, key("account:a", "o3", now.Add(time.Hour))); err != nil || ok {
				t.Fatalf("second insert of a's key = %v, %v; want false", ok, err)
			}
			return nil
		})
		if a, b := read("account:a"), read("account:b"); string(a.Fingerprint) != "account:a" || a.Owner != "o1" ||
			string(b.Fingerprint) != "account:b" || b.Owner != "o2" {
			t.Fatalf("a's key %+v, b's key %+v", a, b)
		}
		err := db.Write(ctx, func(tx account.Tx) error {
			_, err := tx.IdempotencyKey(ctx, "account:c", hash)
			return err
		})
		if account.ErrorCode(err) != account.ENOTFOUND {
			t.Fatalf("c's key = %v, want not found", err)
		}
		write(func(tx account.Tx) error {
			return tx.CompleteIdempotencyKey(ctx, "account:a", hash, "not-the-owner", []byte("answer"))
		})
		if k := read("account:a"); k.Done || k.Answer != nil {
			t.Fatalf("completed by another owner: %+v", k)
		}
		write(func(tx account.Tx) error {
			return tx.CompleteIdempotencyKey(ctx, "account:a", hash, "o1", []byte("answer"))
		})
		if k := read("account:a"); !k.Done || string(k.Answer) != "answer" {
			t.Fatalf("completed by its owner: %+v", k)
		}
		// Applied: a release leaves it.
		applied := key("account:a", "o4", now.Add(time.Hour))
		applied.Applied = true
		write(func(tx account.Tx) error { return tx.ReplaceIdempotencyKey(ctx, applied) })
		write(func(tx account.Tx) error { return tx.DeleteIdempotencyKey(ctx, "account:a", hash, "o4") })
		if k := read("account:a"); k.Owner != "o4" || !k.Applied {
			t.Fatalf("an applied key was released: %+v", k)
		}
		write(func(tx account.Tx) error {
			n, err := tx.DeleteExpiredIdempotencyKeys(ctx, now)
			if n != 1 {
				t.Errorf("purged %d keys, want b's", n)
			}
			return err
		})
		read("account:a")
		err = db.Write(ctx, func(tx account.Tx) error {
			_, err := tx.IdempotencyKey(ctx, "account:b", hash)
			return err
		})
		if account.ErrorCode(err) != account.ENOTFOUND {
			t.Fatalf("b's expired key after the purge = %v", err)
		}
	})
}

// TestIdempotencyAnswerSealed: neither the key nor a kept answer (which may show a
// secret once: a session token, an API key) is readable from the database; the
// answer comes back to the caller that sends the key.
func TestIdempotencyAnswerSealed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		svc := account.NewService(account.Options{Store: db, Rand: rand.Reader})
		req := account.IdempotentRequest{Caller: "account:a", Key: "key-visible-nowhere-1234", Fingerprint: []byte("fp")}
		r, outcome, _, err := svc.ReserveIdempotency(ctx, req)
		if err != nil || outcome != account.IdempotencyReserved {
			t.Fatalf("reserve = %v, %v", outcome, err)
		}
		const secret = "rk_live_SECRET_shown_once"
		if err := svc.CompleteIdempotency(ctx, r, []byte(`{"key":"`+secret+`"}`)); err != nil {
			t.Fatal(err)
		}
		d := dump(t, db)
		for _, s := range []string{secret, req.Key} {
			if strings.Contains(d, s) {
				t.Errorf("the database holds %q", s)
			}
		}
		_, outcome, answer, err := svc.ReserveIdempotency(ctx, req)
		if err != nil || outcome != account.IdempotencyReplay || !strings.Contains(string(answer), secret) {
			t.Fatalf("replay = %v %s, %v", outcome, answer, err)
		}
		other := req
		other.Caller = "account:b"
		if _, outcome, _, err := svc.ReserveIdempotency(ctx, other); err != nil || outcome != account.IdempotencyReserved {
			t.Fatalf("another caller's same key = %v, %v; want a reservation of its own", outcome, err)
		}
	})
}

// TestIdempotencyReserveConcurrent: of many reservations of one key at once, exactly
// one is granted; the others see it in flight.
func TestIdempotencyReserveConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		svc := account.NewService(account.Options{Store: db, Rand: rand.Reader})
		req := account.IdempotentRequest{Caller: "account:a", Key: "together", Fingerprint: []byte("fp")}
		var mu sync.Mutex
		got := map[account.IdempotencyOutcome]int{}
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				_, outcome, _, err := svc.ReserveIdempotency(ctx, req)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got[outcome]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if got[account.IdempotencyReserved] != 1 || got[account.IdempotencyInFlight] != 15 {
			t.Fatalf("outcomes %v, want one reservation and 15 in flight", got)
		}
	})
}
