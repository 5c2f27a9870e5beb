package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"roster.dev/roster/internal/account"
)

// settingsView is the organization's settings form, and the deletion behind its
// confirmation.
type settingsView struct {
	Name, Slug, TTL, EndingSoon string
	// RequirePhone and RequireUsername are the checkboxes of required_profile_fields.
	RequirePhone, RequireUsername bool
	// JoinPolicy and JoinRole are domain_join_policy and domain_join_role; Roles
	// the roles the role may be chosen from.
	JoinPolicy, JoinRole string
	Roles                []account.Role
	// ManageDomainAccounts is the checkbox of manage_domain_accounts.
	ManageDomainAccounts bool
	Confirm              bool
	CanDelete            bool
	Problem              *problem
	DeleteProblem        *problem

	// SCIM provisioning: the organization's tokens, the one just issued (shown on
	// that answer only), the one whose revocation waits for confirmation.
	SCIMURL       string
	Tokens        []account.SCIMToken
	NewToken      string
	TokenDesc     string
	TokenProblem  *problem
	ConfirmRevoke *account.SCIMToken
}

// invitationLifetimes are the lifetimes offered; another value set through the API
// is kept and offered too.
var invitationLifetimes = []int{24, 48, 72, 168, 336, 720}

func ttlOptions(current string) []string {
	out := []string{}
	seen := false
	for _, h := range invitationLifetimes {
		s := strconv.Itoa(h)
		seen = seen || s == current
		out = append(out, s)
	}
	if !seen && current != "" {
		out = append(out, current)
	}
	return out
}

func ttlLabel(h string) string {
	n, err := strconv.Atoi(h)
	if err != nil {
		return h
	}
	if n%24 == 0 {
		return plural(n/24, "day", "days") + " (" + h + " hours)"
	}
	return plural(n, "hour", "hours")
}

func (c *Console) settingsOf(r *http.Request, p *page) (*settingsView, error) {
	o := p.Org()
	st, err := c.svc.FindSettings(r.Context(), p.Actor, o.ID)
	if err != nil {
		return nil, err
	}
	tokens, choosable := st.SCIMTokens, st.JoinRoles
	policy, role := o.DomainJoinPolicy, o.DomainJoinRole
	if policy == "" {
		policy = account.JoinPolicyOff
	}
	if role == "" {
		role = account.RoleMember
	}
	return &settingsView{Name: o.Name, Slug: o.Slug, TTL: strconv.Itoa(o.InvitationTTLHours),
		JoinPolicy: policy, JoinRole: role, Roles: choosable, ManageDomainAccounts: o.ManageDomainAccounts,
		EndingSoon: strconv.Itoa(o.EndingSoonDays), RequirePhone: o.RequirePhone, RequireUsername: o.RequireUsername,
		// Only an operator deletes a partner or an organization of its own, and a
		// partner's managers those under the partner: the same people who set quotas.
		CanDelete: p.operator() || p.Access.ManageSubscriptions,
		SCIMURL:   c.baseURL + "/scim/v2/organizations/" + url.PathEscape(o.Slug),
		Tokens:    tokens}, nil
}

// needManage keeps the page to those who may change the settings.
func (c *Console) needManage(w http.ResponseWriter, r *http.Request, p *page) bool {
	if p.Can(account.PermOrganizationManage) {
		return true
	}
	c.fail(w, r, p, account.Errorf(account.EFORBIDDEN, "changing %s's settings needs the organization.manage permission", p.Org().Name))
	return false
}

// settings renders the settings form; ?confirm=delete asks to confirm the
// deletion, ?revoke=<token id> a SCIM token's revocation.
func (c *Console) settings(w http.ResponseWriter, r *http.Request, p *page) {
	if !c.needManage(w, r, p) {
		return
	}
	v, err := c.settingsOf(r, p)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	q := r.URL.Query()
	v.Confirm = q.Get("confirm") == "delete" && v.CanDelete
	if id := q.Get("revoke"); id != "" {
		for i, t := range v.Tokens {
			if t.ID == id && t.RevokedAt.IsZero() {
				v.ConfirmRevoke = &v.Tokens[i]
			}
		}
		if v.ConfirmRevoke == nil {
			c.fail(w, r, p, account.Errorf(account.ENOTFOUND, "no such SCIM token"))
			return
		}
	}
	c.render(w, r, http.StatusOK, settingsPage(p, v))
}

// createSCIMToken issues a SCIM token and shows it on this answer only: it is never
// stored in the clear, nor put in a flash cookie.
func (c *Console) createSCIMToken(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	if !c.needManage(w, r, p) {
		return
	}
	desc := formValue(r, "description")
	_, token, err := c.svc.CreateSCIMToken(r.Context(), p.Actor, p.Org().ID, desc)
	v, ferr := c.settingsOf(r, p)
	if ferr != nil {
		c.fail(w, r, p, ferr)
		return
	}
	if err != nil {
		v.TokenProblem, v.TokenDesc = c.problemOf(r.Context(), err), desc
		c.render(w, r, v.TokenProblem.Status, settingsPage(p, v))
		return
	}
	p.Flash = "SCIM token issued. Copy it now: it is shown only this once."
	// The token must not outlive this answer: the address becomes the settings'
	// (a reload does not post again), and hx-history="false" on the token keeps
	// htmx from copying the page into its history cache.
	w.Header().Set("HX-Replace-Url", p.base()+"/settings")
	v.NewToken, v.TokenDesc = token, desc
	c.render(w, r, http.StatusCreated, settingsPage(p, v))
}

// revokeSCIMToken revokes a SCIM token (after the confirmation on the settings).
func (c *Console) revokeSCIMToken(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	if !c.needManage(w, r, p) {
		return
	}
	if err := c.svc.RevokeSCIMToken(r.Context(), p.Actor, p.Org().ID, r.PathValue("token")); err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.redirect(w, r, p.base()+"/settings#scim-title", "SCIM token revoked: the identity provider's requests with it fail at once.")
}

// saveSettings changes the name, slug, invitation lifetime, ending-soon window and
// required profile fields.
func (c *Console) saveSettings(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	if !c.needManage(w, r, p) {
		return
	}
	v, err := c.settingsOf(r, p)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	v.Name, v.Slug, v.TTL, v.EndingSoon = formValue(r, "name"), formValue(r, "slug"),
		strings.TrimSpace(formValue(r, "invitation_ttl_hours")), strings.TrimSpace(formValue(r, "ending_soon_days"))
	v.RequirePhone, v.RequireUsername = formValue(r, "require_phone") != "", formValue(r, "require_username") != ""
	required := []string{}
	if v.RequirePhone {
		required = append(required, account.ProfilePhone)
	}
	if v.RequireUsername {
		required = append(required, account.ProfileUsername)
	}
	v.ManageDomainAccounts = formValue(r, "manage_domain_accounts") != ""
	in := account.UpdateOrganizationInput{Name: &v.Name, Slug: &v.Slug, RequiredProfileFields: &required,
		ManageDomainAccounts: &v.ManageDomainAccounts}
	if r.PostForm.Has("domain_join_policy") {
		v.JoinPolicy = formValue(r, "domain_join_policy")
		in.DomainJoinPolicy = &v.JoinPolicy
	}
	if r.PostForm.Has("domain_join_role") {
		v.JoinRole = formValue(r, "domain_join_role")
		in.DomainJoinRole = &v.JoinRole
	}
	var val account.Validation
	if n, err := strconv.Atoi(v.TTL); err != nil {
		val.Add("invitation_ttl_hours", "must be a whole number of hours")
	} else {
		in.InvitationTTLHours = &n
	}
	if n, err := strconv.Atoi(v.EndingSoon); err != nil {
		val.Add("ending_soon_days", "must be a whole number of days")
	} else {
		in.EndingSoonDays = &n
	}
	err = val.Err()
	var o account.Organization
	if err == nil {
		o, err = c.svc.UpdateOrganization(r.Context(), p.Actor, p.Org().ID, in)
	}
	if err != nil {
		v.Problem = c.problemOf(r.Context(), err)
		c.render(w, r, v.Problem.Status, settingsPage(p, v))
		return
	}
	c.redirect(w, r, "/o/"+url.PathEscape(o.Slug)+"/settings", "Settings saved.")
}

// deleteOrganization deletes the organization (after the confirmation) and goes
// back to where its deleter works: the operator view, or the partner's list.
func (c *Console) deleteOrganization(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	o := p.Org()
	if err := c.svc.DeleteOrganization(r.Context(), p.Actor, o.ID); err != nil {
		prob := c.problemOf(r.Context(), err)
		if prob.Status == http.StatusNotFound {
			c.fail(w, r, p, err)
			return
		}
		v, ferr := c.settingsOf(r, p)
		if ferr != nil {
			c.fail(w, r, p, ferr)
			return
		}
		v.DeleteProblem = prob
		c.render(w, r, prob.Status, settingsPage(p, v))
		return
	}
	next := "/"
	if p.operator() {
		next = "/operator"
	} else if o.ParentID != "" {
		if parent, err := c.svc.FindOrganization(r.Context(), p.Actor, o.ParentID); err == nil {
			next = orgHome(parent)
		}
	}
	c.redirect(w, r, next, kindLabel(o.Kind)+" "+o.Name+" deleted.")
}

// tokenName is how a SCIM token is named in lists: its description, or its prefix.
func tokenName(t account.SCIMToken) string {
	if t.Description != "" {
		return t.Description
	}
	return t.Prefix + "…"
}
