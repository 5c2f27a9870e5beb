package sqlstore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestWriteRetriesDeadlocks: two writes that lock two organizations in opposite
// orders deadlock on PostgreSQL; the victim's transaction runs again and both
// succeed, each write's changes committed once, and the retry is counted.
func TestWriteRetriesDeadlocks(t *testing.T) {
	db := storetest.Open(t, sqlstore.Postgres)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	err := db.Write(ctx, func(tx account.Tx) error {
		for _, org := range []string{"orga", "orgb"} {
			if err := tx.CreateOrganization(ctx, account.Organization{ID: org, Kind: account.KindOrganization, Name: org,
				Slug: org, InvitationTTLHours: 168, EndingSoonDays: 30, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var runs [2]atomic.Int32
	var first sync.WaitGroup // both hold their first lock, in their first run
	first.Add(2)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, order := range [][]string{{"orga", "orgb"}, {"orgb", "orga"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Write(ctx, func(tx account.Tx) error {
				run := runs[i].Add(1)
				if err := tx.LockOrganization(ctx, order[0]); err != nil {
					return err
				}
				if run == 1 {
					first.Done()
					first.Wait()
				}
				if err := tx.LockOrganization(ctx, order[1]); err != nil {
					return err
				}
				id := "acc" + order[0]
				return tx.CreateAccount(ctx, account.Account{ID: id, Email: id + "@retry.test", FirstName: "R", LastName: "T",
					State: account.AccountActive, CreatedAt: now, UpdatedAt: now})
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if total := runs[0].Load() + runs[1].Load(); total != 3 {
		t.Errorf("the two writes ran %d and %d times, want 3 runs in all (one victim run again)", runs[0].Load(), runs[1].Load())
	}
	if got := db.WriteRetries(); got["40P01"] != 1 || got["40001"] != 0 {
		t.Errorf("WriteRetries = %v, want one 40P01", got)
	}
	for _, id := range []string{"accorga", "accorgb"} {
		err := db.Read(ctx, func(tx account.Tx) error {
			_, err := tx.AccountByID(ctx, id)
			return err
		})
		if err != nil {
			t.Errorf("account %s: %v", id, err)
		}
	}
}

// TestWriteDoesNotRetryOtherErrors: a write that fails for another reason runs once.
func TestWriteDoesNotRetryOtherErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		runs := 0
		err := db.Write(context.Background(), func(tx account.Tx) error {
			runs++
			_, err := tx.AccountByID(context.Background(), "nobody")
			return err
		})
		if err == nil || runs != 1 {
			t.Errorf("runs = %d, err = %v; want one run and the error", runs, err)
		}
		if got := db.WriteRetries(); got["40P01"] != 0 || got["40001"] != 0 {
			t.Errorf("WriteRetries = %v, want none", got)
		}
	})
}

// TestOneRenewalPerSubscription: the store refuses a second subscription renewing the
// same one (ECONFLICT), whichever process writes it, so that two renewals racing in
// two processes cannot both succeed.
func TestOneRenewalPerSubscription(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		sub := func(id, renews string) account.Subscription {
			return account.Subscription{ID: id, OrgID: "org", ApplicationID: "app", Seats: 10, StartsAt: now,
				EndsAt: now.AddDate(1, 0, 0), RenewedFrom: renews, CreatedAt: now, UpdatedAt: now}
		}
		err := db.Write(ctx, func(tx account.Tx) error {
			if err := tx.CreateOrganization(ctx, account.Organization{ID: "org", Kind: account.KindOrganization,
				Name: "Org", Slug: "org", CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			if err := tx.CreateApplication(ctx, account.Application{ID: "app", Key: "studio", Name: "Studio",
				CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			if err := tx.CreateSubscription(ctx, sub("first", "")); err != nil {
				return err
			}
			if err := tx.CreateSubscription(ctx, sub("other", "")); err != nil { // not renewals: many
				return err
			}
			return tx.CreateSubscription(ctx, sub("renewal", "first"))
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.Write(ctx, func(tx account.Tx) error { return tx.CreateSubscription(ctx, sub("again", "first")) })
		if account.ErrorCode(err) != account.ECONFLICT {
			t.Errorf("a second renewal of one subscription: %v, want ECONFLICT", err)
		}
	})
}
