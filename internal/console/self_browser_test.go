package console_test

import (
	"context"
	"testing"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestConsoleMemberLeavesAndCancels walks /me in Chromium as a member of Acme with
// a seat: he asks to join Globex and withdraws the request after the confirmation,
// then leaves Acme after the confirmation (the email confirms it, the admins are
// told, his seat is free again). A partner's admin then reaches Acme from /me by
// its link.
func TestConsoleMemberLeavesAndCancels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newStack(t, db)
		w := seedAcme(t, s)
		ctx := context.Background()
		must[account.Organization](t)(s.svc.CreateOrganization(ctx, s.op, account.CreateOrganizationInput{Name: "Globex", Slug: "globex", Kind: account.KindOrganization}))
		no := false
		must[account.Member](t)(s.svc.AddMember(ctx, s.op, "northwind", account.AddMemberInput{Email: "pam@northwind.test",
			FirstName: "Pam", LastName: "Partner", Role: "admin", SendInvite: &no, Password: pass}))
		b := s.browser(screenshots(db))

		b.login("bob@acme.test", pass)
		b.open("/me")
		b.fill("#f-organization", "globex")
		b.click(`form[action="/me/join-requests"] button`)
		b.see(".flash", "request to join is sent")
		b.see("#join-requests", "Globex")
		b.click(`#join-requests a[aria-label="Cancel the request to join Globex"]`)
		b.see("#cancel-title", "Cancel your request to join Globex?")
		b.click(`#join-requests form button.danger`)
		b.see(".flash", "Your request to join Globex is cancelled")
		b.see("#join-requests", "cancelled")

		b.click(`#organizations a[aria-label="Leave Acme Corp"]`)
		b.see("#leave-title", "Leave Acme Corp?")
		b.click(`#organizations form button.danger`)
		b.see(".flash", "You left Acme Corp")
		b.see("#organizations", "You are not in any organization yet")
		s.mailTo("bob@acme.test", "You left Acme Corp")
		s.mailTo("ada@acme.test", "left Acme Corp")
		_, sub, err := s.svc.FindSubscription(ctx, s.op, "acme", w.studio.ID)
		if err != nil || sub.Assigned != 1 { // Cat's seat; Bob's is free
			t.Errorf("studio after Bob left: %d assigned, %v; want 1", sub.Assigned, err)
		}
		b.logout()

		b.login("pam@northwind.test", pass)
		b.open("/me")
		b.see("#organizations", "Organizations of Northwind Partners")
		b.click(`#organizations a[href="/o/acme/users"]`)
		b.see("h1", "Users")
		b.see("main", "ada@acme.test")
	})
}
