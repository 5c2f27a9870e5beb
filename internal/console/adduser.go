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
// confirm. In a partner, as PRODUCT.md's steps go: the person's details, then a
// checkbox and a role for each organization under the partner, then a role in the
// partner itself and the invitation, then a summary of every addition to confirm
// (each its own use case: see addToPartner). Every screen carries what the others
// hold as hidden fields, so Back keeps everything; each step asks the domain again
// (the organizations chosen included), so nothing in them is trusted.
type addUserView struct {
	// Step is the screen shown: "email", "details" (an organization's), "person",
	// "organizations", "partner" (a partner's), "confirm", or "result" (a partner's
	// additions, some refused).
	Step    string
	Partner bool // the partner's wizard
	// Target is the organization of the page: the one the person is added to, or
	// the partner.
	Target   account.Organization
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

	// A partner's: the organizations ticked (ids, of Choices), the role chosen in
	// each organization offered, the role in the partner itself ("" for none), and
	// at confirm and after it each addition with its outcome.
	Orgs        []string
	OrgRoles    map[string]string
	PartnerRole string
	Targets     []addTarget
}

// addTarget is one addition of a partner's wizard: an organization under the
// partner, or the partner itself, with the role; at confirm the member as the
// addition would make them, after it the member added or the refusal.
type addTarget struct {
	Org      account.Organization
	Role     string
	RoleName string
	Field    string // the form field of its role: "org_role_{id}" or "partner_role"
	Member   account.Member
	Err      error
}

// orgRoleField is the form field of the role in the organization id.
func orgRoleField(id string) string { return "org_role_" + id }

func (v *addUserView) sendInvite() bool { return v.In.SendInvite == nil || *v.In.SendInvite }

// personFields are the fields of the person's own profile (the email aside).
var personFields = []string{"first_name", "last_name", "phone", "username"}

// shown are the fields the screen of v.Step has inputs of.
func (v *addUserView) shown() []string {
	var fs []string
	switch v.Step {
	case "organizations":
		fs = append(fs, "org")
		for _, o := range v.Choices.Organizations {
			fs = append(fs, orgRoleField(o.Organization.ID))
		}
		return fs
	case "partner":
		fs = append(fs, "partner_role")
		if !v.Newcomer.Invited {
			fs = append(fs, "send_invite")
		}
		if !v.Newcomer.AccountExists {
			fs = append(fs, "password", "reset_password")
		}
		return fs
	case "email":
		return []string{"email"}
	case "person":
		return append([]string{"email"}, personFields...)
	case "details":
		if !v.Newcomer.AccountExists {
			fs = append(fs, personFields...)
		}
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
	in := v.In
	if v.Partner {
		add("org", v.Orgs...)
		for _, o := range v.Choices.Organizations {
			add(orgRoleField(o.Organization.ID), v.OrgRoles[o.Organization.ID])
		}
		add("partner_role", v.PartnerRole)
	}
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
	true:  {"person", "organizations", "partner", "confirm"},
}

func (c *Console) addUserForm(w http.ResponseWriter, r *http.Request, p *page) {
	v := &addUserView{Step: "email", In: account.AddMemberInput{Role: "member"}, Target: p.Org()}
	if p.Org().Kind == account.KindPartner {
		v.Step, v.Partner, v.In.Role = "person", true, ""
		var err error
		if v.Choices, err = c.svc.FindOffer(r.Context(), p.Actor, p.Org().ID); err != nil {
			c.fail(w, r, p, err)
			return
		}
		v.Offer = v.Choices
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
	if p.Org().Kind == account.KindPartner {
		c.addToPartner(w, r, p)
		return
	}
	ctx := r.Context()
	f := r.PostForm
	step := f.Get("step")
	v := &addUserView{Target: p.Org(), In: account.AddMemberInput{
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
	// What the actor may give in the organization (members.invite, asked again).
	if err := c.addUserTarget(ctx, p, v); err != nil {
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
	n, err := c.svc.FindNewcomer(ctx, p.Actor, v.Target.ID, v.In.Email)
	switch {
	case err == nil && n.Member:
		err = account.Errorf(account.EDUPLICATEEMAIL, "%s is already a member of %s", n.Email, v.Target.Name)
	case err == nil && n.Disabled:
		err = &account.Error{Code: account.EFORBIDDEN, Message: "the account of " + n.Email + " is disabled",
			Fields: []account.FieldError{{Field: "email", Message: "belongs to a disabled account, which cannot be added"}}}
	}
	if err != nil {
		if next == "email" {
			v.Step = next // going back to the email: whatever it holds
			c.render(w, r, http.StatusOK, addUserPage(p, v))
			return
		}
		c.addUserProblem(w, r, p, v, err)
		return
	}
	v.Newcomer = n
	switch next {
	case "email", "details":
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
	case value == "off", step == "details" || step == "partner":
		return &off
	}
	return nil
}

// addUserProblem shows a refusal on the screen of the field it names: the email's,
// or the one with role, teams and seats.
func (c *Console) addUserProblem(w http.ResponseWriter, r *http.Request, p *page, v *addUserView, err error) {
	v.Problem = c.problemOf(r.Context(), err)
	if v.Problem.Status == http.StatusConflict && account.ErrorCode(err) == account.EDUPLICATEEMAIL {
		v.Problem.setField("email", "This person is already a member of "+v.Target.Name+".")
	}
	v.Step = "details"
	if v.Problem.field("email") != "" {
		v.Step = "email"
	}
	c.render(w, r, v.Problem.Status, addUserPage(p, v))
}

// addUserTarget reads what the actor may give in the page's organization.
func (c *Console) addUserTarget(ctx context.Context, p *page, v *addUserView) (err error) {
	if v.Offer, err = c.svc.FindOffer(ctx, p.Actor, p.Org().ID); err != nil {
		return err
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

// ok is how many invitations were sent.
func (v *inviteView) ok() int {
	n := 0
	for _, r := range v.Results {
		if r.Err == nil && r.Invitation.ID != "" {
			n++
		}
	}
	return n
}

// added is how many were added at once instead (manage_domain_accounts).
func (v *inviteView) added() int {
	n := 0
	for _, r := range v.Results {
		if r.Err == nil && r.Invitation.ID == "" {
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
	case "email", "person":
		return "the person"
	case "details":
		return "role, teams and seats"
	case "organizations":
		return "organization roles"
	case "partner":
		return "partner roles"
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

// addToPartner runs a step of a partner's wizard: the person, a role in each
// organization ticked under the partner, a role in the partner itself, then the
// summary — each addition checked by the domain (CheckAddMember), nothing written.
// Confirm adds each membership as its own use case (one transaction, audit event
// and email each, within the invitation limit, as every addition is) and reports
// every one: a refusal in one organization is named and does not undo the others.
// Every organization posted must be one of the partner's offer (under it, where the
// actor may add people): any other answers 404 and nothing is added.
func (c *Console) addToPartner(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	f := r.PostForm
	step := f.Get("step")
	v := &addUserView{Partner: true, Target: p.Org(), PartnerRole: f.Get("partner_role"), OrgRoles: map[string]string{},
		In: account.AddMemberInput{
			Email: f.Get("email"), FirstName: f.Get("first_name"), LastName: f.Get("last_name"),
			Phone: f.Get("phone"), Username: f.Get("username"),
			SendInvite: sendInviteOf(f.Get("send_invite"), step), Password: f.Get("password"),
			ResetPasswordOnFirstLogin: f.Get("reset_password") == "on",
		}}
	steps := addUserSteps[true]
	if !contains(steps, step) {
		c.fail(w, r, p, account.Invalid("step", "this step of Add user does not exist; start again from Add user"))
		return
	}
	var err error
	if v.Choices, err = c.svc.FindOffer(ctx, p.Actor, p.Org().ID); err != nil {
		c.fail(w, r, p, err)
		return
	}
	v.Offer = v.Choices
	notFound := account.Errorf(account.ENOTFOUND, "organization not found")
	for _, id := range f["org"] {
		if !v.offers(id) {
			c.fail(w, r, p, notFound)
			return
		}
		if !contains(v.Orgs, id) {
			v.Orgs = append(v.Orgs, id)
		}
	}
	for k := range f {
		if id, ok := strings.CutPrefix(k, "org_role_"); ok {
			if !v.offers(id) {
				c.fail(w, r, p, notFound)
				return
			}
			v.OrgRoles[id] = f.Get(k)
		}
	}
	next := steps[min(slices.Index(steps, step)+1, len(steps)-1)]
	if back := f.Get("back"); back != "" {
		if i := slices.Index(steps, back); i < 0 || i >= slices.Index(steps, step) {
			c.fail(w, r, p, account.Invalid("back", "Back leads to an earlier step of Add user only"))
			return
		}
		next = back
	}
	n, err := c.svc.FindNewcomer(ctx, p.Actor, p.Org().ID, v.In.Email)
	if err == nil && n.Disabled {
		err = &account.Error{Code: account.EFORBIDDEN, Message: "the account of " + n.Email + " is disabled",
			Fields: []account.FieldError{{Field: "email", Message: "belongs to a disabled account, which cannot be added"}}}
	}
	if err != nil {
		v.Step = "person"
		if next != "person" { // going back to the person: whatever the email holds
			v.Problem = c.problemOf(ctx, err)
		}
		c.render(w, r, cmp.Or(v.problemStatus(), http.StatusOK), addUserPage(p, v))
		return
	}
	v.Newcomer = n
	if next == "person" || next == "organizations" || next == "partner" {
		v.Step = next
		c.render(w, r, http.StatusOK, addUserPage(p, v))
		return
	}
	v.Targets = v.partnerTargets()
	if len(v.Targets) == 0 {
		v.Step = "partner"
		v.Problem = &problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{},
			Message: "Nobody would be added: choose at least one organization, or a role in " + p.Org().Name + " itself."}
		v.Problem.setField("partner_role", "Choose a role in "+p.Org().Name+", or go back and tick at least one organization.")
		c.render(w, r, v.Problem.Status, addUserPage(p, v))
		return
	}
	if step != "confirm" { // the summary: every addition checked, nothing written
		for i, t := range v.Targets {
			in := v.In
			in.Role = t.Role
			v.Targets[i].Member, v.Targets[i].Err = c.svc.CheckAddMember(ctx, p.Actor, t.Org.ID, in)
		}
		if v.refused() > 0 {
			c.partnerProblem(w, r, p, v)
			return
		}
		v.Step = "confirm"
		c.render(w, r, http.StatusOK, addUserPage(p, v))
		return
	}
	for i, t := range v.Targets {
		in := v.In
		in.Role = t.Role
		v.Targets[i].Member, v.Targets[i].Err = c.svc.AddMemberWithin(ctx, p.Actor, t.Org.ID, in, c.limits)
	}
	var added []string
	invited := false
	for _, t := range v.Targets {
		if t.Err == nil {
			added = append(added, t.Org.Name)
			invited = invited || t.Member.State == account.MemberInvited
		}
	}
	if v.refused() == 0 {
		done := cmp.Or(addUserName(v), v.Newcomer.Email) + " is added to " + account.JoinNames(added) + "."
		if invited {
			done += " An invitation is on its way to " + v.Newcomer.Email + "."
		}
		c.redirect(w, r, p.base()+"/users", done)
		return
	}
	v.Step = "result"
	v.Problem = &problem{Status: http.StatusUnprocessableEntity, Fields: map[string]string{}}
	if len(added) > 0 {
		v.Problem.Message = v.Newcomer.Email + " is added to " + account.JoinNames(added) + ", but not to everything you chose: see below."
	} else {
		v.Problem.Message = v.Newcomer.Email + " is not added anywhere: see below why."
	}
	c.render(w, r, v.Problem.Status, addUserPage(p, v))
}

// partnerProblem shows the refusals the summary's checks found, all at once, each
// beside its field: the person's (their screen), a role in an organization (the
// organization roles' screen) or in the partner (the partner roles' screen); the
// earliest screen with one is shown.
func (c *Console) partnerProblem(w http.ResponseWriter, r *http.Request, p *page, v *addUserView) {
	ctx := r.Context()
	v.Problem = &problem{Fields: map[string]string{}}
	person := append([]string{"email"}, personFields...)
	for _, t := range v.Targets {
		if t.Err == nil {
			continue
		}
		tp := c.problemOf(ctx, t.Err)
		if v.Problem.Status == 0 {
			v.Problem.Status = tp.Status
		}
		if account.ErrorCode(t.Err) == account.EDUPLICATEEMAIL { // a member there already: that organization's refusal
			v.Problem.setField(t.Field, t.Org.Name+": This person is already a member of "+t.Org.Name+".")
			continue
		}
		own := false // the refusal names one of the person's fields
		for _, name := range tp.Order {
			if contains(person, name) {
				own = true
				if v.Problem.field(name) == "" {
					v.Problem.setField(name, tp.Fields[name])
				}
			}
		}
		if own {
			continue
		}
		v.Problem.setField(t.Field, t.Org.Name+": "+errorText(t.Err))
	}
	v.Problem.Message = plural(v.refused(), "addition cannot be made", "additions cannot be made") + ": nothing is added yet; see the fields marked."
	v.Step = "partner"
	switch {
	case slices.ContainsFunc(person, func(f string) bool { return v.Problem.field(f) != "" }):
		v.Step = "person"
	case slices.ContainsFunc(v.Problem.Order, func(f string) bool { return strings.HasPrefix(f, "org_role_") }):
		v.Step = "organizations"
	}
	c.render(w, r, cmp.Or(v.Problem.Status, http.StatusUnprocessableEntity), addUserPage(p, v))
}

// offers reports whether the organization id is one of the partner's offer.
func (v *addUserView) offers(id string) bool {
	return slices.ContainsFunc(v.Choices.Organizations, func(o account.OrganizationOffer) bool { return o.Organization.ID == id })
}

// partnerTargets are the additions chosen: each organization ticked, in the
// offer's order, with its role (Member when none was chosen), then the partner
// with its role when one was chosen.
func (v *addUserView) partnerTargets() []addTarget {
	var ts []addTarget
	for _, o := range v.Choices.Organizations {
		id := o.Organization.ID
		if !contains(v.Orgs, id) {
			continue
		}
		role := cmp.Or(v.OrgRoles[id], account.RoleMember)
		ts = append(ts, addTarget{Org: o.Organization, Role: role, RoleName: roleNameIn(o.Roles, role), Field: orgRoleField(id)})
	}
	if v.PartnerRole != "" {
		ts = append(ts, addTarget{Org: v.Target, Role: v.PartnerRole, RoleName: roleNameIn(v.Offer.Roles, v.PartnerRole), Field: "partner_role"})
	}
	return ts
}

// refused counts the additions refused.
func (v *addUserView) refused() int {
	n := 0
	for _, t := range v.Targets {
		if t.Err != nil {
			n++
		}
	}
	return n
}

func (v *addUserView) problemStatus() int {
	if v.Problem == nil {
		return 0
	}
	return v.Problem.Status
}

// roleNameIn is the name of the role id among roles (the id when not offered).
func roleNameIn(roles []account.Role, id string) string {
	for _, r := range roles {
		if r.ID == id {
			return r.Name
		}
	}
	return id
}

// orgRole is the role chosen in the organization id (Member by default).
func (v *addUserView) orgRole(id string) string { return cmp.Or(v.OrgRoles[id], account.RoleMember) }
