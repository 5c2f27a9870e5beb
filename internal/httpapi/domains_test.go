package httpapi_test

import (
	"context"
	"slices"
	"strings"
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
