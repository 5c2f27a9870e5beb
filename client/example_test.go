package client_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"

	"roster.dev/roster/client"
	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/app"
	"roster.dev/roster/internal/config"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestExample is the client's example, run against a real server on each engine: an
// operator logs in, creates an organization, adds two people and lists them.
func TestExample(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		server := startServer(t, db, "op@example.test", "correct horse battery")
		ctx := context.Background()

		// Log in: the answer's token is the bearer token of every later call.
		anon, err := client.NewClientWithResponses(server)
		if err != nil {
			t.Fatal(err)
		}
		login, err := anon.LoginWithResponse(ctx, nil, client.LoginJSONRequestBody{
			Email: "op@example.test", Password: "correct horse battery",
		})
		if err != nil {
			t.Fatal(err)
		}
		if login.JSON200 == nil {
			t.Fatalf("login: %d %s", login.StatusCode(), login.Body)
		}
		if !login.JSON200.Account.Operator {
			t.Errorf("login: account %+v is not the operator", login.JSON200.Account)
		}
		c, err := client.NewClientWithResponses(server, client.WithRequestEditorFn(bearer(login.JSON200.Token)))
		if err != nil {
			t.Fatal(err)
		}

		// Create an organization, with an Idempotency-Key: a retry of the same request
		// (after a timeout, say) gets the first answer again and creates nothing.
		slug := "acme"
		key := client.IdempotencyKey("6f1c1d2e-create-acme")
		create := client.CreateOrganizationJSONRequestBody{
			Name: "Acme", Slug: &slug, Kind: client.CreateOrganizationInputBodyKind("organization"),
		}
		org, err := c.CreateOrganizationWithResponse(ctx, &client.CreateOrganizationParams{IdempotencyKey: &key}, create)
		if err != nil {
			t.Fatal(err)
		}
		if org.JSON201 == nil {
			t.Fatalf("create organization: %d %s", org.StatusCode(), org.Body)
		}
		again, err := c.CreateOrganizationWithResponse(ctx, &client.CreateOrganizationParams{IdempotencyKey: &key}, create)
		if err != nil {
			t.Fatal(err)
		}
		if again.JSON201 == nil || again.JSON201.Id != org.JSON201.Id || again.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retried create: %d %s", again.StatusCode(), again.Body)
		}

		// Add two people with passwords of their own (send_invite false), one an
		// administrator.
		for _, p := range []struct{ email, first, role string }{
			{"ada@acme.test", "Ada", "admin"},
			{"bob@acme.test", "Bob", "member"},
		} {
			last, secret, invite := "Lovelace", "a long secret of "+p.first, false
			added, err := c.AddMemberWithResponse(ctx, slug, nil, client.AddMemberJSONRequestBody{
				Email: p.email, FirstName: &p.first, LastName: &last, Role: &p.role,
				Password: &secret, SendInvite: &invite,
			})
			if err != nil {
				t.Fatal(err)
			}
			if added.JSON201 == nil {
				t.Fatalf("add %s: %d %s", p.email, added.StatusCode(), added.Body)
			}
			if added.JSON201.Account.Email != p.email || added.JSON201.State != "active" {
				t.Errorf("add %s: %+v", p.email, *added.JSON201)
			}
		}

		// List them, and a problem as the client sees it.
		list, err := c.ListMembersWithResponse(ctx, slug, &client.ListMembersParams{})
		if err != nil {
			t.Fatal(err)
		}
		if list.JSON200 == nil || list.JSON200.Items == nil {
			t.Fatalf("list members: %d %s", list.StatusCode(), list.Body)
		}
		roles := map[string]string{}
		for _, m := range *list.JSON200.Items {
			roles[m.Account.Email] = m.Role
		}
		if len(roles) != 2 || roles["ada@acme.test"] == "" || roles["bob@acme.test"] == "" {
			t.Errorf("members = %v", roles)
		}
		missing, err := c.ListMembersWithResponse(ctx, "no-such-org", &client.ListMembersParams{})
		if err != nil {
			t.Fatal(err)
		}
		if missing.StatusCode() != http.StatusNotFound || missing.ApplicationproblemJSON404 == nil {
			t.Errorf("unknown organization: %d %s", missing.StatusCode(), missing.Body)
		}
	})
}

// bearer authenticates every request with a session token.
func bearer(token string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

// startServer serves Roster's API on db over loopback, with an operator, and returns
// its base URL (the document's server is the API's root, /api/v1 included in paths).
func startServer(t *testing.T, db *sqlstore.DB, email, secret string) string {
	t.Helper()
	a, err := app.New(context.Background(), app.Options{
		Config: config.Config{BaseURL: "http://roster.test", SignUp: true, CheckCache: account.DefaultCheckCacheEntries},
		DB:     db, Hasher: password.NewHasher(password.TestParams, 2, rand.Reader),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Service.Bootstrap(context.Background(), email, secret); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() {
		srv.Close()
		_ = a.Stop(context.Background())
	})
	return srv.URL
}
