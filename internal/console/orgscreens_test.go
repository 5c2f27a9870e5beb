package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/ratelimit"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

func TestOrgRoles(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		adaActor := e.actor("ada@acme.test")
		ada := e.browser("ada@acme.test")

		body := ada.page("/o/acme/roles")
		orgHas(t, body, "Predefined roles", "Owner", "Admin", "Create a custom role",
			`value="members.read"`, `value="organization.manage" disabled`, html.EscapeString(account.PermAuditRead.Description()))
		orgLacks(t, body, `value="members.read" disabled`)

		body = ada.submit("/o/acme/roles", url.Values{"name": {"Helpdesk"},
			"permissions": {"members.read", "members.invite"}, "active": {"on"}}, "/o/acme/roles")
		orgHas(t, body, "Role Helpdesk created.", "Helpdesk", "state-active")
		id := orgRoleID(t, e, adaActor, "Helpdesk")

		// The role ceiling: an admin does not hold organization.manage.
		body = ada.refused("/o/acme/roles", url.Values{"name": {"Boss"}, "permissions": {"organization.manage"}, "active": {"on"}}, http.StatusForbidden)
		orgHas(t, body, "the role has permissions you do not hold", `value="Boss"`, `value="organization.manage" checked`)
		// A validation error is shown on its field.
		body = ada.refused("/o/acme/roles", url.Values{"name": {""}, "permissions": {"members.read"}}, http.StatusUnprocessableEntity)
		orgHas(t, body, `id="e-name"`, "Please correct the fields marked below.")

		// Edit: rename, change the permissions, deactivate.
		body = ada.page("/o/acme/roles/" + id)
		orgHas(t, body, "Edit role Helpdesk", `value="members.invite" checked`, `name="active" checked`, "Delete role")
		body = ada.submit("/o/acme/roles/"+id, url.Values{"name": {"Support desk"}, "permissions": {"members.read", "teams.manage"}}, "/o/acme/roles")
		orgHas(t, body, "Role Support desk saved.", "It is inactive", "state-inactive")
		r, err := e.svc.FindRole(ctx, adaActor, "acme", id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Name != "Support desk" || r.Active || r.Permissions.String() != "members.read,teams.manage" {
			t.Errorf("role = %+v, want Support desk, inactive, members.read and teams.manage", r)
		}
		// Inactive roles cannot be given.
		acc, err := e.svc.FindAccess(ctx, adaActor, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(acc.Grantable, func(g account.Role) bool { return g.ID == id }) {
			t.Error("an inactive role is grantable")
		}
		mel := orgMemberID(t, e, "mel@acme.test")
		if _, err := e.svc.UpdateMember(ctx, adaActor, "acme", mel, account.UpdateMemberInput{Role: &id}); err == nil {
			t.Error("an inactive role was given")
		}
		// The ceiling applies to edits too.
		body = ada.refused("/o/acme/roles/"+id, url.Values{"name": {"Support desk"}, "permissions": {"organization.manage"}}, http.StatusForbidden)
		orgHas(t, body, "permissions you do not hold", "Edit role Support desk")

		// Reactivate, give it to mel: it cannot be deleted while held.
		ada.submit("/o/acme/roles/"+id, url.Values{"name": {"Support desk"}, "permissions": {"members.read"}, "active": {"on"}}, "/o/acme/roles")
		if _, err := e.svc.UpdateMember(ctx, adaActor, "acme", mel, account.UpdateMemberInput{Role: &id}); err != nil {
			t.Fatal(err)
		}
		body = ada.page("/o/acme/roles/" + id + "?confirm=delete")
		orgHas(t, body, "Delete the role Support desk?", "Yes, delete", `action="/o/acme/roles/`+id+`/delete"`)
		body = ada.refused("/o/acme/roles/"+id+"/delete", url.Values{}, http.StatusConflict)
		orgHas(t, body, "members hold role", "give them another role first", "Edit role Support desk")

		member := account.RoleMember
		if _, err := e.svc.UpdateMember(ctx, adaActor, "acme", mel, account.UpdateMemberInput{Role: &member}); err != nil {
			t.Fatal(err)
		}
		body = ada.submit("/o/acme/roles/"+id+"/delete", url.Values{}, "/o/acme/roles")
		orgHas(t, body, "Role deleted.", "has no custom roles yet")
		orgLacks(t, body, "Support desk")

		// Predefined roles have no edit form; an unknown role is not found.
		if r := ada.get("/o/acme/roles/admin"); r.Status != http.StatusNotFound {
			t.Errorf("GET the admin role's form = %d, want 404", r.Status)
		}
		if r := ada.post("/o/acme/roles/nope", url.Values{"name": {"X"}}); r.Status != http.StatusNotFound {
			t.Errorf("POST an unknown role = %d, want 404", r.Status)
		}
	})
}

func TestOrgTeams(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		adaActor := e.actor("ada@acme.test")
		ada := e.browser("ada@acme.test")

		orgHas(t, ada.page("/o/acme/teams"), "Create a team", "No teams yet.")
		body := ada.submit("/o/acme/teams", url.Values{"name": {"Sales"}}, "/o/acme/teams")
		orgHas(t, body, "Team Sales created.", "0 members of Sales")
		body = ada.refused("/o/acme/teams", url.Values{"name": {"sales"}}, http.StatusConflict)
		orgHas(t, body, `role="alert"`, `value="sales"`)

		teams, err := e.svc.FindTeams(ctx, adaActor, "acme")
		if err != nil || len(teams) != 1 {
			t.Fatalf("teams = %v, %v", teams, err)
		}
		id := teams[0].ID
		sales := []string{"Sales"}
		if _, err := e.svc.UpdateMember(ctx, adaActor, "acme", orgMemberID(t, e, "mel@acme.test"), account.UpdateMemberInput{Teams: &sales}); err != nil {
			t.Fatal(err)
		}
		orgHas(t, ada.page("/o/acme/teams"), `href="/o/acme/users?team=Sales"`, "1 member of Sales")

		body = ada.submit("/o/acme/teams/"+id, url.Values{"name": {"Field sales"}}, "/o/acme/teams")
		orgHas(t, body, "Team renamed to Field sales.", `href="/o/acme/users?team=Field+sales"`)
		body = ada.refused("/o/acme/teams/"+id, url.Values{"name": {" "}}, http.StatusUnprocessableEntity)
		orgHas(t, body, `id="e-team-`+id+`"`, `aria-invalid="true"`)

		body = ada.page("/o/acme/teams?confirm=" + id)
		orgHas(t, body, "Delete the team Field sales?", "1 member stays", `action="/o/acme/teams/`+id+`/delete"`)
		body = ada.submit("/o/acme/teams/"+id+"/delete", url.Values{}, "/o/acme/teams")
		orgHas(t, body, "Team deleted", "No teams yet.")
		orgLacks(t, body, "Field sales")
		m, err := e.svc.FindMember(ctx, adaActor, "acme", orgMemberID(t, e, "mel@acme.test"))
		if err != nil || len(m.Teams) != 0 {
			t.Errorf("mel after the deletion = %+v, %v; want a member without teams", m, err)
		}
		if r := ada.post("/o/acme/teams/nope/delete", url.Values{}); r.Status != http.StatusNotFound {
			t.Errorf("deleting an unknown team = %d, want 404", r.Status)
		}
	})
}

func TestOrgInvitations(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		ttl := 1
		if _, err := e.svc.UpdateOrganization(ctx, e.op, "acme", account.UpdateOrganizationInput{InvitationTTLHours: &ttl}); err != nil {
			t.Fatal(err)
		}
		adaActor := e.actor("ada@acme.test")
		orgInvite(t, e, adaActor, "ivy@x.test", "ian@x.test")
		e.clock.Advance(2 * time.Hour)
		orgInvite(t, e, adaActor, "kim@x.test")
		ada := e.browser("ada@acme.test")

		body := ada.page("/o/acme/invitations")
		orgHas(t, body, "kim@x.test", "state-pending", `aria-current="page">pending`, "Member", "Fada Lada")
		orgLacks(t, body, "ivy@x.test", "ian@x.test")
		expired := "/o/acme/invitations?status=expired"
		body = ada.page(expired)
		orgHas(t, body, "ivy@x.test", "ian@x.test", "state-expired", `aria-current="page">expired`)
		orgLacks(t, body, "kim@x.test")

		ivy, ian := orgInvitationID(t, e, adaActor, "expired", "ivy@x.test"), orgInvitationID(t, e, adaActor, "expired", "ian@x.test")
		old := e.invitationToken("ivy@x.test")
		body = ada.submit("/o/acme/invitations/"+ivy+"/resend", url.Values{"back": {expired}}, expired)
		orgHas(t, body, "A new invitation is on its way to ivy@x.test; the old link no longer works.")
		orgLacks(t, body, `id="invitation-`+ivy+`"`)
		if _, err := e.svc.PreviewInvitation(ctx, old); err == nil {
			t.Error("the old link of a resent invitation still works")
		}
		fresh := e.invitationToken("ivy@x.test")
		if fresh == old {
			t.Fatal("the resent invitation has the old token")
		}
		if _, err := e.svc.PreviewInvitation(ctx, fresh); err != nil {
			t.Errorf("the new link: %v", err)
		}
		orgHas(t, ada.page("/o/acme/invitations"), `id="invitation-`+ivy+`"`)

		// Cancelling asks first.
		body = ada.page(expired + "&confirm=" + ian)
		orgHas(t, body, "Cancel the invitation of ian@x.test?", "Yes, cancel the invitation", "Keep it")
		body = ada.submit("/o/acme/invitations/"+ian+"/cancel", url.Values{"back": {expired}}, expired)
		orgHas(t, body, "The invitation of ian@x.test is cancelled")
		orgLacks(t, body, `id="invitation-`+ian+`"`)
		body = ada.page("/o/acme/invitations?status=cancelled")
		orgHas(t, body, `id="invitation-`+ian+`"`, "state-cancelled")
		orgLacks(t, body, `action="/o/acme/invitations/`+ian+`/resend"`)

		// A cancelled invitation is not resent: the domain's 409, shown on the list.
		body = ada.refused("/o/acme/invitations/"+ian+"/resend", url.Values{"back": {"/o/acme/invitations?status=cancelled"}}, http.StatusConflict)
		orgHas(t, body, "only pending or expired invitations are resent", `aria-current="page">cancelled`)
		if r := ada.get("/o/acme/invitations?status=bogus"); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("an unknown status = %d, want 422", r.Status)
		}
	})
}

// TestOrgInvitationLimit: resending and approving take from the API's invitation
// rate limit, so the console is no way around it.
func TestOrgInvitationLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newOrgEnv(t, db, func(d *limits.Config) { d.InvitesPerAccount = ratelimit.Limit{Every: time.Hour, Burst: 1} })
		ctx := context.Background()
		adaActor := e.actor("ada@acme.test")
		orgInvite(t, e, adaActor, "ivy@x.test", "ian@x.test")
		e.addMember(e.op, "globex", "jo@globex.test", account.RoleMember)
		if _, err := e.svc.RequestToJoin(ctx, e.actor("jo@globex.test"), "acme", ""); err != nil {
			t.Fatal(err)
		}
		ada := e.browser("ada@acme.test")
		ivy, ian := orgInvitationID(t, e, adaActor, "pending", "ivy@x.test"), orgInvitationID(t, e, adaActor, "pending", "ian@x.test")
		back := url.Values{"back": {"/o/acme/invitations?status=pending"}}
		ada.submit("/o/acme/invitations/"+ivy+"/resend", back, "/o/acme/invitations?status=pending")
		body := ada.refused("/o/acme/invitations/"+ian+"/resend", back, http.StatusTooManyRequests)
		orgHas(t, body, "too many invitation emails", "ian@x.test")

		reqs, err := e.svc.FindJoinRequests(ctx, adaActor, "acme", account.JoinRequestQuery{})
		if err != nil || len(reqs.Items) != 1 {
			t.Fatalf("join requests = %+v, %v", reqs, err)
		}
		body = ada.refused("/o/acme/join-requests/"+reqs.Items[0].ID+"/approve", url.Values{"role": {"member"}}, http.StatusTooManyRequests)
		orgHas(t, body, "too many invitation emails", `<details class="approve" open>`)
		if r, err := e.svc.FindJoinRequests(ctx, adaActor, "acme", account.JoinRequestQuery{Status: "pending"}); err != nil || len(r.Items) != 1 {
			t.Errorf("the request after a refused approval: %+v, %v; want it pending", r, err)
		}
	})
}

func TestOrgInvitationsPages(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		adaActor := e.actor("ada@acme.test")
		emails := make([]string, 55)
		for i := range emails {
			emails[i] = "p" + strings.Repeat("x", i%3) + strconv.Itoa(i) + "@x.test"
		}
		orgInvite(t, e, adaActor, emails...)
		ada := e.browser("ada@acme.test")
		body := ada.page("/o/acme/invitations")
		orgHas(t, body, "55 pending invitations", `rel="next"`)
		body = ada.page(orgNextLink(t, body))
		orgHas(t, body, "First page")
		orgLacks(t, body, `rel="next"`)
		if n := strings.Count(body, `<tr id="invitation-`); n != 5 {
			t.Errorf("the second page has %d rows, want 5", n)
		}
	})
}

func TestOrgJoinRequests(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		adaActor := e.actor("ada@acme.test")
		for _, who := range []struct{ email, msg string }{{"jo@globex.test", "Please let me in"}, {"jay@globex.test", "Me too"}} {
			e.addMember(e.op, "globex", who.email, account.RoleMember)
			if _, err := e.svc.RequestToJoin(ctx, e.actor(who.email), "acme", who.msg); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.svc.CreateTeam(ctx, adaActor, "acme", "Ops"); err != nil {
			t.Fatal(err)
		}
		ada := e.browser("ada@acme.test")
		// The email to the reviewers links to the screen.
		var link string
		msgs, err := e.db.FindEmails(ctx, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.To == "ada@acme.test" {
				if i := strings.Index(m.Text, orgMailBase+"/"); i >= 0 {
					link = strings.Fields(m.Text[i+len(orgMailBase):])[0]
				}
			}
		}
		if link != "/o/acme/join-requests" {
			t.Errorf("the email links to %q, want the Join requests screen", link)
		}
		body := ada.page("/o/acme/join-requests")
		orgHas(t, body, "jo@globex.test", "Please let me in", "jay@globex.test", "Me too",
			`name="team" value="Ops"`, `<option value="member" selected`, `<option value="admin"`)
		orgLacks(t, body, `<option value="owner"`) // above an admin's own permissions

		reqs, err := e.svc.FindJoinRequests(ctx, adaActor, "acme", account.JoinRequestQuery{Status: "pending"})
		if err != nil || len(reqs.Items) != 2 {
			t.Fatalf("join requests = %+v, %v", reqs, err)
		}
		ids := map[string]string{}
		for _, r := range reqs.Items {
			ids[r.Account.Email] = r.ID
		}
		pending := "/o/acme/join-requests?status=pending"
		body = ada.submit("/o/acme/join-requests/"+ids["jo@globex.test"]+"/approve",
			url.Values{"role": {"member"}, "team": {"Ops"}, "back": {pending}}, pending)
		orgHas(t, body, "Approved: jo@globex.test is sent an invitation")
		orgLacks(t, body, "Please let me in")
		orgHas(t, ada.page("/o/acme/invitations"), "jo@globex.test", "state-pending")
		if e.invitationToken("jo@globex.test") == "" {
			t.Error("no invitation email to jo")
		}
		jo, err := e.svc.FindMember(ctx, adaActor, "acme", orgMemberID(t, e, "jo@globex.test"))
		if err != nil || jo.State != account.MemberInvited || !slices.Equal(jo.Teams, []string{"Ops"}) {
			t.Errorf("jo in acme = %+v, %v; want invited, in Ops", jo, err)
		}
		orgHas(t, ada.page("/o/acme/join-requests?status=approved"), "jo@globex.test", "state-approved")
		// A decided request is not decided again: the domain's 409, inline.
		body = ada.refused("/o/acme/join-requests/"+ids["jo@globex.test"]+"/approve", url.Values{"role": {"member"}, "back": {pending}}, http.StatusConflict)
		orgHas(t, body, "the request was approved already")

		// Denying asks first.
		body = ada.page(pending + "&confirm=" + ids["jay@globex.test"])
		orgHas(t, body, "Deny the request of", "jay@globex.test", "Yes, deny")
		body = ada.submit("/o/acme/join-requests/"+ids["jay@globex.test"]+"/deny", url.Values{"back": {pending}}, pending)
		orgHas(t, body, "Denied the request of jay@globex.test", "No pending join requests.")
		orgHas(t, ada.page("/o/acme/join-requests?status=denied"), "jay@globex.test", "state-denied")
		if _, err := e.svc.FindMember(ctx, adaActor, "acme", orgMemberID(t, e, "jay@globex.test")); err == nil {
			t.Error("a denied requester is in acme")
		}
	})
}

func TestOrgAudit(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ada := e.browser("ada@acme.test")
		ada.submit("/o/acme/teams", url.Values{"name": {"Sales"}}, "/o/acme/teams")
		adaActor := e.actor("ada@acme.test")
		teams, err := e.svc.FindTeams(context.Background(), adaActor, "acme")
		if err != nil {
			t.Fatal(err)
		}
		ada.submit("/o/acme/teams/"+teams[0].ID, url.Values{"name": {"Ops"}}, "/o/acme/teams")
		ada.submit("/o/acme/roles", url.Values{"name": {"Helpdesk"}, "permissions": {"members.read"}, "active": {"on"}}, "/o/acme/roles")

		body := ada.page("/o/acme/audit")
		orgHas(t, body, "team.created", "team.renamed", "role.created", "ada@acme.test", "op@roster.test",
			"<dt>name</dt>", `<span class="old">Sales</span>`, `<span class="new">Ops</span>`,
			`<span class="old">—</span>`, `<span class="new">Helpdesk</span>`, `<span class="new">[&#34;members.read&#34;]</span>`)
		// Newest first.
		if strings.Index(body, "role.created") > strings.Index(body, "team.renamed") || strings.Index(body, "team.renamed") > strings.Index(body, "team.created") {
			t.Error("the events are not newest first")
		}

		// Keyset pages of 50.
		for i := range 50 {
			if _, err := e.svc.CreateTeam(context.Background(), adaActor, "acme", "T"+strconv.Itoa(i)); err != nil {
				t.Fatal(err)
			}
		}
		body = ada.page("/o/acme/audit")
		orgHas(t, body, "Older events")
		orgLacks(t, body, "role.created")
		body = ada.page(orgNextLink(t, body))
		orgHas(t, body, "Newest events", "role.created", "team.created")
	})
}

// TestOrgScreensAccess: the screens need their permissions (403 without), and
// another organization's admin does not see them at all (404).
func TestOrgScreensAccess(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		adaActor := e.actor("ada@acme.test")
		team, err := e.svc.CreateTeam(ctx, adaActor, "acme", "Ops")
		if err != nil {
			t.Fatal(err)
		}
		perms := []string{"members.read"}
		name := "Reader"
		role, err := e.svc.CreateRole(ctx, adaActor, "acme", account.RoleInput{Name: &name, Permissions: &perms})
		if err != nil {
			t.Fatal(err)
		}
		gets := []string{"/o/acme/roles", "/o/acme/roles/" + role.ID, "/o/acme/teams", "/o/acme/invitations",
			"/o/acme/join-requests", "/o/acme/audit"}
		posts := []string{"/o/acme/roles", "/o/acme/roles/" + role.ID, "/o/acme/roles/" + role.ID + "/delete",
			"/o/acme/teams", "/o/acme/teams/" + team.ID, "/o/acme/teams/" + team.ID + "/delete",
			"/o/acme/invitations/x/resend", "/o/acme/invitations/x/cancel",
			"/o/acme/join-requests/x/approve", "/o/acme/join-requests/x/deny"}
		form := url.Values{"name": {"Hacked"}, "permissions": {"members.read"}}

		for _, c := range []struct {
			who  string
			want int
		}{{"mel@acme.test", http.StatusForbidden}, {"gus@globex.test", http.StatusNotFound}} {
			b := e.browser(c.who)
			for _, path := range gets {
				if r := b.get(path); r.Status != c.want {
					t.Errorf("%s: GET %s = %d, want %d", c.who, path, r.Status, c.want)
				}
			}
			for _, path := range posts {
				if r := b.post(path, form); r.Status != c.want {
					t.Errorf("%s: POST %s = %d, want %d", c.who, path, r.Status, c.want)
				}
			}
		}
		// Nothing changed.
		if got, err := e.svc.FindRole(ctx, adaActor, "acme", role.ID); err != nil || got.Name != "Reader" {
			t.Errorf("role = %+v, %v", got, err)
		}
		if got, err := e.svc.FindTeams(ctx, adaActor, "acme"); err != nil || len(got) != 1 || got[0].Name != "Ops" {
			t.Errorf("teams = %+v, %v", got, err)
		}

		// Reading roles and teams needs members.read only; changing them needs more.
		e.addMember(adaActor, "acme", "rita@acme.test", role.ID)
		rita := e.browser("rita@acme.test")
		body := rita.page("/o/acme/roles")
		orgHas(t, body, "Reader")
		orgLacks(t, body, "Create a custom role", "/o/acme/roles/"+role.ID)
		body = rita.page("/o/acme/teams")
		orgHas(t, body, "Ops")
		orgLacks(t, body, "Create a team", "Rename")
		if r := rita.post("/o/acme/teams", url.Values{"name": {"Mine"}}); r.Status != http.StatusForbidden {
			t.Errorf("a reader creating a team = %d, want 403", r.Status)
		}

		// Without a session the screens send to the login page.
		anon := &orgBrowser{t: t, e: e, client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		if r := anon.get("/o/acme/audit"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login?next=") {
			t.Errorf("anonymous GET = %d to %q, want 303 to the login page", r.Status, r.Location)
		}
	})
}

// orgRoleID finds a custom role of acme by name.
func orgRoleID(t *testing.T, e *orgEnv, actor account.Actor, name string) string {
	t.Helper()
	roles, err := e.svc.FindRoles(context.Background(), actor, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if r.Name == name {
			return r.ID
		}
	}
	t.Fatalf("no role %s in %+v", name, roles)
	return ""
}

// orgMemberID is the account id of email.
func orgMemberID(t *testing.T, e *orgEnv, email string) string {
	t.Helper()
	p, err := e.svc.FindMembers(context.Background(), e.op, "acme", account.MemberQuery{Q: email, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range p.Items {
		if m.Account.Email == email {
			return m.AccountID
		}
	}
	// Not a member of acme: find the account through globex.
	p, err = e.svc.FindMembers(context.Background(), e.op, "globex", account.MemberQuery{Q: email, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range p.Items {
		if m.Account.Email == email {
			return m.AccountID
		}
	}
	t.Fatalf("no account %s", email)
	return ""
}

// orgInvite invites emails to acme as members.
func orgInvite(t *testing.T, e *orgEnv, actor account.Actor, emails ...string) {
	t.Helper()
	res, err := e.svc.Invite(context.Background(), actor, "acme", account.InviteInput{Emails: emails, Role: account.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("invite %s: %v", r.Email, r.Err)
		}
	}
}

// orgInvitationID finds acme's invitation of email in status.
func orgInvitationID(t *testing.T, e *orgEnv, actor account.Actor, status, email string) string {
	t.Helper()
	p, err := e.svc.FindInvitations(context.Background(), actor, "acme", account.InvitationQuery{Status: status, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range p.Items {
		if inv.Email == email {
			return inv.ID
		}
	}
	t.Fatalf("no %s invitation of %s", status, email)
	return ""
}

// orgNextLink is the href of a page's rel="next" link.
func orgNextLink(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, `rel="next"`)
	if i < 0 {
		t.Fatalf("no next page link\n%s", orgMain(body))
	}
	j := strings.LastIndex(body[:i], `href="`) + len(`href="`)
	return strings.ReplaceAll(body[j:j+strings.Index(body[j:], `"`)], "&amp;", "&")
}
