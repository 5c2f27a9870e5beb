package sqlstore_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

func newApp(id, key string) account.Application {
	return account.Application{ID: id, Key: key, Name: "App " + key, CreatedAt: t0, UpdatedAt: t0}
}

func newSub(id, orgID, appID string, seats int, starts time.Time) account.Subscription {
	return account.Subscription{ID: id, OrgID: orgID, ApplicationID: appID, Seats: seats,
		StartsAt: starts, EndsAt: starts.AddDate(1, 0, 0), CreatedAt: t0, UpdatedAt: t0}
}

func createApps(t *testing.T, db *sqlstore.DB, as ...account.Application) {
	t.Helper()
	insert(t, db, account.Tx.CreateApplication, as...)
}

func createSubs(t *testing.T, db *sqlstore.DB, ss ...account.Subscription) {
	t.Helper()
	insert(t, db, account.Tx.CreateSubscription, ss...)
}

// assign gives accountID a seat of orgID's subscription in its own transaction.
func assign(db *sqlstore.DB, orgID, subID, accountID string) (bool, error) {
	var ok bool
	err := db.Write(ctx, func(tx account.Tx) (err error) {
		ok, err = tx.AssignSeat(ctx, orgID, subID, accountID, t0)
		return err
	})
	return ok, err
}

func mustAssign(t *testing.T, db *sqlstore.DB, orgID, subID, accountID string, want bool) {
	t.Helper()
	got, err := assign(db, orgID, subID, accountID)
	if err != nil {
		t.Fatalf("AssignSeat(%s, %s, %s): %v", orgID, subID, accountID, err)
	}
	if got != want {
		t.Fatalf("AssignSeat(%s, %s, %s) = %v, want %v", orgID, subID, accountID, got, want)
	}
}

// seatState returns the subscription's assigned count and its seat holders, and
// checks that they agree.
func seatState(t *testing.T, db *sqlstore.DB, orgID, subID string) (int, []string) {
	t.Helper()
	var s account.Subscription
	var holders []string
	read(t, db, func(tx account.Tx) (err error) {
		s, err = tx.Subscription(ctx, orgID, subID)
		return err
	})
	holders, err := sqlstore.SeatHolders(ctx, db, orgID, subID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Assigned != len(holders) {
		t.Errorf("subscription %s: assigned %d, but %d seats %q", subID, s.Assigned, len(holders), holders)
	}
	return s.Assigned, holders
}

func wantSeats(t *testing.T, db *sqlstore.DB, orgID, subID string, want ...string) {
	t.Helper()
	n, holders := seatState(t, db, orgID, subID)
	if want == nil {
		want = []string{}
	}
	if d := cmp.Diff(want, holders); d != "" || n != len(want) {
		t.Errorf("seats of %s: assigned %d (-want +got):\n%s", subID, n, d)
	}
}

func TestApplications(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		studio, atlas, zeta := newApp("app-1", "studio"), newApp("app-2", "atlas"), newApp("app-3", "zeta")
		createApps(t, db, studio, zeta, atlas)
		read(t, db, func(tx account.Tx) error {
			all, err := tx.Applications(ctx)
			if d := cmp.Diff([]account.Application{atlas, studio, zeta}, all); d != "" {
				t.Errorf("Applications (-want +got):\n%s", d)
			}
			for _, ref := range []string{studio.ID, studio.Key} {
				got, err := tx.Application(ctx, ref)
				if err != nil {
					return err
				}
				if d := cmp.Diff(studio, got); d != "" {
					t.Errorf("Application(%s) (-want +got):\n%s", ref, d)
				}
			}
			_, err2 := tx.Application(ctx, "nope")
			wantCode(t, err2, account.ENOTFOUND)
			return err
		})
		dup := newApp("app-4", "studio")
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.CreateApplication(ctx, dup) }), "key")

		upd := studio
		upd.Name, upd.UpdatedAt = "Studio Pro", t0.Add(time.Hour)
		upd.Key, upd.CreatedAt = "other", t0.Add(-time.Hour) // ignored
		write(t, db, func(tx account.Tx) error { return tx.UpdateApplication(ctx, upd) })
		upd.Key, upd.CreatedAt = studio.Key, studio.CreatedAt
		read(t, db, func(tx account.Tx) error {
			got, err := tx.Application(ctx, "studio")
			if d := cmp.Diff(upd, got); d != "" {
				t.Errorf("after UpdateApplication (-want +got):\n%s", d)
			}
			return err
		})
		wantCode(t, try(db, func(tx account.Tx) error { return tx.UpdateApplication(ctx, dup) }), account.ENOTFOUND)

		// Keys.
		key := func(id, appID string, created time.Time) account.ApplicationKey {
			return account.ApplicationKey{ID: id, ApplicationID: appID, Name: "Key " + id,
				Hash: []byte("hash\x00" + id), Prefix: "rk_" + id, CreatedAt: created}
		}
		k1, k2, k3 := key("k1", studio.ID, t0), key("k2", studio.ID, t0.Add(time.Hour)), key("k3", studio.ID, t0.Add(time.Hour))
		k4 := key("k4", atlas.ID, t0.Add(2*time.Hour))
		write(t, db, func(tx account.Tx) error {
			for _, k := range []account.ApplicationKey{k1, k3, k2, k4} {
				if err := tx.CreateApplicationKey(ctx, k); err != nil {
					return err
				}
			}
			return nil
		})
		dupKey := key("k5", atlas.ID, t0)
		dupKey.Hash = k1.Hash
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.CreateApplicationKey(ctx, dupKey) }), "token")
		orphan := key("k6", "nope", t0)
		wantCode(t, try(db, func(tx account.Tx) error { return tx.CreateApplicationKey(ctx, orphan) }), account.ENOTFOUND)

		read(t, db, func(tx account.Tx) error {
			keys, err := tx.ApplicationKeys(ctx, studio.ID)
			if d := cmp.Diff([]account.ApplicationKey{k3, k2, k1}, keys); d != "" {
				t.Errorf("ApplicationKeys (-want +got):\n%s", d)
			}
			none, err2 := tx.ApplicationKeys(ctx, zeta.ID)
			if none == nil || len(none) != 0 {
				t.Errorf("ApplicationKeys(zeta) = %#v, want empty", none)
			}
			gotK, gotA, err3 := tx.ApplicationKeyByHash(ctx, k4.Hash)
			if d := cmp.Diff(k4, gotK); d != "" {
				t.Errorf("ApplicationKeyByHash key (-want +got):\n%s", d)
			}
			if d := cmp.Diff(atlas, gotA); d != "" {
				t.Errorf("ApplicationKeyByHash application (-want +got):\n%s", d)
			}
			_, _, err4 := tx.ApplicationKeyByHash(ctx, []byte("nope"))
			wantCode(t, err4, account.ENOTFOUND)
			return errors.Join(err, err2, err3)
		})

		used := t0.Add(3 * time.Hour)
		write(t, db, func(tx account.Tx) error { return tx.TouchApplicationKey(ctx, k1.ID, used) })
		wantCode(t, try(db, func(tx account.Tx) error { return tx.TouchApplicationKey(ctx, "nope", used) }), account.ENOTFOUND)

		// Revoking: only through the key's application, only once; a revoked key is no
		// longer found by its hash but stays listed.
		revoked := t0.Add(4 * time.Hour)
		revoke := func(appID, id string) error {
			return try(db, func(tx account.Tx) error { return tx.RevokeApplicationKey(ctx, appID, id, revoked) })
		}
		wantCode(t, revoke(atlas.ID, k1.ID), account.ENOTFOUND)
		if err := revoke(studio.ID, k1.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, revoke(studio.ID, k1.ID), account.ENOTFOUND)
		k1.LastUsedAt, k1.RevokedAt = used, revoked
		read(t, db, func(tx account.Tx) error {
			_, _, err := tx.ApplicationKeyByHash(ctx, k1.Hash)
			wantCode(t, err, account.ENOTFOUND)
			keys, err := tx.ApplicationKeys(ctx, studio.ID)
			if d := cmp.Diff([]account.ApplicationKey{k3, k2, k1}, keys); d != "" {
				t.Errorf("ApplicationKeys after revoking (-want +got):\n%s", d)
			}
			_, _, err2 := tx.ApplicationKeyByHash(ctx, k2.Hash)
			return errors.Join(err, err2)
		})
	})
}

func TestSubscriptions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db,
			newOrg("org-a", "A", "org-a", account.KindOrganization, ""),
			newOrg("org-b", "B", "org-b", account.KindOrganization, ""))
		createApps(t, db, newApp("app-s", "studio"), newApp("app-a", "atlas"))
		day := 24 * time.Hour
		s1 := newSub("sub-1", "org-a", "app-s", 5, t0)
		s2 := newSub("sub-2", "org-a", "app-a", 3, t0.Add(day))
		s3 := newSub("sub-3", "org-a", "app-s", 2, t0.Add(-day))
		s3.RenewedFrom = "sub-0"
		s4 := newSub("sub-4", "org-a", "app-s", 0, t0.Add(-day)) // same start as s3: by id
		b1 := newSub("sub-b", "org-b", "app-s", 9, t0)
		in := s1
		in.Assigned = 4 // ignored: a subscription starts with no seat
		createSubs(t, db, in, s2, s4, s3, b1)
		withKey := func(s account.Subscription) account.Subscription {
			s.ApplicationKey = map[string]string{"app-s": "studio", "app-a": "atlas"}[s.ApplicationID]
			return s
		}
		read(t, db, func(tx account.Tx) error {
			all, err := tx.Subscriptions(ctx, "org-a")
			want := []account.Subscription{withKey(s2), withKey(s3), withKey(s4), withKey(s1)}
			if d := cmp.Diff(want, all); d != "" {
				t.Errorf("Subscriptions (-want +got):\n%s", d)
			}
			one, err2 := tx.Subscription(ctx, "org-a", s3.ID)
			if d := cmp.Diff(withKey(s3), one); d != "" {
				t.Errorf("Subscription (-want +got):\n%s", d)
			}
			_, err3 := tx.Subscription(ctx, "org-b", s1.ID)
			wantCode(t, err3, account.ENOTFOUND)
			none, err4 := tx.Subscriptions(ctx, "org-c")
			if none == nil || len(none) != 0 {
				t.Errorf("Subscriptions(org-c) = %#v, want empty", none)
			}
			return errors.Join(err, err2, err4)
		})
		wantCode(t, try(db, func(tx account.Tx) error {
			return tx.CreateSubscription(ctx, newSub("sub-x", "org-a", "nope", 1, t0))
		}), account.ENOTFOUND)
		wantCode(t, try(db, func(tx account.Tx) error {
			return tx.CreateSubscription(ctx, newSub("sub-x", "nope", "app-s", 1, t0))
		}), account.ENOTFOUND)

		// UpdateSubscription writes seats, ends_at and updated_at, scoped by org.
		upd := s1
		upd.Seats, upd.EndsAt, upd.UpdatedAt = 7, t0.AddDate(2, 0, 0), t0.Add(time.Hour)
		ignored := upd
		ignored.StartsAt, ignored.ApplicationID, ignored.RenewedFrom, ignored.Assigned = t0.Add(day), "app-a", "sub-9", 3
		write(t, db, func(tx account.Tx) error { return tx.UpdateSubscription(ctx, ignored) })
		read(t, db, func(tx account.Tx) error {
			got, err := tx.Subscription(ctx, "org-a", s1.ID)
			if d := cmp.Diff(withKey(upd), got); d != "" {
				t.Errorf("after UpdateSubscription (-want +got):\n%s", d)
			}
			return err
		})
		foreign := upd
		foreign.OrgID, foreign.Seats = "org-b", 100
		wantCode(t, try(db, func(tx account.Tx) error { return tx.UpdateSubscription(ctx, foreign) }), account.ENOTFOUND)

		// Deleting an organization takes its subscriptions.
		write(t, db, func(tx account.Tx) error { return tx.DeleteOrganization(ctx, "org-b") })
		read(t, db, func(tx account.Tx) error {
			_, err := tx.Subscription(ctx, "org-b", b1.ID)
			wantCode(t, err, account.ENOTFOUND)
			return nil
		})
	})
}

func TestSeats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db,
			newOrg("org-a", "A", "org-a", account.KindOrganization, ""),
			newOrg("org-b", "B", "org-b", account.KindOrganization, ""))
		var accts []account.Account
		for _, id := range []string{"acc-v", "acc-w", "acc-x", "acc-y", "acc-z"} {
			accts = append(accts, newAccount(id, id+"@example.com"))
		}
		createAccounts(t, db, accts...)
		createMemberships(t, db,
			newMembership("org-a", "acc-w", account.RoleMember, account.MemberActive),
			newMembership("org-a", "acc-x", account.RoleMember, account.MemberActive),
			newMembership("org-a", "acc-y", account.RoleMember, account.MemberActive),
			newMembership("org-a", "acc-z", account.RoleMember, account.MemberInvited),
			newMembership("org-b", "acc-v", account.RoleMember, account.MemberActive),
			newMembership("org-b", "acc-x", account.RoleMember, account.MemberActive))
		createApps(t, db, newApp("app-s", "studio"), newApp("app-a", "atlas"))
		createSubs(t, db,
			newSub("sub-1", "org-a", "app-s", 2, t0),
			newSub("sub-2", "org-a", "app-a", 5, t0),
			newSub("sub-b", "org-b", "app-s", 5, t0))

		// Assigning, idempotently.
		mustAssign(t, db, "org-a", "sub-1", "acc-x", true)
		mustAssign(t, db, "org-a", "sub-1", "acc-x", false)
		wantSeats(t, db, "org-a", "sub-1", "acc-x")
		// An existing seat does not abort the transaction (PostgreSQL): it goes on.
		write(t, db, func(tx account.Tx) error {
			if ok, err := tx.AssignSeat(ctx, "org-a", "sub-1", "acc-x", t0); ok || err != nil {
				return fmt.Errorf("re-assign = %v, %v", ok, err)
			}
			ok, err := tx.AssignSeat(ctx, "org-a", "sub-1", "acc-y", t0)
			if !ok {
				return fmt.Errorf("assign y = %v, %v", ok, err)
			}
			return err
		})
		wantSeats(t, db, "org-a", "sub-1", "acc-x", "acc-y")

		// The quota holds: the refused seat leaves the count unchanged.
		_, err := assign(db, "org-a", "sub-1", "acc-z")
		wantCode(t, err, account.EQUOTAEXCEEDED)
		if !strings.Contains(account.ErrorMessage(err), "no seat left") {
			t.Errorf("quota message %q", account.ErrorMessage(err))
		}
		wantSeats(t, db, "org-a", "sub-1", "acc-x", "acc-y")

		// Strangers and other tenants' subscriptions.
		for _, c := range []struct{ org, sub, acct, msg string }{
			{"org-a", "sub-1", "nobody", "member not found"},
			{"org-a", "sub-2", "acc-v", "member not found"}, // a member of B only
			{"org-b", "sub-1", "acc-x", "subscription not found"},
			{"org-a", "sub-b", "acc-x", "subscription not found"},
			{"org-a", "nope", "acc-x", "subscription not found"},
			{"nope", "sub-1", "acc-x", "subscription not found"},
		} {
			_, err := assign(db, c.org, c.sub, c.acct)
			wantCode(t, err, account.ENOTFOUND)
			if got := account.ErrorMessage(err); got != c.msg {
				t.Errorf("AssignSeat(%s, %s, %s): %q, want %q", c.org, c.sub, c.acct, got, c.msg)
			}
		}
		wantSeats(t, db, "org-b", "sub-b")

		// A quota below the seats held is refused; down to them is fine.
		lower := func(seats int) error {
			return try(db, func(tx account.Tx) error {
				s, err := tx.Subscription(ctx, "org-a", "sub-1")
				if err != nil {
					return err
				}
				s.Seats = seats
				return tx.UpdateSubscription(ctx, s)
			})
		}
		wantCode(t, lower(1), account.EQUOTAEXCEEDED)
		if err := lower(2); err != nil {
			t.Fatal(err)
		}

		// Unassigning, scoped by org.
		unassign := func(org, sub, acct string) bool {
			var ok bool
			write(t, db, func(tx account.Tx) (err error) {
				ok, err = tx.UnassignSeat(ctx, org, sub, acct)
				return err
			})
			return ok
		}
		if unassign("org-b", "sub-1", "acc-y") {
			t.Errorf("org B took back org A's seat")
		}
		if !unassign("org-a", "sub-1", "acc-y") || unassign("org-a", "sub-1", "acc-y") {
			t.Errorf("UnassignSeat did not report the seat once")
		}
		wantSeats(t, db, "org-a", "sub-1", "acc-x")
		mustAssign(t, db, "org-a", "sub-1", "acc-z", true) // the freed seat
		mustAssign(t, db, "org-a", "sub-2", "acc-x", true)
		mustAssign(t, db, "org-a", "sub-2", "acc-w", true)
		mustAssign(t, db, "org-b", "sub-b", "acc-x", true)

		// Members carry their seats, by application key.
		read(t, db, func(tx account.Tx) error {
			x, err := tx.Member(ctx, "org-a", "acc-x")
			want := []account.MemberSeat{{SubscriptionID: "sub-2", ApplicationKey: "atlas"}, {SubscriptionID: "sub-1", ApplicationKey: "studio"}}
			if d := cmp.Diff(want, x.Seats); d != "" {
				t.Errorf("x's seats in A (-want +got):\n%s", d)
			}
			xb, err2 := tx.Member(ctx, "org-b", "acc-x")
			if d := cmp.Diff([]account.MemberSeat{{SubscriptionID: "sub-b", ApplicationKey: "studio"}}, xb.Seats); d != "" {
				t.Errorf("x's seats in B (-want +got):\n%s", d)
			}
			y, err3 := tx.Member(ctx, "org-a", "acc-y")
			if y.Seats == nil || len(y.Seats) != 0 {
				t.Errorf("y's seats = %#v, want empty", y.Seats)
			}
			ms, _, err4 := tx.FindMembers(ctx, account.MemberFilter{OrgID: "org-a"})
			var got []string
			for _, m := range ms {
				got = append(got, fmt.Sprintf("%s %v", m.AccountID, m.Seats))
			}
			wantList := []string{"acc-w [{sub-2 atlas}]", "acc-x [{sub-2 atlas} {sub-1 studio}]", "acc-y []", "acc-z [{sub-1 studio}]"}
			if d := cmp.Diff(wantList, got); d != "" {
				t.Errorf("FindMembers seats (-want +got):\n%s", d)
			}
			return errors.Join(err, err2, err3, err4)
		})

		// Deactivating a member keeps the seats; removing the membership frees them.
		write(t, db, func(tx account.Tx) error {
			m, err := tx.Membership(ctx, "org-a", "acc-x")
			if err != nil {
				return err
			}
			m.State, m.UpdatedAt = account.MemberDeactivated, t0.Add(time.Hour)
			return tx.UpdateMembership(ctx, m)
		})
		wantSeats(t, db, "org-a", "sub-1", "acc-x", "acc-z")
		write(t, db, func(tx account.Tx) error { return tx.DeleteMembership(ctx, "org-a", "acc-x") })
		wantSeats(t, db, "org-a", "sub-1", "acc-z")
		wantSeats(t, db, "org-a", "sub-2", "acc-w")
		wantSeats(t, db, "org-b", "sub-b", "acc-x")
		// So does deleting the account.
		write(t, db, func(tx account.Tx) error { return tx.DeleteAccount(ctx, "acc-w") })
		wantSeats(t, db, "org-a", "sub-2")

		// Renewing: CopySeats copies the holders; afterwards both subscriptions live
		// their own lives.
		createMemberships(t, db, newMembership("org-a", "acc-x", account.RoleMember, account.MemberActive))
		mustAssign(t, db, "org-a", "sub-1", "acc-x", true)
		createSubs(t, db,
			newSub("sub-3", "org-a", "app-s", 3, t0.AddDate(1, 0, 0)),
			newSub("sub-4", "org-a", "app-s", 1, t0.AddDate(1, 0, 0)))
		copySeats := func(org, from, to string) (int, error) {
			var n int
			err := db.Write(ctx, func(tx account.Tx) (err error) {
				n, err = tx.CopySeats(ctx, org, from, to, t0.Add(time.Minute))
				return err
			})
			return n, err
		}
		if n, err := copySeats("org-a", "sub-1", "sub-3"); n != 2 || err != nil {
			t.Fatalf("CopySeats = %d, %v, want 2", n, err)
		}
		wantSeats(t, db, "org-a", "sub-3", "acc-x", "acc-z")
		if !unassign("org-a", "sub-1", "acc-x") {
			t.Fatal("unassign x")
		}
		mustAssign(t, db, "org-a", "sub-3", "acc-y", true)
		wantSeats(t, db, "org-a", "sub-1", "acc-z")
		wantSeats(t, db, "org-a", "sub-3", "acc-x", "acc-y", "acc-z")
		// Copying again gives only the seats missing (none here).
		if n, err := copySeats("org-a", "sub-1", "sub-3"); n != 0 || err != nil {
			t.Errorf("second CopySeats = %d, %v, want 0", n, err)
		}
		// More holders than seats: refused, nothing copied.
		_, err = copySeats("org-a", "sub-3", "sub-4")
		wantCode(t, err, account.EQUOTAEXCEEDED)
		wantSeats(t, db, "org-a", "sub-4")
		// Only between the organization's own subscriptions.
		for _, c := range [][3]string{{"org-b", "sub-1", "sub-3"}, {"org-a", "sub-b", "sub-3"}, {"org-a", "sub-1", "sub-b"}, {"org-a", "nope", "sub-3"}} {
			_, err := copySeats(c[0], c[1], c[2])
			wantCode(t, err, account.ENOTFOUND)
		}
		wantSeats(t, db, "org-b", "sub-b", "acc-x")
		if n, err := copySeats("org-a", "sub-2", "sub-4"); n != 0 || err != nil { // sub-2 has no holder
			t.Errorf("empty CopySeats = %d, %v", n, err)
		}

		// Deleting an organization with seats works (its memberships and subscriptions
		// cascade to the seats, whose triggers then meet deleted subscriptions) and
		// leaves the other tenant alone.
		write(t, db, func(tx account.Tx) error { return tx.DeleteOrganization(ctx, "org-a") })
		read(t, db, func(tx account.Tx) error {
			_, err := tx.Subscription(ctx, "org-a", "sub-3")
			wantCode(t, err, account.ENOTFOUND)
			return nil
		})
		if holders, err := sqlstore.SeatHolders(ctx, db, "org-a", "sub-3"); err != nil || len(holders) != 0 {
			t.Errorf("seats left: %q, %v", holders, err)
		}
		wantSeats(t, db, "org-b", "sub-b", "acc-x")
		write(t, db, func(tx account.Tx) error { return tx.DeleteMembership(ctx, "org-b", "acc-x") })
		wantSeats(t, db, "org-b", "sub-b")
		write(t, db, func(tx account.Tx) error { return tx.DeleteOrganization(ctx, "org-b") })
	})
}

// TestAssignSeatConcurrently races 64 writers for the 100 seats of one subscription
// with 150 members: exactly 100 get one, the others are refused with EQUOTAEXCEEDED,
// and the count matches the seats. On SQLite the writers queue; on PostgreSQL they
// run in parallel and the subscription's row lock orders them.
func TestAssignSeatConcurrently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		const seats, members, workers = 100, 150, 64
		createOrgs(t, db, newOrg("org-a", "A", "org-a", account.KindOrganization, ""))
		createApps(t, db, newApp("app-s", "studio"))
		createSubs(t, db, newSub("sub-1", "org-a", "app-s", seats, t0))
		ids := make([]string, members)
		write(t, db, func(tx account.Tx) error {
			for i := range ids {
				ids[i] = fmt.Sprintf("acc%03d", i)
				if err := tx.CreateAccount(ctx, newAccount(ids[i], ids[i]+"@example.com")); err != nil {
					return err
				}
				if err := tx.CreateMembership(ctx, newMembership("org-a", ids[i], account.RoleMember, account.MemberActive)); err != nil {
					return err
				}
			}
			return nil
		})

		var next, assigned, refused atomic.Int64
		var wg sync.WaitGroup
		errc := make(chan error, members)
		start := make(chan struct{})
		for range workers {
			wg.Go(func() {
				<-start
				for {
					i := next.Add(1) - 1
					if i >= members {
						return
					}
					ok, err := assign(db, "org-a", "sub-1", ids[i])
					switch {
					case err == nil && ok:
						assigned.Add(1)
					case account.ErrorCode(err) == account.EQUOTAEXCEEDED:
						refused.Add(1)
					default:
						errc <- fmt.Errorf("AssignSeat(%s) = %v, %v", ids[i], ok, err)
					}
				}
			})
		}
		close(start)
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Error(err)
		}
		if assigned.Load() != seats || refused.Load() != members-seats {
			t.Errorf("assigned %d, refused %d; want %d and %d", assigned.Load(), refused.Load(), seats, members-seats)
		}
		n, holders := seatState(t, db, "org-a", "sub-1")
		if n != seats || len(holders) != seats {
			t.Errorf("assigned = %d, seats rows = %d, want %d", n, len(holders), seats)
		}
	})
}

// TestFindMembersBySeat extends the TestFindMembers seed with seats: every second
// member of org A holds studio's sub-s1, every third studio's sub-s2 (so every sixth
// holds both), every fifth atlas' sub-a1; org B's members hold B's studio subscription.
func TestFindMembersBySeat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := seedFindMembers(t, db)
		createApps(t, db, newApp("app-s", "studio"), newApp("app-a", "atlas"))
		createSubs(t, db,
			newSub("sub-s1", "org-a", "app-s", 30, t0),
			newSub("sub-s2", "org-a", "app-s", 30, t0.Add(time.Hour)),
			newSub("sub-a1", "org-a", "app-a", 30, t0),
			newSub("sub-b1", "org-b", "app-s", 30, t0))
		write(t, db, func(tx account.Tx) error {
			for i := range s.members {
				m := &s.members[i]
				give := func(org, sub, key string) error {
					ok, err := tx.AssignSeat(ctx, org, sub, m.AccountID, t0)
					if !ok || err != nil {
						return fmt.Errorf("AssignSeat(%s, %s) = %v, %v", sub, m.AccountID, ok, err)
					}
					if org == "org-a" {
						m.Seats = append(m.Seats, account.MemberSeat{SubscriptionID: sub, ApplicationKey: key})
					}
					return nil
				}
				var err error
				if i%5 == 0 {
					err = errors.Join(err, give("org-a", "sub-a1", "atlas"))
				}
				if i%2 == 0 {
					err = errors.Join(err, give("org-a", "sub-s1", "studio"))
				}
				if i%3 == 0 {
					err = errors.Join(err, give("org-a", "sub-s2", "studio"))
				}
				if i%4 == 0 {
					err = errors.Join(err, give("org-b", "sub-b1", "studio"))
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		app := map[string]string{"sub-s1": "app-s", "sub-s2": "app-s", "sub-a1": "app-a"}
		matches := func(m account.Member, f account.MemberFilter) bool {
			a := m.Account
			search := strings.ToLower(a.Email + " " + a.Username + " " + a.FirstName + " " + a.LastName)
			return strings.Contains(search, strings.ToLower(f.Q)) &&
				(f.RoleID == "" || m.RoleID == f.RoleID) &&
				(f.State == "" || m.State == f.State) &&
				(f.TeamName == "" || slices.ContainsFunc(m.Teams, func(n string) bool { return strings.EqualFold(n, f.TeamName) })) &&
				(f.SubscriptionID == "" || slices.ContainsFunc(m.Seats, func(s account.MemberSeat) bool { return s.SubscriptionID == f.SubscriptionID })) &&
				(f.ApplicationID == "" || slices.ContainsFunc(m.Seats, func(s account.MemberSeat) bool { return app[s.SubscriptionID] == f.ApplicationID }))
		}
		filters := []account.MemberFilter{
			{ApplicationID: "app-s"}, // a member with both studio subscriptions counts once
			{ApplicationID: "app-a"},
			{ApplicationID: "nope"},
			{SubscriptionID: "sub-s1"},
			{SubscriptionID: "sub-s2"},
			{SubscriptionID: "sub-b1"}, // org B's: nobody in A
			{SubscriptionID: "nope"},
			{SubscriptionID: "sub-s1", ApplicationID: "app-a"},
			{SubscriptionID: "sub-s1", ApplicationID: "app-s"},
			{SubscriptionID: "sub-s1", RoleID: account.RoleAdmin},
			{SubscriptionID: "sub-s2", Q: "smith1"},
			{SubscriptionID: "sub-s2", State: account.MemberActive},
			{SubscriptionID: "sub-s1", TeamName: "ALPHA"},
			{SubscriptionID: "sub-s1", TeamName: "beta", Q: "smith", State: account.MemberActive},
			{ApplicationID: "app-s", Q: "smith1"},
			{ApplicationID: "app-s", RoleID: account.RoleMember, State: account.MemberActive},
			{ApplicationID: "app-a", TeamName: "alpha"},
			{ApplicationID: "app-s", TeamName: "beta", Q: "u0"},
		}
		checkFilters(t, db, s.members, matches, "org-a", filters)
		// Sanity of the seed: the filters select what they should.
		for _, c := range []struct {
			f    account.MemberFilter
			want int
		}{{account.MemberFilter{ApplicationID: "app-s"}, 20}, {account.MemberFilter{SubscriptionID: "sub-s2"}, 10},
			{account.MemberFilter{ApplicationID: "app-a"}, 6}, {account.MemberFilter{SubscriptionID: "sub-s1", TeamName: "alpha"}, 5}} {
			c.f.OrgID = "org-a"
			listAll(t, db, c.f, 0, c.want)
		}
		// Org B sees its own seats.
		b := listAll(t, db, account.MemberFilter{OrgID: "org-b", ApplicationID: "app-s"}, 3, 8)
		for _, m := range b {
			if d := cmp.Diff([]account.MemberSeat{{SubscriptionID: "sub-b1", ApplicationKey: "studio"}}, m.Seats); d != "" {
				t.Errorf("org B member %s seats (-want +got):\n%s", m.AccountID, d)
			}
		}
		listAll(t, db, account.MemberFilter{OrgID: "org-b", SubscriptionID: "sub-b1"}, 3, 8)
		listAll(t, db, account.MemberFilter{OrgID: "org-b", SubscriptionID: "sub-s1"}, 3, 0)
	})
}
