package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/config"
	"roster.dev/roster/internal/console"
	"roster.dev/roster/internal/eventrelay"
	"roster.dev/roster/internal/httpapi"
	"roster.dev/roster/internal/importer"
	"roster.dev/roster/internal/mail"
	"roster.dev/roster/internal/metrics"
	"roster.dev/roster/internal/outbox"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/scim"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/webhooks"
)

// serve runs the server until ctx ends, then shuts down gracefully: /readyz turns
// 503 (for --shutdown-delay, while everything else is still served), then it stops
// accepting, lets requests in flight finish (up to 30 seconds), stops the outbox
// worker (which hands back the emails it claimed and has not sent) and closes the store.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.ParseServe(args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	log := cfg.Logger(stderr)

	db, err := sqlstore.OpenWith(ctx, cfg.DatabaseURL, sqlstore.Options{Timeout: cfg.StoreTimeout})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	log.Info("store ready", "engine", db.Engine())

	cacheEntries := cfg.CheckCache
	if cacheEntries == 0 {
		cacheEntries = -1 // none
	}
	svc := account.NewService(account.Options{
		Store:    db,
		Hasher:   password.NewHasher(password.DefaultParams, runtime.GOMAXPROCS(0), rand.Reader),
		Now:      time.Now,
		Rand:     rand.Reader,
		Renderer: mail.NewNoticeRenderer(),
		BaseURL:  cfg.BaseURL,

		DisableSignUp:     !cfg.SignUp,
		CheckCacheEntries: cacheEntries,

		WebhooksAllowPrivate: cfg.WebhooksAllowPrivate,
	})
	// The address is taken before anything is created: a port in use fails here,
	// before a setup link is printed that this process could never serve.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close() // a no-op once the server has closed it
	if err := bootstrap(ctx, svc, cfg, stdout, log); err != nil {
		return err
	}

	runner := &importer.Runner{Service: svc, Log: log, Lease: cfg.ImportLease}
	// The event relay numbers the change events into the applications' feeds (and
	// prunes them after --events-keep); it runs until the store closes.
	relay := &eventrelay.Relay{Store: db, Log: log, Keep: cfg.EventsKeep}
	db.OnEvent(relay.Wake)
	relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	relayDone := make(chan struct{})
	go func() { defer close(relayDone); relay.Run(relayCtx) }()
	defer func() { stopRelay(); <-relayDone }() // before the store closes
	var m *metrics.Metrics
	if cfg.Metrics {
		opts := metrics.Options{CheckCache: svc.CheckCacheStats,
			CacheLease: func() (bool, uint64, uint64, uint64) {
				st := db.CacheLeaseStats()
				return st.Held, st.Taken, st.Revoked, st.Lapsed
			},
			StoreRetries: db.WriteRetries, WebhookQueue: db.WebhookQueue}
		if db.Engine() == sqlstore.SQLite {
			opts.SQLiteWAL = func() (int64, int64, uint64, uint64, uint64) {
				st := db.WALStats()
				return st.Pages, st.MaxPages, st.Checkpoints, st.Restarts, st.RestartsBusy
			}
		}
		m = metrics.New(db, log, opts)
	}
	// The webhook worker delivers what the relay made due; stopped after the
	// requests, it finishes its attempts in flight before the store closes.
	hooks := &webhooks.Worker{Store: db, Log: log, AllowPrivate: cfg.WebhooksAllowPrivate, Observe: m.ObserveWebhook,
		OnFailing: svc.DisableFailingWebhook}
	db.OnDelivery(hooks.Wake)
	hooksCtx, stopHooks := context.WithCancel(context.WithoutCancel(ctx))
	hooksDone := make(chan struct{})
	go func() { defer close(hooksDone); hooks.Run(hooksCtx) }()
	defer func() { stopHooks(); <-hooksDone }()
	api := httpapi.NewServer(httpapi.Deps{Service: svc, Logger: log, Ready: db.Ping, Readiness: db.Ready,
		Metrics: m, MetricsToken: cfg.MetricsToken, BaseURL: cfg.BaseURL,
		MaxUploadBytes: int64(cfg.ImportMaxMB) << 20, OnImport: runner.Wake,
		SCIM: scim.New(svc, log, cfg.BaseURL), Events: relay})
	api.MountConsole(console.New(console.Deps{Service: svc, Logger: log, Limits: api, BaseURL: cfg.BaseURL,
		MaxUploadBytes: int64(cfg.ImportMaxMB) << 20, OnImport: runner.Wake, SignUp: cfg.SignUp}))
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}

	sender, err := newSender(cfg, log)
	if err != nil {
		return err
	}
	worker := &outbox.Worker{Store: db, Sender: sender, From: cfg.MailFrom, Domain: mail.MessageDomain(cfg.BaseURL),
		Log: log, Observe: m.ObserveDelivery}
	db.OnEmail(worker.Wake) // deliver at once; the poll is for retries and other processes
	// The worker outlives the requests: it stops once the last answers and the work
	// queued after them are done, so that the emails they wrote go out now. Stopped,
	// it finishes the message in flight and hands back its other claims (Run returns
	// after that) before the store closes.
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		worker.Run(workerCtx)
	}()
	defer func() { stopWorker(); <-workerDone }() // before the store closes
	runnerDone := make(chan struct{})
	go func() {
		defer close(runnerDone)
		runner.Run(ctx)
	}()
	defer func() { <-runnerDone }() // a batch in flight commits or rolls back first

	go housekeeping(ctx, svc, db, cfg.OutboxKeepBodies, log)
	if cfg.CheckCache > 0 {
		leaseDone := make(chan struct{})
		go func() { defer close(leaseDone); db.RunCacheLease(ctx) }()
		defer func() { <-leaseDone }() // the lease let go before the store closes
	}
	errc := make(chan error, 1)
	log.Info("listening", "addr", ln.Addr().String(), "base_url", cfg.BaseURL)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// /readyz answers 503 from now on; for --shutdown-delay requests are still served,
	// so that a load balancer takes this process out of its pool before it stops
	// accepting.
	api.Drain()
	if cfg.ShutdownDelay > 0 {
		log.Info("draining: /readyz answers 503", "for", cfg.ShutdownDelay.String())
		time.Sleep(cfg.ShutdownDelay)
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	// Password resets and sign-ups answered but not yet done are done before the store
	// closes.
	if err := api.Close(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: the work queued after answers: %w", err)
	}
	stopWorker()
	<-workerDone
	log.Info("stopped")
	return nil
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

// newSender delivers over the configured SMTP server, or writes emails to the log
// when there is none.
func newSender(cfg config.Config, log *slog.Logger) (mail.Sender, error) {
	if cfg.SMTPURL == "" {
		log.Info("no --smtp: emails are written to the log")
		return mail.NewLogSender(log), nil
	}
	return mail.NewSMTPSender(cfg.SMTPURL, cfg.MailFrom)
}

// housekeeping deletes expired sessions, links and idempotency keys every ten
// minutes, and empties the bodies of emails sent longer than keepBodies ago (0: never).
func housekeeping(ctx context.Context, svc *account.Service, db *sqlstore.DB, keepBodies time.Duration, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := svc.PurgeExpiredSessions(ctx)
			if err != nil && ctx.Err() == nil {
				log.Error("purge expired sessions", "err", err)
			} else if n > 0 {
				log.Info("purged expired sessions", "count", n)
			}
			if keepBodies <= 0 {
				continue
			}
			m, err := db.PruneSentEmails(ctx, time.Now().Add(-keepBodies), 500)
			if err != nil && ctx.Err() == nil {
				log.Error("empty the bodies of old sent emails", "err", err)
			} else if m > 0 {
				log.Info("emptied the bodies of old sent emails", "count", m, "sent_before", time.Now().Add(-keepBodies).Format(time.RFC3339))
			}
		}
	}
}
