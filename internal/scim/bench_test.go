package scim_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// seedSCIM fills organization orgID with n members provisioned by SCIM: member i has
// userName "user<i>" (no address: its account's email is user<i>@example.com), a
// work email, externalId "ext-<i>", family name "Name<i>" and department "Dept<i%50>".
func seedSCIM(b *testing.B, db *sqlstore.DB, orgID string, n int) {
	b.Helper()
	ctx := context.Background()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	const batch = 2000
	for start := 0; start < n; start += batch {
		err := db.Write(ctx, func(tx account.Tx) error {
			var as []account.Account
			var ms []account.Membership
			for i := start; i < min(start+batch, n); i++ {
				id := fmt.Sprintf("acct%022d", i)
				as = append(as, account.Account{ID: id, Email: fmt.Sprintf("user%d@example.com", i), FirstName: "First",
					LastName: fmt.Sprintf("Name%d", i), State: account.AccountActive, CreatedAt: now, UpdatedAt: now})
				ms = append(ms, account.Membership{OrgID: orgID, AccountID: id, RoleID: account.RoleMember,
					State: account.MemberActive, CreatedAt: now, UpdatedAt: now})
			}
			if err := tx.CreateAccounts(ctx, as); err != nil {
				return err
			}
			if err := tx.CreateMemberships(ctx, ms, as); err != nil {
				return err
			}
			for i, a := range as {
				n := start + i
				if err := tx.PutSCIMUser(ctx, account.SCIMUserData{OrgID: orgID, AccountID: a.ID,
					UserName: fmt.Sprintf("user%d", n), ExternalID: fmt.Sprintf("ext-%d", n),
					Emails:     []account.SCIMValue{{Value: a.Email, Type: "work", Primary: true}},
					Department: fmt.Sprintf("Dept%d", n%50), UpdatedAt: now}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSCIMUsers measures GET /Users through the whole server (HTTP, the SCIM
// token, the use case, the store) in an organization of ROSTER_BENCH_MEMBERS members
// (default 100,000), on each engine: a userName eq filter (what an identity provider
// sends before creating a user), the first page of 100, a page of 100 in the middle,
// and a filter that reads every member (department, no index).
func BenchmarkSCIMUsers(b *testing.B) {
	n := 100_000
	if v := os.Getenv("ROSTER_BENCH_MEMBERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 10 {
			b.Fatalf("ROSTER_BENCH_MEMBERS=%q: want a number of at least 10", v)
		}
	}
	for _, engine := range storetest.Engines(b) {
		b.Run(string(engine), func(b *testing.B) {
			e := newEnv(b, storetest.Open(b, engine))
			tok := e.org("big")
			orgID := e.must(200, e.op, "GET", "/api/v1/organizations/big", nil)["id"].(string)
			start := time.Now()
			seedSCIM(b, e.db, orgID, n)
			if err := e.db.Analyze(context.Background()); err != nil { // as autovacuum would after the load
				b.Fatal(err)
			}
			b.Logf("%s: seeded %d members in %s", engine, n, time.Since(start).Round(time.Second))
			path := "/scim/v2/organizations/big/Users"
			for _, c := range []struct {
				name, query string
				want        int
			}{
				{"filter-userName", "filter=" + url.QueryEscape(fmt.Sprintf(`userName eq "user%d"`, n/2)), 1},
				{"page-first-100", "startIndex=1&count=100", 100},
				{"page-middle-100", "startIndex=" + strconv.Itoa(n/2+1) + "&count=100", 100},
				{"filter-department-100", "count=100&filter=" + url.QueryEscape(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "dept7"`), min(100, n/50)},
			} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						r := e.call(tok, "GET", path+"?"+c.query, nil)
						if r.Status != 200 || len(r.Body["Resources"].([]any)) != c.want {
							b.Fatalf("%s = %d, %d resources\n%.500s", c.query, r.Status, len(r.Body["Resources"].([]any)), r.Raw)
						}
					}
				})
			}
		})
	}
}
