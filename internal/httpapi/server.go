// Package httpapi serves Roster's JSON API (API.md): the routes, problem+json errors,
// authentication and the OpenAPI 3.1 document that huma generates from the same
// operations that serve the requests.
package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpedge"
	"roster.dev/roster/internal/importer"
	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/metrics"
	"roster.dev/roster/internal/spreadsheet"
)

// Version is the API document's version.
const Version = "1.0.0"

// Deps are what the API needs, wired by internal/app.
type Deps struct {
	Service *account.Service
	Logger  *slog.Logger
	// Ready reports whether the store is migrated and reachable (for /healthz).
	Ready func(ctx context.Context) error
	// Readiness reports whether this process should be sent traffic (for /readyz):
	// the store answers and holds every migration. Nil uses Ready.
	Readiness func(ctx context.Context) error
	// Metrics, when set, is served at GET /metrics and counts every request; with
	// MetricsToken set, /metrics wants "Authorization: Bearer <MetricsToken>",
	// without it /metrics answers loopback clients only (see metricsAuth).
	Metrics      *metrics.Metrics
	MetricsToken string
	// Limits are the rate limits, shared with the console (internal/limits); nil
	// builds the default ones, on Now's clock.
	Limits *limits.Limits
	// MaxUploadBytes bounds an import file (default 20 MiB); SheetLimits bound what
	// reading it may cost (zip bombs, huge cells). OnImport is called after an
	// upload is queued (serve wakes its import runner).
	MaxUploadBytes int64
	SheetLimits    spreadsheet.Limits
	OnImport       func()
	Now            func() time.Time
	// BaseURL is the server's public URL (for the links it shows).
	BaseURL string
	// SCIM, when set, serves /scim/v2/organizations/{org}/… (internal/scim).
	SCIM http.Handler
	// Events, when set, tells a long poll of an application's event feed that the
	// relay numbered something (eventrelay.Relay); without it the poll rereads the
	// feed every second.
	Events interface{ Changed() <-chan struct{} }
	// OIDC, when set, serves /.well-known/openid-configuration and /oauth/…
	// (Sign in with Roster, internal/oidcop).
	OIDC http.Handler
}

// Server is the HTTP handler of the API.
type Server struct {
	svc       *account.Service
	log       *slog.Logger
	ready     func(ctx context.Context) error
	readiness func(ctx context.Context) error
	draining  atomic.Bool
	// checkThroughHuma sends GET /api/v1/check through huma's generic path instead of
	// fastCheck: for the test that compares the two answers.
	checkThroughHuma atomic.Bool
	// checkLog samples the log lines of the check's 200 answers (middleware).
	checkLog sampledLog
	metrics  *metrics.Metrics
	baseURL  string
	now      func() time.Time
	limits   *limits.Limits

	maxUpload   int64
	sheetLimits spreadsheet.Limits
	console     http.Handler
	onImport    func()
	events      interface{ Changed() <-chan struct{} }
	mux         *http.ServeMux
	api         huma.API
	handler     http.Handler
}

// NewServer builds the API handler.
func NewServer(d Deps) *Server {
	hookHumaErrors()
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Limits == nil {
		d.Limits = limits.New(d.Service, d.Logger, limits.Config{}, d.Now)
	}
	if d.MaxUploadBytes <= 0 {
		d.MaxUploadBytes = importer.DefaultMaxBytes
	}
	s := &Server{
		svc:       d.Service,
		log:       d.Logger,
		ready:     d.Ready,
		readiness: d.Readiness,
		metrics:   d.Metrics,
		baseURL:   d.BaseURL,
		now:       d.Now,
		limits:    d.Limits,

		maxUpload:   d.MaxUploadBytes,
		sheetLimits: d.SheetLimits,
		onImport:    d.OnImport,
		events:      d.Events,
		mux:         http.NewServeMux(),
		checkLog:    sampledLog{every: checkLogEvery},
	}
	cfg := huma.DefaultConfig("Roster API", Version)
	cfg.Info.Description = "Account and seat management for software sold to organizations."
	cfg.OpenAPIPath = "/api/v1/openapi"
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.CreateHooks = nil // no $schema links in bodies: the contract's bodies are exact
	cfg.FieldsOptionalByDefault = true
	// The document is served by the server it describes: its paths are relative to
	// that server's root, wherever it runs.
	cfg.Servers = []*huma.Server{{URL: "/", Description: "The Roster server that serves this document."}}
	cfg.Tags = tags
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer":         {Type: "http", Scheme: "bearer", Description: "A session token from POST /api/v1/auth/login."},
		"applicationKey": {Type: "http", Scheme: "bearer", Description: "An application's API key (POST /api/v1/applications/{app}/keys)."},
	}
	cfg.Components.Parameters = map[string]*huma.Param{"IdempotencyKey": idempotencyKeyParam}
	s.api = humago.New(s.mux, cfg)
	s.api.UseMiddleware(s.authenticate, s.idempotent)
	s.routes()
	requireAnswerFields(s.api)
	optionalBodies(s.api)
	unusedSchemas(s.api)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if d.Metrics != nil {
		s.mux.Handle("GET /metrics", metricsAuth(d.MetricsToken, d.Metrics.Handler()))
	}
	if d.SCIM != nil {
		s.mux.Handle("/scim/v2/organizations/", d.SCIM)
	}
	s.mux.Handle("GET /setup/{token}", s.setupHandler())
	s.mux.Handle("POST /setup/{token}", s.setupHandler())
	noRoute := func(w http.ResponseWriter, r *http.Request) {
		r.Pattern = "" // logged and counted as "unmatched", not as the catch-all's pattern
		if allow := s.allowedMethods(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeProblem(w, newProblem(r.Context(), http.StatusMethodNotAllowed, slugMethodNotAllowed,
				r.Method+" is not a method of "+r.URL.Path+"; it takes "+strings.Join(allow, ", ")))
			return
		}
		writeProblem(w, newProblem(r.Context(), http.StatusNotFound, account.ENOTFOUND, "no such route"))
	}
	s.mux.HandleFunc("/api/", noRoute)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if s.console != nil && !apiOwned(r.URL.Path) {
			s.console.ServeHTTP(w, r)
			return
		}
		noRoute(w, r)
	})
	api := s.wellFormed(s.idempotencyBody(s.fastCheck(s.mux)))
	var h http.Handler = api
	if d.OIDC != nil {
		// The provider's endpoints speak OAuth (form bodies, OAuth errors), not
		// the API's JSON and problems.
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/oauth/") || r.URL.Path == "/.well-known/openid-configuration" {
				r.Pattern = "/oauth/"
				d.OIDC.ServeHTTP(w, r)
				return
			}
			inner.ServeHTTP(w, r)
		})
	}
	if d.SCIM != nil {
		// SCIM paths reach the SCIM handler as sent: the mux would answer a path it
		// cleans (a // in it) with a redirect and an HTML body, which no identity
		// provider follows; the SCIM handler answers it with a SCIM 404.
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/scim/") {
				r.Pattern = "/scim/v2/organizations/"
				d.SCIM.ServeHTTP(w, r)
				return
			}
			inner.ServeHTTP(w, r)
		})
	}
	s.handler = s.middleware(s.limitUpload(h))
	return s
}

// probeMethods are the methods a 405's Allow header may name.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// allowedMethods lists the methods the API serves at r's path when r's own method
// reached a catch-all: the path is known (405 with these in Allow) unless none.
// The mux says it, for each method in turn: the routes are its patterns, and
// nothing else needs to know them. GET routes serve HEAD too (net/http).
func (s *Server) allowedMethods(r *http.Request) []string {
	var allow []string
	for _, m := range probeMethods {
		if m == r.Method {
			continue
		}
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" && pattern != "/api/" {
			allow = append(allow, m)
		}
	}
	return allow
}

// Settle waits until the work queued after the answers so far (password resets,
// sign-ups) is done: for tests, which then see its emails (limits.Limits.Settle).
func (s *Server) Settle() { s.limits.Settle() }

// Close stops taking work for after the answer and waits, until ctx ends, for what is
// queued to be done (limits.Limits.Close): call it after the HTTP server's Shutdown,
// before the store closes.
func (s *Server) Close(ctx context.Context) error { return s.limits.Close(ctx) }

// MountConsole serves every path outside the API with h (the admin console); without
// it they answer 404 problems. Call it before serving.
func (s *Server) MountConsole(h http.Handler) { s.console = h }

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// OpenAPI returns the API's OpenAPI document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// healthz answers 200 {"status": "ok"} while the store is migrated and reachable,
// and otherwise the 503 problem every operation answers without its store
// (unavailable, with Retry-After); the cause is logged, not shown.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.ready != nil {
		if err := s.ready(ctx); err != nil {
			s.log.WarnContext(ctx, "health check failed", "err", err)
			p := newProblem(r.Context(), http.StatusServiceUnavailable, account.EUNAVAILABLE, "the store is unreachable or not migrated")
			p.retryAfter = httpedge.UnavailableRetryAfter
			writeProblem(w, p)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok"})
}

// Drain makes /readyz answer 503 from now on, while every other route goes on
// answering: serve calls it on SIGTERM, before it stops accepting, so that a load
// balancer stops sending this process new requests first.
func (s *Server) Drain() { s.draining.Store(true) }

// readyz answers 200 when this process should get traffic: not draining, the store
// reachable and fully migrated.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "draining"})
		return
	}
	check := s.readiness
	if check == nil {
		check = s.ready
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if check != nil {
		if err := check(ctx); err != nil {
			s.log.WarnContext(ctx, "readiness check failed", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]string{"status": "unavailable"})
			return
		}
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok"})
}

// metricsAuth guards /metrics. With a token configured it wants
// "Authorization: Bearer <token>", from anywhere. Without one it answers only a
// client on this host: the TCP peer is a loopback address (127.0.0.0/8, ::1) and
// the request names no forwarding header. The peer is judged, never
// X-Forwarded-For: Roster trusts no proxy's word for a client's address, and a
// proxy on this host makes every client's peer a loopback address, which is why a
// relayed request (Forwarded, X-Forwarded-For, X-Real-IP) is refused too. Anyone
// else gets the 404 of a route that does not exist, as with --metrics=false, so the
// internet does not learn what runs here.
func metricsAuth(token string, next http.Handler) http.Handler {
	if token == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !localClient(r) {
				r.Pattern = "" // counted as "unmatched", like any route that does not exist
				writeProblem(w, newProblem(r.Context(), http.StatusNotFound, account.ENOTFOUND, "no such route"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := httpedge.Bearer(r.Header.Get("Authorization"))
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			writeProblem(w, newProblem(r.Context(), http.StatusUnauthorized, account.EUNAUTHENTICATED,
				"/metrics needs the metrics token: Authorization: Bearer <token>"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// localClient says whether r came straight from this host: a loopback TCP peer,
// and no header saying a proxy relayed it.
func localClient(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	ip, err := netip.ParseAddr(httpedge.PeerIP(r.RemoteAddr))
	return err == nil && ip.Unmap().IsLoopback()
}

type ctxKey int

const (
	actorKey ctxKey = iota
	appKey
)

func requestID(ctx context.Context) string {
	return httpedge.RequestID(ctx)
}

// middleware gives every request an id, security headers, a log line and panic
// recovery (a panic answers 500 problem and is logged with its stack, never a dropped
// connection).
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		ctx := httpedge.WithRequestID(r.Context(), id)
		ctx = httpedge.WithClientIP(ctx, httpedge.PeerIP(r.RemoteAddr))
		r = r.WithContext(ctx)
		h := w.Header()
		h.Set("X-Request-ID", id)
		h["X-Content-Type-Options"] = hdrNosniff
		h["Referrer-Policy"] = hdrNoReferrer
		h["X-Frame-Options"] = hdrDeny
		h["Content-Security-Policy"] = hdrCSP
		h["Cache-Control"] = hdrNoStore
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(ctx, "panic", "panic", p, "request_id", id, "stack", string(debug.Stack()))
				if !rec.wrote {
					writeProblem(rec, newProblem(ctx, http.StatusInternalServerError, account.EINTERNAL, "internal error"))
				}
			}
			route := r.Pattern
			if route == "" || route == "/" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			s.metrics.ObserveRequest(route, rec.status, elapsed)
			if route == checkPattern && rec.status == http.StatusOK {
				// The check's 200s are sampled (checkLog); every other answer is logged.
				if skipped, ok := s.checkLog.take(start.Add(elapsed)); ok {
					s.log.InfoContext(ctx, "request", "method", r.Method, "route", route, "status", rec.status,
						"duration_ms", float64(elapsed.Microseconds())/1000, "request_id", id, "ip", httpedge.PeerIP(r.RemoteAddr),
						"skipped", skipped)
				}
			} else {
				s.log.InfoContext(ctx, "request", "method", r.Method, "route", route, "status", rec.status,
					"duration_ms", float64(elapsed.Microseconds())/1000, "request_id", id, "ip", httpedge.PeerIP(r.RemoteAddr))
			}
			if rec.again != 0 {
				s.log.WarnContext(ctx, "a second status for an answer already sent", "method", r.Method, "route", route,
					"status", rec.status, "second_status", rec.again, "request_id", id)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// The values of the headers middleware sends with every answer, stored under their
// canonical names as Header.Set would store them, without a canonicalisation and a
// slice per answer. Each is a slice of capacity one: an Add appends to a copy.
var (
	hdrNosniff    = []string{"nosniff"}
	hdrNoReferrer = []string{"no-referrer"}
	hdrDeny       = []string{"DENY"}
	hdrCSP        = []string{"default-src 'none'; frame-ancestors 'none'"}
	hdrNoStore    = []string{"no-store"}
)

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	// again is the status of a later WriteHeader, which the answer already sent
	// ignores: logged with the request's route, to find the handler that made it.
	again int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.wrote {
		if code >= 200 && r.again == 0 {
			r.again = code
		}
		return
	}
	if code >= 200 { // 1xx answers come before the real one
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// authMode says what credentials an operation takes.
type authMode int

const (
	public               authMode = iota // no credentials
	session                              // a session, whose password need not be reset
	sessionReset                         // a session, even one that must reset its password
	application                          // an application's API key
	applicationOrSession                 // an application's API key, or a session
	optionalSession                      // anonymous, or a session if a bearer token is given
)

// authenticate resolves the bearer session of operations that need one and puts the
// actor in the context; it enforces the must_reset_password gate.
func (s *Server) authenticate(hctx huma.Context, next func(huma.Context)) {
	mode, _ := hctx.Operation().Metadata["auth"].(authMode)
	if mode == public {
		next(hctx)
		return
	}
	ctx := hctx.Context()
	token, ok := httpedge.Bearer(hctx.Header("Authorization"))
	if !ok && mode == optionalSession {
		next(hctx)
		return
	}
	if p := bearerProblem(ctx, token, ok); p != nil {
		s.writeHuma(hctx, p)
		return
	}
	if mode == application || mode == applicationOrSession && account.IsApplicationKey(token) {
		app, p := s.authenticateApplication(ctx, token)
		if p != nil {
			s.writeHuma(hctx, p)
			return
		}
		next(huma.WithValue(hctx, appKey, app))
		return
	}
	actor, err := s.svc.Authenticate(ctx, token, httpedge.ClientIP(ctx))
	if err != nil {
		s.writeHuma(hctx, problemFor(ctx, s.log, err))
		return
	}
	if mode != sessionReset {
		if err := actor.RequirePasswordCurrent(); err != nil {
			s.writeHuma(hctx, problemFor(ctx, s.log, err))
			return
		}
	}
	next(huma.WithValue(hctx, actorKey, actor))
}

// bearerProblem is the 401 of a request without a usable bearer token (token, ok
// from httpedge.Bearer), nil when it has one.
func bearerProblem(ctx context.Context, token string, ok bool) *Problem {
	if !ok {
		return newProblem(ctx, http.StatusUnauthorized, account.EUNAUTHENTICATED, "this needs a bearer token: Authorization: Bearer <token>")
	}
	if account.TextProblem(token) != "" {
		// No token Roster issues holds a NUL or a byte that is not UTF-8.
		return newProblem(ctx, http.StatusUnauthorized, account.EUNAUTHENTICATED, "the bearer token is not valid")
	}
	return nil
}

// authenticateApplication resolves an application's API key (authenticate, and the
// check's own handler, fastCheck).
func (s *Server) authenticateApplication(ctx context.Context, token string) (account.AppActor, *Problem) {
	app, err := s.svc.AuthenticateApplication(ctx, token)
	if err != nil {
		return app, problemFor(ctx, s.log, err)
	}
	return app, nil
}

func (s *Server) writeHuma(hctx huma.Context, p *Problem) {
	for k, vs := range p.GetHeaders() {
		for _, v := range vs {
			hctx.SetHeader(k, v)
		}
	}
	hctx.SetHeader("Content-Type", "application/problem+json")
	hctx.SetStatus(p.Status)
	_ = json.NewEncoder(hctx.BodyWriter()).Encode(p)
}

// GetHeaders lets huma send Retry-After and WWW-Authenticate with a problem.
func (p *Problem) GetHeaders() http.Header {
	h := http.Header{}
	if p.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.retryAfter))
	}
	if p.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="roster"`)
	}
	return h
}

// actorFrom returns the authenticated actor of an operation that requires one.
func actorFrom(ctx context.Context) account.Actor {
	a, _ := ctx.Value(actorKey).(account.Actor)
	return a
}

func itoa(n int) string { return strconv.Itoa(n) }

// fail converts a use case's error for huma.
// A nil error stays nil, so that handlers of routes without a body can return
// s.fail(ctx, useCase(...)) directly.
func (s *Server) fail(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	return problemFor(ctx, s.log, err)
}
