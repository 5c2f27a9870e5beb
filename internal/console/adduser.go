package console

import (
	"cmp"
	"context"
	"net/http"
	"strings"

	"roster.dev/roster/internal/account"
)

// addUserView is the two-step Add user form: the email first, then what the
// organization needs (names only for an unknown email).
type addUserView struct {
	Step     string // "email" or "details"
	In       account.AddMemberInput
	Newcomer account.Newcomer
	// Offer is what the actor may give: roles, teams and seats, and for a partner
	// the roles in each of its organizations.
	Offer   account.Offer
	Problem *problem
	// OrgRoles is, for a partner, the role chosen in each of its organizations
	// ("" for none).
	OrgRoles map[string]string
}

func (v *addUserView) sendInvite() bool { return v.In.SendInvite == nil || *v.In.SendInvite }

func (c *Console) addUserForm(w http.ResponseWriter, r *http.Request, p *page) {
	c.render(w, r, http.StatusOK, addUserPage(p, &addUserView{Step: "email", In: account.AddMemberInput{Role: "member"}}))
}

// addUser runs both steps: "email" looks the address up, "details" adds the person.
func (c *Console) addUser(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, p, account.Invalid("email", "the form could not be read"))
		return
	}
	ctx := r.Context()
	f := r.PostForm
	send := f.Get("send_invite") == "on"
	v := &addUserView{Step: "details", In: account.AddMemberInput{
		Email: f.Get("email"), FirstName: f.Get("first_name"), LastName: f.Get("last_name"),
		Phone: f.Get("phone"), Username: f.Get("username"), Role: cmp.Or(f.Get("role"), "member"),
		Teams: f["team"], Applications: f["application"], SendInvite: &send, Password: f.Get("password"),
		ResetPasswordOnFirstLogin: f.Get("reset_password") == "on",
	}}
	if f.Get("step") == "email" {
		v.In.SendInvite = nil // on by default
	} else if !send {
		v.In.SendInvite = &send
	}
	n, err := c.svc.FindNewcomer(ctx, p.Actor, p.Org().ID, v.In.Email)
	switch {
	case err == nil && n.Member:
		err = account.Errorf(account.EDUPLICATEEMAIL, "%s is already a member of %s", n.Email, p.Org().Name)
	case err == nil && n.Disabled:
		err = &account.Error{Code: account.EFORBIDDEN, Message: "the account of " + n.Email + " is disabled",
			Fields: []account.FieldError{{Field: "email", Message: "belongs to a disabled account, which cannot be added"}}}
	}
	if err != nil {
		c.addUserProblem(w, r, p, &addUserView{Step: "email", In: v.In}, err)
		return
	}
	v.Newcomer = n
	if err := c.addUserChoices(ctx, p, v); err != nil {
		c.fail(w, r, p, err)
		return
	}
	if f.Get("step") == "email" {
		c.render(w, r, http.StatusOK, addUserPage(p, v))
		return
	}
	if p.Org().Kind == account.KindPartner {
		c.addToPartner(w, r, p, v)
		return
	}
	m, err := c.svc.AddMemberWithin(ctx, p.Actor, p.Org().ID, v.In, c.limits)
	if err != nil {
		c.addUserProblem(w, r, p, v, err)
		return
	}
	done := account.DisplayName(m.Account) + " is added to " + p.Org().Name + "."
	if m.State == account.MemberInvited {
		done = "An invitation is on its way to " + m.Account.Email + "."
	}
	c.redirect(w, r, p.base()+"/users/"+seg(m.AccountID), done)
}

func (c *Console) addUserProblem(w http.ResponseWriter, r *http.Request, p *page, v *addUserView, err error) {
	v.Problem = c.problemOf(r.Context(), err)
	if v.Problem.Status == http.StatusConflict && account.ErrorCode(err) == account.EDUPLICATEEMAIL {
		v.Problem.setField("email", "This person is already a member of "+p.Org().Name+".")
		v.Step = "email"
	}
	if v.Step == "details" {
		if cerr := c.addUserChoices(r.Context(), p, v); cerr != nil {
			c.fail(w, r, p, cerr)
			return
		}
	}
	c.render(w, r, v.Problem.Status, addUserPage(p, v))
}

// addToPartner adds a person to a partner as PRODUCT.md's steps go: details, then a
// role in each of the partner's organizations, then a role in the partner itself.
// Each membership is its own use case (one transaction, audit event and email
// each, within the invitation limit as every addition is); the page reports every
// one, so a refusal in one organization is clear and does not undo the others.
func (c *Console) addToPartner(w http.ResponseWriter, r *http.Request, p *page, v *addUserView) {
	ctx := r.Context()
	var done, failed []string
	for _, o := range v.Offer.Organizations {
		role := r.PostForm.Get("org_role:" + o.Organization.ID)
		v.OrgRoles[o.Organization.ID] = role
		if role == "" {
			continue
		}
		in := v.In
		in.Role, in.Teams, in.Applications = role, nil, nil
		if _, err := c.svc.AddMemberWithin(ctx, p.Actor, o.Organization.ID, in, c.limits); err != nil {
			failed = append(failed, o.Organization.Name+": "+errorText(err))
			continue
		}
		done = append(done, o.Organization.Name)
	}
	partnerRole := r.PostForm.Get("role")
	if partnerRole != "" {
		in := v.In
		in.Role = partnerRole
		if _, err := c.svc.AddMemberWithin(ctx, p.Actor, p.Org().ID, in, c.limits); err != nil {
			failed = append(failed, p.Org().Name+": "+errorText(err))
		} else {
			done = append(done, p.Org().Name)
		}
	}
	if len(done) == 0 && len(failed) == 0 {
		v.Problem = &problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{},
			Message: "Choose a role in at least one of the organizations, or in " + p.Org().Name + " itself: nobody was added."}
		c.render(w, r, v.Problem.Status, addUserPage(p, v))
		return
	}
	if len(failed) > 0 {
		v.Problem = &problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{},
			Message: "Not added to " + strings.Join(failed, " Not added to ")}
		if len(done) > 0 {
			v.Problem.Message = "Added to " + strings.Join(done, ", ") + ". " + v.Problem.Message
		}
		c.render(w, r, v.Problem.Status, addUserPage(p, v))
		return
	}
	c.redirect(w, r, p.base()+"/users", v.Newcomer.Email+" is added to "+strings.Join(done, ", ")+".")
}

// addUserChoices reads what the form may offer: the domain's offer, in one call
// (for a partner with the roles in each of its organizations).
func (c *Console) addUserChoices(ctx context.Context, p *page, v *addUserView) (err error) {
	if v.OrgRoles == nil {
		v.OrgRoles = map[string]string{}
	}
	v.Offer, err = c.svc.FindOffer(ctx, p.Actor, p.Org().ID)
	return err
}

// inviteView is the Invite users form and, after sending, each email's result.
type inviteView struct {
	Emails  string
	In      account.InviteInput
	Offer   account.Offer // the roles, teams and seats the actor may give
	Results []account.InviteResult
	Problem *problem
}

func (c *Console) inviteForm(w http.ResponseWriter, r *http.Request, p *page) {
	v := &inviteView{In: account.InviteInput{Role: "member"}}
	if err := c.inviteChoices(r.Context(), p, v); err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.render(w, r, http.StatusOK, invitePage(p, v))
}

// invite invites several emails at once with one role, teams and applications;
// each email gets its own result (a bad address or an existing member fails alone).
func (c *Console) invite(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, p, account.Invalid("emails", "the form could not be read"))
		return
	}
	ctx := r.Context()
	f := r.PostForm
	v := &inviteView{Emails: f.Get("emails"), In: account.InviteInput{
		Emails: splitEmails(f.Get("emails")), Role: cmp.Or(f.Get("role"), "member"),
		Teams: f["team"], Applications: f["application"]}}
	if err := c.inviteChoices(ctx, p, v); err != nil {
		c.fail(w, r, p, err)
		return
	}
	err := c.limits.AllowInvitations(ctx, p.Actor, len(v.In.Emails))
	if err == nil {
		v.Results, err = c.svc.Invite(ctx, p.Actor, p.Org().ID, v.In)
		c.limits.RefundInvitations(p.Actor, len(v.In.Emails)-applied(v.Results, err, func(x account.InviteResult) error { return x.Err }))
	}
	if err != nil {
		v.Problem = c.problemOf(ctx, err)
		c.render(w, r, v.Problem.Status, invitePage(p, v))
		return
	}
	c.render(w, r, http.StatusOK, invitePage(p, v))
}

func (c *Console) inviteChoices(ctx context.Context, p *page, v *inviteView) (err error) {
	v.Offer, err = c.svc.FindOffer(ctx, p.Actor, p.Org().ID)
	return err
}

// splitEmails reads a list of addresses separated by commas, semicolons, spaces or
// lines, as people paste them.
func splitEmails(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	})
}

func (v *inviteView) ok() int {
	n := 0
	for _, r := range v.Results {
		if r.Err == nil {
			n++
		}
	}
	return n
}
