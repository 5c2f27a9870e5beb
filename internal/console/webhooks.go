package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"roster.dev/roster/internal/account"
)

// An application's webhooks, for the operator: the endpoints with the form adding
// one, an endpoint's page (edit, enable or disable, rotate its secret, send a test,
// delete), and its deliveries with Retry. Every change goes through the same use
// cases as the API's /api/v1/applications/{app}/webhooks.

// webhooksBase is the address of an application's webhooks.
func webhooksBase(app account.Application) string {
	return "/operator/applications/" + seg(app.ID) + "/webhooks"
}

// webhookBase is the address of one endpoint.
func webhookBase(app account.Application, w account.Webhook) string {
	return webhooksBase(app) + "/" + seg(w.ID)
}

// webhooksView is an application's endpoints, with the creation form.
type webhooksView struct {
	App      account.Application
	Webhooks []account.Webhook
	// Created is the endpoint just created, with its secret, shown this once.
	Created *account.Webhook
	Confirm *account.Webhook // the endpoint whose deletion waits for confirmation
	Problem *problem
	In      url.Values // the creation form as sent, when it failed
}

func (v *webhooksView) val(name string) string {
	if v.In == nil {
		return ""
	}
	return v.In.Get(name)
}

// chosen are the event types the creation form had checked.
func (v *webhooksView) chosen() []string {
	if v.In == nil {
		return nil
	}
	return v.In["events"]
}

// webhookView is one endpoint's page.
type webhookView struct {
	App     account.Application
	Webhook account.Webhook
	Secret  string // a secret just rotated, shown this once
	Confirm bool   // the deletion waits for confirmation
	Problem *problem
	In      url.Values // the edit form as sent, when it failed
}

func (v *webhookView) val(name, def string) string {
	if v.In == nil {
		return def
	}
	return v.In.Get(name)
}

func (v *webhookView) chosen() []string {
	if v.In != nil {
		return v.In["events"]
	}
	out := make([]string, len(v.Webhook.Events))
	for i, e := range v.Webhook.Events {
		out[i] = string(e)
	}
	return out
}

// deliveriesView is one endpoint's deliveries, newest first.
type deliveriesView struct {
	App     account.Application
	Webhook account.Webhook
	Cursor  string
	Page    account.Page[account.Delivery]
	Problem *problem
}

func (v *deliveriesView) query(cursor string) string {
	if cursor == "" {
		return ""
	}
	return "?cursor=" + qv(cursor)
}

// webhookApp is the application of the path's {app}.
func (c *Console) webhookApp(w http.ResponseWriter, r *http.Request, p *page) (account.Application, bool) {
	app, err := c.svc.FindApplication(r.Context(), p.Actor, r.PathValue("app"))
	if err != nil {
		c.fail(w, r, p, err)
		return app, false
	}
	return app, true
}

// webhooks lists an application's endpoints; ?confirm=<id> asks to confirm a
// deletion.
func (c *Console) webhooks(w http.ResponseWriter, r *http.Request, p *page) {
	app, ok := c.webhookApp(w, r, p)
	if !ok {
		return
	}
	v := &webhooksView{App: app}
	c.renderWebhooks(w, r, p, v, http.StatusOK, r.URL.Query().Get("confirm"))
}

func (c *Console) renderWebhooks(w http.ResponseWriter, r *http.Request, p *page, v *webhooksView, status int, confirm string) {
	ws, err := c.svc.FindWebhooks(r.Context(), p.Actor, v.App.ID)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	v.Webhooks = ws
	if confirm != "" {
		i := slices.IndexFunc(ws, func(x account.Webhook) bool { return x.ID == confirm })
		if i < 0 {
			c.fail(w, r, p, account.Errorf(account.ENOTFOUND, "webhook not found"))
			return
		}
		v.Confirm = &ws[i]
	}
	p.Title = "Webhooks of " + v.App.Name
	c.render(w, r, status, webhooksPage(p, v))
}

// webhookInput is the endpoint form: its URL, description and the event types
// checked (none: every type).
func webhookInput(r *http.Request) account.WebhookInput {
	u, desc := formValue(r, "url"), formValue(r, "description")
	evs := r.PostForm["events"]
	if evs == nil {
		evs = []string{}
	}
	return account.WebhookInput{URL: &u, Description: &desc, Events: &evs}
}

// createWebhook adds an endpoint and shows its secret on this answer only: it is
// not put in a flash cookie, and the address becomes the list's.
func (c *Console) createWebhook(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	app, ok := c.webhookApp(w, r, p)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, p, account.Invalid("url", "the form could not be read"))
		return
	}
	hook, err := c.svc.CreateWebhook(r.Context(), p.Actor, app.ID, webhookInput(r))
	if err != nil {
		prob := c.problemOf(r.Context(), err)
		if prob.Status == http.StatusNotFound || prob.Status == http.StatusForbidden {
			c.fail(w, r, p, err)
			return
		}
		c.renderWebhooks(w, r, p, &webhooksView{App: app, Problem: prob, In: r.PostForm}, prob.Status, "")
		return
	}
	p.Flash = "Webhook created. Copy its signing secret now: it is shown only this once."
	w.Header().Set("HX-Replace-Url", webhooksBase(app))
	c.renderWebhooks(w, r, p, &webhooksView{App: app, Created: &hook}, http.StatusCreated, "")
}

// webhook is an endpoint's page; ?confirm=delete asks to confirm its deletion.
func (c *Console) webhook(w http.ResponseWriter, r *http.Request, p *page) {
	app, ok := c.webhookApp(w, r, p)
	if !ok {
		return
	}
	c.renderWebhook(w, r, p, &webhookView{App: app, Confirm: r.URL.Query().Get("confirm") == "delete"}, http.StatusOK)
}

func (c *Console) renderWebhook(w http.ResponseWriter, r *http.Request, p *page, v *webhookView, status int) {
	hook, err := c.svc.FindWebhook(r.Context(), p.Actor, v.App.ID, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	v.Webhook = hook
	p.Title = "Webhook of " + v.App.Name
	c.render(w, r, status, webhookPage(p, v))
}

// updateWebhook saves the endpoint form.
func (c *Console) updateWebhook(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	app, ok := c.webhookApp(w, r, p)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, p, account.Invalid("url", "the form could not be read"))
		return
	}
	hook, err := c.svc.UpdateWebhook(r.Context(), p.Actor, app.ID, r.PathValue("id"), webhookInput(r))
	if err != nil {
		prob := c.problemOf(r.Context(), err)
		if prob.Status == http.StatusNotFound || prob.Status == http.StatusForbidden {
			c.fail(w, r, p, err)
			return
		}
		c.renderWebhook(w, r, p, &webhookView{App: app, Problem: prob, In: r.PostForm}, prob.Status)
		return
	}
	c.redirect(w, r, webhookBase(app, hook), "Webhook saved.")
}

// webhookAction runs one of an endpoint's buttons: enable, disable, delete, test,
// retry of a delivery. The secret's rotation is rotateWebhookSecret.
func (c *Console) webhookAction(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	app, ok := c.webhookApp(w, r, p)
	if !ok {
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	hook := account.Webhook{ID: id}
	var err error
	to, done := webhookBase(app, hook), ""
	switch r.PathValue("action") {
	case "enable", "disable":
		on := r.PathValue("action") == "enable"
		hook, err = c.svc.UpdateWebhook(ctx, p.Actor, app.ID, id, account.WebhookInput{Enabled: &on})
		done = "Webhook disabled: no event is sent to it until it is enabled again."
		if on {
			done = "Webhook enabled: events are sent to it again."
		}
		if formValue(r, "back") == "list" {
			to = webhooksBase(app)
		}
	case "delete":
		err = c.svc.DeleteWebhook(ctx, p.Actor, app.ID, id)
		to, done = webhooksBase(app), "Webhook deleted, with its deliveries."
	case "test":
		err = c.svc.TestWebhook(ctx, p.Actor, app.ID, id)
		to, done = webhookBase(app, hook)+"/deliveries", "A webhook.test event is on its way to the endpoint; its delivery is listed below."
	default:
		err = account.Errorf(account.ENOTFOUND, "there is no page at %s", r.URL.Path)
	}
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.redirect(w, r, to, done)
}

// rotateWebhookSecret gives the endpoint a new secret and shows it on this answer
// only.
func (c *Console) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	app, ok := c.webhookApp(w, r, p)
	if !ok {
		return
	}
	secret, err := c.svc.RotateWebhookSecret(r.Context(), p.Actor, app.ID, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	p.Flash = "Secret rotated. Copy the new one now: it is shown only this once. The previous secret signs beside it for 24 hours."
	w.Header().Set("HX-Replace-Url", webhookBase(app, account.Webhook{ID: r.PathValue("id")}))
	c.renderWebhook(w, r, p, &webhookView{App: app, Secret: secret}, http.StatusOK)
}

// deliveries lists an endpoint's deliveries, newest first, in pages.
func (c *Console) deliveries(w http.ResponseWriter, r *http.Request, p *page) {
	app, ok := c.webhookApp(w, r, p)
	if !ok {
		return
	}
	c.renderDeliveries(w, r, p, &deliveriesView{App: app, Cursor: r.URL.Query().Get("cursor")}, http.StatusOK)
}

func (c *Console) renderDeliveries(w http.ResponseWriter, r *http.Request, p *page, v *deliveriesView, status int) {
	ctx, id := r.Context(), r.PathValue("id")
	hook, err := c.svc.FindWebhook(ctx, p.Actor, v.App.ID, id)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	v.Webhook = hook
	v.Page, err = c.svc.FindDeliveries(ctx, p.Actor, v.App.ID, id, account.DeliveryQuery{Cursor: v.Cursor})
	if err != nil {
		prob := c.problemOf(ctx, err)
		if prob.Status != http.StatusUnprocessableEntity {
			c.fail(w, r, p, err)
			return
		}
		v.Problem, status, v.Cursor = prob, prob.Status, ""
		if v.Page, err = c.svc.FindDeliveries(ctx, p.Actor, v.App.ID, id, account.DeliveryQuery{}); err != nil {
			c.fail(w, r, p, err)
			return
		}
	}
	p.Title = "Deliveries of a webhook of " + v.App.Name
	c.render(w, r, status, deliveriesPage(p, v))
}

// retryDelivery makes a delivery due again now.
func (c *Console) retryDelivery(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	app, ok := c.webhookApp(w, r, p)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if err := c.svc.RetryDelivery(r.Context(), p.Actor, app.ID, id, r.PathValue("delivery")); err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.redirect(w, r, webhookBase(app, account.Webhook{ID: id})+"/deliveries", "The delivery will be attempted again shortly.")
}

// eventTypeGroups are the event catalogue by object, for the endpoint form's
// checkboxes.
func eventTypeGroups() [][]account.EventType {
	var out [][]account.EventType
	last := ""
	for _, t := range account.EventTypes {
		obj, _, _ := strings.Cut(string(t), ".")
		if obj != last {
			out = append(out, nil)
			last = obj
		}
		out[len(out)-1] = append(out[len(out)-1], t)
	}
	return out
}

// webhookTypes describes what an endpoint takes.
func webhookTypes(h account.Webhook) string {
	if len(h.Events) == 0 {
		return "Every event type"
	}
	names := make([]string, len(h.Events))
	for i, e := range h.Events {
		names[i] = string(e)
	}
	return strings.Join(names, ", ")
}

// deliveryNext is when a delivery's next attempt is due, for a pending one.
func deliveryNext(d account.Delivery) string {
	if d.State != account.DeliveryPending {
		return "—"
	}
	return dateTime(d.NextAt)
}

// statusCode is an attempt's HTTP status, or a dash when none came back.
func statusCode(d account.Delivery) string {
	if d.StatusCode == 0 {
		return "—"
	}
	return itoa(d.StatusCode)
}

// pluralWord is the word for n things, without the number.
func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// hookToggle is the action of an endpoint's Enable or Disable button.
func hookToggle(h account.Webhook) string {
	if h.Enabled {
		return "disable"
	}
	return "enable"
}

func hookToggleLabel(h account.Webhook) string {
	if h.Enabled {
		return "Disable"
	}
	return "Enable"
}

// deliveryState is a delivery's state as its badge shows it.
func deliveryState(d account.Delivery) string { return string(d.State) }
