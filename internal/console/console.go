// Package console is Roster's admin console: server-rendered pages (templ, with htmx
// 2 for partial updates, both embedded) over the same use cases as the API. Every
// form is guarded by http.CrossOriginProtection; the session is a cookie holding an
// ordinary session token.
package console

import (
	"context"
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpapi"
	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/spreadsheet"
)

//go:generate go run github.com/a-h/templ/cmd/templ@v0.3.1100 generate

//go:embed static
var static embed.FS

// Deps are what the console needs, wired by internal/app.
type Deps struct {
	Service *account.Service
	Logger  *slog.Logger
	// Limits are the rate limits the API shares (internal/limits), so that the console
	// is no way around them.
	Limits *limits.Limits
	// BaseURL is Roster's public URL; an https one makes the session cookie Secure.
	BaseURL string
	// MaxUploadBytes and SheetLimits bound an import file; OnImport wakes the runner.
	MaxUploadBytes int64
	SheetLimits    spreadsheet.Limits
	OnImport       func()
	// SignUp offers self-service sign-up on the login page.
	SignUp bool
	Now    func() time.Time
	// OIDC finishes the applications' sign-ins ("Sign in with Roster"); nil: none.
	OIDC OIDC
}

// Console is the console's http.Handler.
type Console struct {
	svc       *account.Service
	log       *slog.Logger
	limits    *limits.Limits
	secure    bool
	baseURL   string
	maxUpload int64
	sheet     spreadsheet.Limits
	onImport  func()
	signUp    bool
	now       func() time.Time
	oidc      OIDC
	mux       *http.ServeMux
	handler   http.Handler
}

// New builds the console.
func New(d Deps) *Console {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.OnImport == nil {
		d.OnImport = func() {}
	}
	c := &Console{
		svc: d.Service, log: d.Logger, limits: d.Limits,
		secure: strings.HasPrefix(d.BaseURL, "https://"), baseURL: strings.TrimRight(d.BaseURL, "/"),
		maxUpload: d.MaxUploadBytes, sheet: d.SheetLimits, onImport: d.OnImport,
		signUp: d.SignUp, now: d.Now, oidc: d.OIDC, mux: http.NewServeMux(),
	}
	c.routes()
	cop := http.NewCrossOriginProtection()
	c.handler = c.headers(cop.Handler(c.mux))
	return c
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

// csp allows the console's own scripts and styles only: no inline script, no eval
// (htmx is configured without them), no framing.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func (c *Console) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		h.Set("Vary", "HX-Request, HX-Target")
		next.ServeHTTP(w, r)
	})
}

// staticHandler serves the embedded assets; their names carry their version, so
// they may be cached for a long time.
func staticHandler() http.Handler {
	fs := http.FileServerFS(static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		fs.ServeHTTP(w, r)
	})
}

// render writes a page or a fragment with status.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, comp templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method == http.MethodPost {
		// A form shown again (with its errors, or a step's result) keeps the address
		// of the page it was on, which a reload can still GET.
		w.Header().Set("HX-Push-Url", "false")
	}
	w.WriteHeader(status)
	if err := comp.Render(r.Context(), w); err != nil && !errors.Is(err, context.Canceled) {
		c.log.ErrorContext(r.Context(), "render", "err", err, "path", r.URL.Path)
	}
}

// redirect sends the browser to url after a successful form (see other), with a
// flash message for the next page.
func (c *Console) redirect(w http.ResponseWriter, r *http.Request, url, flash string) {
	if flash != "" {
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: encodeFlash(flash), Path: "/",
			MaxAge: 60, HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, url, http.StatusSeeOther)
}

// problem is a use case's error as the API would answer it: status, message and
// the fields at fault, for the page to show inline.
type problem struct {
	Status  int
	Message string
	// Fields are the form fields' errors, each as sentences (addField), by the
	// form field's name; Order lists them as the domain gave them.
	Fields map[string]string
	Order  []string
	// RetryAfter, in seconds, is the Retry-After the API would send (0: none).
	RetryAfter int
}

// takenMessage is the store's and the domain's answer to a unique name taken.
var takenMessage = regexp.MustCompile(`^[a-z ]+: [a-z_]+ is already taken`)

func (p *problem) field(name string) string {
	if p == nil {
		return ""
	}
	return p.Fields[name]
}

// problemOf converts err with the API's own mapping (so the console and the API say
// the same thing); internal errors are logged there and shown without detail.
func (c *Console) problemOf(ctx context.Context, err error) *problem {
	hp := httpapi.ProblemFor(ctx, c.log, err)
	p := &problem{Status: hp.Status, Message: hp.Detail, Fields: map[string]string{}, RetryAfter: hp.RetryAfter()}
	switch {
	case hp.Status == http.StatusServiceUnavailable:
		p.Message = "Roster cannot reach its database just now. Nothing was changed; please try again in a few seconds."
	case hp.Status >= 500:
		p.Message = "Something went wrong on our side; the request id " + hp.RequestID + " identifies it in the server's log."
	}
	for _, f := range hp.Errors {
		if hp.Code() == account.EQUOTAEXCEEDED { // the message names the application; the field ("no seat left") does not
			name, _ := formField(f.Field)
			p.setField(name, sentenceEnd(p.Message))
			continue
		}
		p.addField(f.Field, f.Message)
	}
	// A message that only restates its fields ("account: username is already
	// taken") gives way to the fields' own sentences.
	if len(p.Fields) > 0 && (hp.Code() == account.EINVALID || takenMessage.MatchString(p.Message)) {
		p.Message = "Please correct the fields marked below."
	}
	return p
}

// retryAfter sends the Retry-After of a rate limit's refusal, when err is one.
func retryAfter(w http.ResponseWriter, err error) {
	if s := limits.RetryAfterOf(err); s > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(s))
	}
}

// fail renders the error page of err: 404 for what the actor may not see, 403 for
// what it may not do.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, p *page, err error) {
	prob := c.problemOf(r.Context(), err)
	if prob.Status == http.StatusUnauthorized {
		c.clearSession(w)
		c.toLogin(w, r)
		return
	}
	if prob.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(prob.RetryAfter))
	}
	p.Title = http.StatusText(prob.Status)
	c.render(w, r, prob.Status, errorPage(p, prob))
}
