package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"roster.dev/roster/internal/account"
)

// orgRow is the list row of member id on a Users page (empty when not listed).
func orgRow(body, id string) string {
	i := strings.Index(body, `<tr id="row-`+id+`"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(body[i:], `</tr>`)
	if j < 0 {
		return body[i:]
	}
	return body[i : i+j]
}

// The rows of the Users screen: a "…" menu of only what the viewer may do to that
// member, a trash icon leading to the removal's confirmation (nothing removed
// before it), an invitation cancelled from its row, and seat toggles assigning and
// unassigning in one click, a full quota refused on the row.
func TestUserRowActions(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		adaActor := e.actor("ada@acme.test")
		sub := orgApps(t, e, 1)
		mel := orgMemberID(t, e, "mel@acme.test")
		ada := orgMemberID(t, e, "ada@acme.test")
		orgInvite(t, e, adaActor, "ivy@x.test")
		ivy := orgMemberID(t, e, "ivy@x.test")
		role := func(name string, perms ...string) string {
			on := true
			r, err := e.svc.CreateRole(ctx, adaActor, "acme", account.RoleInput{Name: &name, Permissions: &perms, Active: &on})
			if err != nil {
				t.Fatal(err)
			}
			return r.ID
		}
		e.addMember(e.op, "acme", "rob@acme.test", role("Auditor", "members.read"))
		e.addMember(e.op, "acme", "ina@acme.test", role("Inviter", "members.read", "members.invite"))

		// A read-only role has no menu, no trash icon, no seat toggle.
		body := e.browser("rob@acme.test").page("/o/acme/users")
		orgHas(t, body, "Fmel Lmel", "Support Desk")
		orgLacks(t, body, "Actions for", `aria-label="Remove `, "rowmenu", "seat-toggle", "confirm=")
		// An inviter is offered what it may do: resend and cancel an invitation, on
		// the invited row only, and never removal or deactivation.
		body = e.browser("ina@acme.test").page("/o/acme/users")
		row := orgRow(body, ivy)
		orgHas(t, row, `aria-label="Actions for ivy@x.test"`, "Resend invitation", `href="/o/acme/users/`+ivy+`?confirm=cancel-invitation"`)
		orgLacks(t, row, "Remove", "Deactivate")
		orgLacks(t, orgRow(body, mel), "Actions for", "Remove", "seat-toggle")

		// An admin: every action, by state.
		admin := e.browser("ada@acme.test")
		body = admin.page("/o/acme/users")
		row = orgRow(body, mel)
		orgHas(t, row, `aria-label="Actions for Fmel Lmel"`, `href="/o/acme/users/`+mel+`?confirm=deactivate"`,
			`href="/o/acme/users/`+mel+`?confirm=remove"`, `aria-label="Remove Fmel Lmel"`)
		orgLacks(t, row, "Reactivate", "Resend invitation", "Cancel invitation")
		orgHas(t, orgRow(body, ivy), "Resend invitation", "Cancel invitation", `aria-label="Remove ivy@x.test"`)

		// The trash icon asks first: nothing is removed by following it.
		body = admin.page("/o/acme/users/" + mel + "?confirm=remove")
		orgHas(t, body, `role="alertdialog"`, "Remove Fmel Lmel from Acme?", "Yes, remove", `action="/o/acme/users/`+mel+`/remove"`)
		if _, err := e.svc.FindMember(ctx, e.op, "acme", mel); err != nil {
			t.Fatalf("mel is gone before the removal was confirmed: %v", err)
		}

		// Deactivated, the row offers Reactivate, at once and back to the list.
		if _, err := e.svc.DeactivateMember(ctx, adaActor, "acme", mel); err != nil {
			t.Fatal(err)
		}
		row = orgRow(admin.page("/o/acme/users?state=deactivated"), mel)
		orgHas(t, row, "Reactivate", `name="from" value="list"`)
		orgLacks(t, row, "Deactivate")
		body = admin.submit("/o/acme/users/"+mel+"/reactivate", url.Values{"back": {"/o/acme/users?state=deactivated"}, "from": {"list"}},
			"/o/acme/users?state=deactivated")
		orgHas(t, body, "Reactivated.", "0 users match")

		// Resend from the row, as the panel does: at once, back to the list.
		body = admin.submit("/o/acme/users/"+ivy+"/resend", url.Values{"back": {"/o/acme/users?state=invited"}, "from": {"list"}},
			"/o/acme/users?state=invited")
		orgHas(t, body, "A new invitation is on its way", "1 user matches")

		// Cancel an invitation from its row: a confirmation, then the use case.
		body = admin.page("/o/acme/users/" + ivy + "?confirm=cancel-invitation")
		orgHas(t, body, "Cancel the invitation of ivy@x.test?", "Yes, cancel the invitation", `action="/o/acme/users/`+ivy+`/cancel-invitation"`)
		invID := orgInvitationID(t, e, adaActor, string(account.InvitationPending), "ivy@x.test")
		// A read-only viewer's post is refused, and changes nothing.
		e.browser("rob@acme.test").refused("/o/acme/users/"+ivy+"/cancel-invitation", url.Values{"back": {"/o/acme/users"}}, http.StatusForbidden)
		orgInvitationID(t, e, adaActor, string(account.InvitationPending), "ivy@x.test")
		body = admin.submit("/o/acme/users/"+ivy+"/cancel-invitation", url.Values{"back": {"/o/acme/users"}}, "/o/acme/users")
		orgHas(t, body, "The invitation of ivy@x.test is cancelled")
		if orgRow(body, ivy) != "" {
			t.Error("the cancelled invitee is still listed")
		}
		if inv, err := e.svc.FindInvitation(ctx, adaActor, "acme", invID); err != nil || inv.State != account.InvitationCancelled {
			t.Errorf("invitation = %+v, %v; want cancelled", inv, err)
		}
		// Another organization's invitee is not found, from the confirmation on.
		gusActor := e.actor("gus@globex.test")
		if _, err := e.svc.Invite(ctx, gusActor, "globex", account.InviteInput{Emails: []string{"zed@globex.test"}, Role: account.RoleMember}); err != nil {
			t.Fatal(err)
		}
		zed := orgMemberID(t, e, "zed@globex.test")
		if r := admin.get("/o/acme/users/" + zed + "?confirm=cancel-invitation"); r.Status != http.StatusNotFound {
			t.Errorf("GET another organization's invitee's confirmation = %d, want 404", r.Status)
		}
		if r := admin.post("/o/acme/users/"+zed+"/cancel-invitation", url.Values{"back": {"/o/acme/users"}}); r.Status != http.StatusNotFound {
			t.Errorf("POST cancel of another organization's invitee = %d, want 404", r.Status)
		}
		if r := admin.post("/o/acme/users/"+zed+"/assign", url.Values{"back": {"/o/acme/users"}, "from": {"list"}, "subscription": {sub.ID}}); r.Status != http.StatusNotFound {
			t.Errorf("POST assign to another organization's invitee = %d, want 404", r.Status)
		}
		if _, err := e.svc.FindMember(ctx, gusActor, "globex", zed); err != nil {
			t.Errorf("globex's invitee: %v", err)
		}

		// Confirmed, the removal happens and the list comes back.
		body = admin.submit("/o/acme/users/"+mel+"/remove", url.Values{"back": {"/o/acme/users"}}, "/o/acme/users")
		orgHas(t, body, "Removed from Acme")
		if _, err := e.svc.FindMember(ctx, e.op, "acme", mel); err == nil {
			t.Error("mel is still a member after the confirmed removal")
		}

		// Seat toggles: assign in one click, back to the list it came from.
		e.addMember(e.op, "acme", "max@acme.test", account.RoleMember)
		max := orgMemberID(t, e, "max@acme.test")
		body = admin.page("/o/acme/users")
		row = orgRow(body, max)
		orgHas(t, row, `aria-label="Support Desk seat for Fmax Lmax"`, `aria-pressed="false"`, `action="/o/acme/users/`+max+`/assign"`)
		body = admin.submit("/o/acme/users/"+max+"/assign", url.Values{"back": {"/o/acme/users"}, "from": {"list"}, "subscription": {sub.ID}},
			"/o/acme/users")
		orgHas(t, body, "Seat assigned")
		orgHas(t, orgRow(body, max), `aria-pressed="true"`, `action="/o/acme/users/`+max+`/unassign"`)
		// The quota is full: the next one is refused on its row, the problem named.
		body = admin.refused("/o/acme/users/"+ada+"/assign", url.Values{"back": {"/o/acme/users"}, "from": {"list"}, "subscription": {sub.ID}},
			http.StatusConflict)
		orgHas(t, orgRow(body, ada), `class="rowerror"`, "seats of Support Desk are taken")
		orgLacks(t, body, `id="panel"`)
		if m, _ := e.svc.FindMember(ctx, e.op, "acme", ada); len(m.Seats) != 0 {
			t.Errorf("ada holds %v past the quota", m.Seats)
		}
		// In the card's list, the holder's toggle unassigns, back to that list.
		filtered := "/o/acme/users?subscription=" + sub.ID
		body = admin.page(filtered)
		orgHas(t, orgRow(body, max), `aria-pressed="true"`, `name="back" value="`+filtered+`"`)
		body = admin.submit("/o/acme/users/"+max+"/unassign", url.Values{"back": {filtered}, "from": {"list"}, "subscription": {sub.ID}}, filtered)
		orgHas(t, body, "Seat unassigned", "0 users match")
		if m, _ := e.svc.FindMember(ctx, e.op, "acme", max); len(m.Seats) != 0 {
			t.Errorf("max still holds %v", m.Seats)
		}
		// A member cannot assign, from a row or otherwise.
		e.browser("max@acme.test").refused("/o/acme/users/"+max+"/assign",
			url.Values{"back": {"/o/acme/users"}, "from": {"list"}, "subscription": {sub.ID}}, http.StatusForbidden)
	})
}

// An application with an entry and its renewal has one seat toggle on a row: the
// entry the person holds a seat of, pressed, or else the renewal (in force, started
// last) to assign.
func TestSeatToggleOfRenewal(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		adaActor := e.actor("ada@acme.test")
		old := orgApps(t, e, 3)
		mel := orgMemberID(t, e, "mel@acme.test")
		ada := orgMemberID(t, e, "ada@acme.test")
		if _, _, err := e.svc.AssignSeat(ctx, adaActor, "acme", old.ID, mel); err != nil {
			t.Fatal(err)
		}
		seats, now := 3, e.clock.Now()
		_, renewal, err := e.svc.RenewSubscription(ctx, e.op, "acme", old.ID, account.SubscriptionInput{Seats: &seats,
			StartsAt: now.AddDate(0, 0, -1), EndsAt: now.AddDate(2, 0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if m, err := e.svc.FindMember(ctx, adaActor, "acme", mel); err != nil || len(m.Seats) != 2 {
			t.Fatalf("after the renewal mel holds %v, %v; want both entries", m.Seats, err)
		}
		// The renewal carries mel's seat over: mel gives up the renewal's and keeps
		// the old entry's.
		if err := e.svc.UnassignSeat(ctx, adaActor, "acme", renewal.ID, mel); err != nil {
			t.Fatal(err)
		}
		body := e.browser("ada@acme.test").page("/o/acme/users")
		row := orgRow(body, mel)
		if n := strings.Count(row, "seat-toggle"); n != 1 {
			t.Errorf("mel's row has %d seat toggles, want 1", n)
		}
		orgHas(t, row, `aria-pressed="true"`, `action="/o/acme/users/`+mel+`/unassign"`, `value="`+old.ID+`"`)
		row = orgRow(body, ada)
		orgHas(t, row, `aria-pressed="false"`, `action="/o/acme/users/`+ada+`/assign"`, `value="`+renewal.ID+`"`)
		// The old entry's card lists mel with that entry's toggle.
		orgHas(t, orgRow(e.browser("ada@acme.test").page("/o/acme/users?subscription="+old.ID), mel), `value="`+old.ID+`"`, `aria-pressed="true"`)
	})
}
