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

// postActionRE finds the action of every form that posts.
var postActionRE = regexp.MustCompile(`<form[^>]*method="post"[^>]*action="([^"]*)"|<form[^>]*action="([^"]*)"[^>]*method="post"`)

// postTargets are the paths the page at pagePath's forms post to, resolved as a
// browser resolves them (dot segments included).
func postTargets(t *testing.T, pagePath, body string) []string {
	t.Helper()
	base, err := url.Parse("http://roster.test" + pagePath)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range postActionRE.FindAllStringSubmatch(body, -1) {
		a := html.UnescapeString(m[1] + m[2])
		ref, err := url.Parse(a)
		if err != nil {
			t.Fatalf("form action %q: %v", a, err)
		}
		out = append(out, base.ResolveReference(ref).EscapedPath())
	}
	return out
}

// linkOf is the token of the newest email to to whose link starts with prefix.
func (e *orgEnv) linkOf(to, prefix string) string {
	e.t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(orgMailBase+prefix) + `([A-Za-z0-9_-]+)`)
	msgs, err := e.db.FindEmails(context.Background(), "", 500)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range msgs { // newest first
		if m.To != to {
			continue
		}
		if match := re.FindStringSubmatch(m.Text); match != nil {
			return match[1]
		}
	}
	e.t.Fatalf("no %s email to %s", prefix, to)
	return ""
}

// anonymous is a console client without a session.
func (e *orgEnv) anonymous() *orgBrowser {
	b := e.browser("ada@acme.test")
	b.post("/logout", url.Values{})
	return b
}

// TestLinkTokensAreData: the pages behind emailed links (and the setup link) take
// only a token of their own kind's exact form; anything else — an escaped path such
// as "..%2Fo%2Facme%2Fdelete", another kind's token, a wrong length or alphabet — is
// the page's 404, and no form of theirs posts anywhere but their own path. Valid
// links still work.
func TestLinkTokensAreData(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		// Real links of every kind.
		anon := e.anonymous()
		anon.post("/signup", url.Values{"email": {"kim@else.test"}, "first_name": {"Kim"}, "last_name": {"Kahn"}, "password": {"kim typed this"}})
		verify := e.linkOf("kim@else.test", "/verify-email/")
		anon.post("/password-reset", url.Values{"email": {"mel@acme.test"}})
		reset := e.linkOf("mel@acme.test", "/password-reset/")
		yes := true
		if _, err := e.svc.AddMember(ctx, e.actor("ada@acme.test"), "acme", account.AddMemberInput{
			Email: "lea@acme.test", FirstName: "Lea", LastName: "Lind", Role: account.RoleMember, SendInvite: &yes}); err != nil {
			t.Fatal(err)
		}
		invite := e.linkOf("lea@acme.test", "/invitations/")
		tokens := map[string]string{"/verify-email/": verify, "/password-reset/": reset, "/invitations/": invite}

		// The operator, signed in, follows crafted links: nothing to click posts
		// elsewhere, and every such path is the page's 404.
		op := e.browser(opEmail)
		for prefix, good := range tokens {
			bad := []string{
				"..%2Fo%2Facme%2Fdelete", "..%2F..%2Fo%2Facme%2Fdelete", "%2E%2E%2Fo%2Facme%2Fdelete",
				"..%5Co%5Cacme%5Cdelete", good[:len(good)-1], good + "A", good[:len(good)-1] + "%21",
				good[:len(good)-1] + "%2F", strings.ToUpper(good[:3]) + good[3:], "xx_" + good[3:],
			}
			for other, tok := range tokens {
				if other != prefix {
					bad = append(bad, tok) // another kind's token
				}
			}
			for _, b := range bad {
				path := prefix + b
				for _, c := range []*orgBrowser{op, anon} {
					r := c.get(path)
					if r.Status != http.StatusNotFound {
						t.Errorf("GET %s = %d, want 404", path, r.Status)
					}
					if got := postTargets(t, path, r.Body); len(got) > 0 && !(len(got) == 1 && got[0] == "/logout") {
						t.Errorf("GET %s has forms posting to %v", path, got)
					}
					r = c.post(path, url.Values{"password": {"a chosen password"}, "password_confirm": {"a chosen password"}, "new_password": {"a chosen password"}})
					if r.Status != http.StatusNotFound {
						t.Errorf("POST %s = %d, want 404", path, r.Status)
					}
				}
			}
			// The organization is still there.
			if _, err := e.svc.FindAccess(ctx, e.op, "acme"); err != nil {
				t.Fatalf("acme after %s: %v", prefix, err)
			}
		}
		for _, b := range []string{"..%2Fo%2Facme%2Fdelete", "setup_AAAA", "setup_" + verify[3:] + "A"} {
			if r := anon.get("/setup/" + b); r.Status != http.StatusNotFound {
				t.Errorf("GET /setup/%s = %d, want 404", b, r.Status)
			}
		}

		// Valid links: each page's forms post to its own path only, and work.
		for prefix, tok := range tokens {
			path := prefix + tok
			r := anon.get(path)
			if r.Status != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200\n%s", path, r.Status, orgMain(r.Body))
			}
			for _, got := range postTargets(t, path, r.Body) {
				if got != path && got != "/logout" {
					t.Errorf("GET %s has a form posting to %s", path, got)
				}
			}
		}
		pw := url.Values{"password": {"kim's own secret"}, "password_confirm": {"kim's own secret"}}
		if r := anon.post("/verify-email/"+verify, pw); r.Status != http.StatusOK || !strings.Contains(r.Body, "Your email is confirmed") {
			t.Errorf("verify = %d\n%s", r.Status, orgMain(r.Body))
		}
		e.ts.actor(t, "kim@else.test", "kim's own secret")
		if r := anon.post("/password-reset/"+reset, url.Values{"new_password": {"mel's new secret"}}); r.Status != http.StatusSeeOther {
			t.Errorf("reset = %d\n%s", r.Status, orgMain(r.Body))
		}
		e.ts.actor(t, "mel@acme.test", "mel's new secret")
		if r := anon.post("/invitations/"+invite, url.Values{"password": {"lea's own secret"}}); r.Status != http.StatusSeeOther {
			t.Errorf("accept = %d\n%s", r.Status, orgMain(r.Body))
		}
		e.ts.actor(t, "lea@acme.test", "lea's own secret")
	})
}

// TestConsoleURLValuesAreData: a value from a query never becomes part of a form's
// action (the member panel's ?confirm=), and next/back parameters stay on this site
// and inside the console's own paths.
func TestConsoleURLValuesAreData(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		mel := e.actor("mel@acme.test").Account.ID
		ada := e.browser("ada@acme.test")
		panel := "/o/acme/users/" + mel
		for _, c := range []string{"..%2F..%2Fdelete", "../../delete", "%2E%2E/%2E%2E/delete", "settings", "deactivate/../../../delete"} {
			path := panel + "?confirm=" + c
			body := ada.page(path)
			for _, got := range postTargets(t, path, body) {
				if !strings.HasPrefix(got, panel+"/") && !strings.HasPrefix(got, "/o/acme/users/") && got != "/logout" {
					t.Errorf("GET %s has a form posting to %s", path, got)
				}
				if strings.HasSuffix(got, "/delete") {
					t.Errorf("GET %s has a form posting to %s", path, got)
				}
			}
		}
		// The two confirmations still show.
		for _, c := range []string{"deactivate", "remove"} {
			path := panel + "?confirm=" + c
			want := panel + "/" + c
			if got := postTargets(t, path, ada.page(path)); !contains(got, want) {
				t.Errorf("GET %s posts to %v, want %s among them", path, got, want)
			}
		}

		// next after login: same-site paths only, no dot segments.
		anon := e.anonymous()
		for next, want := range map[string]string{
			"/o/acme/users": "/o/acme/users", "//evil.test/x": "/", "/\\evil.test": "/", "https://evil.test/": "/",
			"/o/acme/users/../../globex/users": "/", "/o/acme/%2E%2E/x": "/", "/x\\..\\y": "/", "o/acme": "/",
		} {
			r := anon.post("/login", url.Values{"email": {"ada@acme.test"}, "password": {orgPassword}, "next": {next}})
			if r.Status != http.StatusSeeOther || r.Location != want {
				t.Errorf("login with next=%q = %d → %q, want → %q", next, r.Status, r.Location, want)
			}
		}
		// back on the Users screen: its own list (or below it) only.
		for back, want := range map[string]string{
			"/o/acme/users?q=mel":               "/o/acme/users?q=mel",
			"/o/acme/users/" + mel:              "/o/acme/users/" + mel,
			"/o/acme/users/../../globex/users":  "/o/acme/users",
			"/o/acme/users/..%2F..%2Fsettings":  "/o/acme/users",
			"/o/acme/usersettings":              "/o/acme/users",
			"//evil.test/o/acme/users":          "/o/acme/users",
			"/o/acme/users/%2e%2e/%2e%2e/audit": "/o/acme/users",
		} {
			r := ada.post(panel+"/teams", url.Values{"back": {back}})
			if r.Status != http.StatusSeeOther || r.Location != want {
				t.Errorf("back=%q = %d → %q, want → %q", back, r.Status, r.Location, want)
			}
		}
	})
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestMustResetBeforeInvitation: a session that must change its password gets the
// password page first on an invitation's page too, and comes back to it after.
func TestMustResetBeforeInvitation(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		no, yes := false, true
		// Acme sets up Nia's account with a password she must change.
		if _, err := e.svc.AddMember(ctx, e.actor("ada@acme.test"), "acme", account.AddMemberInput{
			Email: "nia@acme.test", FirstName: "Nia", LastName: "N", Role: account.RoleMember,
			SendInvite: &no, Password: orgPassword, ResetPasswordOnFirstLogin: true}); err != nil {
			t.Fatal(err)
		}
		// Globex invites her.
		if _, err := e.svc.AddMember(ctx, e.actor("gus@globex.test"), "globex", account.AddMemberInput{
			Email: "nia@acme.test", Role: account.RoleMember, SendInvite: &yes}); err != nil {
			t.Fatal(err)
		}
		token := e.invitationToken("nia@acme.test")
		path := "/invitations/" + token
		nia := e.browser("nia@acme.test")
		want := "/password?next=" + url.QueryEscape(path)
		if r := nia.get(path); r.Status != http.StatusSeeOther || r.Location != want {
			t.Errorf("GET %s = %d → %q, want 303 → %q", path, r.Status, r.Location, want)
		}
		if r := nia.post(path, url.Values{"password": {"nia's own secret"}}); r.Status != http.StatusSeeOther || r.Location != want {
			t.Errorf("POST %s = %d → %q, want 303 → %q", path, r.Status, r.Location, want)
		}
		m, err := e.svc.FindMembers(ctx, e.op, "globex", account.MemberQuery{Q: "nia@acme.test"})
		if err != nil || len(m.Items) != 1 || m.Items[0].State != account.MemberInvited {
			t.Fatalf("nia in globex: %v %+v", err, m.Items)
		}
		// The password page comes back to the invitation.
		body := nia.page(want)
		orgHas(t, body, `name="next" value="`+html.EscapeString(path)+`"`)
		r := nia.post("/password", url.Values{"current_password": {orgPassword}, "new_password": {"nia's chosen one"}, "next": {path}})
		if r.Status != http.StatusSeeOther || r.Location != path {
			t.Fatalf("change password = %d → %q, want → %q", r.Status, r.Location, path)
		}
		if r := nia.get(path); r.Status != http.StatusOK {
			t.Errorf("GET %s after the change = %d", path, r.Status)
		}
	})
}
