package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"roster.dev/roster/internal/account"
)

// dateLayout is the value of an <input type=date>.
const dateLayout = "2006-01-02"

// subsView is an organization's subscriptions with their forms, and its seat
// requests.
type subsView struct {
	Subs         []account.Subscription
	Apps         []account.Application
	Requests     account.Page[account.SeatRequest]
	ShowRequests bool
	Problem      *problem
	Form         string // the form the problem belongs to: "create", "quota:<id>", "renew:<id>"
	In           url.Values
}

func (v *subsView) appName(key string) string {
	for _, a := range v.Apps {
		if a.Key == key {
			return a.Name
		}
	}
	return key
}

// val is a form's value as sent when it failed, else def.
func (v *subsView) val(form, name, def string) string {
	if v.Form == form && v.In != nil {
		return v.In.Get(name)
	}
	return def
}

func (v *subsView) prob(form string) *problem {
	if v.Form == form {
		return v.Problem
	}
	return nil
}

// renewStart and renewEnd propose the next period: from the old end, as long as
// the old one.
func renewStart(s account.Subscription) string { return inputDate(s.EndsAt) }

func renewEnd(s account.Subscription) string {
	return inputDate(s.EndsAt.Add(s.EndsAt.Sub(s.StartsAt)))
}

// partnerNote names who else sets quotas.
func partnerNote(p *page) string {
	if p.Org().ParentID != "" {
		return " or the partner's managers"
	}
	return ""
}

func inputDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(dateLayout)
}

// parseDate reads an <input type=date> as midnight UTC; empty is the zero time (the
// use case says it is required).
func parseDate(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(dateLayout, s, time.UTC)
	if err != nil {
		return time.Time{}, account.Invalid(field, "must be a date (YYYY-MM-DD)")
	}
	return t, nil
}

// parseSeats reads a number of seats; empty is nil (the use case says it is required).
func parseSeats(s string) (*int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, account.Invalid("seats", "must be a whole number")
	}
	return &n, nil
}

// subscriptions renders the organization's subscriptions.
func (c *Console) subscriptions(w http.ResponseWriter, r *http.Request, p *page) {
	c.renderSubs(w, r, p, &subsView{}, http.StatusOK)
}

func (c *Console) renderSubs(w http.ResponseWriter, r *http.Request, p *page, v *subsView, status int) {
	ctx := r.Context()
	if p.Org().Kind != account.KindOrganization {
		c.fail(w, r, p, account.Errorf(account.ENOTFOUND, "a partner has no subscriptions of its own"))
		return
	}
	var err error
	if _, v.Subs, err = c.svc.FindSubscriptions(ctx, p.Actor, p.Org().ID); err != nil {
		c.fail(w, r, p, err)
		return
	}
	v.Apps = p.applications // as the page's frame read them
	if p.Can(account.PermSeatsRequest) {
		v.ShowRequests = true
		if v.Requests, err = c.svc.FindOrganizationSeatRequests(ctx, p.Actor, p.Org().ID, account.SeatRequestQuery{}); err != nil {
			c.fail(w, r, p, err)
			return
		}
	}
	c.render(w, r, status, subscriptionsPage(p, v))
}

// subsFailed shows a form's error on the page, inline next to that form.
func (c *Console) subsFailed(w http.ResponseWriter, r *http.Request, p *page, form string, err error) {
	prob := c.problemOf(r.Context(), err)
	if prob.Status == http.StatusNotFound {
		c.fail(w, r, p, err)
		return
	}
	c.renderSubs(w, r, p, &subsView{Problem: prob, Form: form, In: r.PostForm}, prob.Status)
}

// createSubscription gives the organization a quota of an application over a period.
func (c *Console) createSubscription(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	in := account.SubscriptionInput{Application: formValue(r, "application")}
	seats, errS := parseSeats(formValue(r, "seats"))
	starts, errF := parseDate("starts_at", formValue(r, "starts_at"))
	ends, errE := parseDate("ends_at", formValue(r, "ends_at"))
	if err := formErrs(errS, errF, errE); err != nil {
		c.subsFailed(w, r, p, "create", err)
		return
	}
	in.Seats, in.StartsAt, in.EndsAt = seats, starts, ends
	_, sub, err := c.svc.CreateSubscription(r.Context(), p.Actor, p.Org().ID, in)
	if err != nil {
		c.subsFailed(w, r, p, "create", err)
		return
	}
	c.redirect(w, r, p.base()+"/subscriptions", "Subscription to "+sub.ApplicationKey+" created with "+plural(sub.Seats, "seat", "seats")+".")
}

// subscriptionAction changes a subscription's quota (and end), or renews it.
func (c *Console) subscriptionAction(w http.ResponseWriter, r *http.Request, p *page) {
	limitForm(w, r)
	ctx := r.Context()
	id, action := r.PathValue("sub"), r.PathValue("action")
	form := action + ":" + id
	seats, errS := parseSeats(formValue(r, "seats"))
	switch action {
	case "quota":
		_, cur, err := c.svc.FindSubscription(ctx, p.Actor, p.Org().ID, id)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		in := account.UpdateSubscriptionInput{Seats: seats}
		if seats == nil && errS == nil {
			errS = account.Invalid("seats", "is required")
		}
		var errE error
		if e := formValue(r, "ends_at"); e != "" && e != inputDate(cur.EndsAt) {
			var ends time.Time
			if ends, errE = parseDate("ends_at", e); errE == nil {
				in.EndsAt = &ends
			}
		}
		if err := formErrs(errS, errE); err != nil {
			c.subsFailed(w, r, p, form, err)
			return
		}
		if _, _, err := c.svc.UpdateSubscription(ctx, p.Actor, p.Org().ID, id, in); err != nil {
			c.subsFailed(w, r, p, form, err)
			return
		}
		c.redirect(w, r, p.base()+"/subscriptions", "Subscription changed.")
	case "renew":
		starts, errF := parseDate("starts_at", formValue(r, "starts_at"))
		ends, errE := parseDate("ends_at", formValue(r, "ends_at"))
		if err := formErrs(errS, errF, errE); err != nil {
			c.subsFailed(w, r, p, form, err)
			return
		}
		_, sub, err := c.svc.RenewSubscription(ctx, p.Actor, p.Org().ID, id,
			account.SubscriptionInput{Seats: seats, StartsAt: starts, EndsAt: ends})
		if err != nil {
			c.subsFailed(w, r, p, form, err)
			return
		}
		c.redirect(w, r, p.base()+"/subscriptions", "Renewed: the new entry runs "+date(sub.StartsAt)+" – "+date(sub.EndsAt)+
			" with "+plural(sub.Assigned, "seat", "seats")+" copied.")
	default:
		c.fail(w, r, p, account.Errorf(account.ENOTFOUND, "no such action"))
	}
}

// formErrs collects the fields of the form's syntax errors into one EINVALID, or nil.
func formErrs(errs ...error) error {
	var v account.Validation
	for _, err := range errs {
		if e, ok := account.AsError(err); ok {
			for _, f := range e.Fields {
				v.Add(f.Field, f.Message)
			}
		}
	}
	return v.Err()
}
