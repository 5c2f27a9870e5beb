package console_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestOperatorWebhooks walks an application's webhooks as the operator: the link
// from the application, creation (refused with the field's sentence, then the secret
// shown once), the edit form, disable and enable, rotation (the new secret once, the
// old one still signing), a test event and its delivery with its attempt, Retry,
// pages of deliveries, and deletion after confirming; another application's
// endpoint is not found under this one.
func TestOperatorWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newOpEnv(t, db)
		studio, err := e.svc.CreateApplication(bg, e.op, account.ApplicationInput{Key: "studio", Name: "Studio"})
		if err != nil {
			t.Fatal(err)
		}
		support, err := e.svc.CreateApplication(bg, e.op, account.ApplicationInput{Key: "support", Name: "Support"})
		if err != nil {
			t.Fatal(err)
		}
		base := "/operator/applications/" + studio.ID + "/webhooks"
		op := e.login(opEmail, opPass)
		wantIn(t, op.get("/operator/applications"), `href="`+base+`"`)

		list := op.get(base)
		wantStatus(t, list, http.StatusOK)
		wantIn(t, list, "Webhooks of Studio", "No webhooks yet", `action="`+base+`"`, `value="member.added"`, `value="seat.assigned"`,
			`aria-current="page">Applications`)

		// Refusals name their field in a sentence beside it, keeping what was typed.
		bad := op.post(base, url.Values{"url": {"ftp://hooks.example.test/roster"}, "description": {"Billing"}, "events": {"seat.assigned"}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		wantIn(t, bad, `id="e-url"`, "URL must be an https URL.", `value="ftp://hooks.example.test/roster"`, `value="Billing"`,
			`value="seat.assigned" checked`)
		bad = op.post(base, url.Values{"url": {"https://hooks.example.test/roster"}, "events": {"seat.stolen"}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		wantIn(t, bad, `id="e-events"`, "Event selection names an unknown event type: seat.stolen.")
		if ws, _ := e.svc.FindWebhooks(bg, e.op, studio.ID); len(ws) != 0 {
			t.Fatalf("a refused form created %d webhooks", len(ws))
		}

		created := op.post(base, url.Values{"url": {"https://hooks.example.test/roster"}, "description": {"Billing"},
			"events": {"seat.assigned", "seat.unassigned"}})
		wantStatus(t, created, http.StatusCreated)
		secret := between(created.Body, `<pre class="secret" id="webhook-secret">`, `</pre>`)
		if !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("no secret shown:\n%s", created.Body)
		}
		wantIn(t, created, `hx-history="false"`, `data-copy="webhook-secret"`, "shown only this once")
		ws, err := e.svc.FindWebhooks(bg, e.op, studio.ID)
		if err != nil || len(ws) != 1 {
			t.Fatalf("webhooks: %v, %v", ws, err)
		}
		hook := ws[0]
		if hook.URL != "https://hooks.example.test/roster" || hook.Description != "Billing" || !hook.Enabled ||
			!slices.Equal(hook.Events, []account.EventType{account.EventSeatAssigned, account.EventSeatUnassigned}) {
			t.Fatalf("created %+v", hook)
		}
		if full, err := e.svc.FindWebhook(bg, e.op, studio.ID, hook.ID); err != nil || full.Secret != secret {
			t.Fatalf("the secret shown is not the endpoint's (%v)", err)
		}
		list = op.get(base)
		wantIn(t, list, `id="webhook-`+hook.ID+`"`, "seat.assigned, seat.unassigned", "Billing")
		wantNotIn(t, list, secret, `id="webhook-secret"`)

		// The endpoint's page and its form.
		hookPath := base + "/" + hook.ID
		edit := op.get(hookPath)
		wantStatus(t, edit, http.StatusOK)
		wantIn(t, edit, `value="https://hooks.example.test/roster"`, `value="seat.assigned" checked`, `action="`+hookPath+`/rotate-secret"`,
			`action="`+hookPath+`/test"`, `action="`+hookPath+`/disable"`)
		wantNotIn(t, edit, `value="member.added" checked`, secret)
		bad = op.post(hookPath, url.Values{"url": {"https://10.0.0.7/hook"}, "events": {"member.added"}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		wantIn(t, bad, "URL must not be a private, loopback or link-local address.", `value="https://10.0.0.7/hook"`, `value="member.added" checked`)
		res := op.wantRedirect(op.post(hookPath, url.Values{"url": {"https://hooks.example.test/v2"}, "description": {"Billing v2"}}), hookPath)
		wantIn(t, res, "Webhook saved.", `value="https://hooks.example.test/v2"`, `value="Billing v2"`)
		if got, _ := e.svc.FindWebhook(bg, e.op, studio.ID, hook.ID); got.URL != "https://hooks.example.test/v2" || len(got.Events) != 0 {
			t.Fatalf("after saving with no type checked: %+v (want every type)", got)
		}
		wantIn(t, op.get(base), "Every event type")

		// Disable from the list, enable on its page.
		res = op.wantRedirect(op.post(hookPath+"/disable", url.Values{"back": {"list"}}), base)
		wantIn(t, res, "Webhook disabled", `action="`+hookPath+`/enable"`, "disabled")
		if got, _ := e.svc.FindWebhook(bg, e.op, studio.ID, hook.ID); got.Enabled {
			t.Fatal("still enabled")
		}
		res = op.wantRedirect(op.post(hookPath+"/enable", nil), hookPath)
		wantIn(t, res, "Webhook enabled")
		if got, _ := e.svc.FindWebhook(bg, e.op, studio.ID, hook.ID); !got.Enabled {
			t.Fatal("still disabled")
		}

		// Rotation: the new secret this once; the old one signs beside it.
		rotated := op.post(hookPath+"/rotate-secret", nil)
		wantStatus(t, rotated, http.StatusOK)
		next := between(rotated.Body, `<pre class="secret" id="webhook-secret">`, `</pre>`)
		if !strings.HasPrefix(next, "whsec_") || next == secret {
			t.Fatalf("rotation shows %q", next)
		}
		got, _ := e.svc.FindWebhook(bg, e.op, studio.ID, hook.ID)
		if got.Secret != next || got.PreviousSecret != secret || !slices.Equal(got.Secrets(time.Now()), []string{next, secret}) {
			t.Fatalf("after rotation: secret %q, previous %q", got.Secret, got.PreviousSecret)
		}
		wantNotIn(t, op.get(hookPath), next)

		// A test event, its delivery's attempt, and Retry.
		res = op.wantRedirect(op.post(hookPath+"/test", nil), hookPath+"/deliveries")
		wantIn(t, res, "A webhook.test event is on its way", "webhook.test")
		jobs, err := db.ClaimDeliveries(bg, "console-test", time.Now(), 10, time.Minute, nil)
		if err != nil || len(jobs) != 1 || jobs[0].Webhook.ID != hook.ID {
			t.Fatalf("claimed %v, %v", jobs, err)
		}
		d := jobs[0].Delivery
		nextAt := time.Now().Add(90 * time.Minute).UTC().Truncate(time.Minute)
		if _, err := db.CompleteDelivery(bg, "console-test", d.ID, time.Now(), account.DeliveryOutcome{StatusCode: 503,
			DurationMS: 1234, Error: "the endpoint answered 503 Service Unavailable", NextAt: nextAt}); err != nil {
			t.Fatal(err)
		}
		dels := op.get(hookPath + "/deliveries")
		wantStatus(t, dels, http.StatusOK)
		row := between(dels.Body, `id="delivery-`+d.ID+`"`, `</tr>`)
		for _, want := range []string{"webhook.test", d.EventID, ">1<", ">503<", "1234 ms", "the endpoint answered 503 Service Unavailable",
			nextAt.Format("2 Jan 2006, 15:04 UTC"), hookPath + "/deliveries/" + d.ID + "/retry"} {
			if !strings.Contains(row, want) {
				t.Errorf("the delivery's row lacks %q:\n%s", want, row)
			}
		}
		res = op.wantRedirect(op.post(hookPath+"/deliveries/"+d.ID+"/retry", nil), hookPath+"/deliveries")
		wantIn(t, res, "The delivery will be attempted again shortly.")
		p, err := e.svc.FindDeliveries(bg, e.op, studio.ID, hook.ID, account.DeliveryQuery{})
		if err != nil || len(p.Items) != 1 || p.Items[0].State != account.DeliveryPending || p.Items[0].NextAt.After(time.Now().Add(time.Second)) {
			t.Fatalf("after Retry: %+v, %v", p.Items, err)
		}
		wantStatus(t, op.post(hookPath+"/deliveries/no-such-delivery/retry", nil), http.StatusNotFound)

		// Pages of deliveries, newest first.
		for range 50 {
			if err := e.svc.TestWebhook(bg, e.op, studio.ID, hook.ID); err != nil {
				t.Fatal(err)
			}
		}
		first := op.get(hookPath + "/deliveries")
		if n := strings.Count(first.Body, `id="delivery-`); n != 50 {
			t.Fatalf("the first page lists %d deliveries, want 50", n)
		}
		nextLink := between(first.Body, `<a href="`+hookPath+`/deliveries?cursor=`, `"`)
		if nextLink == "" || strings.Contains(first.Body, `id="delivery-`+d.ID+`"`) {
			t.Fatalf("no next page, or the oldest delivery on the first")
		}
		cursor, _ := url.QueryUnescape(strings.ReplaceAll(nextLink, "&amp;", "&"))
		second := op.get(hookPath + "/deliveries?cursor=" + url.QueryEscape(cursor))
		wantStatus(t, second, http.StatusOK)
		if n := strings.Count(second.Body, `id="delivery-`); n != 1 || !strings.Contains(second.Body, `id="delivery-`+d.ID+`"`) {
			t.Fatalf("the second page lists %d deliveries, want the oldest only", n)
		}
		wantIn(t, second, "First page")
		wantStatus(t, op.get(hookPath+"/deliveries?cursor=not-a-cursor"), http.StatusUnprocessableEntity)

		// Another application's endpoint is not found under this one, for any action.
		other, err := e.svc.CreateWebhook(bg, e.op, support.ID, account.WebhookInput{URL: ptr("https://support.example.test/hook")})
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{base + "/" + other.ID, base + "/" + other.ID + "/deliveries"} {
			wantStatus(t, op.get(path), http.StatusNotFound)
		}
		for _, action := range []string{"", "/disable", "/delete", "/test", "/rotate-secret"} {
			wantStatus(t, op.post(base+"/"+other.ID+action, url.Values{"url": {"https://taken.example.test/"}}), http.StatusNotFound)
		}
		if got, err := e.svc.FindWebhook(bg, e.op, support.ID, other.ID); err != nil || !got.Enabled || got.URL != "https://support.example.test/hook" ||
			got.Secret != other.Secret {
			t.Fatalf("support's webhook after the attempts under studio: %+v, %v", got, err)
		}
		wantStatus(t, op.get("/operator/applications/no-such-app/webhooks"), http.StatusNotFound)
		wantStatus(t, op.get(base+"?confirm=no-such-webhook"), http.StatusNotFound)

		// A form posted from another origin is refused (the console's
		// CrossOriginProtection), and deletes nothing.
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+hookPath+"/delete", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", "https://attacker.example.test")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		wantStatus(t, op.do(req), http.StatusForbidden)
		if _, err := e.svc.FindWebhook(bg, e.op, studio.ID, hook.ID); err != nil {
			t.Fatalf("a cross-origin post deleted the webhook: %v", err)
		}

		// A query's value never becomes part of a form's action: a crafted confirm
		// is the list's 404, or the endpoint's page without its confirmation.
		for _, c := range []string{"..%2F..%2Fkeys", "../" + other.ID, hook.ID + "/../" + other.ID, other.ID} {
			wantStatus(t, op.get(base+"?confirm="+c), http.StatusNotFound)
			path := hookPath + "?confirm=" + c
			body := op.get(path)
			wantNotIn(t, body, `role="alertdialog"`)
			for _, got := range postTargets(t, path, body.Body) {
				if !strings.HasPrefix(got, hookPath) && got != "/logout" {
					t.Errorf("GET %s has a form posting to %s", path, got)
				}
			}
		}

		// Deletion, after confirming.
		confirm := op.get(base + "?confirm=" + hook.ID)
		wantIn(t, confirm, `role="alertdialog"`, "Yes, delete", `action="`+hookPath+`/delete"`)
		wantIn(t, op.get(hookPath+"?confirm=delete"), `role="alertdialog"`, `action="`+hookPath+`/delete"`)
		res = op.wantRedirect(op.post(hookPath+"/delete", nil), base)
		wantIn(t, res, "Webhook deleted", "No webhooks yet")
		if _, err := e.svc.FindWebhook(bg, e.op, studio.ID, hook.ID); account.ErrorCode(err) != account.ENOTFOUND {
			t.Fatalf("after deletion: %v", err)
		}
		wantStatus(t, op.get(hookPath), http.StatusNotFound)
	})
}

// TestWebhookPagesAreNotFoundForOthers: an organization's owner and admin and a
// partner's admin find none of the webhook pages, and their posts change nothing.
func TestWebhookPagesAreNotFoundForOthers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newOpEnv(t, db)
		e.orgWithSubscription("globex", 5, time.Now().AddDate(0, -1, 0), time.Now().AddDate(1, 0, 0))
		if _, err := e.svc.CreateOrganization(bg, e.op, account.CreateOrganizationInput{Name: "Northwind", Slug: "northwind", Kind: account.KindPartner}); err != nil {
			t.Fatal(err)
		}
		e.addPerson("globex", "owner@globex.test", "owner")
		e.addPerson("globex", "admin@globex.test", "admin")
		e.addPerson("northwind", "pat@northwind.test", "admin")
		// The partner's admin manages an organization that subscribes to the application.
		if _, err := e.svc.CreateOrganization(bg, e.op, account.CreateOrganizationInput{Name: "Initech", Slug: "initech",
			Kind: account.KindOrganization, Parent: "northwind"}); err != nil {
			t.Fatal(err)
		}
		seats := 3
		if _, _, err := e.svc.CreateSubscription(bg, e.op, "initech", account.SubscriptionInput{Application: "studio", Seats: &seats,
			StartsAt: time.Now().AddDate(0, -1, 0), EndsAt: time.Now().AddDate(1, 0, 0)}); err != nil {
			t.Fatal(err)
		}
		app, err := e.svc.FindApplication(bg, e.op, "studio")
		if err != nil {
			t.Fatal(err)
		}
		hook, err := e.svc.CreateWebhook(bg, e.op, app.ID, account.WebhookInput{URL: ptr("https://hooks.example.test/roster")})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.TestWebhook(bg, e.op, app.ID, hook.ID); err != nil {
			t.Fatal(err)
		}
		before, err := e.svc.FindDeliveries(bg, e.op, app.ID, hook.ID, account.DeliveryQuery{})
		if err != nil || len(before.Items) != 1 {
			t.Fatalf("deliveries: %v, %v", before.Items, err)
		}
		base := "/operator/applications/" + app.ID + "/webhooks"
		hookPath := base + "/" + hook.ID
		for _, who := range []string{"owner@globex.test", "admin@globex.test", "pat@northwind.test"} {
			b := e.login(who, opPass)
			for _, path := range []string{base, hookPath, hookPath + "?confirm=delete", hookPath + "/deliveries"} {
				res := b.get(path)
				wantStatus(t, res, http.StatusNotFound)
				wantNotIn(t, res, hook.URL, `aria-label="Operator"`)
			}
			form := url.Values{"url": {"https://attacker.example.test/"}, "events": {"member.added"}}
			for _, path := range []string{base, hookPath, hookPath + "/disable", hookPath + "/rotate-secret", hookPath + "/test",
				hookPath + "/delete", hookPath + "/deliveries/" + before.Items[0].ID + "/retry"} {
				res := b.post(path, form)
				wantStatus(t, res, http.StatusNotFound)
				wantNotIn(t, res, "whsec_")
			}
			wantNotIn(t, b.get("/o/globex/users"), base)
		}
		got, err := e.svc.FindWebhook(bg, e.op, app.ID, hook.ID)
		if err != nil || got.URL != hook.URL || !got.Enabled || got.Secret != hook.Secret || len(got.Events) != 0 {
			t.Fatalf("the webhook after the others' posts: %+v, %v", got, err)
		}
		ws, _ := e.svc.FindWebhooks(bg, e.op, app.ID)
		after, _ := e.svc.FindDeliveries(bg, e.op, app.ID, hook.ID, account.DeliveryQuery{})
		if len(ws) != 1 || len(after.Items) != 1 || after.Items[0].UpdatedAt != before.Items[0].UpdatedAt {
			t.Fatalf("the others' posts changed something: %d webhooks, deliveries %+v", len(ws), after.Items)
		}
		// The use cases themselves refuse them too.
		owner, err := e.svc.ActorForEmail(bg, "owner@globex.test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.FindWebhooks(bg, owner, app.ID); account.ErrorCode(err) != account.EFORBIDDEN {
			t.Errorf("FindWebhooks by an owner: %v", err)
		}
	})
}
