package httpapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
)

// The attacks of "Who may act on a person" (API.md), each by an admin of acme
// against gamma's people, on every engine.

// trustWorld is acme and gamma, each with an owner of their own account, and an
// application both subscribe to.
type trustWorld struct {
	e                  *env
	acmeOwn, gammaOwn  string // sessions
	appKey             string
	gammaOwnerID       string
	acmeOwnerAccountID string
}

func newTrustWorld(t *testing.T, e *env) *trustWorld {
	e.org("acme", "")
	e.org("gamma", "")
	e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
	e.subscribe("acme", "studio", 10, 1000*time.Hour)
	e.subscribe("gamma", "studio", 10, 1000*time.Hour)
	key := e.must(201, e.op, "POST", "/api/v1/applications/studio/keys", map[string]any{"name": "prod"})
	a := e.person("acme", "own@acme.test", "owner")
	g := e.person("gamma", "own@gamma.test", "owner")
	return &trustWorld{e: e, acmeOwn: e.login("own@acme.test", pw), gammaOwn: e.login("own@gamma.test", pw),
		appKey: key["key"].(string), gammaOwnerID: accountID(g), acmeOwnerAccountID: accountID(a)}
}

func (w *trustWorld) check(org, accountID string) map[string]any {
	return w.e.must(200, w.appKey, "GET", "/api/v1/check?organization="+org+"&application=studio&account="+accountID, nil)
}

// TestTakeoverByPlantedAccount: acme's admin creates cfo@gamma.test with a password
// of their choosing and removes the member; gamma then adds cfo by every channel. No
// channel links the planted account: gamma's membership is invited, cfo is emailed,
// acme's admin gets nothing in gamma with the password they know, and cfo claims the
// account from the mailbox, which locks acme's admin out.
func TestTakeoverByPlantedAccount(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		w := newTrustWorld(t, e)
		planted := e.member(w.acmeOwn, "acme", "cfo@gamma.test", "member")
		e.must(204, w.acmeOwn, "DELETE", "/api/v1/organizations/acme/members/"+accountID(planted), nil)
		attacker := e.login("cfo@gamma.test", pw) // the password acme's admin chose

		// The API, with send_invite false and gamma's own password: refused.
		problem(t, e.call(w.gammaOwn, "POST", "/api/v1/organizations/gamma/members", map[string]any{
			"email": "cfo@gamma.test", "role": "admin", "send_invite": false, "password": "gamma's own password",
			"first_name": "C", "last_name": "FO"}), 422, "validation", "password")
		// Without one: an invitation, whatever send_invite says.
		m := e.must(201, w.gammaOwn, "POST", "/api/v1/organizations/gamma/members", map[string]any{
			"email": "cfo@gamma.test", "role": "admin", "send_invite": false})
		if m["state"] != "invited" {
			t.Fatalf("gamma's cfo = %v, want invited", m)
		}
		if got := e.count(account.NoticeInvitation, "cfo@gamma.test"); got != 1 {
			t.Errorf("%d invitations to cfo, want 1", got)
		}
		// The planted password reaches nothing in gamma.
		problem(t, e.call(attacker, "GET", "/api/v1/organizations/gamma/members", nil), 404, "not-found")
		if c := w.check("gamma", accountID(m)); c["allowed"] != false {
			t.Errorf("check before acceptance = %v", c)
		}
		// cfo accepts from the mailbox: a new password claims the account.
		token := e.link(account.NoticeInvitation, "cfo@gamma.test")
		if p := e.must(200, "", "GET", "/api/v1/invitations/"+token, nil); p["password_required"] != true {
			t.Errorf("preview = %v, want password_required", p)
		}
		problem(t, e.call("", "POST", "/api/v1/invitations/"+token+"/accept", nil), 422, "validation", "password")
		acc := e.must(200, "", "POST", "/api/v1/invitations/"+token+"/accept", map[string]any{"password": "cfo's own secret"})
		if a := acc["account"].(map[string]any); a["managed_by"] != nil || a["email_verified"] != true {
			t.Errorf("claimed account = %v", a)
		}
		problem(t, e.call(attacker, "GET", "/api/v1/me", nil), 401, "unauthenticated")
		problem(t, e.call("", "POST", "/api/v1/auth/login", map[string]any{"email": "cfo@gamma.test", "password": pw}), 401, "unauthenticated")
		cfo := e.login("cfo@gamma.test", "cfo's own secret")
		e.must(200, cfo, "GET", "/api/v1/organizations/gamma/members", nil)
		// Claimed: acme may no longer edit it, and can only invite it again.
		again := e.must(201, w.acmeOwn, "POST", "/api/v1/organizations/acme/members", map[string]any{
			"email": "cfo@gamma.test", "role": "member", "send_invite": false})
		if again["state"] != "invited" {
			t.Errorf("acme re-adding the claimed account = %v", again)
		}
	})
}

// TestTakeoverThroughImport: the same planted account, added by gamma's import with
// send_invite no, is invited too.
func TestTakeoverThroughImport(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		w := newTrustWorld(t, e)
		planted := e.member(w.acmeOwn, "acme", "cfo@gamma.test", "member")
		e.must(204, w.acmeOwn, "DELETE", "/api/v1/organizations/acme/members/"+accountID(planted), nil)
		csv := "email,first_name,last_name,role,send_invite\ncfo@gamma.test,C,FO,admin,no\nnew@gamma.test,N,EW,member,no\n"
		job := e.must(202, w.gammaOwn, "POST", "/api/v1/organizations/gamma/imports", upload{name: "p.csv", content: []byte(csv)})
		e.runImports()
		got := e.must(200, w.gammaOwn, "GET", "/api/v1/organizations/gamma/imports/"+job["id"].(string), nil)
		if got["invited"] != 1.0 || got["created"] != 1.0 || got["failed"] != 0.0 {
			t.Errorf("import = %v, want the planted account invited and the new one created", got)
		}
		cfo := e.must(200, w.gammaOwn, "GET", "/api/v1/organizations/gamma/members/"+accountID(planted), nil)
		if cfo["state"] != "invited" {
			t.Errorf("cfo in gamma = %v", cfo)
		}
		problem(t, e.call(e.login("cfo@gamma.test", pw), "GET", "/api/v1/organizations/gamma/members", nil), 404, "not-found")
	})
}

// TestAdminsCannotRewriteOthers: acme's admin adds gamma's owner and the operator;
// they are invited, their profiles stay hidden, and patching their names, username
// or phone is refused naming each field — also once gamma's owner has accepted.
func TestAdminsCannotRewriteOthers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		w := newTrustWorld(t, e)
		e.must(200, w.gammaOwn, "PATCH", "/api/v1/me", map[string]any{"first_name": "Grace", "last_name": "Gamma",
			"username": "grace", "phone": "+14155550100"})
		for _, email := range []string{"own@gamma.test", operatorEmail} {
			m := e.must(201, w.acmeOwn, "POST", "/api/v1/organizations/acme/members", map[string]any{
				"email": email, "role": "member", "send_invite": false})
			acct := m["account"].(map[string]any)
			if m["state"] != "invited" || acct["first_name"] != "" || acct["phone"] != nil || acct["username"] != nil {
				t.Errorf("%s added by acme = %v, want invited showing only the email", email, m)
			}
			r := e.call(w.acmeOwn, "PATCH", "/api/v1/organizations/acme/members/"+accountID(m), map[string]any{
				"first_name": "Hacked", "last_name": "ByAcme", "username": "hacked", "phone": "+15555550100"})
			problem(t, r, 403, "forbidden", "first_name", "last_name", "username", "phone")
			// The organization's own parts stay its own.
			e.must(200, w.acmeOwn, "PATCH", "/api/v1/organizations/acme/members/"+accountID(m), map[string]any{"role": "admin"})
		}
		// gamma's owner accepts acme's invitation; their profile is still theirs.
		token := e.link(account.NoticeInvitation, "own@gamma.test")
		e.must(200, w.gammaOwn, "POST", "/api/v1/invitations/"+token+"/accept", nil)
		problem(t, e.call(w.acmeOwn, "PATCH", "/api/v1/organizations/acme/members/"+w.gammaOwnerID, map[string]any{"last_name": "ByAcme"}), 403, "forbidden", "last_name")
		g := e.must(200, w.gammaOwn, "GET", "/api/v1/organizations/gamma/members/"+w.gammaOwnerID, nil)["account"].(map[string]any)
		if g["first_name"] != "Grace" || g["last_name"] != "Gamma" || g["username"] != "grace" {
			t.Errorf("gamma's owner = %v", g)
		}
		// Accepted: acme now sees the profile the person keeps.
		if a := e.must(200, w.acmeOwn, "GET", "/api/v1/organizations/acme/members/"+w.gammaOwnerID, nil)["account"].(map[string]any); a["first_name"] != "Grace" {
			t.Errorf("acme's view after acceptance = %v", a)
		}
		// The operator and the person themselves may edit it.
		e.must(200, e.op, "PATCH", "/api/v1/organizations/acme/members/"+w.gammaOwnerID, map[string]any{"phone": "+14155550101"})
		e.must(200, w.gammaOwn, "PATCH", "/api/v1/me", map[string]any{"last_name": "Gammage"})
	})
}

// TestNoPasswordForSomeoneInvited: gamma invites victim@gamma.test; acme's admin
// cannot give that pending account a password, and gets an invitation instead.
func TestNoPasswordForSomeoneInvited(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		w := newTrustWorld(t, e)
		e.must(201, w.gammaOwn, "POST", "/api/v1/organizations/gamma/members", map[string]any{
			"email": "victim@gamma.test", "first_name": "Vic", "last_name": "Tim", "role": "member", "send_invite": true})
		problem(t, e.call(w.acmeOwn, "POST", "/api/v1/organizations/acme/members", map[string]any{
			"email": "victim@gamma.test", "first_name": "V", "last_name": "T", "role": "member",
			"send_invite": false, "password": pw}), 422, "validation", "password")
		m := e.must(201, w.acmeOwn, "POST", "/api/v1/organizations/acme/members", map[string]any{
			"email": "victim@gamma.test", "role": "member", "send_invite": false})
		if acct := m["account"].(map[string]any); m["state"] != "invited" || acct["first_name"] != "" {
			t.Errorf("acme's victim = %v: want invited, without gamma's names", m)
		}
		problem(t, e.call("", "POST", "/api/v1/auth/login", map[string]any{"email": "victim@gamma.test", "password": pw}), 401, "unauthenticated")
		// gamma, which invited the address first, sees the names it gave.
		g := e.must(200, w.gammaOwn, "GET", "/api/v1/organizations/gamma/members?q=vic", nil)
		if g["total"] != 1.0 {
			t.Errorf("gamma's search by name = %v", g)
		}
	})
}

// TestInviteesStayPrivate: before an invited person accepts, acme sees only the id
// and email of an account it does not manage — in the member, the list, a search by
// their names, the export — while it sees the names it gave a new invitee.
func TestInviteesStayPrivate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		w := newTrustWorld(t, e)
		e.must(200, w.gammaOwn, "PATCH", "/api/v1/me", map[string]any{"first_name": "Grace", "last_name": "Zephyr",
			"username": "gracez", "phone": "+14155550100"})
		m := e.must(201, w.acmeOwn, "POST", "/api/v1/organizations/acme/members", map[string]any{
			"email": "own@gamma.test", "role": "member", "send_invite": true})
		e.must(201, w.acmeOwn, "POST", "/api/v1/organizations/acme/members", map[string]any{
			"email": "new@else.test", "first_name": "Nadia", "last_name": "Zephyr", "role": "member", "send_invite": true})
		for _, path := range []string{"/members/" + accountID(m), "/members?q=own@gamma"} {
			r := e.must(200, w.acmeOwn, "GET", "/api/v1/organizations/acme"+path, nil)
			raw := e.call(w.acmeOwn, "GET", "/api/v1/organizations/acme"+path, nil).Raw
			for _, secret := range []string{"Grace", "gracez", "4155550100"} {
				if strings.Contains(raw, secret) {
					t.Errorf("GET %s shows %q: %v", path, secret, r)
				}
			}
		}
		for q, want := range map[string]float64{"zephyr": 1, "grace": 0, "gracez": 0, "nadia": 1, "own@gamma": 1} {
			if got := e.must(200, w.acmeOwn, "GET", "/api/v1/organizations/acme/members?q="+url.QueryEscape(q), nil)["total"]; got != want {
				t.Errorf("search %q in acme: %v matches, want %v", q, got, want)
			}
		}
		csv := e.call(w.acmeOwn, "GET", "/api/v1/organizations/acme/members/export.csv", nil).Raw
		if strings.Contains(csv, "Grace") || !strings.Contains(csv, "own@gamma.test") || !strings.Contains(csv, "Nadia") {
			t.Errorf("export = %q", csv)
		}
		// The audit trail of acme does not carry them either, also once removed.
		e.must(204, w.acmeOwn, "DELETE", "/api/v1/organizations/acme/members/"+accountID(m), nil)
		if audit := e.call(w.acmeOwn, "GET", "/api/v1/organizations/acme/audit", nil).Raw; strings.Contains(audit, "Grace") {
			t.Errorf("acme's audit shows the invitee's name: %s", audit)
		}
	})
}

// TestAuthorizationBeforeLookup: a member without members.invite is refused the
// same way whether or not the email has an account, whatever the body holds (once
// it has the document's shape, which is checked first and tells nothing).
func TestAuthorizationBeforeLookup(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		newTrustWorld(t, e)
		e.person("acme", "mem@acme.test", "member")
		mem := e.login("mem@acme.test", pw)
		for _, body := range []map[string]any{
			{"email": "nobody@else.test", "role": "member", "send_invite": false},
			{"email": "own@gamma.test", "role": "member", "send_invite": false},
			{"email": "not an email", "send_invite": true, "password": "x"},
		} {
			problem(t, e.call(mem, "POST", "/api/v1/organizations/acme/members", body), 403, "forbidden")
		}
		problem(t, e.call(mem, "POST", "/api/v1/organizations/acme/invitations", map[string]any{"emails": []string{}}), 403, "forbidden")
		problem(t, e.call(mem, "GET", "/api/v1/organizations/acme/members?limit=9999", nil), 403, "forbidden")
		problem(t, e.call(mem, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": " "}), 403, "forbidden")
	})
}

// TestDisabledAccountNotAdded: an operator-disabled account cannot become a member,
// active or invited.
func TestDisabledAccountNotAdded(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		w := newTrustWorld(t, e)
		d := e.member(w.acmeOwn, "acme", "dis@acme.test", "member")
		disable(t, e, "dis@acme.test")
		e.must(204, w.acmeOwn, "DELETE", "/api/v1/organizations/acme/members/"+accountID(d), nil)
		for _, send := range []bool{false, true} {
			problem(t, e.call(w.acmeOwn, "POST", "/api/v1/organizations/acme/members", map[string]any{
				"email": "dis@acme.test", "role": "member", "send_invite": send}), 403, "forbidden", "email")
		}
	})
}

// TestClaimByPasswordReset: a reset from the mailbox claims a managed account: the
// organization no longer manages it, and may no longer edit its profile.
func TestClaimByPasswordReset(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		w := newTrustWorld(t, e)
		m := e.member(w.acmeOwn, "acme", "emp@acme.test", "member")
		if m["account"].(map[string]any)["managed"] != true {
			t.Fatalf("a new account = %v, want managed by acme", m)
		}
		e.must(200, w.acmeOwn, "PATCH", "/api/v1/organizations/acme/members/"+accountID(m), map[string]any{"first_name": "Emma"})
		e.must(202, "", "POST", "/api/v1/auth/password-reset", map[string]any{"email": "emp@acme.test"})
		e.must(204, "", "POST", "/api/v1/auth/password-reset/confirm", map[string]any{
			"token": e.link(account.NoticePasswordReset, "emp@acme.test"), "new_password": "emma's own secret"})
		me := e.must(200, e.login("emp@acme.test", "emma's own secret"), "GET", "/api/v1/me", nil)["account"].(map[string]any)
		if me["managed_by"] != nil || me["email_verified"] != true {
			t.Errorf("after the reset = %v", me)
		}
		problem(t, e.call(w.acmeOwn, "PATCH", "/api/v1/organizations/acme/members/"+accountID(m), map[string]any{"first_name": "Em"}), 403, "forbidden", "first_name")
	})
}

// TestMustResetCannotAccept: a session that must change its password first cannot
// accept an invitation with it.
func TestMustResetCannotAccept(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		w := newTrustWorld(t, e)
		e.person("gamma", "ray@gamma.test", "member")
		setMustReset(t, e, "ray@gamma.test")
		ray := e.login("ray@gamma.test", pw)
		e.must(201, w.acmeOwn, "POST", "/api/v1/organizations/acme/members", map[string]any{
			"email": "ray@gamma.test", "role": "member", "send_invite": true})
		token := e.link(account.NoticeInvitation, "ray@gamma.test")
		problem(t, e.call(ray, "POST", "/api/v1/invitations/"+token+"/accept", nil), 403, "password-reset-required")
	})
}

// editAccount changes an account in the store, as no API route does.
func editAccount(t *testing.T, e *env, email string, edit func(*account.Account)) {
	t.Helper()
	err := e.db.Write(context.Background(), func(tx account.Tx) error {
		a, err := tx.AccountByEmail(context.Background(), email)
		if err != nil {
			return err
		}
		edit(&a)
		return tx.UpdateAccount(context.Background(), a)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// disable disables an account as an operator would (no route does it yet).
func disable(t *testing.T, e *env, email string) {
	editAccount(t, e, email, func(a *account.Account) { a.State = account.AccountDisabled })
}

// setMustReset makes an account change its password at its next request.
func setMustReset(t *testing.T, e *env, email string) {
	editAccount(t, e, email, func(a *account.Account) { a.MustResetPassword = true })
}

// TestPartnerManagesWhatItCreates: a partner's admin adds a new person to one of its
// organizations with a password, then to another: the account is the partner's to
// manage, so the second add links it (as the console's partner form does), and the
// organizations under the partner may edit its profile; an organization elsewhere
// still invites it.
func TestPartnerManagesWhatItCreates(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("north", "-")
		e.org("acme", "north")
		e.org("cyan", "north")
		e.org("globex", "")
		e.person("north", "pa@north.test", "admin")
		e.person("acme", "own@acme.test", "owner")
		e.person("globex", "own@globex.test", "owner")
		pa := e.login("pa@north.test", pw)
		m := e.member(pa, "acme", "quinn@acme.test", "member")
		if acct := m["account"].(map[string]any); m["state"] != "active" || acct["managed"] != true {
			t.Fatalf("quinn in acme = %v", m)
		}
		c := e.must(201, pa, "POST", "/api/v1/organizations/cyan/members", map[string]any{
			"email": "quinn@acme.test", "role": "member", "send_invite": false})
		if c["state"] != "active" {
			t.Errorf("quinn in cyan = %v, want linked by the partner that manages the account", c)
		}
		e.must(200, e.login("own@acme.test", pw), "PATCH", "/api/v1/organizations/acme/members/"+accountID(m), map[string]any{"first_name": "Quincy"})
		g := e.must(201, e.login("own@globex.test", pw), "POST", "/api/v1/organizations/globex/members", map[string]any{
			"email": "quinn@acme.test", "role": "member", "send_invite": false})
		if g["state"] != "invited" {
			t.Errorf("quinn in globex = %v, want invited", g)
		}
	})
}
