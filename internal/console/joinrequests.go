package console

import (
	"net/http"
	"net/url"

	"roster.dev/roster/internal/account"
)

// joinRequestStatuses are the Join requests screen's tabs, in order.
var joinRequestStatuses = []string{
	string(account.JoinRequestPending), string(account.JoinRequestApproved), string(account.JoinRequestDenied),
	string(account.JoinRequestCancelled),
}

// joinRequestsView is the Join requests screen: one status's requests, a page at a
// time, with what an approval may offer (roles, teams, applications).
type joinRequestsView struct {
	Status, Cursor string
	Page           account.Page[account.JoinRequest]
	// Offer is what an approval may give, as the domain offers it; nil when the
	// reviewer may not invite (approving needs members.invite).
	Offer   *account.Offer
	Confirm *account.JoinRequest // a denial waiting for confirmation
	Open    string               // the request whose approval form failed
	Approve account.ApproveInput // what that form asked for
	Problem *problem
}

func (v *joinRequestsView) here(p *page) string {
	return p.base() + "/join-requests" + orgStatusQuery(v.Status, v.Cursor)
}

// offer is the approval form's values for request id: what a failed form asked
// for, else the member role.
func (v *joinRequestsView) offer(id string) account.ApproveInput {
	if id == v.Open {
		return v.Approve
	}
	return account.ApproveInput{Role: account.RoleMember}
}

// joinRequests renders the Join requests screen: ?status= (pending by default),
// ?cursor= and ?confirm=<request id> for a denial.
func (c *Console) joinRequests(w http.ResponseWriter, r *http.Request, p *page) {
	q := r.URL.Query()
	v, err := c.joinRequestsView(r, p, q)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	if id := q.Get("confirm"); id != "" {
		for i := range v.Page.Items {
			if v.Page.Items[i].ID == id && v.Page.Items[i].State == account.JoinRequestPending {
				v.Confirm = &v.Page.Items[i]
			}
		}
	}
	c.render(w, r, http.StatusOK, joinRequestsPage(p, v))
}

func (c *Console) joinRequestsView(r *http.Request, p *page, q url.Values) (*joinRequestsView, error) {
	ctx := r.Context()
	v := &joinRequestsView{Status: q.Get("status"), Cursor: q.Get("cursor")}
	if v.Status == "" {
		v.Status = string(account.JoinRequestPending)
	}
	var err error
	v.Page, err = c.svc.FindJoinRequests(ctx, p.Actor, p.Org().ID,
		account.JoinRequestQuery{Status: v.Status, Cursor: v.Cursor, Limit: 50})
	if err != nil || v.Status != string(account.JoinRequestPending) || len(v.Page.Items) == 0 {
		return v, err
	}
	// What an approval may give: the domain's offer, which a reviewer who may not
	// invite is refused (and is then offered no approval).
	offer, err := c.svc.FindOffer(ctx, p.Actor, p.Org().ID)
	switch {
	case account.ErrorCode(err) == account.EFORBIDDEN:
		return v, nil
	case err != nil:
		return nil, err
	}
	v.Offer = &offer
	return v, nil
}

// joinRequestsBack is where a request's form returns to: the list it was on.
func joinRequestsBack(p *page, r *http.Request) string {
	return backTo(r.PostFormValue("back"), p.base()+"/join-requests")
}

// approveJoinRequest approves a request: the requester is sent an invitation with
// the role, teams and applications chosen, which takes from the invitation rate limit.
func (c *Console) approveJoinRequest(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	ctx := r.Context()
	id := r.PathValue("request")
	in := account.ApproveInput{Role: r.PostFormValue("role"), Teams: r.PostForm["team"], Applications: r.PostForm["application"]}
	err := c.limits.AllowInvitations(ctx, p.Actor, 1)
	var jr account.JoinRequest
	if err == nil {
		if jr, err = c.svc.ApproveJoinRequest(ctx, p.Actor, p.Org().ID, id, in); err != nil {
			c.limits.RefundInvitations(p.Actor, 1)
		}
	}
	if err != nil {
		c.joinRequestFailed(w, r, p, err, func(v *joinRequestsView) { v.Open, v.Approve = id, in })
		return
	}
	c.redirect(w, r, joinRequestsBack(p, r), "Approved: "+jr.Account.Email+" is sent an invitation to join "+p.Org().Name+".")
}

// denyJoinRequest denies a request (after the confirmation); nobody is emailed.
func (c *Console) denyJoinRequest(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	jr, err := c.svc.DenyJoinRequest(r.Context(), p.Actor, p.Org().ID, r.PathValue("request"))
	if err != nil {
		c.joinRequestFailed(w, r, p, err, func(*joinRequestsView) {})
		return
	}
	c.redirect(w, r, joinRequestsBack(p, r), "Denied the request of "+jr.Account.Email+"; nobody is emailed.")
}

// joinRequestFailed shows the list the form came from with err above it.
func (c *Console) joinRequestFailed(w http.ResponseWriter, r *http.Request, p *page, err error, show func(*joinRequestsView)) {
	prob := c.problemOf(r.Context(), err)
	if prob.Status == http.StatusNotFound || prob.Status == http.StatusUnauthorized {
		c.fail(w, r, p, err)
		return
	}
	v, verr := c.joinRequestsView(r, p, parseQuery(joinRequestsBack(p, r)))
	if verr != nil {
		c.fail(w, r, p, verr)
		return
	}
	v.Problem = prob
	show(v)
	c.render(w, r, prob.Status, joinRequestsPage(p, v))
}
