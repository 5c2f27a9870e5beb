package console

import (
	"net/http"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpapi"
)

// maxForm bounds every form body but the import upload.
const maxForm = 64 << 10

func formValue(r *http.Request, name string) string { return r.PostFormValue(name) }

func limitForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
}

func (c *Console) loginForm(w http.ResponseWriter, r *http.Request, p *page) {
	if p.SignedIn {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, loginPage(p, loginForm{Next: r.URL.Query().Get("next")}, nil, c.signUp))
}

// login opens a session under the API's login limits and sets it as an HttpOnly,
// SameSite=Lax cookie (Secure behind an https base URL); the device cookie makes this
// browser a known device of the account at its next logins.
func (c *Console) login(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	f := loginForm{Email: formValue(r, "email"), Next: formValue(r, "next")}
	ctx := r.Context()
	res, err := c.limits.Login(ctx, account.LoginInput{Email: f.Email, Password: formValue(r, "password"),
		DeviceTokens: deviceTokens(r), UserAgent: truncate(r.UserAgent(), 200)})
	if err != nil {
		prob := c.problemOf(ctx, err)
		retryAfter(w, err)
		c.render(w, r, prob.Status, loginPage(p, f, prob, c.signUp))
		return
	}
	c.setSession(w, res.Token, res.Session.ExpiresAt)
	c.setDevice(w, r, res.DeviceToken)
	if res.Account.MustResetPassword {
		c.redirect(w, r, "/password", "Please choose a new password before you go on.")
		return
	}
	http.Redirect(w, r, localPath(f.Next), http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, p *page) {
	if p.SignedIn {
		if err := c.svc.Logout(r.Context(), p.Actor); err != nil {
			c.fail(w, r, p, err)
			return
		}
	}
	c.clearSession(w)
	c.redirect(w, r, "/login", "You are logged out.")
}

func (c *Console) passwordForm(w http.ResponseWriter, r *http.Request, p *page) {
	p.Section = "me"
	c.render(w, r, http.StatusOK, passwordPage(p, nil))
}

// changePassword sets a new password; the account's other sessions end.
func (c *Console) changePassword(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	p.Section = "me"
	err := c.limits.ChangePassword(r.Context(), p.Actor, formValue(r, "current_password"), formValue(r, "new_password"))
	if err != nil {
		prob := c.problemOf(r.Context(), err)
		retryAfter(w, err)
		c.render(w, r, prob.Status, passwordPage(p, prob))
		return
	}
	c.redirect(w, r, "/", "Your password is changed.")
}

func (c *Console) resetRequestForm(w http.ResponseWriter, r *http.Request, p *page) {
	c.render(w, r, http.StatusOK, resetRequestPage(p, "", false, nil))
}

// requestReset emails a reset link; the page says the same whether or not the email
// has an account.
func (c *Console) requestReset(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	email := formValue(r, "email")
	ctx := r.Context()
	if err := c.limits.RequestPasswordReset(ctx, email); err != nil {
		prob := c.problemOf(ctx, err)
		c.render(w, r, prob.Status, resetRequestPage(p, email, false, prob))
		return
	}
	c.render(w, r, http.StatusOK, resetRequestPage(p, email, true, nil))
}

func (c *Console) resetConfirmForm(w http.ResponseWriter, r *http.Request, p *page) {
	c.render(w, r, http.StatusOK, resetConfirmPage(p, r.PathValue("token"), nil))
}

func (c *Console) resetConfirm(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	token := r.PathValue("token")
	err := c.svc.ResetPassword(r.Context(), token, formValue(r, "new_password"), httpapi.ClientIP(r.Context()))
	if err != nil {
		prob := c.problemOf(r.Context(), err)
		if prob.Status == http.StatusNotFound || prob.Status == http.StatusGone || prob.Status == http.StatusBadRequest {
			prob.Message = "This reset link is no longer valid: it was used, replaced by a newer one, or is over an hour old. Ask for a new one."
		}
		c.render(w, r, prob.Status, resetConfirmPage(p, token, prob))
		return
	}
	c.clearSession(w)
	c.redirect(w, r, "/login", "Your password is set. Log in with it.")
}

func (c *Console) signUpForm(w http.ResponseWriter, r *http.Request, p *page) {
	c.render(w, r, http.StatusOK, signUpPage(p, account.SignUpInput{}, false, nil))
}

func (c *Console) signUpSubmit(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	in := account.SignUpInput{Email: formValue(r, "email"), FirstName: formValue(r, "first_name"),
		LastName: formValue(r, "last_name"), Password: formValue(r, "password")}
	ctx := r.Context()
	if err := c.limits.SignUp(ctx, in); err != nil {
		prob := c.problemOf(ctx, err)
		c.render(w, r, prob.Status, signUpPage(p, in, false, prob))
		return
	}
	c.render(w, r, http.StatusOK, signUpPage(p, in, true, nil))
}

// verifyForm asks for a click rather than verifying on GET, so that a mail
// scanner following the link does not use it up.
func (c *Console) verifyForm(w http.ResponseWriter, r *http.Request, p *page) {
	c.render(w, r, http.StatusOK, verifyPage(p, r.PathValue("token"), false, nil))
}

func (c *Console) verify(w http.ResponseWriter, r *http.Request, p *page) {
	token := r.PathValue("token")
	if _, err := c.svc.VerifyEmail(r.Context(), token, httpapi.ClientIP(r.Context())); err != nil {
		prob := c.problemOf(r.Context(), err)
		prob.Message = "This confirmation link is no longer valid: it was used already or is over 24 hours old."
		c.render(w, r, prob.Status, verifyPage(p, token, false, prob))
		return
	}
	c.render(w, r, http.StatusOK, verifyPage(p, token, true, nil))
}

// invitation is the landing page of an invitation link: set up an account, or
// accept with the invited account's session; a clear page for a dead link.
func (c *Console) invitation(w http.ResponseWriter, r *http.Request, p *page) {
	token := r.PathValue("token")
	inv, err := c.svc.PreviewInvitation(r.Context(), token)
	if err != nil {
		prob := c.problemOf(r.Context(), err)
		c.render(w, r, prob.Status, invitationGone(p, prob))
		return
	}
	c.render(w, r, http.StatusOK, invitationPage(p, token, inv, acceptForm{}, nil))
}

func (c *Console) acceptInvitation(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	ctx := r.Context()
	token := r.PathValue("token")
	inv, err := c.svc.PreviewInvitation(ctx, token)
	if err != nil {
		prob := c.problemOf(ctx, err)
		c.render(w, r, prob.Status, invitationGone(p, prob))
		return
	}
	in := account.AcceptInput{Token: token}
	var actor *account.Actor
	f := acceptForm{FirstName: formValue(r, "first_name"), LastName: formValue(r, "last_name")}
	switch {
	case inv.Claim:
		// The person claims an account an organization set up: a new password, and
		// a new session (claiming ends every other).
		in.Password = formValue(r, "password")
	case inv.AccountExists:
		if !p.SignedIn {
			c.toLogin(w, r)
			return
		}
		actor = &p.Actor
	default:
		in.FirstName, in.LastName, in.Password = f.FirstName, f.LastName, formValue(r, "password")
	}
	res, err := c.svc.AcceptInvitation(ctx, actor, in, httpapi.ClientIP(ctx))
	if err != nil {
		prob := c.problemOf(ctx, err)
		if prob.Status == http.StatusNotFound || prob.Status == http.StatusGone {
			c.render(w, r, prob.Status, invitationGone(p, prob))
			return
		}
		c.render(w, r, prob.Status, invitationPage(p, token, inv, f, prob))
		return
	}
	welcome := "Welcome to " + res.Organization.Name + "."
	if actor == nil {
		// A new account logs in with the password it just chose.
		login, err := c.svc.Login(ctx, res.Account.Email, in.Password, httpapi.ClientIP(ctx), truncate(r.UserAgent(), 200))
		if err != nil {
			c.redirect(w, r, "/login", welcome+" Log in to start.")
			return
		}
		c.setSession(w, login.Token, login.Session.ExpiresAt)
	}
	c.redirect(w, r, "/", welcome)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func orElse(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
