package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

var bg = context.Background()

// The operator creates a partner, an organization under it, an application and an
// API key (shown once), then revokes the key after confirming.
func TestOperatorCreatesPartnerOrgApplicationAndKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newOpEnv(t, db)
		op := e.login(opEmail, opPass)

		home := op.get("/operator")
		wantStatus(t, home, http.StatusOK)
		wantIn(t, home, `aria-current="page">Partners &amp; organizations`, "New partner or organization")

		res := op.wantRedirect(op.post("/operator/organizations", url.Values{"name": {"Acme Partners"}, "slug": {"acme-partners"},
			"kind": {"partner"}}), "/operator?q=acme-partners")
		wantIn(t, res, "Partner Acme Partners created.", `href="/o/acme-partners/organizations"`)
		partner, err := e.svc.FindOrganization(bg, e.op, "acme-partners")
		if err != nil {
			t.Fatal(err)
		}
		op.wantRedirect(op.post("/operator/organizations", url.Values{"name": {"Globex"}, "slug": {"globex"},
			"kind": {"organization"}, "parent": {partner.ID}}), "/operator?q=globex")
		list := op.get("/operator?kind=organization")
		wantIn(t, list, `id="org-globex"`, `href="/o/globex/users"`, "Acme Partners")
		wantNotIn(t, list, `id="org-acme-partners"`)
		globex, err := e.svc.FindOrganization(bg, e.op, "globex")
		if err != nil || globex.ParentID != partner.ID {
			t.Fatalf("globex: %+v, %v", globex, err)
		}

		// A taken slug is shown on the form, with what was typed.
		dup := op.post("/operator/organizations", url.Values{"name": {"Globex again"}, "slug": {"globex"}, "kind": {"organization"}})
		wantStatus(t, dup, http.StatusConflict)
		wantIn(t, dup, `role="alert"`, `value="Globex again"`)

		// Applications and keys.
		res = op.wantRedirect(op.post("/operator/applications", url.Values{"key": {"studio"}, "name": {"Studio"}}), "/operator/applications")
		wantIn(t, res, "Application Studio created.", `id="application-studio"`)
		bad := op.post("/operator/applications", url.Values{"key": {"Not A Key!"}, "name": {"Bad"}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		wantIn(t, bad, "Please correct the fields marked below.", `id="e-key"`)
		app, err := e.svc.FindApplication(bg, e.op, "studio")
		if err != nil {
			t.Fatal(err)
		}
		res = op.wantRedirect(op.post("/operator/applications/"+app.ID+"/name", url.Values{"name": {"Studio Pro"}}), "/operator/applications")
		wantIn(t, res, "Application renamed to Studio Pro.")

		created := op.post("/operator/applications/"+app.ID+"/keys", url.Values{"name": {"production"}})
		wantStatus(t, created, http.StatusCreated)
		key := between(created.Body, `<pre class="secret" id="api-key">`, `</pre>`)
		if !strings.HasPrefix(key, "rk_") {
			t.Fatalf("no key shown:\n%s", created.Body)
		}
		if _, err := e.svc.AuthenticateApplication(bg, key); err != nil {
			t.Fatalf("the key shown does not work: %v", err)
		}
		again := op.get("/operator/applications")
		wantIn(t, again, "production", key[:9])
		wantNotIn(t, again, key, `id="api-key"`)
		if !strings.Contains(created.Body, `hx-history="false"`) {
			t.Error("the page with the key may be kept in htmx's history cache")
		}

		keys, err := e.svc.FindApplicationKeys(bg, e.op, app.ID)
		if err != nil || len(keys) != 1 {
			t.Fatalf("keys: %v, %v", keys, err)
		}
		confirm := op.get("/operator/applications?app=" + app.ID + "&confirm=" + keys[0].ID)
		wantIn(t, confirm, `role="alertdialog"`, "Yes, revoke", "/operator/applications/"+app.ID+"/keys/"+keys[0].ID+"/revoke")
		res = op.wantRedirect(op.post("/operator/applications/"+app.ID+"/keys/"+keys[0].ID+"/revoke", nil), "/operator/applications")
		wantIn(t, res, "Key revoked", "revoked ")
		if _, err := e.svc.AuthenticateApplication(bg, key); err == nil {
			t.Fatal("a revoked key still works")
		}
	})
}

// Nobody but an operator finds the operator's pages.
func TestOperatorPagesAreNotFoundForOthers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newOpEnv(t, db)
		if _, err := e.svc.CreateOrganization(bg, e.op, account.CreateOrganizationInput{Name: "Globex", Kind: account.KindOrganization}); err != nil {
			t.Fatal(err)
		}
		e.addPerson("globex", "owner@globex.test", "owner")
		owner := e.login("owner@globex.test", opPass)
		for _, path := range []string{"/operator", "/operator/applications", "/operator/seat-requests", "/operator/outbox"} {
			res := owner.get(path)
			wantStatus(t, res, http.StatusNotFound)
			wantNotIn(t, res, `aria-label="Operator"`)
		}
		for _, path := range []string{"/operator/organizations", "/operator/applications", "/operator/outbox/x/retry",
			"/operator/seat-requests/x/approve"} {
			wantStatus(t, owner.post(path, url.Values{"name": {"x"}, "kind": {"partner"}}), http.StatusNotFound)
		}
		// And the operator link is not offered to them.
		wantNotIn(t, owner.get("/o/globex/users"), `href="/operator"`)
	})
}

// Seat requests: approval raises the quota by the seats given (the quantity asked
// by default), denial is confirmed first and changes nothing.
func TestOperatorSeatRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newOpEnv(t, db)
		sub := e.orgWithSubscription("globex", 2, time.Now().AddDate(0, -1, 0), time.Now().AddDate(1, 0, 0))
		e.addPerson("globex", "admin@globex.test", "admin")
		admin, err := e.svc.ActorForEmail(bg, "admin@globex.test")
		if err != nil {
			t.Fatal(err)
		}
		first, err := e.svc.RequestSeats(bg, admin, "globex", account.SeatRequestInput{Application: "studio", Quantity: 3, Note: "new hires"})
		if err != nil {
			t.Fatal(err)
		}
		second, err := e.svc.RequestSeats(bg, admin, "globex", account.SeatRequestInput{Application: "studio", Quantity: 9})
		if err != nil {
			t.Fatal(err)
		}

		op := e.login(opEmail, opPass)
		list := op.get("/operator/seat-requests")
		wantStatus(t, list, http.StatusOK)
		wantIn(t, list, `id="request-`+first.ID+`"`, "new hires", `name="seats" min="1" max="10000000" required value="3"`)

		// A bad number is shown on the request's row.
		bad := op.post("/operator/seat-requests/"+first.ID+"/approve", url.Values{"seats": {"many"}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		wantIn(t, bad, `class="rowerror"`, `value="many"`)

		res := op.wantRedirect(op.post("/operator/seat-requests/"+first.ID+"/approve", url.Values{"seats": {"4"}}), "/operator/seat-requests")
		wantIn(t, res, "Approved: 4 seats added to Globex")
		_, got, err := e.svc.FindSubscription(bg, e.op, "globex", sub.ID)
		if err != nil || got.Seats != 6 {
			t.Fatalf("quota after approval: %d, %v; want 6", got.Seats, err)
		}
		wantIn(t, op.get("/operator/seat-requests?status=approved"), `id="request-`+first.ID+`"`, "4 seats added")

		confirm := op.get("/operator/seat-requests?status=pending&deny=" + second.ID)
		wantIn(t, confirm, `role="alertdialog"`, "Yes, deny", "/operator/seat-requests/"+second.ID+"/deny")
		op.wantRedirect(op.post("/operator/seat-requests/"+second.ID+"/deny", nil), "/operator/seat-requests")
		wantIn(t, op.get("/operator/seat-requests?status=denied"), `id="request-`+second.ID+`"`)
		if _, got, _ = e.svc.FindSubscription(bg, e.op, "globex", sub.ID); got.Seats != 6 {
			t.Fatalf("a denial changed the quota to %d", got.Seats)
		}
		// Deciding twice is a conflict, shown on the page.
		wantStatus(t, op.post("/operator/seat-requests/"+second.ID+"/deny", nil), http.StatusConflict)

		// The organization sees its requests under its subscriptions.
		wantIn(t, e.login("admin@globex.test", opPass).get("/o/globex/subscriptions"), `id="org-seat-requests"`, "new hires", "4 seats added")
	})
}

// The outbox: counts, the newest first, the state filter, and retrying a failed
// message.
func TestOperatorOutbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newOpEnv(t, db)
		sub := e.orgWithSubscription("globex", 5, time.Now().AddDate(0, -1, 0), time.Now().AddDate(1, 0, 0))
		for _, email := range []string{"ann@globex.test", "bob@globex.test"} {
			id := e.addPerson("globex", email, "member")
			if _, _, err := e.svc.AssignSeat(bg, e.op, "globex", sub.ID, id); err != nil { // emails the holder
				t.Fatal(err)
			}
		}
		msgs, err := db.FindEmails(bg, "", 0)
		if err != nil || len(msgs) < 2 {
			t.Fatalf("outbox: %d messages, %v", len(msgs), err)
		}
		claimed, err := db.ClaimEmails(bg, "test", time.Now().Add(time.Minute), 1, time.Minute)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v, %v", claimed, err)
		}
		failed := claimed[0]
		if err := db.MarkEmailFailed(bg, failed.ID, "550 mailbox unavailable", time.Now()); err != nil {
			t.Fatal(err)
		}

		op := e.login(opEmail, opPass)
		all := op.get("/operator/outbox")
		wantStatus(t, all, http.StatusOK)
		wantIn(t, all, `id="count-failed">1<`, `id="count-pending">`+itoa(len(msgs)-1)+`<`, "550 mailbox unavailable",
			`id="email-`+failed.ID+`"`, "/operator/outbox/"+failed.ID+"/retry")
		// Newest first.
		if strings.Index(all.Body, `id="email-`+msgs[0].ID+`"`) > strings.Index(all.Body, `id="email-`+msgs[len(msgs)-1].ID+`"`) {
			t.Error("the outbox is not listed newest first")
		}
		onlyFailed := op.get("/operator/outbox?state=failed")
		if n := strings.Count(onlyFailed.Body, `id="email-`); n != 1 {
			t.Errorf("failed filter lists %d messages", n)
		}
		wantStatus(t, op.get("/operator/outbox?state=lost"), http.StatusUnprocessableEntity)

		res := op.wantRedirect(op.post("/operator/outbox/"+failed.ID+"/retry", nil), "/operator/outbox?state=pending")
		wantIn(t, res, "The message will be sent again shortly.", `id="count-failed">0<`, `id="email-`+failed.ID+`"`)
		for _, m := range mustFindEmails(t, db) {
			if m.ID == failed.ID && (m.State != account.OutboxPending || m.Attempts != 0) {
				t.Errorf("retried message: %s, %d attempts", m.State, m.Attempts)
			}
		}
		// The use cases themselves are the operator's only.
		ann, err := e.svc.ActorForEmail(bg, "ann@globex.test")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.FindOutbox(bg, ann, account.OutboxQuery{}); account.ErrorCode(err) != account.EFORBIDDEN {
			t.Errorf("FindOutbox by a member: %v", err)
		}
		if err := e.svc.RetryEmail(bg, ann, failed.ID); account.ErrorCode(err) != account.EFORBIDDEN {
			t.Errorf("RetryEmail by a member: %v", err)
		}
		// The retry is audited.
		events, err := e.svc.FindPlatformAuditEvents(bg, e.op, account.AuditQuery{})
		if err != nil || len(events.Items) == 0 || events.Items[0].Action != "email.retried" || events.Items[0].TargetID != failed.ID {
			t.Errorf("platform audit: %+v, %v", events.Items, err)
		}
		// Only a failed message can be retried.
		again := op.post("/operator/outbox/"+failed.ID+"/retry", nil)
		wantStatus(t, again, http.StatusNotFound)
		wantIn(t, again, "only failed messages are retried")
	})
}

func mustFindEmails(t *testing.T, db *sqlstore.DB) []account.OutboxMessage {
	t.Helper()
	ms, err := db.FindEmails(bg, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// orgWithSubscription creates the organization slug with a Studio subscription.
func (e *opEnv) orgWithSubscription(slug string, seats int, starts, ends time.Time) account.Subscription {
	e.t.Helper()
	if _, err := e.svc.CreateOrganization(bg, e.op, account.CreateOrganizationInput{Name: strings.ToUpper(slug[:1]) + slug[1:],
		Slug: slug, Kind: account.KindOrganization}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.svc.FindApplication(bg, e.op, "studio"); err != nil {
		if _, err := e.svc.CreateApplication(bg, e.op, account.ApplicationInput{Key: "studio", Name: "Studio"}); err != nil {
			e.t.Fatal(err)
		}
	}
	_, sub, err := e.svc.CreateSubscription(bg, e.op, slug, account.SubscriptionInput{Application: "studio", Seats: &seats,
		StartsAt: starts, EndsAt: ends})
	if err != nil {
		e.t.Fatal(err)
	}
	return sub
}
