package account_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
	"roster.dev/roster/internal/testtime"
)

// TestCheckFromMemory: with the cache lease held, checks are answered from memory
// and still never stale — after the process's own change, after the clock passes a
// subscription's end, and after another process's change (which revokes the lease
// before it commits), also for a revoked application key.
func TestCheckFromMemory(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			dbs := storetest.OpenShared(t, engine, 2)
			clock := testtime.At(time.Now())
			newService := func(db *sqlstore.DB) *account.Service {
				return account.NewService(account.Options{Store: db, Now: clock.Now,
					Hasher: password.NewHasher(password.TestParams, 2, rand.Reader)})
			}
			svc, other := newService(dbs[0]), newService(dbs[1])

			// The other process sets everything up: an operator, an application and its
			// key, an organization with a 30-day subscription, Bob with a seat.
			if _, _, err := other.Bootstrap(ctx, "op@roster.test", "correct horse battery"); err != nil {
				t.Fatal(err)
			}
			login, err := other.Login(ctx, "op@roster.test", "correct horse battery", "", "")
			if err != nil {
				t.Fatal(err)
			}
			op := account.Actor{Account: login.Account}
			now := clock.Now().UTC().Truncate(time.Microsecond)
			orgID, subID, bob := "org00000000000000000000001", "sub00000000000000000000001", "acc00000000000000000000001"
			err = dbs[1].Write(ctx, func(tx account.Tx) error {
				if err := tx.CreateApplication(ctx, account.Application{ID: "app00000000000000000000001", Key: "studio", Name: "Studio", CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
				if err := tx.CreateOrganization(ctx, account.Organization{ID: orgID, Kind: account.KindOrganization, Name: "Acme",
					Slug: "acme", InvitationTTLHours: 168, EndingSoonDays: 30, CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
				if err := tx.CreateSubscription(ctx, account.Subscription{ID: subID, OrgID: orgID, ApplicationID: "app00000000000000000000001",
					Seats: 10, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(30 * 24 * time.Hour), CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
				if err := tx.CreateAccount(ctx, account.Account{ID: bob, Email: "bob@acme.test", FirstName: "Bob", LastName: "B",
					State: account.AccountActive, CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
				if err := tx.CreateMembership(ctx, account.Membership{OrgID: orgID, AccountID: bob, RoleID: account.RoleMember,
					State: account.MemberActive, CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
				_, err := tx.AssignSeat(ctx, orgID, subID, bob, now)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			keyRow, key, err := other.CreateApplicationKey(ctx, op, "studio", "prod")
			if err != nil {
				t.Fatal(err)
			}

			leaseCtx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); dbs[0].RunCacheLease(leaseCtx) }()
			t.Cleanup(func() { stop(); <-done })
			testtime.WaitFor(t, 10*time.Second, "the cache lease taken", func() bool { _, ok := dbs[0].CacheEpoch(); return ok })

			check := func(want string) {
				t.Helper()
				app, err := svc.AuthenticateApplication(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				allowed, reason, err := svc.Check(ctx, app, "acme", bob, "")
				if err != nil || reason != want || allowed != (want == account.ReasonOK) {
					t.Fatalf("check = %v %q %v, want %q", allowed, reason, err, want)
				}
			}
			check(account.ReasonOK)
			hits, _ := svc.CheckCacheStats()
			check(account.ReasonOK)
			if h, _ := svc.CheckCacheStats(); h != hits+1 {
				t.Fatalf("a second check was not answered from memory: hits %d → %d", hits, h)
			}

			// This process's own change.
			if _, err := svc.DeactivateMember(ctx, op, "acme", bob); err != nil {
				t.Fatal(err)
			}
			check(account.ReasonDeactivated)
			if _, err := svc.ReactivateMember(ctx, op, "acme", bob); err != nil {
				t.Fatal(err)
			}
			check(account.ReasonOK)
			check(account.ReasonOK)
			// Time alone: the subscription ends, nothing is written.
			clock.Advance(31 * 24 * time.Hour)
			hits, _ = svc.CheckCacheStats()
			check(account.ReasonSubscriptionInactive)
			if h, _ := svc.CheckCacheStats(); h != hits+1 {
				t.Fatalf("the check after the subscription's end read the store (hits %d → %d): the test proves nothing", hits, h)
			}
			clock.Advance(-31 * 24 * time.Hour)
			check(account.ReasonOK)

			// Another process's changes: seen by the very next check.
			if _, err := other.DeactivateMember(ctx, op, "acme", bob); err != nil {
				t.Fatal(err)
			}
			check(account.ReasonDeactivated)
			if _, err := other.ReactivateMember(ctx, op, "acme", bob); err != nil {
				t.Fatal(err)
			}
			check(account.ReasonOK)
			// The account disabled and enabled, here and by the other process.
			for _, by := range []*account.Service{svc, other} {
				if _, err := by.DisableAccount(ctx, op, bob); err != nil {
					t.Fatal(err)
				}
				check(account.ReasonAccountDisabled)
				check(account.ReasonAccountDisabled)
				if _, err := by.EnableAccount(ctx, op, bob); err != nil {
					t.Fatal(err)
				}
				check(account.ReasonOK)
				check(account.ReasonOK)
			}
			if err := other.RevokeApplicationKey(ctx, op, "studio", keyRow.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.AuthenticateApplication(ctx, key); account.ErrorCode(err) != account.EUNAUTHENTICATED {
				t.Fatalf("a revoked key authenticates: %v", err)
			}
		})
	}
}
