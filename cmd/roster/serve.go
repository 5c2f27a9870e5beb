package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/app"
	"roster.dev/roster/internal/config"
)

// serve runs the server until ctx ends, then shuts down gracefully (app.App.Run):
// /readyz turns 503 (for --shutdown-delay, while everything else is still served),
// then it stops accepting, lets requests in flight finish (up to 30 seconds), stops
// the outbox worker (which hands back the emails it claimed and has not sent) and
// closes the store.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.ParseServe(args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	log := cfg.Logger(stderr)
	// The OpenID Connect library (Sign in with Roster) logs through slog's default:
	// its lines go where Roster's go, in the same format.
	slog.SetDefault(log)
	a, err := app.New(ctx, app.Options{Config: cfg, Logger: log})
	if err != nil {
		return err
	}
	defer a.Close()
	// The address is taken before anything is created: a port in use fails here,
	// before a setup link is printed that this process could never serve.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close() // a no-op once the server has closed it
	if err := bootstrap(ctx, a.Service, cfg, stdout, log); err != nil {
		return err
	}
	return a.Run(ctx, ln)
}

// bootstrap creates the first operator from the environment, or prints a one-time
// setup link when the store has no operator and the environment names none.
func bootstrap(ctx context.Context, svc *account.Service, cfg config.Config, stdout io.Writer, log *slog.Logger) error {
	created, token, err := svc.Bootstrap(ctx, cfg.BootstrapEmail, cfg.BootstrapPassword)
	if err != nil {
		return fmt.Errorf("bootstrap the first operator: %w", err)
	}
	switch {
	case created:
		log.Info("created the first operator", "email", cfg.BootstrapEmail)
	case token != "":
		link := cfg.BaseURL + "/setup/" + token
		const msg = "no operator yet: open the setup link to create one (valid 24 hours)"
		log.Warn(msg, "setup_url", link)
		if cfg.LogFormat == "json" { // one record on stdout too, for whatever reads it
			slog.New(slog.NewJSONHandler(stdout, nil)).Warn(msg, "setup_url", link)
			return nil
		}
		fmt.Fprintf(stdout, "\nRoster has no operator yet. Create one within 24 hours at:\n\n    %s\n\n", link)
	}
	return nil
}
