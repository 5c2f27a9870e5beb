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

// TestPartnerAddUserWizard: a partner's administrator adds a person in PRODUCT.md's
// three steps and a summary — details, organization roles (a checkbox and a role
// for each organization under the partner), partner roles — each membership
// through its own AddMemberWithin: a refusal in one organization is named and does
// not undo the others. At least one addition must be chosen. The organizations
// travel as hidden fields, and every step asks the domain again: another partner's
// organization, or one the administrator may manage outside this partner, answers
// 404 and gets nobody.
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
		hooli := org("Hooli", "hooli", account.KindOrganization, "northwind")
		org("Southwind", "southwind", account.KindPartner, "")
		initech := org("Initech", "initech", account.KindOrganization, "southwind")
		e.addMember(e.op, "northwind", "pat@northwind.test", account.RoleAdmin)
		no, yes := false, true // the operator links pat's account to globex, outside the partner
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
		uRole, hRole := "org_role_"+umbrella.ID, "org_role_"+hooli.ID

		// 1. The person.
		body := pat.page(wizard)
		orgHas(t, body, "Add a user to Northwind", "Step 1 of 4: the person", `name="email"`, `name="first_name"`)
		person := url.Values{"email": {"quinn@umbrella.test"}, "first_name": {"Quinn"}, "last_name": {"Quill"}, "username": {"quinn"}}
		body = pat.step(wizard, with(carriedOf(body), person))
		// 2. Organization roles: a checkbox and a role for each organization under
		// the partner, none of another partner's or outside it.
		orgHas(t, body, "Step 2 of 4: organization roles", `name="org" value="`+umbrella.ID+`"`, `name="org" value="`+hooli.ID+`"`,
			`name="`+uRole+`"`, "Role in Hooli")
		roles := between(body, `id="org-roles"`, "</fieldset>")
		orgLacks(t, roles, "Initech", "Globex", `<option value="owner"`)
		orgs := carriedOf(body)
		// 3. Partner roles; nothing chosen at all is refused there, nobody added.
		body = pat.step(wizard, with(orgs, url.Values{uRole: {"admin"}, hRole: {"member"}}))
		orgHas(t, body, "Step 3 of 4: partner roles", `name="partner_role"`, "No role in Northwind", `name="send_invite"`)
		body = pat.refused(wizard, with(carriedOf(body), url.Values{"send_invite": {"on"}}), http.StatusUnprocessableEntity)
		orgHas(t, body, "Step 3 of 4", "Nobody would be added", `id="e-partner_role"`, "tick at least one organization")

		body = pat.step(wizard, with(orgs, url.Values{"org": {umbrella.ID, hooli.ID}, uRole: {"admin"}, hRole: {"member"}}))
		body = pat.step(wizard, with(carriedOf(body), url.Values{"partner_role": {"member"}, "send_invite": {"on"}}))
		// 4. The summary: each addition with its role and email, nothing added yet.
		orgHas(t, body, "Step 4 of 4", "Check and confirm", "Quinn Quill, quinn@umbrella.test",
			"<dt>Umbrella</dt><dd>Admin. An invitation email goes to quinn@umbrella.test", "<dt>Hooli</dt><dd>Member.", "<dt>Northwind</dt><dd>Member.")
		confirm := carriedOf(body)
		if p, _ := e.svc.FindMembers(ctx, e.op, "umbrella", account.MemberQuery{Q: "quinn"}); len(p.Items) != 0 {
			t.Fatal("the summary added quinn")
		}
		back := pat.step(wizard, with(confirm, url.Values{"back": {"organizations"}}))
		orgHas(t, back, "Step 2 of 4", `value="`+umbrella.ID+`" checked`, `value="`+hooli.ID+`" checked`, `<option value="admin" selected`)
		back = pat.step(wizard, with(confirm, url.Values{"back": {"person"}}))
		orgHas(t, back, "Step 1 of 4", `value="Quinn"`, `value="quinn"`)

		// The attack: another partner's organization, or one pat administers outside
		// Northwind, in a hidden field of any step (ticked, or as a role's field):
		// 404, nothing added anywhere.
		for _, target := range []account.Organization{initech, globex} {
			for _, step := range []string{"person", "organizations", "partner", "confirm"} {
				for _, f := range []url.Values{
					with(confirm, url.Values{"step": {step}, "org": {target.ID}, "email": {"mole@" + target.Slug + ".test"}}),
					with(confirm, url.Values{"step": {step}, "org": {umbrella.ID, target.ID}, "email": {"mole@" + target.Slug + ".test"}}),
					with(confirm, url.Values{"step": {step}, "org_role_" + target.ID: {"admin"}, "email": {"mole@" + target.Slug + ".test"}}),
				} {
					if r := pat.post(wizard, f); r.Status != http.StatusNotFound {
						t.Errorf("the %s step into %s = %d, want 404\n%s", step, target.Name, r.Status, orgMain(r.Body))
					}
				}
			}
			for _, slug := range []string{target.Slug, "umbrella", "northwind"} {
				if p, _ := e.svc.FindMembers(ctx, e.op, slug, account.MemberQuery{Q: "mole@"}); len(p.Items) != 0 {
					t.Errorf("pat added someone to %s through an attack on Northwind's wizard", slug)
				}
			}
		}
		// Southwind's administrator may not use Northwind's wizard at all.
		sam := e.browser("sam@southwind.test")
		if r := sam.post(wizard, with(confirm, url.Values{"email": {"mole@umbrella.test"}})); r.Status != http.StatusNotFound {
			t.Errorf("another partner's admin posts Northwind's wizard: %d, want 404", r.Status)
		}

		// Confirm, with Hooli refusing (quinn joined it meanwhile): Umbrella and
		// Northwind are still added, and the page says which and why.
		if _, err := e.svc.AddMember(ctx, e.op, "hooli", account.AddMemberInput{Email: "quinn@umbrella.test", FirstName: "Quinn", LastName: "Quill", SendInvite: &yes}); err != nil {
			t.Fatal(err)
		}
		body = pat.refused(wizard, confirm, http.StatusUnprocessableEntity)
		orgHas(t, body, "quinn@umbrella.test is added to Umbrella and Northwind, but not to everything you chose",
			"Umbrella (Admin):", "Hooli (Member):", "not added", "Northwind (Member):")
		orgLacks(t, body, `name="step"`)
		for slug, want := range map[string]string{"umbrella": "admin", "northwind": "member", "hooli": "member"} {
			p, err := e.svc.FindMembers(ctx, e.op, slug, account.MemberQuery{Q: "quinn"})
			if err != nil || len(p.Items) != 1 || p.Items[0].RoleID != want {
				t.Fatalf("quinn in %s: %+v, %v", slug, p.Items, err)
			}
		}

		// The summary's checks: a refusal in one organization is shown beside it, on
		// the organization roles' screen; a refusal of the person's fields on theirs.
		body = pat.step(wizard, with(url.Values{"step": {"person"}}, url.Values{"email": {"quinn@umbrella.test"}}))
		body = pat.step(wizard, with(carriedOf(body), url.Values{"org": {umbrella.ID}}))
		body = pat.refused(wizard, with(carriedOf(body), url.Values{"partner_role": {""}, "send_invite": {"on"}}), http.StatusConflict)
		orgHas(t, body, "Step 2 of 4", `id="e-`+uRole+`"`, "Umbrella: This person is already a member of Umbrella.")
		body = pat.step(wizard, url.Values{"step": {"person"}, "email": {"rae@northwind.test"}, "phone": {"not a phone"}})
		body = pat.step(wizard, with(carriedOf(body), url.Values{"org": {hooli.ID}}))
		body = pat.refused(wizard, with(carriedOf(body), url.Values{"partner_role": {"admin"}, "send_invite": {"on"}}), http.StatusUnprocessableEntity)
		orgHas(t, body, "Step 1 of 4", `id="e-phone"`)

		// Two organizations and the partner in one run, all added: the users list
		// with a message naming them.
		body = pat.step(wizard, url.Values{"step": {"person"}, "email": {"rae@northwind.test"}})
		body = pat.step(wizard, with(carriedOf(body), url.Values{"org": {umbrella.ID, hooli.ID}}))
		body = pat.step(wizard, with(carriedOf(body), url.Values{"partner_role": {"admin"}, "send_invite": {"on"}}))
		r := pat.post(wizard, carriedOf(body))
		if r.Status != http.StatusSeeOther || r.Location != "/o/northwind/users" {
			t.Fatalf("confirming = %d %q\n%s", r.Status, r.Location, orgMain(r.Body))
		}
		orgHas(t, pat.page(r.Location), "rae@northwind.test is added to Umbrella, Hooli and Northwind.", "An invitation is on its way to rae@northwind.test.")
		for slug, want := range map[string]string{"umbrella": "member", "hooli": "member", "northwind": "admin"} {
			p, err := e.svc.FindMembers(ctx, e.op, slug, account.MemberQuery{Q: "rae@"})
			if err != nil || len(p.Items) != 1 || p.Items[0].RoleID != want || p.Items[0].State != account.MemberInvited {
				t.Fatalf("rae in %s: %+v, %v", slug, p.Items, err)
			}
		}
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
