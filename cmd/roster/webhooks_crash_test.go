package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"roster.dev/roster/internal/testtime"
)

// TestDeliverySurvivesKill: roster serve is SIGKILLed while its webhook worker
// waits on an endpoint holding the first delivery; another roster serve on the
// same database makes the attempt again once the claim's lease has run out: the
// event arrives again with the same webhook-id, verified with the official
// Standard Webhooks library, and the delivery is recorded as delivered.
func TestDeliverySurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("two Roster processes, one killed, and a claim left to lapse: skipped by -short")
	}
	for engine, dbURL := range databases(t) {
		t.Run(engine, func(t *testing.T) {
			type request struct {
				header http.Header
				body   []byte
			}
			var mu sync.Mutex
			var got []request
			held := make(chan struct{})
			rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				got = append(got, request{r.Header.Clone(), b})
				first := len(got) == 1
				mu.Unlock()
				if first { // held until its sender dies and the connection drops
					close(held)
					<-r.Context().Done()
					return
				}
			}))
			defer rc.Close()
			env := map[string]string{"ROSTER_DATABASE_URL": dbURL, "ROSTER_WEBHOOKS_LEASE": "2s",
				"ROSTER_BOOTSTRAP_EMAIL": "op@roster.test", "ROSTER_BOOTSTRAP_PASSWORD": "correct horse battery"}
			base, cmd, logs := spawn(t, env, "--webhooks-allow-private")
			killed := false
			defer func() {
				if !killed {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
				}
			}()
			login := client{t: t, base: base}.must(200, "POST", "/api/v1/auth/login", map[string]any{"email": "op@roster.test", "password": "correct horse battery"})
			c := client{t: t, base: base, token: login["token"].(string)}
			c.must(201, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
			hook := c.must(201, "POST", "/api/v1/applications/studio/webhooks", map[string]any{"url": rc.URL, "events": []string{"member.added"}})
			c.must(201, "POST", "/api/v1/organizations", map[string]any{"name": "Acme", "kind": "organization"})
			from := time.Now().Add(-time.Hour).UTC()
			c.must(201, "POST", "/api/v1/organizations/acme/subscriptions", map[string]any{"application": "studio", "seats": 2,
				"starts_at": from, "ends_at": from.Add(30 * 24 * time.Hour)})
			c.must(201, "POST", "/api/v1/organizations/acme/members", map[string]any{"email": "bob@acme.test", "first_name": "Bob",
				"last_name": "B", "role": "member", "send_invite": false, "password": "correct horse battery"})
			select {
			case <-held:
			case <-time.After(30 * time.Second):
				t.Fatalf("no delivery reached the endpoint within 30s\n%s", logs)
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			killed = true

			base2, cmd2, logs2 := spawn(t, env, "--webhooks-allow-private")
			defer func() {
				_ = cmd2.Process.Signal(os.Interrupt)
				if err := cmd2.Wait(); err != nil {
					t.Errorf("the second roster serve exited with %v\n%s", err, logs2)
				}
			}()
			testtime.WaitFor(t, 60*time.Second, "the delivery made again by the second process", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(got) >= 2
			})
			mu.Lock()
			reqs := append([]request(nil), got...)
			mu.Unlock()
			wh, err := standardwebhooks.NewWebhook(hook["secret"].(string))
			if err != nil {
				t.Fatal(err)
			}
			id := reqs[0].header.Get("webhook-id")
			for i, r := range reqs {
				if r.header.Get("webhook-id") != id {
					t.Errorf("request %d has webhook-id %q, the first %q", i, r.header.Get("webhook-id"), id)
				}
				if err := wh.Verify(r.body, r.header); err != nil {
					t.Errorf("request %d: the Standard Webhooks library refuses it: %v", i, err)
				}
			}
			c.base = base2
			testtime.WaitFor(t, 10*time.Second, "the delivery recorded as delivered", func() bool {
				out := c.must(200, "GET", "/api/v1/applications/studio/webhooks/"+hook["id"].(string)+"/deliveries", nil)
				items, _ := out["items"].([]any)
				if len(items) != 1 {
					return false
				}
				d, _ := items[0].(map[string]any)
				return d["state"] == "delivered" && d["event"] == id
			})
		})
	}
}
