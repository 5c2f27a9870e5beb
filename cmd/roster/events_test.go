package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"roster.dev/roster/internal/testtime"
)

// TestServeDeliversEvents: through roster serve, a member added to an organization
// subscribed to studio reaches studio's webhook endpoint, signed (verified with the
// official Standard Webhooks library), and studio's feed, by its own key.
func TestServeDeliversEvents(t *testing.T) {
	for engine, dbURL := range databases(t) {
		t.Run(engine, func(t *testing.T) {
			var mu sync.Mutex
			var got []*http.Request
			var bodies [][]byte
			rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				got, bodies = append(got, r), append(bodies, b)
				mu.Unlock()
			}))
			defer rc.Close()
			env := map[string]string{"ROSTER_DATABASE_URL": dbURL,
				"ROSTER_BOOTSTRAP_EMAIL": "op@roster.test", "ROSTER_BOOTSTRAP_PASSWORD": "correct horse battery"}
			base, _, stderr := start(t, env, "--webhooks-allow-private")
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
			must(201, "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
			key := must(201, "/api/v1/applications/studio/keys", map[string]any{"name": "events"})["key"].(string)
			hook := must(201, "/api/v1/applications/studio/webhooks", map[string]any{"url": rc.URL, "events": []string{"member.added"}})
			must(201, "/api/v1/organizations", map[string]any{"name": "Acme", "kind": "organization"})
			from := time.Now().Add(-time.Hour).UTC()
			must(201, "/api/v1/organizations/acme/subscriptions", map[string]any{"application": "studio", "seats": 2,
				"starts_at": from, "ends_at": from.Add(30 * 24 * time.Hour)})
			must(201, "/api/v1/organizations/acme/members", map[string]any{"email": "bob@acme.test", "first_name": "Bob",
				"last_name": "B", "role": "member", "send_invite": false, "password": "correct horse battery"})

			testtime.WaitFor(t, 20*time.Second, "the member.added delivery", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(got) > 0
			})
			mu.Lock()
			r, body := got[0], bodies[0]
			mu.Unlock()
			wh, err := standardwebhooks.NewWebhook(hook["secret"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if err := wh.Verify(body, r.Header); err != nil {
				t.Fatalf("verify: %v\n%s", err, body)
			}
			var ev map[string]any
			if err := json.Unmarshal(body, &ev); err != nil || ev["type"] != "member.added" {
				t.Fatalf("body %s", body)
			}

			// The metrics count the delivery; nothing waits in the queue.
			testtime.WaitFor(t, 10*time.Second, "the delivery counted in /metrics", func() bool {
				res, err := http.Get(base + "/metrics")
				if err != nil {
					return false
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return strings.Contains(string(b), `roster_webhook_deliveries_total{outcome="delivered"} 1`) &&
					strings.Contains(string(b), "roster_webhook_queue_depth 0") && strings.Contains(string(b), "roster_webhook_oldest_pending_seconds 0")
			})

			req, _ := http.NewRequest("GET", base+"/api/v1/applications/studio/events?types=member.added", nil)
			req.Header.Set("Authorization", "Bearer "+key)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var feed struct {
				Items []struct {
					ID   string `json:"id"`
					Type string `json:"type"`
				} `json:"items"`
			}
			if err := json.NewDecoder(res.Body).Decode(&feed); err != nil || len(feed.Items) != 1 || feed.Items[0].ID != r.Header.Get("webhook-id") {
				t.Fatalf("feed %+v (%v), want the delivered event %s", feed, err, r.Header.Get("webhook-id"))
			}
		})
	}
}
