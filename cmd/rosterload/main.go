// Command rosterload is Roster's soak test: a bounded, mixed load against a running
// `roster serve` (logins, member listing, invitations, seat changes and entitlement
// checks) for a set time, then a report of each operation's count, errors and
// p50/p99, and of the server's memory sampled from its /metrics.
//
//	roster serve --log-level warn &
//	rosterload -base http://127.0.0.1:8080 -duration 10m
//
// With -mix writers it runs the writers workload instead: -workers (default 16)
// concurrent writers of every kind into one organization (bulk invitations, adds,
// bulk seat changes of two applications, small CSV imports waited for, SCIM users
// added to a group), through every server of a comma-separated -base in turn, then
// checks through the API that no seat was oversold and that the counts are exactly
// what was written:
//
//	rosterload -mix writers -base http://127.0.0.1:8081,http://127.0.0.1:8082 -duration 60s
//
// With -mix check it drives GET /api/v1/check alone, from -workers (default 32)
// connections, on each server of -base (name=URL, comma-separated) and a bare
// handler (-bare, served by -mix bare-server) in turn, -rounds turns of -duration
// each, and reports each one's throughput as a share of the bare handler's; the
// database is seeded beforehand with -mix check-seed (check.go).
//
// It needs an operator's credentials (ROSTER_BOOTSTRAP_EMAIL and
// ROSTER_BOOTSTRAP_PASSWORD, or -email and -password) and seeds an organization of
// its own. It exits 1 when any request failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"roster.dev/roster/internal/soak"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "rosterload:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rosterload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg soak.Config
	mix := fs.String("mix", "soak", "the load: soak (the mixed soak), writers (concurrent writers into one organization), check (GET /api/v1/check beside a bare handler), check-seed or bare-server")
	fs.StringVar(&cfg.BaseURL, "base", "http://127.0.0.1:8080", "the Roster server to load; with -mix writers, several separated by commas, taken in turn")
	fs.StringVar(&cfg.OperatorEmail, "email", getenv("ROSTER_BOOTSTRAP_EMAIL"), "an operator's email (env ROSTER_BOOTSTRAP_EMAIL)")
	fs.StringVar(&cfg.OperatorPassword, "password", getenv("ROSTER_BOOTSTRAP_PASSWORD"), "the operator's password (env ROSTER_BOOTSTRAP_PASSWORD)")
	fs.StringVar(&cfg.MetricsToken, "metrics-token", getenv("ROSTER_METRICS_TOKEN"), "the server's --metrics-token, if any (env ROSTER_METRICS_TOKEN)")
	fs.DurationVar(&cfg.Duration, "duration", time.Minute, "how long the load runs, after seeding")
	fs.IntVar(&cfg.Workers, "workers", 0, "concurrent clients (default 8; with -mix writers 16)")
	fs.IntVar(&cfg.Members, "members", 100, "members seeded; the subscription's quota is half of them")
	fs.DurationVar(&cfg.LoginEvery, "login-every", 2500*time.Millisecond, "one login (and logout) per this, across workers")
	fs.DurationVar(&cfg.InviteEvery, "invite-every", 250*time.Millisecond, "one invitation (and its cancellation) per this, across workers")
	fs.DurationVar(&cfg.SampleEvery, "sample-every", 0, "period of the memory samples (default a tenth of -duration)")
	database := fs.String("database", "", "with -mix check-seed: the database to seed, before any server runs on it")
	seats := fs.Int("seats", 100000, "with -mix check-seed and check: the seats seeded and checked")
	addr := fs.String("addr", "127.0.0.1:9090", "with -mix bare-server: the address it listens on")
	bare := fs.String("bare", "", "with -mix check: the bare handler's base URL (rosterload -mix bare-server)")
	rounds := fs.Int("rounds", 4, "with -mix check: turns on each server, taken in turn, of -duration each")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch *mix {
	case "check-seed":
		return seedChecks(ctx, *database, *seats, stderr)
	case "bare-server":
		return serveBare(ctx, *addr)
	}
	if cfg.OperatorEmail == "" || cfg.OperatorPassword == "" {
		return errors.New("give an operator's -email and -password (or ROSTER_BOOTSTRAP_EMAIL and ROSTER_BOOTSTRAP_PASSWORD)")
	}
	if cfg.Duration <= 0 {
		return errors.New("-duration must be positive")
	}
	bases := strings.Split(cfg.BaseURL, ",")
	switch *mix {
	case "writers":
		return runWriters(ctx, cfg, bases, stdout, stderr)
	case "check":
		cc := checkConfig{email: cfg.OperatorEmail, password: cfg.OperatorPassword, seats: *seats, workers: cfg.Workers,
			rounds: *rounds, duration: cfg.Duration}
		if cc.workers <= 0 {
			cc.workers = 32
		}
		for _, b := range bases {
			name, url, ok := strings.Cut(b, "=")
			if !ok {
				name, url = "roster", b
			}
			cc.targets = append(cc.targets, &checkTarget{name: name, base: url})
		}
		if *bare != "" {
			cc.targets = append([]*checkTarget{{name: "bare", base: *bare, bare: true}}, cc.targets...)
		}
		return runChecks(ctx, cc, stdout, stderr)
	case "soak":
	default:
		return fmt.Errorf("-mix %q: want soak, writers, check, check-seed or bare-server", *mix)
	}
	if len(bases) != 1 {
		return errors.New("-mix soak loads one server: give one -base")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	fmt.Fprintf(stderr, "rosterload: seeding %d members on %s, then %s of load with %d workers\n",
		cfg.Members, cfg.BaseURL, cfg.Duration, cfg.Workers)
	rep, err := soak.Run(ctx, cfg)
	if err != nil {
		return err
	}
	rep.Write(stdout)
	if n := rep.TotalErrors(); n > 0 {
		return fmt.Errorf("%d requests failed", n)
	}
	return nil
}

// runWriters runs the writers workload and fails on any 5xx, failed operation or
// broken invariant.
func runWriters(ctx context.Context, cfg soak.Config, bases []string, stdout, stderr io.Writer) error {
	wc := soak.WritersConfig{BaseURLs: bases, OperatorEmail: cfg.OperatorEmail, OperatorPassword: cfg.OperatorPassword,
		Duration: cfg.Duration, Workers: cfg.Workers, MetricsToken: cfg.MetricsToken}
	if wc.Workers <= 0 {
		wc.Workers = 16
	}
	fmt.Fprintf(stderr, "rosterload: seeding an organization on %s, then %s of %d writers\n", strings.Join(bases, ", "), cfg.Duration, wc.Workers)
	rep, err := soak.RunWriters(ctx, wc)
	if err != nil {
		return err
	}
	rep.Write(stdout)
	if n, f, b := rep.FiveXX(), rep.Failed(), rep.Broken(); n > 0 || f > 0 || len(b) > 0 {
		return fmt.Errorf("%d answers were 5xx, %d operations failed, %d invariants broken", n, f, len(b))
	}
	return nil
}
