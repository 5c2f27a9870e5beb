package httpapi_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/ratelimit"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

var linkRE = regexp.MustCompile(`http://roster\.test/(invitations|password-reset|verify-email)/([A-Za-z0-9_-]+)`)

// link returns the token of the newest email of kind to the address, checking that
// its link has API.md's shape, in both the text and the HTML part.
func (e *env) link(kind, to string) string {
	e.t.Helper()
	msgs, err := e.db.FindEmails(context.Background(), "", 500)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range msgs { // newest first
		if m.Kind != kind || m.To != to {
			continue
		}
		match := linkRE.FindStringSubmatch(m.Text)
		if match == nil {
			e.t.Fatalf("the %s email to %s has no link:\n%s", kind, to, m.Text)
		}
		if !strings.Contains(m.HTML, `href="`+match[0]+`"`) {
			e.t.Errorf("the HTML part of the %s email lacks the link %s", kind, match[0])
		}
		return match[2]
	}
	e.t.Fatalf("no %s email to %s; outbox: %v", kind, to, e.outbox())
	return ""
}

// count returns how many emails of kind went to the address.
func (e *env) count(kind, to string) int {
	n := 0
	for _, m := range e.outbox() {
		if m == kind+" "+to {
			n++
		}
	}
	return n
}

// TestInvitationFlow: an admin invites a new person with a seat; the seat is reserved
// at once; the email's link previews and accepts the invitation once; the new
// account logs in.
func TestInvitationFlow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		e.subscribe("acme", "studio", 2, 365*24*time.Hour)
		e.member(e.op, "acme", "ada@acme.test", "admin")
		ada := e.login("ada@acme.test", pw)

		m := e.must(201, ada, "POST", "/api/v1/organizations/acme/members", map[string]any{
			"email": "Carol@Acme.test", "first_name": "Carol", "last_name": "Shaw", "role": "member",
			"applications": []string{"studio"}, "send_invite": true})
		if m["state"] != "invited" || len(seatApps(m)) != 1 {
			t.Fatalf("invited member = %v", m)
		}
		inv := m["invitation"].(map[string]any)
		exp, _ := time.Parse(time.RFC3339, inv["expires_at"].(string))
		if inv["state"] != "pending" || exp.Sub(e.clock.Now()) < 167*time.Hour || exp.Sub(e.clock.Now()) > 168*time.Hour {
			t.Errorf("invitation = %v, want pending for 7 days", inv)
		}
		sum := e.must(200, ada, "GET", "/api/v1/organizations/acme/summary", nil)
		if s := sum["subscriptions"].([]any)[0].(map[string]any); s["assigned"] != 1.0 || s["available"] != 1.0 {
			t.Errorf("the invitee's seat is not reserved: %v", s)
		}
		if got := e.outbox(); !slices.Equal(got, []string{"invitation Carol@Acme.test"}) {
			t.Fatalf("outbox = %v, want one invitation (no separate seat email)", got)
		}
		token := e.link("invitation", "Carol@Acme.test")
		if !strings.HasPrefix(token, "ri_") || len(token) < 40 {
			t.Errorf("token %q is not a 32-byte URL-safe secret", token)
		}
		// The token is nowhere but in the email: not in answers, not in the audit trail.
		audit := e.call(e.op, "GET", "/api/v1/organizations/acme/audit", nil).Raw
		list := e.call(ada, "GET", "/api/v1/organizations/acme/invitations", nil).Raw
		if strings.Contains(audit+list, token) || strings.Contains(e.logs.String(), token) {
			t.Error("the invitation token leaked into an answer, the audit trail or the log")
		}

		p := e.must(200, "", "GET", "/api/v1/invitations/"+token, nil)
		if p["organization"].(map[string]any)["name"] != "Acme" || p["email"] != "Carol@Acme.test" ||
			p["account_exists"] != false || p["inviter"] != "Fad Lad" {
			t.Errorf("preview = %v", p)
		}
		problem(t, e.call("", "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{"password": "short"}), 422, "validation", "password")
		acc := e.must(200, "", "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{
			"first_name": "Caroline", "last_name": "Shaw", "password": pw})
		if acc["account"].(map[string]any)["state"] != "active" || acc["membership"].(map[string]any)["state"] != "active" ||
			acc["account"].(map[string]any)["first_name"] != "Caroline" {
			t.Errorf("accept = %v", acc)
		}
		// Single use.
		problem(t, e.call("", "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{"first_name": "X", "last_name": "Y", "password": pw}), 410, "token-expired")
		problem(t, e.call("", "GET", "/api/v1/invitations/"+token, nil), 410, "token-expired")
		problem(t, e.call("", "GET", "/api/v1/invitations/ri_nope", nil), 404, "not-found")

		carol := e.login("carol@acme.test", pw)
		me := e.must(200, carol, "GET", "/api/v1/me", nil)
		if ms := me["memberships"].([]any); len(ms) != 1 || ms[0].(map[string]any)["state"] != "active" {
			t.Errorf("carol's memberships = %v", ms)
		}
		got := e.must(200, ada, "GET", "/api/v1/organizations/acme/members/"+accountID(m), nil)
		if got["state"] != "active" || got["invitation"] != nil || len(seatApps(got)) != 1 {
			t.Errorf("member after acceptance = %v", got)
		}
		invs := e.must(200, ada, "GET", "/api/v1/organizations/acme/invitations?status=accepted", nil)
		if invs["total"] != 1.0 {
			t.Errorf("accepted invitations = %v", invs)
		}
		var actions []string
		for _, ev := range e.must(200, e.op, "GET", "/api/v1/organizations/acme/audit", nil)["items"].([]any) {
			actions = append(actions, ev.(map[string]any)["action"].(string))
		}
		if !slices.Contains(actions, "member.invited") || !slices.Contains(actions, "invitation.accepted") {
			t.Errorf("audit = %v", actions)
		}
	})
}

// TestBulkInvite: one request invites several emails; a bad address, an existing
// member or no seat left fails that email only, and leaves nothing of it behind.
func TestBulkInvite(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		e.subscribe("acme", "studio", 2, 365*24*time.Hour)
		e.must(201, e.op, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Sales"})
		e.member(e.op, "acme", "ada@acme.test", "admin", map[string]any{"applications": []string{"studio"}})
		ada := e.login("ada@acme.test", pw)

		b := e.must(200, ada, "POST", "/api/v1/organizations/acme/invitations", map[string]any{
			"emails": []string{"dan@acme.test", "not-an-email", "ada@acme.test", "eve@acme.test", "fay@acme.test"},
			"role":   "admin", "teams": []string{"sales"}, "applications": []string{"studio"}})
		res := b["results"].([]any)
		status := func(i int) string {
			r := res[i].(map[string]any)
			if r["error"] != nil {
				return r["error"].(map[string]any)["type"].(string)[len("https://roster.dev/problems/"):]
			}
			return r["invitation"].(map[string]any)["state"].(string)
		}
		want := []string{"pending", "validation", "duplicate-email", "quota-exceeded", "quota-exceeded"}
		for i, w := range want {
			if got := status(i); got != w {
				t.Errorf("result %d (%v) = %s, want %s", i, res[i], got, w)
			}
		}
		if fe := res[1].(map[string]any)["error"].(map[string]any)["errors"].([]any)[0].(map[string]any)["field"]; fe != "emails[1]" {
			t.Errorf("the bad address's error names %v, want emails[1]", fe)
		}
		dan := e.must(200, ada, "GET", "/api/v1/organizations/acme/members?state=invited", nil)
		if got := emails(dan); !slices.Equal(got, []string{"dan@acme.test"}) {
			t.Errorf("invited members = %v", got)
		}
		it := dan["items"].([]any)[0].(map[string]any)
		if it["role"] != "admin" || it["teams"].([]any)[0] != "Sales" || len(seatApps(it)) != 1 {
			t.Errorf("dan = %v", it)
		}
		// eve's failed invitation left no account, membership or email.
		if got := e.outbox(); !slices.Equal(got, []string{"invitation dan@acme.test"}) {
			t.Errorf("outbox = %v", got)
		}
		var n int
		if err := e.db.Read(context.Background(), func(tx account.Tx) error {
			_, err := tx.AccountByEmail(context.Background(), "eve@acme.test")
			if account.ErrorCode(err) == account.ENOTFOUND {
				return nil
			}
			n++
			return err
		}); err != nil || n != 0 {
			t.Errorf("eve's account exists after a failed invitation (err %v)", err)
		}

		// A role above the caller's fails every email; an unknown team the request.
		r := e.must(200, ada, "POST", "/api/v1/organizations/acme/invitations", map[string]any{"emails": []string{"gus@acme.test"}, "role": "owner"})
		if got := r["results"].([]any)[0].(map[string]any)["error"].(map[string]any)["type"]; got != "https://roster.dev/problems/role-ceiling" {
			t.Errorf("owner invitation by an admin = %v", r)
		}
		problem(t, e.call(ada, "POST", "/api/v1/organizations/acme/invitations", map[string]any{"emails": []string{"gus@acme.test"}, "teams": []string{"nope"}}), 422, "validation", "teams[0]")
		problem(t, e.call(ada, "POST", "/api/v1/organizations/acme/invitations", map[string]any{"emails": []string{}}), 422, "validation", "emails")
		mem := e.login(e.member(e.op, "acme", "mem@acme.test", "member")["account"].(map[string]any)["email"].(string), pw)
		problem(t, e.call(mem, "POST", "/api/v1/organizations/acme/invitations", map[string]any{"emails": []string{"gus@acme.test"}}), 403, "forbidden")
	})
}

// TestInviteExistingAccount: a person who has an account of their own accepts with
// their own session, not with a new password.
func TestInviteExistingAccount(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.org("globex", "")
		e.person("globex", "fred@globex.test", "member")
		e.person("globex", "gina@globex.test", "member")
		fred := e.login("fred@globex.test", pw)
		gina := e.login("gina@globex.test", pw)

		r := e.must(200, e.op, "POST", "/api/v1/organizations/acme/invitations", map[string]any{"emails": []string{"FRED@globex.test"}})
		if r["results"].([]any)[0].(map[string]any)["invitation"] == nil {
			t.Fatalf("invite = %v", r)
		}
		token := e.link("invitation", "fred@globex.test")
		if p := e.must(200, "", "GET", "/api/v1/invitations/"+token, nil); p["account_exists"] != true || p["inviter"] != operatorEmail {
			t.Errorf("preview = %v", p)
		}
		problem(t, e.call("", "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{"first_name": "F", "last_name": "F", "password": "another password"}), 401, "unauthenticated")
		problem(t, e.call(gina, "POST", "/api/v1/invitations/"+token+"/accept", nil), 403, "forbidden")
		acc := e.must(200, fred, "POST", "/api/v1/invitations/"+token+"/accept", nil)
		if acc["membership"].(map[string]any)["organization"].(map[string]any)["slug"] != "acme" {
			t.Errorf("accept = %v", acc)
		}
		// Fred's password is unchanged and he is in both organizations.
		fred = e.login("fred@globex.test", pw)
		if ms := e.must(200, fred, "GET", "/api/v1/me", nil)["memberships"].([]any); len(ms) != 2 {
			t.Errorf("fred's memberships = %v", ms)
		}
		// Inviting a member again is an error for that email.
		r = e.must(200, e.op, "POST", "/api/v1/organizations/acme/invitations", map[string]any{"emails": []string{"fred@globex.test"}})
		if r["results"].([]any)[0].(map[string]any)["error"] == nil {
			t.Errorf("re-inviting a member = %v", r)
		}
	})
}

// TestInvitationExpiry: with the organization's 24-hour setting the link works for
// 24 hours and not a moment more; by default for 7 days. A resent invitation gets a
// new link and a new expiry, and the old link is dead.
func TestInvitationExpiry(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		for _, c := range []struct {
			org string
			ttl time.Duration
		}{{"daily", 24 * time.Hour}, {"weekly", 7 * 24 * time.Hour}} {
			e.op = e.login(operatorEmail, pw) // sessions expire as the clock moves
			e.org(c.org, "")
			if c.ttl == 24*time.Hour {
				e.must(200, e.op, "PATCH", "/api/v1/organizations/"+c.org, map[string]any{"invitation_ttl_hours": 24})
			}
			to := "x@" + c.org + ".test"
			start := e.clock.Now()
			e.must(201, e.op, "POST", "/api/v1/organizations/"+c.org+"/members", map[string]any{
				"email": to, "first_name": "X", "last_name": "Y", "send_invite": true})
			token := e.link("invitation", to)

			e.clock.Advance(c.ttl - time.Second)
			e.must(200, "", "GET", "/api/v1/invitations/"+token, nil)
			e.clock.Advance(time.Second)
			problem(t, e.call("", "GET", "/api/v1/invitations/"+token, nil), 410, "token-expired")
			problem(t, e.call("", "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{"password": pw}), 410, "token-expired")

			op := e.login(operatorEmail, pw) // the old session may have expired with the clock
			invs := e.must(200, op, "GET", "/api/v1/organizations/"+c.org+"/invitations?status=expired", nil)
			if invs["total"] != 1.0 {
				t.Fatalf("%s: expired invitations = %v", c.org, invs)
			}
			id := invs["items"].([]any)[0].(map[string]any)["id"].(string)
			if m := e.must(200, op, "GET", "/api/v1/organizations/"+c.org+"/members?state=invited", nil)["items"].([]any)[0].(map[string]any); m["invitation"].(map[string]any)["state"] != "expired" {
				t.Errorf("%s: member's invitation = %v", c.org, m["invitation"])
			}
			// The operator resends the expired invitation: new link, new expiry, old link dead.
			re := e.must(200, op, "POST", "/api/v1/organizations/"+c.org+"/invitations/"+id+"/resend", nil)
			exp, _ := time.Parse(time.RFC3339, re["expires_at"].(string))
			if re["state"] != "pending" || !exp.Equal(start.Add(2*c.ttl).UTC().Truncate(time.Microsecond)) {
				t.Errorf("%s: resent = %v, want expiry %v", c.org, re, start.Add(2*c.ttl))
			}
			fresh := e.link("invitation", to)
			if fresh == token {
				t.Fatal("resending kept the token")
			}
			problem(t, e.call("", "GET", "/api/v1/invitations/"+token, nil), 404, "not-found")
			e.must(200, "", "POST", "/api/v1/invitations/"+fresh+"/accept", map[string]any{"password": pw})
			problem(t, e.call(op, "POST", "/api/v1/organizations/"+c.org+"/invitations/"+id+"/resend", nil), 409, "conflict")
			e.clock.Advance(time.Hour)
		}
	})
}

// TestResendAndCancel: resending a pending invitation kills the old link; cancelling
// (or removing the invited member) frees the reserved seat and kills the link.
func TestResendAndCancel(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		sub := e.subscribe("acme", "studio", 5, 365*24*time.Hour)
		e.member(e.op, "acme", "ada@acme.test", "admin")
		ada := e.login("ada@acme.test", pw)
		b := e.must(200, ada, "POST", "/api/v1/organizations/acme/invitations", map[string]any{
			"emails": []string{"a@x.test", "b@x.test", "c@x.test"}, "applications": []string{"studio"}})
		var ids []string
		for _, r := range b["results"].([]any) {
			ids = append(ids, r.(map[string]any)["invitation"].(map[string]any)["id"].(string))
		}
		old := e.link("invitation", "a@x.test")
		r := e.must(200, ada, "POST", "/api/v1/organizations/acme/invitations/resend", map[string]any{"invitations": []string{ids[0], ids[1], "nope"}})
		res := r["results"].([]any)
		if res[0].(map[string]any)["invitation"] == nil || res[1].(map[string]any)["invitation"] == nil || res[2].(map[string]any)["error"].(map[string]any)["status"] != 404.0 {
			t.Errorf("bulk resend = %v", r)
		}
		if e.count("invitation", "a@x.test") != 2 || e.count("invitation", "c@x.test") != 1 {
			t.Errorf("outbox = %v", e.outbox())
		}
		problem(t, e.call("", "GET", "/api/v1/invitations/"+old, nil), 404, "not-found")

		aToken := e.link("invitation", "a@x.test")
		e.must(204, ada, "DELETE", "/api/v1/organizations/acme/invitations/"+ids[0], nil)
		e.must(204, ada, "DELETE", "/api/v1/organizations/acme/invitations/"+ids[0], nil) // again: nothing changes
		problem(t, e.call("", "GET", "/api/v1/invitations/"+aToken, nil), 410, "token-expired")
		problem(t, e.call(ada, "POST", "/api/v1/organizations/acme/invitations/"+ids[0]+"/resend", nil), 409, "conflict")
		if got := e.must(200, ada, "GET", "/api/v1/organizations/acme/invitations/"+ids[0], nil)["state"]; got != "cancelled" {
			t.Errorf("cancelled invitation state = %v", got)
		}
		// Removing an invited member cancels the invitation.
		bToken := e.link("invitation", "b@x.test")
		bID := b["results"].([]any)[1].(map[string]any)["invitation"].(map[string]any)["account"].(string)
		e.must(204, ada, "DELETE", "/api/v1/organizations/acme/members/"+bID, nil)
		problem(t, e.call("", "GET", "/api/v1/invitations/"+bToken, nil), 410, "token-expired")
		if got := e.must(200, ada, "GET", "/api/v1/organizations/acme/invitations?status=cancelled", nil)["total"]; got != 2.0 {
			t.Errorf("cancelled invitations = %v", got)
		}
		if got := e.must(200, ada, "GET", "/api/v1/organizations/acme/subscriptions/"+sub["id"].(string), nil)["assigned"]; got != 1.0 {
			t.Errorf("assigned = %v, want 1 (only c's reservation)", got)
		}
		if e.count("member.removed", "b@x.test") != 0 {
			t.Error("an invitee who never joined was told they were removed")
		}
	})
}

// TestAcceptOnce: of concurrent acceptances of one link exactly one succeeds.
func TestAcceptOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/organizations/acme/members", map[string]any{
			"email": "race@acme.test", "first_name": "R", "last_name": "C", "send_invite": true})
		token := e.link("invitation", "race@acme.test")
		const n = 8
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				r := e.call("", "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{
					"first_name": "R", "last_name": "C", "password": pw + string(rune('a'+i))})
				codes[i] = r.Status
			})
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			switch c {
			case 200:
				ok++
			case 410, 401:
			default:
				t.Errorf("status %d", c)
			}
		}
		if ok != 1 {
			t.Errorf("%d acceptances succeeded: %v", ok, codes)
		}
	})
}

// TestJoinRequests: a registered person asks to join; every admin is emailed;
// approving emails the requester an invitation they accept with their session;
// denying changes nothing else.
func TestJoinRequests(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.org("globex", "")
		e.member(e.op, "acme", "own@acme.test", "owner")
		e.member(e.op, "acme", "adm@acme.test", "admin")
		e.member(e.op, "acme", "mem@acme.test", "member")
		e.person("globex", "joe@globex.test", "member")
		e.person("globex", "kim@globex.test", "member")
		joe := e.login("joe@globex.test", pw)
		kim := e.login("kim@globex.test", pw)
		adm := e.login("adm@acme.test", pw)
		mem := e.login("mem@acme.test", pw)

		jr := e.must(201, joe, "POST", "/api/v1/organizations/acme/join-requests", map[string]any{"message": "I run the Lisbon office."})
		if jr["state"] != "pending" || jr["account"].(map[string]any)["email"] != "joe@globex.test" {
			t.Errorf("join request = %v", jr)
		}
		want := []string{"join_request.created adm@acme.test", "join_request.created own@acme.test"}
		if got := e.outbox(); !slices.Equal(got, want) {
			t.Errorf("outbox = %v, want %v", got, want)
		}
		problem(t, e.call(joe, "POST", "/api/v1/organizations/acme/join-requests", map[string]any{"message": "again"}), 409, "conflict", "organization")
		problem(t, e.call(mem, "POST", "/api/v1/organizations/acme/join-requests", nil), 409, "conflict")
		problem(t, e.call(joe, "POST", "/api/v1/organizations/nope/join-requests", nil), 404, "not-found")
		problem(t, e.call(mem, "GET", "/api/v1/organizations/acme/join-requests", nil), 403, "forbidden")
		kr := e.must(201, kim, "POST", "/api/v1/organizations/acme/join-requests", nil)

		l := e.must(200, adm, "GET", "/api/v1/organizations/acme/join-requests?status=pending", nil)
		if l["total"] != 2.0 {
			t.Errorf("pending = %v", l)
		}
		id := jr["id"].(string)
		a := e.must(200, adm, "POST", "/api/v1/organizations/acme/join-requests/"+id+"/approve", map[string]any{"role": "member"})
		if a["state"] != "approved" || a["invitation"] == nil {
			t.Errorf("approved = %v", a)
		}
		problem(t, e.call(adm, "POST", "/api/v1/organizations/acme/join-requests/"+id+"/deny", nil), 409, "conflict")
		token := e.link("invitation", "joe@globex.test")
		e.must(200, joe, "POST", "/api/v1/invitations/"+token+"/accept", nil)
		if got := e.must(200, adm, "GET", "/api/v1/organizations/acme/members?q=joe", nil); got["total"] != 1.0 || got["items"].([]any)[0].(map[string]any)["state"] != "active" {
			t.Errorf("joe in acme = %v", got)
		}

		before := len(e.outbox())
		d := e.must(200, adm, "POST", "/api/v1/organizations/acme/join-requests/"+kr["id"].(string)+"/deny", nil)
		if d["state"] != "denied" || len(e.outbox()) != before {
			t.Errorf("deny = %v; outbox grew to %v", d, e.outbox())
		}
		problem(t, e.call(adm, "GET", "/api/v1/organizations/acme/members/"+accountID(map[string]any{"account": kr["account"]}), nil), 404, "not-found")
		// Kim may ask again once denied.
		e.must(201, kim, "POST", "/api/v1/organizations/acme/join-requests", nil)
	})
}

// TestSignUpAndVerify: sign-up emails a verification link; following it with the
// password chosen there creates the active account, once.
func TestSignUpAndVerify(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		body := map[string]any{"email": "New@x.test", "first_name": "Nia", "last_name": "Ew", "password": pw}
		e.must(202, "", "POST", "/api/v1/auth/signup", body)
		problem(t, e.call("", "POST", "/api/v1/auth/login", map[string]any{"email": "new@x.test", "password": pw}), 401, "unauthenticated")
		token := e.link(account.NoticeVerifyEmail, "New@x.test")
		// The link alone does not activate: the password is chosen with it.
		problem(t, e.call("", "POST", "/api/v1/auth/verify-email", map[string]any{"token": token}), 422, "validation", "password")
		problem(t, e.call("", "POST", "/api/v1/auth/verify-email", map[string]any{"token": token, "password": "short"}), 422, "validation", "password")
		a := e.must(200, "", "POST", "/api/v1/auth/verify-email", map[string]any{"token": token, "password": "the chosen one"})
		acct := a["account"].(map[string]any)
		if acct["state"] != "active" || acct["first_name"] != "Nia" || acct["email"] != "New@x.test" {
			t.Errorf("verified = %v", a)
		}
		e.login("new@x.test", "the chosen one")
		problem(t, e.call("", "POST", "/api/v1/auth/login", map[string]any{"email": "new@x.test", "password": pw}), 401, "unauthenticated")
		problem(t, e.call("", "POST", "/api/v1/auth/verify-email", map[string]any{"token": token, "password": "the chosen one"}), 400, "invalid-token")
		// Signing up again with a known email answers the same, and tells its owner.
		e.must(202, "", "POST", "/api/v1/auth/signup", body)
		if e.count(account.NoticeAccountExists, "New@x.test") != 1 {
			t.Errorf("outbox = %v", e.outbox())
		}
		problem(t, e.call("", "POST", "/api/v1/auth/signup", map[string]any{"email": "bad", "first_name": "", "last_name": "L", "password": "short"}), 422, "validation", "email", "first_name")
		// The password is not the sign-up's: one may sign up without it.
		e.must(202, "", "POST", "/api/v1/auth/signup", map[string]any{"email": "nopw@x.test", "first_name": "N", "last_name": "P"})
		// Malformed tokens are unknown, whatever the password.
		for _, bad := range []string{"", "rv_", "rv_AAAA", "rp_" + token[3:], token + "A", token[:len(token)-1] + "%", "../o/acme/delete"} {
			problem(t, e.call("", "POST", "/api/v1/auth/verify-email", map[string]any{"token": bad, "password": "the chosen one"}), 400, "invalid-token")
		}
		// Verification links last 24 hours.
		e.must(202, "", "POST", "/api/v1/auth/signup", map[string]any{"email": "late@x.test", "first_name": "L", "last_name": "T", "password": pw})
		late := e.link(account.NoticeVerifyEmail, "late@x.test")
		e.clock.Advance(24 * time.Hour)
		problem(t, e.call("", "POST", "/api/v1/auth/verify-email", map[string]any{"token": late, "password": pw}), 410, "token-expired")
	})
}

// TestSignUpPreHijack: whoever signs up an address first does not choose its
// password. The attacker signs up the victim's email with password A; the victim
// follows the link and must choose B; A never works. A newer sign-up of the same
// address voids the earlier link, which answers like an unknown one.
func TestSignUpPreHijack(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		const victim, attackerPW, victimPW = "victim@x.test", "attacker's password", "victim's own password"
		e.must(202, "", "POST", "/api/v1/auth/signup", map[string]any{"email": victim, "first_name": "Eve", "last_name": "Il", "password": attackerPW})
		token := e.link(account.NoticeVerifyEmail, victim)
		// The victim clicks "Confirm" without choosing a password: nothing happens.
		problem(t, e.call("", "POST", "/api/v1/auth/verify-email", map[string]any{"token": token}), 422, "validation", "password")
		problem(t, e.call("", "POST", "/api/v1/auth/login", map[string]any{"email": victim, "password": attackerPW}), 401, "unauthenticated")
		e.must(200, "", "POST", "/api/v1/auth/verify-email", map[string]any{"token": token, "password": victimPW})
		problem(t, e.call("", "POST", "/api/v1/auth/login", map[string]any{"email": victim, "password": attackerPW}), 401, "unauthenticated")
		e.login(victim, victimPW)

		// A newer sign-up voids the older link (case-insensitively).
		e.must(202, "", "POST", "/api/v1/auth/signup", map[string]any{"email": "twice@x.test", "first_name": "T", "last_name": "W"})
		older := e.link(account.NoticeVerifyEmail, "twice@x.test")
		e.must(202, "", "POST", "/api/v1/auth/signup", map[string]any{"email": "Twice@X.test", "first_name": "T", "last_name": "W"})
		newer := e.link(account.NoticeVerifyEmail, "Twice@X.test")
		if older == newer {
			t.Fatal("the second sign-up sent the same link")
		}
		problem(t, e.call("", "POST", "/api/v1/auth/verify-email", map[string]any{"token": older, "password": victimPW}), 400, "invalid-token")
		e.must(200, "", "POST", "/api/v1/auth/verify-email", map[string]any{"token": newer, "password": victimPW})
		e.login("twice@x.test", victimPW)
	})
}

// TestPasswordReset: 202 whether or not the email is known; the link sets a new
// password once, within an hour, and logs the account out everywhere.
func TestPasswordReset(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.member(e.op, "acme", "ada@acme.test", "member")
		s1, s2 := e.login("ada@acme.test", pw), e.login("ada@acme.test", pw)

		e.must(202, "", "POST", "/api/v1/auth/password-reset", map[string]any{"email": "nobody@acme.test"})
		e.must(202, "", "POST", "/api/v1/auth/password-reset", map[string]any{"email": "ADA@acme.test"})
		if got := e.outbox(); !slices.Equal(got, []string{account.NoticePasswordReset + " ada@acme.test"}) {
			t.Fatalf("outbox = %v", got)
		}
		token := e.link(account.NoticePasswordReset, "ada@acme.test")
		problem(t, e.call("", "POST", "/api/v1/auth/password-reset/confirm", map[string]any{"token": token, "new_password": "short"}), 422, "validation", "new_password")
		e.must(204, "", "POST", "/api/v1/auth/password-reset/confirm", map[string]any{"token": token, "new_password": "a brand new password"})
		problem(t, e.call(s1, "GET", "/api/v1/me", nil), 401, "unauthenticated")
		problem(t, e.call(s2, "GET", "/api/v1/me", nil), 401, "unauthenticated")
		problem(t, e.call("", "POST", "/api/v1/auth/login", map[string]any{"email": "ada@acme.test", "password": pw}), 401, "unauthenticated")
		e.login("ada@acme.test", "a brand new password")
		problem(t, e.call("", "POST", "/api/v1/auth/password-reset/confirm", map[string]any{"token": token, "new_password": "yet another password"}), 400, "invalid-token")

		e.must(202, "", "POST", "/api/v1/auth/password-reset", map[string]any{"email": "ada@acme.test"})
		late := e.link(account.NoticePasswordReset, "ada@acme.test")
		e.clock.Advance(time.Hour)
		problem(t, e.call("", "POST", "/api/v1/auth/password-reset/confirm", map[string]any{"token": late, "new_password": "yet another password"}), 410, "token-expired")
	})
}

// TestEmailRateLimits: invitation emails per account, join requests per account and
// sign-ups and resets per address answer 429 with Retry-After past their limits.
func TestEmailRateLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, withLimits(func(d *limits.Config) {
			d.InvitesPerAccount = ratelimit.Limit{Every: time.Minute, Burst: 3}
			d.JoinRequestsPerAccount = ratelimit.Limit{Every: time.Minute, Burst: 1}
			d.SelfServicePerEmail = ratelimit.Limit{Every: time.Minute, Burst: 2}
		}))
		e.org("acme", "")
		e.org("globex", "")
		e.must(200, e.op, "POST", "/api/v1/organizations/acme/invitations", map[string]any{"emails": []string{"a@x.test", "b@x.test"}})
		r := e.call(e.op, "POST", "/api/v1/organizations/acme/invitations", map[string]any{"emails": []string{"c@x.test", "d@x.test"}})
		problem(t, r, http.StatusTooManyRequests, "rate-limited")
		if r.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		e.must(200, e.op, "POST", "/api/v1/organizations/acme/invitations", map[string]any{"emails": []string{"c@x.test"}})
		problem(t, e.call(e.op, "POST", "/api/v1/organizations/acme/invitations/x/resend", nil), 429, "rate-limited")
		e.clock.Advance(time.Minute)
		problem(t, e.call(e.op, "POST", "/api/v1/organizations/acme/invitations/x/resend", nil), 404, "not-found")

		e.member(e.op, "globex", "joe@globex.test", "member")
		joe := e.login("joe@globex.test", pw)
		e.must(201, joe, "POST", "/api/v1/organizations/acme/join-requests", nil)
		problem(t, e.call(joe, "POST", "/api/v1/organizations/globex/join-requests", nil), 429, "rate-limited")

		for range 2 {
			e.must(202, "", "POST", "/api/v1/auth/password-reset", map[string]any{"email": "joe@globex.test"})
		}
		problem(t, e.call("", "POST", "/api/v1/auth/password-reset", map[string]any{"email": "joe@globex.test"}), 429, "rate-limited")
		problem(t, e.call("", "POST", "/api/v1/auth/signup", map[string]any{"email": "joe@globex.test", "first_name": "J", "last_name": "O", "password": pw}), 429, "rate-limited")
		if got := e.count(account.NoticePasswordReset, "joe@globex.test"); got != 2 {
			t.Errorf("%d reset emails, want 2", got)
		}
	})
}

// TestAddInvitedElsewhere: someone invited by another organization who never set up
// their account is not given an account by whoever adds them next: a password is
// refused, and without one they are invited; they set up their account from the
// first invitation and accept the second with its session.
func TestAddInvitedElsewhere(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.org("globex", "")
		e.must(200, e.op, "POST", "/api/v1/organizations/acme/invitations", map[string]any{"emails": []string{"pat@x.test"}})
		token := e.link("invitation", "pat@x.test")
		problem(t, e.call(e.op, "POST", "/api/v1/organizations/globex/members", map[string]any{
			"email": "pat@x.test", "role": "member", "send_invite": false, "password": pw,
			"first_name": "P", "last_name": "T"}), 422, "validation", "password")
		m := e.must(201, e.op, "POST", "/api/v1/organizations/globex/members", map[string]any{
			"email": "pat@x.test", "role": "member", "send_invite": false})
		if m["state"] != "invited" {
			t.Errorf("member = %v", m)
		}
		if n := e.count("invitation", "pat@x.test"); n != 2 {
			t.Errorf("%d invitations to pat, want 2", n)
		}
		second := e.link("invitation", "pat@x.test")
		e.must(200, "", "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{
			"first_name": "Pat", "last_name": "Tee", "password": pw})
		pat := e.login("pat@x.test", pw)
		if p := e.must(200, "", "GET", "/api/v1/invitations/"+second, nil); p["account_exists"] != true || p["password_required"] != false {
			t.Errorf("preview = %v", p)
		}
		e.must(200, pat, "POST", "/api/v1/invitations/"+second+"/accept", nil)
	})
}

// TestInviteeNotTold: changes to an invitee's seats or role before they accept
// write no access-change email (the invitation speaks for itself), and the
// invitation's role follows the membership's.
func TestInviteeNotTold(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		sub := e.subscribe("acme", "studio", 5, 365*24*time.Hour)
		m := e.must(201, e.op, "POST", "/api/v1/organizations/acme/members", map[string]any{
			"email": "ivy@acme.test", "first_name": "Ivy", "last_name": "I", "send_invite": true})
		id := accountID(m)
		e.must(200, e.op, "PUT", "/api/v1/organizations/acme/subscriptions/"+sub["id"].(string)+"/seats/"+id, nil)
		e.must(200, e.op, "PATCH", "/api/v1/organizations/acme/members/"+id, map[string]any{"role": "admin"})
		if got := e.outbox(); !slices.Equal(got, []string{"invitation ivy@acme.test"}) {
			t.Errorf("outbox = %v", got)
		}
		problem(t, e.call(e.op, "POST", "/api/v1/organizations/acme/members/"+id+"/deactivate", nil), 409, "conflict")
		token := e.link("invitation", "ivy@acme.test")
		if p := e.must(200, "", "GET", "/api/v1/invitations/"+token, nil); p["role"] != "Admin" {
			t.Errorf("preview offers %v, want Admin", p["role"])
		}
		acc := e.must(200, "", "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{"password": pw})
		if ms := acc["membership"].(map[string]any); ms["role"] != "admin" || len(ms["seats"].([]any)) != 1 {
			t.Errorf("membership = %v", ms)
		}
	})
}

// TestMustResetCannotClaim: a session that must change its password accepts no
// invitation (403 password-reset-required), also not one that claims the account an
// organization set up (TestMustResetCannotAccept shows an account of its own); after
// the change it accepts as usual.
func TestMustResetCannotClaim(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.org("globex", "")
		e.member(e.op, "acme", "nia@acme.test", "member", map[string]any{"reset_password_on_first_login": true})
		e.member(e.op, "globex", "gus@globex.test", "admin")
		gus := e.login("gus@globex.test", pw)
		if m := e.must(201, gus, "POST", "/api/v1/organizations/globex/members", map[string]any{"email": "nia@acme.test", "role": "member", "send_invite": true}); m["state"] != "invited" {
			t.Fatalf("globex add = %v", m)
		}
		token := e.link(account.NoticeInvitation, "nia@acme.test")
		nia := e.login("nia@acme.test", pw)
		for _, body := range []map[string]any{nil, {"password": "nia's own secret"}} {
			problem(t, e.call(nia, "POST", "/api/v1/invitations/"+token+"/accept", body), 403, "password-reset-required")
		}
		e.must(204, nia, "PUT", "/api/v1/me/password", map[string]any{"current_password": pw, "new_password": "nia's new secret"})
		e.must(200, nia, "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{"password": "nia's claimed secret"})
	})
}
