package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// The operator creates a subscription from the console, sees it ending soon,
// cannot lower its quota below the seats assigned, and renews it.
func TestSubscriptionsCreateQuotaRenew(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newOpEnv(t, db)
		if _, err := e.svc.CreateOrganization(bg, e.op, account.CreateOrganizationInput{Name: "Globex", Kind: account.KindOrganization}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreateApplication(bg, e.op, account.ApplicationInput{Key: "studio", Name: "Studio"}); err != nil {
			t.Fatal(err)
		}
		op := e.login(opEmail, opPass)
		empty := op.get("/o/globex/subscriptions")
		wantStatus(t, empty, http.StatusOK)
		wantIn(t, empty, `aria-current="page">Subscriptions`, "No subscriptions yet.", "New subscription", `<option value="studio"`)

		// Missing dates and seats are shown on the form.
		bad := op.post("/o/globex/subscriptions", url.Values{"application": {"studio"}, "seats": {""}, "starts_at": {"soon"}, "ends_at": {""}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		wantIn(t, bad, `id="e-new-starts_at"`)

		now := time.Now().UTC()
		starts, ends := now.AddDate(0, 0, -30), now.AddDate(0, 0, 20)
		res := op.wantRedirect(op.post("/o/globex/subscriptions", url.Values{"application": {"studio"}, "seats": {"2"},
			"starts_at": {date(starts)}, "ends_at": {date(ends)}}), "/o/globex/subscriptions")
		wantIn(t, res, "Subscription to studio created with 2 seats.", `class="badge ending_soon"`, "ending soon", "0</span> / 2")
		_, subs, err := e.svc.FindSubscriptions(bg, e.op, "globex")
		if err != nil || len(subs) != 1 {
			t.Fatalf("subscriptions: %v, %v", subs, err)
		}
		sub := subs[0]
		for _, email := range []string{"ann@globex.test", "bob@globex.test"} {
			if _, _, err := e.svc.AssignSeat(bg, e.op, "globex", sub.ID, e.addPerson("globex", email, "member")); err != nil {
				t.Fatal(err)
			}
		}

		// Below the assigned count: 409, inline on that subscription's form.
		low := op.post("/o/globex/subscriptions/"+sub.ID+"/quota", url.Values{"seats": {"1"}, "ends_at": {date(ends)}})
		wantStatus(t, low, http.StatusConflict)
		form := between(low.Body, `id="manage-sub-`+sub.ID+`"`, `</section>`)
		if !strings.Contains(form, "the quota cannot go below the seats assigned") || !strings.Contains(form, "is below the 2 seats assigned") ||
			!strings.Contains(form, `value="1"`) {
			t.Errorf("the conflict is not shown on the quota form:\n%s", form)
		}
		op.wantRedirect(op.post("/o/globex/subscriptions/"+sub.ID+"/quota", url.Values{"seats": {"3"}, "ends_at": {date(ends)}}),
			"/o/globex/subscriptions")
		if _, got, _ := e.svc.FindSubscription(bg, e.op, "globex", sub.ID); got.Seats != 3 || !got.EndsAt.Equal(sub.EndsAt) {
			t.Fatalf("after the quota change: %d seats, ends %v (was %v)", got.Seats, got.EndsAt, sub.EndsAt)
		}

		// Renewal: a second entry with the seats copied.
		renewed := op.wantRedirect(op.post("/o/globex/subscriptions/"+sub.ID+"/renew", url.Values{"seats": {"4"},
			"starts_at": {date(ends)}, "ends_at": {date(ends.AddDate(1, 0, 0))}}), "/o/globex/subscriptions")
		wantIn(t, renewed, "Renewed", "2 seats copied", `class="badge state-upcoming"`, "renewal", "2</span> / 4")
		if n := strings.Count(between(renewed.Body, `id="subscriptions"`, `</table>`), `id="sub-`); n != 2 {
			t.Errorf("%d subscription rows after the renewal, want 2", n)
		}
		_, subs, _ = e.svc.FindSubscriptions(bg, e.op, "globex")
		if len(subs) != 2 {
			t.Fatalf("%d subscriptions after the renewal", len(subs))
		}
		// A renewal below the seats to copy is refused inline too.
		wantStatus(t, op.post("/o/globex/subscriptions/"+sub.ID+"/renew", url.Values{"seats": {"1"},
			"starts_at": {date(ends)}, "ends_at": {date(ends.AddDate(1, 0, 0))}}), http.StatusConflict)

		// An organization's own admin reads the subscriptions but does not set quotas.
		e.addPerson("globex", "admin@globex.test", "admin")
		admin := e.login("admin@globex.test", opPass)
		page := admin.get("/o/globex/subscriptions")
		wantStatus(t, page, http.StatusOK)
		wantIn(t, page, "Quotas are set by the operator", `id="org-seat-requests"`)
		wantNotIn(t, page, "New subscription", "/quota")
		wantStatus(t, admin.post("/o/globex/subscriptions/"+sub.ID+"/quota", url.Values{"seats": {"9"}}), http.StatusForbidden)
	})
}

// A partner's admin sees the organizations under its partner, creates one, and
// finds nothing of another partner.
func TestPartnerOrganizations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newOpEnv(t, db)
		for _, o := range []account.CreateOrganizationInput{
			{Name: "Alpha", Slug: "alpha", Kind: account.KindPartner},
			{Name: "Beta", Slug: "beta", Kind: account.KindPartner},
			{Name: "Alpha One", Slug: "alpha-one", Kind: account.KindOrganization, Parent: "alpha"},
			{Name: "Beta One", Slug: "beta-one", Kind: account.KindOrganization, Parent: "beta"},
		} {
			if _, err := e.svc.CreateOrganization(bg, e.op, o); err != nil {
				t.Fatal(err)
			}
		}
		e.addPerson("alpha", "boss@alpha.test", "owner")
		boss := e.login("boss@alpha.test", opPass)

		list := boss.get("/o/alpha/organizations")
		wantStatus(t, list, http.StatusOK)
		wantIn(t, list, `aria-current="page">Organizations`, `id="org-alpha-one"`, "New organization under Alpha")
		wantNotIn(t, list, "Beta One", `id="org-beta-one"`)
		for _, path := range []string{"/o/beta/organizations", "/o/beta-one/users", "/o/beta-one/subscriptions", "/o/beta-one/settings"} {
			wantStatus(t, boss.get(path), http.StatusNotFound)
		}
		wantStatus(t, boss.post("/o/beta/organizations", url.Values{"name": {"Intruder"}}), http.StatusNotFound)
		// An organization has no organizations page.
		wantStatus(t, boss.get("/o/alpha-one/organizations"), http.StatusNotFound)

		res := boss.wantRedirect(boss.post("/o/alpha/organizations", url.Values{"name": {"Alpha Two"}}), "/o/alpha/organizations")
		wantIn(t, res, "Organization Alpha Two created", `id="org-alpha-two"`)
		wantIn(t, boss.get("/o/alpha/organizations?q=two"), `id="org-alpha-two"`)
		wantNotIn(t, boss.get("/o/alpha/organizations?q=two"), `id="org-alpha-one"`)
		taken := boss.post("/o/alpha/organizations", url.Values{"name": {"Again"}, "slug": {"alpha-one"}})
		wantStatus(t, taken, http.StatusConflict)
		wantIn(t, taken, `value="Again"`)

		// The partner's managers set the quotas of its organizations.
		wantIn(t, boss.get("/o/alpha-one/subscriptions"), "New subscription")

		// An admin (not owner) of the partner sees the list but may not create.
		e.addPerson("alpha", "helper@alpha.test", "admin")
		helper := e.login("helper@alpha.test", opPass)
		wantNotIn(t, helper.get("/o/alpha/organizations"), "New organization under")
		wantStatus(t, helper.post("/o/alpha/organizations", url.Values{"name": {"Alpha Three"}}), http.StatusForbidden)
	})
}

// Settings: the owner changes name, slug, invitation lifetime and ending-soon
// window; bad values are shown inline; the operator deletes after confirming.
func TestOrganizationSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newOpEnv(t, db)
		if _, err := e.svc.CreateOrganization(bg, e.op, account.CreateOrganizationInput{Name: "Globex", Kind: account.KindOrganization}); err != nil {
			t.Fatal(err)
		}
		e.addPerson("globex", "owner@globex.test", "owner")
		e.addPerson("globex", "admin@globex.test", "admin")
		wantStatus(t, e.login("admin@globex.test", opPass).get("/o/globex/settings"), http.StatusForbidden)

		owner := e.login("owner@globex.test", opPass)
		form := owner.get("/o/globex/settings")
		wantStatus(t, form, http.StatusOK)
		wantIn(t, form, `aria-current="page">Settings`, `<option value="168" selected>`, `<option value="24">`, `value="30"`)
		// An organization of its own is the operator's to delete.
		wantNotIn(t, form, "Delete organization")

		bad := owner.post("/o/globex/settings", url.Values{"name": {"Globex"}, "slug": {"globex"},
			"invitation_ttl_hours": {"24"}, "ending_soon_days": {"0"}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		wantIn(t, bad, `id="e-ending_soon_days"`, "must be between 1 and 365 days")

		res := owner.wantRedirect(owner.post("/o/globex/settings", url.Values{"name": {"Globex Inc"}, "slug": {"globex-inc"},
			"invitation_ttl_hours": {"24"}, "ending_soon_days": {"10"}}), "/o/globex-inc/settings")
		wantIn(t, res, "Settings saved.", `value="Globex Inc"`, `<option value="24" selected>`, `value="10"`)
		o, err := e.svc.FindOrganization(bg, e.op, "globex-inc")
		if err != nil || o.InvitationTTLHours != 24 || o.EndingSoonDays != 10 {
			t.Fatalf("settings: %+v, %v", o, err)
		}
		wantStatus(t, owner.post("/o/globex-inc/delete", nil), http.StatusForbidden)

		op := e.login(opEmail, opPass)
		confirm := op.get("/o/globex-inc/settings?confirm=delete")
		wantIn(t, confirm, `role="alertdialog"`, "Yes, delete Globex Inc", `action="/o/globex-inc/delete"`)
		res = op.wantRedirect(op.post("/o/globex-inc/delete", nil), "/operator")
		wantIn(t, res, "Organization Globex Inc deleted.")
		wantStatus(t, op.get("/o/globex-inc/settings"), http.StatusNotFound)
	})
}
