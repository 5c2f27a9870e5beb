package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"roster.dev/roster/internal/account"
)

// TestRequiredProfileFieldsConsole: the settings' two checkboxes save
// required_profile_fields with the other settings; Add user and the member panel
// then mark the phone required (no "(optional)"), and adding someone without one
// is refused naming the phone, beside its field.
func TestRequiredProfileFieldsConsole(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		e.addMember(e.op, "acme", "olive@acme.test", account.RoleOwner)
		ada := e.browser("olive@acme.test") // an owner: the settings need organization.manage
		settings := func(phone bool) url.Values {
			f := url.Values{"name": {"Acme"}, "slug": {"acme"}, "invitation_ttl_hours": {"168"}, "ending_soon_days": {"30"}}
			if phone {
				f.Set("require_phone", "on")
			}
			return f
		}
		body := ada.page("/o/acme/settings")
		orgHas(t, body, "Require a phone number", "Require a username")
		orgLacks(t, body, `name="require_phone" checked`, `name="require_username" checked`)
		body = ada.submit("/o/acme/settings", settings(true), "/o/acme/settings")
		orgHas(t, body, "Settings saved.", `name="require_phone" checked`)
		orgLacks(t, body, `name="require_username" checked`)

		details := ada.post("/o/acme/users/new", url.Values{"step": {"email"}, "email": {"new@acme.test"}})
		if details.Status != http.StatusOK {
			t.Fatalf("Add user, email step = %d\n%s", details.Status, orgMain(details.Body))
		}
		orgHas(t, details.Body, `name="phone" type="tel" value="" autocomplete="off" required`)
		orgLacks(t, details.Body, `Phone, with country code (+44 …) <span class="optional">`)
		orgHas(t, details.Body, `Username <span class="optional">(optional)</span>`)
		add := url.Values{"step": {"details"}, "email": {"new@acme.test"}, "first_name": {"New"}, "last_name": {"Person"},
			"role": {"member"}, "password": {orgPassword}}
		body = ada.refused("/o/acme/users/new", add, http.StatusUnprocessableEntity)
		orgHas(t, body, `id="e-phone"`, "required by Acme")
		add.Set("phone", "+14155550100")
		orgHas(t, ada.step("/o/acme/users/new", add), "Check and confirm")
		add.Set("step", "confirm")
		add.Set("send_invite", "off")
		if r := ada.post("/o/acme/users/new", add); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/o/acme/users/") {
			t.Fatalf("adding with a phone = %d %q\n%s", r.Status, r.Location, orgMain(r.Body))
		}
		mel := e.actor("mel@acme.test")
		body = ada.page("/o/acme/users/" + mel.Account.ID)
		orgHas(t, body, `name="phone" type="tel" value="" autocomplete="off" required`)

		// Unticked, the setting is off again: the phone is optional.
		ada.submit("/o/acme/settings", settings(false), "/o/acme/settings")
		details = ada.post("/o/acme/users/new", url.Values{"step": {"email"}, "email": {"other@acme.test"}})
		orgHas(t, details.Body, `Phone, with country code (+44 …) <span class="optional">(optional)</span>`)
	})
}

// TestAcceptRequiredFieldsConsole: the acceptance page of an organization that
// requires a phone and a username asks for the ones the account lacks — a new
// person, an account claimed with a new password, and an existing account with its
// session alike — and refuses without them, every message beside its field at once,
// keeping what was typed; given, the person joins with them on their profile.
func TestAcceptRequiredFieldsConsole(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		both := []string{account.ProfilePhone, account.ProfileUsername}
		if _, err := e.svc.UpdateOrganization(ctx, e.op, "acme", account.UpdateOrganizationInput{RequiredProfileFields: &both}); err != nil {
			t.Fatal(err)
		}
		anon := e.anonymous()
		yes := true
		invite := func(email string) string {
			t.Helper()
			if _, err := e.svc.AddMember(ctx, e.op, "acme", account.AddMemberInput{Email: email, SendInvite: &yes}); err != nil {
				t.Fatal(err)
			}
			return "/invitations/" + e.invitationToken(email)
		}

		// A person new to Roster.
		link := invite("nia@acme.test")
		body := anon.page(link)
		orgHas(t, body, "Acme asks every member for a phone number and a username",
			`name="phone" type="tel" value="" autocomplete="tel" required`, `name="username" type="text" value="" autocomplete="username" required`)
		body = anon.refused(link, url.Values{"first_name": {"Nia"}, "last_name": {"New"}, "password": {"short"}, "username": {"nia"}}, http.StatusUnprocessableEntity)
		orgHas(t, body, `id="e-phone"`, `id="e-password"`, "required by Acme", `value="nia"`, `value="Nia"`)
		orgLacks(t, body, `id="e-username"`)
		r := anon.post(link, url.Values{"first_name": {"Nia"}, "last_name": {"New"}, "password": {orgPassword},
			"phone": {"+44 20 7946 0000"}, "username": {"nia"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("accepting with the fields = %d\n%s", r.Status, orgMain(r.Body))
		}
		nia := e.actor("nia@acme.test")
		if nia.Account.Phone != "+442079460000" || nia.Account.Username != "nia" {
			t.Errorf("nia's profile after accepting: phone %q, username %q", nia.Account.Phone, nia.Account.Username)
		}

		// Gus's account is globex's: he claims it with a new password, and gives
		// both fields too.
		link = invite("gus@globex.test")
		body = anon.page(link)
		orgHas(t, body, "Choose a password of your own", `name="phone"`, `name="username"`)
		body = anon.refused(link, url.Values{"password": {"gus's own secret"}}, http.StatusUnprocessableEntity)
		orgHas(t, body, `id="e-phone"`, `id="e-username"`)
		if r := anon.post(link, url.Values{"password": {"gus's own secret"}, "phone": {"+14155550100"}, "username": {"gus"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("claiming with the fields = %d\n%s", r.Status, orgMain(r.Body))
		}

		// An existing account of his own, with a phone: only the username is asked.
		e.addMember(e.op, "globex", "ivy@globex.test", account.RoleMember)
		ivy := e.browser("ivy@globex.test")
		if err := e.db.Write(ctx, func(tx account.Tx) error { // her own now, as a claim leaves it
			a, err := tx.AccountByEmail(ctx, "ivy@globex.test")
			if err != nil {
				return err
			}
			a.ManagedBy, a.EmailVerified, a.Phone = "", true, "+14155550101"
			return tx.UpdateAccount(ctx, a)
		}); err != nil {
			t.Fatal(err)
		}
		link = invite("ivy@globex.test")
		body = ivy.page(link)
		orgHas(t, body, "Accept and join", "Acme asks every member for a username", `name="username"`)
		orgLacks(t, body, `name="phone"`)
		body = ivy.refused(link, url.Values{}, http.StatusUnprocessableEntity)
		orgHas(t, body, `id="e-username"`, "required by Acme")
		// A username someone holds already.
		body = ivy.refused(link, url.Values{"username": {"NIA"}}, http.StatusConflict)
		orgHas(t, body, `id="e-username"`)
		if r := ivy.post(link, url.Values{"username": {"ivy"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("accepting with a username = %d\n%s", r.Status, orgMain(r.Body))
		}
		m, err := e.svc.FindMember(ctx, e.op, "acme", e.actor("ivy@globex.test").Account.ID)
		if err != nil || m.State != account.MemberActive || m.Account.Username != "ivy" {
			t.Errorf("ivy in acme: %s, username %q, %v", m.State, m.Account.Username, err)
		}
	})
}
