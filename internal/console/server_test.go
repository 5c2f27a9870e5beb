package console_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/app"
	"roster.dev/roster/internal/config"
	"roster.dev/roster/internal/dnstest"
	"roster.dev/roster/internal/httpapi"
	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/ratelimit"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/testtime"
)

// The operator every test server starts with.
const (
	opEmail = "op@roster.test"
	opPass  = "correct horse battery"
)

// testServer is Roster's whole handler (the API with SCIM and the console mounted)
// over one database, wired by internal/app as roster serve is, with cheap password
// hashing and a generous login limit (tests log in often).
type testServer struct {
	db      *sqlstore.DB
	svc     *account.Service
	api     *httpapi.Server
	handler http.Handler
	clock   *testtime.Clock // the service's, API's and console's (real time): tests move it to expire links and sessions
	op      account.Actor   // the operator, for setting up through the use cases
	dns     *dnstest.Server // where domains' TXT records are looked up
}

// serverOptions change what newTestServer wires; the zero value is fine.
type serverOptions struct {
	limits   func(*limits.Config)
	onImport func()
}

func newTestServer(tb testing.TB, db *sqlstore.DB, baseURL string, o serverOptions) *testServer {
	tb.Helper()
	s := &testServer{db: db, clock: &testtime.Clock{}, dns: dnstest.Start(tb)}
	opts := app.Options{
		Config: config.Config{BaseURL: baseURL, SignUp: true, CheckCache: account.DefaultCheckCacheEntries, ImportMaxMB: 5,
			DNSResolver: s.dns.Addr()},
		DB: db, Now: s.clock.Now, Hasher: password.NewHasher(password.TestParams, 4, rand.Reader),
		Limits:   limits.Config{LoginPerIP: ratelimit.Limit{Every: time.Millisecond, Burst: 1000}},
		OnImport: o.onImport,
	}
	if o.limits != nil {
		o.limits(&opts.Limits)
	}
	a, err := app.New(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	// Nothing runs in the background (no Start): tests run imports and read the
	// outbox themselves.
	tb.Cleanup(func() { a.Stop(context.Background()) })
	s.svc, s.api = a.Service, a.API
	ctx := context.Background()
	if _, _, err := s.svc.Bootstrap(ctx, opEmail, opPass); err != nil {
		tb.Fatal(err)
	}
	// What a request queued for after its answer (a password reset's email) is done
	// before the answer reaches the test.
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.Handler.ServeHTTP(w, r)
		a.Limits.Settle()
	})
	s.op = s.actor(tb, opEmail, opPass)
	return s
}

// actor logs in through the service, for acting without a browser.
func (s *testServer) actor(tb testing.TB, email, password string) account.Actor {
	tb.Helper()
	ctx := context.Background()
	res, err := s.svc.Login(ctx, email, password, "127.0.0.1", "test")
	if err != nil {
		tb.Fatalf("login %s: %v", email, err)
	}
	a, err := s.svc.Authenticate(ctx, res.Token, "127.0.0.1")
	if err != nil {
		tb.Fatal(err)
	}
	return a
}
