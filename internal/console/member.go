package console

import (
	"net/http"
	"strconv"

	"roster.dev/roster/internal/account"
)

// panelView is one member's side panel: Licenses and Details.
type panelView struct {
	Member  account.Member
	Back    string // the list with its filter, where the panel closes to
	Confirm string // a destructive action waiting for confirmation
	Problem *problem
	Edit    account.UpdateMemberInput
}

// holds reports whether the member holds a seat of subscription id.
func (v *panelView) holds(id string) bool {
	for _, s := range v.Member.Seats {
		if s.SubscriptionID == id {
			return true
		}
	}
	return false
}

// profileEditable reports whether the actor may change the member's names, phone
// and username (the organization manages the account, or the actor is the operator
// or the person).
func (v *panelView) profileEditable(p *page) bool {
	return account.MayEditProfile(p.Actor, p.Org(), v.Member.Account)
}

func (v *panelView) isAdmin() bool {
	return v.Member.RoleID == "admin" || v.Member.RoleID == "owner"
}

// member renders the Users screen with one member's panel open; ?confirm=…
// shows the confirmation of a destructive action.
func (c *Console) member(w http.ResponseWriter, r *http.Request, p *page) {
	c.renderPanel(w, r, p, http.StatusOK, r.URL.Query().Get("confirm"), nil)
}

func (c *Console) renderPanel(w http.ResponseWriter, r *http.Request, p *page, status int, confirm string, prob *problem) {
	ctx := r.Context()
	id := r.PathValue("account")
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if u := back(p, r); u != "" {
			q = parseQuery(u)
		}
	}
	v, err := c.usersView(ctx, p, filterFrom(q), id)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	if confirm != "deactivate" && confirm != "remove" && confirm != "cancel-invitation" &&
		(confirm != "delete-account" && confirm != "disable-account" || !p.operator()) {
		// ?confirm= is data: only the destructive actions are asked about (the
		// account's permanent deletion and its disabling only of an operator), and
		// nothing else ever becomes the confirmation form's action.
		confirm = ""
	}
	v.Panel = &panelView{Member: *v.member, Back: p.base() + "/users" + v.Filter.query(true), Confirm: confirm, Problem: prob}
	c.render(w, r, status, usersPage(p, v))
}

// memberAction answers the panel's forms: every one changes one thing through its
// use case and comes back to the panel, with the error inline when it failed. The
// list's rows post some of them too (from=list): they come back to the list, with
// the error on the member's row.
func (c *Console) memberAction(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	ctx := r.Context()
	org, id := p.Org().ID, r.PathValue("account")
	fromList := formValue(r, "from") == "list"
	here := p.base() + "/users/" + seg(id)
	if b := formValue(r, "back"); b != "" {
		if u := parseQuery(b).Encode(); u != "" {
			here += "?" + u
		}
	}
	if fromList {
		here = back(p, r)
	}
	var err error
	done := ""
	switch r.PathValue("action") {
	case "edit":
		in := account.UpdateMemberInput{}
		for name, ptr := range map[string]**string{"first_name": &in.FirstName, "last_name": &in.LastName,
			"phone": &in.Phone, "username": &in.Username, "role": &in.Role} {
			if vals, ok := r.PostForm[name]; ok {
				s := vals[0]
				*ptr = &s
			}
		}
		_, err = c.svc.UpdateMember(ctx, p.Actor, org, id, in)
		done = "Details saved."
	case "admin":
		role := "member"
		if formValue(r, "admin") == "on" {
			role = "admin"
		}
		_, err = c.svc.UpdateMember(ctx, p.Actor, org, id, account.UpdateMemberInput{Role: &role})
		done = "Administrator rights updated; the user is told by email."
	case "deactivate":
		_, err = c.svc.DeactivateMember(ctx, p.Actor, org, id)
		done = "Deactivated: the user keeps their seats but cannot use them until reactivated."
	case "reactivate":
		_, err = c.svc.ReactivateMember(ctx, p.Actor, org, id)
		done = "Reactivated."
	case "remove":
		if err = c.svc.RemoveMember(ctx, p.Actor, org, id); err == nil {
			c.redirect(w, r, back(p, r), "Removed from "+p.Org().Name+"; their seats here are free again.")
			return
		}
	case "delete-account":
		// The operator types the account's email address to confirm: the deletion
		// cannot be undone, and reaches every organization of the account. Who may
		// delete is the domain's decision, taken first.
		var m account.Member
		if m, err = c.svc.FindMember(ctx, p.Actor, org, id); err == nil {
			if !p.operator() {
				err = c.svc.DeleteAccount(ctx, p.Actor, id) // refused: operators only
			} else if account.EmailKey(formValue(r, "confirm_email")) != account.EmailKey(m.Account.Email) {
				err = account.Invalid("confirm_email", "type the account's email address, "+m.Account.Email+", to confirm")
				c.renderPanel(w, r, p, http.StatusUnprocessableEntity, "delete-account", c.problemOf(ctx, err))
				return
			} else if err = c.svc.DeleteAccount(ctx, p.Actor, id); err == nil {
				c.redirect(w, r, back(p, r), "The account of "+m.Account.Email+" is deleted, with its memberships in every organization.")
				return
			}
		}
	case "disable-account":
		// Who may disable is the domain's decision (operators only), taken first.
		if _, err = c.svc.DisableAccount(ctx, p.Actor, id); err == nil {
			done = "The account is disabled: its sessions ended, it cannot log in, and no application lets it in."
		}
	case "enable-account":
		if _, err = c.svc.EnableAccount(ctx, p.Actor, id); err == nil {
			done = "The account is enabled again: its memberships and seats count as before."
		}
	case "resend":
		var m account.Member
		if m, err = c.svc.FindMember(ctx, p.Actor, org, id); err == nil {
			if m.Invitation == nil {
				err = account.Errorf(account.ECONFLICT, "%s has no pending invitation", m.Account.Email)
			} else if err = c.limits.AllowInvitations(ctx, p.Actor, 1); err == nil {
				if _, err = c.svc.ResendInvitation(ctx, p.Actor, org, m.Invitation.ID); err != nil {
					c.limits.RefundInvitations(p.Actor, 1)
				}
			}
		}
		done = "A new invitation is on its way; the old link no longer works."
	case "cancel-invitation":
		var m account.Member
		if m, err = c.svc.FindMember(ctx, p.Actor, org, id); err == nil {
			if m.Invitation == nil {
				err = account.Errorf(account.ECONFLICT, "%s has no pending invitation", m.Account.Email)
			} else if err = c.svc.CancelInvitation(ctx, p.Actor, org, m.Invitation.ID); err == nil {
				c.redirect(w, r, back(p, r), "The invitation of "+m.Account.Email+" is cancelled; its link no longer works.")
				return
			}
		}
	case "assign":
		_, _, err = c.svc.AssignSeat(ctx, p.Actor, org, formValue(r, "subscription"), id)
		done = "Seat assigned; the user is told by email."
	case "unassign":
		err = c.svc.UnassignSeat(ctx, p.Actor, org, formValue(r, "subscription"), id)
		done = "Seat unassigned; the user is told by email."
	default:
		c.fail(w, r, p, account.Errorf(account.ENOTFOUND, "no such action"))
		return
	}
	if err != nil {
		prob := c.problemOf(ctx, err)
		if prob.Status == http.StatusNotFound && (fromList || r.PathValue("action") != "assign" && r.PathValue("action") != "unassign") {
			c.fail(w, r, p, err)
			return
		}
		if fromList {
			c.rowFailed(w, r, p, id, prob)
			return
		}
		c.renderPanel(w, r, p, prob.Status, "", prob)
		return
	}
	c.redirect(w, r, here, done)
}

// seatRequest asks the operator for more seats of an application.
func (c *Console) seatRequest(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	qty, err := strconv.Atoi(formValue(r, "quantity"))
	if err != nil {
		qty = 0
	}
	_, err = c.svc.RequestSeats(r.Context(), p.Actor, p.Org().ID, account.SeatRequestInput{
		Application: formValue(r, "application"), Quantity: qty, Note: formValue(r, "note")})
	if err != nil {
		prob := c.problemOf(r.Context(), err)
		if r.PathValue("account") != "" {
			c.renderPanel(w, r, p, prob.Status, "", prob)
			return
		}
		c.fail(w, r, p, err)
		return
	}
	c.redirect(w, r, back(p, r), "Your request for more seats is sent to the operator.")
}
