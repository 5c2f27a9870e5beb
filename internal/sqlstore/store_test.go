package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
	"roster.dev/roster/internal/testtime"
)

// t0 has microseconds, the precision both engines keep, and a zone other than UTC.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.FixedZone("CET", 3600))

// equate compares times by instant and nil slices with empty ones.
var equate = cmp.Options{cmpopts.EquateEmpty()}

func write(t *testing.T, db *sqlstore.DB, fn func(tx account.Tx) error) {
	t.Helper()
	if err := db.Write(context.Background(), fn); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func read(t *testing.T, db *sqlstore.DB, fn func(tx account.Tx) error) {
	t.Helper()
	if err := db.Read(context.Background(), fn); err != nil {
		t.Fatalf("read: %v", err)
	}
}

// try runs fn in a write transaction and returns its error.
func try(db *sqlstore.DB, fn func(tx account.Tx) error) error {
	return db.Write(context.Background(), fn)
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := account.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

// wantConflict checks that err is an ECONFLICT naming field.
func wantConflict(t *testing.T, err error, field string) {
	t.Helper()
	wantCode(t, err, account.ECONFLICT)
	var e *account.Error
	if !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != field {
		t.Fatalf("conflict %v: fields %+v, want one naming %q", err, e.Fields, field)
	}
}

var ctx = context.Background()

func newAccount(id, email string) account.Account {
	return account.Account{
		ID: id, Email: email, FirstName: "First " + id, LastName: "Last " + id,
		State: account.AccountActive, PasswordHash: "$argon2id$hash", CreatedAt: t0, UpdatedAt: t0,
	}
}

func newOrg(id, name, slug string, kind account.OrgKind, parent string) account.Organization {
	return account.Organization{
		ID: id, Kind: kind, ParentID: parent, Name: name, Slug: slug,
		InvitationTTLHours: account.DefaultInvitationTTLHours, EndingSoonDays: account.DefaultEndingSoonDays,
		CreatedAt: t0, UpdatedAt: t0,
	}
}

func newMembership(orgID, accountID, roleID string, state account.MemberState) account.Membership {
	return account.Membership{OrgID: orgID, AccountID: accountID, RoleID: roleID, State: state, CreatedAt: t0, UpdatedAt: t0}
}

// insert writes items in one transaction with add (a Tx method expression).
func insert[T any](t *testing.T, db *sqlstore.DB, add func(account.Tx, context.Context, T) error, items ...T) {
	t.Helper()
	write(t, db, func(tx account.Tx) error {
		for _, it := range items {
			if err := add(tx, ctx, it); err != nil {
				return err
			}
		}
		return nil
	})
}

func createAccounts(t *testing.T, db *sqlstore.DB, as ...account.Account) {
	t.Helper()
	insert(t, db, account.Tx.CreateAccount, as...)
}

func createOrgs(t *testing.T, db *sqlstore.DB, os ...account.Organization) {
	t.Helper()
	insert(t, db, account.Tx.CreateOrganization, os...)
}

func createMemberships(t *testing.T, db *sqlstore.DB, ms ...account.Membership) {
	t.Helper()
	insert(t, db, account.Tx.CreateMembership, ms...)
}

func TestEnginesNamesSubtests(t *testing.T) {
	var names []string
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		names = append(names, t.Name())
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if len(names) == 0 || names[0] != t.Name()+"/sqlite" {
		t.Errorf("subtests ran: %q", names)
	}
}

func TestAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		alice := newAccount("acc-alice", "Alice@Example.com")
		alice.Username, alice.Phone, alice.Operator, alice.MustResetPassword = "Alice", "+33612345678", true, true
		bob := newAccount("acc-bob", "bob@example.com")
		createAccounts(t, db, alice, bob)

		read(t, db, func(tx account.Tx) error {
			got, err := tx.AccountByID(ctx, alice.ID)
			if err != nil {
				return err
			}
			if d := cmp.Diff(alice, got); d != "" {
				t.Errorf("AccountByID (-want +got):\n%s", d)
			}
			got, err = tx.AccountByEmail(ctx, "  aLICE@example.COM ")
			if err != nil {
				return err
			}
			if d := cmp.Diff(alice, got); d != "" {
				t.Errorf("AccountByEmail (-want +got):\n%s", d)
			}
			_, err = tx.AccountByID(ctx, "nobody")
			wantCode(t, err, account.ENOTFOUND)
			_, err = tx.AccountByEmail(ctx, "nobody@example.com")
			wantCode(t, err, account.ENOTFOUND)
			n, err := tx.CountOperators(ctx)
			if n != 1 {
				t.Errorf("CountOperators = %d, want 1", n)
			}
			return err
		})

		// Unique email and username, case-insensitively; no username is no conflict.
		dup := newAccount("acc-dup", "ALICE@example.com")
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.CreateAccount(ctx, dup) }), "email")
		dup = newAccount("acc-dup", "dup@example.com")
		dup.Username = "aLiCe"
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.CreateAccount(ctx, dup) }), "username")
		createAccounts(t, db, newAccount("acc-carol", "carol@example.com"))

		// Update every column but id and created_at.
		bob2 := bob
		bob2.Email, bob2.Username, bob2.FirstName, bob2.LastName = "Robert@example.com", "rob", "Robert", "Builder"
		bob2.Phone, bob2.State, bob2.Operator, bob2.MustResetPassword = "+4915112345678", account.AccountDisabled, true, true
		bob2.PasswordHash, bob2.UpdatedAt = "$argon2id$other", t0.Add(time.Hour)
		bob2.CreatedAt = t0.Add(-time.Hour) // ignored
		write(t, db, func(tx account.Tx) error { return tx.UpdateAccount(ctx, bob2) })
		bob2.CreatedAt = bob.CreatedAt
		read(t, db, func(tx account.Tx) error {
			got, err := tx.AccountByEmail(ctx, "robert@EXAMPLE.com")
			if d := cmp.Diff(bob2, got); d != "" {
				t.Errorf("after UpdateAccount (-want +got):\n%s", d)
			}
			_, err2 := tx.AccountByEmail(ctx, "bob@example.com")
			wantCode(t, err2, account.ENOTFOUND)
			return err
		})
		bob3 := bob2
		bob3.Email = "alice@example.com"
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.UpdateAccount(ctx, bob3) }), "email")
		bob3 = bob2
		bob3.Username = "ALICE"
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.UpdateAccount(ctx, bob3) }), "username")
		wantCode(t, try(db, func(tx account.Tx) error { return tx.UpdateAccount(ctx, newAccount("nobody", "x@example.com")) }),
			account.ENOTFOUND)

		// Removing a username frees it.
		alice2 := alice
		alice2.Username = ""
		write(t, db, func(tx account.Tx) error { return tx.UpdateAccount(ctx, alice2) })
		dup.Username = "alice"
		write(t, db, func(tx account.Tx) error { return tx.CreateAccount(ctx, dup) })

		wantCode(t, try(db, func(tx account.Tx) error { return tx.DeleteAccount(ctx, "nobody") }), account.ENOTFOUND)

		// ActiveOperators: the operators whose account is active, oldest first; bob is
		// an operator now, but disabled.
		op2 := newAccount("acc-op2", "op2@example.com")
		op2.Operator, op2.CreatedAt = true, t0.Add(time.Minute)
		createAccounts(t, db, op2)
		read(t, db, func(tx account.Tx) error {
			ops, err := tx.ActiveOperators(ctx)
			var ids []string
			for _, a := range ops {
				ids = append(ids, a.ID)
			}
			if want := []string{alice.ID, op2.ID}; !slices.Equal(ids, want) {
				t.Errorf("ActiveOperators = %v, want %v", ids, want)
			}
			return err
		})
	})
}

func TestDeleteAccountCascades(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		a, b := newAccount("acc-a", "a@example.com"), newAccount("acc-b", "b@example.com")
		createAccounts(t, db, a, b)
		createOrgs(t, db, newOrg("org-1", "One", "one", account.KindOrganization, ""))
		createMemberships(t, db, newMembership("org-1", a.ID, account.RoleOwner, account.MemberActive),
			newMembership("org-1", b.ID, account.RoleMember, account.MemberActive))
		team := account.Team{ID: "team-1", OrgID: "org-1", Name: "Ops", CreatedAt: t0, UpdatedAt: t0}
		sess := account.Session{ID: "sess-b", AccountID: b.ID, TokenHash: []byte("hash-b"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		write(t, db, func(tx account.Tx) error {
			if err := tx.CreateTeam(ctx, team); err != nil {
				return err
			}
			for _, id := range []string{a.ID, b.ID} {
				if err := tx.SetMemberTeams(ctx, "org-1", id, []string{team.ID}); err != nil {
					return err
				}
			}
			return tx.CreateSession(ctx, sess)
		})

		write(t, db, func(tx account.Tx) error { return tx.DeleteAccount(ctx, b.ID) })
		read(t, db, func(tx account.Tx) error {
			_, err := tx.AccountByID(ctx, b.ID)
			wantCode(t, err, account.ENOTFOUND)
			_, err = tx.Membership(ctx, "org-1", b.ID)
			wantCode(t, err, account.ENOTFOUND)
			_, _, err = tx.SessionByTokenHash(ctx, sess.TokenHash)
			wantCode(t, err, account.ENOTFOUND)
			got, err := tx.Team(ctx, "org-1", team.ID)
			if err != nil {
				return err
			}
			if got.Members != 1 {
				t.Errorf("team members after delete = %d, want 1", got.Members)
			}
			c, err := tx.CountMembers(ctx, "org-1")
			if c != (account.MemberCounts{Total: 1, Active: 1}) {
				t.Errorf("CountMembers = %+v", c)
			}
			return err
		})
	})
}

func TestTimesRoundTripToTheMicrosecond(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		in := time.Date(2024, 2, 29, 23, 59, 59, 987654321, time.FixedZone("X", -5*3600-30*60))
		a := newAccount("acc-t", "t@example.com")
		a.CreatedAt, a.UpdatedAt = in, time.Date(1999, 12, 31, 23, 59, 59, 1000, time.UTC)
		createAccounts(t, db, a)
		read(t, db, func(tx account.Tx) error {
			got, err := tx.AccountByID(ctx, a.ID)
			if err != nil {
				return err
			}
			want := in.Truncate(time.Microsecond).UTC()
			if got.CreatedAt != want || got.CreatedAt.Location() != time.UTC {
				t.Errorf("created_at = %v, want %v (UTC)", got.CreatedAt, want)
			}
			if !got.UpdatedAt.Equal(a.UpdatedAt) {
				t.Errorf("updated_at = %v, want %v", got.UpdatedAt, a.UpdatedAt)
			}
			return nil
		})
	})
}

func TestOrganizations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		p := newOrg("org-p", "Partner", "partner", account.KindPartner, "")
		a := newOrg("org-a", "Alpha", "alpha", account.KindOrganization, p.ID)
		b := newOrg("org-b", "Beta", "beta", account.KindOrganization, "")
		createOrgs(t, db, p, a, b)
		read(t, db, func(tx account.Tx) error {
			for _, ref := range []string{a.ID, a.Slug} {
				got, err := tx.OrganizationByRef(ctx, ref)
				if err != nil {
					return err
				}
				if d := cmp.Diff(a, got); d != "" {
					t.Errorf("OrganizationByRef(%s) (-want +got):\n%s", ref, d)
				}
			}
			_, err := tx.OrganizationByRef(ctx, "nope")
			wantCode(t, err, account.ENOTFOUND)
			n, err := tx.CountChildOrganizations(ctx, p.ID)
			if n != 1 {
				t.Errorf("CountChildOrganizations = %d, want 1", n)
			}
			return err
		})
		dup := newOrg("org-dup", "Dup", "alpha", account.KindOrganization, "")
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.CreateOrganization(ctx, dup) }), "slug")

		a2 := a
		a2.Name, a2.Slug, a2.InvitationTTLHours, a2.EndingSoonDays, a2.UpdatedAt = "Aleph", "aleph", 24, 7, t0.Add(time.Minute)
		write(t, db, func(tx account.Tx) error { return tx.UpdateOrganization(ctx, a2) })
		read(t, db, func(tx account.Tx) error {
			got, err := tx.OrganizationByRef(ctx, "aleph")
			if d := cmp.Diff(a2, got); d != "" {
				t.Errorf("after UpdateOrganization (-want +got):\n%s", d)
			}
			_, err2 := tx.OrganizationByRef(ctx, "alpha")
			wantCode(t, err2, account.ENOTFOUND)
			// The search text follows the name and slug.
			for q, want := range map[string]int{"ALEPH": 1, "alpha": 0} {
				_, total, err := tx.FindOrganizations(ctx, account.OrganizationFilter{Q: q})
				if err != nil {
					return err
				}
				if total != want {
					t.Errorf("FindOrganizations(q=%s) total = %d, want %d", q, total, want)
				}
			}
			return err
		})
		a3 := a2
		a3.Slug = "beta"
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.UpdateOrganization(ctx, a3) }), "slug")
		wantCode(t, try(db, func(tx account.Tx) error { return tx.UpdateOrganization(ctx, dup) }), account.ENOTFOUND)

		// LockOrganization checks existence (and, on PostgreSQL, locks the row).
		write(t, db, func(tx account.Tx) error { return tx.LockOrganization(ctx, b.ID) })
		wantCode(t, try(db, func(tx account.Tx) error { return tx.LockOrganization(ctx, "nope") }), account.ENOTFOUND)

		// Deleting an organization takes its memberships, roles and teams, not the accounts.
		acct := newAccount("acc-1", "one@example.com")
		createAccounts(t, db, acct)
		role := account.Role{ID: "role-1", OrgID: b.ID, Name: "Auditor", Active: true, CreatedAt: t0, UpdatedAt: t0}
		team := account.Team{ID: "team-1", OrgID: b.ID, Name: "Ops", CreatedAt: t0, UpdatedAt: t0}
		write(t, db, func(tx account.Tx) error {
			if err := tx.CreateRole(ctx, role); err != nil {
				return err
			}
			if err := tx.CreateTeam(ctx, team); err != nil {
				return err
			}
			if err := tx.CreateMembership(ctx, newMembership(b.ID, acct.ID, role.ID, account.MemberActive)); err != nil {
				return err
			}
			return tx.SetMemberTeams(ctx, b.ID, acct.ID, []string{team.ID})
		})
		write(t, db, func(tx account.Tx) error { return tx.DeleteOrganization(ctx, b.ID) })
		read(t, db, func(tx account.Tx) error {
			_, err := tx.OrganizationByRef(ctx, b.ID)
			wantCode(t, err, account.ENOTFOUND)
			_, err = tx.Membership(ctx, b.ID, acct.ID)
			wantCode(t, err, account.ENOTFOUND)
			_, err = tx.CustomRole(ctx, b.ID, role.ID)
			wantCode(t, err, account.ENOTFOUND)
			_, err = tx.Team(ctx, b.ID, team.ID)
			wantCode(t, err, account.ENOTFOUND)
			ms, err := tx.MembershipsOfAccount(ctx, acct.ID)
			if len(ms) != 0 {
				t.Errorf("memberships left: %+v", ms)
			}
			_, err2 := tx.AccountByID(ctx, acct.ID)
			return errors.Join(err, err2)
		})
		wantCode(t, try(db, func(tx account.Tx) error { return tx.DeleteOrganization(ctx, b.ID) }), account.ENOTFOUND)
	})
}

// TestLockOrganizationSerialisesWriters checks that a second writer locking an
// organization waits until the first one's transaction ends.
func TestLockOrganizationSerialisesWriters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db, newOrg("org-1", "One", "one", account.KindOrganization, ""))
		locked := make(chan struct{})
		waiting0, err := sqlstore.WaitingWriters(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		var firstDone, secondLocked time.Time
		errc := make(chan error, 1)
		go func() {
			<-locked
			errc <- db.Write(ctx, func(tx account.Tx) error {
				err := tx.LockOrganization(ctx, "org-1")
				secondLocked = time.Now()
				return err
			})
		}()
		write(t, db, func(tx account.Tx) error {
			if err := tx.LockOrganization(ctx, "org-1"); err != nil {
				return err
			}
			close(locked)
			testtime.WaitFor(t, 10*time.Second, "the second writer waiting for the lock", func() bool {
				n, err := sqlstore.WaitingWriters(ctx, db)
				return err == nil && n > waiting0
			})
			firstDone = time.Now()
			return nil
		})
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if secondLocked.Before(firstDone) {
			t.Errorf("the second writer locked the organization before the first committed")
		}
	})
}

func TestFindOrganizations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		orgs := []account.Organization{
			newOrg("o01", "Partner One", "partner-one", account.KindPartner, ""),
			newOrg("o02", "Child Alpha", "child-alpha", account.KindOrganization, "o01"),
			newOrg("o03", "Child Beta", "child-beta", account.KindOrganization, "o01"),
			newOrg("o04", "Standalone", "standalone", account.KindOrganization, ""),
			newOrg("o05", "Partner Two", "partner-two", account.KindPartner, ""),
			newOrg("o06", "Other Child", "other-child", account.KindOrganization, "o05"),
			newOrg("o07", "100% Real", "real", account.KindOrganization, ""),
			newOrg("o08", "100 percent", "percent", account.KindOrganization, ""),
			newOrg("o09", "Under_score", "under-score", account.KindOrganization, ""),
			newOrg("o10", "Underscore", "underscore", account.KindOrganization, ""),
			newOrg("o11", "Deactivated Here", "deactivated-here", account.KindOrganization, ""),
			newOrg("o12", "Back\\slash", "backslash", account.KindOrganization, ""),
		}
		createOrgs(t, db, orgs...)
		x := newAccount("acc-x", "x@example.com")
		createAccounts(t, db, x)
		createMemberships(t, db,
			newMembership("o01", x.ID, account.RoleMember, account.MemberActive),      // partner: sees o01, o02, o03
			newMembership("o04", x.ID, account.RoleMember, account.MemberActive),      // sees o04
			newMembership("o05", x.ID, account.RoleMember, account.MemberInvited),     // not active: sees nothing there
			newMembership("o11", x.ID, account.RoleMember, account.MemberDeactivated), // nor here
		)
		ids := func(os []account.Organization) []string {
			out := []string{}
			for _, o := range os {
				out = append(out, o.ID)
			}
			return out
		}
		cases := []struct {
			name string
			f    account.OrganizationFilter
			want []string
		}{
			{"all", account.OrganizationFilter{}, ids(orgs)},
			{"q name", account.OrganizationFilter{Q: "CHILD"}, []string{"o02", "o03", "o06"}},
			{"q slug", account.OrganizationFilter{Q: "ld-al"}, []string{"o02"}},
			{"q percent literal", account.OrganizationFilter{Q: "%"}, []string{"o07"}},
			{"q underscore literal", account.OrganizationFilter{Q: "r_s"}, []string{"o09"}},
			{"q backslash literal", account.OrganizationFilter{Q: `k\s`}, []string{"o12"}},
			{"kind", account.OrganizationFilter{Kind: account.KindPartner}, []string{"o01", "o05"}},
			{"parent", account.OrganizationFilter{ParentID: "o01"}, []string{"o02", "o03"}},
			{"visible", account.OrganizationFilter{VisibleTo: x.ID}, []string{"o01", "o02", "o03", "o04"}},
			{"visible kind", account.OrganizationFilter{VisibleTo: x.ID, Kind: account.KindOrganization}, []string{"o02", "o03", "o04"}},
			{"visible q", account.OrganizationFilter{VisibleTo: x.ID, Q: "beta"}, []string{"o03"}},
			{"visible nobody", account.OrganizationFilter{VisibleTo: "nobody"}, []string{}},
		}
		for _, c := range cases {
			for _, limit := range []int{0, 1, 3} {
				for _, skip := range []bool{false, true} {
					var got []string
					after := ""
					for page := 0; ; page++ {
						f := c.f
						f.After, f.Limit, f.SkipTotal = after, limit, skip
						var items []account.Organization
						var total int
						read(t, db, func(tx account.Tx) (err error) {
							items, total, err = tx.FindOrganizations(ctx, f)
							return err
						})
						if want := len(c.want); skip {
							if total != 0 {
								t.Errorf("%s, total skipped: total = %d", c.name, total)
							}
						} else if total != want {
							t.Errorf("%s: total = %d, want %d", c.name, total, want)
						}
						if limit > 0 && len(items) > limit {
							t.Fatalf("%s: %d items, limit %d", c.name, len(items), limit)
						}
						got = append(got, ids(items)...)
						if limit == 0 || len(items) < limit || page > len(orgs) {
							break
						}
						after = items[len(items)-1].ID
					}
					if d := cmp.Diff(c.want, got, equate); d != "" {
						t.Errorf("%s, limit %d, total skipped %t (-want +got):\n%s", c.name, limit, skip, d)
					}
				}
			}
		}
		// Items are whole organizations.
		read(t, db, func(tx account.Tx) error {
			items, _, err := tx.FindOrganizations(ctx, account.OrganizationFilter{ParentID: "o05"})
			if d := cmp.Diff([]account.Organization{orgs[5]}, items); d != "" {
				t.Errorf("items (-want +got):\n%s", d)
			}
			return err
		})
	})
}

// memberSeed is the data of TestFindMembers: 30 members of org A, some also of org B.
type memberSeed struct {
	accounts []account.Account
	members  []account.Member // of org A, by account id
}

func seedFindMembers(t *testing.T, db *sqlstore.DB) memberSeed {
	t.Helper()
	createOrgs(t, db,
		newOrg("org-a", "A", "org-a", account.KindOrganization, ""),
		newOrg("org-b", "B", "org-b", account.KindOrganization, ""))
	teams := []account.Team{
		{ID: "team-a1", OrgID: "org-a", Name: "beta", CreatedAt: t0, UpdatedAt: t0},
		{ID: "team-a2", OrgID: "org-a", Name: "Alpha", CreatedAt: t0, UpdatedAt: t0},
		{ID: "team-a3", OrgID: "org-a", Name: "Gamma", CreatedAt: t0, UpdatedAt: t0},
		{ID: "team-b1", OrgID: "org-b", Name: "Alpha", CreatedAt: t0, UpdatedAt: t0},
	}
	role := account.Role{ID: "role-a", OrgID: "org-a", Name: "Auditor", Active: true, CreatedAt: t0, UpdatedAt: t0}
	write(t, db, func(tx account.Tx) error {
		for _, tm := range teams {
			if err := tx.CreateTeam(ctx, tm); err != nil {
				return err
			}
		}
		return tx.CreateRole(ctx, role)
	})

	var s memberSeed
	firsts := []string{"Ann", "Ben", "Chloé", "Dan", "Eve"}
	for i := range 30 {
		a := newAccount(fmt.Sprintf("acc%02d", i), fmt.Sprintf("User%02d@Example.com", i))
		a.FirstName, a.LastName = firsts[i%len(firsts)], fmt.Sprintf("Smith%d", i)
		if i%3 == 0 {
			a.Username = fmt.Sprintf("U%02d", i)
		}
		switch i {
		case 7:
			a.LastName = "100% Sure"
		case 8:
			a.LastName = "O_Neil"
		}
		m := account.Member{Membership: newMembership("org-a", a.ID, account.RoleMember, account.MemberActive), Account: a,
			Seats: []account.MemberSeat{}}
		switch {
		case i%5 == 0:
			m.RoleID = account.RoleAdmin
		case i%7 == 0:
			m.RoleID = role.ID
		}
		switch {
		case i%4 == 1:
			m.State = account.MemberInvited
		case i%6 == 5:
			m.State = account.MemberDeactivated
		}
		var teamIDs []string
		if i%2 == 0 {
			teamIDs = append(teamIDs, "team-a1")
			m.Teams = append(m.Teams, "beta")
		}
		if i%3 == 0 {
			teamIDs = append(teamIDs, "team-a2")
			m.Teams = append(m.Teams, "Alpha")
		}
		if i == 9 {
			teamIDs = append(teamIDs, "team-a3")
			m.Teams = append(m.Teams, "Gamma")
		}
		slices.SortFunc(m.Teams, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		s.accounts = append(s.accounts, a)
		s.members = append(s.members, m)
		write(t, db, func(tx account.Tx) error {
			if err := tx.CreateAccount(ctx, a); err != nil {
				return err
			}
			if err := tx.CreateMembership(ctx, m.Membership); err != nil {
				return err
			}
			if err := tx.SetMemberTeams(ctx, "org-a", a.ID, teamIDs); err != nil {
				return err
			}
			if i%4 != 0 {
				return nil
			}
			// Also an admin of org B, in its team, so that B's rows would show if a query
			// forgot the tenant.
			if err := tx.CreateMembership(ctx, newMembership("org-b", a.ID, account.RoleAdmin, account.MemberActive)); err != nil {
				return err
			}
			return tx.SetMemberTeams(ctx, "org-b", a.ID, []string{"team-b1"})
		})
	}
	return s
}

// listAll pages through FindMembers with limit and returns every member seen.
func listAll(t *testing.T, db *sqlstore.DB, f account.MemberFilter, limit, wantTotal int) []account.Member {
	t.Helper()
	var all []account.Member
	f.After, f.Limit = "", limit
	for page := 0; page < 100; page++ {
		var items []account.Member
		var total int
		read(t, db, func(tx account.Tx) (err error) {
			items, total, err = tx.FindMembers(ctx, f)
			return err
		})
		if total != wantTotal {
			t.Errorf("filter %+v page %d: total %d, want %d", f, page, total, wantTotal)
		}
		if limit > 0 && len(items) > limit {
			t.Fatalf("filter %+v: %d items, limit %d", f, len(items), limit)
		}
		all = append(all, items...)
		if limit == 0 || len(items) < limit {
			return all
		}
		f.After = items[len(items)-1].AccountID
	}
	t.Fatalf("filter %+v: paging does not end", f)
	return nil
}

func TestFindMembers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := seedFindMembers(t, db)
		matches := func(m account.Member, f account.MemberFilter) bool {
			a := m.Account
			search := strings.ToLower(a.Email + " " + a.Username + " " + a.FirstName + " " + a.LastName)
			if !account.ProfileVisible(account.Organization{ID: m.OrgID}, m.State, a) {
				search = strings.ToLower(a.Email) // what the organization may see of an invitee
			}
			return strings.Contains(search, strings.ToLower(f.Q)) &&
				(f.RoleID == "" || m.RoleID == f.RoleID) &&
				(f.State == "" || m.State == f.State) &&
				(f.TeamName == "" || slices.ContainsFunc(m.Teams, func(n string) bool { return strings.EqualFold(n, f.TeamName) }))
		}
		filters := []account.MemberFilter{
			{},
			{Q: "smith1"}, // last names
			{Q: "USER2"},  // emails
			{Q: "u0"},     // usernames and emails
			{Q: "CHLOÉ"},  // first names, not ASCII
			{Q: "%"},      // a LIKE wildcard, matched literally
			{Q: "o_n"},    // the other one
			{Q: "nobody"}, // none
			{Q: `"o_n`},   // FTS5's quote, in a needle for the trigram index
			{Q: `\%_`},    // LIKE's escape and wildcards, in a pattern for pg_trgm
			{Q: "ith1"},   // a substring inside a word
			{Q: "h1 "},    // across words
			{RoleID: account.RoleAdmin},
			{RoleID: "role-a"},
			{RoleID: "role-b"},
			{State: account.MemberInvited},
			{State: account.MemberDeactivated},
			{TeamName: "ALPHA"},
			{TeamName: "beta"},
			{TeamName: "gamma"},
			{TeamName: "nope"},
			{TeamName: "alpha", RoleID: account.RoleAdmin},
			{TeamName: "beta", Q: "smith2", State: account.MemberActive},
			{Q: "smith", RoleID: account.RoleMember, State: account.MemberActive},
		}
		checkFilters(t, db, s.members, matches, "org-a", filters)
		// On SQLite a needle of three characters or more goes through the trigram index
		// when it is rare in the store, as every one is here; the same filters again,
		// each read from memberships_search as a common one is.
		sqlstore.SetRareMatches(t, 0)
		checkFilters(t, db, s.members, matches, "org-a", filters)
		sqlstore.SetRareMatches(t, 5000)
		// Sanity of the seed: the filters above select something.
		for _, c := range []struct {
			f    account.MemberFilter
			want int
		}{{account.MemberFilter{Q: "%"}, 1}, {account.MemberFilter{Q: "o_n"}, 1}, {account.MemberFilter{Q: "é"}, 5},
			{account.MemberFilter{TeamName: "gamma"}, 1}, {account.MemberFilter{RoleID: "role-a"}, 4}} {
			c.f.OrgID = "org-a"
			listAll(t, db, c.f, 0, c.want)
		}

		// Org B sees its own members only, with its own teams.
		b := listAll(t, db, account.MemberFilter{OrgID: "org-b", TeamName: "alpha"}, 3, 8)
		for _, m := range b {
			if m.OrgID != "org-b" || m.RoleID != account.RoleAdmin || !slices.Equal(m.Teams, []string{"Alpha"}) {
				t.Errorf("org B member %+v", m.Membership)
			}
		}

		// The search text follows the account.
		a := s.accounts[10]
		a.LastName, a.Username = "Zebulon", "zed"
		write(t, db, func(tx account.Tx) error { return tx.UpdateAccount(ctx, a) })
		if got := listAll(t, db, account.MemberFilter{OrgID: "org-a", Q: "zebu"}, 0, 1); len(got) != 1 || got[0].Account.LastName != "Zebulon" {
			t.Errorf("after UpdateAccount, q=zebu finds %+v", got)
		}
		listAll(t, db, account.MemberFilter{OrgID: "org-a", Q: "ZED"}, 0, 1)
		listAll(t, db, account.MemberFilter{OrgID: "org-a", Q: "smith10"}, 0, 0)
	})
}

func TestMemberships(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := seedFindMembers(t, db)
		m3 := s.members[3]
		read(t, db, func(tx account.Tx) error {
			got, err := tx.Membership(ctx, "org-a", m3.AccountID)
			if d := cmp.Diff(m3.Membership, got); d != "" {
				t.Errorf("Membership (-want +got):\n%s", d)
			}
			member, err2 := tx.Member(ctx, "org-a", m3.AccountID)
			if d := cmp.Diff(m3, member); d != "" {
				t.Errorf("Member (-want +got):\n%s", d)
			}
			if !slices.Equal(member.Teams, []string{"Alpha"}) {
				t.Errorf("teams = %q", member.Teams)
			}
			m0, err3 := tx.Member(ctx, "org-a", s.members[0].AccountID)
			if !slices.Equal(m0.Teams, []string{"Alpha", "beta"}) {
				t.Errorf("teams = %q, want sorted case-insensitively", m0.Teams)
			}
			_, err4 := tx.Member(ctx, "org-b", s.members[1].AccountID)
			wantCode(t, err4, account.ENOTFOUND)
			_, err4 = tx.Membership(ctx, "org-b", s.members[1].AccountID)
			wantCode(t, err4, account.ENOTFOUND)
			return errors.Join(err, err2, err3)
		})

		// A second membership of one account in one organization is a conflict.
		wantConflict(t, try(db, func(tx account.Tx) error {
			return tx.CreateMembership(ctx, newMembership("org-a", m3.AccountID, account.RoleAdmin, account.MemberActive))
		}), "account")
		wantCode(t, try(db, func(tx account.Tx) error {
			return tx.CreateMembership(ctx, newMembership("org-a", "nobody", account.RoleAdmin, account.MemberActive))
		}), account.ENOTFOUND)

		// UpdateMembership writes role, state and updated_at.
		upd := m3.Membership
		upd.RoleID, upd.State, upd.UpdatedAt = "role-a", account.MemberDeactivated, t0.Add(time.Hour)
		write(t, db, func(tx account.Tx) error { return tx.UpdateMembership(ctx, upd) })
		read(t, db, func(tx account.Tx) error {
			got, err := tx.Membership(ctx, "org-a", m3.AccountID)
			if d := cmp.Diff(upd, got); d != "" {
				t.Errorf("after UpdateMembership (-want +got):\n%s", d)
			}
			return err
		})
		missing := upd
		missing.OrgID = "org-b" // m3 is not a member of B
		wantCode(t, try(db, func(tx account.Tx) error { return tx.UpdateMembership(ctx, missing) }), account.ENOTFOUND)

		// MembershipsOfAccount: by organization name then id, with teams.
		createOrgs(t, db, newOrg("org-c", "Aardvark", "org-c", account.KindOrganization, ""))
		m0 := s.members[0]
		createMemberships(t, db, newMembership("org-c", m0.AccountID, account.RoleOwner, account.MemberInvited))
		read(t, db, func(tx account.Tx) error {
			ms, err := tx.MembershipsOfAccount(ctx, m0.AccountID)
			if err != nil {
				return err
			}
			var got []string
			for _, am := range ms {
				got = append(got, fmt.Sprintf("%s %s %s %s %q", am.Organization.Name, am.OrgID, am.RoleID, am.State, am.Teams))
			}
			want := []string{ // "A" < "Aardvark" < "B"
				`A org-a admin active ["Alpha" "beta"]`,
				`Aardvark org-c owner invited []`,
				`B org-b admin active ["Alpha"]`,
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("MembershipsOfAccount (-want +got):\n%s", d)
			}
			if ms[0].Organization.Slug != "org-a" || !ms[0].Membership.CreatedAt.Equal(t0) {
				t.Errorf("membership %+v", ms[0])
			}
			none, err := tx.MembershipsOfAccount(ctx, "nobody")
			if len(none) != 0 {
				t.Errorf("memberships of nobody: %+v", none)
			}
			return err
		})

		// Counts.
		read(t, db, func(tx account.Tx) error {
			var want account.MemberCounts
			owners := 0
			for _, m := range s.members {
				if m.AccountID == m3.AccountID {
					m.Membership = upd
				}
				want.Total++
				switch m.State {
				case account.MemberActive:
					want.Active++
				case account.MemberInvited:
					want.Invited++
				case account.MemberDeactivated:
					want.Deactivated++
				}
				if m.RoleID == "role-a" {
					owners++
				}
			}
			got, err := tx.CountMembers(ctx, "org-a")
			if got != want {
				t.Errorf("CountMembers = %+v, want %+v", got, want)
			}
			empty, err2 := tx.CountMembers(ctx, "nope")
			if empty != (account.MemberCounts{}) {
				t.Errorf("CountMembers(nope) = %+v", empty)
			}
			n, err3 := tx.CountMembersWithRole(ctx, "org-a", "role-a", "")
			if n != owners {
				t.Errorf("CountMembersWithRole(role-a, any) = %d, want %d", n, owners)
			}
			n, err4 := tx.CountMembersWithRole(ctx, "org-a", "role-a", account.MemberDeactivated)
			if n != 1 {
				t.Errorf("CountMembersWithRole(role-a, deactivated) = %d, want 1", n)
			}
			n, err5 := tx.CountMembersWithRole(ctx, "org-b", account.RoleAdmin, account.MemberActive)
			if n != 8 {
				t.Errorf("CountMembersWithRole(org-b, admin, active) = %d, want 8", n)
			}
			return errors.Join(err, err2, err3, err4, err5)
		})

		// DeleteMembership takes the team memberships with it.
		write(t, db, func(tx account.Tx) error { return tx.DeleteMembership(ctx, "org-a", m0.AccountID) })
		read(t, db, func(tx account.Tx) error {
			_, err := tx.Member(ctx, "org-a", m0.AccountID)
			wantCode(t, err, account.ENOTFOUND)
			ms, err := tx.MembershipsOfAccount(ctx, m0.AccountID)
			if len(ms) != 2 {
				t.Errorf("memberships left: %d, want 2", len(ms))
			}
			teams, err2 := tx.Teams(ctx, "org-a")
			for _, tm := range teams {
				if tm.Name == "Alpha" && tm.Members != 9 {
					t.Errorf("Alpha has %d members, want 9", tm.Members)
				}
			}
			return errors.Join(err, err2)
		})
		wantCode(t, try(db, func(tx account.Tx) error { return tx.DeleteMembership(ctx, "org-a", m0.AccountID) }), account.ENOTFOUND)
	})
}

func TestRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db,
			newOrg("org-a", "A", "org-a", account.KindOrganization, ""),
			newOrg("org-b", "B", "org-b", account.KindOrganization, ""))
		perms, err := account.ParsePermissions("permissions", []string{"members.read", "audit.read"})
		if err != nil {
			t.Fatal(err)
		}
		roles := []account.Role{
			{ID: "r1", OrgID: "org-a", Name: "zeta", Permissions: perms, Active: true, CreatedAt: t0, UpdatedAt: t0},
			{ID: "r2", OrgID: "org-a", Name: "Alpha", Permissions: 0, Active: false, CreatedAt: t0, UpdatedAt: t0},
			{ID: "r3", OrgID: "org-a", Name: "beta", Permissions: account.AllPermissions, Active: true, CreatedAt: t0, UpdatedAt: t0},
			{ID: "r4", OrgID: "org-b", Name: "Alpha", Permissions: perms, Active: true, CreatedAt: t0, UpdatedAt: t0},
		}
		write(t, db, func(tx account.Tx) error {
			for _, r := range roles {
				if err := tx.CreateRole(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
		read(t, db, func(tx account.Tx) error {
			got, err := tx.CustomRoles(ctx, "org-a")
			if d := cmp.Diff([]account.Role{roles[1], roles[2], roles[0]}, got); d != "" {
				t.Errorf("CustomRoles (-want +got):\n%s", d)
			}
			one, err2 := tx.CustomRole(ctx, "org-a", "r1")
			if d := cmp.Diff(roles[0], one); d != "" {
				t.Errorf("CustomRole (-want +got):\n%s", d)
			}
			// Tenant scope, and the predefined rows are not custom roles.
			for _, c := range [][2]string{{"org-b", "r1"}, {"org-a", "r4"}, {"org-a", account.RoleOwner}, {"org-a", "nope"}} {
				_, err := tx.CustomRole(ctx, c[0], c[1])
				wantCode(t, err, account.ENOTFOUND)
			}
			none, err3 := tx.CustomRoles(ctx, "org-c")
			if len(none) != 0 {
				t.Errorf("CustomRoles(org-c) = %+v", none)
			}
			return errors.Join(err, err2, err3)
		})

		dup := account.Role{ID: "r5", OrgID: "org-a", Name: "ALPHA", CreatedAt: t0, UpdatedAt: t0}
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.CreateRole(ctx, dup) }), "name")

		upd := roles[0]
		upd.Name, upd.Permissions, upd.Active, upd.UpdatedAt = "Omega", account.AllPermissions, false, t0.Add(time.Hour)
		write(t, db, func(tx account.Tx) error { return tx.UpdateRole(ctx, upd) })
		read(t, db, func(tx account.Tx) error {
			got, err := tx.CustomRole(ctx, "org-a", "r1")
			if d := cmp.Diff(upd, got); d != "" {
				t.Errorf("after UpdateRole (-want +got):\n%s", d)
			}
			return err
		})
		taken := upd
		taken.Name = "Beta"
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.UpdateRole(ctx, taken) }), "name")

		// Org B can neither change nor delete org A's role.
		foreign := upd
		foreign.OrgID, foreign.Name = "org-b", "Hijacked"
		wantCode(t, try(db, func(tx account.Tx) error { return tx.UpdateRole(ctx, foreign) }), account.ENOTFOUND)
		wantCode(t, try(db, func(tx account.Tx) error { return tx.DeleteRole(ctx, "org-b", "r1") }), account.ENOTFOUND)
		wantCode(t, try(db, func(tx account.Tx) error { return tx.DeleteRole(ctx, "org-a", account.RoleOwner) }), account.ENOTFOUND)

		write(t, db, func(tx account.Tx) error { return tx.DeleteRole(ctx, "org-a", "r1") })
		read(t, db, func(tx account.Tx) error {
			_, err := tx.CustomRole(ctx, "org-a", "r1")
			wantCode(t, err, account.ENOTFOUND)
			got, err := tx.CustomRole(ctx, "org-b", "r4")
			if got.Name != "Alpha" {
				t.Errorf("org B's role changed: %+v", got)
			}
			return err
		})
	})
}

func TestTeams(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db,
			newOrg("org-a", "A", "org-a", account.KindOrganization, ""),
			newOrg("org-b", "B", "org-b", account.KindOrganization, ""))
		x, y := newAccount("acc-x", "x@example.com"), newAccount("acc-y", "y@example.com")
		createAccounts(t, db, x, y)
		createMemberships(t, db,
			newMembership("org-a", x.ID, account.RoleMember, account.MemberActive),
			newMembership("org-a", y.ID, account.RoleMember, account.MemberActive),
			newMembership("org-b", x.ID, account.RoleMember, account.MemberActive))
		teams := []account.Team{
			{ID: "t1", OrgID: "org-a", Name: "ops", CreatedAt: t0, UpdatedAt: t0},
			{ID: "t2", OrgID: "org-a", Name: "Dev", CreatedAt: t0, UpdatedAt: t0},
			{ID: "t3", OrgID: "org-a", Name: "Empty", CreatedAt: t0, UpdatedAt: t0},
			{ID: "t4", OrgID: "org-b", Name: "Ops", CreatedAt: t0, UpdatedAt: t0},
		}
		write(t, db, func(tx account.Tx) error {
			for _, tm := range teams {
				if err := tx.CreateTeam(ctx, tm); err != nil {
					return err
				}
			}
			// Org B's team id is ignored: only org A's teams are assigned.
			if err := tx.SetMemberTeams(ctx, "org-a", x.ID, []string{"t1", "t2", "t4", "t1", "nope"}); err != nil {
				return err
			}
			if err := tx.SetMemberTeams(ctx, "org-a", y.ID, []string{"t1"}); err != nil {
				return err
			}
			return tx.SetMemberTeams(ctx, "org-b", x.ID, []string{"t4", "t1"})
		})
		withMembers := func(tm account.Team, n int) account.Team { tm.Members = n; return tm }
		read(t, db, func(tx account.Tx) error {
			got, err := tx.Teams(ctx, "org-a")
			want := []account.Team{withMembers(teams[1], 1), withMembers(teams[2], 0), withMembers(teams[0], 2)}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Teams (-want +got):\n%s", d)
			}
			one, err2 := tx.Team(ctx, "org-a", "t1")
			if d := cmp.Diff(withMembers(teams[0], 2), one); d != "" {
				t.Errorf("Team (-want +got):\n%s", d)
			}
			b, err3 := tx.Team(ctx, "org-b", "t4")
			if b.Members != 1 {
				t.Errorf("org B's team has %d members, want 1", b.Members)
			}
			m, err4 := tx.Member(ctx, "org-a", x.ID)
			if !slices.Equal(m.Teams, []string{"Dev", "ops"}) {
				t.Errorf("x's teams in A = %q", m.Teams)
			}
			mb, err5 := tx.Member(ctx, "org-b", x.ID)
			if !slices.Equal(mb.Teams, []string{"Ops"}) {
				t.Errorf("x's teams in B = %q", mb.Teams)
			}
			_, err6 := tx.Team(ctx, "org-b", "t1")
			wantCode(t, err6, account.ENOTFOUND)
			return errors.Join(err, err2, err3, err4, err5)
		})

		dup := account.Team{ID: "t5", OrgID: "org-a", Name: "OPS", CreatedAt: t0, UpdatedAt: t0}
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.CreateTeam(ctx, dup) }), "name")
		taken := teams[1]
		taken.Name = "Empty"
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.UpdateTeam(ctx, taken) }), "name")

		upd := teams[1]
		upd.Name, upd.UpdatedAt = "Developers", t0.Add(time.Hour)
		write(t, db, func(tx account.Tx) error { return tx.UpdateTeam(ctx, upd) })
		foreign := upd
		foreign.OrgID = "org-b"
		wantCode(t, try(db, func(tx account.Tx) error { return tx.UpdateTeam(ctx, foreign) }), account.ENOTFOUND)
		wantCode(t, try(db, func(tx account.Tx) error { return tx.DeleteTeam(ctx, "org-b", "t1") }), account.ENOTFOUND)

		// Replacing and clearing a member's teams.
		write(t, db, func(tx account.Tx) error { return tx.SetMemberTeams(ctx, "org-a", x.ID, []string{"t3"}) })
		write(t, db, func(tx account.Tx) error { return tx.SetMemberTeams(ctx, "org-a", y.ID, nil) })
		read(t, db, func(tx account.Tx) error {
			m, err := tx.Member(ctx, "org-a", x.ID)
			if !slices.Equal(m.Teams, []string{"Empty"}) {
				t.Errorf("x's teams = %q", m.Teams)
			}
			m, err2 := tx.Member(ctx, "org-a", y.ID)
			if m.Teams == nil || len(m.Teams) != 0 {
				t.Errorf("y's teams = %#v, want empty", m.Teams)
			}
			got, err3 := tx.Team(ctx, "org-a", "t2")
			if d := cmp.Diff(withMembers(upd, 0), got); d != "" {
				t.Errorf("after UpdateTeam (-want +got):\n%s", d)
			}
			return errors.Join(err, err2, err3)
		})

		// Deleting a team keeps its members.
		write(t, db, func(tx account.Tx) error { return tx.DeleteTeam(ctx, "org-a", "t3") })
		read(t, db, func(tx account.Tx) error {
			m, err := tx.Member(ctx, "org-a", x.ID)
			if len(m.Teams) != 0 {
				t.Errorf("x's teams = %q", m.Teams)
			}
			_, err2 := tx.Team(ctx, "org-a", "t3")
			wantCode(t, err2, account.ENOTFOUND)
			return err
		})
		wantCode(t, try(db, func(tx account.Tx) error { return tx.DeleteTeam(ctx, "org-a", "t3") }), account.ENOTFOUND)
	})
}

func TestSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		x, y := newAccount("acc-x", "x@example.com"), newAccount("acc-y", "y@example.com")
		createAccounts(t, db, x, y)
		sess := func(id, acct string, expires time.Time) account.Session {
			return account.Session{ID: id, AccountID: acct, TokenHash: []byte("hash\x00" + id), CreatedAt: t0,
				ExpiresAt: expires, IP: "192.0.2.1", UserAgent: "test/1.0"}
		}
		s1, s2, s3 := sess("s1", x.ID, t0.Add(time.Hour)), sess("s2", x.ID, t0.Add(2*time.Hour)), sess("s3", x.ID, t0.Add(3*time.Hour))
		old := sess("s4", y.ID, t0.Add(-time.Second))
		s5 := sess("s5", y.ID, t0.Add(time.Hour))
		write(t, db, func(tx account.Tx) error {
			for _, s := range []account.Session{s1, s2, s3, old, s5} {
				if err := tx.CreateSession(ctx, s); err != nil {
					return err
				}
			}
			return nil
		})
		dup := sess("s6", x.ID, t0)
		dup.TokenHash = s1.TokenHash
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.CreateSession(ctx, dup) }), "token")

		read(t, db, func(tx account.Tx) error {
			gotS, gotA, err := tx.SessionByTokenHash(ctx, s2.TokenHash)
			if d := cmp.Diff(s2, gotS); d != "" {
				t.Errorf("session (-want +got):\n%s", d)
			}
			if d := cmp.Diff(x, gotA); d != "" {
				t.Errorf("account (-want +got):\n%s", d)
			}
			_, _, err2 := tx.SessionByTokenHash(ctx, []byte("nope"))
			wantCode(t, err2, account.ENOTFOUND)
			// Expired sessions are still found: the caller checks the expiry.
			_, _, err3 := tx.SessionByTokenHash(ctx, old.TokenHash)
			return errors.Join(err, err3)
		})

		var purged int
		write(t, db, func(tx account.Tx) (err error) {
			purged, err = tx.DeleteExpiredSessions(ctx, t0.Add(time.Hour)) // expires_at <= now is expired
			return err
		})
		if purged != 3 { // old, s1, s5
			t.Errorf("DeleteExpiredSessions = %d, want 3", purged)
		}
		write(t, db, func(tx account.Tx) error {
			if err := tx.CreateSession(ctx, s5); err != nil {
				return err
			}
			return tx.DeleteSessionsOfAccount(ctx, x.ID, "s3")
		})
		found := func(s account.Session) bool {
			var ok bool
			read(t, db, func(tx account.Tx) error {
				_, _, err := tx.SessionByTokenHash(ctx, s.TokenHash)
				ok = err == nil
				if account.ErrorCode(err) == account.ENOTFOUND {
					return nil
				}
				return err
			})
			return ok
		}
		for s, want := range map[*account.Session]bool{&s1: false, &s2: false, &s3: true, &s5: true} {
			if got := found(*s); got != want {
				t.Errorf("session %s found = %v, want %v", s.ID, got, want)
			}
		}
		write(t, db, func(tx account.Tx) error { return tx.DeleteSessionsOfAccount(ctx, x.ID, "") })
		if found(s3) || !found(s5) {
			t.Errorf("DeleteSessionsOfAccount(x, \"\") left s3 = %v, s5 = %v", found(s3), found(s5))
		}
		write(t, db, func(tx account.Tx) error { return tx.DeleteSession(ctx, "s5") })
		if found(s5) {
			t.Errorf("s5 survived DeleteSession")
		}
		wantCode(t, try(db, func(tx account.Tx) error { return tx.DeleteSession(ctx, "s5") }), account.ENOTFOUND)
	})
}

func TestSetupTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		consume := func(hash string, now time.Time) bool {
			var ok bool
			write(t, db, func(tx account.Tx) (err error) {
				ok, err = tx.ConsumeSetupToken(ctx, []byte(hash), now)
				return err
			})
			return ok
		}
		write(t, db, func(tx account.Tx) error {
			for _, h := range []string{"a", "b", "c"} {
				if err := tx.CreateSetupToken(ctx, []byte(h), t0.Add(time.Hour)); err != nil {
					return err
				}
			}
			return nil
		})
		live := func(hash string, now time.Time) bool {
			var ok bool
			write(t, db, func(tx account.Tx) (err error) {
				ok, err = tx.SetupTokenLive(ctx, []byte(hash), now)
				return err
			})
			return ok
		}
		if !live("a", t0) || live("a", t0.Add(2*time.Hour)) || live("zz", t0) {
			t.Errorf("SetupTokenLive: fresh a = %v, expired a = %v, unknown = %v; want true, false, false",
				live("a", t0), live("a", t0.Add(2*time.Hour)), live("zz", t0))
		}
		if !consume("a", t0) {
			t.Errorf("a fresh token was refused")
		}
		if live("a", t0) {
			t.Errorf("a used token is live")
		}
		if consume("a", t0) {
			t.Errorf("a token was consumed twice")
		}
		if consume("nope", t0) {
			t.Errorf("an unknown token was accepted")
		}
		if consume("b", t0.Add(time.Hour)) {
			t.Errorf("a token was accepted at its expiry")
		}
		// Expired tokens are gone, even if the clock went back.
		if consume("c", t0) {
			t.Errorf("an expired token survived the purge")
		}
		if consume("b", t0) {
			t.Errorf("an expired token was accepted later")
		}
	})
}

func TestAudit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		var orgEvents, platform []account.AuditEvent
		for i := range 7 {
			e := account.AuditEvent{
				ID: fmt.Sprintf("ev%02d", i), OrgID: "org-a", ActorID: "acc-x", ActorEmail: "x@example.com",
				Action: "member.updated", TargetType: "account", TargetID: fmt.Sprintf("acc%d", i),
				Before: []byte(`{"role":"member"}`), After: []byte(`{"role":"admin","teams":["ç"]}`),
				IP: "2001:db8::1", CreatedAt: t0.Add(time.Duration(i) * time.Microsecond),
			}
			if i%3 == 0 {
				e.Before = nil
			}
			if i == 6 {
				e.After = nil
			}
			orgEvents = append(orgEvents, e)
		}
		for i := range 3 {
			platform = append(platform, account.AuditEvent{ID: fmt.Sprintf("ev1%d", i), Action: "auth.login",
				TargetType: "account", TargetID: "acc-x", CreatedAt: t0})
		}
		write(t, db, func(tx account.Tx) error {
			for _, e := range append(slices.Clone(orgEvents), platform...) {
				if err := tx.InsertAudit(ctx, e); err != nil {
					return err
				}
			}
			return tx.InsertAudit(ctx, account.AuditEvent{ID: "ev99", OrgID: "org-b", Action: "x", TargetType: "x", TargetID: "x", CreatedAt: t0})
		})
		newestFirst := func(es []account.AuditEvent) []account.AuditEvent {
			es = slices.Clone(es)
			slices.Reverse(es)
			return es
		}
		read(t, db, func(tx account.Tx) error {
			all, err := tx.FindAudit(ctx, account.AuditFilter{OrgID: "org-a"})
			if d := cmp.Diff(newestFirst(orgEvents), all); d != "" {
				t.Errorf("FindAudit (-want +got):\n%s", d)
			}
			if all[len(all)-1].Before != nil || all[0].After != nil {
				t.Errorf("nil JSON did not round-trip as nil")
			}
			var paged []account.AuditEvent
			before := ""
			for range 10 {
				page, err := tx.FindAudit(ctx, account.AuditFilter{OrgID: "org-a", Before: before, Limit: 3})
				if err != nil {
					return err
				}
				paged = append(paged, page...)
				if len(page) < 3 {
					break
				}
				before = page[len(page)-1].ID
			}
			if d := cmp.Diff(newestFirst(orgEvents), paged); d != "" {
				t.Errorf("paged FindAudit (-want +got):\n%s", d)
			}
			plat, err2 := tx.FindAudit(ctx, account.AuditFilter{Limit: 2})
			if d := cmp.Diff(newestFirst(platform)[:2], plat, equate); d != "" {
				t.Errorf("platform FindAudit (-want +got):\n%s", d)
			}
			for org, want := range map[string]int{"org-a": 7, "": 3, "org-b": 1, "org-c": 0} {
				n, err := tx.CountAudit(ctx, org)
				if err != nil {
					return err
				}
				if n != want {
					t.Errorf("CountAudit(%q) = %d, want %d", org, n, want)
				}
			}
			return errors.Join(err, err2)
		})
	})
}

func TestWriteRollsBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		boom := errors.New("boom")
		err := db.Write(ctx, func(tx account.Tx) error {
			if err := tx.CreateAccount(ctx, newAccount("acc-1", "one@example.com")); err != nil {
				return err
			}
			if err := tx.CreateOrganization(ctx, newOrg("org-1", "One", "one", account.KindOrganization, "")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Write = %v, want boom", err)
		}
		func() {
			defer func() {
				if p := recover(); p != "kaboom" {
					t.Errorf("recovered %v, want the panic to propagate", p)
				}
			}()
			db.Write(ctx, func(tx account.Tx) error {
				if err := tx.CreateAccount(ctx, newAccount("acc-2", "two@example.com")); err != nil {
					return err
				}
				panic("kaboom")
			})
		}()
		read(t, db, func(tx account.Tx) error {
			for _, id := range []string{"acc-1", "acc-2"} {
				_, err := tx.AccountByID(ctx, id)
				wantCode(t, err, account.ENOTFOUND)
			}
			_, err := tx.OrganizationByRef(ctx, "org-1")
			wantCode(t, err, account.ENOTFOUND)
			return nil
		})
		// The writer is usable afterwards, and a nil error commits.
		createAccounts(t, db, newAccount("acc-1", "one@example.com"))
		read(t, db, func(tx account.Tx) error {
			_, err := tx.AccountByID(ctx, "acc-1")
			return err
		})
	})
}

// checkFilters lists orgID's members with each filter, in pages of several sizes, and
// compares them with the members of the seed that match it.
func checkFilters(t *testing.T, db *sqlstore.DB, members []account.Member, matches func(account.Member, account.MemberFilter) bool,
	orgID string, filters []account.MemberFilter) {
	t.Helper()
	for _, f := range filters {
		f.OrgID = orgID
		want := []account.Member{}
		for _, m := range members {
			if matches(m, f) {
				want = append(want, m)
			}
		}
		for _, limit := range []int{0, 1, 4, 30} {
			got := listAll(t, db, f, limit, len(want))
			if d := cmp.Diff(want, got, equate); d != "" {
				t.Errorf("filter %+v, limit %d (-want +got):\n%s", f, limit, d)
			}
		}
	}
}
