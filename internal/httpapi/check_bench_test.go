package httpapi_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/app"
	"roster.dev/roster/internal/config"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// seedCheckLoad fills db with orgs organizations of perOrg members each, every member
// holding a seat of the organization's one subscription of "studio"; it returns the
// organization ids, the account ids by organization and an application key.
func seedCheckLoad(b *testing.B, db *sqlstore.DB, svc *account.Service, orgs, perOrg int) (orgIDs []string, accounts [][]string, key string) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	appID := "app00000000000000000000000"
	err := db.Write(ctx, func(tx account.Tx) error {
		return tx.CreateApplication(ctx, account.Application{ID: appID, Key: "studio", Name: "Studio", CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		b.Fatal(err)
	}
	for o := range orgs {
		orgID, subID := fmt.Sprintf("org%023d", o), fmt.Sprintf("sub%023d", o)
		ids := make([]string, perOrg)
		err := db.Write(ctx, func(tx account.Tx) error {
			if err := tx.CreateOrganization(ctx, account.Organization{ID: orgID, Kind: account.KindOrganization, Name: "Org " + strconv.Itoa(o),
				Slug: "org-" + strconv.Itoa(o), InvitationTTLHours: 168, EndingSoonDays: 30, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			if err := tx.CreateSubscription(ctx, account.Subscription{ID: subID, OrgID: orgID, ApplicationID: appID, Seats: perOrg,
				StartsAt: now.Add(-time.Hour), EndsAt: now.Add(365 * 24 * time.Hour), CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			for i := range perOrg {
				id := fmt.Sprintf("acc%08d%015d", o, i)
				ids[i] = id
				if err := tx.CreateAccount(ctx, account.Account{ID: id, Email: id + "@load.test", FirstName: "L", LastName: "T",
					State: account.AccountActive, CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
				if err := tx.CreateMembership(ctx, account.Membership{OrgID: orgID, AccountID: id, RoleID: account.RoleMember,
					State: account.MemberActive, CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
				if _, err := tx.AssignSeat(ctx, orgID, subID, id, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		orgIDs, accounts = append(orgIDs, orgID), append(accounts, ids)
	}
	// An operator to issue the key, through the use case (only the hash is stored).
	if _, _, err := svc.Bootstrap(ctx, "op@load.test", "correct horse battery"); err != nil {
		b.Fatal(err)
	}
	res, err := svc.Login(ctx, "op@load.test", "correct horse battery", "", "")
	if err != nil {
		b.Fatal(err)
	}
	_, key, err = svc.CreateApplicationKey(ctx, account.Actor{Account: res.Account}, "studio", "load")
	if err != nil {
		b.Fatal(err)
	}
	return orgIDs, accounts, key
}

// warm checks every account of every organization once through svc, from 4
// goroutines, so that its memory holds them all.
func warm(b *testing.B, svc *account.Service, key string, orgIDs []string, accounts [][]string) {
	ctx := context.Background()
	app, err := svc.AuthenticateApplication(ctx, key)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 4 {
		wg.Go(func() {
			for o := int(next.Add(1)) - 1; o < len(orgIDs); o = int(next.Add(1)) - 1 {
				for _, a := range accounts[o] {
					if _, _, err := svc.Check(ctx, app, orgIDs[o], a, ""); err != nil {
						b.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	b.Logf("checked every account once in %s", time.Since(t0).Round(time.Second))
}

// loadRun is the latencies of the requests of one or more load runs, and how long
// they took.
type loadRun struct {
	lat     []time.Duration
	elapsed time.Duration
	errors  int64
}

func (l *loadRun) add(o loadRun) {
	l.lat, l.elapsed, l.errors = append(l.lat, o.lat...), l.elapsed+o.elapsed, l.errors+o.errors
}

// loadResult is requests per second and latency percentiles.
type loadResult struct {
	rps      float64
	p50, p99 time.Duration
	errors   int64
}

func (l loadRun) result() loadResult {
	slices.Sort(l.lat)
	return loadResult{rps: float64(len(l.lat)) / l.elapsed.Seconds(), p50: l.lat[len(l.lat)/2],
		p99: l.lat[len(l.lat)*99/100], errors: l.errors}
}

// drive sends requests from conns goroutines, each with its own keep-alive
// connection, for d; url(i) is the i-th request's URL.
func drive(b *testing.B, conns int, d time.Duration, token string, url func(worker, i int) string) loadRun {
	var wg sync.WaitGroup
	var errs atomic.Int64
	lat := make([][]time.Duration, conns)
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			for i := 0; time.Now().Before(deadline); i++ {
				req, _ := http.NewRequest("GET", url(w, i), nil)
				req.Header.Set("Authorization", "Bearer "+token)
				t0 := time.Now()
				res, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil || res.StatusCode != 200 {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return loadRun{lat: slices.Concat(lat...), elapsed: time.Since(start), errors: errs.Load()}
}

// BenchmarkCheckLoad drives GET /api/v1/check over loopback HTTP with 32 concurrent
// connections against a store of ROSTER_BENCH_CHECK_ORGS organizations (default
// 10,000) of ROSTER_BENCH_CHECK_MEMBERS members (default 100) each holding a seat —
// 1,000,000 accounts, memberships and seats — and, in the same run, a bare net/http
// handler answering a constant JSON body. Roster runs twice on the same store: as
// roster serve does, holding the cache lease (answers from memory once read), and
// with no cache (every check reads the store); the cached one after every account
// was checked once, as on a server that has run a while. It reports each throughput, the
// ratio to the bare handler's, and p50 and p99. The bare handler and the cached
// Roster take turns, five of ROSTER_BENCH_SECONDS/5 each (default 10 s in all), so
// that the machine's other work weighs on both alike. Run it with -benchtime 1x.
func BenchmarkCheckLoad(b *testing.B) {
	orgs := envInt(b, "ROSTER_BENCH_CHECK_ORGS", 10_000)
	perOrg := envInt(b, "ROSTER_BENCH_CHECK_MEMBERS", 100)
	seconds := envInt(b, "ROSTER_BENCH_SECONDS", 10)
	const conns = 32
	for _, engine := range storetest.Engines(b) {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.Open(b, engine)
			// Two processes' worth of Roster over db: one keeps entitlement facts in memory
			// (and holds the cache lease), the other reads the store for every check.
			newApp := func(cacheEntries int) *app.App {
				a, err := app.New(context.Background(), app.Options{
					Config: config.Config{BaseURL: "http://roster.test", CheckCache: cacheEntries}, DB: db, NoConsole: true,
					Hasher: password.NewHasher(password.TestParams, 2, rand.Reader), Work: []app.Work{app.CacheLease},
				})
				if err != nil {
					b.Fatal(err)
				}
				return a
			}
			cachedApp, uncachedApp := newApp(account.DefaultCheckCacheEntries), newApp(0)
			svc := cachedApp.Service
			t0 := time.Now()
			orgIDs, accounts, key := seedCheckLoad(b, db, svc, orgs, perOrg)
			b.Logf("%s: seeded %d organizations, %d accounts with seats in %s", engine, orgs, orgs*perOrg, time.Since(t0).Round(time.Second))
			if err := db.Analyze(context.Background()); err != nil { // as the engine would in the minutes after the load
				b.Fatal(err)
			}
			ctx, stopLease := context.WithCancel(context.Background())
			cachedApp.Start(ctx)
			defer func() { stopLease(); cachedApp.Stop(context.Background()) }()
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if _, ok := db.CacheEpoch(); ok {
					break
				}
				if time.Now().After(deadline) {
					b.Fatal("the cache lease was not taken")
				}
			}
			server := func(a *app.App) *httptest.Server {
				s := httptest.NewServer(a.Handler)
				b.Cleanup(s.Close)
				return s
			}
			cached, uncached := server(cachedApp), server(uncachedApp)
			bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"allowed":true,"reason":"ok"}`)
			}))
			defer bare.Close()
			checks := func(srv *httptest.Server) func(w, i int) string {
				return func(w, i int) string {
					o := (w*7919 + i*104729) % len(orgIDs)
					a := accounts[o][(w+i*31)%len(accounts[o])]
					return srv.URL + "/api/v1/check?organization=" + orgIDs[o] + "&account=" + a
				}
			}
			for b.Loop() {
				// A server that has run a while has read the accounts its applications
				// ask about: every account is checked once first, in process.
				warm(b, svc, key, orgIDs, accounts)
				hits0, misses0 := svc.CheckCacheStats()
				// The bare handler and Roster take turns, so that whatever else the
				// machine does in the meantime weighs on both alike.
				const rounds = 5
				turn := time.Duration(seconds) * time.Second / rounds
				var bareRun, memRun loadRun
				for range rounds {
					bareRun.add(drive(b, conns, turn, key, func(w, i int) string { return bare.URL + "/api/v1/check" }))
					memRun.add(drive(b, conns, turn, key, checks(cached)))
				}
				hits, misses := svc.CheckCacheStats()
				base, mem := bareRun.result(), memRun.result()
				store := drive(b, conns, time.Duration(seconds)*time.Second, key, checks(uncached)).result()
				if mem.errors > 0 || store.errors > 0 || base.errors > 0 {
					b.Errorf("errors: roster %d and %d, bare %d", mem.errors, store.errors, base.errors)
				}
				// Each lapse of the lease retires every answer kept in memory.
				lease := db.CacheLeaseStats()
				b.Logf("cache lease: %+v", lease)
				if !lease.Held || lease.Lapsed > 0 || lease.Revoked > 0 {
					b.Errorf("the cache lease was lost during the run: %+v", lease)
				}
				b.ReportMetric(base.rps, "bare-req/s")
				b.ReportMetric(float64(base.p99.Microseconds())/1000, "bare-p99-ms")
				b.ReportMetric(mem.rps, "roster-req/s")
				b.ReportMetric(mem.rps/base.rps*100, "%-of-bare")
				b.ReportMetric(float64(mem.p50.Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(mem.p99.Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(hits-hits0)/float64(max(1, hits-hits0+misses-misses0))*100, "%-from-memory")
				b.ReportMetric(float64(lease.SlowestRenewal.Microseconds())/1000, "lease-renewal-max-ms")
				b.ReportMetric(store.rps, "nocache-req/s")
				b.ReportMetric(store.rps/base.rps*100, "nocache-%-of-bare")
				b.ReportMetric(float64(store.p50.Microseconds())/1000, "nocache-p50-ms")
				b.ReportMetric(float64(store.p99.Microseconds())/1000, "nocache-p99-ms")
			}
		})
	}
}

// BenchmarkCheckBatch compares one POST /api/v1/check of 100 questions with the 100
// GET /api/v1/check they replace, over loopback HTTP on one keep-alive connection,
// against ROSTER_BENCH_CHECK_ORGS organizations (default 100) of
// ROSTER_BENCH_CHECK_MEMBERS members (default 100) each holding a seat. Both run on
// the same server, taking turns (ten of ROSTER_BENCH_SECONDS/10 each, default 10 s in
// all): "memory" after every account was checked once (the cache lease held), and
// "store" with no cache. It reports questions answered per second each way and the
// batch's speed-up. Run it with -benchtime 1x.
func BenchmarkCheckBatch(b *testing.B) {
	orgs := envInt(b, "ROSTER_BENCH_CHECK_ORGS", 100)
	perOrg := envInt(b, "ROSTER_BENCH_CHECK_MEMBERS", 100)
	seconds := envInt(b, "ROSTER_BENCH_SECONDS", 10)
	for _, engine := range storetest.Engines(b) {
		for _, mode := range []string{"memory", "store"} {
			b.Run(string(engine)+"/"+mode, func(b *testing.B) {
				db := storetest.Open(b, engine)
				entries, work := account.DefaultCheckCacheEntries, []app.Work{app.CacheLease}
				if mode == "store" {
					entries, work = 0, nil
				}
				a, err := app.New(context.Background(), app.Options{
					Config: config.Config{BaseURL: "http://roster.test", CheckCache: entries}, DB: db, NoConsole: true,
					Hasher: password.NewHasher(password.TestParams, 2, rand.Reader), Work: work,
				})
				if err != nil {
					b.Fatal(err)
				}
				orgIDs, accounts, key := seedCheckLoad(b, db, a.Service, orgs, perOrg)
				if err := db.Analyze(context.Background()); err != nil {
					b.Fatal(err)
				}
				ctx, stop := context.WithCancel(context.Background())
				a.Start(ctx)
				defer func() { stop(); a.Stop(context.Background()) }()
				if mode == "memory" {
					for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
						if _, ok := db.CacheEpoch(); ok {
							break
						}
						if time.Now().After(deadline) {
							b.Fatal("the cache lease was not taken")
						}
					}
					warm(b, a.Service, key, orgIDs, accounts)
				}
				srv := httptest.NewServer(a.Handler)
				defer srv.Close()
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
				defer client.CloseIdleConnections()
				do := func(req *http.Request) {
					req.Header.Set("Authorization", "Bearer "+key)
					res, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						b.Fatalf("%s %s: %d", req.Method, req.URL.Path, res.StatusCode)
					}
				}
				question := func(n int) (org, acct string) {
					o := (n * 7919) % len(orgIDs)
					return orgIDs[o], accounts[o][(n*31)%len(accounts[o])]
				}
				singles := func(n int) {
					for i := range 100 {
						org, acct := question(n*100 + i)
						req, _ := http.NewRequest("GET", srv.URL+"/api/v1/check?organization="+org+"&account="+acct, nil)
						do(req)
					}
				}
				batch := func(n int) {
					var body strings.Builder
					body.WriteString(`{"items":[`)
					for i := range 100 {
						org, acct := question(n*100 + i)
						if i > 0 {
							body.WriteByte(',')
						}
						fmt.Fprintf(&body, `{"organization":%q,"account":%q}`, org, acct)
					}
					body.WriteString(`]}`)
					req, _ := http.NewRequest("POST", srv.URL+"/api/v1/check", strings.NewReader(body.String()))
					req.Header.Set("Content-Type", "application/json")
					do(req)
				}
				for b.Loop() {
					const rounds = 10
					turn := time.Duration(seconds) * time.Second / (2 * rounds)
					var singleQ, batchQ int
					var singleT, batchT time.Duration
					n := 0
					for range rounds {
						for _, way := range []struct {
							run func(int)
							q   *int
							t   *time.Duration
						}{{singles, &singleQ, &singleT}, {batch, &batchQ, &batchT}} {
							t0 := time.Now()
							for time.Since(t0) < turn {
								way.run(n)
								n++
								*way.q += 100
							}
							*way.t += time.Since(t0)
						}
					}
					single, batched := float64(singleQ)/singleT.Seconds(), float64(batchQ)/batchT.Seconds()
					b.ReportMetric(single, "single-questions/s")
					b.ReportMetric(batched, "batch-questions/s")
					b.ReportMetric(batched/single, "batch-speedup-x")
				}
			})
		}
	}
}
