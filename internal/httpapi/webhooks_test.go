package httpapi_test

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
)

// TestWebhookEndpoints walks an endpoint's life: refused URLs and types, the secret
// shown once, changes, rotation with the old secret signing for 24 hours, a test
// event, its delivery and retry, deletion; and another application's endpoint is 404.
func TestWebhookEndpoints(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "support", "name": "Support"})
		hooks := "/api/v1/applications/studio/webhooks"
		for _, body := range []map[string]any{{}, {"url": "http://hooks.example.com/x"}, {"url": "ftp://hooks.example.com/x"},
			{"url": "https://10.1.2.3/x"}, {"url": "https://[::1]/x"}, {"url": "https://localhost/x"}, {"url": "https://u:p@hooks.example.com/"},
			{"url": "/relative"}} {
			problem(t, e.call(e.op, "POST", hooks, body), 422, "validation", "url")
		}
		problem(t, e.call(e.op, "POST", hooks, map[string]any{"url": "https://hooks.example.com/x", "events": []string{"member.added", "nope"}}), 422, "validation", "events")
		problem(t, e.call(e.op, "POST", "/api/v1/applications/nope/webhooks", map[string]any{"url": "https://hooks.example.com/x"}), 404, "not-found")

		hook := e.must(201, e.op, "POST", hooks, map[string]any{"url": "https://hooks.example.com/roster", "events": []string{"seat.assigned"}, "description": "CRM"})
		secret, _ := hook["secret"].(string)
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if !strings.HasPrefix(secret, "whsec_") || err != nil || len(raw) < 24 {
			t.Fatalf("secret = %q (%v, %d bytes)", secret, err, len(raw))
		}
		if hook["enabled"] != true || !slices.Equal(toStrings(hook["events"]), []string{"seat.assigned"}) || hook["description"] != "CRM" {
			t.Errorf("created %v", hook)
		}
		id := hook["id"].(string)
		one := hooks + "/" + id
		got := e.must(200, e.op, "GET", one, nil)
		if _, shown := got["secret"]; shown || got["url"] != "https://hooks.example.com/roster" {
			t.Errorf("GET shows %v", got)
		}
		list := e.must(200, e.op, "GET", hooks, nil)
		if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["secret"] != nil {
			t.Errorf("list = %v", list)
		}
		// Another application's path never reaches the endpoint.
		problem(t, e.call(e.op, "GET", "/api/v1/applications/support/webhooks/"+id, nil), 404, "not-found")
		problem(t, e.call(e.op, "DELETE", "/api/v1/applications/support/webhooks/"+id, nil), 404, "not-found")

		patched := e.must(200, e.op, "PATCH", one, map[string]any{"events": []string{}, "enabled": false})
		if patched["enabled"] != false || len(patched["events"].([]any)) != 0 {
			t.Errorf("patched %v", patched)
		}
		problem(t, e.call(e.op, "PATCH", one, map[string]any{"url": "http://hooks.example.com/"}), 422, "validation", "url")

		rotated := e.must(200, e.op, "POST", one+"/rotate-secret", nil)
		newSecret, _ := rotated["secret"].(string)
		if !strings.HasPrefix(newSecret, "whsec_") || newSecret == secret {
			t.Fatalf("rotated secret = %q", newSecret)
		}
		var w account.Webhook
		err = e.db.Read(context.Background(), func(tx account.Tx) (err error) {
			app, err := tx.Application(context.Background(), "studio")
			if err != nil {
				return err
			}
			w, err = tx.Webhook(context.Background(), app.ID, id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		now := e.clock.Now()
		if s := w.Secrets(now); !slices.Equal(s, []string{newSecret, secret}) {
			t.Errorf("secrets now = %q, want the new then the old", s)
		}
		if s := w.Secrets(now.Add(24*time.Hour + time.Second)); !slices.Equal(s, []string{newSecret}) {
			t.Errorf("secrets after 24 hours = %q, want the new only", s)
		}

		e.must(202, e.op, "POST", one+"/test", nil)
		dels := e.must(200, e.op, "GET", one+"/deliveries", nil)["items"].([]any)
		if len(dels) != 1 {
			t.Fatalf("deliveries = %v", dels)
		}
		d := dels[0].(map[string]any)
		if d["type"] != "webhook.test" || d["state"] != "pending" || d["attempt"] != 0.0 || d["next_attempt_at"] == nil || d["event"] == "" {
			t.Errorf("the test's delivery = %v", d)
		}
		e.must(202, e.op, "POST", one+"/deliveries/"+d["id"].(string)+"/retry", nil)
		problem(t, e.call(e.op, "POST", one+"/deliveries/nope/retry", nil), 404, "not-found")

		// Audited on the platform's trail.
		audit := e.must(200, e.op, "GET", "/api/v1/audit?limit=500", nil)["items"].([]any)
		var actions []string
		for _, a := range audit {
			if act := a.(map[string]any)["action"].(string); strings.HasPrefix(act, "webhook.") {
				actions = append(actions, act)
			}
		}
		if want := []string{"webhook.delivery_retried", "webhook.secret_rotated", "webhook.updated", "webhook.created"}; !slices.Equal(actions, want) {
			t.Errorf("audited %q, want %q", actions, want)
		}

		e.must(204, e.op, "DELETE", one, nil)
		problem(t, e.call(e.op, "GET", one, nil), 404, "not-found")
		problem(t, e.call(e.op, "GET", one+"/deliveries", nil), 404, "not-found")
	})
}
