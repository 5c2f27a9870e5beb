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

// signInRoute is the sign-in's own authed. A request that asked for no page
// (prompt=none) and finds nobody signed in, or a password to be changed first, goes
// straight back to the application with login_required (interaction_required);
// any other is authed's, on to signIn.
func (c *Console) signInRoute(w http.ResponseWriter, r *http.Request) {
	p := c.newPage(w, r, "Sign in")
	if c.malformed(w, r, p) {
		return
	}
	if p.storeErr != nil {
		c.fail(w, r, p, p.storeErr)
		return
	}
	if c.oidc != nil && r.Method == http.MethodGet && (!p.SignedIn || p.Actor.Account.MustResetPassword) {
		req, err := c.svc.OIDCAuthRequest(r.Context(), r.PathValue("request"))
		if err == nil && req.Prompts(account.PromptNone) {
			code := account.OIDCLoginRequired
			if p.SignedIn {
				code = account.OIDCInteractionRequired
			}
			if req, err = c.svc.AbandonOIDCSignIn(r.Context(), req.ID); err == nil {
				c.finishSignIn(w, r, p, account.OIDCSignIn{Request: req, PromptError: code})
				return
			}
		}
	}
	c.serveSignedIn(w, r, p, func(r *http.Request, p *page) error { return c.frame(r.Context(), p, "") }, c.signIn)
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
	case si.LoginRequired:
		// The session is older than the application allows: log in again, then back.
		seeOther(w, r, "/login?again=1&next="+url.QueryEscape("/sign-in/"+si.Request.ID))
	case si.PromptError != "" || si.Refusal != nil && si.Request.Prompts(account.PromptNone):
		// No page was to be shown: straight back to the application.
		c.finishSignIn(w, r, p, si)
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
		c.finishSignIn(w, r, p, si)
	}
}

// finishSignIn sends the browser back to the application with the sign-in's
// outcome: a code, or the error the client hears.
func (c *Console) finishSignIn(w http.ResponseWriter, r *http.Request, p *page, si account.OIDCSignIn) {
	to, err := c.oidc.Finish(r.Context(), si)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	seeOther(w, r, to) // after the login's boosted form, too
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
