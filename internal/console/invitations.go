package console

import (
	"net/http"
	"net/url"

	"roster.dev/roster/internal/account"
)

// invitationStatuses are the Invitations screen's tabs, in order.
var invitationStatuses = []string{
	string(account.InvitationPending), string(account.InvitationExpired),
	string(account.InvitationAccepted), string(account.InvitationCancelled),
}

// invitationsView is the Invitations screen: one status's invitations, a page at a
// time, and a cancellation waiting for confirmation.
type invitationsView struct {
	Status, Cursor string
	Page           account.Page[account.Invitation]
	RoleNames      map[string]string
	Confirm        *account.Invitation
	Problem        *problem
}

// orgStatusQuery is the query of a status list (the Invitations and Join requests
// screens) with its cursor.
func orgStatusQuery(status, cursor string) string {
	v := url.Values{"status": {status}}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	return "?" + v.Encode()
}

func (v *invitationsView) here(p *page) string {
	return p.base() + "/invitations" + orgStatusQuery(v.Status, v.Cursor)
}

func (v *invitationsView) roleName(id string) string {
	if n := v.RoleNames[id]; n != "" {
		return n
	}
	return id
}

// invitationActionable reports whether inv may be resent or cancelled: it is pending
// or expired.
func invitationActionable(p *page, inv account.Invitation) bool {
	st := inv.StateAt(p.now)
	return st == account.InvitationPending || st == account.InvitationExpired
}

// invitations renders the Invitations screen: ?status= (pending by default),
// ?cursor= and ?confirm=<invitation id> for a cancellation.
func (c *Console) invitations(w http.ResponseWriter, r *http.Request, p *page) {
	q := r.URL.Query()
	v, err := c.invitationsView(r, p, q)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	if id := q.Get("confirm"); id != "" && p.Can(account.PermMembersInvite) {
		inv, err := c.svc.FindInvitation(r.Context(), p.Actor, p.Org().ID, id)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		v.Confirm = &inv
	}
	c.render(w, r, http.StatusOK, invitationsPage(p, v))
}

func (c *Console) invitationsView(r *http.Request, p *page, q url.Values) (*invitationsView, error) {
	v := &invitationsView{Status: q.Get("status"), Cursor: q.Get("cursor"), RoleNames: map[string]string{}}
	if v.Status == "" {
		v.Status = string(account.InvitationPending)
	}
	var err error
	v.Page, err = c.svc.FindInvitations(r.Context(), p.Actor, p.Org().ID,
		account.InvitationQuery{Status: v.Status, Cursor: v.Cursor, Limit: 50})
	if err != nil {
		return nil, err
	}
	roles, err := c.svc.FindRoles(r.Context(), p.Actor, p.Org().ID)
	for _, role := range roles {
		v.RoleNames[role.ID] = role.Name
	}
	return v, err
}

// invitationsBack is where an invitation's form returns to: the list it was on.
func invitationsBack(p *page, r *http.Request) string {
	return backTo(r.PostFormValue("back"), p.base()+"/invitations")
}

// resendInvitation sends an invitation again, with a new link (the old one stops
// working); it takes from the API's invitation rate limit.
func (c *Console) resendInvitation(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	ctx := r.Context()
	err := c.limits.AllowInvitations(ctx, p.Actor, 1)
	var inv account.Invitation
	if err == nil {
		if inv, err = c.svc.ResendInvitation(ctx, p.Actor, p.Org().ID, r.PathValue("invitation")); err != nil {
			c.limits.RefundInvitations(p.Actor, 1)
		}
	}
	if err != nil {
		c.invitationFailed(w, r, p, err)
		return
	}
	c.redirect(w, r, invitationsBack(p, r), "A new invitation is on its way to "+inv.Email+"; the old link no longer works.")
}

// cancelInvitation withdraws an invitation (after the confirmation): the link stops
// working and the invited membership goes, with its reserved seats.
func (c *Console) cancelInvitation(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	ctx := r.Context()
	id := r.PathValue("invitation")
	inv, err := c.svc.FindInvitation(ctx, p.Actor, p.Org().ID, id)
	if err == nil {
		err = c.svc.CancelInvitation(ctx, p.Actor, p.Org().ID, id)
	}
	if err != nil {
		c.invitationFailed(w, r, p, err)
		return
	}
	c.redirect(w, r, invitationsBack(p, r), "The invitation of "+inv.Email+" is cancelled; its link no longer works.")
}

// invitationFailed shows the list the form came from with err above it.
func (c *Console) invitationFailed(w http.ResponseWriter, r *http.Request, p *page, err error) {
	prob := c.problemOf(r.Context(), err)
	if prob.Status == http.StatusNotFound || prob.Status == http.StatusUnauthorized {
		c.fail(w, r, p, err)
		return
	}
	v, verr := c.invitationsView(r, p, parseQuery(invitationsBack(p, r)))
	if verr != nil {
		c.fail(w, r, p, verr)
		return
	}
	v.Problem = prob
	c.render(w, r, prob.Status, invitationsPage(p, v))
}
