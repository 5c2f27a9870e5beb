package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// The operator registers an application's sign-in client on its console page: the
// secret is shown on that answer only; a new one replaces it.
func TestOperatorSignInClient(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newOpEnv(t, db)
		app, err := e.svc.CreateApplication(bg, e.op, account.ApplicationInput{Key: "studio", Name: "Studio"})
		if err != nil {
			t.Fatal(err)
		}
		op := e.login(opEmail, opPass)
		wantIn(t, op.get("/operator/applications"), "Sign in with Roster", "Not registered")

		bad := op.post("/operator/applications/"+app.ID+"/oidc", url.Values{"redirect_uris": {"http://studio.example.com/cb"}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		wantIn(t, bad, `role="alert"`, "http://studio.example.com/cb")

		made := op.post("/operator/applications/"+app.ID+"/oidc", url.Values{
			"redirect_uris": {"https://studio.example.com/cb\r\nhttps://studio.example.com/cb2"}, "require_seat": {"on"}})
		wantStatus(t, made, http.StatusOK)
		secret := between(made.Body, `<pre class="secret" id="client-secret">`, `</pre>`)
		if !strings.HasPrefix(secret, "rcs_") {
			t.Fatalf("no secret shown:\n%.2000s", made.Body)
		}
		if err := e.svc.AuthenticateOIDCClient(bg, app.ID, secret); err != nil {
			t.Fatalf("the secret shown does not work: %v", err)
		}
		c, err := e.svc.FindOIDCClient(bg, e.op, "studio")
		if err != nil || len(c.RedirectURIs) != 2 || !c.RequireSeat || c.Public {
			t.Fatalf("client: %+v, %v", c, err)
		}
		again := op.get("/operator/applications")
		wantIn(t, again, app.ID, "https://studio.example.com/cb2", "New client secret")
		wantNotIn(t, again, secret)

		// The back-channel logout URI: validated, shown, edited.
		badBCL := op.post("/operator/applications/"+app.ID+"/oidc", url.Values{"redirect_uris": {"https://studio.example.com/cb"},
			"backchannel_logout_uri": {"http://studio.example.com/bcl"}})
		wantStatus(t, badBCL, http.StatusUnprocessableEntity)
		wantIn(t, badBCL, `role="alert"`, `value="http://studio.example.com/bcl"`)
		op.wantRedirect(op.post("/operator/applications/"+app.ID+"/oidc", url.Values{"redirect_uris": {"https://studio.example.com/cb"},
			"backchannel_logout_uri": {"https://studio.example.com/bcl"}}), "/operator/applications")
		wantIn(t, op.get("/operator/applications"), `name="backchannel_logout_uri"`, `value="https://studio.example.com/bcl"`)
		if c, err := e.svc.FindOIDCClient(bg, e.op, "studio"); err != nil || c.BackchannelLogoutURI != "https://studio.example.com/bcl" {
			t.Errorf("client after the console's save: %+v, %v", c, err)
		}

		// Saving again keeps the secret; a rotation shows a new one.
		op.wantRedirect(op.post("/operator/applications/"+app.ID+"/oidc", url.Values{"redirect_uris": {"https://studio.example.com/cb"}}),
			"/operator/applications")
		if err := e.svc.AuthenticateOIDCClient(bg, app.ID, secret); err != nil {
			t.Errorf("saving changed the secret: %v", err)
		}
		rot := op.post("/operator/applications/"+app.ID+"/oidc/rotate-secret", nil)
		wantStatus(t, rot, http.StatusOK)
		if s := between(rot.Body, `<pre class="secret" id="client-secret">`, `</pre>`); s == secret || !strings.HasPrefix(s, "rcs_") {
			t.Errorf("rotation showed %q", s)
		}
		if err := e.svc.AuthenticateOIDCClient(bg, app.ID, secret); err == nil {
			t.Error("the old secret works after a rotation")
		}

		// Nobody else reaches the forms.
		if _, err := e.svc.CreateOrganization(bg, e.op, account.CreateOrganizationInput{Name: "Globex", Kind: account.KindOrganization}); err != nil {
			t.Fatal(err)
		}
		e.addPerson("globex", "owner@globex.test", "owner")
		owner := e.login("owner@globex.test", opPass)
		wantStatus(t, owner.post("/operator/applications/"+app.ID+"/oidc", url.Values{"redirect_uris": {"https://evil.example/cb"}}), http.StatusNotFound)
		wantStatus(t, owner.post("/operator/applications/"+app.ID+"/oidc/rotate-secret", nil), http.StatusNotFound)
	})
}
