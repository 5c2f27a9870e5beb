package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// seedMembers fills one organization with n members: every 10th in team "Ops", every
// 20th an admin, every 7th deactivated, every 3rd holding a seat of application
// "studio" (subscription benchSubscription); member i's last name is "Name<i>".
func seedMembers(tb testing.TB, db *sqlstore.DB, n int) (orgID string) {
	tb.Helper()
	ctx := context.Background()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	orgID = "org0000000000000000000000a"
	teamID := "team000000000000000000000a"
	err := db.Write(ctx, func(tx account.Tx) error {
		if err := tx.CreateOrganization(ctx, account.Organization{ID: orgID, Kind: account.KindOrganization,
			Name: "Big", Slug: "big", CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		if err := tx.CreateTeam(ctx, account.Team{ID: teamID, OrgID: orgID, Name: "Ops", CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		if err := tx.CreateApplication(ctx, account.Application{ID: benchApplication, Key: "studio", Name: "Studio",
			CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return tx.CreateSubscription(ctx, account.Subscription{ID: benchSubscription, OrgID: orgID,
			ApplicationID: benchApplication, Seats: n, StartsAt: now, EndsAt: now.AddDate(1, 0, 0), CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		tb.Fatal(err)
	}
	const batch = 5000
	for start := 0; start < n; start += batch {
		err := db.Write(ctx, func(tx account.Tx) error {
			for i := start; i < min(start+batch, n); i++ {
				id := fmt.Sprintf("acct%022d", i)
				a := account.Account{ID: id, Email: fmt.Sprintf("user%d@example.com", i), FirstName: "First",
					LastName: fmt.Sprintf("Name%d", i), State: account.AccountActive, CreatedAt: now, UpdatedAt: now}
				if err := tx.CreateAccount(ctx, a); err != nil {
					return err
				}
				m := account.Membership{OrgID: orgID, AccountID: id, RoleID: account.RoleMember,
					State: account.MemberActive, CreatedAt: now, UpdatedAt: now}
				if i%20 == 0 {
					m.RoleID = account.RoleAdmin
				}
				if i%7 == 0 {
					m.State = account.MemberDeactivated
				}
				if err := tx.CreateMembership(ctx, m); err != nil {
					return err
				}
				if i%10 == 0 {
					if err := tx.SetMemberTeams(ctx, orgID, id, []string{teamID}); err != nil {
						return err
					}
				}
				if i%3 == 0 {
					if _, err := tx.AssignSeat(ctx, orgID, benchSubscription, id, now); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return orgID
}

// The application and subscription of seedMembers.
const (
	benchApplication  = "app0000000000000000000000a"
	benchSubscription = "sub0000000000000000000000a"
)

// benchMembers is the organization size of BenchmarkFindMembers: 100,000, or
// ROSTER_BENCH_MEMBERS (CI runs the benchmark once on a small organization).
func benchMembers(b *testing.B) int {
	if v := os.Getenv("ROSTER_BENCH_MEMBERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			b.Fatalf("ROSTER_BENCH_MEMBERS=%q: want a number >= 100", v)
		}
		return n
	}
	return 100_000
}

// BenchmarkFindMembers lists pages of 50 of one organization's members with each
// filter, as the member list does: "first" is a first page with its total counted;
// "later" is a page from the middle of the list, whose total the cursor carries.
func BenchmarkFindMembers(b *testing.B) {
	n := benchMembers(b)
	for _, engine := range storetest.Engines(b) {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.Open(b, engine)
			orgID := seedMembers(b, db, n)
			ctx := context.Background()
			if engine == sqlstore.Postgres { // as autovacuum would after the bulk load
				if err := db.Analyze(ctx); err != nil {
					b.Fatal(err)
				}
			}
			middle := fmt.Sprintf("acct%022d", n/2)
			cases := []struct {
				name string
				f    account.MemberFilter
			}{
				{"none", account.MemberFilter{}},
				{"q-common", account.MemberFilter{Q: "name1"}},
				{"q-rare", account.MemberFilter{Q: fmt.Sprintf("name%d", n-1)}},
				{"q-none", account.MemberFilter{Q: "nobody"}},
				{"role", account.MemberFilter{RoleID: account.RoleAdmin}},
				{"state", account.MemberFilter{State: account.MemberDeactivated}},
				{"team", account.MemberFilter{TeamName: "ops"}},
				{"team-role", account.MemberFilter{TeamName: "OPS", RoleID: account.RoleAdmin}},
				{"subscription", account.MemberFilter{SubscriptionID: benchSubscription}},
				{"subscription-team", account.MemberFilter{SubscriptionID: benchSubscription, TeamName: "ops"}},
				{"application", account.MemberFilter{ApplicationID: benchApplication}},
				{"application-q", account.MemberFilter{ApplicationID: benchApplication, Q: "name1"}},
			}
			for _, c := range cases {
				for _, page := range []string{"first", "later"} {
					b.Run(c.name+"/"+page, func(b *testing.B) {
						f := c.f
						f.OrgID, f.Limit = orgID, 51
						if page == "later" {
							f.After, f.SkipTotal = middle, true
						}
						for b.Loop() {
							err := db.Read(ctx, func(tx account.Tx) error {
								_, _, err := tx.FindMembers(ctx, f)
								return err
							})
							if err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			}
		})
	}
}
