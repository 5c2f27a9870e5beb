package console_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/xuri/excelize/v2"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
	"roster.dev/roster/internal/testtime"
)

// screenshots is the folder the README shows the console from, which the SQLite
// run of the browser tests rewrites when asked to.
func screenshots(db *sqlstore.DB) string {
	// Only on request, so that a plain test run leaves the tree as it was:
	// ROSTER_SCREENSHOTS=1 go test ./internal/console rewrites README's pictures.
	if db.Engine() != sqlstore.SQLite || os.Getenv("ROSTER_SCREENSHOTS") == "" {
		return ""
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "docs", "screenshots")
}

// acme is the world of the browser tests: a partner, its organization Acme with two
// applications (one subscription ending soon, one starting soon), an admin (Ada),
// an owner (Olive), a team and two members with seats.
type acme struct {
	s               *stack
	studio, support account.Subscription
	ada, olive      account.Member
	bob, cat        account.Member
	adaActor        account.Actor
}

func seedAcme(t *testing.T, s *stack) *acme {
	t.Helper()
	ctx := context.Background()
	op := s.op
	must[account.Organization](t)(s.svc.CreateOrganization(ctx, op, account.CreateOrganizationInput{Name: "Northwind Partners", Slug: "northwind", Kind: account.KindPartner}))
	must[account.Organization](t)(s.svc.CreateOrganization(ctx, op, account.CreateOrganizationInput{Name: "Acme Corp", Slug: "acme", Kind: account.KindOrganization, Parent: "northwind"}))
	must[account.Application](t)(s.svc.CreateApplication(ctx, op, account.ApplicationInput{Key: "studio", Name: "Studio"}))
	must[account.Application](t)(s.svc.CreateApplication(ctx, op, account.ApplicationInput{Key: "support", Name: "Support Desk"}))
	now := s.clock.Now()
	w := &acme{s: s}
	three, two := 3, 2
	_, w.studio, _ = s.svc.CreateSubscription(ctx, op, "acme", account.SubscriptionInput{Application: "studio", Seats: &three,
		StartsAt: now.AddDate(0, -11, 0), EndsAt: now.AddDate(0, 0, 20)})
	_, w.support, _ = s.svc.CreateSubscription(ctx, op, "acme", account.SubscriptionInput{Application: "support", Seats: &two,
		StartsAt: now.AddDate(0, 0, 10), EndsAt: now.AddDate(1, 0, 10)})
	if w.studio.ID == "" || w.support.ID == "" {
		t.Fatal("subscriptions not created")
	}
	no := false
	add := func(email, first, last, role string, apps ...string) account.Member {
		return must[account.Member](t)(s.svc.AddMember(ctx, op, "acme", account.AddMemberInput{Email: email, FirstName: first,
			LastName: last, Role: role, SendInvite: &no, Password: pass, Applications: apps}))
	}
	w.olive = add("olive@acme.test", "Olive", "Owner", "owner")
	w.ada = add("ada@acme.test", "Ada", "Lovelace", "admin")
	w.adaActor = s.actor("ada@acme.test", pass)
	must[account.Team](t)(s.svc.CreateTeam(ctx, w.adaActor, "acme", "Sales"))
	must[account.Team](t)(s.svc.CreateTeam(ctx, w.adaActor, "acme", "Support"))
	w.bob = add("bob@acme.test", "Bob", "Baker", "member", "studio")
	w.cat = add("cat@acme.test", "Cat", "Cole", "member", "studio")
	sales := []string{"Sales"}
	must[account.Member](t)(s.svc.UpdateMember(ctx, w.adaActor, "acme", w.bob.AccountID, account.UpdateMemberInput{Teams: &sales}))
	return w
}

// TestConsoleUsers walks the Users screen as an organization admin: the header's
// counts, the subscription cards with their badges and filtering, search, the role
// ceiling, inline role and team changes, the side panel's seats (with the quota
// refusal and a seat request), details, deactivation, removal and bulk actions.
func TestConsoleUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newStack(t, db)
		w := seedAcme(t, s)
		b := s.browser(screenshots(db))
		ctx := context.Background()

		b.login("ada@acme.test", pass)
		if loc := b.location(); loc != "/o/acme/users" {
			t.Fatalf("an admin of one organization lands on %s", loc)
		}
		b.see("#total-users", "4")
		b.see("#seats-available", "1") // studio 3 - 2; support has not started
		b.see("#card-"+w.studio.ID, "ending soon")
		b.see("#card-"+w.support.ID, "starting soon")
		b.see("#card-"+w.studio.ID+" .used", "2")
		b.shot("users")

		// A card filters the list to its holders; a second click clears the filter.
		b.click("#card-" + w.studio.ID)
		b.see("#list-count", "2 users match")
		b.see("#users", "Bob Baker")
		b.absent("#row-" + w.ada.AccountID)
		if b.count(`#card-`+w.studio.ID+`[aria-current=true]`) != 1 {
			t.Fatal("the chosen card is not marked pressed")
		}
		b.click("#card-" + w.studio.ID)
		b.see("#list-count", "4 users")

		// Search, as one types.
		// (Enter too: typing alone searches once htmx has settled the page.)
		b.run(settled(), chromedp.SendKeys("#f-q", "cole"+kb.Enter, chromedp.ByQuery))
		b.see("#list-count", "1 user matches")
		b.see("#users", "Cat Cole")
		b.open("/o/acme/users?team=Sales")
		b.see("#list-count", "1 user matches")
		b.see("#users", "Bob Baker")
		b.open("/o/acme/users")

		// The role ceiling: an admin is never offered owner, and cannot touch an owner.
		if n := b.count(`#row-` + w.bob.AccountID + ` select[name=role] option[value=owner]`); n != 0 {
			t.Fatal("an admin is offered the owner role")
		}
		b.choose(`#row-`+w.olive.AccountID+` select[name=role]`, "member")
		b.see("#row-"+w.olive.AccountID+" .rowerror", "permissions you do not hold")
		if m, _ := s.svc.FindMember(ctx, s.op, "acme", w.olive.AccountID); m.RoleID != "owner" {
			t.Fatalf("the owner's role became %s", m.RoleID)
		}

		// Inline role and team changes.
		b.choose(`#row-`+w.cat.AccountID+` select[name=role]`, "admin")
		b.see(".flash", "Role changed")
		b.click(`#row-` + w.cat.AccountID + ` details.inline-teams summary`)
		b.click(`#row-` + w.cat.AccountID + ` input[value=Support]`)
		b.click(`#row-` + w.cat.AccountID + ` .pop button`)
		b.see(".flash", "Teams changed")
		b.see("#row-"+w.cat.AccountID, "Support")
		m := must[account.Member](t)(s.svc.FindMember(ctx, s.op, "acme", w.cat.AccountID))
		if m.RoleID != "admin" || strings.Join(m.Teams, ",") != "Support" {
			t.Fatalf("after the inline changes cat is %s in %v", m.RoleID, m.Teams)
		}
		s.mailTo("cat@acme.test", "is now Admin")

		// The side panel: Licenses. Bob holds studio; Ada takes the last seat.
		b.click(`#row-` + w.ada.AccountID + ` .name a`)
		b.see("#panel-title", "Ada Lovelace")
		b.click(`#panel form[action$="/assign"] button`)
		b.see(".flash", "Seat assigned")
		b.see("#card-"+w.studio.ID+" .used", "3")
		b.shot("user-panel")
		// None left: Olive's panel offers a seat request instead; and a seat taken
		// meanwhile elsewhere is refused with the quota's reason.
		b.click(`#row-` + w.olive.AccountID + ` .name a`)
		b.see("#panel", "No seats left")
		b.click("#panel details.request-seats summary")
		b.fill(`#panel input[name=quantity]`, "5")
		b.fill(`#panel textarea[name=note]`, "Sales team grows")
		b.click(`#panel details.request-seats button`)
		b.see(".flash", "request for more seats is sent")
		reqs := must[account.Page[account.SeatRequest]](t)(s.svc.FindSeatRequests(ctx, s.op, account.SeatRequestQuery{}))
		if len(reqs.Items) != 1 || reqs.Items[0].Quantity != 5 {
			t.Fatalf("seat requests: %+v", reqs.Items)
		}
		if err := s.svc.UnassignSeat(ctx, s.op, "acme", w.studio.ID, w.bob.AccountID); err != nil {
			t.Fatal(err)
		}
		b.open("/o/acme/users/" + w.olive.AccountID)
		b.see("#panel", "Assign")
		if _, _, err := s.svc.AssignSeat(ctx, s.op, "acme", w.studio.ID, w.bob.AccountID); err != nil {
			t.Fatal(err) // meanwhile, elsewhere: the last seat goes
		}
		b.click(`#panel form[action$="/assign"] button`)
		b.see("#panel .alert", "all 3 seats of Studio are taken")

		// Details: edit, and administrator rights.
		b.click(`#row-` + w.bob.AccountID + ` .name a`)
		b.see("#panel-title", "Bob Baker")
		b.fill("#panel #f-phone", "not a phone")
		b.click(`#panel form[action$="/edit"] button`)
		b.see("#panel", "Phone")
		b.see("#panel .field-error", "Phone")
		b.fill("#panel #f-phone", "+44 20 7946 0018")
		b.click(`#panel form[action$="/edit"] button`)
		b.see(".flash", "Details saved")
		b.click(`#panel form.admin-toggle input[name=admin]`)
		b.click(`#panel form.admin-toggle button`)
		b.see(".flash", "Administrator rights updated")
		s.mailTo("bob@acme.test", "is now Admin")

		// Deactivate (confirmed), reactivate, then remove (confirmed).
		b.click(`#panel a[href*="confirm=deactivate"]`)
		b.see("#panel .danger-zone", "Deactivate Bob Baker?")
		b.click(`#panel .danger-zone button`)
		b.see("#panel .badge", "deactivated")
		b.click(`#panel form[action$="/reactivate"] button`)
		b.see("#panel .badge", "active")
		b.click(`#panel a[href*="confirm=remove"]`)
		b.see("#panel .danger-zone", "Remove Bob Baker from Acme Corp?")
		b.click(`#panel .danger-zone button`)
		b.see(".flash", "Removed from Acme Corp")
		b.absent("#row-" + w.bob.AccountID)
		if _, err := s.svc.FindMember(ctx, s.op, "acme", w.bob.AccountID); account.ErrorCode(err) != account.ENOTFOUND {
			t.Fatalf("bob is still a member: %v", err)
		}

		// Bulk: resend an invitation, then remove two people at once (confirmed).
		yes := true
		fay := must[account.Member](t)(s.svc.AddMember(ctx, w.adaActor, "acme", account.AddMemberInput{Email: "fay@acme.test", FirstName: "Fay", LastName: "Field", SendInvite: &yes}))
		first := s.mailTo("fay@acme.test", "invit")
		b.open("/o/acme/users")
		b.click(`#row-` + fay.AccountID + ` input[name=id]`)
		b.click(`#bulk button[value=resend]`)
		b.see("#confirm-title", "Send 1 new invitation?")
		b.click(`button[value=resend-confirmed]`)
		b.see(".flash", "1 user sent a new invitation")
		if _, err := s.svc.PreviewInvitation(ctx, strings.TrimPrefix(s.link(first, "/invitations/"), "/invitations/")); err == nil {
			t.Fatal("the first invitation link still works after a resend")
		}
		b.click(`#row-` + fay.AccountID + ` input[name=id]`)
		b.click(`#row-` + w.cat.AccountID + ` input[name=id]`)
		b.click(`#bulk button[value=remove]`)
		b.see("#confirm-title", "Remove 2 users from Acme Corp?")
		b.click(`button[value=remove-confirmed]`)
		b.see(".flash", "2 users removed")
		b.see("#total-users", "2")

		// The phone layout.
		b.resize(390)
		b.open("/o/acme/users")
		b.shot("users")
		b.open("/o/acme/users/" + w.ada.AccountID)
		b.shot("user-panel")
		b.resize(1280)
	})
}

// TestConsoleAddUser walks Add user: the email first, names only for an unknown
// email, a duplicate refused, the role ceiling, send invite on (an email with a link
// that sets up the account) and off (a password, reset on first login).
func TestConsoleAddUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newStack(t, db)
		w := seedAcme(t, s)
		ctx := context.Background()
		b := s.browser(screenshots(db))
		b.login("ada@acme.test", pass)

		// An existing member is a duplicate.
		b.open("/o/acme/users/new")
		b.fill("#f-email", "BOB@acme.test")
		b.click("main form button.primary")
		b.see("#e-email", "already a member")

		// An unknown email: names are asked for; owner is not offered.
		b.fill("#f-email", "gus@acme.test")
		b.click("main form button.primary")
		b.see("main", "is new to Roster")
		if b.count(`#f-role option[value=owner]`) != 0 {
			t.Fatal("an admin is offered the owner role")
		}
		b.fill("#f-first_name", "Gus")
		b.fill("#f-last_name", "Grant")
		b.fill("#f-phone", "+1 415 555 0100")
		b.click(`input[name=application][value=studio]`)
		b.shot("add-user")
		b.click("main form button.primary")
		// The summary, then Back keeps everything, then the confirmation.
		b.see("#add-summary", "Gus Grant, gus@acme.test")
		b.see("#add-summary", "Studio")
		b.see("#add-summary", "An invitation email goes to gus@acme.test")
		b.see("#wizard-step", "Step 3 of 3")
		b.shot("add-user-confirm")
		b.click(`main form button[name=back]`)
		b.see("#wizard-step", "Step 2 of 3")
		if got := b.value("#f-first_name") + " " + b.value("#f-phone"); got != "Gus +1 415 555 0100" {
			t.Fatalf("Back from the summary shows %q", got)
		}
		if b.count(`input[name=application][value=studio]:checked`) != 1 {
			t.Fatal("Back from the summary lost the seat chosen")
		}
		b.click("main form button.primary")
		b.see("#wizard-step", "Step 3 of 3")
		if n := must[account.Page[account.Member]](t)(s.svc.FindMembers(ctx, s.op, "acme", account.MemberQuery{Q: "gus@"})); len(n.Items) != 0 {
			t.Fatal("gus was added before the confirmation")
		}
		b.click("main form button.primary")
		b.see(".flash", "invitation is on its way to gus@acme.test")
		b.see("#panel .badge", "invited")
		text := s.mailTo("gus@acme.test", "invit")
		link := s.link(text, "/invitations/")

		// Send invite off: a password the admin sets, changed at first login — on a
		// phone, where every screen of the wizard fits the width.
		b.resize(390)
		b.open("/o/acme/users/new")
		b.fill("#f-email", "hal@acme.test")
		b.click("main form button.primary")
		b.fill("#f-first_name", "Hal")
		b.fill("#f-last_name", "Hart")
		b.click(`input[name=send_invite]`)
		b.fill("#f-password", "first password")
		b.click(`input[name=reset_password]`)
		b.fitsWidth()
		b.click("main form button.primary")
		b.see("#add-summary", "No email is sent")
		b.fitsWidth()
		b.shot("add-user-confirm")
		b.click("main form button.primary")
		b.see(".flash", "Hal Hart is added to Acme Corp")
		b.see("#panel .badge", "active")
		b.resize(1280)

		// A known account that is not a member keeps its names.
		_, _ = s.svc.CreateOrganization(ctx, s.op, account.CreateOrganizationInput{Name: "Globex", Slug: "globex", Kind: account.KindOrganization})
		no := false
		must[account.Member](t)(s.svc.AddMember(ctx, s.op, "globex", account.AddMemberInput{Email: "ivy@globex.test", FirstName: "Ivy", LastName: "Ives", SendInvite: &no, Password: pass}))
		b.open("/o/acme/users/new")
		b.fill("#f-email", "ivy@globex.test")
		b.click("main form button.primary")
		b.see("main", "already has a Roster account: they will get an invitation")
		b.absent("#f-first_name")
		b.absent(`input[name=send_invite][type=checkbox]`)
		b.notSee("main", "Ivy") // globex's account: acme sees only the email
		b.click("main form button.primary")
		b.see("#add-summary", "(has a Roster account)")
		b.notSee("main", "Ivy")
		b.click("main form button.primary")
		b.see(".flash", "invitation is on its way to ivy@globex.test")
		b.see("#profile-own", "you see their details once they accept")
		b.absent("#panel #f-first_name")
		b.notSee("#panel", "Ives")
		b.logout()

		// Gus follows the link, sets up the account and is in.
		b.open(link)
		b.see("h1", "Join Acme Corp")
		b.fill("#f-password", pass)
		b.click("main form button.primary")
		b.see(".flash", "Welcome to Acme Corp")
		b.see("main", "Acme Corp")
		m := must[account.Member](t)(s.svc.FindMember(ctx, w.adaActor, "acme", linkAccount(t, s, "gus@acme.test")))
		if m.State != account.MemberActive || len(m.Seats) != 1 {
			t.Fatalf("gus after accepting: %s with %d seats", m.State, len(m.Seats))
		}
		b.logout()
		// The link is single use.
		b.open(link)
		b.see("h1", "already accepted")

		// Hal must choose a new password first.
		b.login("hal@acme.test", "first password")
		if loc := b.location(); !strings.HasPrefix(loc, "/password") {
			t.Fatalf("hal lands on %s, not the password change", loc)
		}
		b.open("/me")
		b.see("h1", "Change your password")
		b.fill("#f-current_password", "first password")
		b.fill("#f-new_password", "hal's own password")
		b.click("main form button.primary")
		b.see(".flash", "password is changed")
	})
}

func linkAccount(t *testing.T, s *stack, email string) string {
	t.Helper()
	p, err := s.svc.FindMembers(context.Background(), s.op, "acme", account.MemberQuery{Q: email})
	if err != nil || len(p.Items) != 1 {
		t.Fatalf("find %s: %v (%d)", email, err, len(p.Items))
	}
	return p.Items[0].AccountID
}

// TestConsoleSelfService: sign-up with the verification email, a password reset
// from its email, and an expired invitation's clear page.
func TestConsoleSelfService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newStack(t, db)
		w := seedAcme(t, s)
		ctx := context.Background()
		b := s.browser(screenshots(db))

		b.open("/login")
		b.shot("login")
		b.click(`a[href="/signup"]`)
		b.see("h1", "Create an account")
		b.fill("#f-email", "kim@example.test")
		b.fill("#f-first_name", "Kim")
		b.fill("#f-last_name", "Kahn")
		b.click("main form button.primary")
		b.see("main", "Check your inbox")
		// The password is chosen on the page the emailed link opens.
		b.open(s.link(s.mailTo("kim@example.test", ""), "/verify-email/"))
		b.fill("#f-password", pass)
		b.fill("#f-password_confirm", pass+"!")
		b.click("main form button.primary")
		b.see(".field-error", "does not match")
		b.fill("#f-password", pass)
		b.fill("#f-password_confirm", pass)
		b.click("main form button.primary")
		b.see("main", "Your email is confirmed")
		b.login("kim@example.test", pass)
		b.see("h1", "Kim Kahn")
		b.logout()

		b.open("/password-reset")
		b.fill("#f-email", "kim@example.test")
		b.click("main form button.primary")
		b.see("main", "is on its way")
		reset := s.link(s.mailTo("kim@example.test", "password"), "/password-reset/")
		b.open(reset)
		b.fill("#f-new_password", "a brand new password")
		b.click("main form button.primary")
		b.see(".flash", "Your password is set")
		b.login("kim@example.test", "a brand new password")
		b.see("h1", "Kim Kahn")
		b.logout()
		b.open(reset)
		b.fill("#f-new_password", "yet another password")
		b.click("main form button.primary")
		b.see(".alert", "no longer valid")

		// An invitation link past its lifetime (7 days by default).
		yes := true
		must[account.Member](t)(s.svc.AddMember(ctx, w.adaActor, "acme", account.AddMemberInput{Email: "lea@acme.test", FirstName: "Lea", LastName: "Lind", SendInvite: &yes}))
		link := s.link(s.mailTo("lea@acme.test", "invit"), "/invitations/")
		s.clock.Advance(7*24*time.Hour + time.Minute)
		b.open(link)
		b.see("h1", "This invitation has expired")
	})
}

// TestConsoleImport: the template download, an upload whose bad rows are reported
// with their spreadsheet row numbers, live progress to the end, and the error
// report downloaded as a workbook.
func TestConsoleImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newStack(t, db)
		w := seedAcme(t, s)
		ctx := context.Background()
		b := s.browser(screenshots(db))
		b.login("ada@acme.test", pass)
		b.open("/o/acme/import")
		before := b.downloads()
		b.click(`a[href="/o/acme/import/template.xlsx"]`)
		tmpl, err := excelize.OpenReader(bytes.NewReader(b.download(before)))
		if err != nil {
			t.Fatalf("the template is not a workbook: %v", err)
		}
		head, _ := tmpl.GetRows(tmpl.GetSheetName(0))
		if len(head) < 1 || !slices.Contains(head[0], "email") {
			t.Fatalf("template header: %v", head)
		}

		f := excelize.NewFile()
		rows := [][]any{
			{"email", "first_name", "last_name", "role", "teams", "applications"},
			{"nia@acme.test", "Nia", "Nash", "member", "Sales", "studio"},
			{"not-an-email", "Bad", "Row", "member", "", ""},
			{"oz@acme.test", "Oz", "Ode", "owner", "", ""},
			{"bob@acme.test", "", "", "member", "Support", ""},
		}
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join(t.TempDir(), "people.xlsx")
		if err := f.SaveAs(path); err != nil {
			t.Fatal(err)
		}
		b.run(chromedp.SetUploadFiles("#f-file", []string{path}, chromedp.ByQuery))
		b.click("main form[enctype] button.primary")
		b.see("#import-state", "Finished")
		b.see("#import-failed", "2")
		b.see("#progress", "is not a valid email address")
		b.see("#progress", "3")
		b.see("#progress", "4")
		b.shot("import")
		before = b.downloads()
		b.click("#error-report")
		report, err := excelize.OpenReader(bytes.NewReader(b.download(before)))
		if err != nil {
			t.Fatalf("the error report is not a workbook: %v", err)
		}
		got, _ := report.GetRows(report.GetSheetName(0))
		if len(got) != 3 || !strings.Contains(strings.Join(got[1], " "), "not-an-email") {
			t.Fatalf("error report rows: %v", got)
		}
		bob := must[account.Member](t)(s.svc.FindMember(ctx, w.adaActor, "acme", w.bob.AccountID))
		if strings.Join(bob.Teams, ",") != "Support" {
			t.Fatalf("bob's teams after the import: %v", bob.Teams)
		}
		if _, err := s.svc.FindMember(ctx, w.adaActor, "acme", linkAccount(t, s, "nia@acme.test")); err != nil {
			t.Fatal(err)
		}

		// An unreadable file is refused before anything is applied.
		bad := filepath.Join(t.TempDir(), "broken.xlsx")
		if err := os.WriteFile(bad, []byte("PK\x03\x04 this is no workbook"), 0o644); err != nil {
			t.Fatal(err)
		}
		b.open("/o/acme/import")
		b.run(chromedp.SetUploadFiles("#f-file", []string{bad}, chromedp.ByQuery))
		b.click("main form[enctype] button.primary")
		b.see(".alert", "")
		b.see("#e-file", "File")
	})
}

// TestConsoleJoinRequest: a registered person asks to join; the admins are told;
// an admin approves, which emails an invitation; the person, whose account globex
// set up, accepts it by choosing a password of their own (claiming the account,
// which ends their other session) and is in.
func TestConsoleJoinRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newStack(t, db)
		w := seedAcme(t, s)
		ctx := context.Background()
		_, _ = s.svc.CreateOrganization(ctx, s.op, account.CreateOrganizationInput{Name: "Globex", Slug: "globex", Kind: account.KindOrganization})
		no := false
		must[account.Member](t)(s.svc.AddMember(ctx, s.op, "globex", account.AddMemberInput{Email: "zed@globex.test", FirstName: "Zed", LastName: "Zane", SendInvite: &no, Password: pass}))
		b := s.browser(screenshots(db))

		b.login("zed@globex.test", pass)
		b.see("h1", "Zed Zane")
		b.fill("#f-organization", "acme")
		b.fill("#f-message", "I run the Lisbon office.")
		b.click(`form[action="/me/join-requests"] button`)
		b.see(".flash", "request to join is sent")
		s.mailTo("ada@acme.test", "join")
		s.mailTo("olive@acme.test", "join")
		b.logout()

		b.login("ada@acme.test", pass)
		b.open("/o/acme/join-requests")
		b.see("main", "I run the Lisbon office.")
		b.shot("join-requests")
		b.click("details.approve summary")
		b.click("details.approve form button.primary")
		b.see(".flash", "")
		invite := s.link(s.mailTo("zed@globex.test", "invit"), "/invitations/")
		b.logout()

		b.login("zed@globex.test", pass)
		b.open(invite)
		b.see("h1", "Join Acme Corp")
		b.see("main", "Choose a password of your own")
		b.fill("#f-password", "zed's very own secret")
		b.click("main form button.primary")
		b.see(".flash", "Welcome to Acme Corp")
		if _, err := s.svc.Login(ctx, "zed@globex.test", pass, "", ""); account.ErrorCode(err) != account.EUNAUTHENTICATED {
			t.Errorf("globex's password after the claim: %v", err)
		}
		// The profile is Zed's own now: he edits it on his account page.
		b.open("/me")
		b.fill("#f-first_name", "Zeddie")
		b.click(`form[action="/me/profile"] button`)
		b.see(".flash", "Your profile is saved")
		b.see("h1", "Zeddie Zane")
		p := must[account.Page[account.Member]](t)(s.svc.FindMembers(ctx, w.adaActor, "acme", account.MemberQuery{Q: "zed@globex.test"}))
		if len(p.Items) != 1 || p.Items[0].State != account.MemberActive {
			t.Fatalf("zed in acme: %+v", p.Items)
		}
	})
}

// TestConsoleRenewal: the operator refuses a quota below the seats in use, renews
// a subscription that ends soon (its seats copied to the new entry, which starts
// soon), and the admin's Users screen shows both entries with their badges.
func TestConsoleRenewal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newStack(t, db)
		w := seedAcme(t, s)
		ctx := context.Background()
		b := s.browser(screenshots(db))
		b.login(opEmail, opPass)
		b.see("main", "Acme Corp")
		b.shot("operator")
		b.open("/o/acme/subscriptions")
		b.see("main", "ending soon")
		id := w.studio.ID
		b.fill("#quota-"+id+"-seats", "1")
		b.click(`form[action$="/` + id + `/quota"] button`)
		b.see("#manage-sub-"+id, "assigned")
		b.see("#manage-sub-"+id+" .alert", "")
		if sub := must[account.Subscription](t)(func() (account.Subscription, error) {
			_, sub, err := s.svc.FindSubscription(ctx, s.op, "acme", id)
			return sub, err
		}()); sub.Seats != 3 {
			t.Fatalf("the quota became %d", sub.Seats)
		}
		b.open("/o/acme/subscriptions")
		b.click(`form[action$="/` + id + `/renew"] button`)
		b.see(".flash", "")
		b.shot("subscriptions")
		b.logout()

		b.login("ada@acme.test", pass)
		if n := b.count(".subcard"); n != 3 {
			t.Fatalf("%d subscription cards after the renewal, want 3", n)
		}
		b.see(".cards", "starting soon")
		_, subs, err := s.svc.FindSubscriptions(ctx, s.op, "acme")
		if err != nil {
			t.Fatal(err)
		}
		for _, sub := range subs {
			if sub.RenewedFrom == id {
				b.see("#card-"+sub.ID+" .used", "2")
				b.see("#card-"+sub.ID, "starting soon")
				b.click("#card-" + sub.ID)
				b.see("#list-count", "2 users match")
				return
			}
		}
		t.Fatal("no renewed subscription")
	})
}

// TestConsolePartnerAddUser: a partner's admin adds a person in PRODUCT.md's three
// steps and a summary — details, organization roles, partner roles — to two
// organizations and the partner in one run, at 1280 and at 390 px; at 390 px one
// organization refuses at confirm (the person joined it meanwhile) without undoing
// the others.
func TestConsolePartnerAddUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newStack(t, db)
		seedAcme(t, s)
		ctx := context.Background()
		no, yes := false, true
		must[account.Member](t)(s.svc.AddMember(ctx, s.op, "northwind", account.AddMemberInput{Email: "pat@northwind.test",
			FirstName: "Pat", LastName: "Partner", Role: "admin", SendInvite: &no, Password: pass}))
		acme := must[account.Organization](t)(s.svc.FindOrganization(ctx, s.op, "acme"))
		hooli := must[account.Organization](t)(s.svc.CreateOrganization(ctx, s.op, account.CreateOrganizationInput{Name: "Hooli", Slug: "hooli", Kind: account.KindOrganization, Parent: "northwind"}))
		b := s.browser(screenshots(db))
		axe := ""
		if !raceEnabled {
			axe = axeIfPresent()
		}
		b.login("pat@northwind.test", pass)
		for i, width := range []int{1280, 390} {
			b.resize(width)
			email := fmt.Sprintf("quinn%d@acme.test", i)
			b.open("/o/northwind/users/new")
			b.see("#wizard-step", "Step 1 of 4")
			b.see("h1", "Add a user to Northwind Partners")
			b.fill("#f-email", email)
			b.fill("#f-first_name", "Quinn")
			b.fill("#f-last_name", "Quill")
			b.fill("#f-phone", "+351 21 000 0000")
			b.fill("#f-username", fmt.Sprintf("quinn%d", i))
			b.fitsWidth()
			b.accessible(axe, "the details step")
			b.shot("partner-add-user")
			b.click("main form button.primary")
			b.see("#wizard-step", "Step 2 of 4")
			b.see("#org-roles", "Acme Corp")
			if b.count(`#org-roles option[value=owner]`) != 0 {
				t.Fatal("a partner admin is offered the owner role in an organization")
			}
			b.click(`input[name=org][value="` + acme.ID + `"]`)
			b.choose("#f-org_role_"+acme.ID, "admin")
			b.click(`input[name=org][value="` + hooli.ID + `"]`)
			b.fitsWidth()
			b.accessible(axe, "the organization roles step")
			b.click("main form button.primary")
			b.see("#wizard-step", "Step 3 of 4")
			b.choose("#f-partner_role", "member")
			b.fitsWidth()
			b.accessible(axe, "the partner roles step")
			b.click("main form button.primary")
			b.see("#add-summary", "Acme Corp")
			b.see("#add-summary", "Hooli")
			b.see("#add-summary", "Northwind Partners")
			b.see("#add-summary", "Quinn Quill, "+email)
			b.fitsWidth()
			b.accessible(axe, "the summary")
			b.shot("partner-add-user-confirm")
			// Back to the organization roles, and on again: nothing lost.
			b.click(`main form button[name=back]`)
			b.see("#wizard-step", "Step 3 of 4")
			b.click(`main form button[name=back]`)
			b.see("#wizard-step", "Step 2 of 4")
			if b.count(`input[name=org]:checked`) != 2 {
				t.Fatal("Back lost the organizations ticked")
			}
			b.click("main form button.primary")
			b.click("main form button.primary")
			b.see("#add-summary", "Hooli")
			if i == 1 { // Hooli refuses at confirm: the others are still added
				must[account.Member](t)(s.svc.AddMember(ctx, s.op, "hooli", account.AddMemberInput{Email: email, FirstName: "Quinn", LastName: "Quill", SendInvite: &yes}))
			}
			b.click("main form button.primary")
			if i == 0 {
				b.see(".flash", "invitation is on its way to "+email)
			} else {
				b.see("#add-results", "not added")
				b.see("#form-error", "is added to Acme Corp and Northwind Partners")
				b.fitsWidth()
				b.accessible(axe, "the results")
			}
			for slug, want := range map[string]string{"acme": "admin", "hooli": "member", "northwind": "member"} {
				m := must[account.Page[account.Member]](t)(s.svc.FindMembers(ctx, s.op, slug, account.MemberQuery{Q: email}))
				if len(m.Items) != 1 || m.Items[0].RoleID != want {
					t.Fatalf("%s in %s: %+v", email, slug, m.Items)
				}
			}
			s.mailTo(email, "invit")
		}
		b.resize(1280)
	})
}

// TestConsoleInviteAndAccess: the operator names an organization's admin; only
// administrators see the management screens; Invite users with a role, a team and
// a seat (per-email results, the quota respected); removing a pending user cancels
// the invitation; custom roles are offered only while active; a 24-hour invitation
// lifetime, and a new link for an expired invitation from the Invitations screen.
func TestConsoleInviteAndAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newStack(t, db)
		w := seedAcme(t, s)
		ctx := context.Background()
		b := s.browser(screenshots(db))

		// The operator designates an admin.
		b.login(opEmail, opPass)
		b.open("/o/acme/users/new")
		b.fill("#f-email", "root@acme.test")
		b.click("main form button.primary")
		b.fill("#f-first_name", "Rita")
		b.fill("#f-last_name", "Root")
		b.choose("#f-role", "admin")
		b.click("main form button.primary")
		b.see("#add-summary", "Admin")
		b.click("main form button.primary")
		b.see(".flash", "invitation is on its way to root@acme.test")
		s.mailTo("root@acme.test", "invited you")
		b.logout()

		// A plain member sees their own page, not the management screens.
		b.login("bob@acme.test", pass)
		if loc := b.location(); loc != "/me" {
			t.Fatalf("a member lands on %s", loc)
		}
		b.see("main", "Acme Corp")
		b.open("/o/acme/users")
		b.see("h1", "Forbidden")
		b.logout()

		// The owner sets a 24-hour invitation lifetime.
		b.login("olive@acme.test", pass)
		b.open("/o/acme/settings")
		b.choose("#f-invitation_ttl_hours", "24")
		b.click(`form[action="/o/acme/settings"] button.primary`)
		b.see(".flash", "")
		if o := must[account.Organization](t)(s.svc.FindOrganization(ctx, s.op, "acme")); o.InvitationTTLHours != 24 {
			t.Fatalf("invitation lifetime: %d", o.InvitationTTLHours)
		}
		b.logout()

		// Invite several at once: one gets the last studio seat, the next finds the
		// quota spent, a member and a malformed address fail on their own.
		b.login("ada@acme.test", pass)
		b.open("/o/acme/invite")
		b.fill("#f-emails", "ann@acme.test, ben@acme.test\nbob@acme.test not-an-email")
		b.click(`input[name=team][value=Sales]`)
		b.click(`input[name=application][value=studio]`)
		b.shot("invite")
		b.click("main form button.primary")
		b.see("main", "1 invitation sent")
		b.see(".results", "ann@acme.test")
		b.see(".results", "seats")
		b.see(".results", "already")
		b.see(".results", "not-an-email")
		ann := s.link(s.mailTo("ann@acme.test", "invited you"), "/invitations/")

		// Removing a pending user cancels the invitation.
		id := linkAccount(t, s, "ann@acme.test")
		b.open("/o/acme/users/" + id + "?confirm=remove")
		b.click(`#panel .danger-zone button`)
		b.see(".flash", "Removed from Acme Corp")
		if _, err := s.svc.PreviewInvitation(ctx, strings.TrimPrefix(ann, "/invitations/")); err == nil {
			t.Fatal("a removed invitee's link still works")
		}

		// Custom roles are offered only while active.
		inactive := false
		name := "Auditor"
		perms := []string{"members.read", "audit.read"}
		role := must[account.Role](t)(s.svc.CreateRole(ctx, w.adaActor, "acme", account.RoleInput{Name: &name, Permissions: &perms, Active: &inactive}))
		b.open("/o/acme/users/new")
		b.fill("#f-email", "cy@acme.test")
		b.click("main form button.primary")
		b.see("main", "is new to Roster")
		if b.count(`#f-role option[value="`+role.ID+`"]`) != 0 {
			t.Fatal("an inactive custom role is offered")
		}
		active := true
		must[account.Role](t)(s.svc.UpdateRole(ctx, w.adaActor, "acme", role.ID, account.RoleInput{Active: &active}))
		b.open("/o/acme/users/new")
		b.fill("#f-email", "cy@acme.test")
		b.click("main form button.primary")
		b.see("main", "is new to Roster")
		if b.count(`#f-role option[value="`+role.ID+`"]`) != 1 {
			t.Fatal("an active custom role is not offered")
		}

		// 24 hours later an invitation sent since the change has expired (one sent
		// before it keeps its 7 days); a new link from the Invitations screen works.
		yes := true
		must[account.Member](t)(s.svc.AddMember(ctx, w.adaActor, "acme", account.AddMemberInput{Email: "dee@acme.test",
			FirstName: "Dee", LastName: "Dunn", Role: "admin", SendInvite: &yes}))
		dee := s.link(s.mailTo("dee@acme.test", "invited you"), "/invitations/")
		s.clock.Advance(24*time.Hour + time.Minute)
		b.open(dee)
		b.see("h1", "This invitation has expired")
		b.open(s.link(s.mailTo("root@acme.test", "invited you"), "/invitations/"))
		b.see("h1", "Join Acme Corp")
		b.login("ada@acme.test", pass) // her session too is over 12 hours old
		b.open("/o/acme/invitations?status=expired")
		b.see("main", "dee@acme.test")
		b.shot("invitations")
		b.click(`form[action$="/resend"] button`)
		b.see(".flash", "new invitation is on its way to dee@acme.test")
		var fresh string
		testtime.WaitFor(t, 10*time.Second, "a new invitation link emailed to dee@acme.test", func() bool {
			fresh = s.link(s.mailTo("dee@acme.test", "invited you"), "/invitations/")
			return fresh != dee
		})
		b.logout()
		b.open(fresh)
		b.see("h1", "Join Acme Corp")
		b.fill("#f-password", pass)
		b.click("main form button.primary")
		b.see(".flash", "Welcome to Acme Corp")
		if loc := b.location(); loc != "/o/acme/users" {
			t.Fatalf("the new admin lands on %s", loc)
		}

		// The other screens of an organization, at both widths.
		for _, width := range []int{1280, 390} {
			b.resize(width)
			for _, screen := range []string{"roles", "teams", "invitations", "join-requests", "import", "audit"} {
				b.open("/o/acme/" + screen)
				b.see("h1", "")
				b.shot(screen)
			}
		}
		b.resize(1280)

	})
}

// TestConsoleAcceptRequiredFields: in an organization that requires a phone and a
// username, the invitation's page asks a new person for both beside the names and
// the password, at 1280 and 390 px; a refusal marks each field at once and keeps
// what was typed; given, the person joins.
func TestConsoleAcceptRequiredFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newStack(t, db)
		w := seedAcme(t, s)
		ctx := context.Background()
		both := []string{account.ProfilePhone, account.ProfileUsername}
		must[account.Organization](t)(s.svc.UpdateOrganization(ctx, s.op, "acme", account.UpdateOrganizationInput{RequiredProfileFields: &both}))
		axe := ""
		if !raceEnabled {
			axe = axeIfPresent()
		}
		b := s.browser(screenshots(db))
		yes := true
		for i, width := range []int{1280, 390} {
			b.resize(width)
			email := fmt.Sprintf("nia%d@acme.test", i)
			must[account.Member](t)(s.svc.AddMember(ctx, w.adaActor, "acme", account.AddMemberInput{Email: email, SendInvite: &yes}))
			b.open(s.link(s.mailTo(email, "invit"), "/invitations/"))
			b.see("main", "Acme Corp asks every member for a phone number and a username")
			b.fill("#f-first_name", "Nia")
			b.fill("#f-last_name", "Noor")
			b.fill("#f-password", pass)
			b.fill("#f-username", fmt.Sprintf("nia%d", i))
			// Past the browser's own check of the required field, as a script may.
			b.run(chromedp.Evaluate(`document.querySelectorAll("main form [required]").forEach(e => e.removeAttribute("required"))`, nil))
			b.click("main form button.primary")
			b.see("#e-phone", "required by Acme Corp")
			if got := b.value("#f-username"); got != fmt.Sprintf("nia%d", i) {
				t.Errorf("the refusal lost the username typed: %q", got)
			}
			b.fitsWidth()
			b.accessible(axe, "the invitation page with its errors")
			b.shot("accept-required")
			b.fill("#f-password", pass)
			b.fill("#f-phone", "+44 20 7946 0000")
			b.click("main form button.primary")
			b.see(".flash", "Welcome to Acme Corp")
			a := s.actor(email, pass)
			if a.Account.Phone != "+442079460000" || a.Account.Username != fmt.Sprintf("nia%d", i) {
				t.Errorf("%s's profile: phone %q, username %q", email, a.Account.Phone, a.Account.Username)
			}
			b.logout()
		}
		b.resize(1280)
	})
}
