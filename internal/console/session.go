package console

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpedge"
	"roster.dev/roster/internal/wellformed"
)

const (
	sessionCookie = "roster_session"
	flashCookie   = "roster_flash"
	// deviceCookie holds the device tokens of the accounts that logged in on this
	// browser (Server.Login), newest first, separated by dots; only /login reads it.
	deviceCookie = "roster_device"
	maxDevices   = 4
)

// page is what every handler and template knows of the request: who is signed in,
// the organization in scope and its permissions, and the page's own title.
type page struct {
	Actor    account.Actor
	SignedIn bool
	Access   *account.Access // nil outside an organization
	// orgRef is the {org} of the path (an id or a slug), for the pages that read
	// their frame with their content.
	orgRef string
	// section is the Section of a page in an organization, marked once the actor's
	// access there is known.
	section string
	// Memberships are the signed-in account's, for the organization switcher.
	Memberships []account.AccountMembership
	Flash       string
	Title       string
	Section     string    // the navigation entry to mark current
	now         time.Time // the console's clock when the request came
	// storeErr is why the session could not be looked up: the store is unavailable.
	storeErr error
	// apps names the applications by key, for every place a key would otherwise show.
	apps map[string]string
	// applications are the applications, as the page's frame read them.
	applications []account.Application
	// roles are the custom roles of the signed-in account's memberships that it may
	// read, to name them in the switcher and on /me.
	roles []account.Role
	// partners are the organizations under the partners the account administers,
	// for the switcher and /me.
	partners []account.PartnerOrganizations
}

// appName is the name of the application with key (the key if it is unknown).
func (p *page) appName(key string) string {
	if n := p.apps[key]; n != "" {
		return n
	}
	return key
}

// Org is the organization in scope.
func (p *page) Org() account.Organization {
	if p.Access == nil {
		return account.Organization{}
	}
	return p.Access.Organization
}

// Can reports whether the signed-in account holds perm in the organization in scope.
func (p *page) Can(perm account.Permission) bool { return p.Access != nil && p.Access.Can(perm) }

// base is the path prefix of the organization in scope.
func (p *page) base() string { return "/o/" + url.PathEscape(p.Org().Slug) }

func (p *page) operator() bool { return p.SignedIn && p.Actor.Account.Operator }

// newPage reads the session cookie (an invalid or expired one is cleared) and the
// flash message.
func (c *Console) newPage(w http.ResponseWriter, r *http.Request, title string) *page {
	p := &page{Title: title, now: c.now()}
	if ck, err := r.Cookie(flashCookie); err == nil {
		p.Flash = decodeFlash(ck.Value)
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
	}
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return p
	}
	actor, err := c.svc.Authenticate(r.Context(), ck.Value, httpedge.ClientIP(r.Context()))
	if account.ErrorCode(err) == account.EUNAVAILABLE {
		// The session may well be valid: keep it, and say the store is away.
		p.storeErr = err
		return p
	}
	if err != nil {
		c.clearSession(w)
		return p
	}
	p.Actor, p.SignedIn = actor, true
	return p
}

func (c *Console) setSession(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
}

// deviceTokens are the device tokens the browser holds.
func deviceTokens(r *http.Request) []string {
	ck, err := r.Cookie(deviceCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	tokens := strings.Split(ck.Value, ".")
	return tokens[:min(len(tokens), maxDevices)]
}

// setDevice keeps token (an account's device token) first in the device cookie, with
// up to maxDevices-1 of the other accounts' that the browser held. The cookie is
// HttpOnly, SameSite=Strict (only the console's own login form sends it) and Secure
// behind an https base URL.
func (c *Console) setDevice(w http.ResponseWriter, r *http.Request, token string) {
	if !account.IsDeviceToken(token) {
		return
	}
	keep := []string{token}
	for _, t := range deviceTokens(r) {
		if t != token && account.IsDeviceToken(t) && len(keep) < maxDevices {
			keep = append(keep, t)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: strings.Join(keep, "."), Path: "/login",
		MaxAge: int(account.DeviceTokenTTL / time.Second), HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteStrictMode})
}

func (c *Console) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
}

// handler is a console handler that has its page.
type handler func(w http.ResponseWriter, r *http.Request, p *page)

// public serves a page that needs no session (but knows of one).
func (c *Console) public(title string, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := c.newPage(w, r, title)
		if c.malformed(w, r, p) {
			return
		}
		if p.storeErr != nil {
			c.fail(w, r, p, p.storeErr)
			return
		}
		h(w, r, p)
	}
}

// malformed answers 422, naming the field, for a NUL or invalid UTF-8 in the path,
// the query or a form field (the API's own check, see wellformed), before the page's
// handler or a use case sees the request. It reads a url-encoded form under the
// console's form limit; an upload's file is the importer's to check, cell by cell.
func (c *Console) malformed(w http.ResponseWriter, r *http.Request, p *page) bool {
	fault := wellformed.Path(r, r.Pattern)
	if fault == nil {
		fault = wellformed.Query(r)
	}
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); fault == nil && r.Method == http.MethodPost &&
		strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
		limitForm(w, r)
		if err := r.ParseForm(); err == nil {
			fault = wellformed.Values(r.PostForm)
		}
	}
	if fault == nil {
		return false
	}
	prob := &problem{Status: http.StatusUnprocessableEntity, Message: fault.Field + " " + fault.Message + ".",
		Fields: map[string]string{fault.Field: fault.Message}}
	p.Title = http.StatusText(prob.Status)
	c.render(w, r, prob.Status, errorPage(p, prob))
	return true
}

// authed serves a page that needs a session: without one the browser is sent to log
// in (and back here afterwards); an account that must change its password is sent to
// do that first. The page's frame (the switcher, the applications' names) is read
// before h runs.
func (c *Console) authed(title string, h handler) http.HandlerFunc {
	return c.signedIn(title, func(r *http.Request, p *page) error {
		return c.frame(r.Context(), p, "")
	}, h)
}

// signedIn is authed with the frame read by frame, or by h itself when frame is nil.
func (c *Console) signedIn(title string, frame func(r *http.Request, p *page) error, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := c.newPage(w, r, title)
		if c.malformed(w, r, p) {
			return
		}
		if p.storeErr != nil {
			c.fail(w, r, p, p.storeErr)
			return
		}
		c.serveSignedIn(w, r, p, frame, h)
	}
}

// serveSignedIn is signedIn's work once p is read: to the login without a
// session, to a new password when one must be chosen, else h with the frame.
func (c *Console) serveSignedIn(w http.ResponseWriter, r *http.Request, p *page, frame func(r *http.Request, p *page) error, h handler) {
	if !p.SignedIn {
		c.toLogin(w, r)
		return
	}
	if p.Actor.Account.MustResetPassword && r.URL.Path != "/password" {
		// A page asked for (a sign-in to an application) comes after.
		to := "/password"
		if r.Method == http.MethodGet && r.URL.Path != "/" {
			to += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		c.redirect(w, r, to, "Please choose a new password before you go on.")
		return
	}
	if frame != nil {
		if err := frame(r, p); err != nil {
			c.fail(w, r, p, err)
			return
		}
	}
	h(w, r, p)
}

// frame reads the page's frame, with the actor's access in orgRef unless it is
// empty, in one read; what was read is kept even on an error, for the error page.
func (c *Console) frame(ctx context.Context, p *page, orgRef string) error {
	f, err := c.svc.FindFrame(ctx, p.Actor, orgRef)
	p.setFrame(f)
	return err
}

// setFrame keeps what the layout shows of f: the memberships for the switcher, the
// applications' names, the custom roles it may name, and the access in scope.
func (p *page) setFrame(f account.Frame) {
	p.Memberships, p.roles, p.Access, p.applications = f.Memberships, f.Roles, f.Access, f.Applications
	p.partners = f.Partners
	if f.Access != nil && p.section != "" {
		p.Section = p.section
	}
	p.apps = make(map[string]string, len(f.Applications))
	for _, a := range f.Applications {
		p.apps[a.Key] = a.Name
	}
}

// inOrg serves a page of the organization in the path ({org}, an id or a slug),
// after resolving the actor's permissions there (in the frame's read): another
// tenant's organization is not found.
func (c *Console) inOrg(title, section string, h handler) http.HandlerFunc {
	return c.signedIn(title, func(r *http.Request, p *page) error {
		p.orgRef, p.section = r.PathValue("org"), section
		return c.frame(r.Context(), p, p.orgRef)
	}, h)
}

// orgScreen is inOrg for a page whose handler reads the frame itself, with its
// content, in one read (the Users screen: FindMemberList).
func (c *Console) orgScreen(title, section string, h handler) http.HandlerFunc {
	return c.signedIn(title, nil, func(w http.ResponseWriter, r *http.Request, p *page) {
		p.orgRef, p.section = r.PathValue("org"), section
		h(w, r, p)
	})
}

// needs serves h only to an account that holds perm in the organization in scope:
// a screen whose one purpose is an action the account cannot take is refused when
// it is opened, not after it was filled in.
func (c *Console) needs(perm account.Permission, h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, p *page) {
		if !p.Can(perm) {
			c.fail(w, r, p, &account.Error{Code: account.EFORBIDDEN,
				Message: "your role in " + p.Org().Name + " does not allow this; ask one of its administrators"})
			return
		}
		h(w, r, p)
	}
}

func (c *Console) toLogin(w http.ResponseWriter, r *http.Request) {
	target := "/login"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	seeOther(w, r, target)
}

// seeOther sends the browser itself to target: a 303, or for an htmx request (a
// boosted form, which followed the redirects to here) HX-Redirect, so that the
// whole page goes there rather than htmx's request.
func seeOther(w http.ResponseWriter, r *http.Request, target string) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// localPath keeps a "next" or "back" parameter on this site: a path starting with a
// single "/", never a scheme, host or protocol-relative URL ("//", "/\\"), never a
// backslash or a dot segment (also escaped: "..%2F", "%2e%2e") that could climb out
// of the page it names. Anything else is "/".
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" || u.Opaque != "" || strings.Contains(u.Path, "\\") {
		return "/"
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return "/"
		}
	}
	return u.RequestURI()
}

// backTo is a form's "back" parameter when it is a local path (localPath) to the
// list page itself — with a query, or a page below it — and list otherwise.
func backTo(back, list string) string {
	if b := localPath(back); b == list || strings.HasPrefix(b, list+"?") || strings.HasPrefix(b, list+"/") {
		return b
	}
	return list
}

func encodeFlash(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decodeFlash(s string) string {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 300 {
		return ""
	}
	return string(b)
}
