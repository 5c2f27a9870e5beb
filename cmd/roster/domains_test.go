package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"roster.dev/roster/internal/dnstest"
	"roster.dev/roster/internal/testtime"
)

// TestServeDNSResolver: roster serve --dns-resolver looks domains' TXT records up
// at that server (here one of the test's own, on loopback UDP): a domain is pending
// until its record is published there, then verified, by hand and by the domains
// Work.
func TestServeDNSResolver(t *testing.T) {
	for engine, dbURL := range databases(t) {
		t.Run(engine, func(t *testing.T) {
			dns := dnstest.Start(t)
			env := map[string]string{"ROSTER_DATABASE_URL": dbURL,
				"ROSTER_BOOTSTRAP_EMAIL": "op@roster.test", "ROSTER_BOOTSTRAP_PASSWORD": "correct horse battery"}
			base, _, stderr := start(t, env, "--dns-resolver", dns.Addr())
			_, login := postJSON(t, base+"/api/v1/auth/login", "", map[string]any{"email": "op@roster.test", "password": "correct horse battery"})
			op := login["token"].(string)
			must := func(want int, path string, body any) map[string]any {
				t.Helper()
				status, out := postJSON(t, base+path, op, body)
				if status != want {
					t.Fatalf("POST %s = %d %v\n%s", path, status, out, stderr)
				}
				return out
			}
			must(201, "/api/v1/organizations", map[string]any{"name": "Acme", "kind": "organization"})
			d := must(201, "/api/v1/organizations/acme/domains", map[string]any{"domain": "acme.example"})
			verify := "/api/v1/organizations/acme/domains/" + d["id"].(string) + "/verify"
			if got := must(200, verify, map[string]any{}); got["state"] != "pending" {
				t.Fatalf("before the record: %v", got)
			}
			before := dns.Queries()
			v := d["verification"].(map[string]any)
			dns.SetTXT(v["name"].(string), v["value"].(string))
			if got := must(200, verify, map[string]any{}); got["state"] != "verified" {
				t.Fatalf("with the record: %v", got)
			}
			if dns.Queries() <= before {
				t.Error("serve did not ask the --dns-resolver server")
			}

			// The background: a pending domain published meanwhile is verified by the
			// domains Work of a serve started on the same store (it checks at start).
			bg := must(201, "/api/v1/organizations/acme/domains", map[string]any{"domain": "background.example"})
			bv := bg["verification"].(map[string]any)
			dns.SetTXT(bv["name"].(string), bv["value"].(string))
			start(t, env, "--dns-resolver", dns.Addr())
			testtime.WaitFor(t, 20*time.Second, "the background's verification", func() bool {
				req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/organizations/acme/domains/"+bg["id"].(string), nil)
				req.Header.Set("Authorization", "Bearer "+op)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					return false
				}
				defer res.Body.Close()
				var got map[string]any
				return json.NewDecoder(res.Body).Decode(&got) == nil && got["state"] == "verified"
			})
		})
	}
}
