package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestMemberCounts: the member count the store keeps per organization equals a count
// of its memberships after members join and leave, after an account and an
// organization are deleted (their memberships go by foreign key), and after the
// migration that adds it runs on a store that already has members; and it is the
// total of a member list without a filter.
func TestMemberCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		checkDrift := func(when string) {
			t.Helper()
			drift, err := sqlstore.MemberCountDrift(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if len(drift) > 0 {
				t.Fatalf("%s: %q", when, drift)
			}
			if drift, err = sqlstore.TrigramDrift(ctx, db); err != nil {
				t.Fatal(err)
			}
			if len(drift) > 0 {
				t.Fatalf("%s: the trigram index: %q", when, drift)
			}
		}
		write := func(fn func(tx account.Tx) error) {
			t.Helper()
			if err := db.Write(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		total := func(org string) int {
			t.Helper()
			var n int
			err := db.Read(ctx, func(tx account.Tx) error {
				_, total, err := tx.FindMembers(ctx, account.MemberFilter{OrgID: org, Limit: 1})
				n = total
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		// Two organizations; 40 accounts, every one in the first, every third in the
		// second. The ids end in every character an id can end in, and more.
		write(func(tx account.Tx) error {
			for _, org := range []string{"orga", "orgb"} {
				if err := tx.CreateOrganization(ctx, account.Organization{ID: org, Kind: account.KindOrganization, Name: org,
					Slug: org, InvitationTTLHours: 168, EndingSoonDays: 30, CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
			}
			for i := range 40 {
				id := fmt.Sprintf("acc%02d%c", i, "0123456789abcdefghjkmnpqrstvwxyz"[i%32])
				if err := tx.CreateAccount(ctx, account.Account{ID: id, Email: id + "@count.test", FirstName: "C", LastName: "T",
					State: account.AccountActive, CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
				for _, org := range []string{"orga", "orgb"} {
					if org == "orgb" && i%3 != 0 {
						continue
					}
					state := account.MemberActive
					if i%4 == 1 {
						state = account.MemberInvited
					}
					if err := tx.CreateMembership(ctx, account.Membership{OrgID: org, AccountID: id, RoleID: account.RoleMember,
						State: state, CreatedAt: now, UpdatedAt: now}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		checkDrift("after the members joined")
		if a, b := total("orga"), total("orgb"); a != 40 || b != 14 {
			t.Fatalf("totals %d and %d, want 40 and 14", a, b)
		}

		// A member leaves, one is deactivated (still a member), an account is deleted.
		write(func(tx account.Tx) error { return tx.DeleteMembership(ctx, "orga", "acc011") })
		write(func(tx account.Tx) error {
			m, err := tx.Membership(ctx, "orga", "acc022")
			if err != nil {
				return err
			}
			m.State = account.MemberDeactivated
			return tx.UpdateMembership(ctx, m)
		})
		write(func(tx account.Tx) error { return tx.DeleteAccount(ctx, "acc033") })
		checkDrift("after members left")
		if a, b := total("orga"), total("orgb"); a != 38 || b != 13 {
			t.Fatalf("totals %d and %d, want 38 and 13", a, b)
		}

		// Members change state (an invitation accepted, a deactivation undone) or only
		// their role: the counts by state follow, and a list filtered by state alone,
		// whose total they are, agrees.
		update := func(org, id string, change func(*account.Membership)) {
			t.Helper()
			write(func(tx account.Tx) error {
				m, err := tx.Membership(ctx, org, id)
				if err != nil {
					return err
				}
				change(&m)
				return tx.UpdateMembership(ctx, m)
			})
		}
		update("orga", "acc055", func(m *account.Membership) { m.State = account.MemberActive })
		update("orga", "acc099", func(m *account.Membership) { m.State = account.MemberDeactivated })
		update("orga", "acc099", func(m *account.Membership) { m.State = account.MemberInvited })
		update("orga", "acc022", func(m *account.Membership) { m.State = account.MemberActive })
		update("orga", "acc044", func(m *account.Membership) { m.RoleID = account.RoleAdmin })
		// A new name: the search text of each of its memberships changes.
		write(func(tx account.Tx) error {
			a, err := tx.AccountByID(ctx, "acc066")
			if err != nil {
				return err
			}
			a.LastName = "Renamed"
			return tx.UpdateAccount(ctx, a)
		})
		checkDrift("after members changed state")
		for _, state := range []account.MemberState{account.MemberActive, account.MemberInvited, account.MemberDeactivated} {
			var listed, counted int
			err := db.Read(ctx, func(tx account.Tx) error {
				_, n, err := tx.FindMembers(ctx, account.MemberFilter{OrgID: "orga", State: state, Limit: 1})
				listed = n
				if err != nil {
					return err
				}
				c, err := tx.CountMembers(ctx, "orga")
				counted = map[account.MemberState]int{account.MemberActive: c.Active,
					account.MemberInvited: c.Invited, account.MemberDeactivated: c.Deactivated}[state]
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			want := map[account.MemberState]int{account.MemberActive: 30, account.MemberInvited: 8}[state]
			if listed != want || counted != want {
				t.Errorf("%s: the list's total %d, the counts' %d, want %d", state, listed, counted, want)
			}
		}

		// A transaction that rolls back changes no count.
		err := db.Write(ctx, func(tx account.Tx) error {
			if err := tx.DeleteMembership(ctx, "orga", "acc044"); err != nil {
				return err
			}
			return account.Errorf(account.ECONFLICT, "changed my mind")
		})
		if err == nil {
			t.Fatal("the failing write succeeded")
		}
		checkDrift("after a rollback")

		// An upgrade: the migration counts the members already there.
		if err := sqlstore.RedoMigration(ctx, db, 9); err != nil {
			t.Fatal(err)
		}
		checkDrift("after the migration ran again")
		if err := sqlstore.RedoMigration(ctx, db, 33); err != nil {
			t.Fatal(err)
		}
		checkDrift("after the state counts' migration ran again")
		if err := sqlstore.RedoMigration(ctx, db, 34); err != nil {
			t.Fatal(err)
		}
		checkDrift("after the trigram index's migration ran again")
		if a := total("orga"); a != 38 {
			t.Fatalf("after the migration: total %d, want 38", a)
		}

		write(func(tx account.Tx) error { return tx.DeleteOrganization(ctx, "orgb") })
		checkDrift("after an organization was deleted")

		// Many small writers at once, joining and leaving (on PostgreSQL each adds a
		// row of its own, and now and then one folds the others): the sum stays exact
		// and the rows stay few.
		var wg sync.WaitGroup
		errs := make(chan error, 6*60)
		for w := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 50 {
					id := fmt.Sprintf("w%d-%02d", w, i)
					errs <- db.Write(ctx, func(tx account.Tx) error {
						if err := tx.CreateAccount(ctx, account.Account{ID: id, Email: id + "@count.test", FirstName: "C", LastName: "T",
							State: account.AccountActive, CreatedAt: now, UpdatedAt: now}); err != nil {
							return err
						}
						return tx.CreateMembership(ctx, account.Membership{OrgID: "orga", AccountID: id, RoleID: account.RoleMember,
							State: account.MemberActive, CreatedAt: now, UpdatedAt: now})
					})
					if i%5 == 4 {
						errs <- db.Write(ctx, func(tx account.Tx) error { return tx.DeleteMembership(ctx, "orga", id) })
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		checkDrift("after concurrent writers")
		if a := total("orga"); a != 38+6*40 {
			t.Fatalf("after concurrent writers: total %d, want %d", a, 38+6*40)
		}
		if rows := sqlstore.MemberCountRows(ctx, t, db, "orga"); rows > 201 {
			t.Errorf("orga's count is kept in %d rows after 360 writes; the folds should keep them far fewer", rows)
		}
	})
}
