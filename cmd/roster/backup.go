package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"roster.dev/roster/internal/config"
	"roster.dev/roster/internal/sqlstore"
)

// backup writes an online, consistent copy of a SQLite store; on PostgreSQL it
// says to use pg_dump.
func backup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := config.DatabaseFlag(fs, getenv)
	out := fs.String("out", "", "the backup file to write; it must not exist")
	if err := config.ParseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return errors.New("usage: roster backup [--database URL] --out FILE")
	}
	if !strings.HasPrefix(*dbURL, "sqlite://") {
		return sqlstore.ErrUsePgDump
	}
	// Open would create a missing file: a typo must not back up an empty database.
	path := strings.TrimPrefix(*dbURL, "sqlite://")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	db, err := sqlstore.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := db.Backup(ctx, *out)
	if err != nil {
		return err
	}
	fi, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes, schema version %d)\n", path, *out, fi.Size(), v)
	return nil
}

// restore replaces a SQLite store with a backup, after checking the backup.
func restore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := config.DatabaseFlag(fs, getenv)
	force := fs.Bool("force", false, "replace an existing database (refused anyway while a process has it open)")
	if err := config.ParseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: roster restore [--database URL] [--force] BACKUP-FILE")
	}
	if !strings.HasPrefix(*dbURL, "sqlite://") {
		return errors.New("roster restores SQLite only: restore PostgreSQL with pg_restore (see the README, Operating Roster)")
	}
	target := strings.TrimPrefix(*dbURL, "sqlite://")
	v, err := sqlstore.Restore(ctx, fs.Arg(0), target, *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s from %s (schema version %d; roster serve migrates it further if needed)\n", target, fs.Arg(0), v)
	return nil
}
