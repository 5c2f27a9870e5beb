// Command roster is the Roster server and its administration commands.
//
//	roster serve     run the API (and, later, the console) on the configured store
//	roster migrate   apply the store's migrations, or list them with -status
//	roster outbox    list the email outbox, retry a failed message
//	roster import    import people from an .xlsx or .csv file
//	roster backup    write an online, consistent copy of a SQLite store
//	roster restore   replace a SQLite store with a checked backup
//	roster keys      rotate the signing key of Sign in with Roster
//	roster version   print the version, the VCS revision and its date
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"roster.dev/roster/internal/buildinfo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) { // help was asked for, and printed
			return
		}
		fmt.Fprintln(os.Stderr, "roster:", err)
		os.Exit(2)
	}
}

const usage = `Roster: account and seat management for software sold to organizations.

Usage:
  roster serve [flags]      run the server (roster serve -h lists the flags)
  roster migrate [-status]  apply the database migrations (or list them)
  roster outbox list|retry  see the email outbox, send failed messages again
  roster import --org ORG FILE   import people from an .xlsx or .csv file
  roster backup --out FILE  copy a SQLite store while it serves (PostgreSQL: pg_dump)
  roster restore [--force] FILE  replace a stopped SQLite store with a backup
  roster keys rotate        make a new signing key for Sign in with Roster
  roster version            print the version
`

// run is the whole program, with its environment passed in so that tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, getenv, stdout, stderr)
	case "outbox":
		return outboxCmd(ctx, rest, getenv, stdout, stderr)
	case "import":
		return importCmd(ctx, rest, getenv, stdout, stderr)
	case "backup":
		return backup(ctx, rest, getenv, stdout, stderr)
	case "restore":
		return restore(ctx, rest, getenv, stdout, stderr)
	case "keys":
		return keysCmd(ctx, rest, getenv, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "roster", buildinfo.Read())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}
