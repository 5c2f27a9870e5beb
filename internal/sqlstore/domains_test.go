package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestDomainsStore: the domains of migration 28 — once per organization, any number
// pending across organizations, one verified (the unique index, whatever the
// caller), every read scoped by the organization but the verified copy's; due
// pending domains oldest check first; an auto join recorded once; the join policy
// kept with the organization. Rolled back and applied again, the schema holds.
func TestDomainsStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		write := func(fn func(tx account.Tx) error) error { return db.Write(ctx, fn) }
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		dom := func(id, org string) account.Domain {
			return account.Domain{ID: id, OrgID: org, Name: "shared.example", State: account.DomainPending, Token: "t" + id,
				PendingUntil: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
		}
		run := func(when string) {
			must(write(func(tx account.Tx) error {
				for _, org := range []string{"orga", "orgb"} {
					if err := tx.CreateOrganization(ctx, account.Organization{ID: org, Kind: account.KindOrganization, Name: org,
						Slug: org, InvitationTTLHours: 168, EndingSoonDays: 30, DomainJoinPolicy: account.JoinPolicyAuto,
						DomainJoinRole: account.RoleAdmin, CreatedAt: now, UpdatedAt: now}); err != nil {
						return err
					}
				}
				if err := tx.CreateAccount(ctx, account.Account{ID: "ada", Email: "ada@shared.example", FirstName: "A", LastName: "L",
					State: account.AccountActive, CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
				if err := tx.CreateDomain(ctx, dom("d1", "orga")); err != nil {
					return err
				}
				return tx.CreateDomain(ctx, dom("d2", "orgb"))
			}))
			if err := write(func(tx account.Tx) error { return tx.CreateDomain(ctx, dom("d3", "orga")) }); account.ErrorCode(err) != account.ECONFLICT {
				t.Errorf("%s: orga's second copy: %v, want a conflict", when, err)
			}
			must(db.Read(ctx, func(tx account.Tx) error {
				if o, err := tx.OrganizationByRef(ctx, "orga"); err != nil || o.DomainJoinPolicy != account.JoinPolicyAuto || o.DomainJoinRole != account.RoleAdmin {
					t.Errorf("%s: orga's policy %q %q, %v", when, o.DomainJoinPolicy, o.DomainJoinRole, err)
				}
				if _, err := tx.Domain(ctx, "orgb", "d1"); account.ErrorCode(err) != account.ENOTFOUND {
					t.Errorf("%s: orga's domain read as orgb's: %v", when, err)
				}
				if _, err := tx.VerifiedDomain(ctx, "shared.example"); account.ErrorCode(err) != account.ENOTFOUND {
					t.Errorf("%s: a verified copy before any: %v", when, err)
				}
				due, err := tx.DuePendingDomains(ctx, now, 10)
				if err != nil || len(due) != 2 {
					t.Errorf("%s: due %v, %v", when, due, err)
				}
				return nil
			}))
			verified := dom("d1", "orga")
			verified.State, verified.VerifiedBy, verified.VerifiedAt, verified.CheckedAt = account.DomainVerified, account.VerifiedByDNS, now, now
			must(write(func(tx account.Tx) error { return tx.UpdateDomain(ctx, verified) }))
			second := dom("d2", "orgb")
			second.State = account.DomainVerified
			if err := write(func(tx account.Tx) error { return tx.UpdateDomain(ctx, second) }); account.ErrorCode(err) != account.ECONFLICT {
				t.Errorf("%s: a second verified copy: %v, want a conflict", when, err)
			}
			if err := write(func(tx account.Tx) error { return tx.UpdateDomain(ctx, dom("d1", "orgb")) }); account.ErrorCode(err) != account.ENOTFOUND {
				t.Errorf("%s: orga's domain updated as orgb's: %v", when, err)
			}
			must(db.Read(ctx, func(tx account.Tx) error {
				d, err := tx.VerifiedDomain(ctx, "shared.example")
				if err != nil || d.ID != "d1" || d.OrgID != "orga" || !d.VerifiedAt.Equal(now) {
					t.Errorf("%s: the verified copy %+v, %v", when, d, err)
				}
				due, err := tx.DuePendingDomains(ctx, now, 10)
				if err != nil || len(due) != 1 || due[0].ID != "d2" {
					t.Errorf("%s: due once d1 verified: %v, %v", when, due, err)
				}
				return nil
			}))
			for i, want := range []bool{true, false} {
				var first bool
				must(write(func(tx account.Tx) (err error) {
					first, err = tx.RecordDomainJoin(ctx, "orga", "ada", "shared.example", now)
					return err
				}))
				if first != want {
					t.Errorf("%s: auto join %d recorded as first: %v", when, i+1, first)
				}
			}
			if err := write(func(tx account.Tx) error { return tx.DeleteDomain(ctx, "orgb", "d1") }); account.ErrorCode(err) != account.ENOTFOUND {
				t.Errorf("%s: orga's domain deleted as orgb's: %v", when, err)
			}
			must(write(func(tx account.Tx) error {
				if err := tx.DeleteDomain(ctx, "orga", "d1"); err != nil {
					return err
				}
				if err := tx.DeleteOrganization(ctx, "orga"); err != nil {
					return err
				}
				if err := tx.DeleteOrganization(ctx, "orgb"); err != nil {
					return err
				}
				return tx.DeleteAccount(ctx, "ada")
			}))
		}
		run("created")
		if err := sqlstore.RedoMigration(ctx, db, 28); err != nil {
			t.Fatal(err)
		}
		run("after the migration ran again")
	})
}
