package console

import (
	"net/http"

	"roster.dev/roster/internal/account"
)

// home sends each person where they work: an operator to the operator view; someone
// who administers one organization straight to it; everyone else to their own page,
// which lists their organizations.
func (c *Console) home(w http.ResponseWriter, r *http.Request, p *page) {
	if r.URL.Path != "/" {
		c.fail(w, r, p, account.Errorf(account.ENOTFOUND, "there is no page at %s", r.URL.Path))
		return
	}
	if !p.SignedIn {
		c.toLogin(w, r)
		return
	}
	if p.operator() {
		c.keepFlash(w, r, p, "/operator")
		return
	}
	var admin []account.AccountMembership
	for _, m := range p.Memberships {
		if m.State == account.MemberActive && m.RoleID != "member" {
			admin = append(admin, m)
		}
	}
	if len(admin) == 1 && len(p.Memberships) == 1 {
		c.keepFlash(w, r, p, orgHome(admin[0].Organization))
		return
	}
	c.keepFlash(w, r, p, "/me")
}

// keepFlash redirects, passing on a flash message the page had read.
func (c *Console) keepFlash(w http.ResponseWriter, r *http.Request, p *page, url string) {
	c.redirect(w, r, url, p.Flash)
}

// me is the signed-in person's own page: their organizations, roles and seats, and
// the form to ask to join another organization.
func (c *Console) me(w http.ResponseWriter, r *http.Request, p *page) {
	p.Section = "me"
	v, err := c.meView(r.Context(), p)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	// ?cancel= and ?leave= are data: only the person's own pending request, or one
	// of their memberships, is ever asked about.
	v.confirmFor(p, r.URL.Query().Get("cancel"), r.URL.Query().Get("leave"))
	c.render(w, r, http.StatusOK, mePage(p, v))
}

// profileForm is the profile card's fields.
type profileForm struct {
	FirstName, LastName, Phone, Username string
}

func profileOf(a account.Account) profileForm {
	return profileForm{FirstName: a.FirstName, LastName: a.LastName, Phone: a.Phone, Username: a.Username}
}

// profile saves the signed-in person's own names, phone and username.
func (c *Console) profile(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	p.Section = "me"
	ctx := r.Context()
	f := profileForm{FirstName: formValue(r, "first_name"), LastName: formValue(r, "last_name"),
		Phone: formValue(r, "phone"), Username: formValue(r, "username")}
	_, err := c.svc.UpdateProfile(ctx, p.Actor, account.ProfileInput{FirstName: &f.FirstName, LastName: &f.LastName,
		Phone: &f.Phone, Username: &f.Username})
	if err != nil {
		prob := c.problemOf(ctx, err)
		c.renderMe(w, r, p, prob.Status, &meView{Profile: f, ProfileProblem: prob})
		return
	}
	c.redirect(w, r, "/me", "Your profile is saved.")
}

// joinRequest asks, as the signed-in account, to join an organization by its slug.
func (c *Console) joinRequest(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	p.Section = "me"
	org, msg := formValue(r, "organization"), formValue(r, "message")
	ctx := r.Context()
	err := c.limits.AllowJoinRequest(ctx, p.Actor)
	if err == nil {
		if org == "" {
			err = account.Invalid("organization", "is required")
		} else {
			_, err = c.svc.RequestToJoin(ctx, p.Actor, org, msg)
		}
	}
	if err != nil {
		prob := c.problemOf(ctx, err)
		if prob.Status == http.StatusNotFound {
			prob.setField("organization", "No organization has this short name; check it with the organization.")
		}
		c.renderMe(w, r, p, prob.Status, &meView{JoinOrg: org, JoinMessage: msg, JoinProblem: prob})
		return
	}
	c.redirect(w, r, "/me", "Your request to join is sent; the organization's administrators will answer it.")
}
