package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
)

// The check workload: GET /api/v1/check driven from this process, as an application
// sees it, against one or more `roster serve` and a bare handler in the same run.
//
//	rosterload -mix check-seed -database sqlite://check.db -seats 100000   # before serve starts
//	rosterload -mix bare-server -addr 127.0.0.1:9090 &
//	rosterload -mix check -base after=http://127.0.0.1:8080 -bare http://127.0.0.1:9090 \
//	    -seats 100000 -workers 32 -duration 10s -rounds 4

// checkPerOrg is how many seats each seeded organization holds.
const checkPerOrg = 1000

func checkOrgID(o int) string        { return fmt.Sprintf("org%023d", o) }
func checkAccountID(o, i int) string { return fmt.Sprintf("acc%08d%015d", o, i) }

// seedChecks writes, straight into a database no server runs on yet, seats
// organizations of checkPerOrg active members each holding a seat of the
// organization's subscription of the application "studio".
func seedChecks(ctx context.Context, dbURL string, seats int, stderr io.Writer) error {
	db, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	appID := "app00000000000000000000000"
	if err := db.Write(ctx, func(tx account.Tx) error {
		return tx.CreateApplication(ctx, account.Application{ID: appID, Key: "studio", Name: "Studio", CreatedAt: now, UpdatedAt: now})
	}); err != nil {
		return err
	}
	orgs := (seats + checkPerOrg - 1) / checkPerOrg
	for o := range orgs {
		orgID, subID := checkOrgID(o), fmt.Sprintf("sub%023d", o)
		err := db.Write(ctx, func(tx account.Tx) error {
			if err := tx.CreateOrganization(ctx, account.Organization{ID: orgID, Kind: account.KindOrganization, Name: fmt.Sprint("Org ", o),
				Slug: fmt.Sprint("org-", o), InvitationTTLHours: 168, EndingSoonDays: 30, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			if err := tx.CreateSubscription(ctx, account.Subscription{ID: subID, OrgID: orgID, ApplicationID: appID, Seats: checkPerOrg,
				StartsAt: now.Add(-time.Hour), EndsAt: now.Add(365 * 24 * time.Hour), CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			for i := range checkPerOrg {
				id := checkAccountID(o, i)
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
			return err
		}
	}
	fmt.Fprintf(stderr, "rosterload: seeded %d organizations of %d seats of studio\n", orgs, checkPerOrg)
	return nil
}

// bareAnswer is what the bare handler answers: a check's allowed answer, byte for byte.
var bareAnswer = []byte(`{"allowed":true,"reason":"ok"}` + "\n")

// serveBare serves the bare handler: GET /api/v1/check answers bareAnswer, nothing
// else is done.
func serveBare(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/check", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bareAnswer)
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// checkTarget is one server the check workload loads.
type checkTarget struct {
	name, base, key string
	bare            bool
	lat             []time.Duration
	elapsed         time.Duration
	errors          int64
}

type checkConfig struct {
	targets                []*checkTarget
	email, password        string
	seats, workers, rounds int
	duration               time.Duration
}

// runChecks warms every Roster target (each seat checked once), then runs rounds
// turns of duration on each target in turn, and reports each target's throughput
// and latency beside the bare handler's.
func runChecks(ctx context.Context, cfg checkConfig, stdout, stderr io.Writer) error {
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: cfg.workers, MaxConnsPerHost: cfg.workers, DisableCompression: true,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}, Timeout: 30 * time.Second}
	orgs := (cfg.seats + checkPerOrg - 1) / checkPerOrg
	for _, t := range cfg.targets {
		if t.bare {
			t.key = "bare"
			continue
		}
		key, err := issueKey(ctx, client, t.base, cfg.email, cfg.password)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		t.key = key
		start := time.Now()
		var next atomic.Int64
		if _, errs := drive(ctx, client, t, cfg.workers, func(int, *rand.Rand) (string, bool) {
			n := int(next.Add(1)) - 1
			if n >= orgs*checkPerOrg {
				return "", false
			}
			return checkPath(n/checkPerOrg, n%checkPerOrg), true
		}); errs > 0 {
			return fmt.Errorf("%s: %d checks failed while warming", t.name, errs)
		}
		fmt.Fprintf(stderr, "rosterload: %s warmed (%d checks) in %s\n", t.name, orgs*checkPerOrg, time.Since(start).Round(time.Millisecond))
	}
	for round := range cfg.rounds {
		for i := range cfg.targets {
			t := cfg.targets[(i+round)%len(cfg.targets)] // each round starts with another target
			deadline := time.Now().Add(cfg.duration)
			start := time.Now()
			lat, errs := drive(ctx, client, t, cfg.workers, func(_ int, rnd *rand.Rand) (string, bool) {
				if time.Now().After(deadline) {
					return "", false
				}
				n := rnd.IntN(orgs * checkPerOrg)
				return checkPath(n/checkPerOrg, n%checkPerOrg), true
			})
			t.elapsed += time.Since(start)
			t.lat = append(t.lat, lat...)
			t.errors += errs
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	var bare float64
	for _, t := range cfg.targets {
		if t.bare {
			bare = float64(len(t.lat)) / t.elapsed.Seconds()
		}
	}
	fmt.Fprintf(stdout, "%-10s %10s %8s %8s %8s %8s %7s\n", "target", "req/s", "of bare", "p50 ms", "p99 ms", "max ms", "errors")
	var failed int64
	for _, t := range cfg.targets {
		slices.Sort(t.lat)
		rate := float64(len(t.lat)) / t.elapsed.Seconds()
		of := "-"
		if bare > 0 {
			of = fmt.Sprintf("%.0f %%", 100*rate/bare)
		}
		fmt.Fprintf(stdout, "%-10s %10.0f %8s %8.2f %8.2f %8.2f %7d\n", t.name, rate, of,
			ms(pct(t.lat, 0.50)), ms(pct(t.lat, 0.99)), ms(pct(t.lat, 1)), t.errors)
		failed += t.errors
	}
	if failed > 0 {
		return fmt.Errorf("%d checks failed", failed)
	}
	return nil
}

func checkPath(o, i int) string {
	return "/api/v1/check?organization=" + checkOrgID(o) + "&account=" + checkAccountID(o, i)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// drive runs workers clients, each sending the checks next gives it until it says
// no more; it returns the latencies of the answers and how many were not 200 with
// an allowed answer.
func drive(ctx context.Context, client *http.Client, t *checkTarget, workers int, next func(w int, rnd *rand.Rand) (string, bool)) ([]time.Duration, int64) {
	var mu sync.Mutex
	var all []time.Duration
	var errs atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			lat := make([]time.Duration, 0, 1<<16)
			buf := make([]byte, 512)
			for ctx.Err() == nil {
				path, ok := next(w, rnd)
				if !ok {
					break
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.base+path, nil)
				req.Header.Set("Authorization", "Bearer "+t.key)
				start := time.Now()
				res, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				n, _ := io.ReadFull(res.Body, buf)
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				lat = append(lat, time.Since(start))
				if res.StatusCode != http.StatusOK || !bytes.Equal(buf[:n], bareAnswer) {
					errs.Add(1)
				}
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return all, errs.Load()
}

// issueKey logs in as the operator and issues a key of studio.
func issueKey(ctx context.Context, client *http.Client, base, email, password string) (string, error) {
	post := func(path, token string, body any, into any) error {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode/100 != 2 {
			return fmt.Errorf("POST %s: %d %s", path, res.StatusCode, strings.TrimSpace(string(raw)))
		}
		return json.Unmarshal(raw, into)
	}
	var login struct{ Token string }
	if err := post("/api/v1/auth/login", "", map[string]string{"email": email, "password": password}, &login); err != nil {
		return "", err
	}
	var key struct{ Key string }
	if err := post("/api/v1/applications/studio/keys", login.Token, map[string]string{"name": "check-load"}, &key); err != nil {
		return "", err
	}
	return key.Key, nil
}
