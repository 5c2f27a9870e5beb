// Package config reads Roster's configuration from command-line flags and their
// environment twins (API.md, "Running"). A flag given on the command line wins over
// its environment variable, which wins over the default.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is everything `roster serve` needs.
type Config struct {
	Addr        string // host:port to listen on
	DatabaseURL string // sqlite://PATH or postgres://…
	BaseURL     string // the public URL; links in emails start with it
	SMTPURL     string // smtp://user:pass@host:port; empty writes emails to the log
	MailFrom    string // the From of every email
	LogFormat   string // text or json
	LogLevel    slog.Level
	// SignUp lets anyone create an account with POST /api/v1/auth/signup (after
	// proving their email); off, accounts come only from invitations and admins.
	SignUp bool
	// CheckCache is how many entitlement answers' facts one process keeps in
	// memory; 0 keeps none (every check reads the store).
	CheckCache int
	// ImportMaxMB bounds an uploaded import file, in MiB.
	ImportMaxMB int
	// ImportLease is how long an import runner holds a job between batches before
	// another process may resume it (env ROSTER_IMPORT_LEASE only; default 1m).
	ImportLease time.Duration
	// WebhooksLease is how long a webhook worker holds a claimed delivery before
	// another process may make the attempt again (env ROSTER_WEBHOOKS_LEASE only;
	// default 2m, at least 1s; it should exceed the 15 s timeout of an attempt).
	WebhooksLease time.Duration
	// OIDCKeySecret, when set, seals the OpenID Connect provider's signing keys in
	// the database (AES-256-GCM under its SHA-256); every process needs the same one.
	OIDCKeySecret string
	// StoreTimeout bounds every statement and every wait for a database
	// connection: past it a request answers 503 unavailable.
	StoreTimeout time.Duration
	// OutboxKeepBodies is how long the text and HTML of a sent email are kept; 0
	// keeps them for ever. Who was sent what, when, stays listed.
	OutboxKeepBodies time.Duration
	// EventsKeep is how long change events stay in the applications' feeds.
	EventsKeep time.Duration
	// WebhooksAllowPrivate lets webhook endpoints be http URLs and private,
	// loopback or link-local addresses (tests, local receivers).
	WebhooksAllowPrivate bool
	// DNSResolver is the DNS server (host:port) the TXT records of domains are
	// looked up at; empty uses the system's resolver.
	DNSResolver string

	// Metrics serves Prometheus metrics at /metrics on the API's listener; with
	// MetricsToken set, only to "Authorization: Bearer <MetricsToken>", without it
	// only to clients on this host.
	Metrics      bool
	MetricsToken string
	// ShutdownDelay is how long serve keeps answering after SIGTERM with /readyz
	// at 503, before it stops accepting: time for a load balancer to notice.
	ShutdownDelay time.Duration

	// The first operator, created on first start with an empty store.
	BootstrapEmail    string
	BootstrapPassword string
}

// Defaults of API.md.
const (
	DefaultAddr     = "127.0.0.1:8080"
	DefaultDatabase = "sqlite://roster.db"
	DefaultMailFrom = "Roster <no-reply@localhost>"
	// DefaultStoreTimeout is the default of --store-timeout.
	DefaultStoreTimeout = 5 * time.Second
	// DefaultOutboxKeepBodies is the default of --outbox-keep-bodies: 30 days.
	DefaultOutboxKeepBodies = 30 * 24 * time.Hour
	// DefaultEventsKeep is the default of --events-keep: 30 days.
	DefaultEventsKeep = 30 * 24 * time.Hour
)

// Getenv looks up an environment variable (os.Getenv, or a map in tests).
type Getenv func(string) string

// DatabaseFlag registers --database (env ROSTER_DATABASE_URL) on fs, for the
// subcommands that only need the store.
func DatabaseFlag(fs *flag.FlagSet, getenv Getenv) *string {
	return fs.String("database", envOr(getenv, "ROSTER_DATABASE_URL", DefaultDatabase),
		"database URL: sqlite://PATH (embedded) or postgres://USER@HOST/DB (env ROSTER_DATABASE_URL)")
}

// ParseServe parses the flags of `roster serve`. It returns flag.ErrHelp after
// printing usage to help for -h, and an error naming the flag, or the environment
// variable the value came from, for a bad value (the flag package also prints usage
// to stderr then).
func ParseServe(args []string, getenv Getenv, stdout, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c Config
	env := envReader{getenv: getenv}
	fs.StringVar(&c.Addr, "addr", envOr(getenv, "ROSTER_ADDR", DefaultAddr), "address to listen on (env ROSTER_ADDR)")
	db := DatabaseFlag(fs, getenv)
	fs.StringVar(&c.BaseURL, "base-url", getenv("ROSTER_BASE_URL"), "public URL that links in emails start with; default http://<addr> (env ROSTER_BASE_URL)")
	fs.StringVar(&c.SMTPURL, "smtp", getenv("ROSTER_SMTP_URL"), "SMTP server smtp://user:pass@host:port; empty writes emails to the log (env ROSTER_SMTP_URL)")
	fs.StringVar(&c.MailFrom, "mail-from", envOr(getenv, "ROSTER_MAIL_FROM", DefaultMailFrom), "sender of every email (env ROSTER_MAIL_FROM)")
	fs.StringVar(&c.LogFormat, "log-format", envOr(getenv, "ROSTER_LOG_FORMAT", "text"), "log format: text or json (env ROSTER_LOG_FORMAT)")
	fs.BoolVar(&c.SignUp, "signup", env.bool("ROSTER_SIGNUP", true), "allow self-service sign-up with email verification (env ROSTER_SIGNUP=false turns it off)")
	fs.IntVar(&c.ImportMaxMB, "import-max-mb", env.int("ROSTER_IMPORT_MAX_MB", 20), "largest import file accepted, in MiB (env ROSTER_IMPORT_MAX_MB)")
	fs.IntVar(&c.CheckCache, "check-cache", env.int("ROSTER_CHECK_CACHE", 1000000), "entitlement answers kept in memory (about 100 bytes each) while no other process writes; 0 reads the store for every check (env ROSTER_CHECK_CACHE)")
	fs.BoolVar(&c.Metrics, "metrics", env.bool("ROSTER_METRICS", true), "serve Prometheus metrics at /metrics (env ROSTER_METRICS=false turns it off)")
	fs.StringVar(&c.MetricsToken, "metrics-token", getenv("ROSTER_METRICS_TOKEN"), "when set, /metrics wants Authorization: Bearer <token> from any client; unset, /metrics answers only clients on this host (a loopback peer, not relayed by a proxy) and is 404 to others (env ROSTER_METRICS_TOKEN)")
	fs.DurationVar(&c.StoreTimeout, "store-timeout", env.duration("ROSTER_STORE_TIMEOUT", DefaultStoreTimeout), "longest a database statement, or the wait for a connection, may take before the request answers 503 unavailable, e.g. 5s (env ROSTER_STORE_TIMEOUT)")
	fs.DurationVar(&c.OutboxKeepBodies, "outbox-keep-bodies", env.duration("ROSTER_OUTBOX_KEEP_BODIES", DefaultOutboxKeepBodies), "how long the text of a sent email is kept, e.g. 720h; 0 keeps it for ever (its address, subject and time stay listed) (env ROSTER_OUTBOX_KEEP_BODIES)")
	fs.DurationVar(&c.EventsKeep, "events-keep", env.duration("ROSTER_EVENTS_KEEP", DefaultEventsKeep), "how long change events stay in the applications' event feeds, e.g. 720h; an hour or more (env ROSTER_EVENTS_KEEP)")
	fs.BoolVar(&c.WebhooksAllowPrivate, "webhooks-allow-private", env.bool("ROSTER_WEBHOOKS_ALLOW_PRIVATE", false), "let webhook endpoints be http, and private, loopback or link-local addresses: for tests and local receivers only (env ROSTER_WEBHOOKS_ALLOW_PRIVATE)")
	fs.StringVar(&c.DNSResolver, "dns-resolver", getenv("ROSTER_DNS_RESOLVER"), "DNS server host:port to look up the TXT records that verify organizations' domains; empty uses the system's resolver (env ROSTER_DNS_RESOLVER)")
	fs.StringVar(&c.OIDCKeySecret, "oidc-key-secret", getenv("ROSTER_OIDC_KEY_SECRET"), "when set, the signing keys of Sign in with Roster and the webhooks' signing secrets are stored sealed with it (AES-256-GCM); a long random string, the same for every process (env ROSTER_OIDC_KEY_SECRET)")
	delay := fs.String("shutdown-delay", envOr(getenv, "ROSTER_SHUTDOWN_DELAY", "0s"), "on SIGTERM, answer /readyz 503 for this long before closing the listener, e.g. 10s behind a load balancer (env ROSTER_SHUTDOWN_DELAY)")
	level := fs.String("log-level", envOr(getenv, "ROSTER_LOG_LEVEL", "info"), "log level: debug, info, warn or error (env ROSTER_LOG_LEVEL)")
	if err := ParseFlags(fs, args, stdout); err != nil {
		return Config{}, err
	}
	// A variable that does not parse is an error naming it, unless its flag was given
	// (the flag wins, so the variable is not used).
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var envErrs []error
	for _, e := range env.errs {
		if !given[e.flag] {
			envErrs = append(envErrs, e.err)
		}
	}
	if err := errors.Join(envErrs...); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	c.DatabaseURL = *db
	if c.CheckCache < 0 {
		return Config{}, fmt.Errorf("--check-cache: want a number of entries, 0 or more")
	}
	d, err := time.ParseDuration(*delay)
	if err != nil || d < 0 || d > 10*time.Minute {
		name := "--shutdown-delay"
		if !given["shutdown-delay"] {
			name = "ROSTER_SHUTDOWN_DELAY"
		}
		return Config{}, fmt.Errorf("%s: %q is not a duration between 0s and 10m", name, *delay)
	}
	c.ShutdownDelay = d
	if c.StoreTimeout < 100*time.Millisecond || c.StoreTimeout > 10*time.Minute {
		name := "--store-timeout"
		if !given["store-timeout"] {
			name = "ROSTER_STORE_TIMEOUT"
		}
		return Config{}, fmt.Errorf("%s: %s is not a duration between 100ms and 10m", name, c.StoreTimeout)
	}
	if c.OutboxKeepBodies != 0 && c.OutboxKeepBodies < time.Hour {
		name := "--outbox-keep-bodies"
		if !given["outbox-keep-bodies"] {
			name = "ROSTER_OUTBOX_KEEP_BODIES"
		}
		return Config{}, fmt.Errorf("%s: %s is neither 0 (keep for ever) nor an hour or more", name, c.OutboxKeepBodies)
	}
	if c.EventsKeep < time.Hour {
		name := "--events-keep"
		if !given["events-keep"] {
			name = "ROSTER_EVENTS_KEEP"
		}
		return Config{}, fmt.Errorf("%s: %s is not an hour or more", name, c.EventsKeep)
	}
	if c.DNSResolver != "" {
		host, port, err := net.SplitHostPort(c.DNSResolver)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			name := "--dns-resolver"
			if !given["dns-resolver"] {
				name = "ROSTER_DNS_RESOLVER"
			}
			return Config{}, fmt.Errorf("%s: %q is not host:port, e.g. 10.0.0.2:53", name, c.DNSResolver)
		}
	}
	c.ImportLease = time.Minute
	if v := getenv("ROSTER_IMPORT_LEASE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return Config{}, fmt.Errorf("ROSTER_IMPORT_LEASE: %q is not a duration of at least 1s", v)
		}
		c.ImportLease = d
	}
	c.WebhooksLease = 2 * time.Minute // webhooks.DefaultLease
	if v := getenv("ROSTER_WEBHOOKS_LEASE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return Config{}, fmt.Errorf("ROSTER_WEBHOOKS_LEASE: %q is not a duration of at least 1s", v)
		}
		c.WebhooksLease = d
	}
	c.BootstrapEmail = strings.TrimSpace(getenv("ROSTER_BOOTSTRAP_EMAIL"))
	c.BootstrapPassword = getenv("ROSTER_BOOTSTRAP_PASSWORD")
	if err := c.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		name := "--log-level"
		if !given["log-level"] {
			name = "ROSTER_LOG_LEVEL"
		}
		return Config{}, fmt.Errorf("%s: %q is not debug, info, warn or error", name, *level)
	}
	return c, c.validate()
}

// ParseFlags parses a command's flags. Asked for help (-h, -help, --help), it prints
// the command's usage to help, not to the error output, and returns flag.ErrHelp,
// which the program treats as success.
func ParseFlags(fs *flag.FlagSet, args []string, help io.Writer) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			out := fs.Output()
			fs.SetOutput(help)
			fs.Usage()
			fs.SetOutput(out)
			return flag.ErrHelp
		}
	}
	return fs.Parse(args)
}

// envReader reads flags' defaults from their environment twins, remembering each
// value that does not parse (with the flag it is the twin of).
type envReader struct {
	getenv Getenv
	errs   []envError
}

type envError struct {
	flag string
	err  error
}

// bool reads a boolean as its flag would (strconv.ParseBool: 1, t, true, 0, f,
// false in any case), and also yes/no and on/off; an empty variable is def.
func (e *envReader) bool(key string, def bool) bool {
	v := strings.TrimSpace(e.getenv(key))
	if v == "" {
		return def
	}
	switch strings.ToLower(v) {
	case "1", "t", "true", "yes", "y", "on":
		return true
	case "0", "f", "false", "no", "n", "off":
		return false
	}
	e.fail(key, fmt.Errorf("%s: %q is not a boolean (true or false)", key, v))
	return def
}

// int reads a whole number; an empty variable is def.
func (e *envReader) int(key string, def int) int {
	v := strings.TrimSpace(e.getenv(key))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.fail(key, fmt.Errorf("%s: %q is not a whole number", key, v))
		return def
	}
	return n
}

// duration reads a duration (time.ParseDuration: 5s, 1m30s); an empty variable is
// def.
func (e *envReader) duration(key string, def time.Duration) time.Duration {
	v := strings.TrimSpace(e.getenv(key))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.fail(key, fmt.Errorf("%s: %q is not a duration like 5s", key, v))
		return def
	}
	return d
}

// fail records a variable that does not parse; flagOf names its flag.
func (e *envReader) fail(key string, err error) {
	e.errs = append(e.errs, envError{flag: flagOf[key], err: err})
}

// flagOf is the flag each parsed environment variable is the twin of.
var flagOf = map[string]string{
	"ROSTER_SIGNUP": "signup", "ROSTER_METRICS": "metrics",
	"ROSTER_IMPORT_MAX_MB": "import-max-mb", "ROSTER_CHECK_CACHE": "check-cache",
	"ROSTER_STORE_TIMEOUT": "store-timeout",
}

func (c *Config) validate() error {
	var errs []error
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || port == "" {
		errs = append(errs, fmt.Errorf("--addr: %q is not host:port", c.Addr))
	}
	if !strings.HasPrefix(c.DatabaseURL, "sqlite://") && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New("--database: want sqlite://PATH or postgres://…"))
	}
	if c.BaseURL == "" && err == nil {
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.BaseURL = "http://" + net.JoinHostPort(host, port)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		errs = append(errs, fmt.Errorf("--base-url: %q is not an absolute http(s) URL", c.BaseURL))
	}
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			errs = append(errs, errors.New("--smtp: want smtp://user:pass@host:port or smtps://…"))
		}
	}
	if _, err := mail.ParseAddress(c.MailFrom); err != nil {
		errs = append(errs, fmt.Errorf("--mail-from: %q is not an address like Roster <no-reply@example.com>", c.MailFrom))
	}
	if c.ImportMaxMB < 1 || c.ImportMaxMB > 1024 {
		errs = append(errs, fmt.Errorf("--import-max-mb: %d is not between 1 and 1024", c.ImportMaxMB))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format: %q is not text or json", c.LogFormat))
	}
	if (c.BootstrapEmail == "") != (c.BootstrapPassword == "") {
		errs = append(errs, errors.New("ROSTER_BOOTSTRAP_EMAIL and ROSTER_BOOTSTRAP_PASSWORD go together: set both or neither"))
	}
	return errors.Join(errs...)
}

// Logger builds the process's logger.
func (c Config) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func envOr(getenv Getenv, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
