package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"roster.dev/roster/internal/config"
	"roster.dev/roster/internal/sqlstore"
)

// migrate applies the embedded migrations (serve does too, at start), or lists them.
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := config.DatabaseFlag(fs, getenv)
	status := fs.Bool("status", false, "list the migrations and whether each is applied, change nothing")
	if err := config.ParseFlags(fs, args, stdout); err != nil {
		return err
	}
	db, err := sqlstore.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if !*status {
		if err := db.Migrate(ctx); err != nil {
			return err
		}
	}
	lines, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	return nil
}
