package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/config"
	"roster.dev/roster/internal/sqlstore"
)

const outboxUsage = `Usage:
  roster outbox list [-state pending|sent|failed] [-limit N]   the newest messages
  roster outbox retry ID…                                      send failed messages again
  roster outbox retry -all                                     send every failed message again
`

// outboxCmd lets an operator see what the outbox holds and retry what failed.
func outboxCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, outboxUsage)
		return errors.New("outbox: missing subcommand")
	}
	switch args[0] {
	case "list":
		return outboxList(ctx, args[1:], getenv, stdout, stderr)
	case "retry":
		return outboxRetry(ctx, args[1:], getenv, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, outboxUsage)
		return flag.ErrHelp
	}
	fmt.Fprint(stderr, outboxUsage)
	return fmt.Errorf("outbox: unknown subcommand %q", args[0])
}

func outboxList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("outbox list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := config.DatabaseFlag(fs, getenv)
	state := fs.String("state", "", "only messages in this state: pending, sent or failed")
	limit := fs.Int("limit", 50, "at most this many messages")
	if err := config.ParseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("outbox list takes no arguments, got %q", fs.Args())
	}
	switch account.OutboxState(*state) {
	case "", account.OutboxPending, account.OutboxSent, account.OutboxFailed:
	default:
		return fmt.Errorf("outbox list: -state %q is not pending, sent or failed", *state)
	}
	db, err := openMigrated(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	counts, err := db.CountEmails(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pending %d, sent %d, failed %d\n\n", counts[account.OutboxPending], counts[account.OutboxSent], counts[account.OutboxFailed])
	msgs, err := db.FindEmails(ctx, account.OutboxState(*state), *limit)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSTATE\tATTEMPTS\tCREATED\tTO\tSUBJECT\tLAST ERROR")
	for _, m := range msgs {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", m.ID, m.State, m.Attempts,
			m.CreatedAt.Format(time.RFC3339), m.To, m.Subject, m.LastError)
	}
	return w.Flush()
}

func outboxRetry(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("outbox retry", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: roster outbox retry [flags] ID… | -all\n\nSends failed messages again, at once and with no attempt counted.\n\n")
		fs.PrintDefaults()
	}
	dbURL := config.DatabaseFlag(fs, getenv)
	all := fs.Bool("all", false, "retry every failed message")
	if err := config.ParseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *all == (fs.NArg() > 0) {
		return errors.New("outbox retry: give message ids, or -all")
	}
	db, err := openMigrated(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if *all {
		n, err := db.RetryFailedEmails(ctx, time.Now())
		if err != nil {
			return fmt.Errorf("outbox retry -all: %w", err)
		}
		noun := "messages"
		if n == 1 {
			noun = "message"
		}
		fmt.Fprintf(stdout, "%d failed %s will be sent again\n", n, noun)
		return nil
	}
	for _, id := range fs.Args() {
		if err := db.RetryEmail(ctx, id, time.Now()); err != nil {
			return fmt.Errorf("outbox retry %s: %w", id, err)
		}
		fmt.Fprintf(stdout, "%s will be sent again\n", id)
	}
	return nil
}

// openMigrated opens the store and brings its schema up to this binary's.
func openMigrated(ctx context.Context, dbURL string) (*sqlstore.DB, error) {
	db, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
