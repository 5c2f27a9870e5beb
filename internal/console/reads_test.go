package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
)

// TestPageTransactions pins how many read transactions the console's pages cost,
// and that showing them writes nothing, so that what a page reads cannot silently
// grow back. A page's frame (the organization switcher, the applications' names,
// the access in the organization) is one read after the session's; the Users
// screen, a member's panel and the Audit log read their content in that same read.
func TestPageTransactions(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		// ada is also in globex, with a custom role she may read there (the switcher
		// names it).
		role, err := e.svc.CreateRole(ctx, e.op, "globex", account.RoleInput{Name: ptr("Auditor"),
			Permissions: &[]string{string(account.PermMembersRead), string(account.PermAuditRead)}})
		if err != nil {
			t.Fatal(err)
		}
		no := false
		if _, err := e.svc.AddMember(ctx, e.op, "globex", account.AddMemberInput{Email: "ada@acme.test",
			Role: role.ID, SendInvite: &no}); err != nil {
			t.Fatal(err)
		}
		meg := e.addMember(e.op, "acme", "meg@acme.test", account.RoleMember)
		e.addMember(e.op, "acme", "max@acme.test", account.RoleMember)

		for _, c := range []struct {
			who, path string
			status    int
			reads     int64
			want      string // on the page
		}{
			{"ada@acme.test", "/", http.StatusSeeOther, 2, ""},
			{"ada@acme.test", "/me", http.StatusOK, 3, "Auditor"}, // and one's own join requests
			{"ada@acme.test", "/o/acme/users", http.StatusOK, 2, "meg@acme.test"},
			{"ada@acme.test", "/o/acme/users?q=meg", http.StatusOK, 2, "1 user matches"},
			{"ada@acme.test", "/o/acme/users/" + meg.AccountID, http.StatusOK, 2, "max@acme.test"},
			{"ada@acme.test", "/o/acme/audit", http.StatusOK, 2, "Fmeg Lmeg &lt;meg@acme.test&gt;"},
			{"ada@acme.test", "/o/acme/settings", http.StatusForbidden, 2, "organization.manage"},
			{"ada@acme.test", "/o/globex/users", http.StatusOK, 2, "gus@globex.test"},
			{opEmail, "/o/acme/users", http.StatusOK, 2, "mel@acme.test"},
			{opEmail, "/o/acme/users/" + meg.AccountID, http.StatusOK, 2, "meg@acme.test"},
			{opEmail, "/o/acme/audit", http.StatusOK, 2, "Fmeg Lmeg &lt;meg@acme.test&gt;"},
			{opEmail, "/o/acme/settings", http.StatusOK, 3, "Delete organization"}, // and the SCIM tokens
			{opEmail, "/o/acme/roles", http.StatusOK, 3, "Predefined roles"},
			{opEmail, "/o/acme/teams", http.StatusOK, 3, ""},
			{opEmail, "/o/acme/invitations", http.StatusOK, 4, ""},
			{opEmail, "/o/acme/join-requests", http.StatusOK, 3, ""},
			{opEmail, "/o/acme/subscriptions", http.StatusOK, 5, ""},
			{opEmail, "/o/acme/import", http.StatusOK, 3, ""},
			{opEmail, "/o/acme/users/new", http.StatusOK, 2, ""},
			{opEmail, "/operator", http.StatusOK, 4, ""},
			{opEmail, "/me", http.StatusOK, 3, ""}, // and one's own join requests
		} {
			b := e.browser(c.who)
			status, body, n := countedGet(t, e, b, c.path)
			if !strings.Contains(body, c.want) {
				t.Errorf("%s: GET %s lacks %q\n%s", c.who, c.path, c.want, orgMain(body))
			}
			if status != c.status {
				t.Errorf("%s: GET %s = %d, want %d", c.who, c.path, status, c.status)
			}
			if n.Reads() != c.reads || n.Writes() != 0 {
				t.Errorf("%s: GET %s ran %d reads and %d writes, want %d and none", c.who, c.path, n.Reads(), n.Writes(), c.reads)
			}
		}
	})
}

// countedGet serves GET path to b's session, counting the transactions it runs.
func countedGet(t *testing.T, e *orgEnv, b *orgBrowser, path string) (int, string, *sqlstore.TxCount) {
	t.Helper()
	ctx, n := sqlstore.CountTransactions(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+path, nil)
	u, err := url.Parse(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range b.client.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	e.ts.handler.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String(), n
}
