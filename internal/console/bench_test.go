package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// BenchmarkConsolePages measures the server time of every console page (the
// handler alone, through the whole middleware, without the network) in an
// organization of ROSTER_BENCH_MEMBERS members (default 100,000), on each engine.
// Target: under 50 ms per page. Each sub-benchmark reports its mean (ns/op) and
// its p99 in ms.
//
//	go test -run '^$' -bench ConsolePages -benchtime 50x ./internal/console/
func BenchmarkConsolePages(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("ROSTER_BENCH_MEMBERS")); err == nil && v > 0 {
		n = v
	}
	for _, engine := range storetest.Engines(b) {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.Open(b, engine)
			s := newBenchEnv(b, db)
			paths := seedBig(b, s, n)
			cookie := benchLogin(b, s)
			for _, path := range paths {
				name := strings.NewReplacer("/", "_", "?", "_", "=", "-", "&", "_").Replace(strings.TrimPrefix(path, "/o/big/"))
				b.Run(name, func(b *testing.B) {
					durations := make([]time.Duration, 0, b.N)
					for b.Loop() {
						req := httptest.NewRequest(http.MethodGet, path, nil)
						req.AddCookie(cookie)
						rec := httptest.NewRecorder()
						start := time.Now()
						s.handler.ServeHTTP(rec, req)
						durations = append(durations, time.Since(start))
						if rec.Code != http.StatusOK {
							b.Fatalf("%s: %d\n%s", path, rec.Code, rec.Body.String()[:min(500, rec.Body.Len())])
						}
					}
					slices.Sort(durations)
					b.ReportMetric(float64(durations[len(durations)*99/100].Microseconds())/1000, "p99-ms")
				})
			}
		})
	}
}

// seedBig creates organization "big" with n members (a tenth of them in a team,
// a hundredth holding seats, a few invited), an admin, and returns the paths of
// the pages to measure.
func seedBig(b *testing.B, s *benchEnv, n int) []string {
	ctx := context.Background()
	op := s.op
	if _, err := s.svc.CreateOrganization(ctx, op, account.CreateOrganizationInput{Name: "Big Co", Slug: "big", Kind: account.KindOrganization}); err != nil {
		b.Fatal(err)
	}
	if _, err := s.svc.CreateApplication(ctx, op, account.ApplicationInput{Key: "studio", Name: "Studio"}); err != nil {
		b.Fatal(err)
	}
	seats := n
	now := time.Now()
	_, sub, err := s.svc.CreateSubscription(ctx, op, "big", account.SubscriptionInput{Application: "studio", Seats: &seats,
		StartsAt: now.AddDate(0, -1, 0), EndsAt: now.AddDate(0, 0, 20)})
	if err != nil {
		b.Fatal(err)
	}
	no := false
	admin, err := s.svc.AddMember(ctx, op, "big", account.AddMemberInput{Email: "admin@big.test", FirstName: "Ada", LastName: "Admin",
		Role: "owner", SendInvite: &no, Password: pass})
	if err != nil {
		b.Fatal(err)
	}
	ada := s.actorOf(b, "admin@big.test")
	team, err := s.svc.CreateTeam(ctx, ada, "big", "Sales")
	if err != nil {
		b.Fatal(err)
	}
	org, err := s.svc.FindOrganization(ctx, op, "big")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	stamp := now.UTC().Truncate(time.Microsecond)
	const chunk = 2000
	for lo := 0; lo < n; lo += chunk {
		hi := min(n, lo+chunk)
		accts := make([]account.Account, 0, hi-lo)
		ms := make([]account.Membership, 0, hi-lo)
		var tms []account.TeamMember
		for i := lo; i < hi; i++ {
			id := fmt.Sprintf("big%023d", i)
			accts = append(accts, account.Account{ID: id, Email: fmt.Sprintf("person%06d@big.test", i),
				FirstName: "Person", LastName: fmt.Sprintf("Number %d", i), State: account.AccountActive, CreatedAt: stamp, UpdatedAt: stamp})
			ms = append(ms, account.Membership{OrgID: org.ID, AccountID: id, RoleID: account.RoleMember,
				State: account.MemberActive, CreatedAt: stamp, UpdatedAt: stamp})
			if i%10 == 0 {
				tms = append(tms, account.TeamMember{TeamID: team.ID, AccountID: id})
			}
		}
		err := s.db.Write(ctx, func(tx account.Tx) error {
			if err := tx.CreateAccounts(ctx, accts); err != nil {
				return err
			}
			if err := tx.CreateMemberships(ctx, ms, accts); err != nil {
				return err
			}
			return tx.AddTeamMembers(ctx, org.ID, tms)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	var assign []string
	for i := 0; i < n; i += 100 {
		assign = append(assign, fmt.Sprintf("big%023d", i))
	}
	for lo := 0; lo < len(assign); lo += 500 {
		if _, _, err := s.svc.UpdateSeats(ctx, op, "big", sub.ID, account.SeatChanges{Assign: assign[lo:min(len(assign), lo+500)]}); err != nil {
			b.Fatal(err)
		}
	}
	yes := true
	for i := range 20 {
		if _, err := s.svc.AddMember(ctx, ada, "big", account.AddMemberInput{Email: fmt.Sprintf("new%d@big.test", i), FirstName: "New",
			LastName: "Person", SendInvite: &yes}); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.db.Analyze(ctx); err != nil { // as autovacuum would after a bulk load
		b.Fatal(err)
	}
	b.Logf("seeded %d members on %s in %s", n, s.db.Engine(), time.Since(start).Round(time.Millisecond))
	page1, err := s.svc.FindMembers(ctx, ada, "big", account.MemberQuery{Limit: 50})
	if err != nil {
		b.Fatal(err)
	}
	mid := fmt.Sprintf("big%023d", n/2)
	return []string{
		"/o/big/users",
		"/o/big/users?cursor=" + url.QueryEscape(page1.NextCursor),
		"/o/big/users?q=" + url.QueryEscape(fmt.Sprintf("person%06d", n/3)),
		"/o/big/users?q=number",
		"/o/big/users?team=Sales",
		"/o/big/users?state=invited",
		"/o/big/users?subscription=" + sub.ID,
		"/o/big/users/" + mid,
		"/o/big/users/" + admin.AccountID + "?confirm=remove",
		"/o/big/users/new",
		"/o/big/invite",
		"/o/big/invitations",
		"/o/big/join-requests",
		"/o/big/roles",
		"/o/big/teams",
		"/o/big/subscriptions",
		"/o/big/import",
		"/o/big/audit",
		"/o/big/settings",
		"/me",
	}
}

// benchEnv is the server of the benchmark (no SMTP: the outbox is not delivered).
type benchEnv struct{ *testServer }

func newBenchEnv(b *testing.B, db *sqlstore.DB) *benchEnv {
	return &benchEnv{newTestServer(b, db, "http://roster.test", serverOptions{})}
}

func (e *benchEnv) actorOf(b *testing.B, email string) account.Actor { return e.actor(b, email, pass) }

func benchLogin(b *testing.B, e *benchEnv) *http.Cookie {
	res, err := e.svc.Login(context.Background(), "admin@big.test", pass, "127.0.0.1", "bench")
	if err != nil {
		b.Fatal(err)
	}
	return &http.Cookie{Name: "roster_session", Value: res.Token}
}
