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
  roster outbox retry ID                                       send a failed message again
`

// outboxCmd lets an operator see what the outbox holds and retry what failed.
func outboxCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, outboxUsage)
		return errors.New("outbox: missing subcommand")
	}
	fs := flag.NewFlagSet("outbox "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := config.DatabaseFlag(fs, getenv)
	state := fs.String("state", "", "only messages in this state: pending, sent or failed")
	limit := fs.Int("limit", 50, "at most this many messages")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	db, err := sqlstore.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	switch args[0] {
	case "list":
		switch account.OutboxState(*state) {
		case "", account.OutboxPending, account.OutboxSent, account.OutboxFailed:
		default:
			return fmt.Errorf("outbox list: -state %q is not pending, sent or failed", *state)
		}
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
	case "retry":
		if fs.NArg() != 1 {
			return errors.New("outbox retry: give one message id")
		}
		if err := db.RetryEmail(ctx, fs.Arg(0), time.Now()); err != nil {
			return fmt.Errorf("outbox retry %s: %w", fs.Arg(0), err)
		}
		fmt.Fprintf(stdout, "%s will be sent again\n", fs.Arg(0))
		return nil
	}
	fmt.Fprint(stderr, outboxUsage)
	return fmt.Errorf("outbox: unknown subcommand %q", args[0])
}
