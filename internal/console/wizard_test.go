package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"roster.dev/roster/internal/account"
)

// hiddenInput is one hidden field of a page's form.
var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)

// carriedOf is what a wizard screen carries to the next one: its hidden fields.
func carriedOf(body string) url.Values {
	f := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(orgMain(body), -1) {
		f.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return f
}

// with is f with the fields of more added (a screen's own inputs, as typed).
func with(f url.Values, more url.Values) url.Values {
	out := url.Values{}
	for k, vs := range f {
		out[k] = append([]string(nil), vs...)
	}
	for k, vs := range more {
		out[k] = vs
	}
	return out
}

// TestAddUserConfirmAndRequestSeats: Add user is email, details, then a summary
// to confirm — who, role, teams, seats and seat requests, whether an invitation
// email goes — which adds nobody until confirmed; Back from the summary keeps
// everything entered. An application with no seat left offers Request seats: the
// person is added without the seat and a request for one more is filed, audited.
// Someone without members.invite reaches no step of the wizard.
func TestAddUserConfirmAndRequestSeats(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		sub := orgApps(t, e, 1)
		if _, _, err := e.svc.AssignSeat(ctx, e.op, "acme", sub.ID, orgMemberID(t, e, "mel@acme.test")); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreateTeam(ctx, e.op, "acme", "Sales"); err != nil {
			t.Fatal(err)
		}
		ada := e.browser("ada@acme.test")
		body := ada.page("/o/acme/users/new")
		orgHas(t, body, "Step 1 of 3")

		body = ada.step("/o/acme/users/new", url.Values{"step": {"email"}, "email": {"nia@acme.test"}})
		orgHas(t, body, "Step 2 of 3", "is new to Roster", `name="request_seat" value="support"`, "Request seats: Support Desk",
			"the person is added without one")
		orgLacks(t, body, `name="application" value="support"`)
		typed := url.Values{"first_name": {"Nia"}, "last_name": {"Noor"}, "role": {"admin"}, "team": {"Sales"},
			"request_seat": {"support"}, "send_invite": {"on"}}
		body = ada.step("/o/acme/users/new", with(carriedOf(body), typed))
		orgHas(t, body, "Step 3 of 3", "Check and confirm", "Nia Noor, nia@acme.test", "(new to Roster)", "<dd>Acme</dd>",
			"<dd>Admin</dd>", "<dd>Sales</dd>", "One more seat of Support Desk is requested from the operators",
			"An invitation email goes to nia@acme.test", ">Add user</button>", `name="back" value="details"`)
		if p, _ := e.svc.FindMembers(ctx, e.op, "acme", account.MemberQuery{Q: "nia@"}); len(p.Items) != 0 {
			t.Fatal("the summary added the person before the confirmation")
		}
		if p, _ := e.svc.FindOrganizationSeatRequests(ctx, e.op, "acme", account.SeatRequestQuery{}); len(p.Items) != 0 {
			t.Fatal("the summary filed a seat request before the confirmation")
		}
		confirm := carriedOf(body)

		// Back: every choice is still there.
		back := ada.step("/o/acme/users/new", with(confirm, url.Values{"back": {"details"}}))
		orgHas(t, back, "Step 2 of 3", `name="first_name" type="text" value="Nia"`, `name="last_name" type="text" value="Noor"`,
			`value="admin" selected`, `name="team" value="Sales" checked`, `name="request_seat" value="support" checked`,
			`name="send_invite" checked`)
		// Back again, to the email: still there too, and the rest carried.
		email := ada.step("/o/acme/users/new", with(carriedOf(back), url.Values{"first_name": {"Nia"}, "last_name": {"Noor"},
			"role": {"admin"}, "team": {"Sales"}, "request_seat": {"support"}, "send_invite": {"on"}, "back": {"email"}}))
		orgHas(t, email, "Step 1 of 3", `name="email" type="email" value="nia@acme.test"`)
		if c := carriedOf(email); c.Get("first_name") != "Nia" || c.Get("request_seat") != "support" {
			t.Errorf("the email screen does not carry the details: %v", c)
		}

		// Confirmed: added, invited, without the seat, and the request filed.
		r := ada.post("/o/acme/users/new", confirm)
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/o/acme/users/") {
			t.Fatalf("confirming = %d %q\n%s", r.Status, r.Location, orgMain(r.Body))
		}
		orgHas(t, ada.page(r.Location), "An invitation is on its way to nia@acme.test. 1 seat is requested from the operators.")
		p, err := e.svc.FindMembers(ctx, e.op, "acme", account.MemberQuery{Q: "nia@"})
		if err != nil || len(p.Items) != 1 || p.Items[0].State != account.MemberInvited || p.Items[0].RoleID != "admin" || len(p.Items[0].Seats) != 0 {
			t.Fatalf("nia = %+v, %v", p.Items, err)
		}
		reqs, err := e.svc.FindOrganizationSeatRequests(ctx, e.op, "acme", account.SeatRequestQuery{})
		if err != nil || len(reqs.Items) != 1 || reqs.Items[0].ApplicationKey != "support" || reqs.Items[0].Quantity != 1 {
			t.Fatalf("seat requests = %+v, %v", reqs.Items, err)
		}
		trail, err := e.svc.FindAuditEvents(ctx, e.op, "acme", account.AuditQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var requested bool
		for _, ev := range trail.Items {
			requested = requested || ev.Action == string(account.AuditSeatRequestCreated)
		}
		if !requested {
			t.Error("the seat request is not on the audit trail")
		}

		// The summary of an account created with a password says no email goes.
		body = ada.step("/o/acme/users/new", url.Values{"step": {"details"}, "email": {"hal@acme.test"}, "first_name": {"Hal"},
			"last_name": {"Hart"}, "role": {"member"}, "password": {orgPassword}, "reset_password": {"on"}})
		orgHas(t, body, "No email is sent: the account is created at once with the password you chose, and asks for a new one at first login.",
			"<dd>None</dd>")
		// A refusal of the details stays on them, every field at fault marked.
		body = ada.refused("/o/acme/users/new", url.Values{"step": {"details"}, "email": {"ivo@acme.test"}, "role": {"member"},
			"phone": {"not a phone"}}, http.StatusUnprocessableEntity)
		orgHas(t, body, "Step 2 of 3", `id="e-first_name"`, `id="e-last_name"`, `id="e-phone"`, `id="e-password"`)

		// A step the wizard does not have, a Back forward: refused, nothing added.
		ada.refused("/o/acme/users/new", with(confirm, url.Values{"step": {"sideways"}}), http.StatusUnprocessableEntity)
		ada.refused("/o/acme/users/new", with(confirm, url.Values{"step": {"details"}, "back": {"confirm"}}), http.StatusUnprocessableEntity)

		// A member without members.invite: no screen, no step.
		mel := e.browser("mel@acme.test")
		if r := mel.get("/o/acme/users/new"); r.Status != http.StatusForbidden {
			t.Errorf("a member opens Add user: %d, want 403", r.Status)
		}
		for _, step := range []string{"email", "details", "confirm"} {
			f := with(confirm, url.Values{"step": {step}, "email": {"mal@acme.test"}})
			if r := mel.post("/o/acme/users/new", f); r.Status != http.StatusForbidden {
				t.Errorf("a member posts the %s step: %d, want 403", step, r.Status)
			}
		}
		if p, _ := e.svc.FindMembers(ctx, e.op, "acme", account.MemberQuery{Q: "mal@"}); len(p.Items) != 0 {
			t.Error("a member added someone through the wizard")
		}
	})
}

// TestPartnerAddUserWizard: a partner's administrator adds a person in three
// screens and a summary — the organization (the partner itself or one under it),
// the person, then role, teams and seats there — through the same use cases as an
// organization's Add user. The organization travels as a hidden field, and every
// step asks the domain again: another partner's organization, or one the
// administrator may manage outside this partner, answers 404 and gets nobody.
func TestPartnerAddUserWizard(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		org := func(name, slug string, kind account.OrgKind, parent string) account.Organization {
			t.Helper()
			o, err := e.svc.CreateOrganization(ctx, e.op, account.CreateOrganizationInput{Name: name, Slug: slug, Kind: kind, Parent: parent})
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
		org("Northwind", "northwind", account.KindPartner, "")
		umbrella := org("Umbrella", "umbrella", account.KindOrganization, "northwind")
		org("Southwind", "southwind", account.KindPartner, "")
		initech := org("Initech", "initech", account.KindOrganization, "southwind")
		if _, err := e.svc.CreateTeam(ctx, e.op, "umbrella", "Lab"); err != nil {
			t.Fatal(err)
		}
		e.addMember(e.op, "northwind", "pat@northwind.test", account.RoleAdmin)
		no := false // the operator links pat's account to globex, outside the partner
		if _, err := e.svc.AddMember(ctx, e.op, "globex", account.AddMemberInput{Email: "pat@northwind.test", Role: account.RoleAdmin, SendInvite: &no}); err != nil {
			t.Fatal(err)
		}
		e.addMember(e.op, "southwind", "sam@southwind.test", account.RoleAdmin)
		globex, err := e.svc.FindOrganization(ctx, e.op, "globex")
		if err != nil {
			t.Fatal(err)
		}
		pat := e.browser("pat@northwind.test")
		const wizard = "/o/northwind/users/new"

		body := pat.page(wizard)
		orgHas(t, body, "Step 1 of 4", "Northwind itself", "Umbrella", `value="`+umbrella.ID+`"`)
		orgLacks(t, between(body, `id="org-choice"`, "</fieldset>"), "Initech", "Globex")
		body = pat.refused(wizard, url.Values{"step": {"organization"}}, http.StatusUnprocessableEntity)
		orgHas(t, body, `id="e-organization"`, "Choose one of the organizations.")

		body = pat.step(wizard, url.Values{"step": {"organization"}, "organization": {umbrella.ID}})
		orgHas(t, body, "Add a user to Umbrella", "Step 2 of 4", `name="email"`, `name="first_name"`)
		person := url.Values{"email": {"quinn@umbrella.test"}, "first_name": {"Quinn"}, "last_name": {"Quill"}, "username": {"quinn"}}
		body = pat.step(wizard, with(carriedOf(body), person))
		orgHas(t, body, "Step 3 of 4", "is new to Roster", "Role in Umbrella", `name="team" value="Lab"`)
		orgLacks(t, body, `name="role"><option value="owner"`, `<option value="owner"`)
		body = pat.step(wizard, with(carriedOf(body), url.Values{"role": {"admin"}, "team": {"Lab"}, "send_invite": {"on"}}))
		orgHas(t, body, "Step 4 of 4", "Check and confirm", "Quinn Quill, quinn@umbrella.test", "<dd>Umbrella</dd>", "<dd>Admin</dd>",
			"<dd>Lab</dd>", "An invitation email goes to quinn@umbrella.test")
		confirm := carriedOf(body)
		back := pat.step(wizard, with(confirm, url.Values{"back": {"person"}}))
		orgHas(t, back, "Step 2 of 4", `value="Quinn"`, `value="quinn"`)

		// The attack: the hidden organization swapped for another partner's, or for
		// one pat administers outside Northwind, at any step.
		for _, target := range []account.Organization{initech, globex} {
			for _, step := range []string{"organization", "person", "access", "confirm"} {
				f := with(confirm, url.Values{"step": {step}, "organization": {target.ID}, "email": {"mole@" + target.Slug + ".test"}})
				if r := pat.post(wizard, f); r.Status != http.StatusNotFound {
					t.Errorf("the %s step into %s = %d, want 404\n%s", step, target.Name, r.Status, orgMain(r.Body))
				}
			}
			if p, _ := e.svc.FindMembers(ctx, e.op, target.Slug, account.MemberQuery{Q: "mole@"}); len(p.Items) != 0 {
				t.Errorf("pat added someone to %s through Northwind's wizard", target.Name)
			}
		}
		// Southwind's administrator may not use Northwind's wizard at all.
		sam := e.browser("sam@southwind.test")
		if r := sam.post(wizard, with(confirm, url.Values{"email": {"mole@umbrella.test"}})); r.Status != http.StatusNotFound {
			t.Errorf("another partner's admin posts Northwind's wizard: %d, want 404", r.Status)
		}

		r := pat.post(wizard, confirm)
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/o/umbrella/users/") {
			t.Fatalf("confirming = %d %q\n%s", r.Status, r.Location, orgMain(r.Body))
		}
		orgHas(t, pat.page(r.Location), "An invitation is on its way to quinn@umbrella.test.")
		p, err := e.svc.FindMembers(ctx, e.op, "umbrella", account.MemberQuery{Q: "quinn"})
		if err != nil || len(p.Items) != 1 || p.Items[0].RoleID != "admin" || p.Items[0].State != account.MemberInvited ||
			len(p.Items[0].Teams) != 1 || p.Items[0].Teams[0] != "Lab" {
			t.Fatalf("quinn in umbrella: %+v, %v", p.Items, err)
		}
		if p, _ := e.svc.FindMembers(ctx, e.op, "northwind", account.MemberQuery{Q: "quinn"}); len(p.Items) != 0 {
			t.Error("quinn was added to the partner too")
		}

		// The partner itself: its own roles; a refusal of the person's fields goes
		// back to their screen.
		body = pat.step(wizard, url.Values{"step": {"organization"}, "organization": {mustOrg(t, e, "northwind").ID}})
		body = pat.step(wizard, with(carriedOf(body), url.Values{"email": {"rae@northwind.test"}, "phone": {"not a phone"}}))
		body = pat.refused(wizard, with(carriedOf(body), url.Values{"role": {"admin"}, "send_invite": {"on"}}), http.StatusUnprocessableEntity)
		orgHas(t, body, "Step 2 of 4", `id="e-phone"`)
	})
}

func mustOrg(t *testing.T, e *orgEnv, slug string) account.Organization {
	t.Helper()
	o, err := e.svc.FindOrganization(context.Background(), e.op, slug)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
