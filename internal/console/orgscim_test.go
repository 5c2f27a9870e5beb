package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"roster.dev/roster/internal/account"
)

var scimTokenRE = regexp.MustCompile(`<pre class="secret" id="scim-token">(rc_[A-Za-z0-9_-]+)</pre>`)

// TestOrgSCIMTokens: an owner issues a SCIM token on the Settings page, sees it
// once, the identity provider's requests with it work until the owner revokes it
// (after a confirmation); an admin without organization.manage is refused, and
// another organization's owner reaches neither the tokens nor their revocation.
func TestOrgSCIMTokens(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		e.addMember(e.op, "acme", "olive@acme.test", account.RoleOwner)
		e.addMember(e.op, "globex", "gina@globex.test", account.RoleOwner)
		olive := e.browser("olive@acme.test")

		page := olive.page("/o/acme/settings")
		orgHas(t, page, "SCIM provisioning", orgMailBase+"/scim/v2/organizations/acme", "No tokens yet.")

		// A description is required: the problem names the field.
		body := olive.refused("/o/acme/settings/scim-tokens", url.Values{"description": {" "}}, http.StatusUnprocessableEntity)
		orgHas(t, body, `id="e-description"`)

		r := olive.post("/o/acme/settings/scim-tokens", url.Values{"description": {"Entra ID"}})
		if r.Status != http.StatusCreated {
			t.Fatalf("issue a token = %d, want 201\n%s", r.Status, r.Body)
		}
		m := scimTokenRE.FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatalf("the new token is not shown:\n%s", orgMain(r.Body))
		}
		token := m[1]
		orgHas(t, r.Body, "New token for Entra ID", "shown only this once")
		if _, err := e.svc.AuthenticateSCIM(ctx, "acme", token, "127.0.0.1"); err != nil {
			t.Fatalf("the issued token does not reach acme's SCIM endpoint: %v", err)
		}
		if _, err := e.svc.AuthenticateSCIM(ctx, "globex", token, "127.0.0.1"); account.ErrorCode(err) != account.EUNAUTHENTICATED {
			t.Fatalf("acme's token at globex's SCIM endpoint: %v, want unauthenticated", err)
		}

		// Shown once: the settings list it by description and prefix, never whole.
		page = olive.page("/o/acme/settings")
		orgHas(t, page, "Entra ID", token[:9]+"…")
		orgLacks(t, page, token, "No tokens yet.")
		tokens, err := e.svc.FindSCIMTokens(ctx, e.op, "acme")
		if err != nil || len(tokens) != 1 {
			t.Fatalf("tokens = %v, %v", tokens, err)
		}
		id := tokens[0].ID

		// Another organization's owner: not its settings, not its tokens, not by way
		// of its own organization either.
		gina := e.browser("gina@globex.test")
		if r := gina.get("/o/acme/settings"); r.Status != http.StatusNotFound {
			t.Fatalf("globex's owner opens acme's settings: %d, want 404", r.Status)
		}
		gina.refused("/o/acme/settings/scim-tokens", url.Values{"description": {"mine now"}}, http.StatusNotFound)
		gina.refused("/o/acme/settings/scim-tokens/"+id+"/revoke", url.Values{}, http.StatusNotFound)
		gina.refused("/o/globex/settings/scim-tokens/"+id+"/revoke", url.Values{}, http.StatusNotFound)
		if r := gina.get("/o/globex/settings?revoke=" + id); r.Status != http.StatusNotFound {
			t.Fatalf("globex's settings confirm the revocation of acme's token: %d, want 404", r.Status)
		}
		// An admin holds no organization.manage.
		ada := e.browser("ada@acme.test")
		if r := ada.get("/o/acme/settings"); r.Status != http.StatusForbidden {
			t.Fatalf("an admin opens the settings: %d, want 403", r.Status)
		}
		ada.refused("/o/acme/settings/scim-tokens", url.Values{"description": {"x"}}, http.StatusForbidden)
		ada.refused("/o/acme/settings/scim-tokens/"+id+"/revoke", url.Values{}, http.StatusForbidden)
		if _, err := e.svc.AuthenticateSCIM(ctx, "acme", token, "127.0.0.1"); err != nil {
			t.Fatalf("the refused revocations revoked the token: %v", err)
		}

		// Revocation asks first, then the token stops working at once.
		page = olive.page("/o/acme/settings?revoke=" + id)
		orgHas(t, page, "Revoke the SCIM token Entra ID?", `action="/o/acme/settings/scim-tokens/`+id+`/revoke"`)
		page = olive.submit("/o/acme/settings/scim-tokens/"+id+"/revoke", url.Values{}, "/o/acme/settings#scim-title")
		orgHas(t, page, "SCIM token revoked", "revoked ")
		if _, err := e.svc.AuthenticateSCIM(ctx, "acme", token, "127.0.0.1"); account.ErrorCode(err) != account.EUNAUTHENTICATED {
			t.Fatalf("a revoked token: %v, want unauthenticated", err)
		}
		if r := olive.get("/o/acme/settings?revoke=" + id); r.Status != http.StatusNotFound {
			t.Fatalf("confirming a revoked token's revocation: %d, want 404", r.Status)
		}
		olive.refused("/o/acme/settings/scim-tokens/"+id+"/revoke", url.Values{}, http.StatusNotFound)

		// The audit log holds both.
		orgHas(t, olive.page("/o/acme/audit"), "SCIM token")
	})
}
