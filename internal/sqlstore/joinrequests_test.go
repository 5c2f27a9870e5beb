package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestJoinRequestCancelledState: the store keeps a cancelled join request (migration
// 24), lists an account's own requests across organizations with their
// organizations (pending always, decided ones since the given time), and finds one
// by its requester only. Rolled back, a cancelled request reads as denied (the older
// schema knows no cancelled), and the migration applies again over it.
func TestJoinRequestCancelledState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		write := func(fn func(tx account.Tx) error) {
			t.Helper()
			if err := db.Write(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		write(func(tx account.Tx) error {
			for _, org := range []string{"orga", "orgb", "orgc"} {
				if err := tx.CreateOrganization(ctx, account.Organization{ID: org, Kind: account.KindOrganization, Name: "Name " + org,
					Slug: org, InvitationTTLHours: 168, EndingSoonDays: 30, CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
			}
			for _, id := range []string{"ada", "bob"} {
				if err := tx.CreateAccount(ctx, account.Account{ID: id, Email: id + "@jr.test", FirstName: "J", LastName: "R",
					State: account.AccountActive, CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
			}
			old := now.Add(-200 * 24 * time.Hour)
			for _, r := range []account.JoinRequest{
				{ID: "jr1", OrgID: "orga", AccountID: "ada", State: account.JoinRequestCancelled, DecidedBy: "ada", DecidedAt: now},
				{ID: "jr2", OrgID: "orgb", AccountID: "ada", State: account.JoinRequestPending},
				{ID: "jr3", OrgID: "orgc", AccountID: "ada", State: account.JoinRequestDenied, DecidedAt: old},
				{ID: "jr4", OrgID: "orga", AccountID: "bob", State: account.JoinRequestPending},
			} {
				r.CreatedAt, r.UpdatedAt = now, now
				if r.ID == "jr3" {
					r.CreatedAt, r.UpdatedAt = old, old
				}
				if err := tx.CreateJoinRequest(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
		check := func(when string, wantFirst account.JoinRequestState) {
			t.Helper()
			err := db.Read(ctx, func(tx account.Tx) error {
				rs, err := tx.JoinRequestsOfAccount(ctx, "ada", now.Add(-90*24*time.Hour), 100)
				if err != nil {
					return err
				}
				if len(rs) != 2 || rs[0].ID != "jr2" || rs[1].ID != "jr1" || rs[1].State != wantFirst ||
					rs[0].Organization.Name != "Name orgb" || rs[1].Organization.Slug != "orga" {
					t.Errorf("%s: ada's requests %+v; want jr2 pending in orgb, jr1 %s in orga (jr3 too old)", when, rs, wantFirst)
				}
				if _, err := tx.JoinRequestOfAccount(ctx, "ada", "jr4"); account.ErrorCode(err) != account.ENOTFOUND {
					t.Errorf("%s: bob's request as ada's: %v, want not found", when, err)
				}
				r, err := tx.JoinRequestOfAccount(ctx, "bob", "jr4")
				if err != nil || r.OrgID != "orga" {
					t.Errorf("%s: bob's own request %+v, %v", when, r, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		check("created", account.JoinRequestCancelled)
		if err := sqlstore.RedoMigration(ctx, db, 24); err != nil {
			t.Fatal(err)
		}
		check("after the migration ran again", account.JoinRequestDenied)
		// The unique pending key came back: a second pending request of bob's in orga
		// is a conflict; and cancelled is accepted again.
		err := db.Write(ctx, func(tx account.Tx) error {
			return tx.CreateJoinRequest(ctx, account.JoinRequest{ID: "jr5", OrgID: "orga", AccountID: "bob",
				State: account.JoinRequestPending, CreatedAt: now, UpdatedAt: now})
		})
		if account.ErrorCode(err) != account.ECONFLICT {
			t.Errorf("a second pending request after the migration: %v, want a conflict", err)
		}
		write(func(tx account.Tx) error {
			return tx.UpdateJoinRequest(ctx, account.JoinRequest{ID: "jr4", OrgID: "orga", State: account.JoinRequestCancelled,
				DecidedBy: "bob", DecidedAt: now, UpdatedAt: now})
		})
	})
}
