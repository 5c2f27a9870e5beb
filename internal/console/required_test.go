package console_test

import (
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
