// Package app wires Roster: the store, the account service, the rate limits, the API
// with SCIM and the console mounted, the import runner, the outbox worker, the check
// cache's lease and the housekeeping. roster serve and every test harness build the
// app here, so that what is tested is what runs; a harness that needs something
// different says so with an Options knob.
package app

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
	"sync"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/config"
	"roster.dev/roster/internal/console"
	"roster.dev/roster/internal/eventrelay"
	"roster.dev/roster/internal/httpapi"
	"roster.dev/roster/internal/importer"
	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/mail"
	"roster.dev/roster/internal/metrics"
	"roster.dev/roster/internal/oidcop"
	"roster.dev/roster/internal/outbox"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/scim"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/webhooks"
)

// Options are what New builds the app from: serve's configuration, and the knobs
// tests need. The zero value of every knob is what serve uses.
type Options struct {
	// Config is serve's configuration. Without DB, New opens and migrates the store
	// at Config.DatabaseURL (bounded by Config.StoreTimeout) and Close closes it.
	Config config.Config
	// DB is an open, migrated store to serve instead (a test's): Close leaves it open.
	DB *sqlstore.DB
	// Logger is where everything logs; nil discards.
	Logger *slog.Logger
	// Now is the clock of the service, the rate limits, the API and the console; nil
	// is time.Now.
	Now func() time.Time
	// Rand is the service's randomness; nil is crypto/rand.
	Rand io.Reader
	// Hasher hashes passwords; nil is password.DefaultParams on every CPU.
	Hasher account.PasswordHasher
	// ServiceStore, when set, wraps the store the service reads and writes (a test's
	// gate or injected fault); the rest (health, outbox, lease) uses DB as it is.
	ServiceStore func(account.Store) account.Store
	// Sender delivers the outbox's emails; nil is SMTP at Config.SMTPURL, or the log
	// when there is none.
	Sender mail.Sender
	// Limits are the rate limits the API and the console share; zero values take
	// limits.Defaults.
	Limits limits.Config
	// NoConsole leaves the console out: paths outside the API answer 404 problems.
	NoConsole bool
	// OnImport is called after an upload is queued, besides waking the import runner.
	OnImport func()
	// Work is the background work Start runs; nil is all of it, as serve runs.
	Work []Work
	// API, when set, changes the API's dependencies last, for a test that swaps one
	// of them (a metrics registry, a readiness check).
	API func(*httpapi.Deps)
}

// Work names a piece of the background work Start runs.
type Work string

// The background work.
const (
	Outbox       Work = "outbox"       // delivers the outbox's emails
	Imports      Work = "imports"      // runs the queued imports
	CacheLease   Work = "cache-lease"  // holds the check cache's lease (with Config.CheckCache > 0)
	Housekeeping Work = "housekeeping" // purges expired sessions, empties old emails' bodies
	Events       Work = "events"       // numbers the change events into the applications' feeds, prunes old ones
	Webhooks     Work = "webhooks"     // delivers the events to the applications' webhook endpoints
	Domains      Work = "domains"      // re-checks pending domains' DNS records, expires them after a week
	Logouts      Work = "oidc-logouts" // sends the back-channel logout tokens to the applications
)

// App is Roster, built: Handler serves every route; Start runs the background work,
// Stop ends it, Run does both around an HTTP server; Close closes the store New opened.
type App struct {
	DB      *sqlstore.DB
	Service *account.Service
	Limits  *limits.Limits
	API     *httpapi.Server
	Handler http.Handler // the API, with SCIM and the console mounted
	Runner  *importer.Runner
	Outbox  *outbox.Worker
	// Relay numbers the change events into the feeds; Webhooks delivers them.
	Relay    *eventrelay.Relay
	Webhooks *webhooks.Worker
	Metrics  *metrics.Metrics // nil without Config.Metrics
	OIDC     *oidcop.Provider // Sign in with Roster
	// Logouts sends the back-channel logout tokens (OpenID Connect Back-Channel
	// Logout 1.0).
	Logouts *oidcop.LogoutWorker
	Log     *slog.Logger

	cfg    config.Config
	ownDB  bool
	work   []worker
	want   map[Work]bool // nil: all
	stopMu sync.Mutex
	stops  []func() // of what Start started, in the order Stop ends it
}

// worker is one background loop: run returns once its context ends. A late worker
// outlives the requests: its context ends only after the HTTP server has finished
// the requests and the work queued after their answers, so that what they wrote is
// still handled (the outbox sends their emails); the others stop with Start's
// context.
type worker struct {
	name Work
	late bool
	run  func(ctx context.Context)
}

// New builds the app. Nothing runs until Start (or Run).
func New(ctx context.Context, o Options) (a *App, err error) {
	cfg := o.Config
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a = &App{DB: o.DB, Log: log, cfg: cfg}
	if a.DB == nil {
		db, err := sqlstore.OpenWith(ctx, cfg.DatabaseURL, sqlstore.Options{Timeout: cfg.StoreTimeout})
		if err != nil {
			return nil, err
		}
		a.DB, a.ownDB = db, true
		defer func() {
			if err != nil {
				db.Close()
			}
		}()
		if err := db.Migrate(ctx); err != nil {
			return nil, err
		}
		log.Info("store ready", "engine", db.Engine())
	}
	db := a.DB
	// The webhooks' signing secrets are sealed with the same passphrase as the
	// sign-in keys: a copy of the database alone signs nothing.
	db.SealSecrets(cfg.OIDCKeySecret)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Hasher == nil {
		o.Hasher = password.NewHasher(password.DefaultParams, runtime.GOMAXPROCS(0), rand.Reader)
	}
	if o.Sender == nil {
		if o.Sender, err = newSender(cfg, log); err != nil {
			return nil, err
		}
	}
	var store account.Store = db
	if o.ServiceStore != nil {
		store = o.ServiceStore(db)
	}
	cacheEntries := cfg.CheckCache
	if cacheEntries == 0 {
		cacheEntries = -1 // none
	}
	a.Service = account.NewService(account.Options{
		Store:    store,
		Hasher:   o.Hasher,
		Now:      o.Now,
		Rand:     o.Rand,
		Renderer: mail.NewNoticeRenderer(),
		BaseURL:  cfg.BaseURL,

		DisableSignUp:     !cfg.SignUp,
		CheckCacheEntries: cacheEntries,

		WebhooksAllowPrivate: cfg.WebhooksAllowPrivate,
		Resolver:             Resolver(cfg.DNSResolver),
	})
	svc := a.Service
	a.Limits = limits.New(svc, log, o.Limits, o.Now)
	a.Runner = &importer.Runner{Service: svc, Log: log, Lease: cfg.ImportLease}
	onImport := a.Runner.Wake
	if o.OnImport != nil {
		onImport = func() { a.Runner.Wake(); o.OnImport() }
	}
	if cfg.Metrics {
		a.Metrics = newMetrics(db, svc, log)
	}
	maxUpload := int64(cfg.ImportMaxMB) << 20
	if maxUpload <= 0 {
		maxUpload = importer.DefaultMaxBytes
	}
	// The event relay numbers the change events into the applications' feeds (and
	// prunes them after --events-keep); the feed's long polls wait on it.
	a.Relay = &eventrelay.Relay{Store: db, Log: log, Keep: cfg.EventsKeep}
	// Sign in with Roster: the OpenID Connect provider, its issuer the public URL.
	provider, err := oidcop.New(oidcop.Options{Service: svc, Issuer: cfg.BaseURL, KeySecret: cfg.OIDCKeySecret, Logger: log, Now: o.Now})
	if err != nil {
		return nil, err
	}
	a.OIDC = provider
	d := httpapi.Deps{OIDC: provider.Handler(), Service: svc, Logger: log, Ready: db.Ping, Readiness: db.Ready, Limits: a.Limits,
		Metrics: a.Metrics, MetricsToken: cfg.MetricsToken, BaseURL: cfg.BaseURL, Now: o.Now,
		MaxUploadBytes: maxUpload, OnImport: onImport, SCIM: scim.New(svc, log, cfg.BaseURL), Events: a.Relay}
	if o.API != nil {
		o.API(&d)
	}
	a.API = httpapi.NewServer(d)
	if !o.NoConsole {
		a.API.MountConsole(console.New(console.Deps{Service: svc, Logger: log, Limits: a.Limits, BaseURL: cfg.BaseURL,
			Now: o.Now, MaxUploadBytes: maxUpload, OnImport: onImport, SignUp: cfg.SignUp, OIDC: provider}))
	}
	a.Handler = a.API
	a.Outbox = &outbox.Worker{Store: db, Sender: o.Sender, From: cfg.MailFrom, Domain: mail.MessageDomain(cfg.BaseURL),
		Log: log, Observe: a.Metrics.ObserveDelivery}
	a.Webhooks = &webhooks.Worker{Store: db, Log: log, AllowPrivate: cfg.WebhooksAllowPrivate,
		Lease: cfg.WebhooksLease, Observe: a.Metrics.ObserveWebhook, OnFailing: svc.DisableFailingWebhook}
	a.Logouts = &oidcop.LogoutWorker{Service: svc, Provider: provider, Log: log, Now: o.Now,
		AllowPrivate: cfg.WebhooksAllowPrivate}

	if o.Work != nil {
		a.want = map[Work]bool{}
		for _, w := range o.Work {
			a.want[w] = true
		}
	}
	// The background work, one line each: a new worker is one more a.add.
	a.add(Outbox, afterRequests, func(ctx context.Context) {
		db.OnEmail(a.Outbox.Wake) // deliver at once; the poll is for retries and other processes
		a.Outbox.Run(ctx)
	})
	a.add(Imports, withStart, a.Runner.Run) // a batch in flight commits or rolls back before Stop returns
	if cfg.CheckCache > 0 {
		a.add(CacheLease, withStart, db.RunCacheLease) // the lease let go before the store closes
	}
	a.add(Domains, withStart, func(ctx context.Context) { checkDomains(ctx, svc, time.Minute, log) })
	a.add(Housekeeping, withStart, func(ctx context.Context) { housekeeping(ctx, svc, db, cfg.OutboxKeepBodies, log) })
	// The relay and the webhook worker outlive the requests, as the outbox does: the
	// events the last requests wrote are numbered and delivered before the store
	// closes (a delivery in flight finishes its attempt).
	a.add(Events, afterRequests, func(ctx context.Context) {
		db.OnEvent(a.Relay.Wake)
		a.Relay.Run(ctx)
	})
	a.add(Webhooks, afterRequests, func(ctx context.Context) {
		db.OnDelivery(a.Webhooks.Wake) // at once; the poll is for retries and other processes
		a.Webhooks.Run(ctx)
	})
	a.add(Logouts, afterRequests, func(ctx context.Context) {
		db.OnLogout(a.Logouts.Wake) // within seconds of a deactivation; the poll is for retries
		a.Logouts.Run(ctx)
	})
	return a, nil
}

// When a worker stops (see worker): with Start's context, or after the requests.
const (
	withStart     = false
	afterRequests = true
)

// add registers a background worker, when Options.Work wants it.
func (a *App) add(name Work, late bool, run func(ctx context.Context)) {
	if a.want == nil || a.want[name] {
		a.work = append(a.work, worker{name: name, late: late, run: run})
	}
}

// newMetrics counts the requests, the check cache, the cache lease, the store's
// retries and, on SQLite, the write-ahead log.
func newMetrics(db *sqlstore.DB, svc *account.Service, log *slog.Logger) *metrics.Metrics {
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
	return metrics.New(db, log, opts)
}

// Start runs the background work, each worker in its own goroutine: the early ones
// until ctx ends, the late ones until Stop. Call Stop after it, before Close.
func (a *App) Start(ctx context.Context) {
	var early, late []func()
	for _, w := range a.work {
		var wctx context.Context
		var cancel context.CancelFunc
		if w.late {
			wctx, cancel = context.WithCancel(context.WithoutCancel(ctx))
		} else {
			wctx, cancel = context.WithCancel(ctx)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			w.run(wctx)
		}()
		stop := func() { cancel(); <-done }
		if w.late {
			late = append(late, stop)
		} else {
			early = append(early, stop)
		}
	}
	a.stopMu.Lock()
	a.stops = append(append(a.stops, late...), early...)
	a.stopMu.Unlock()
}

// Stop ends what Start started, in the order serve shuts down once the HTTP server
// has stopped: the work queued after answers is done (password resets, sign-ups;
// until ctx ends), then the late workers stop (the outbox finishes the message in
// flight and hands back its other claims), then the early ones (an import batch in
// flight commits or rolls back, the cache lease is let go).
func (a *App) Stop(ctx context.Context) error {
	err := a.Limits.Close(ctx)
	a.stopMu.Lock()
	stops := a.stops
	a.stops = nil
	a.stopMu.Unlock()
	for _, stop := range stops {
		stop()
	}
	if err != nil {
		return fmt.Errorf("shutdown: the work queued after answers: %w", err)
	}
	return nil
}

// Close closes the store, if New opened it. Call it after Stop.
func (a *App) Close() error {
	if a.ownDB {
		return a.DB.Close()
	}
	return nil
}

// Run serves ln and runs the background work until ctx ends, then shuts down
// gracefully: /readyz turns 503 (for Config.ShutdownDelay, while everything else is
// still served), then it stops accepting, lets requests in flight finish (up to 30
// seconds), does the work queued after their answers and stops the background work
// (Stop). It does not Close.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	log := a.Log
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	workCtx, cancelWork := context.WithCancel(ctx)
	defer cancelWork()
	a.Start(workCtx)
	errc := make(chan error, 1)
	log.Info("listening", "addr", ln.Addr().String(), "base_url", a.cfg.BaseURL)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		cancelWork()
		_ = a.Stop(context.WithoutCancel(ctx))
		return err
	case <-ctx.Done():
	}
	// /readyz answers 503 from now on; for the shutdown delay requests are still
	// served, so that a load balancer takes this process out of its pool before it
	// stops accepting.
	a.API.Drain()
	if d := a.cfg.ShutdownDelay; d > 0 {
		log.Info("draining: /readyz answers 503", "for", d.String())
		time.Sleep(d)
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = a.Stop(shutdownCtx)
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		_ = a.Stop(shutdownCtx)
		return err
	}
	// Password resets and sign-ups answered but not yet done are done before the
	// store closes; the outbox worker then sends what they wrote.
	if err := a.Stop(shutdownCtx); err != nil {
		return err
	}
	log.Info("stopped")
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
// Resolver is the resolver of domains' TXT records: the system's, or, with addr
// (host:port, --dns-resolver), that DNS server's, asked directly.
func Resolver(addr string) account.Resolver {
	if addr == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// checkDomains re-checks the pending domains at once and then every interval (each
// at most every account.DomainRecheckEvery), until ctx ends.
func checkDomains(ctx context.Context, svc *account.Service, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := svc.CheckPendingDomains(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error("check pending domains", "err", err)
		} else if n > 0 {
			log.Info("checked pending domains", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

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
