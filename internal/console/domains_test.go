package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"roster.dev/roster/internal/account"
)

// TestDomainsScreen: an administrator adds a domain on the Domains page, sees the
// TXT record to publish, checks it (not there yet, then there), and removes it
// after a confirmation; a public mail domain is refused on the form; a member is
// refused the page, and globex's admin cannot act on acme's domain by either
// organization's address. The owner (here the operator) sets the join policy in
// Settings, and a person of the verified domain is offered to ask to join on /me.
func TestDomainsScreen(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		ada := e.browser("ada@acme.test")
		page := ada.page("/o/acme/settings/domains")
		orgHas(t, page, "Domains of Acme", "No domains yet.", `href="/o/acme/settings/domains"`)
		if r := e.browser("mel@acme.test").get("/o/acme/settings/domains"); r.Status != http.StatusForbidden {
			t.Errorf("a member opening the Domains page = %d, want 403", r.Status)
		}

		refused := ada.refused("/o/acme/settings/domains", url.Values{"domain": {"gmail.com"}}, http.StatusUnprocessableEntity)
		orgHas(t, refused, "public mail provider", `value="gmail.com"`)

		r := ada.post("/o/acme/settings/domains", url.Values{"domain": {"acme.example"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("adding a domain = %d\n%s", r.Status, r.Body)
		}
		ds, err := e.svc.FindDomains(ctx, e.op, "acme")
		if err != nil || len(ds) != 1 {
			t.Fatalf("domains %v, %v", ds, err)
		}
		d := ds[0]
		if r.Location != "/o/acme/settings/domains#domain-"+d.ID {
			t.Errorf("added, redirected to %q", r.Location)
		}
		page = ada.page("/o/acme/settings/domains")
		orgHas(t, page, "acme.example", "_roster-verification.acme.example", d.VerificationValue(), "pending", "not yet", "Check now")
		orgLacks(t, page, "Mark verified") // the operator's only

		verify := "/o/acme/settings/domains/" + d.ID + "/verify"
		page = ada.submit(verify, url.Values{}, "/o/acme/settings/domains#domain-"+d.ID)
		orgHas(t, page, "acme.example is not verified yet: no TXT record found at _roster-verification.acme.example.")
		e.ts.dns.SetTXT(d.VerificationName(), d.VerificationValue())
		page = ada.submit(verify, url.Values{}, "/o/acme/settings/domains#domain-"+d.ID)
		orgHas(t, page, "acme.example is verified.", "state-verified")

		// globex's admin, by acme's address and by globex's own.
		gus := e.browser("gus@globex.test")
		for _, path := range []string{verify, "/o/globex/settings/domains/" + d.ID + "/verify",
			"/o/acme/settings/domains/" + d.ID + "/remove", "/o/globex/settings/domains/" + d.ID + "/remove"} {
			if r := gus.post(path, url.Values{}); r.Status != http.StatusNotFound {
				t.Errorf("POST %s as globex's admin = %d, want 404", path, r.Status)
			}
		}
		if r := gus.get("/o/acme/settings/domains"); r.Status != http.StatusNotFound {
			t.Errorf("acme's Domains page as globex's admin = %d, want 404", r.Status)
		}

		// The join policy, in Settings (organization.manage: the operator here).
		op := e.browser(opEmail)
		page = op.page("/o/acme/settings")
		orgHas(t, page, `name="domain_join_policy"`, `name="domain_join_role"`)
		op.submit("/o/acme/settings", url.Values{"name": {"Acme"}, "slug": {"acme"}, "invitation_ttl_hours": {"168"},
			"ending_soon_days": {"30"}, "domain_join_policy": {"suggest"}, "domain_join_role": {"member"}}, "/o/acme/settings")
		if o, err := e.svc.FindOrganization(ctx, e.op, "acme"); err != nil || o.DomainJoinPolicy != account.JoinPolicySuggest {
			t.Fatalf("after saving the settings: policy %q, %v", o.DomainJoinPolicy, err)
		}
		refused = op.refused("/o/acme/settings", url.Values{"name": {"Acme"}, "slug": {"acme"}, "invitation_ttl_hours": {"168"},
			"ending_soon_days": {"30"}, "domain_join_policy": {"sometimes"}}, http.StatusUnprocessableEntity)
		orgHas(t, refused, `aria-describedby="e-domain_join_policy"`)
		// manage_domain_accounts: the checkbox turns it on, shows it checked, and off.
		orgLacks(t, op.page("/o/acme/settings"), `name="manage_domain_accounts" checked`)
		op.submit("/o/acme/settings", url.Values{"name": {"Acme"}, "slug": {"acme"}, "invitation_ttl_hours": {"168"},
			"ending_soon_days": {"30"}, "manage_domain_accounts": {"on"}}, "/o/acme/settings")
		if o, err := e.svc.FindOrganization(ctx, e.op, "acme"); err != nil || !o.ManageDomainAccounts {
			t.Fatalf("after checking manage_domain_accounts: %v, %v", o.ManageDomainAccounts, err)
		}
		orgHas(t, op.page("/o/acme/settings"), `name="manage_domain_accounts" checked`, "Manage the accounts at these domains")
		op.submit("/o/acme/settings", url.Values{"name": {"Acme"}, "slug": {"acme"}, "invitation_ttl_hours": {"168"},
			"ending_soon_days": {"30"}}, "/o/acme/settings")
		if o, err := e.svc.FindOrganization(ctx, e.op, "acme"); err != nil || o.ManageDomainAccounts {
			t.Fatalf("after unchecking manage_domain_accounts: %v, %v", o.ManageDomainAccounts, err)
		}

		// A person of the domain, their address proven, is offered acme on /me.
		e.addMember(e.op, "globex", "ann@acme.example", account.RoleMember)
		if err := e.db.Write(ctx, func(tx account.Tx) error {
			a, err := tx.AccountByEmail(ctx, "ann@acme.example")
			if err != nil {
				return err
			}
			a.ManagedBy, a.EmailVerified = "", true
			return tx.UpdateAccount(ctx, a)
		}); err != nil {
			t.Fatal(err)
		}
		ann := e.browser("ann@acme.example")
		orgHas(t, ann.page("/me"), "Organizations of your email", "Ask to join Acme", `name="organization" value="acme"`)
		ann.submit("/me/join-requests", url.Values{"organization": {"acme"}}, "/me")
		orgLacks(t, e.browser("gus@globex.test").page("/me"), "Organizations of your email")

		// Sign-up: once the address is proven, its confirmation says what the verified
		// domain offers (suggest: ask to join; auto: joined), and nothing for another
		// domain.
		signUp := func(email string) string {
			anon := e.anonymous()
			anon.post("/signup", url.Values{"email": {email}, "first_name": {"New"}, "last_name": {"Comer"}})
			pw := url.Values{"password": {"a good password"}, "password_confirm": {"a good password"}}
			r := anon.post("/verify-email/"+e.linkOf(email, "/verify-email/"), pw)
			if r.Status != http.StatusOK || !strings.Contains(r.Body, "Your email is confirmed") {
				t.Fatalf("confirming the sign-up of %s = %d\n%s", email, r.Status, r.Body)
			}
			return r.Body
		}
		confirmed := signUp("sue@acme.example")
		orgHas(t, confirmed, "Join Acme?", "Log in to ask to join", `href="/login?next=%2Fme"`)
		orgLacks(t, confirmed, "You are a member of")
		orgLacks(t, signUp("kim@else.test"), "Join ", "You are a member of")
		op.submit("/o/acme/settings", url.Values{"name": {"Acme"}, "slug": {"acme"}, "invitation_ttl_hours": {"168"},
			"ending_soon_days": {"30"}, "domain_join_policy": {"auto"}, "domain_join_role": {"member"}}, "/o/acme/settings")
		confirmed = signUp("sam@acme.example")
		orgHas(t, confirmed, "You are a member of Acme")
		orgLacks(t, confirmed, "Join Acme?")

		// Removed after the confirmation.
		page = ada.page("/o/acme/settings/domains?remove=" + d.ID)
		orgHas(t, page, "Remove acme.example?")
		page = ada.submit("/o/acme/settings/domains/"+d.ID+"/remove", url.Values{}, "/o/acme/settings/domains")
		orgHas(t, page, "No domains yet.", "Domain removed")
		orgLacks(t, ann.page("/me"), "Organizations of your email")
	})
}
