package console_test

import (
	"context"
	"testing"

	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestConsoleDomains walks the Domains page in Chromium as Acme's admin: she adds
// acme.example, sees the TXT record to publish, checks it before it is published
// (not verified yet, and why), publishes it on the test's DNS server, checks again
// (verified, and she is emailed), then removes it after the confirmation.
func TestConsoleDomains(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newStack(t, db)
		seedAcme(t, s)
		b := s.browser(screenshots(db))

		b.login("ada@acme.test", pass)
		b.open("/o/acme/settings/domains")
		b.see("#domains", "No domains yet.")
		b.fill("#f-domain", "acme.example")
		b.click(`form[action="/o/acme/settings/domains"] button`)
		b.see(".flash", "acme.example added")
		b.see("#domains", "_roster-verification.acme.example")
		ds, err := s.svc.FindDomains(context.Background(), s.op, "acme")
		if err != nil || len(ds) != 1 {
			t.Fatalf("domains %v, %v", ds, err)
		}
		b.see("#domains", ds[0].VerificationValue())

		b.click(`#domains button[aria-label="Check now: acme.example"]`)
		b.see(".flash", "not verified yet: no TXT record found")
		s.dns.SetTXT(ds[0].VerificationName(), ds[0].VerificationValue())
		b.click(`#domains button[aria-label="Check now: acme.example"]`)
		b.see(".flash", "acme.example is verified.")
		b.see("#domains", "verified")
		s.mailTo("ada@acme.test", "acme.example is verified for Acme Corp")

		b.click(`#domains a[aria-label="Remove acme.example"]`)
		b.see("#remove-title", "Remove acme.example?")
		b.click(`form[action$="/remove"] button.danger`)
		b.see(".flash", "Domain removed")
		b.see("#domains", "No domains yet.")
		if ds, err := s.svc.FindDomains(context.Background(), s.op, "acme"); err != nil || len(ds) != 0 {
			t.Errorf("after the removal: %v, %v", ds, err)
		}
	})
}
