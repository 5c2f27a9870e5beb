package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"roster.dev/roster/internal/account"
)

// OIDC finishes the sign-ins the console completed ("Sign in with Roster",
// internal/oidcop): the URL back to the application, with a code or access_denied.
type OIDC interface {
	Finish(ctx context.Context, si account.OIDCSignIn) (string, error)
}

// signIn is where /oauth/authorize sends the browser: the console's login first
// (authed; an existing session signs in without a password, a forced password
// change comes first), then the organization — picked when the person is in
// several that use the application — and back to the application.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request, p *page) {
	if c.oidc == nil {
		c.fail(w, r, p, account.Errorf(account.ENOTFOUND, "sign-in is not served here"))
		return
	}
	org := ""
	if r.Method == http.MethodPost {
		org = formValue(r, "organization")
		if org == "" {
			c.fail(w, r, p, account.Invalid("organization", "is required: pick one"))
			return
		}
	}
	si, err := c.svc.SignInOIDC(r.Context(), p.Actor, r.PathValue("request"), org)
	if account.ErrorCode(err) == account.ENOTFOUND {
		p.Title = "Sign-in expired"
		c.render(w, r, http.StatusNotFound, errorPage(p, &problem{Status: http.StatusNotFound,
			Message: "This sign-in has expired or was already used. Go back to the application and sign in again."}))
		return
	}
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	switch {
	case len(si.Choices) > 0:
		allowFormTarget(w, si.Request.RedirectURI)
		p.Title = "Sign in to " + si.Client.Application.Name
		c.render(w, r, http.StatusOK, signInPickerPage(p, si))
	case si.Refusal != nil:
		back, err := c.oidc.Finish(r.Context(), si)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		p.Title = "You cannot sign in to " + si.Client.Application.Name
		c.render(w, r, http.StatusForbidden, signInRefusedPage(p, si, back))
	default:
		to, err := c.oidc.Finish(r.Context(), si)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		// A boosted form (the login's) followed the redirects here: the browser
		// itself goes to the application, not htmx's request.
		if r.Header.Get("HX-Request") == "true" {
			w.Header().Set("HX-Redirect", to)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	}
}

// allowSignInTarget widens the page's form-action to the application's origin when
// the form's next step (next) is a sign-in to it: Chromium checks form-action on
// every redirect that follows a form's submission, the last one, to the
// application's callback, too.
func (c *Console) allowSignInTarget(w http.ResponseWriter, r *http.Request, next string) {
	id, ok := strings.CutPrefix(next, "/sign-in/")
	if !ok || c.oidc == nil || id == "" || strings.Contains(id, "/") {
		return
	}
	req, err := c.svc.OIDCAuthRequest(r.Context(), id)
	if err != nil {
		return
	}
	allowFormTarget(w, req.RedirectURI)
}

// allowFormTarget lets the page's forms lead to target's origin.
func allowFormTarget(w http.ResponseWriter, target string) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return
	}
	origin := u.Scheme + "://" + u.Host
	if strings.ContainsAny(origin, " ;,'\"\\") {
		return
	}
	w.Header().Set("Content-Security-Policy", strings.Replace(csp, "form-action 'self'", "form-action 'self' "+origin, 1))
}
