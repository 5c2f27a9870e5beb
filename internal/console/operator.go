package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"roster.dev/roster/internal/account"
)

// The operator's view: partners and organizations, applications and their keys,
// seat requests and the outbox. Every page is the operator's only: anyone else is
// told there is no such page.

// operatorSections are the operator view's navigation entries.
var operatorSections = map[string]bool{"operator": true, "applications": true, "seat-requests": true, "outbox": true}

func operatorSection(s string) bool { return operatorSections[s] }

// operatorOnly serves a page of the operator view; to anyone else it does not exist.
func (c *Console) operatorOnly(title, section string, h handler) http.HandlerFunc {
	return c.authed(title, func(w http.ResponseWriter, r *http.Request, p *page) {
		if !p.operator() {
			c.fail(w, r, p, account.Errorf(account.ENOTFOUND, "there is no page at %s", r.URL.Path))
			return
		}
		p.Section = section
		h(w, r, p)
	})
}

// orgsView is the list of partners and organizations with the form creating one.
type orgsView struct {
	Q, Kind, Cursor string
	Page            account.Page[account.Organization]
	Partners        []account.Organization
	New             account.CreateOrganizationInput
	Problem         *problem
	Creating        bool // the problem is the creation form's
}

func (v *orgsView) query(cursor string) string {
	q := url.Values{}
	for k, s := range map[string]string{"q": v.Q, "kind": v.Kind, "cursor": cursor} {
		if s != "" {
			q.Set(k, s)
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func (v *orgsView) parentName(id string) string {
	for _, o := range v.Partners {
		if o.ID == id {
			return o.Name
		}
	}
	return ""
}

// operatorOrgs lists partners and organizations with search, kind filter and pages.
func (c *Console) operatorOrgs(w http.ResponseWriter, r *http.Request, p *page) {
	q := r.URL.Query()
	v := &orgsView{Q: q.Get("q"), Kind: q.Get("kind"), Cursor: q.Get("cursor"),
		New: account.CreateOrganizationInput{Kind: account.KindOrganization}}
	c.renderOrgs(w, r, p, v, http.StatusOK)
}

func (c *Console) renderOrgs(w http.ResponseWriter, r *http.Request, p *page, v *orgsView, status int) {
	ctx := r.Context()
	partners, err := c.svc.FindOrganizations(ctx, p.Actor, account.OrganizationQuery{Kind: string(account.KindPartner), Limit: 500})
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	v.Partners = partners.Items
	v.Page, err = c.svc.FindOrganizations(ctx, p.Actor, account.OrganizationQuery{Q: v.Q, Kind: v.Kind, Cursor: v.Cursor})
	if err != nil {
		prob := c.problemOf(ctx, err)
		if prob.Status != http.StatusUnprocessableEntity {
			c.fail(w, r, p, err)
			return
		}
		v.Problem, status = prob, prob.Status
		v.Page, err = c.svc.FindOrganizations(ctx, p.Actor, account.OrganizationQuery{})
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
	}
	c.render(w, r, status, operatorOrgsPage(p, v))
}

// createOrganization creates a partner, or an organization (under a partner when
// one is chosen).
func (c *Console) createOrganization(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	in := account.CreateOrganizationInput{Name: formValue(r, "name"), Slug: formValue(r, "slug"),
		Kind: account.OrgKind(formValue(r, "kind")), Parent: formValue(r, "parent")}
	if in.Kind == account.KindPartner {
		in.Parent = ""
	}
	o, err := c.svc.CreateOrganization(r.Context(), p.Actor, in)
	if err != nil {
		prob := c.problemOf(r.Context(), err)
		c.renderOrgs(w, r, p, &orgsView{New: in, Problem: prob, Creating: true}, prob.Status)
		return
	}
	c.redirect(w, r, "/operator?q="+url.QueryEscape(o.Slug), kindLabel(o.Kind)+" "+o.Name+" created.")
}

// appsView is the applications page: each application with its keys, a key just
// issued (shown this once), and a revocation waiting for confirmation.
type appsView struct {
	Apps   []appKeys
	NewKey *issuedKey
	// NewSecret is a sign-in client's secret, shown on this answer only.
	NewSecret *issuedKey
	Confirm   *appKey
	Problem   *problem
	Form      string // the form the problem belongs to: "create", "rename:<id>", "key:<id>"
	In        url.Values
}

type appKeys struct {
	App  account.Application
	Keys []account.ApplicationKey
	// Client is the application's sign-in client (Sign in with Roster), or nil.
	Client *account.OIDCClient
}

func oidcBackchannelURI(a appKeys) string {
	if a.Client == nil {
		return ""
	}
	return a.Client.BackchannelLogoutURI
}

func oidcLogoutLines(a appKeys) string {
	if a.Client == nil {
		return ""
	}
	return strings.Join(a.Client.PostLogoutRedirectURIs, "\n")
}

// redirectLines is a client's redirect URIs, one a line, for the form.
func (a appKeys) redirectLines() string {
	if a.Client == nil {
		return ""
	}
	return strings.Join(a.Client.RedirectURIs, "\n")
}

type issuedKey struct {
	App  account.Application
	Name string
	Key  string
}

type appKey struct {
	App account.Application
	Key account.ApplicationKey
}

// val is a form's value as sent when it failed, else def.
func (v *appsView) val(form, name, def string) string {
	if v.Form == form && v.In != nil {
		return v.In.Get(name)
	}
	return def
}

func (v *appsView) prob(form string) *problem {
	if v.Form == form {
		return v.Problem
	}
	return nil
}

// applications lists the applications and their keys; ?confirm=<key id>&app=<id>
// asks to confirm a revocation.
func (c *Console) applications(w http.ResponseWriter, r *http.Request, p *page) {
	v := &appsView{}
	q := r.URL.Query()
	c.renderApps(w, r, p, v, http.StatusOK, q.Get("app"), q.Get("confirm"))
}

func (c *Console) renderApps(w http.ResponseWriter, r *http.Request, p *page, v *appsView, status int, confirmApp, confirmKey string) {
	ctx := r.Context()
	apps, err := c.svc.FindApplications(ctx, p.Actor)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	for _, a := range apps {
		keys, err := c.svc.FindApplicationKeys(ctx, p.Actor, a.ID)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		ak := appKeys{App: a, Keys: keys}
		switch cl, err := c.svc.FindOIDCClient(ctx, p.Actor, a.ID); account.ErrorCode(err) {
		case "":
			ak.Client = &cl
		case account.ENOTFOUND:
		default:
			c.fail(w, r, p, err)
			return
		}
		v.Apps = append(v.Apps, ak)
		if a.ID == confirmApp {
			for _, k := range keys {
				if k.ID == confirmKey && k.RevokedAt.IsZero() {
					v.Confirm = &appKey{App: a, Key: k}
				}
			}
		}
	}
	if confirmKey != "" && v.Confirm == nil {
		c.fail(w, r, p, account.Errorf(account.ENOTFOUND, "no such application key"))
		return
	}
	c.render(w, r, status, applicationsPage(p, v))
}

func (c *Console) appFormFailed(w http.ResponseWriter, r *http.Request, p *page, form string, err error) {
	prob := c.problemOf(r.Context(), err)
	c.renderApps(w, r, p, &appsView{Problem: prob, Form: form, In: r.PostForm}, prob.Status, "", "")
}

// createApplication defines an application.
func (c *Console) createApplication(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	app, err := c.svc.CreateApplication(r.Context(), p.Actor, account.ApplicationInput{Key: formValue(r, "key"), Name: formValue(r, "name")})
	if err != nil {
		c.appFormFailed(w, r, p, "create", err)
		return
	}
	c.redirect(w, r, "/operator/applications", "Application "+app.Name+" created.")
}

// renameApplication changes an application's name.
func (c *Console) renameApplication(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	id := r.PathValue("app")
	app, err := c.svc.RenameApplication(r.Context(), p.Actor, id, formValue(r, "name"))
	if err != nil {
		if c.problemOf(r.Context(), err).Status == http.StatusNotFound {
			c.fail(w, r, p, err)
			return
		}
		c.appFormFailed(w, r, p, "rename:"+id, err)
		return
	}
	c.redirect(w, r, "/operator/applications", "Application renamed to "+app.Name+".")
}

// createApplicationKey issues a key and shows it on this answer only: it is never
// stored in the clear, nor put in a flash cookie.
func (c *Console) createApplicationKey(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	id := r.PathValue("app")
	name := formValue(r, "name")
	_, key, err := c.svc.CreateApplicationKey(r.Context(), p.Actor, id, name)
	if err != nil {
		if c.problemOf(r.Context(), err).Status == http.StatusNotFound {
			c.fail(w, r, p, err)
			return
		}
		c.appFormFailed(w, r, p, "key:"+id, err)
		return
	}
	app, err := c.svc.FindApplication(r.Context(), p.Actor, id)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	p.Flash = "Key issued. Copy it now: it is shown only this once."
	// The key must not outlive this answer: the address becomes the list's (a reload
	// does not post again), and hx-history="false" on the key keeps htmx from
	// copying the page into its history cache.
	w.Header().Set("HX-Replace-Url", "/operator/applications")
	c.renderApps(w, r, p, &appsView{NewKey: &issuedKey{App: app, Name: name, Key: key}}, http.StatusCreated, "", "")
}

// setOIDCClient registers or changes an application's sign-in client; a new secret
// is shown on this answer only, as a new key is.
func (c *Console) setOIDCClient(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	id := r.PathValue("app")
	lines := func(name string) *[]string {
		out := []string{}
		for _, l := range strings.Split(formValue(r, name), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return &out
	}
	public, seat := formValue(r, "public") != "", formValue(r, "require_seat") != ""
	backchannel := strings.TrimSpace(formValue(r, "backchannel_logout_uri"))
	cl, secret, err := c.svc.SetOIDCClient(r.Context(), p.Actor, id, account.OIDCClientInput{
		RedirectURIs: lines("redirect_uris"), PostLogoutRedirectURIs: lines("post_logout_redirect_uris"),
		BackchannelLogoutURI: &backchannel, Public: &public, RequireSeat: &seat})
	if err != nil {
		if c.problemOf(r.Context(), err).Status == http.StatusNotFound {
			c.fail(w, r, p, err)
			return
		}
		c.appFormFailed(w, r, p, "oidc:"+id, err)
		return
	}
	if secret == "" {
		c.redirect(w, r, "/operator/applications", "Sign in with Roster saved for "+cl.Application.Name+".")
		return
	}
	c.showSecret(w, r, p, cl.Application, secret)
}

// rotateOIDCSecret gives a sign-in client a new secret, shown on this answer only.
func (c *Console) rotateOIDCSecret(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	id := r.PathValue("app")
	secret, err := c.svc.RotateOIDCSecret(r.Context(), p.Actor, id)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	app, err := c.svc.FindApplication(r.Context(), p.Actor, id)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.showSecret(w, r, p, app, secret)
}

func (c *Console) showSecret(w http.ResponseWriter, r *http.Request, p *page, app account.Application, secret string) {
	p.Flash = "Client secret issued. Copy it now: it is shown only this once."
	w.Header().Set("HX-Replace-Url", "/operator/applications")
	c.renderApps(w, r, p, &appsView{NewSecret: &issuedKey{App: app, Key: secret}}, http.StatusOK, "", "")
}

// revokeApplicationKey revokes a key (after the confirmation on the list).
func (c *Console) revokeApplicationKey(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	if err := c.svc.RevokeApplicationKey(r.Context(), p.Actor, r.PathValue("app"), r.PathValue("key")); err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.redirect(w, r, "/operator/applications", "Key revoked: it stops working at once.")
}

// seatRequestsView is the operator's list of seat requests.
type seatRequestsView struct {
	Status, Cursor string
	Page           account.Page[account.SeatRequest]
	Confirm        string // the request whose denial waits for confirmation
	Problem        *problem
	Row            string // the request the problem belongs to
	Seats          string // the seats sent with the failed approval
}

func (v *seatRequestsView) query(cursor string) string {
	q := url.Values{}
	q.Set("status", v.Status)
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return "?" + q.Encode()
}

// seatRequests lists seat requests by status (pending by default); ?deny=<id>
// asks to confirm a denial.
func (c *Console) seatRequests(w http.ResponseWriter, r *http.Request, p *page) {
	q := r.URL.Query()
	status := q.Get("status")
	if !q.Has("status") {
		status = string(account.SeatRequestPending)
	}
	v := &seatRequestsView{Status: status, Cursor: q.Get("cursor"), Confirm: q.Get("deny")}
	c.renderSeatRequests(w, r, p, v, http.StatusOK)
}

func (c *Console) renderSeatRequests(w http.ResponseWriter, r *http.Request, p *page, v *seatRequestsView, status int) {
	var err error
	v.Page, err = c.svc.FindSeatRequests(r.Context(), p.Actor, account.SeatRequestQuery{Status: v.Status, Cursor: v.Cursor})
	if err != nil {
		prob := c.problemOf(r.Context(), err)
		if prob.Status != http.StatusUnprocessableEntity {
			c.fail(w, r, p, err)
			return
		}
		v.Problem, status, v.Status, v.Cursor = prob, prob.Status, string(account.SeatRequestPending), ""
		if v.Page, err = c.svc.FindSeatRequests(r.Context(), p.Actor, account.SeatRequestQuery{Status: v.Status}); err != nil {
			c.fail(w, r, p, err)
			return
		}
	}
	c.render(w, r, status, seatRequestsPage(p, v))
}

// decideSeatRequest approves (with a number of seats) or denies a request.
func (c *Console) decideSeatRequest(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	ctx := r.Context()
	id := r.PathValue("id")
	var err error
	var done string
	switch r.PathValue("action") {
	case "approve":
		seats, convErr := strconv.Atoi(formValue(r, "seats"))
		if convErr != nil {
			err = account.Invalid("seats", "must be a whole number")
			break
		}
		if seats < 1 {
			err = account.Invalid("seats", "must be at least 1")
			break
		}
		var sr account.SeatRequest
		sr, err = c.svc.ApproveSeatRequest(ctx, p.Actor, id, seats)
		done = "Approved: " + plural(sr.ApprovedSeats, "seat", "seats") + " added to " + sr.Organization.Name + "'s " + p.appName(sr.ApplicationKey) + " quota."
	case "deny":
		var sr account.SeatRequest
		sr, err = c.svc.DenySeatRequest(ctx, p.Actor, id)
		done = "Denied the request of " + sr.Organization.Name + "."
	default:
		err = account.Errorf(account.ENOTFOUND, "no such action")
	}
	if err != nil {
		prob := c.problemOf(ctx, err)
		if prob.Status == http.StatusNotFound {
			c.fail(w, r, p, err)
			return
		}
		v := &seatRequestsView{Status: string(account.SeatRequestPending), Problem: prob, Row: id, Seats: formValue(r, "seats")}
		c.renderSeatRequests(w, r, p, v, prob.Status)
		return
	}
	c.redirect(w, r, "/operator/seat-requests", done)
}

// outboxView is the outbox: counts by state and the messages, newest first.
type outboxView struct {
	State, Cursor string
	Counts        account.OutboxCounts
	Page          account.Page[account.OutboxMessage]
	Problem       *problem
}

func (v *outboxView) query(state, cursor string) string {
	q := url.Values{}
	if state != "" {
		q.Set("state", state)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// outbox lists the outbox's messages with a state filter.
func (c *Console) outbox(w http.ResponseWriter, r *http.Request, p *page) {
	q := r.URL.Query()
	c.renderOutbox(w, r, p, &outboxView{State: q.Get("state"), Cursor: q.Get("cursor")}, http.StatusOK)
}

func (c *Console) renderOutbox(w http.ResponseWriter, r *http.Request, p *page, v *outboxView, status int) {
	var err error
	v.Page, v.Counts, err = c.svc.FindOutbox(r.Context(), p.Actor, account.OutboxQuery{State: v.State, Cursor: v.Cursor})
	if err != nil {
		prob := c.problemOf(r.Context(), err)
		if prob.Status != http.StatusUnprocessableEntity {
			c.fail(w, r, p, err)
			return
		}
		v.Problem, status, v.State, v.Cursor = prob, prob.Status, "", ""
		if v.Page, v.Counts, err = c.svc.FindOutbox(r.Context(), p.Actor, account.OutboxQuery{}); err != nil {
			c.fail(w, r, p, err)
			return
		}
	}
	c.render(w, r, status, outboxPage(p, v))
}

// retryEmail sends a failed message again.
func (c *Console) retryEmail(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	if err := c.svc.RetryEmail(r.Context(), p.Actor, r.PathValue("id")); err != nil {
		prob := c.problemOf(r.Context(), err)
		if prob.Status == http.StatusNotFound {
			prob.Message = "That message has not failed (or no longer exists); only failed messages are retried."
		}
		c.renderOutbox(w, r, p, &outboxView{Problem: prob}, prob.Status)
		return
	}
	c.redirect(w, r, "/operator/outbox?state=pending", "The message will be sent again shortly.")
}

// seatsValue is the approval form's number: what was sent when it failed, else
// the quantity asked.
func seatsValue(v *seatRequestsView, sr account.SeatRequest) string {
	if v.Row == sr.ID && v.Seats != "" {
		return v.Seats
	}
	return strconv.Itoa(sr.Quantity)
}

// createProb is a creation form's problem, nil when the problem is another form's.
func createProb(creating bool, prob *problem) *problem {
	if creating {
		return prob
	}
	return nil
}
