package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// orgApps gives acme an application "support" named Support Desk with a
// subscription of seats seats, in force now.
func orgApps(t *testing.T, e *orgEnv, seats int) account.Subscription {
	t.Helper()
	ctx := context.Background()
	if _, err := e.svc.CreateApplication(ctx, e.op, account.ApplicationInput{Key: "support", Name: "Support Desk"}); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	_, sub, err := e.svc.CreateSubscription(ctx, e.op, "acme", account.SubscriptionInput{Application: "support", Seats: &seats,
		StartsAt: now.AddDate(0, -1, 0), EndsAt: now.AddDate(1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// A viewer whose custom role reads members but manages nothing sees role names,
// not ids, and no selection checkboxes that lead nowhere; application names stand
// where keys would; audit targets are named.
func TestReadOnlyViewerSeesNames(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		adaActor := e.actor("ada@acme.test")
		sub := orgApps(t, e, 1)
		name, perms, on := "Auditor", []string{"members.read", "audit.read"}, true
		role, err := e.svc.CreateRole(ctx, adaActor, "acme", account.RoleInput{Name: &name, Permissions: &perms, Active: &on})
		if err != nil {
			t.Fatal(err)
		}
		e.addMember(e.op, "acme", "rob@acme.test", role.ID)
		mel := orgMemberID(t, e, "mel@acme.test")
		if _, _, err := e.svc.AssignSeat(ctx, adaActor, "acme", sub.ID, mel); err != nil {
			t.Fatal(err)
		}
		rob := e.browser("rob@acme.test")

		body := rob.page("/o/acme/users")
		orgHas(t, body, ">Auditor<", ">Admin<", ">Member<", "Support Desk")
		orgLacks(t, body, ">"+role.ID, ">admin<", `name="id"`, "data-select-all", "Remove selected", "Resend invitation")
		body = rob.page("/o/acme/users/" + orgMemberID(t, e, "rob@acme.test"))
		orgHas(t, body, "<dd>Auditor</dd>")
		orgLacks(t, body, "<dd>"+role.ID)

		// Rob's own page and the switcher name his custom role.
		body = rob.page("/me")
		orgHas(t, body, `<td data-label="Role">Auditor</td>`)
		orgLacks(t, body, ">"+role.ID+"<", "Custom role")

		// Mel's own page names the application and the role.
		body = e.browser("mel@acme.test").page("/me")
		orgHas(t, body, `<span class="chip">Support Desk</span>`, ">Member<")
		orgLacks(t, body, `<span class="chip">support</span>`)

		// The audit log names the member a seat went to and the role created.
		body = rob.page("/o/acme/audit")
		orgHas(t, body, "Fmel Lmel &lt;mel@acme.test&gt;", ">Auditor<")

		// A full subscription says so by the application's name.
		gus := e.addMember(e.op, "acme", "gus@acme.test", account.RoleMember)
		_, _, err = e.svc.AssignSeat(ctx, adaActor, "acme", sub.ID, gus.AccountID)
		if err == nil || !strings.Contains(account.ErrorMessage(err), "seats of Support Desk are taken") {
			t.Errorf("assigning past the quota: %v, want it to name Support Desk", err)
		}
		no := false
		_, err = e.svc.AddMember(ctx, adaActor, "acme", account.AddMemberInput{Email: "new@acme.test", Role: "member",
			Applications: []string{"support"}, SendInvite: &no, Password: orgPassword, FirstName: "N", LastName: "N"})
		if err == nil || !strings.Contains(account.ErrorMessage(err), "no seat of Support Desk is left") {
			t.Errorf("adding with a seat past the quota: %v, want it to name Support Desk", err)
		}
	})
}

// After a validation error the Add user form lists each application once.
func TestAddUserErrorKeepsChoices(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		orgApps(t, e, 5)
		ada := e.browser("ada@acme.test")
		body := ada.refused("/o/acme/users/new", url.Values{"step": {"details"}, "email": {"newbie@acme.test"},
			"first_name": {"New"}, "last_name": {"Bie"}, "phone": {"not a phone"}, "role": {"member"},
			"application": {"support"}}, http.StatusUnprocessableEntity)
		if n := strings.Count(body, `name="application" value="support"`); n != 1 {
			t.Errorf("the form lists Support Desk %d times after an error, want once\n%s", n, orgMain(body))
		}
		orgHas(t, body, `name="application" value="support" checked`)
	})
}

// A member who cannot add or invite people or import is refused the screens
// when opening them, not after filling them in.
func TestScreensOfferedOnlyToWhoCanUseThem(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		mel := e.browser("mel@acme.test")
		for _, path := range []string{"/o/acme/users/new", "/o/acme/invite", "/o/acme/import"} {
			r := mel.get(path)
			if r.Status != http.StatusForbidden {
				t.Errorf("a member opens %s: %d, want 403", path, r.Status)
			}
			orgLacks(t, r.Body, `<form method="post" action="`+path+`"`)
			orgHas(t, r.Body, "does not allow this")
		}
		ada := e.browser("ada@acme.test")
		for _, path := range []string{"/o/acme/users/new", "/o/acme/invite", "/o/acme/import"} {
			ada.page(path)
		}
	})
}

// Filtered lists say exactly how many match, with thousands separated.
func TestUserCountsExact(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		for i := range 52 {
			e.addMember(e.op, "acme", "p"+strconv.Itoa(100+i)+"@acme.test", account.RoleMember)
		}
		ada := e.browser("ada@acme.test")
		body := ada.page("/o/acme/users?q=acme.test")
		orgHas(t, body, "54 users match", "Next page")
		orgLacks(t, body, "More than")
		body = ada.page("/o/acme/users?state=active")
		orgHas(t, body, "54 users match")
		body = ada.page("/o/acme/users")
		orgHas(t, body, `<span class="muted" id="list-count">54 users</span>`)
	})
}

// The import page pages its rejected rows and says the error report holds them
// all, rather than stopping at the first hundred.
func TestImportRejectedRowsPaged(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		adaActor := e.actor("ada@acme.test")
		imp, err := e.svc.StartImport(ctx, adaActor, "acme", account.ImportUpload{FileName: "people.csv", Format: "csv",
			Content: []byte("email\n"), Total: 250})
		if err != nil {
			t.Fatal(err)
		}
		claimed, ok, err := e.svc.ImportJobs().Claim(ctx, "test", time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		rows := make([]account.ImportRow, 250)
		for i := range rows {
			rows[i] = account.ImportRow{Row: i + 2, Values: []string{"bad"},
				Problems: []account.FieldError{{Field: "email", Message: "is not a valid email address"}}}
		}
		if _, err := e.svc.ImportJobs().ApplyRows(ctx, claimed, rows, time.Minute); err != nil {
			t.Fatal(err)
		}
		ada := e.browser("ada@acme.test")
		base := "/o/acme/import/" + imp.ID
		body := ada.page(base)
		orgHas(t, body, "Showing file rows 2 to 101 of 250 rejected rows; every one of them is in the error report.",
			`href="`+base+`?after=101"`, "<td data-label=\"Row\">101</td>")
		orgLacks(t, body, "<td data-label=\"Row\">102</td>")
		body = ada.page(base + "?after=101")
		orgHas(t, body, "Showing file rows 102 to 201 of 250", `href="`+base+`?after=201"`, "First rejected rows")
		body = ada.page(base + "?after=201")
		orgHas(t, body, "Showing file rows 202 to 251 of 250", "<td data-label=\"Row\">251</td>")
		orgLacks(t, body, "Next rejected rows")
		if r := ada.get(base + "?after=-3"); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("a negative page = %d, want 422", r.Status)
		}
	})
}

// Every error is a sentence about a field the person sees, next to it, and all of
// them at once: no API field names, no indexes, no "account:" prefixes.
func TestErrorsAreSentences(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		if _, err := e.svc.CreateApplication(ctx, e.op, account.ApplicationInput{Key: "studio", Name: "Studio"}); err != nil {
			t.Fatal(err)
		}
		op := e.browser(opEmail)
		body := op.refused("/o/acme/subscriptions", url.Values{"application": {"studio"}, "seats": {"2"},
			"starts_at": {"2027-03-01"}, "ends_at": {"2027-01-01"}}, http.StatusUnprocessableEntity)
		orgHas(t, body, "End date must be after the start date.")
		orgLacks(t, body, "after starts_at", "Ends on must")

		body = op.refused("/operator/organizations", url.Values{"name": {"Acme again"}, "slug": {"acme"}, "kind": {"organization"}}, http.StatusConflict)
		orgHas(t, body, "Slug is already taken.")
		orgLacks(t, body, "from the name if empty already", "organization: slug")

		ada := e.browser("ada@acme.test")
		body = ada.page("/o/acme/invite")
		r0 := ada.post("/o/acme/invite", url.Values{"emails": {"ann@acme.test, bob@acme.test, nope"}, "role": {"member"}})
		orgHas(t, r0.Body, "nope:", "The address is not a valid email address")
		orgLacks(t, r0.Body, "emails[", "Email 3")

		// The panel: every error at once, each on its field and in the summary.
		mel := orgMemberID(t, e, "mel@acme.test")
		e.addMember(e.op, "acme", "kim@acme.test", account.RoleMember)
		kim := orgMemberID(t, e, "kim@acme.test")
		if _, err := e.svc.UpdateMember(ctx, e.actor("ada@acme.test"), "acme", kim, account.UpdateMemberInput{Username: ptr("kim")}); err != nil {
			t.Fatal(err)
		}
		r := ada.post("/o/acme/users/"+mel+"/edit", url.Values{"first_name": {"Mel"}, "last_name": {"Lee"},
			"phone": {"call me"}, "username": {"kim"}, "role": {"member"}})
		if r.Status < 400 {
			t.Fatalf("a bad phone was saved: %d", r.Status)
		}
		orgLacks(t, r.Body, "account: ", "phone: ")
		if n := strings.Count(r.Body, "Phone number "); n != 2 { // the summary and the field
			t.Errorf("the phone error shows %d times, want twice (summary and field)\n%s", n, orgMain(r.Body))
		}
		orgHas(t, r.Body, `id="e-phone"`)

		// A taken username alone: a sentence, no "account:".
		r = ada.post("/o/acme/users/"+mel+"/edit", url.Values{"first_name": {"Mel"}, "last_name": {"Lee"},
			"phone": {""}, "username": {"kim"}, "role": {"member"}})
		orgHas(t, r.Body, "Username is already taken.", `id="e-username"`)
		orgLacks(t, r.Body, "account: username")

		// A required field does not say it is optional.
		body = ada.refused("/o/acme/users/new", url.Values{"step": {"details"}, "email": {"new@acme.test"},
			"first_name": {""}, "last_name": {""}, "role": {"member"}}, http.StatusUnprocessableEntity)
		orgHas(t, body, "First name is required")
		if i := strings.Index(body, `for="f-first_name"`); i < 0 || strings.Contains(body[i:i+120], "(optional)") {
			t.Errorf("first name says (optional) beside its 'is required'\n%s", orgMain(body))
		}
	})
}

func ptr[T any](v T) *T { return &v }

// Resending invitations in bulk asks first, naming who gets one; nothing is sent
// until the confirmation.
func TestBulkResendConfirms(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		yes := true
		fay, err := e.svc.AddMember(ctx, e.actor("ada@acme.test"), "acme", account.AddMemberInput{Email: "fay@acme.test",
			FirstName: "Fay", LastName: "Field", SendInvite: &yes})
		if err != nil {
			t.Fatal(err)
		}
		first := e.invitationToken("fay@acme.test")
		ada := e.browser("ada@acme.test")
		mel := orgMemberID(t, e, "mel@acme.test")
		form := url.Values{"action": {"resend"}, "id": {fay.AccountID, mel}, "back": {"/o/acme/users"}}
		body := ada.page("/o/acme/users") // the list offers the action
		orgHas(t, body, `value="resend"`)
		r := ada.post("/o/acme/users/bulk", form)
		if r.Status != http.StatusOK {
			t.Fatalf("bulk resend = %d, want the confirmation page", r.Status)
		}
		orgHas(t, r.Body, "Send 1 new invitation?", "fay@acme.test", "1 selected user has no pending invitation", `value="resend-confirmed"`)
		if got := e.invitationToken("fay@acme.test"); got != first {
			t.Fatal("an invitation was sent before the confirmation")
		}
		form.Set("action", "resend-confirmed")
		body = ada.submit("/o/acme/users/bulk", form, "/o/acme/users")
		orgHas(t, body, "1 user sent a new invitation.")
		if got := e.invitationToken("fay@acme.test"); got == first {
			t.Error("no new invitation after the confirmation")
		}
	})
}

// An operator with nothing set up yet sees what to do first, not an empty table.
func TestOperatorFirstSteps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newOpEnv(t, db)
		op := e.login(opEmail, opPass)
		res := op.get("/operator")
		wantIn(t, res, "Set up your first customer", `href="/operator/applications">Register an application`, "Create an organization")
		if strings.Contains(res.Body, "0</strong> listed") || strings.Contains(res.Body, "No partner or organization matches") {
			t.Errorf("the empty operator page shows an empty list:\n%s", res.Body)
		}
		if _, err := e.svc.CreateApplication(context.Background(), e.op, account.ApplicationInput{Key: "studio", Name: "Studio"}); err != nil {
			t.Fatal(err)
		}
		wantIn(t, op.get("/operator"), "Applications registered: 1 application")
		op.wantRedirect(op.post("/operator/organizations", url.Values{"name": {"Acme"}, "kind": {"organization"}}), "/operator?q=acme")
		res = op.get("/operator")
		if strings.Contains(res.Body, "Set up your first customer") {
			t.Error("the first steps stay once an organization exists")
		}
		wantIn(t, op.get("/operator?q=zzz"), "clear the search")
	})
}

// A holder of an entry and its renewal has one chip of the application, and
// losing the old entry's seat is no "access has ended" email while the renewal's
// seat still grants it. An invited person without names shows their email once.
func TestRenewalHoldersAndInvitees(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		adaActor := e.actor("ada@acme.test")
		old := orgApps(t, e, 3)
		mel := orgMemberID(t, e, "mel@acme.test")
		if _, _, err := e.svc.AssignSeat(ctx, adaActor, "acme", old.ID, mel); err != nil {
			t.Fatal(err)
		}
		seats, now := 3, e.clock.Now()
		_, renewal, err := e.svc.RenewSubscription(ctx, e.op, "acme", old.ID, account.SubscriptionInput{Seats: &seats,
			StartsAt: now.AddDate(0, 0, -1), EndsAt: now.AddDate(2, 0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if res, err := e.svc.Invite(ctx, adaActor, "acme", account.InviteInput{Emails: []string{"ivy@elsewhere.test"}, Role: "member"}); err != nil || res[0].Err != nil {
			t.Fatalf("invite: %v %+v", err, res)
		}
		ivy := struct{ AccountID string }{orgMemberID(t, e, "ivy@elsewhere.test")}
		ada := e.browser("ada@acme.test")
		body := ada.page("/o/acme/users")
		row := func(id string) string {
			i := strings.Index(body, `id="row-`+id+`"`)
			if i < 0 {
				t.Fatalf("no row %s", id)
			}
			return body[i : i+strings.Index(body[i:], "</tr>")]
		}
		// (An admin sees the application as a seat toggle, of the held entry in
		// force that started last: the renewal.)
		if n := strings.Count(row(mel), `aria-label="Support Desk seat for`); n != 1 {
			t.Errorf("mel holds both entries and shows %d Support Desk seat toggles, want 1", n)
		}
		if !strings.Contains(row(mel), `action="/o/acme/users/`+mel+`/unassign"`) || !strings.Contains(row(mel), `value="`+renewal.ID+`"`) {
			t.Errorf("mel's toggle is not the renewal's, pressed:\n%s", row(mel))
		}
		if n := strings.Count(row(ivy.AccountID), ">ivy@elsewhere.test<"); n != 1 {
			t.Errorf("the invitee's row shows their email %d times, want once:\n%s", n, row(ivy.AccountID))
		}
		panel := ada.page("/o/acme/users/" + ivy.AccountID)
		head := panel[strings.Index(panel, `id="panel"`):strings.Index(panel, `id="licenses-title"`)]
		if strings.Count(head, "ivy@elsewhere.test") != 1 {
			t.Errorf("the invitee's panel repeats their email:\n%s", head)
		}

		ended := func() int {
			msgs, err := e.db.FindEmails(ctx, "", 500)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, m := range msgs {
				if m.To == "mel@acme.test" && strings.Contains(m.Subject, "has ended") {
					n++
				}
			}
			return n
		}
		if err := e.svc.UnassignSeat(ctx, adaActor, "acme", old.ID, mel); err != nil {
			t.Fatal(err)
		}
		if n := ended(); n != 0 {
			t.Errorf("unassigning the old entry while the renewal grants access: %d 'has ended' emails, want none", n)
		}
		if err := e.svc.UnassignSeat(ctx, adaActor, "acme", renewal.ID, mel); err != nil {
			t.Fatal(err)
		}
		if n := ended(); n != 1 {
			t.Errorf("unassigning the last seat: %d 'has ended' emails, want 1", n)
		}
	})
}
