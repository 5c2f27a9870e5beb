package httpapi_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
)

// checkDomains runs the background's round of pending domains once.
func (e *env) checkDomains() {
	e.t.Helper()
	if _, err := e.svc.CheckPendingDomains(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// auditActions lists the actions of an organization's audit trail, oldest first.
func (e *env) auditActions(org string) []string {
	e.t.Helper()
	b := e.must(200, e.op, "GET", "/api/v1/organizations/"+org+"/audit?limit=500", nil)
	var out []string
	for _, it := range b["items"].([]any) {
		out = append(out, it.(map[string]any)["action"].(string))
	}
	slices.Reverse(out)
	return out
}

// publish puts a domain's TXT record, as its answer names it, on the test's DNS server.
func (e *env) publish(d map[string]any) {
	v := d["verification"].(map[string]any)
	e.dns.SetTXT(v["name"].(string), "v=spf1 -all", v["value"].(string))
}

func lastCheckError(d map[string]any) string {
	s, _ := jpath(d, "last_check", "error").(string)
	return s
}

// TestDomainsVerify: a domain is added pending with its TXT record to publish;
// checks by hand against the test's DNS server fail (no record, another value, the
// server failing) with the reason in last_check and a 200; with the record it is
// verified and the administrators are emailed; a pending domain left a week
// expires in the background (emailed), and verifies again once published; the
// background verifies a domain whose record appears; the operator marks one
// verified; removing it emits domain.removed as verifying emitted domain.verified.
func TestDomainsVerify(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		e.subscribe("acme", "studio", 5, 365*24*time.Hour)
		e.member(e.op, "acme", "admin@acme.test", "admin")
		e.member(e.op, "acme", "plain@acme.test", "member")
		admin, plain := e.login("admin@acme.test", pw), e.login("plain@acme.test", pw)
		base := "/api/v1/organizations/acme/domains"

		// Who may: a member without members.manage is refused before the body counts.
		problem(t, e.call(plain, "POST", base, map[string]any{"domain": "gmail.com"}), 403, "forbidden")
		problem(t, e.call(plain, "GET", base, nil), 403, "forbidden")

		// Syntax and public mail providers: 422 naming domain.
		for _, bad := range []string{"", "gmail.com", "Mail.GMAIL.com.", "outlook.com", "yandex.ru", "qq.com", "gmx.de",
			"127.0.0.1", "[::1]", "localhost", "ann@acme.example", "https://acme.example/", "acme..example",
			"-acme.example", "acme.123", "acme example.com", strings.Repeat("a", 64) + ".example"} {
			problem(t, e.call(admin, "POST", base, map[string]any{"domain": bad}), 422, "validation", "domain")
		}
		idn := e.must(201, admin, "POST", base, map[string]any{"domain": "Bücher.Example"})
		if idn["domain"] != "xn--bcher-kva.example" {
			t.Errorf("an internationalized domain is stored as %v, want xn--bcher-kva.example", idn["domain"])
		}
		e.must(204, admin, "DELETE", base+"/"+idn["id"].(string), nil)

		d := e.must(201, admin, "POST", base, map[string]any{"domain": "  ACME.example. "})
		v := d["verification"].(map[string]any)
		if d["domain"] != "acme.example" || d["state"] != "pending" || v["type"] != "dns-txt" ||
			v["name"] != "_roster-verification.acme.example" || !strings.HasPrefix(v["value"].(string), "roster-verification=") ||
			d["last_check"] != nil || d["verified_at"] != nil {
			t.Fatalf("a new domain = %v", d)
		}
		problem(t, e.call(admin, "POST", base, map[string]any{"domain": "acme.example"}), 409, "conflict", "domain")
		id := d["id"].(string)
		verify := base + "/" + id + "/verify"

		// Fails, each with why: no record, a record without the value, a failing server.
		got := e.must(200, admin, "POST", verify, nil)
		if got["state"] != "pending" || !strings.Contains(lastCheckError(got), "no TXT record found at _roster-verification.acme.example") {
			t.Errorf("without a record: %v", got)
		}
		e.dns.SetTXT("_roster-verification.acme.example", "roster-verification=someone-else")
		if got := e.must(200, admin, "POST", verify, nil); !strings.Contains(lastCheckError(got), "do not hold") {
			t.Errorf("with another value: %v", got)
		}
		e.dns.Fail(true)
		if got := e.must(200, admin, "POST", verify, nil); !strings.Contains(lastCheckError(got), "failed") || got["state"] != "pending" {
			t.Errorf("with the server failing: %v", got)
		}
		e.dns.Fail(false)
		if n := e.count(account.NoticeDomainVerified, "admin@acme.test"); n != 0 {
			t.Fatalf("%d domain.verified emails before it verified", n)
		}

		// Only an operator forces.
		problem(t, e.call(admin, "POST", verify, map[string]any{"force": true}), 403, "forbidden")

		// Published: verified, the admins (members.manage) emailed, not the member.
		e.publish(d)
		got = e.must(200, admin, "POST", verify, nil)
		if got["state"] != "verified" || got["verified_by"] != "dns" || got["verified_at"] == nil || lastCheckError(got) != "" {
			t.Fatalf("published: %v", got)
		}
		if e.count(account.NoticeDomainVerified, "admin@acme.test") != 1 || e.count(account.NoticeDomainVerified, "plain@acme.test") != 0 {
			t.Errorf("domain.verified emails: %v", e.outbox())
		}
		// Verifying a verified domain answers it as it is.
		if again := e.must(200, admin, "POST", verify, nil); again["state"] != "verified" || again["verified_at"] != got["verified_at"] {
			t.Errorf("verified again: %v", again)
		}
		list := e.must(200, admin, "GET", base, nil)
		if list["total"] != float64(1) || len(list["items"].([]any)) != 1 {
			t.Errorf("list = %v", list)
		}

		// Left pending a week: the background expires it, and tells the admins.
		late := e.must(201, admin, "POST", base, map[string]any{"domain": "late.example"})
		e.clock.Advance(account.DomainPendingFor + time.Minute)
		e.checkDomains()
		admin, e.op = e.login("admin@acme.test", pw), e.login(operatorEmail, pw) // sessions last 12 hours
		late = e.must(200, admin, "GET", base+"/"+late["id"].(string), nil)
		if late["state"] != "expired" {
			t.Fatalf("a week unseen: %v", late)
		}
		if e.count(account.NoticeDomainExpired, "admin@acme.test") != 1 {
			t.Errorf("no domain.expired email: %v", e.outbox())
		}
		// Checked by hand unseen, it is pending another week; published, verified.
		lateVerify := base + "/" + late["id"].(string) + "/verify"
		again := e.must(200, admin, "POST", lateVerify, nil)
		until, _ := time.Parse(time.RFC3339, again["pending_until"].(string))
		if again["state"] != "pending" || until.Before(e.clock.Now().Add(account.DomainPendingFor-time.Minute)) {
			t.Errorf("an expired domain checked again: %v", again)
		}
		e.publish(late)
		if again := e.must(200, admin, "POST", lateVerify, nil); again["state"] != "verified" {
			t.Errorf("an expired domain re-verified: %v", again)
		}

		// The background verifies a pending domain whose record appears, on its
		// round after DomainRecheckEvery.
		bg := e.must(201, admin, "POST", base, map[string]any{"domain": "background.example"})
		e.checkDomains()
		if got := e.must(200, admin, "GET", base+"/"+bg["id"].(string), nil); got["state"] != "pending" || lastCheckError(got) == "" {
			t.Errorf("checked in the background without its record: %v", got)
		}
		e.publish(bg)
		e.checkDomains() // checked a moment ago: not due yet
		if got := e.must(200, admin, "GET", base+"/"+bg["id"].(string), nil); got["state"] != "pending" {
			t.Errorf("checked again before it was due: %v", got)
		}
		e.clock.Advance(account.DomainRecheckEvery + time.Second)
		e.checkDomains()
		if got := e.must(200, admin, "GET", base+"/"+bg["id"].(string), nil); got["state"] != "verified" {
			t.Errorf("the background did not verify a published domain: %v", got)
		}

		// The operator marks a domain verified without its record.
		forced := e.must(201, admin, "POST", base, map[string]any{"domain": "forced.example"})
		got = e.must(200, e.op, "POST", base+"/"+forced["id"].(string)+"/verify", map[string]any{"force": true})
		if got["state"] != "verified" || got["verified_by"] != "operator" {
			t.Errorf("forced: %v", got)
		}

		// Removed: gone.
		e.must(204, admin, "DELETE", base+"/"+id, nil)
		problem(t, e.call(admin, "GET", base+"/"+id, nil), 404, "not-found")
		problem(t, e.call(admin, "POST", verify, nil), 404, "not-found")

		actions := e.auditActions("acme")
		for _, want := range []string{"domain.added", "domain.checked", "domain.verified", "domain.expired", "domain.removed"} {
			if !slices.Contains(actions, want) {
				t.Errorf("the audit trail lacks %s: %v", want, actions)
			}
		}
		e.relay()
		var types []string
		for _, ev := range e.feed(e.op, "studio", 0, "&types=domain.verified,domain.removed") {
			types = append(types, ev["type"].(string)+" "+jpath(ev, "data", "domain", "domain").(string))
		}
		want := []string{"domain.removed xn--bcher-kva.example", "domain.verified acme.example", "domain.verified late.example", "domain.verified background.example",
			"domain.verified forced.example", "domain.removed acme.example"}
		if !slices.Equal(types, want) {
			t.Errorf("domain events = %v, want %v", types, want)
		}
	})
}

// TestDomainsCrossTenant: an admin of globex cannot see, verify or remove acme's
// domain (404, by either organization's path), and cannot verify a domain acme
// holds verified, even with its own record published (409 naming domain; the
// background leaves it pending, saying why); once acme removes it, globex verifies
// it. The store's unique index refuses a second verified copy whatever the caller.
func TestDomainsCrossTenant(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.org("globex", "")
		e.member(e.op, "acme", "admin@acme.test", "admin")
		e.member(e.op, "globex", "admin@globex.test", "owner")
		acme, globex := e.login("admin@acme.test", pw), e.login("admin@globex.test", pw)

		ad := e.must(201, acme, "POST", "/api/v1/organizations/acme/domains", map[string]any{"domain": "acme.example"})
		e.publish(ad)
		e.must(200, acme, "POST", "/api/v1/organizations/acme/domains/"+ad["id"].(string)+"/verify", nil)
		id := ad["id"].(string)

		for _, path := range []string{"/api/v1/organizations/acme/domains", "/api/v1/organizations/globex/domains"} {
			if path == "/api/v1/organizations/acme/domains" {
				problem(t, e.call(globex, "GET", path, nil), 404, "not-found")
				problem(t, e.call(globex, "POST", path, map[string]any{"domain": "evil.example"}), 404, "not-found")
			}
			problem(t, e.call(globex, "GET", path+"/"+id, nil), 404, "not-found")
			problem(t, e.call(globex, "POST", path+"/"+id+"/verify", nil), 404, "not-found")
			problem(t, e.call(globex, "DELETE", path+"/"+id, nil), 404, "not-found")
		}
		if got := e.must(200, acme, "GET", "/api/v1/organizations/acme/domains/"+id, nil); got["state"] != "verified" {
			t.Fatalf("acme's domain after the attacks: %v", got)
		}
		if list := e.must(200, globex, "GET", "/api/v1/organizations/globex/domains", nil); list["total"] != float64(0) {
			t.Errorf("globex lists %v", list)
		}

		// globex may add it pending, but not verify it while acme holds it.
		gd := e.must(201, globex, "POST", "/api/v1/organizations/globex/domains", map[string]any{"domain": "acme.example"})
		gv := gd["verification"].(map[string]any)
		if gv["value"] == ad["verification"].(map[string]any)["value"] {
			t.Fatal("two organizations got the same token")
		}
		e.dns.SetTXT(gv["name"].(string), ad["verification"].(map[string]any)["value"].(string), gv["value"].(string))
		gverify := "/api/v1/organizations/globex/domains/" + gd["id"].(string) + "/verify"
		r := e.call(globex, "POST", gverify, nil)
		problem(t, r, 409, "conflict", "domain")
		if strings.Contains(r.Raw, "Acme") || strings.Contains(r.Raw, "acme.test") {
			t.Errorf("the refusal names the holder: %s", r.Raw)
		}
		problem(t, e.call(e.op, "POST", gverify, map[string]any{"force": true}), 409, "conflict", "domain")
		e.clock.Advance(account.DomainRecheckEvery + time.Second)
		e.checkDomains()
		globex, acme, e.op = e.login("admin@globex.test", pw), e.login("admin@acme.test", pw), e.login(operatorEmail, pw)
		got := e.must(200, globex, "GET", "/api/v1/organizations/globex/domains/"+gd["id"].(string), nil)
		if got["state"] != "pending" || !strings.Contains(lastCheckError(got), "another organization") {
			t.Errorf("globex's copy after the background's round: %v", got)
		}

		// The store itself refuses a second verified copy.
		err := e.db.Write(context.Background(), func(tx account.Tx) error {
			org, err := tx.OrganizationByRef(context.Background(), "globex")
			if err != nil {
				return err
			}
			d, err := tx.Domain(context.Background(), org.ID, gd["id"].(string))
			if err != nil {
				return err
			}
			d.State, d.VerifiedBy, d.VerifiedAt = account.DomainVerified, account.VerifiedByDNS, e.clock.Now()
			return tx.UpdateDomain(context.Background(), d)
		})
		if account.ErrorCode(err) != account.ECONFLICT {
			t.Fatalf("a second verified copy in the store: %v, want ECONFLICT", err)
		}

		// acme lets it go: globex verifies it.
		e.must(204, acme, "DELETE", "/api/v1/organizations/acme/domains/"+id, nil)
		if got := e.must(200, globex, "POST", gverify, nil); got["state"] != "verified" {
			t.Errorf("globex verifying once acme removed it: %v", got)
		}
	})
}

// signUp signs a new person up and follows the verification link: their account,
// active, its email proven.
func (e *env) signUp(email string) map[string]any {
	e.t.Helper()
	e.must(202, "", "POST", "/api/v1/auth/signup", map[string]any{"email": email, "first_name": "New", "last_name": "Person"})
	return e.must(200, "", "POST", "/api/v1/auth/verify-email", map[string]any{"token": e.link(account.NoticeVerifyEmail, email), "password": pw})
}

func suggested(me map[string]any) []string {
	var out []string
	for _, o := range me["suggested_organizations"].([]any) {
		out = append(out, o.(map[string]any)["slug"].(string))
	}
	return out
}

func membershipIn(me map[string]any, slug string) map[string]any {
	for _, m := range me["memberships"].([]any) {
		if jpath(m, "organization", "slug") == slug {
			return m.(map[string]any)
		}
	}
	return nil
}

// TestDomainJoinPolicies: with acme.example verified for acme, its join policy
// decides what people of that address see and get. off: nothing. suggest: /me
// suggests acme to a proven address (never to an unproven one, never for a domain
// only pending), and the person may ask to join. auto: a new sign-up joins at once
// with domain_join_role, audited and emailed; an existing account joins at its next
// login; whoever leaves is not joined again (acme is suggested instead). The
// settings refuse what they cannot hold.
func TestDomainJoinPolicies(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.org("globex", "")
		e.member(e.op, "acme", "admin@acme.test", "admin")
		admin := e.login("admin@acme.test", pw)
		org := "/api/v1/organizations/acme"
		d := e.must(201, admin, "POST", org+"/domains", map[string]any{"domain": "acme.example"})
		e.publish(d)
		e.must(200, admin, "POST", org+"/domains/"+d["id"].(string)+"/verify", nil)
		// globex's domain is only pending: never revealed.
		e.must(201, e.op, "POST", "/api/v1/organizations/globex/domains", map[string]any{"domain": "globex.example"})
		e.must(200, e.op, "PATCH", "/api/v1/organizations/globex", map[string]any{"domain_join_policy": "auto"})

		if got := e.must(200, e.op, "GET", org, nil); got["domain_join_policy"] != "off" || got["domain_join_role"] != "member" {
			t.Fatalf("a new organization's policy: %v", got)
		}
		// The settings: organization.manage, and values they can hold.
		problem(t, e.call(admin, "PATCH", org, map[string]any{"domain_join_policy": "suggest"}), 403, "forbidden")
		problem(t, e.call(e.op, "PATCH", org, map[string]any{"domain_join_policy": "maybe"}), 422, "validation", "domain_join_policy")
		problem(t, e.call(e.op, "PATCH", org, map[string]any{"domain_join_role": "owner"}), 422, "validation", "domain_join_role")
		problem(t, e.call(e.op, "PATCH", org, map[string]any{"domain_join_role": "wizard"}), 422, "validation", "domain_join_role")

		// off: nothing.
		e.signUp("ann@acme.example")
		annTok := e.login("ann@acme.example", pw)
		me := e.must(200, annTok, "GET", "/api/v1/me", nil)
		if len(suggested(me)) != 0 || len(me["memberships"].([]any)) != 0 {
			t.Fatalf("policy off: /me = %v", me)
		}

		// suggest: a proven address sees acme and may ask to join; an unproven one
		// (an account an organization created with a password) and a pending
		// domain's people see nothing.
		e.must(200, e.op, "PATCH", org, map[string]any{"domain_join_policy": "suggest"})
		if got := suggested(e.must(200, annTok, "GET", "/api/v1/me", nil)); !slices.Equal(got, []string{"acme"}) {
			t.Errorf("policy suggest: suggested %v", got)
		}
		e.member(e.op, "globex", "unproven@acme.example", "member")
		if got := suggested(e.must(200, e.login("unproven@acme.example", pw), "GET", "/api/v1/me", nil)); len(got) != 0 {
			t.Errorf("an unproven address is suggested %v", got)
		}
		e.signUp("gil@globex.example")
		gil := e.must(200, e.login("gil@globex.example", pw), "GET", "/api/v1/me", nil)
		if len(suggested(gil)) != 0 || len(gil["memberships"].([]any)) != 0 {
			t.Errorf("a pending domain's person: /me = %v", gil)
		}
		e.must(201, annTok, "POST", org+"/join-requests", map[string]any{"message": "I work here"})

		// auto, with a custom role: a new sign-up joins at once.
		staff := e.must(201, e.op, "POST", org+"/roles", map[string]any{"name": "Staff", "permissions": []string{"members.read"}})
		e.must(200, e.op, "PATCH", org, map[string]any{"domain_join_policy": "auto", "domain_join_role": staff["id"]})
		e.signUp("carl@acme.example")
		carl := e.login("carl@acme.example", pw)
		me = e.must(200, carl, "GET", "/api/v1/me", nil)
		if m := membershipIn(me, "acme"); m == nil || m["state"] != "active" || m["role"] != staff["id"] {
			t.Fatalf("auto: carl's /me = %v", me)
		}
		if len(suggested(me)) != 0 {
			t.Errorf("a member is suggested %v", suggested(me))
		}
		if e.count(account.NoticeDomainJoined, "carl@acme.example") != 1 {
			t.Errorf("carl was not emailed: %v", e.outbox())
		}
		var joined bool
		for _, it := range e.must(200, e.op, "GET", org+"/audit?limit=500", nil)["items"].([]any) {
			ev := it.(map[string]any)
			if ev["action"] == "member.added" && jpath(ev, "after", "joined_by_domain") == "acme.example" && jpath(ev, "actor", "email") == "carl@acme.example" {
				joined = true
			}
		}
		if !joined {
			t.Error("the audit trail lacks carl's member.added by the domain")
		}

		// An existing account joins at its next login.
		annTok = e.login("ann@acme.example", pw)
		if m := membershipIn(e.must(200, annTok, "GET", "/api/v1/me", nil), "acme"); m == nil || m["state"] != "active" {
			t.Fatalf("ann did not join at login")
		}
		// Who leaves is not joined again; acme is suggested instead.
		e.must(204, annTok, "DELETE", "/api/v1/me/memberships/acme", nil)
		annTok = e.login("ann@acme.example", pw)
		me = e.must(200, annTok, "GET", "/api/v1/me", nil)
		if membershipIn(me, "acme") != nil || !slices.Equal(suggested(me), []string{"acme"}) {
			t.Errorf("ann after leaving and logging in: %v", me)
		}
		if e.count(account.NoticeDomainJoined, "ann@acme.example") != 1 {
			t.Errorf("ann's domain.joined emails: %v", e.outbox())
		}
		// The unproven account does not join at login either.
		if membershipIn(e.must(200, e.login("unproven@acme.example", pw), "GET", "/api/v1/me", nil), "acme") != nil {
			t.Error("an unproven address joined by its domain")
		}
		// Removing the domain ends it: a new sign-up joins nothing and sees nothing.
		e.must(204, admin, "DELETE", org+"/domains/"+d["id"].(string), nil)
		e.signUp("dora@acme.example")
		dora := e.must(200, e.login("dora@acme.example", pw), "GET", "/api/v1/me", nil)
		if len(dora["memberships"].([]any)) != 0 || len(suggested(dora)) != 0 {
			t.Errorf("after the domain's removal: %v", dora)
		}
	})
}

// TestDomainsVerifiedOnce: two organizations verifying one domain at the same
// moment, both with their records published: exactly one holds it verified, the
// other is refused with 409 naming domain (the store's unique index decides a race
// the check before it cannot see).
func TestDomainsVerifiedOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		for round := range 5 {
			name := fmt.Sprintf("race%d.example", round)
			var paths []string
			var tokens []string
			var values []string
			for _, org := range []string{fmt.Sprintf("a%d", round), fmt.Sprintf("b%d", round)} {
				e.org(org, "")
				d := e.must(201, e.op, "POST", "/api/v1/organizations/"+org+"/domains", map[string]any{"domain": name})
				paths = append(paths, "/api/v1/organizations/"+org+"/domains/"+d["id"].(string)+"/verify")
				values = append(values, d["verification"].(map[string]any)["value"].(string))
				e.member(e.op, org, "admin@"+org+".test", "admin")
				tokens = append(tokens, e.login("admin@"+org+".test", pw))
			}
			e.dns.SetTXT("_roster-verification."+name, values...)
			statuses := make([]int, 2)
			var wg sync.WaitGroup
			for i := range 2 {
				wg.Go(func() { statuses[i] = e.call(tokens[i], "POST", paths[i], nil).Status })
			}
			wg.Wait()
			slices.Sort(statuses)
			if !slices.Equal(statuses, []int{200, 409}) {
				t.Fatalf("round %d: statuses %v, want one 200 and one 409", round, statuses)
			}
			n := 0
			err := e.db.Read(context.Background(), func(tx account.Tx) error {
				_, err := tx.VerifiedDomain(context.Background(), name)
				if err == nil {
					n++
				}
				return err
			})
			if err != nil || n != 1 {
				t.Fatalf("round %d: the verified copy: %v", round, err)
			}
		}
	})
}
