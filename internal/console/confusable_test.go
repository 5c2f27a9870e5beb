package console_test

import (
	"html"
	"net/http"
	"net/url"
	"testing"
)

// TestOrgConfusableNames: on the console too, a team or role name that looks like
// another of the organization's is refused, the form shown again with the reason.
func TestOrgConfusableNames(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ada := e.browser("ada@acme.test")
		ada.submit("/o/acme/teams", url.Values{"name": {"Engineering"}}, "/o/acme/teams")
		body := ada.refused("/o/acme/teams", url.Values{"name": {"Engineer\u0456ng"}}, http.StatusConflict)
		orgHas(t, body, `role="alert"`, html.EscapeString(`looks like the team "Engineering"`), `value="Engineer`+"\u0456"+`ng"`)

		ada.submit("/o/acme/roles", url.Values{"name": {"Helpdesk"}, "permissions": {"members.read"}, "active": {"on"}}, "/o/acme/roles")
		body = ada.refused("/o/acme/roles", url.Values{"name": {"H\u0435lpdesk"}, "permissions": {"members.read"}, "active": {"on"}}, http.StatusConflict)
		orgHas(t, body, `role="alert"`, html.EscapeString(`looks like the role "Helpdesk"`))
		body = ada.refused("/o/acme/roles", url.Values{"name": {"\u0410dmin"}, "permissions": {"members.read"}, "active": {"on"}}, http.StatusUnprocessableEntity)
		orgHas(t, body, `id="e-name"`, "predefined role")
	})
}
