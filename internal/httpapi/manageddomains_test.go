package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/mail"
	"roster.dev/roster/internal/mail/smtptest"
	"roster.dev/roster/internal/outbox"
)

// accountID returns the id of email's account, straight from the store.
func (e *env) accountID(email string) string {
	e.t.Helper()
	var id string
	err := e.db.Read(context.Background(), func(tx account.Tx) error {
		a, err := tx.AccountByEmail(context.Background(), email)
		id = a.ID
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// auditAfter returns the after of the newest audit event of action on target in org.
func (e *env) auditAfter(org, action, target string) map[string]any {
	e.t.Helper()
	b := e.must(200, e.op, "GET", "/api/v1/organizations/"+org+"/audit?limit=500", nil)
	for _, it := range b["items"].([]any) { // newest first
		ev := it.(map[string]any)
		if ev["action"] == action && jpath(ev, "target", "id") == target {
			after := map[string]any{}
			raw, _ := json.Marshal(ev["after"])
			_ = json.Unmarshal(raw, &after)
			return after
		}
	}
	e.t.Fatalf("no %s of %s in %s's audit", action, target, org)
	return nil
}

// TestManagedDomainAccounts: with manage_domain_accounts on, an organization that
// holds the verified domain of an existing account's address manages it as if it
// had created it — adding, inviting and SCIM-provisioning link it as an active
// member at once, its profile is visible and editable, each time emailed to the
// person (over SMTP) and audited under the domain rule — and nobody else gains
// anything: another organization still needs the person's acceptance and may not
// edit; the setting off, or the domain removed, ends it at once; subdomains,
// look-alikes and operators' accounts are never managed; the setting needs
// organization.manage.
func TestManagedDomainAccounts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.org("other", "")
		e.person("acme", "ann@staff.test", "owner")
		e.person("acme", "al@staff.test", "admin")
		e.person("other", "bea@staff.test", "owner")
		ann, al, bea := e.login("ann@staff.test", pw), e.login("al@staff.test", pw), e.login("bea@staff.test", pw)
		for _, email := range []string{"bob@acme.test", "carl@acme.test", "dora@acme.test", "sam@acme.test",
			"pat@acme.test", "ivy@acme.test", "ida@acme.test", "dan@acme.test", "xavier@x.acme.test", "yan@acme.test.evil", "opal@acme.test"} {
			e.signUp(email) // each person's own account, its email proven
		}
		bob, carl, dora := e.accountID("bob@acme.test"), e.accountID("carl@acme.test"), e.accountID("dora@acme.test")
		err := e.db.Write(context.Background(), func(tx account.Tx) error {
			a, err := tx.AccountByEmail(context.Background(), "opal@acme.test")
			if err != nil {
				return err
			}
			a.Operator = true
			return tx.UpdateAccount(context.Background(), a)
		})
		if err != nil {
			t.Fatal(err)
		}
		d := e.must(201, ann, "POST", "/api/v1/organizations/acme/domains", map[string]any{"domain": "acme.test"})
		e.must(200, e.op, "POST", "/api/v1/organizations/acme/domains/"+d["id"].(string)+"/verify", map[string]any{"force": true})
		members := "/api/v1/organizations/acme/members"
		add := func(token, org, email string, invite bool) map[string]any {
			t.Helper()
			return e.must(201, token, "POST", "/api/v1/organizations/"+org+"/members",
				map[string]any{"email": email, "role": "member", "send_invite": invite})
		}
		rename := func(token, org, id, name string) resp {
			t.Helper()
			return e.call(token, "PATCH", "/api/v1/organizations/"+org+"/members/"+id, map[string]any{"first_name": name})
		}

		// The setting off (the default): the verified domain alone links nobody.
		if o := e.must(200, ann, "GET", "/api/v1/organizations/acme", nil); o["manage_domain_accounts"] != false {
			t.Fatalf("a new organization: manage_domain_accounts = %v", o["manage_domain_accounts"])
		}
		m := add(ann, "acme", "carl@acme.test", false)
		if m["state"] != "invited" || jpath(m, "account", "managed") != false {
			t.Fatalf("carl added with the setting off: %v", m)
		}
		problem(t, rename(ann, "acme", carl, "Carlos"), 403, "forbidden", "first_name")

		// Only organization.manage turns it on; a bad value is 422 naming it.
		problem(t, e.call(al, "PATCH", "/api/v1/organizations/acme", map[string]any{"manage_domain_accounts": true}), 403, "forbidden")
		problem(t, e.call(ann, "PATCH", "/api/v1/organizations/acme", map[string]any{"manage_domain_accounts": "yes"}), 422, "validation", "manage_domain_accounts")
		if o := e.must(200, ann, "PATCH", "/api/v1/organizations/acme", map[string]any{"manage_domain_accounts": true}); o["manage_domain_accounts"] != true {
			t.Fatalf("turned on: %v", o)
		}
		orgID := e.must(200, ann, "GET", "/api/v1/organizations/acme", nil)["id"].(string)
		if after := e.auditAfter("acme", "organization.updated", orgID); after["manage_domain_accounts"] != true {
			t.Errorf("organization.updated after = %v", after)
		}

		// On: an invitation of bob links him at once, emailed and audited as such.
		m = add(ann, "acme", "bob@acme.test", true)
		if m["state"] != "active" || jpath(m, "account", "managed") != true || jpath(m, "account", "first_name") != "New" || m["invitation"] != nil {
			t.Fatalf("bob invited with the setting on: %v", m)
		}
		if e.count(account.NoticeDomainManaged, "bob@acme.test") != 1 || e.count(account.NoticeInvitation, "bob@acme.test") != 0 {
			t.Errorf("emails to bob: %v", e.outbox())
		}
		if after := e.auditAfter("acme", "member.added", bob); after["managed_by_domain"] != "acme.test" || after["state"] != "active" {
			t.Errorf("member.added after = %v", after)
		}
		// send_invite: false links dora too, without a password of the organization's.
		if m := add(ann, "acme", "dora@acme.test", false); m["state"] != "active" || jpath(m, "account", "managed") != true {
			t.Errorf("dora added: %v", m)
		}
		// The password stays the person's own: none is set for a managed account.
		problem(t, e.call(ann, "POST", members, map[string]any{"email": "pat@acme.test", "role": "member",
			"send_invite": false, "password": "a password of acme's"}), 422, "validation", "password")

		// Ann edits bob's profile: bob is told what changed, the trail says why.
		got := e.must(200, ann, "PATCH", members+"/"+bob, map[string]any{"first_name": "Robert", "phone": "+49 30 1234567"})
		if jpath(got, "account", "first_name") != "Robert" || jpath(got, "account", "managed") != true {
			t.Errorf("bob renamed: %v", got)
		}
		if e.count(account.NoticeDomainEdited, "bob@acme.test") != 1 {
			t.Errorf("emails to bob: %v", e.outbox())
		}
		if after := e.auditAfter("acme", "member.updated", bob); after["managed_by_domain"] != "acme.test" || after["first_name"] != "Robert" {
			t.Errorf("member.updated after = %v", after)
		}
		// Carl, invited while it was off, is managed now too: computed, not recorded.
		if got := e.must(200, ann, "GET", members+"/"+carl, nil); jpath(got, "account", "managed") != true || jpath(got, "account", "first_name") != "New" {
			t.Errorf("carl with the setting on: %v", got)
		}
		e.must(200, ann, "PATCH", members+"/"+carl, map[string]any{"first_name": "Carlos"})
		// Bob's own answer: the account is still his, managed by no organization.
		if me := e.must(200, e.login("bob@acme.test", pw), "GET", "/api/v1/me", nil); jpath(me, "account", "managed_by") != nil {
			t.Errorf("bob's account after the domain rule: managed_by %v", jpath(me, "account", "managed_by"))
		}

		// Another organization without the domain (even with the setting on) gains
		// nothing: bob is invited, his profile stays his and hidden.
		e.must(200, bea, "PATCH", "/api/v1/organizations/other", map[string]any{"manage_domain_accounts": true})
		if m := add(bea, "other", "bob@acme.test", true); m["state"] != "invited" || jpath(m, "account", "managed") != false || jpath(m, "account", "first_name") != "" {
			t.Errorf("bob invited by other: %v", m)
		}
		if m := add(bea, "other", "dora@acme.test", false); m["state"] != "invited" || jpath(m, "account", "managed") != false {
			t.Errorf("dora added by other: %v", m)
		}
		problem(t, rename(bea, "other", bob, "Bobby"), 403, "forbidden", "first_name")
		// It cannot take the domain either: verified for acme, so other's stays pending.
		od := e.must(201, bea, "POST", "/api/v1/organizations/other/domains", map[string]any{"domain": "acme.test"})
		if od["state"] != "pending" {
			t.Errorf("other's acme.test = %v", od)
		}
		problem(t, rename(bea, "other", bob, "Bobby"), 403, "forbidden", "first_name")

		// An import links the domain's accounts too, with or without send_invite.
		file := xlsxFile(t, [][]string{{"email", "first_name", "send_invite"},
			{"ivy@acme.test", "Ivy", "yes"}, {"ida@acme.test", "", "no"}})
		job := e.must(202, ann, "POST", "/api/v1/organizations/acme/imports", upload{name: "people.xlsx", content: file})
		e.runImports()
		if got := e.must(200, ann, "GET", "/api/v1/organizations/acme/imports/"+job["id"].(string), nil); got["created"] != 2.0 || got["invited"] != 0.0 {
			t.Errorf("import = %v", got)
		}
		for _, email := range []string{"ivy@acme.test", "ida@acme.test"} {
			got := e.must(200, ann, "GET", members+"/"+e.accountID(email), nil)
			if got["state"] != "active" || jpath(got, "account", "managed") != true || e.count(account.NoticeDomainManaged, email) != 1 {
				t.Errorf("%s imported: %v", email, got)
			}
		}
		// A disabled account of the domain is not linked, by any channel.
		e.must(200, e.op, "POST", "/api/v1/accounts/"+e.accountID("dan@acme.test")+"/disable", nil)
		problem(t, e.call(ann, "POST", members, map[string]any{"email": "dan@acme.test", "role": "member", "send_invite": true}), 403, "forbidden", "email")
		problem(t, e.call(ann, "POST", members, map[string]any{"email": "dan@acme.test", "role": "member", "send_invite": false}), 403, "forbidden", "email")

		// A bulk invitation adds the domain's existing accounts at once (a member in
		// the result, no invitation), invites everyone else, and refuses the disabled.
		bulk := e.must(200, ann, "POST", "/api/v1/organizations/acme/invitations", map[string]any{
			"emails": []string{"pat@acme.test", "newbie@acme.test", "nina@elsewhere.test", "dan@acme.test"}})
		res := bulk["results"].([]any)
		pat := res[0].(map[string]any)
		if pat["invitation"] != nil || jpath(pat, "member", "state") != "active" || jpath(pat, "member", "account", "managed") != true {
			t.Errorf("pat in a bulk invitation: %v", pat)
		}
		for _, r := range res[1:3] {
			if r := r.(map[string]any); r["invitation"] == nil || r["member"] != nil {
				t.Errorf("%v in a bulk invitation: want an invitation", r)
			}
		}
		if dan := res[3].(map[string]any); jpath(dan, "error", "status") != 403.0 || dan["member"] != nil {
			t.Errorf("a disabled account in a bulk invitation: %v", dan)
		}
		if e.count(account.NoticeDomainManaged, "pat@acme.test") != 1 || e.count(account.NoticeInvitation, "pat@acme.test") != 0 {
			t.Errorf("emails to pat: %v", e.outbox())
		}
		if after := e.auditAfter("acme", "member.added", e.accountID("pat@acme.test")); after["managed_by_domain"] != "acme.test" {
			t.Errorf("pat's member.added after = %v", after)
		}

		// Subdomains, look-alikes and operators are not acme.test's to manage.
		for _, email := range []string{"xavier@x.acme.test", "yan@acme.test.evil", "opal@acme.test"} {
			m := add(ann, "acme", email, false)
			if m["state"] != "invited" || jpath(m, "account", "managed") != false {
				t.Errorf("%s added: %v", email, m)
			}
			id := jpath(m, "account", "id").(string)
			problem(t, rename(ann, "acme", id, "Mallory"), 403, "forbidden", "first_name")
			if e.count(account.NoticeDomainManaged, email) != 0 || e.count(account.NoticeInvitation, email) != 1 {
				t.Errorf("emails to %s: %v", email, e.outbox())
			}
		}

		// SCIM provisions an existing account of the domain as an active member.
		tok := e.must(201, ann, "POST", "/api/v1/organizations/acme/scim-tokens", map[string]any{"description": "IdP"})["token"].(string)
		u := e.must(201, tok, "POST", "/scim/v2/organizations/acme/Users", map[string]any{
			"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": "sam@acme.test", "name": map[string]any{"givenName": "Samuel", "familyName": "Stone"}})
		if u["active"] != true || u["id"] != e.accountID("sam@acme.test") {
			t.Errorf("sam provisioned: %v", u)
		}
		sam := e.must(200, ann, "GET", members+"/"+u["id"].(string), nil)
		if sam["state"] != "active" || jpath(sam, "account", "managed") != true || jpath(sam, "account", "first_name") != "New" {
			t.Errorf("sam after SCIM: %v", sam) // a user's names are the membership's until an update applies them
		}
		if e.count(account.NoticeDomainManaged, "sam@acme.test") != 1 || e.count(account.NoticeInvitation, "sam@acme.test") != 0 {
			t.Errorf("emails to sam: %v", e.outbox())
		}
		if after := e.auditAfter("acme", "member.added", u["id"].(string)); after["managed_by_domain"] != "acme.test" {
			t.Errorf("sam's member.added after = %v", after)
		}
		if r := e.call(tok, "POST", "/scim/v2/organizations/acme/Users", map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "dan@acme.test"}); r.Status != 403 {
			t.Errorf("SCIM POST of a disabled account = %d, want 403\n%s", r.Status, r.Raw)
		}
		// A replace by the identity provider edits the managed account's profile.
		e.must(200, tok, "PUT", "/scim/v2/organizations/acme/Users/"+u["id"].(string), map[string]any{
			"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": "sam@acme.test", "name": map[string]any{"givenName": "Samuel", "familyName": "Stone"}})
		if sam := e.must(200, ann, "GET", members+"/"+u["id"].(string), nil); jpath(sam, "account", "first_name") != "Samuel" {
			t.Errorf("sam after the SCIM replace: %v", sam)
		}
		if e.count(account.NoticeDomainEdited, "sam@acme.test") != 1 {
			t.Errorf("emails to sam: %v", e.outbox())
		}
		// Other's SCIM token provisions bob only as an invitee.
		otok := e.must(201, bea, "POST", "/api/v1/organizations/other/scim-tokens", map[string]any{"description": "IdP"})["token"].(string)
		e.must(204, bea, "DELETE", "/api/v1/organizations/other/members/"+bob, nil)
		ou := e.must(201, otok, "POST", "/scim/v2/organizations/other/Users", map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "bob@acme.test"})
		if ob := e.must(200, bea, "GET", "/api/v1/organizations/other/members/"+ou["id"].(string), nil); ob["state"] != "invited" {
			t.Errorf("bob provisioned by other: %v", ob)
		}

		// Turned off: management ends at once; on again, it is back.
		e.must(200, ann, "PATCH", "/api/v1/organizations/acme", map[string]any{"manage_domain_accounts": false})
		problem(t, rename(ann, "acme", bob, "Bobby"), 403, "forbidden", "first_name")
		if got := e.must(200, ann, "GET", members+"/"+bob, nil); jpath(got, "account", "managed") != false {
			t.Errorf("bob with the setting off: %v", got)
		}
		e.must(200, ann, "PATCH", "/api/v1/organizations/acme", map[string]any{"manage_domain_accounts": true})
		e.must(200, ann, "PATCH", members+"/"+dora, map[string]any{"last_name": "Dee"})
		// The domain removed: it ends at once as well.
		e.must(204, ann, "DELETE", "/api/v1/organizations/acme/domains/"+d["id"].(string), nil)
		problem(t, rename(ann, "acme", bob, "Bobby"), 403, "forbidden", "first_name")
		problem(t, rename(ann, "acme", dora, "Dorothy"), 403, "forbidden", "first_name")
		if got := e.must(200, ann, "GET", members+"/"+dora, nil); jpath(got, "account", "managed") != false {
			t.Errorf("dora after the domain's removal: %v", got)
		}

		// The emails go out over SMTP, naming the organization and the domain.
		srv := smtptest.Start(t)
		sender, err := mail.NewSMTPSender(srv.URL(), "Roster <roster@acme.test>")
		if err != nil {
			t.Fatal(err)
		}
		w := &outbox.Worker{Store: e.db, Sender: sender, From: "Roster <roster@acme.test>",
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: e.clock.Now}
		for {
			sent, _, _, err := w.RunOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if sent == 0 {
				break
			}
		}
		var toBob []string
		for _, r := range srv.Received() {
			if slices.Contains(r.To, "bob@acme.test") {
				toBob = append(toBob, r.Header.Get("Subject")+"\n"+r.Text)
			}
		}
		all := strings.Join(toBob, "\n")
		if len(toBob) != 5 || // the sign-up's, acme's two, other's two invitations !strings.Contains(all, "Acme now manages your Roster account") ||
			!strings.Contains(all, "Acme changed your Roster profile") || !strings.Contains(all, "first name, phone") ||
			!strings.Contains(all, "accounts at acme.test") {
			t.Errorf("delivered to bob: %q", toBob)
		}
	})
}
