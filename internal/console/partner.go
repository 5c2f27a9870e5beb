package console

import (
	"net/http"
	"net/url"

	"roster.dev/roster/internal/account"
)

// partnerView is a partner's organizations, with the form creating one under it.
type partnerView struct {
	Q, Cursor string
	Page      account.Page[account.Organization]
	New       account.CreateOrganizationInput
	Problem   *problem
	Creating  bool // the problem is the creation form's
}

func (v *partnerView) query(cursor string) string {
	q := url.Values{}
	if v.Q != "" {
		q.Set("q", v.Q)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// partnerOrgs lists the organizations under the partner in scope; an organization
// has no such page.
func (c *Console) partnerOrgs(w http.ResponseWriter, r *http.Request, p *page) {
	q := r.URL.Query()
	c.renderPartner(w, r, p, &partnerView{Q: q.Get("q"), Cursor: q.Get("cursor")}, http.StatusOK)
}

func (c *Console) renderPartner(w http.ResponseWriter, r *http.Request, p *page, v *partnerView, status int) {
	if p.Org().Kind != account.KindPartner {
		c.fail(w, r, p, account.Errorf(account.ENOTFOUND, "%s is not a partner", p.Org().Name))
		return
	}
	ctx := r.Context()
	var err error
	v.Page, err = c.svc.FindOrganizations(ctx, p.Actor, account.OrganizationQuery{Q: v.Q, Parent: p.Org().ID, Cursor: v.Cursor})
	if err != nil {
		prob := c.problemOf(ctx, err)
		if prob.Status != http.StatusUnprocessableEntity {
			c.fail(w, r, p, err)
			return
		}
		v.Problem, status, v.Cursor = prob, prob.Status, ""
		if v.Page, err = c.svc.FindOrganizations(ctx, p.Actor, account.OrganizationQuery{Parent: p.Org().ID}); err != nil {
			c.fail(w, r, p, err)
			return
		}
	}
	c.render(w, r, status, partnerPage(p, v))
}

// createPartnerOrg creates an organization under the partner in scope.
func (c *Console) createPartnerOrg(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	in := account.CreateOrganizationInput{Name: formValue(r, "name"), Slug: formValue(r, "slug"),
		Kind: account.KindOrganization, Parent: p.Org().ID}
	o, err := c.svc.CreateOrganization(r.Context(), p.Actor, in)
	if err != nil {
		prob := c.problemOf(r.Context(), err)
		c.renderPartner(w, r, p, &partnerView{New: in, Problem: prob, Creating: true}, prob.Status)
		return
	}
	c.redirect(w, r, p.base()+"/organizations", "Organization "+o.Name+" created; add its first administrators on its Users page.")
}
