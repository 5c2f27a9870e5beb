package console

import (
	"context"
	"net/http"

	"roster.dev/roster/internal/account"
)

// meView is the person's own page: their organizations (and, for a partner's
// administrators, the partner's organizations), their join requests, the forms to
// ask to join and to edit the profile, and a confirmation waiting, if any.
type meView struct {
	JoinOrg, JoinMessage string
	JoinProblem          *problem
	Profile              profileForm
	ProfileProblem       *problem
	Requests             []account.JoinRequest
	// Suggested are the organizations the person may ask to join by their email's
	// verified domain.
	Suggested []account.Organization
	// CancelConfirm is the pending request of the person's whose cancellation is
	// asked about (?cancel=id); LeaveConfirm the membership to leave (?leave=slug).
	CancelConfirm *account.JoinRequest
	LeaveConfirm  *account.AccountMembership
	// Problem is a cancellation's or a leave's refusal, shown above its
	// confirmation.
	Problem *problem
}

// meView loads what /me shows beyond the page: the person's own join requests.
func (c *Console) meView(ctx context.Context, p *page) (*meView, error) {
	o, err := c.svc.FindJoinOptions(ctx, p.Actor)
	if err != nil {
		return nil, err
	}
	return &meView{Profile: profileOf(p.Actor.Account), Requests: o.Requests, Suggested: o.Suggested}, nil
}

// confirmFor fills the confirmation asked for in q: only the person's own pending
// request, or one of their memberships, ever becomes a form's action.
func (v *meView) confirmFor(p *page, cancel, leave string) {
	for i, jr := range v.Requests {
		if cancel != "" && jr.ID == cancel && jr.State == account.JoinRequestPending {
			v.CancelConfirm = &v.Requests[i]
		}
	}
	for i, m := range p.Memberships {
		if leave != "" && m.Organization.Slug == leave {
			v.LeaveConfirm = &p.Memberships[i]
		}
	}
}

// renderMe renders /me with v, after loading the join requests into it.
func (c *Console) renderMe(w http.ResponseWriter, r *http.Request, p *page, status int, v *meView) {
	p.Section = "me"
	loaded, err := c.meView(r.Context(), p)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	v.Requests, v.Suggested = loaded.Requests, loaded.Suggested
	if v.Profile == (profileForm{}) && v.ProfileProblem == nil {
		v.Profile = loaded.Profile
	}
	c.render(w, r, status, mePage(p, v))
}

// cancelOwnJoinRequest withdraws one of the person's own pending join requests,
// after the confirmation on /me.
func (c *Console) cancelOwnJoinRequest(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	ctx := r.Context()
	jr, err := c.svc.CancelJoinRequest(ctx, p.Actor, r.PathValue("request"))
	if err != nil {
		v := &meView{Problem: c.problemOf(ctx, err)}
		c.renderMe(w, r, p, v.Problem.Status, v)
		return
	}
	c.redirect(w, r, "/me", "Your request to join "+jr.Organization.Name+" is cancelled; its administrators no longer see it.")
}

// leaveOrganization ends the person's own membership of the organization in the
// path, after the confirmation on /me; the last active owner is refused there.
func (c *Console) leaveOrganization(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	ctx := r.Context()
	slug := r.PathValue("org")
	name := slug
	for _, m := range p.Memberships {
		if m.Organization.Slug == slug || m.Organization.ID == slug {
			name = m.Organization.Name
		}
	}
	if err := c.svc.LeaveOrganization(ctx, p.Actor, slug); err != nil {
		v := &meView{Problem: c.problemOf(ctx, err)}
		v.confirmFor(p, "", slug)
		c.renderMe(w, r, p, v.Problem.Status, v)
		return
	}
	c.redirect(w, r, "/me", "You left "+name+"; your seats there are free again. An email confirms it.")
}

// memberOf reports whether the person has a membership of organization id: the
// switcher lists it once, as theirs.
func (p *page) memberOf(id string) bool {
	for _, m := range p.Memberships {
		if m.Organization.ID == id {
			return true
		}
	}
	return false
}
