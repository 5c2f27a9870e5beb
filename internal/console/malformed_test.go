package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsoleMalformedText: a NUL or invalid UTF-8 in a console form field, a query
// parameter or a path segment is a 422 page naming the field, on both engines, and
// changes nothing; never a 500.
func TestConsoleMalformedText(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ada := e.browser("ada@acme.test")
		for _, bad := range []string{"a\x00b", "a\xffb"} {
			esc := url.QueryEscape(bad)
			cases := []struct {
				name, method, path string
				form               url.Values
				field              string
			}{
				{"login email", "POST", "/login", url.Values{"email": {bad}, "password": {orgPassword}}, "email"},
				{"password reset email", "POST", "/password-reset", url.Values{"email": {bad + "@acme.test"}}, "email"},
				{"users search", "GET", "/o/acme/users?q=" + esc, nil, "q"},
				{"users cursor", "GET", "/o/acme/users?cursor=" + esc, nil, "cursor"},
				{"path id", "GET", "/o/acme/users/" + url.PathEscape(bad), nil, "account"},
				{"path org", "GET", "/o/" + url.PathEscape(bad) + "/users", nil, "org"},
				{"profile", "POST", "/me/profile", url.Values{"first_name": {bad}, "last_name": {"L"}}, "first_name"},
				{"join-request message", "POST", "/me/join-requests", url.Values{"organization": {"globex"}, "message": {bad}}, "message"},
				{"add user", "POST", "/o/acme/users/new", url.Values{"email": {"new" + bad + "@acme.test"}, "role": {"member"}}, "email"},
			}
			for _, c := range cases {
				var r orgResp
				if c.method == "GET" {
					r = ada.get(c.path)
				} else {
					r = ada.post(c.path, c.form)
				}
				if r.Status != http.StatusUnprocessableEntity {
					t.Errorf("%q in %s: %s %s = %d, want 422\n%.600s", bad, c.name, c.method, c.path, r.Status, r.Body)
					continue
				}
				if !strings.Contains(r.Body, c.field+" must") {
					t.Errorf("%q in %s: the page does not name %s\n%.2000s", bad, c.name, c.field, orgMain(r.Body))
				}
			}
		}
		// Nothing changed: ada's name is hers, and globex has no join request.
		if page := ada.page("/me"); strings.Contains(page, "a\ufffdb") {
			t.Errorf("the profile took the malformed name:\n%s", orgMain(page))
		}
		gus := e.browser("gus@globex.test")
		if page := gus.page("/o/globex/join-requests"); strings.Contains(page, "ada@acme.test") {
			t.Errorf("a join request was made:\n%s", orgMain(page))
		}
	})
}
