package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"roster.dev/roster/internal/account"
)

// emailKinds are the kinds of the outbox's emails to to.
func (e *orgEnv) emailKinds(to string) []string {
	e.t.Helper()
	msgs, err := e.db.FindEmails(context.Background(), "", 500)
	if err != nil {
		e.t.Fatal(err)
	}
	var kinds []string
	for _, m := range msgs {
		if m.To == to {
			kinds = append(kinds, m.Kind)
		}
	}
	return kinds
}

func hasKind(kinds []string, kind string) bool {
	for _, k := range kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// TestMeJoinRequests: a person sees their own join requests on /me and nobody
// else's; cancelling asks first, and only the person's own pending request is ever
// asked about or cancelled (another account's id: 404, and it stays pending); a
// cancelled request leaves the reviewers' pending list and cannot be cancelled again.
func TestMeJoinRequests(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		e.addMember(e.op, "globex", "jo@globex.test", account.RoleMember)
		e.addMember(e.op, "globex", "bo@globex.test", account.RoleMember)
		jo := e.browser("jo@globex.test")
		body := jo.submit("/me/join-requests", url.Values{"organization": {"acme"}, "message": {"Lisbon office"}}, "/me")
		orgHas(t, body, "Your join requests", "Acme", "Lisbon office", "state-pending", "Cancel request")
		bo, err := e.svc.RequestToJoin(ctx, e.actor("bo@globex.test"), "acme", "Bo here")
		if err != nil {
			t.Fatal(err)
		}
		orgLacks(t, jo.page("/me"), "Bo here", bo.ID)
		own, err := e.svc.FindOwnJoinRequests(ctx, e.actor("jo@globex.test"))
		if err != nil || len(own) != 1 {
			t.Fatalf("jo's requests: %+v, %v", own, err)
		}
		mine := own[0].ID

		// ?cancel= is data: another account's request is never asked about.
		orgLacks(t, jo.page("/me?cancel="+url.QueryEscape(bo.ID)), "Yes, cancel the request")
		jo.refused("/me/join-requests/"+bo.ID+"/cancel", url.Values{}, http.StatusNotFound)
		if got, err := e.svc.FindJoinRequests(ctx, e.op, "acme", account.JoinRequestQuery{Status: "pending"}); err != nil || len(got.Items) != 2 {
			t.Fatalf("after the refused cancellation, acme's pending requests: %+v, %v; want both", got.Items, err)
		}

		body = jo.page("/me?cancel=" + url.QueryEscape(mine))
		orgHas(t, body, "Cancel your request to join Acme?", "Yes, cancel the request", `action="/me/join-requests/`+mine+`/cancel"`)
		body = jo.submit("/me/join-requests/"+mine+"/cancel", url.Values{}, "/me")
		orgHas(t, body, "Your request to join Acme is cancelled", "state-cancelled")
		orgLacks(t, body, "Cancel request")
		body = jo.refused("/me/join-requests/"+mine+"/cancel", url.Values{}, http.StatusConflict)
		orgHas(t, body, "the request was cancelled already")

		ada := e.browser("ada@acme.test")
		body = ada.page("/o/acme/join-requests?status=pending")
		orgHas(t, body, "bo@globex.test")
		orgLacks(t, body, "jo@globex.test")
		orgHas(t, ada.page("/o/acme/join-requests?status=cancelled"), "jo@globex.test", "state-cancelled")
	})
}

// TestMeLeaveOrganization: a member leaves from /me after a confirmation: the
// membership ends, the person is emailed a confirmation and acme's admins are told;
// the last active owner is refused with the reason (409) and stays; an organization
// one is not in is not found.
func TestMeLeaveOrganization(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		mel := e.browser("mel@acme.test")
		orgHas(t, mel.page("/me"), `href="/me?leave=acme#organizations"`, "Leave Acme")
		body := mel.page("/me?leave=acme")
		orgHas(t, body, "Leave Acme?", "Yes, leave Acme", `action="/me/memberships/acme/leave"`)
		orgLacks(t, mel.page("/me?leave=globex"), "Yes, leave") // not hers: never asked about

		body = mel.submit("/me/memberships/acme/leave", url.Values{}, "/me")
		orgHas(t, body, "You left Acme", "You are not in any organization yet")
		if _, err := e.svc.FindMember(ctx, e.op, "acme", e.actor("mel@acme.test").Account.ID); account.ErrorCode(err) != account.ENOTFOUND {
			t.Errorf("mel is still in acme (%v)", err)
		}
		if !hasKind(e.emailKinds("mel@acme.test"), account.NoticeLeft) {
			t.Errorf("mel's emails %v lack the confirmation %s", e.emailKinds("mel@acme.test"), account.NoticeLeft)
		}
		if !hasKind(e.emailKinds("ada@acme.test"), account.NoticeMemberLeft) {
			t.Errorf("ada's emails %v lack %s", e.emailKinds("ada@acme.test"), account.NoticeMemberLeft)
		}
		mel.refused("/me/memberships/acme/leave", url.Values{}, http.StatusNotFound)
		e.browser("gus@globex.test").refused("/me/memberships/acme/leave", url.Values{}, http.StatusNotFound)

		e.addMember(e.op, "acme", "owen@acme.test", account.RoleOwner)
		owen := e.browser("owen@acme.test")
		body = owen.refused("/me/memberships/acme/leave", url.Values{}, http.StatusConflict)
		orgHas(t, body, "you are the last active owner of Acme", "Yes, leave Acme")
		if m, err := e.svc.FindMember(ctx, e.op, "acme", e.actor("owen@acme.test").Account.ID); err != nil || m.RoleID != account.RoleOwner {
			t.Errorf("after the refused leave owen is %+v, %v", m.Membership, err)
		}
	})
}

// TestMePartnerOrganizationsLinked: a partner's administrator finds each
// organization under the partner as a link to its Users page, on /me and in the
// switcher; a plain member of the partner does not.
func TestMePartnerOrganizationsLinked(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		if _, err := e.svc.CreateOrganization(ctx, e.op, account.CreateOrganizationInput{Name: "North", Slug: "north", Kind: account.KindPartner}); err != nil {
			t.Fatal(err)
		}
		for _, o := range []struct{ name, slug string }{{"Nova", "nova"}, {"Nimbus", "nimbus"}} {
			if _, err := e.svc.CreateOrganization(ctx, e.op, account.CreateOrganizationInput{Name: o.name, Slug: o.slug,
				Kind: account.KindOrganization, Parent: "north"}); err != nil {
				t.Fatal(err)
			}
		}
		e.addMember(e.op, "north", "pat@north.test", account.RoleAdmin)
		e.addMember(e.op, "north", "pip@north.test", account.RoleMember)
		body := e.browser("pat@north.test").page("/me")
		orgHas(t, body, "Organizations of North", `<a href="/o/nova/users">Nova</a>`, `<a href="/o/nimbus/users">Nimbus</a>`)
		switcher := body[strings.Index(body, `class="switcher"`):strings.Index(body, `<main`)]
		orgHas(t, switcher, `href="/o/nova/users"`, `href="/o/nimbus/users"`, `href="/o/north/organizations"`)
		// The link leads somewhere: the partner's admin reads the organization's users.
		e.browser("pat@north.test").page("/o/nova/users")
		orgLacks(t, e.browser("pip@north.test").page("/me"), "/o/nova/users", "Organizations of North")
	})
}
