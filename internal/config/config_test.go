package config

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestParseServeDefaults(t *testing.T) {
	c, err := ParseServe(nil, env(nil), io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: DefaultAddr, DatabaseURL: DefaultDatabase, BaseURL: "http://127.0.0.1:8080",
		MailFrom: DefaultMailFrom, LogFormat: "text", LogLevel: slog.LevelInfo, SignUp: true, CheckCache: 1_000_000, ImportMaxMB: 20, ImportLease: time.Minute, WebhooksLease: 2 * time.Minute, Metrics: true, StoreTimeout: 5 * time.Second,
		OutboxKeepBodies: 30 * 24 * time.Hour, EventsKeep: 30 * 24 * time.Hour}
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("defaults (-want +got):\n%s", d)
	}
}

func TestParseServeEnvAndFlags(t *testing.T) {
	e := env(map[string]string{
		"ROSTER_ADDR": ":9000", "ROSTER_DATABASE_URL": "postgres://db/roster", "ROSTER_SMTP_URL": "smtp://u:p@mail:25",
		"ROSTER_MAIL_FROM": "Acme <hi@acme.example>", "ROSTER_BOOTSTRAP_EMAIL": "op@acme.example",
		"ROSTER_BOOTSTRAP_PASSWORD": "correct horse", "ROSTER_METRICS_TOKEN": "scrape-me", "ROSTER_SHUTDOWN_DELAY": "15s",
		"ROSTER_METRICS": "true", "ROSTER_STORE_TIMEOUT": "2s",
	})
	c, err := ParseServe([]string{"--addr", "0.0.0.0:7000", "--base-url", "https://roster.acme.example/", "--metrics=false"}, e, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: "0.0.0.0:7000", DatabaseURL: "postgres://db/roster", BaseURL: "https://roster.acme.example",
		SMTPURL: "smtp://u:p@mail:25", MailFrom: "Acme <hi@acme.example>", LogFormat: "text", LogLevel: slog.LevelInfo, SignUp: true, CheckCache: 1_000_000, ImportMaxMB: 20, ImportLease: time.Minute, WebhooksLease: 2 * time.Minute,
		BootstrapEmail: "op@acme.example", BootstrapPassword: "correct horse",
		Metrics: false, MetricsToken: "scrape-me", ShutdownDelay: 15 * time.Second, StoreTimeout: 2 * time.Second,
		OutboxKeepBodies: 30 * 24 * time.Hour, EventsKeep: 30 * 24 * time.Hour}
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	c, err = ParseServe(nil, env(map[string]string{"ROSTER_ADDR": ":9000"}), io.Discard, io.Discard)
	if err != nil || c.BaseURL != "http://localhost:9000" {
		t.Errorf("base URL for :9000 = %q, %v; want http://localhost:9000", c.BaseURL, err)
	}
}

func TestParseServeRejects(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--addr", "nope"}, nil, "--addr"},
		{[]string{"--database", "mysql://x"}, nil, "--database"},
		{[]string{"--base-url", "ftp://x"}, nil, "--base-url"},
		{[]string{"--smtp", "http://x"}, nil, "--smtp"},
		{[]string{"--mail-from", "not an address"}, nil, "--mail-from"},
		{[]string{"--log-format", "xml"}, nil, "--log-format"},
		{[]string{"--shutdown-delay", "soon"}, nil, "--shutdown-delay"},
		{nil, map[string]string{"ROSTER_SHUTDOWN_DELAY": "-1s"}, "ROSTER_SHUTDOWN_DELAY"},
		{nil, map[string]string{"ROSTER_LOG_LEVEL": "loud"}, "ROSTER_LOG_LEVEL"},
		{nil, map[string]string{"ROSTER_SIGNUP": "maybe"}, "ROSTER_SIGNUP"},
		{nil, map[string]string{"ROSTER_METRICS": "sometimes"}, "ROSTER_METRICS"},
		{nil, map[string]string{"ROSTER_IMPORT_MAX_MB": "lots"}, "ROSTER_IMPORT_MAX_MB"},
		{nil, map[string]string{"ROSTER_CHECK_CACHE": "1e6"}, "ROSTER_CHECK_CACHE"},
		{nil, map[string]string{"ROSTER_STORE_TIMEOUT": "5"}, "ROSTER_STORE_TIMEOUT"},
		{nil, map[string]string{"ROSTER_STORE_TIMEOUT": "1ms"}, "ROSTER_STORE_TIMEOUT"},
		{[]string{"--store-timeout", "soon"}, nil, "store-timeout"},
		{[]string{"--store-timeout", "0s"}, nil, "--store-timeout"},
		{[]string{"--log-level", "loud"}, nil, "--log-level"},
		{[]string{"--outbox-keep-bodies", "10m"}, nil, "--outbox-keep-bodies"},
		{nil, map[string]string{"ROSTER_OUTBOX_KEEP_BODIES": "-1h"}, "ROSTER_OUTBOX_KEEP_BODIES"},
		{nil, map[string]string{"ROSTER_OUTBOX_KEEP_BODIES": "a month"}, "ROSTER_OUTBOX_KEEP_BODIES"},
		{nil, map[string]string{"ROSTER_BOOTSTRAP_EMAIL": "a@b.example"}, "ROSTER_BOOTSTRAP_PASSWORD"},
		{[]string{"extra"}, nil, "no arguments"},
	} {
		_, err := ParseServe(tc.args, env(tc.env), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseServe(%q, %v) = %v; want an error mentioning %s", tc.args, tc.env, err, tc.want)
		}
	}
}

// Boolean variables parse as their flags do, in any case; a variable whose flag is
// given is not read.
func TestBooleanEnvTwins(t *testing.T) {
	for v, want := range map[string]bool{
		"false": false, "FALSE": false, "False": false, "0": false, "f": false, "off": false, "OFF": false, "no": false,
		"true": true, "TRUE": true, "True": true, "1": true, "t": true, "on": true, "yes": true, " true ": true,
	} {
		c, err := ParseServe(nil, env(map[string]string{"ROSTER_SIGNUP": v, "ROSTER_METRICS": v}), io.Discard, io.Discard)
		if err != nil || c.SignUp != want || c.Metrics != want {
			t.Errorf("ROSTER_SIGNUP=ROSTER_METRICS=%q: signup %v, metrics %v, %v; want %v", v, c.SignUp, c.Metrics, err, want)
		}
	}
	c, err := ParseServe([]string{"--signup=false"}, env(map[string]string{"ROSTER_SIGNUP": "maybe"}), io.Discard, io.Discard)
	if err != nil || c.SignUp {
		t.Errorf("--signup=false over ROSTER_SIGNUP=maybe: %v, %v; want off, no error", c.SignUp, err)
	}
}

// -h prints the command's flags to the help output and is flag.ErrHelp.
func TestParseServeHelp(t *testing.T) {
	var help, errs strings.Builder
	_, err := ParseServe([]string{"-h"}, env(nil), &help, &errs)
	if !strings.Contains(help.String(), "-signup") || errs.Len() > 0 {
		t.Errorf("serve -h printed %q to stdout and %q to stderr", help.String(), errs.String())
	}
	help.Reset()
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h = %v, want flag.ErrHelp", err)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(&errs)
	fs.String("only-mine", "", "a flag of this command")
	if err := ParseFlags(fs, []string{"--help"}, &help); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "-only-mine") {
		t.Errorf("ParseFlags --help = %v, printed %q", err, help.String())
	}
}

// --store-timeout wins over a ROSTER_STORE_TIMEOUT that does not parse.
func TestStoreTimeoutFlagOverEnv(t *testing.T) {
	c, err := ParseServe([]string{"--store-timeout", "750ms"}, env(map[string]string{"ROSTER_STORE_TIMEOUT": "soon"}), io.Discard, io.Discard)
	if err != nil || c.StoreTimeout != 750*time.Millisecond {
		t.Errorf("--store-timeout 750ms over ROSTER_STORE_TIMEOUT=soon: %v, %v; want 750ms, no error", c.StoreTimeout, err)
	}
}

// TestOutboxKeepBodies: 0 keeps sent emails' bodies for ever; the variable and the
// flag both set the retention.
func TestOutboxKeepBodies(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want time.Duration
	}{
		{[]string{"--outbox-keep-bodies", "0"}, nil, 0},
		{nil, map[string]string{"ROSTER_OUTBOX_KEEP_BODIES": "2160h"}, 90 * 24 * time.Hour},
		{[]string{"--outbox-keep-bodies", "1h"}, map[string]string{"ROSTER_OUTBOX_KEEP_BODIES": "0"}, time.Hour},
	} {
		c, err := ParseServe(tc.args, env(tc.env), io.Discard, io.Discard)
		if err != nil || c.OutboxKeepBodies != tc.want {
			t.Errorf("ParseServe(%q, %v): keep %v, %v; want %v", tc.args, tc.env, c.OutboxKeepBodies, err, tc.want)
		}
	}
}

// TestEventsKeep: the flag and the variable set how long events are kept; less than
// an hour is refused, naming where it came from.
func TestEventsKeep(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want time.Duration
	}{
		{nil, nil, 30 * 24 * time.Hour},
		{nil, map[string]string{"ROSTER_EVENTS_KEEP": "2160h"}, 90 * 24 * time.Hour},
		{[]string{"--events-keep", "1h"}, map[string]string{"ROSTER_EVENTS_KEEP": "48h"}, time.Hour},
	} {
		c, err := ParseServe(tc.args, env(tc.env), io.Discard, io.Discard)
		if err != nil || c.EventsKeep != tc.want {
			t.Errorf("ParseServe(%q, %v): keep %v, %v; want %v", tc.args, tc.env, c.EventsKeep, err, tc.want)
		}
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		name string
	}{
		{[]string{"--events-keep", "0"}, nil, "--events-keep"},
		{nil, map[string]string{"ROSTER_EVENTS_KEEP": "59m"}, "ROSTER_EVENTS_KEEP"},
	} {
		if _, err := ParseServe(tc.args, env(tc.env), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("ParseServe(%q, %v) = %v, want an error naming %s", tc.args, tc.env, err, tc.name)
		}
	}
}

// ROSTER_WEBHOOKS_LEASE sets the webhook worker's claim lease: a duration of 1s or more.
func TestWebhooksLease(t *testing.T) {
	c, err := ParseServe(nil, env(map[string]string{"ROSTER_WEBHOOKS_LEASE": "3s"}), io.Discard, io.Discard)
	if err != nil || c.WebhooksLease != 3*time.Second {
		t.Errorf("ROSTER_WEBHOOKS_LEASE=3s: lease %v, %v", c.WebhooksLease, err)
	}
	for _, v := range []string{"500ms", "soon", "-1m"} {
		if _, err := ParseServe(nil, env(map[string]string{"ROSTER_WEBHOOKS_LEASE": v}), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "ROSTER_WEBHOOKS_LEASE") {
			t.Errorf("ROSTER_WEBHOOKS_LEASE=%s: %v, want an error naming it", v, err)
		}
	}
}

func TestDNSResolver(t *testing.T) {
	c, err := ParseServe([]string{"--dns-resolver", "127.0.0.1:5353"}, env(nil), io.Discard, io.Discard)
	if err != nil || c.DNSResolver != "127.0.0.1:5353" {
		t.Errorf("--dns-resolver 127.0.0.1:5353: %q, %v", c.DNSResolver, err)
	}
	if c, err := ParseServe(nil, env(map[string]string{"ROSTER_DNS_RESOLVER": "[::1]:53"}), io.Discard, io.Discard); err != nil || c.DNSResolver != "[::1]:53" {
		t.Errorf("ROSTER_DNS_RESOLVER=[::1]:53: %q, %v", c.DNSResolver, err)
	}
	if c, err := ParseServe(nil, env(nil), io.Discard, io.Discard); err != nil || c.DNSResolver != "" {
		t.Errorf("by default: %q, %v; want the system's resolver", c.DNSResolver, err)
	}
	for _, v := range []string{"127.0.0.1", "dns.example:domain", ":53", "10.0.0.2:0", "10.0.0.2:70000"} {
		if _, err := ParseServe([]string{"--dns-resolver", v}, env(nil), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "--dns-resolver") {
			t.Errorf("--dns-resolver %s: %v, want an error naming it", v, err)
		}
		if _, err := ParseServe(nil, env(map[string]string{"ROSTER_DNS_RESOLVER": v}), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "ROSTER_DNS_RESOLVER") {
			t.Errorf("ROSTER_DNS_RESOLVER=%s: %v, want an error naming it", v, err)
		}
	}
}
