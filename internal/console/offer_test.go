package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/ratelimit"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestAddUserInvitationLimit: Add user takes from the invitation rate limit as
// POST …/members does — every addition, whatever send_invite says, given back when
// nobody is invited. An account another organization manages is invited even with
// the box unticked, and so is counted: a third addition without an invitation is
// then refused.
func TestAddUserInvitationLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newOrgEnv(t, db, func(c *limits.Config) { c.InvitesPerAccount = ratelimit.Limit{Every: time.Hour, Burst: 1} })
		ada := e.browser("ada@acme.test")
		add := func(email string, names bool) orgResp {
			t.Helper()
			f := url.Values{"step": {"confirm"}, "email": {email}, "role": {"member"}, "send_invite": {"off"}}
			if names {
				f.Set("first_name", "New")
				f.Set("last_name", "Person")
				f.Set("password", orgPassword)
			}
			return ada.post("/o/acme/users/new", f)
		}
		// Active at once: no email, the allowance is given back.
		if r := add("nia@acme.test", true); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/o/acme/users/") {
			t.Fatalf("adding a new account without an invitation = %d %q\n%s", r.Status, r.Location, orgMain(r.Body))
		}
		// Globex manages gus: invited all the same, which spends the allowance.
		r := add("gus@globex.test", false)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("adding gus without an invitation = %d\n%s", r.Status, orgMain(r.Body))
		}
		orgHas(t, ada.page(r.Location), "An invitation is on its way to gus@globex.test")
		r = add("ned@acme.test", true)
		if r.Status != http.StatusTooManyRequests {
			t.Fatalf("a third addition past the limit = %d, want 429\n%s", r.Status, orgMain(r.Body))
		}
		orgHas(t, r.Body, "too many invitation emails")
		if p, err := e.svc.FindMembers(context.Background(), e.op, "acme", account.MemberQuery{Q: "ned@"}); err != nil || len(p.Items) != 0 {
			t.Errorf("refused by the limit, yet added: %+v, %v", p.Items, err)
		}
	})
}

// TestJoinRequestsOffer: an approval offers what the domain's offer says — a
// reviewer who may invite but not assign seats is offered no seats, and one who may
// not invite is offered no approval (they may still deny); Add user offers the same.
func TestJoinRequestsOffer(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		perms := func(ps ...account.Permission) *[]string {
			s := make([]string, len(ps))
			for i, p := range ps {
				s[i] = string(p)
			}
			return &s
		}
		name := func(s string) *string { return &s }
		inviter, err := e.svc.CreateRole(ctx, e.op, "acme", account.RoleInput{Name: name("Inviter"),
			Permissions: perms(account.PermJoinRequestsReview, account.PermMembersInvite)})
		if err != nil {
			t.Fatal(err)
		}
		reviewer, err := e.svc.CreateRole(ctx, e.op, "acme", account.RoleInput{Name: name("Reviewer"),
			Permissions: perms(account.PermJoinRequestsReview, account.PermMembersRead)})
		if err != nil {
			t.Fatal(err)
		}
		e.addMember(e.op, "acme", "ivo@acme.test", inviter.ID)
		e.addMember(e.op, "acme", "rae@acme.test", reviewer.ID)
		if _, err := e.svc.CreateTeam(ctx, e.op, "acme", "Ops"); err != nil {
			t.Fatal(err)
		}
		orgApps(t, e, 5)
		e.addMember(e.op, "globex", "jo@globex.test", account.RoleMember)
		if _, err := e.svc.RequestToJoin(ctx, e.actor("jo@globex.test"), "acme", ""); err != nil {
			t.Fatal(err)
		}

		body := e.browser("ada@acme.test").page("/o/acme/join-requests")
		orgHas(t, body, `name="team" value="Ops"`, `name="application" value="support"`, `<option value="admin"`)

		body = e.browser("ivo@acme.test").page("/o/acme/join-requests")
		orgHas(t, body, "Approve and send an invitation", `name="team" value="Ops"`, `<option value="member" selected`,
			`>Inviter</option>`)
		orgLacks(t, body, `name="application"`, `<option value="admin"`, `>Reviewer</option>`)

		body = e.browser("rae@acme.test").page("/o/acme/join-requests")
		orgHas(t, body, "jo@globex.test", "Approving needs the members.invite permission", "Deny the request of jo@globex.test")
		orgLacks(t, body, "Approve and send an invitation", `name="team"`)

		// The Add user form offers the inviter the same.
		r := e.browser("ivo@acme.test").post("/o/acme/users/new", url.Values{"step": {"email"}, "email": {"new@acme.test"}})
		if r.Status != http.StatusOK {
			t.Fatalf("the inviter's Add user details = %d\n%s", r.Status, orgMain(r.Body))
		}
		orgHas(t, r.Body, `name="team" value="Ops"`, `>Inviter</option>`)
		orgLacks(t, r.Body, `name="application"`, `<option value="admin"`, `>Reviewer</option>`)
	})
}
