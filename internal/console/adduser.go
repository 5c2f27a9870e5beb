package console

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"

	"roster.dev/roster/internal/account"
)

// addUserView is the Add user wizard. In an organization: the email first, then
// what the organization needs (names only for an unknown email), then a summary to
// confirm. In a partner: the organization to add the person to (the partner itself
// or one under it), the person, what they get there, then the same summary. Every
// screen carries what the others hold as hidden fields, so Back keeps everything;
// each step asks the domain again (the organization chosen included), so nothing
// in them is trusted.
type addUserView struct {
	// Step is the screen shown: "organization" (a partner's), "email", "person" (a
	// partner's), "details", "access" (a partner's) or "confirm".
	Step    string
	Partner bool // the partner's wizard
	// Target is the organization the person is added to: the page's own, or the
	// one a partner's administrator chose.
	Target account.Organization
	// Chosen is the organization a partner's administrator chose ("" before).
	Chosen   string
	In       account.AddMemberInput
	Newcomer account.Newcomer
	// Offer is what the actor may give in Target: roles, teams and seats.
	Offer account.Offer
	// Choices are, in a partner, the organizations the actor may add people to
	// (the partner's offer).
	Choices account.Offer
	// Checked is, at confirm, the member as the addition would make them.
	Checked account.Member
	Problem *problem
}

func (v *addUserView) sendInvite() bool { return v.In.SendInvite == nil || *v.In.SendInvite }

// personFields are the fields of the person's own profile (the email aside).
var personFields = []string{"first_name", "last_name", "phone", "username"}

// shown are the fields the screen of v.Step has inputs of.
func (v *addUserView) shown() []string {
	var fs []string
	switch v.Step {
	case "organization":
		return []string{"organization"}
	case "email":
		return []string{"email"}
	case "person":
		return append([]string{"email"}, personFields...)
	case "details":
		if !v.Newcomer.AccountExists {
			fs = append(fs, personFields...)
		}
		fallthrough
	case "access":
		fs = append(fs, "role", "team", "application", "request_seat")
		if !v.Newcomer.Invited {
			fs = append(fs, "send_invite")
		}
		if !v.Newcomer.AccountExists {
			fs = append(fs, "password", "reset_password")
		}
	}
	return fs
}

// hiddenField is one value carried to the next screen.
type hiddenField struct{ Name, Value string }

// carried are the values of the fields the screen does not show.
func (v *addUserView) carried() []hiddenField {
	shown := v.shown()
	var out []hiddenField
	add := func(name string, values ...string) {
		if contains(shown, name) {
			return
		}
		for _, x := range values {
			if x != "" {
				out = append(out, hiddenField{name, x})
			}
		}
	}
	if v.Partner {
		add("organization", v.Target.ID)
	}
	in := v.In
	add("email", in.Email)
	add("first_name", in.FirstName)
	add("last_name", in.LastName)
	add("phone", in.Phone)
	add("username", in.Username)
	add("role", in.Role)
	add("team", in.Teams...)
	add("application", in.Applications...)
	add("request_seat", in.RequestSeats...)
	if v.sendInvite() {
		add("send_invite", "on")
	} else {
		add("send_invite", "off")
	}
	add("password", in.Password)
	if in.ResetPasswordOnFirstLogin {
		add("reset_password", "on")
	}
	return out
}

// roleName is the name of the role chosen, as the offer names it.
func (v *addUserView) roleName() string {
	for _, r := range v.Offer.Roles {
		if r.ID == v.In.Role {
			return r.Name
		}
	}
	return v.In.Role
}

// appNames are the names of the applications of keys, as the offer names them.
func (v *addUserView) appNames(keys []string) []string {
	var names []string
	for _, k := range keys {
		name := k
		for i, sub := range v.Offer.Subscriptions {
			if sub.ApplicationKey == k {
				name = v.Offer.Applications[i].Name
			}
		}
		names = append(names, name)
	}
	return names
}

// addUserSteps are the screens of each wizard (false: an organization's, true: a
// partner's), in order: a step posts the screen after it, Back an earlier one.
var addUserSteps = map[bool][]string{
	false: {"email", "details", "confirm"},
	true:  {"organization", "person", "access", "confirm"},
}

func (c *Console) addUserForm(w http.ResponseWriter, r *http.Request, p *page) {
	v := &addUserView{Step: "email", In: account.AddMemberInput{Role: "member"}, Target: p.Org()}
	if p.Org().Kind == account.KindPartner {
		v.Step, v.Partner = "organization", true
		var err error
		if v.Choices, err = c.svc.FindOffer(r.Context(), p.Actor, p.Org().ID); err != nil {
			c.fail(w, r, p, err)
			return
		}
	}
	c.render(w, r, http.StatusOK, addUserPage(p, v))
}

// addUser runs a step of the wizard: the form of the step posted (step) is read
// with what the earlier ones carried, and the next screen — or, with back, the
// screen named — is shown; confirm adds the person.
func (c *Console) addUser(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, p, account.Invalid("email", "the form could not be read"))
		return
	}
	ctx := r.Context()
	f := r.PostForm
	step := f.Get("step")
	v := &addUserView{Partner: p.Org().Kind == account.KindPartner, Target: p.Org(), Chosen: f.Get("organization"), In: account.AddMemberInput{
		Email: f.Get("email"), FirstName: f.Get("first_name"), LastName: f.Get("last_name"),
		Phone: f.Get("phone"), Username: f.Get("username"), Role: cmp.Or(f.Get("role"), "member"),
		Teams: f["team"], Applications: f["application"], RequestSeats: f["request_seat"],
		SendInvite: sendInviteOf(f.Get("send_invite"), step), Password: f.Get("password"),
		ResetPasswordOnFirstLogin: f.Get("reset_password") == "on",
	}}
	steps := addUserSteps[v.Partner]
	if !contains(steps, step) {
		c.fail(w, r, p, account.Invalid("step", "this step of Add user does not exist; start again from Add user"))
		return
	}
	if v.Partner {
		if err := c.addUserChoices(ctx, p, v); err != nil {
			c.fail(w, r, p, err)
			return
		}
		if f.Get("organization") == "" {
			v.Step = "organization"
			v.Problem = &problem{Status: http.StatusUnprocessableEntity, Message: "Choose the organization to add the person to",
				Fields: map[string]string{"organization": "Choose one of the organizations."}}
			c.render(w, r, v.Problem.Status, addUserPage(p, v))
			return
		}
	}
	// The organization the person is added to: the page's own, or the one chosen
	// — which the actor must be allowed to add people to, under this partner.
	if err := c.addUserTarget(ctx, p, v, cmp.Or(f.Get("organization"), p.Org().ID)); err != nil {
		c.fail(w, r, p, err)
		return
	}
	// Where the form goes next: the screen after the one posted, or Back's.
	next := steps[min(slices.Index(steps, step)+1, len(steps)-1)]
	if back := f.Get("back"); back != "" {
		if i := slices.Index(steps, back); i < 0 || i >= slices.Index(steps, step) {
			c.fail(w, r, p, account.Invalid("back", "Back leads to an earlier step of Add user only"))
			return
		}
		next = back
	}
	if next == "organization" {
		v.Step = next
		c.render(w, r, http.StatusOK, addUserPage(p, v))
		return
	}
	n, err := c.svc.FindNewcomer(ctx, p.Actor, v.Target.ID, v.In.Email)
	switch {
	case err == nil && n.Member:
		err = account.Errorf(account.EDUPLICATEEMAIL, "%s is already a member of %s", n.Email, v.Target.Name)
	case err == nil && n.Disabled:
		err = &account.Error{Code: account.EFORBIDDEN, Message: "the account of " + n.Email + " is disabled",
			Fields: []account.FieldError{{Field: "email", Message: "belongs to a disabled account, which cannot be added"}}}
	}
	if err != nil {
		if next == "email" || next == "person" {
			v.Step = next // going back to the email: whatever it holds
			c.render(w, r, http.StatusOK, addUserPage(p, v))
			return
		}
		c.addUserProblem(w, r, p, v, err)
		return
	}
	v.Newcomer = n
	switch next {
	case "email", "person", "details", "access":
		v.Step = next
		c.render(w, r, http.StatusOK, addUserPage(p, v))
		return
	}
	if step != "confirm" { // the last screen before the summary: every rule, nothing added
		m, err := c.svc.CheckAddMember(ctx, p.Actor, v.Target.ID, v.In)
		if err != nil {
			c.addUserProblem(w, r, p, v, err)
			return
		}
		v.Step, v.Checked = "confirm", m
		c.render(w, r, http.StatusOK, addUserPage(p, v))
		return
	}
	m, err := c.svc.AddMemberWithin(ctx, p.Actor, v.Target.ID, v.In, c.limits)
	if err != nil {
		c.addUserProblem(w, r, p, v, err)
		return
	}
	done := account.DisplayName(m.Account) + " is added to " + v.Target.Name + "."
	if m.State == account.MemberInvited {
		done = "An invitation is on its way to " + m.Account.Email + "."
	}
	if len(v.In.RequestSeats) > 0 {
		done += " " + plural(len(v.In.RequestSeats), "seat is", "seats are") + " requested from the operators."
	}
	c.redirect(w, r, "/o/"+seg(v.Target.Slug)+"/users/"+seg(m.AccountID), done)
}

// sendInviteOf reads the invitation choice: "on" or "off" as carried, the
// checkbox's "on", or — left unticked on the screen that has it — off; before that
// screen, nil (on by default).
func sendInviteOf(value, step string) *bool {
	on, off := true, false
	switch {
	case value == "on":
		return &on
	case value == "off", step == "details" || step == "access":
		return &off
	}
	return nil
}

// addUserProblem shows a refusal on the screen of the field it names: the email's,
// the person's, or the one with role, teams and seats.
func (c *Console) addUserProblem(w http.ResponseWriter, r *http.Request, p *page, v *addUserView, err error) {
	v.Problem = c.problemOf(r.Context(), err)
	if v.Problem.Status == http.StatusConflict && account.ErrorCode(err) == account.EDUPLICATEEMAIL {
		v.Problem.setField("email", "This person is already a member of "+v.Target.Name+".")
	}
	switch {
	case v.Problem.field("email") != "":
		v.Step = map[bool]string{false: "email", true: "person"}[v.Partner]
	case v.Partner && slices.ContainsFunc(personFields, func(f string) bool { return v.Problem.field(f) != "" }):
		v.Step = "person"
	default:
		v.Step = map[bool]string{false: "details", true: "access"}[v.Partner]
	}
	c.render(w, r, v.Problem.Status, addUserPage(p, v))
}

// addUserChoices reads, for a partner, the organizations the actor may add people
// to under it.
func (c *Console) addUserChoices(ctx context.Context, p *page, v *addUserView) (err error) {
	v.Choices, err = c.svc.FindOffer(ctx, p.Actor, p.Org().ID)
	return err
}

// addUserTarget reads what the actor may give in the organization ref (by id): the
// page's own, or in a partner the partner itself or an organization under it —
// any other answers as not found, whatever the actor may do there, as the
// domain answers an organization of another partner.
func (c *Console) addUserTarget(ctx context.Context, p *page, v *addUserView, ref string) (err error) {
	if !v.Partner && ref != p.Org().ID {
		return account.Errorf(account.ENOTFOUND, "organization not found")
	}
	if v.Offer, err = c.svc.FindOffer(ctx, p.Actor, ref); err != nil {
		return err
	}
	if o := v.Offer.Organization; o.ID != p.Org().ID && o.ParentID != p.Org().ID {
		return account.Errorf(account.ENOTFOUND, "organization not found")
	}
	v.Target = v.Offer.Organization
	return nil
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

// addUserStepIndex is the position of the screen shown in its wizard (-1: none).
func addUserStepIndex(v *addUserView) int { return slices.Index(addUserSteps[v.Partner], v.Step) }

// addUserStepTitle is what a screen of Add user is about.
func addUserStepTitle(step string) string {
	switch step {
	case "organization":
		return "organization"
	case "email", "person":
		return "the person"
	case "details", "access":
		return "role, teams and seats"
	}
	return "confirm"
}

// addUserNext is the label of a screen's main button.
func addUserNext(v *addUserView) string {
	if v.Step == "confirm" {
		return "Add user"
	}
	return "Continue"
}

// addUserBack is the screen a screen's Back returns to ("" on the first).
func addUserBack(v *addUserView) string {
	if i := addUserStepIndex(v); i > 0 {
		return addUserSteps[v.Partner][i-1]
	}
	return ""
}

// addUserName is the name of the person the summary shows: their account's, or
// the names entered for one new to Roster.
func addUserName(v *addUserView) string {
	if v.Newcomer.AccountExists {
		return strings.TrimSpace(v.Newcomer.FirstName + " " + v.Newcomer.LastName)
	}
	return strings.TrimSpace(strings.TrimSpace(v.In.FirstName) + " " + strings.TrimSpace(v.In.LastName))
}

// orNone is account.JoinNames, or "None" for no names.
func orNone(names []string) string {
	if len(names) == 0 {
		return "None"
	}
	return account.JoinNames(names)
}
