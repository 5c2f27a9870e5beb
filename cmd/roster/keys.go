package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/config"
	"roster.dev/roster/internal/oidcop"
)

const keysUsage = `Usage:
  roster keys rotate [--oidc-key-secret S]   make a new signing key for Sign in with Roster

The previous key stays in the JWKS, so tokens it signed verify until they expire;
the keys before it are retired. Running servers sign with the new key within a
minute. The secret (env ROSTER_OIDC_KEY_SECRET) must be the servers' own.
`

// keysCmd manages the OpenID Connect provider's signing keys.
func keysCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return errors.New("keys: missing subcommand")
	}
	switch args[0] {
	case "rotate":
		return keysRotate(ctx, args[1:], getenv, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, keysUsage)
		return flag.ErrHelp
	}
	fmt.Fprint(stderr, keysUsage)
	return fmt.Errorf("keys: unknown subcommand %q", args[0])
}

func keysRotate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := config.DatabaseFlag(fs, getenv)
	secret := fs.String("oidc-key-secret", getenv("ROSTER_OIDC_KEY_SECRET"), "the secret the stored keys are sealed with (env ROSTER_OIDC_KEY_SECRET)")
	if err := config.ParseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("keys rotate takes no arguments, got %q", fs.Args())
	}
	db, err := openMigrated(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := account.NewService(account.Options{Store: db})
	id, err := oidcop.Rotate(ctx, svc, *secret)
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	fmt.Fprintf(stdout, "the current signing key is now %s; the previous one stays in the JWKS\n", id)
	return nil
}
