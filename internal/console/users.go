package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"roster.dev/roster/internal/account"
)

// usersView is the Users screen: the counts, one card per subscription, the filtered
// and paged member list, and optionally one member's side panel.
type usersView struct {
	Filter    memberFilter
	Summary   account.Summary
	Available int // seats left over the subscriptions in force
	AppNames  map[string]string
	Roles     []account.Role
	Teams     []account.Team
	Page      account.Page[account.Member]
	RowErrors map[string]string // account id → the error of an inline change
	Panel     *panelView
	member    *account.Member // the panel's member, as read with the list
}

// memberFilter is the list's query, kept in every link and form of the screen.
type memberFilter struct {
	Q, Role, Team, State, Subscription, Cursor string
}

func filterFrom(q url.Values) memberFilter {
	return memberFilter{Q: q.Get("q"), Role: q.Get("role"), Team: q.Get("team"), State: q.Get("state"),
		Subscription: q.Get("subscription"), Cursor: q.Get("cursor")}
}

// query encodes the filter (without the cursor unless asked).
func (f memberFilter) query(withCursor bool) string {
	v := url.Values{}
	for k, s := range map[string]string{"q": f.Q, "role": f.Role, "team": f.Team, "state": f.State, "subscription": f.Subscription} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if withCursor && f.Cursor != "" {
		v.Set("cursor", f.Cursor)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// toggled is the filter with the subscription card's filter switched on or off.
func (f memberFilter) toggled(subID string) memberFilter {
	f.Cursor = ""
	if f.Subscription == subID {
		f.Subscription = ""
	} else {
		f.Subscription = subID
	}
	return f
}

func (f memberFilter) next(cursor string) memberFilter {
	f.Cursor = cursor
	return f
}

func (f memberFilter) memberQuery() account.MemberQuery {
	return account.MemberQuery{Q: f.Q, Role: f.Role, Team: f.Team, State: f.State, Subscription: f.Subscription,
		Cursor: f.Cursor, Limit: 50}
}

// listQuery is the screen's query: it spares the count only where the header has
// it already (no filter); every filtered list says exactly how many match.
func (f memberFilter) listQuery() account.MemberQuery {
	q := f.memberQuery()
	q.NoTotal = f.query(false) == ""
	return q
}

// matches is how many members the list holds, as the screen says it.
func (v *usersView) matches() string {
	n := v.Page.Total
	if n < 0 {
		n = v.Summary.Members.Total
	}
	if v.Filter.query(false) == "" {
		return plural(n, "user", "users")
	}
	return plural(n, "user matches", "users match")
}

// users renders the Users screen.
func (c *Console) users(w http.ResponseWriter, r *http.Request, p *page) {
	v, err := c.usersView(r.Context(), p, filterFrom(r.URL.Query()), "")
	if err != nil {
		c.failInline(w, r, p, err)
		return
	}
	c.render(w, r, http.StatusOK, usersPage(p, v))
}

// failInline shows a bad filter as a message on the page rather than an error page.
func (c *Console) failInline(w http.ResponseWriter, r *http.Request, p *page, err error) {
	prob := c.problemOf(r.Context(), err)
	if prob.Status != http.StatusUnprocessableEntity {
		c.fail(w, r, p, err)
		return
	}
	v, err := c.usersView(r.Context(), p, memberFilter{}, "")
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	v.Filter = filterFrom(r.URL.Query())
	c.render(w, r, prob.Status, usersPageWithProblem(p, v, prob))
}

// usersView reads the Users screen, with the member of memberID's panel when it is
// not empty, and the page's frame in the same read (FindMemberList).
func (c *Console) usersView(ctx context.Context, p *page, f memberFilter, memberID string) (*usersView, error) {
	org := p.orgRef
	if p.Access != nil {
		org = p.Org().ID
	}
	fr, l, err := c.svc.FindMemberList(ctx, p.Actor, org, f.listQuery(), memberID)
	p.setFrame(fr)
	if err != nil {
		return nil, err
	}
	v := &usersView{Filter: f, Summary: l.Summary, AppNames: p.apps, Roles: l.Roles, Teams: l.Teams, Page: l.Page,
		RowErrors: map[string]string{}, member: l.Member}
	now := c.now()
	for _, s := range v.Summary.Subscriptions {
		if s.State(now) == account.SubscriptionActive {
			v.Available += s.Available()
		}
	}
	return v, nil
}

// bulkActions reports whether the list offers an action on selected members, and so
// selection checkboxes.
func (v *usersView) bulkActions(p *page) bool {
	return p.Can(account.PermMembersRemove) || p.Can(account.PermMembersInvite)
}

// columns is how many columns the list has.
func (v *usersView) columns(p *page) int {
	n := 6
	if v.bulkActions(p) {
		n++
	}
	if v.rowActions(p) {
		n++
	}
	return n
}

// rowActions reports whether the viewer may act on a member from its row, and so
// whether the rows have an actions column (a "…" menu, a trash icon).
func (v *usersView) rowActions(p *page) bool {
	return p.Can(account.PermMembersManage) || p.Can(account.PermMembersRemove) || p.Can(account.PermMembersInvite)
}

// menuItem is one entry of a row's "…" menu: a form posting Action at once (not
// destructive), or a link to the panel's confirmation of Action.
type menuItem struct {
	Action, Label string
	Post          bool
}

// menuItems are the actions the viewer may take on m from its row, as the panel
// offers them: deactivating, removing and cancelling an invitation are confirmed
// first; reactivating and resending are not destructive and happen at once.
func (v *usersView) menuItems(p *page, m account.Member) []menuItem {
	var items []menuItem
	if p.Can(account.PermMembersManage) {
		switch m.State {
		case account.MemberActive:
			items = append(items, menuItem{Action: "deactivate", Label: "Deactivate"})
		case account.MemberDeactivated:
			items = append(items, menuItem{Action: "reactivate", Label: "Reactivate", Post: true})
		}
	}
	if m.State == account.MemberInvited && m.Invitation != nil && p.Can(account.PermMembersInvite) {
		items = append(items, menuItem{Action: "resend", Label: "Resend invitation", Post: true},
			menuItem{Action: "cancel-invitation", Label: "Cancel invitation"})
	}
	if p.Can(account.PermMembersRemove) {
		items = append(items, menuItem{Action: "remove", Label: "Remove"})
	}
	return items
}

// rowConfirmURL is m's panel asking to confirm action, over the list as it is.
func (v *usersView) rowConfirmURL(p *page, m account.Member, action string) string {
	q := v.Filter.query(true)
	if q == "" {
		q = "?confirm=" + action
	} else {
		q += "&confirm=" + action
	}
	return p.base() + "/users/" + seg(m.AccountID) + q
}

// toggleable are the subscriptions whose seat m's row assigns or unassigns. In the
// list filtered by a subscription's card, that one; in the full list, one per
// application (an entry and its renewal are one application to a person): an
// entry m holds a seat of if there is one (so the toggle shows it pressed and
// frees it), else the entry in force that started last, else the next to start.
func (v *usersView) toggleable(p *page, m account.Member) []account.Subscription {
	var out []account.Subscription
	if v.Filter.Subscription != "" {
		for _, s := range v.Summary.Subscriptions {
			if s.ID == v.Filter.Subscription {
				out = append(out, s)
			}
		}
		return out
	}
	now := nowOf(p)
	rank := func(s account.Subscription) int {
		held := 0
		if holds(m, s.ID) {
			held = 10
		}
		switch s.State(now) {
		case account.SubscriptionActive:
			return held + 3
		case account.SubscriptionUpcoming:
			return held + 2
		}
		return held // expired: only to free a seat still held
	}
	better := func(a, b account.Subscription) bool { // a rather than b
		ra, rb := rank(a), rank(b)
		if ra != rb {
			return ra > rb
		}
		if ra%10 == 2 { // upcoming: the next to start
			return a.StartsAt.Before(b.StartsAt)
		}
		return a.StartsAt.After(b.StartsAt)
	}
	at := map[string]int{} // application → its index in out
	for _, s := range v.Summary.Subscriptions {
		if rank(s) == 0 {
			continue
		}
		if i, ok := at[s.ApplicationKey]; !ok {
			at[s.ApplicationKey] = len(out)
			out = append(out, s)
		} else if better(s, out[i]) {
			out[i] = s
		}
	}
	return out
}

// holds reports whether m holds a seat of subscription id.
func holds(m account.Member, id string) bool {
	for _, s := range m.Seats {
		if s.SubscriptionID == id {
			return true
		}
	}
	return false
}

// toggleAction is what m's seat toggle of subscription id does.
func toggleAction(m account.Member, id string) string {
	if holds(m, id) {
		return "unassign"
	}
	return "assign"
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// appName names a subscription's application.
func (v *usersView) appName(key string) string {
	if n := v.AppNames[key]; n != "" {
		return n
	}
	return key
}

// back is where a form on the Users screen returns to: the list with its filter,
// and the panel if one was open.
func back(p *page, r *http.Request) string {
	return backTo(r.PostFormValue("back"), p.base()+"/users")
}

// setRole changes a member's role from the list's inline control.
func (c *Console) setRole(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	role := formValue(r, "role")
	c.inlineUpdate(w, r, p, account.UpdateMemberInput{Role: &role}, "Role changed.")
}

// setTeams changes a member's teams from the list's inline control.
func (c *Console) setTeams(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, p, account.Invalid("teams", "could not be read"))
		return
	}
	teams := r.PostForm["team"]
	if teams == nil {
		teams = []string{}
	}
	c.inlineUpdate(w, r, p, account.UpdateMemberInput{Teams: &teams}, "Teams changed.")
}

// inlineUpdate applies an inline change and returns to the list; an error is shown
// on the member's row.
func (c *Console) inlineUpdate(w http.ResponseWriter, r *http.Request, p *page, in account.UpdateMemberInput, done string) {
	id := r.PathValue("account")
	_, err := c.svc.UpdateMember(r.Context(), p.Actor, p.Org().ID, id, in)
	if err == nil {
		c.redirect(w, r, back(p, r), done)
		return
	}
	prob := c.problemOf(r.Context(), err)
	if prob.Status == http.StatusNotFound {
		c.fail(w, r, p, err)
		return
	}
	c.rowFailed(w, r, p, id, prob)
}

// rowFailed shows the list the form came from with prob on member id's row.
func (c *Console) rowFailed(w http.ResponseWriter, r *http.Request, p *page, id string, prob *problem) {
	u, _ := url.Parse(back(p, r))
	v, verr := c.usersView(r.Context(), p, filterFrom(u.Query()), "")
	if verr != nil {
		c.fail(w, r, p, verr)
		return
	}
	v.RowErrors[id] = prob.Message
	if len(prob.Order) > 0 {
		v.RowErrors[id] = strings.Join(prob.sentences(), " ")
	}
	c.render(w, r, prob.Status, usersPage(p, v))
}

// bulk applies the list's bulk actions to the checked members: removal (after a
// confirmation page) and resending pending invitations.
func (c *Console) bulk(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, p, account.Invalid("id", "could not be read"))
		return
	}
	ids := r.PostForm["id"]
	action := r.PostForm.Get("action")
	ctx := r.Context()
	if len(ids) == 0 {
		c.redirect(w, r, back(p, r), "Select at least one user first.")
		return
	}
	switch action {
	case "remove":
		members, err := c.selected(ctx, p, ids)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		c.render(w, r, http.StatusOK, confirmBulkRemove(p, members, back(p, r)))
	case "remove-confirmed":
		results, err := c.svc.RemoveMembers(ctx, p.Actor, p.Org().ID, ids)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		c.redirect(w, r, back(p, r), summarize(len(results), failures(results, func(x account.RemoveResult) error { return x.Err }), "removed"))
	case "resend":
		members, err := c.selected(ctx, p, ids)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		c.render(w, r, http.StatusOK, confirmBulkResend(p, members, back(p, r)))
	case "resend-confirmed":
		var invIDs []string
		skipped := 0
		for _, id := range ids {
			m, err := c.svc.FindMember(ctx, p.Actor, p.Org().ID, id)
			if err != nil {
				c.fail(w, r, p, err)
				return
			}
			if m.Invitation == nil {
				skipped++
				continue
			}
			invIDs = append(invIDs, m.Invitation.ID)
		}
		if err := c.limits.AllowInvitations(ctx, p.Actor, len(invIDs)); err != nil {
			c.fail(w, r, p, err)
			return
		}
		results, err := c.svc.ResendInvitations(ctx, p.Actor, p.Org().ID, invIDs)
		c.limits.RefundInvitations(p.Actor, len(invIDs)-applied(results, err, func(x account.ResendResult) error { return x.Err }))
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		msg := summarize(len(results), failures(results, func(x account.ResendResult) error { return x.Err }), "sent a new invitation")
		if skipped > 0 {
			msg += " " + plural(skipped, "selected user has", "selected users have") + " no pending invitation."
		}
		c.redirect(w, r, back(p, r), msg)
	default:
		c.fail(w, r, p, account.Invalid("action", "must be remove or resend"))
	}
}

// applied counts the results of a bulk request without an error: none when the
// request failed as a whole.
func applied[T any](results []T, err error, errOf func(T) error) int {
	if err != nil {
		return 0
	}
	n := 0
	for _, x := range results {
		if errOf(x) == nil {
			n++
		}
	}
	return n
}

func failures[T any](results []T, errOf func(T) error) []string {
	var out []string
	for _, x := range results {
		if err := errOf(x); err != nil {
			out = append(out, account.ErrorMessage(err))
		}
	}
	return out
}

// summarize reports a bulk action: how many succeeded, and why the others did not.
func summarize(n int, failed []string, verb string) string {
	ok := n - len(failed)
	msg := plural(ok, "user", "users") + " " + verb + "."
	if len(failed) > 0 {
		msg += " " + plural(len(failed), "was not", "were not") + ": " + strings.Join(uniq(failed), "; ") + "."
	}
	return msg
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return num(n) + " " + many
}

// invitedCount is how many of members have a pending invitation.
func invitedCount(members []account.Member) int {
	n := 0
	for _, m := range members {
		if m.Invitation != nil {
			n++
		}
	}
	return n
}

func pluralVerb(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// selected is the members a bulk action was asked for, to name them on its
// confirmation page.
func (c *Console) selected(ctx context.Context, p *page, ids []string) ([]account.Member, error) {
	members, err := c.svc.FindMembersByID(ctx, p.Actor, p.Org().ID, ids)
	if err == nil && len(members) != len(ids) {
		err = account.Errorf(account.ENOTFOUND, "member not found")
	}
	return members, err
}
