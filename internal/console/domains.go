package console

import (
	"net/http"

	"roster.dev/roster/internal/account"
)

// domainsView is the organization's Domains page: its domains with their TXT
// records, the add form, and the removal asked about (?remove=id).
type domainsView struct {
	Domains       []account.Domain
	Domain        string // the add form's value
	Problem       *problem
	ConfirmRemove *account.Domain
	Operator      bool // may mark a domain verified without its record
	CanSettings   bool // may change the join policy (organization.manage)
}

func (c *Console) domainsOf(r *http.Request, p *page) (*domainsView, error) {
	ds, err := c.svc.FindDomains(r.Context(), p.Actor, p.Org().ID)
	if err != nil {
		return nil, err
	}
	return &domainsView{Domains: ds, Operator: p.operator(), CanSettings: p.Can(account.PermOrganizationManage)}, nil
}

// domains lists the domains; ?remove=<id> asks to confirm a removal.
func (c *Console) domains(w http.ResponseWriter, r *http.Request, p *page) {
	v, err := c.domainsOf(r, p)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	if id := r.URL.Query().Get("remove"); id != "" {
		for i, d := range v.Domains {
			if d.ID == id {
				v.ConfirmRemove = &v.Domains[i]
			}
		}
		if v.ConfirmRemove == nil {
			c.fail(w, r, p, account.Errorf(account.ENOTFOUND, "no such domain"))
			return
		}
	}
	c.render(w, r, http.StatusOK, domainsPage(p, v))
}

// addDomain adds a domain, pending until its TXT record is seen.
func (c *Console) addDomain(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	name := formValue(r, "domain")
	d, err := c.svc.AddDomain(r.Context(), p.Actor, p.Org().ID, name)
	if err != nil {
		v, ferr := c.domainsOf(r, p)
		if ferr != nil {
			c.fail(w, r, p, ferr)
			return
		}
		v.Problem, v.Domain = c.problemOf(r.Context(), err), name
		c.render(w, r, v.Problem.Status, domainsPage(p, v))
		return
	}
	c.redirect(w, r, p.base()+"/settings/domains#domain-"+d.ID,
		d.Name+" added. Publish its TXT record, then check it: Roster also checks it in the background for a week.")
}

// verifyDomain checks a domain's record now (force=1: the operator marks it
// verified).
func (c *Console) verifyDomain(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	d, err := c.svc.VerifyDomain(r.Context(), p.Actor, p.Org().ID, r.PathValue("domain"), formValue(r, "force") == "1")
	if err != nil {
		prob := c.problemOf(r.Context(), err)
		if prob.Status == http.StatusNotFound || prob.Status == http.StatusForbidden {
			c.fail(w, r, p, err)
			return
		}
		v, ferr := c.domainsOf(r, p)
		if ferr != nil {
			c.fail(w, r, p, ferr)
			return
		}
		v.Problem = prob
		c.render(w, r, prob.Status, domainsPage(p, v))
		return
	}
	flash := d.Name + " is verified."
	if d.State != account.DomainVerified {
		flash = d.Name + " is not verified yet: " + d.CheckError + "."
	}
	c.redirect(w, r, p.base()+"/settings/domains#domain-"+d.ID, flash)
}

// removeDomain removes a domain (after the confirmation).
func (c *Console) removeDomain(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	if err := c.svc.RemoveDomain(r.Context(), p.Actor, p.Org().ID, r.PathValue("domain")); err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.redirect(w, r, p.base()+"/settings/domains", "Domain removed: its people no longer find "+p.Org().Name+" by it.")
}

// joinPolicyLabel says in words what a join policy does.
func joinPolicyLabel(policy string) string {
	switch policy {
	case account.JoinPolicySuggest:
		return "Suggest: they see the organization on their account page and may ask to join"
	case account.JoinPolicyAuto:
		return "Join automatically: they become members when they sign up or log in"
	}
	return "Off: they see nothing of the organization"
}
