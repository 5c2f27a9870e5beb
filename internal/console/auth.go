package console

import (
	"net/http"
	"net/url"
	"strings"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpedge"
)

// maxForm bounds every form body but the import upload.
const maxForm = 64 << 10

func formValue(r *http.Request, name string) string { return r.PostFormValue(name) }

func limitForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
}

// loginForm is the login page; a signed-in person goes on to next, but for a
// sign-in that asks for a fresh login (again=1, from signIn), which they log in
// to anew.
func (c *Console) loginForm(w http.ResponseWriter, r *http.Request, p *page) {
	f := loginForm{Next: r.URL.Query().Get("next"), Again: r.URL.Query().Get("again") == "1"}
	if p.SignedIn && !f.Again {
		http.Redirect(w, r, localPath(f.Next), http.StatusSeeOther)
		return
	}
	if p.SignedIn {
		f.Email = p.Actor.Account.Email
	}
	c.allowSignInTarget(w, r, f.Next)
	c.render(w, r, http.StatusOK, loginPage(p, f, nil, c.signUp))
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
		c.allowSignInTarget(w, r, f.Next)
		c.render(w, r, prob.Status, loginPage(p, f, prob, c.signUp))
		return
	}
	c.setSession(w, res.Token, res.Session.ExpiresAt)
	c.setDevice(w, r, res.DeviceToken)
	if res.Account.MustResetPassword {
		next := "/password"
		if n := localPath(f.Next); n != "/" {
			next += "?next=" + url.QueryEscape(n)
		}
		c.redirect(w, r, next, "Please choose a new password before you go on.")
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
	c.allowSignInTarget(w, r, localPath(r.URL.Query().Get("next")))
	c.render(w, r, http.StatusOK, passwordPage(p, localPath(r.URL.Query().Get("next")), nil))
}

// changePassword sets a new password; the account's other sessions end.
func (c *Console) changePassword(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	p.Section = "me"
	next := localPath(formValue(r, "next"))
	err := c.limits.ChangePassword(r.Context(), p.Actor, formValue(r, "current_password"), formValue(r, "new_password"))
	if err != nil {
		prob := c.problemOf(r.Context(), err)
		retryAfter(w, err)
		c.render(w, r, prob.Status, passwordPage(p, next, prob))
		return
	}
	c.redirect(w, r, next, "Your password is changed.")
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

// linkToken is the token in the path of an emailed link's page when it has the
// form of prefix's tokens (account.WellFormedToken). A path value is data: an
// escaped slash or a dot segment in it must never reach a form's action, so
// anything else is the page's 404, before any lookup.
func linkToken(r *http.Request, prefix string) (string, bool) {
	t := r.PathValue("token")
	return t, account.WellFormedToken(prefix, t)
}

// deadResetLink is the problem of a reset link that cannot be used.
func deadResetLink(status int) *problem {
	return &problem{Status: status, Fields: map[string]string{},
		Message: "This reset link is no longer valid: it was used, replaced by a newer one, or is over an hour old. Ask for a new one."}
}

func (c *Console) resetConfirmForm(w http.ResponseWriter, r *http.Request, p *page) {
	token, ok := linkToken(r, account.ResetTokenPrefix)
	if !ok {
		c.render(w, r, http.StatusNotFound, resetConfirmPage(p, "", deadResetLink(http.StatusNotFound)))
		return
	}
	c.render(w, r, http.StatusOK, resetConfirmPage(p, token, nil))
}

func (c *Console) resetConfirm(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	token, ok := linkToken(r, account.ResetTokenPrefix)
	if !ok {
		c.render(w, r, http.StatusNotFound, resetConfirmPage(p, "", deadResetLink(http.StatusNotFound)))
		return
	}
	err := c.svc.ResetPassword(r.Context(), token, formValue(r, "new_password"), httpedge.ClientIP(r.Context()))
	if err != nil {
		prob := c.problemOf(r.Context(), err)
		if prob.Status == http.StatusNotFound || prob.Status == http.StatusGone || prob.Status == http.StatusBadRequest {
			prob = deadResetLink(prob.Status)
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
		LastName: formValue(r, "last_name")}
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
	token, ok := linkToken(r, account.VerifyTokenPrefix)
	if !ok {
		c.render(w, r, http.StatusNotFound, verifyPage(p, "", nil, deadVerifyLink(http.StatusNotFound)))
		return
	}
	c.render(w, r, http.StatusOK, verifyPage(p, token, nil, nil))
}

// deadVerifyLink is the problem of a sign-up's link that cannot be used.
func deadVerifyLink(status int) *problem {
	return &problem{Status: status, Fields: map[string]string{},
		Message: "This confirmation link is no longer valid: it was used already, replaced by a newer sign-up, or is over 24 hours old."}
}

// verify confirms a sign-up: the person proves the mailbox by following the link,
// and chooses the account's password here, so that whoever signed up first (who
// may not own the mailbox) never sets it.
func (c *Console) verify(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	token, ok := linkToken(r, account.VerifyTokenPrefix)
	if !ok {
		c.render(w, r, http.StatusNotFound, verifyPage(p, "", nil, deadVerifyLink(http.StatusNotFound)))
		return
	}
	pw := formValue(r, "password")
	if confirm := formValue(r, "password_confirm"); pw != confirm {
		prob := &problem{Status: http.StatusUnprocessableEntity, Message: "Please correct the fields marked below.",
			Fields: map[string]string{"password_confirm": "does not match the password"}}
		c.render(w, r, prob.Status, verifyPage(p, token, nil, prob))
		return
	}
	a, err := c.svc.VerifyEmail(r.Context(), token, pw, httpedge.ClientIP(r.Context()))
	if err != nil {
		prob := c.problemOf(r.Context(), err)
		if prob.Status != http.StatusUnprocessableEntity {
			prob = deadVerifyLink(prob.Status)
		}
		c.render(w, r, prob.Status, verifyPage(p, token, nil, prob))
		return
	}
	// What the address's domain gave: the organization it joined at once (a join
	// policy of auto), or the one it may ask to join (suggest). Only verified
	// domains count (account.domainSuggestions); the page still says the account is
	// ready if this read fails.
	done := &signedUp{}
	if _, ms, sug, err := c.svc.Me(r.Context(), account.Actor{Account: a}); err == nil {
		for _, m := range ms {
			if m.State == account.MemberActive {
				done.Joined = append(done.Joined, m.Organization)
			}
		}
		done.Suggested = sug
	}
	c.render(w, r, http.StatusOK, verifyPage(p, "", done, nil))
}

// signedUp is what a confirmed sign-up leads to, by its email's verified domain.
type signedUp struct {
	Joined, Suggested []account.Organization
}

// invitation is the landing page of an invitation link: set up an account, or
// accept with the invited account's session; a clear page for a dead link.
func (c *Console) invitation(w http.ResponseWriter, r *http.Request, p *page) {
	token, ok := c.invitationToken(w, r, p)
	if !ok {
		return
	}
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
	token, ok := c.invitationToken(w, r, p)
	if !ok {
		return
	}
	inv, err := c.svc.PreviewInvitation(ctx, token)
	if err != nil {
		prob := c.problemOf(ctx, err)
		c.render(w, r, prob.Status, invitationGone(p, prob))
		return
	}
	in := account.AcceptInput{Token: token}
	var actor *account.Actor
	f := acceptForm{FirstName: formValue(r, "first_name"), LastName: formValue(r, "last_name"),
		Phone: formValue(r, "phone"), Username: formValue(r, "username")}
	// The profile fields the organization requires and the account lacks, on every
	// kind of acceptance (the domain refuses it without them).
	in.Phone, in.Username = f.Phone, f.Username
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
	res, err := c.svc.AcceptInvitation(ctx, actor, in, httpedge.ClientIP(ctx))
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
		login, err := c.svc.Login(ctx, res.Account.Email, in.Password, httpedge.ClientIP(ctx), truncate(r.UserAgent(), 200))
		if err != nil {
			c.redirect(w, r, "/login", welcome+" Log in to start.")
			return
		}
		c.setSession(w, login.Token, login.Session.ExpiresAt)
	}
	c.redirect(w, r, "/", welcome)
}

// invitationToken is the token of an invitation link's page, or false when the
// answer is written already: the page's 404 for a path that is no invitation token,
// and, for a session that must change its password, the password page first (and
// back here afterwards) — no invitation is accepted with such a session.
func (c *Console) invitationToken(w http.ResponseWriter, r *http.Request, p *page) (string, bool) {
	token, ok := linkToken(r, account.InvitationTokenPrefix)
	if !ok {
		c.render(w, r, http.StatusNotFound, invitationGone(p, &problem{Status: http.StatusNotFound, Fields: map[string]string{},
			Message: "Invitation not found: the link is wrong, or a newer invitation replaced it"}))
		return "", false
	}
	if p.SignedIn && p.Actor.Account.MustResetPassword {
		c.redirect(w, r, "/password?next="+url.QueryEscape("/invitations/"+url.PathEscape(token)),
			"Please choose a new password before you go on.")
		return "", false
	}
	return token, true
}

// requiredList names required profile fields as prose: "a phone number and a
// username".
func requiredList(fields []string) string {
	names := make([]string, 0, len(fields))
	for _, f := range fields {
		if f == account.ProfilePhone {
			names = append(names, "a phone number")
		} else {
			names = append(names, "a username")
		}
	}
	if len(names) == 2 {
		return names[0] + " and " + names[1]
	}
	return strings.Join(names, ", ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
