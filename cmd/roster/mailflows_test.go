package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/mail/smtptest"
)

func callJSON(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var r *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	} else {
		r = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, url, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// mailbox waits for the messages the SMTP server accepts for one address.
type mailbox struct {
	t    *testing.T
	srv  *smtptest.Server
	seen map[string]int
}

// next waits for the next message to addr and returns the token of its link under
// base+"/"+path+"/", checking that the link is in the HTML part too.
func (mb *mailbox) next(addr, base, path string) string {
	mb.t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(base+"/"+path+"/") + `([A-Za-z0-9_-]+)`)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		n := 0
		for _, m := range mb.srv.Received() {
			if len(m.To) != 1 || !strings.EqualFold(m.To[0], addr) {
				continue
			}
			if n++; n <= mb.seen[addr] {
				continue
			}
			mb.seen[addr] = n
			match := re.FindStringSubmatch(m.Text)
			if match == nil {
				mb.t.Fatalf("the email to %s (%q) has no %s link:\n%s", addr, m.Header.Get("Subject"), path, m.Text)
			}
			if !strings.Contains(m.HTML, match[0]) {
				mb.t.Errorf("the HTML part to %s lacks %s", addr, match[0])
			}
			return match[1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	mb.t.Fatalf("no new email to %s within 30s", addr)
	return ""
}

// TestEmailFlowsOverSMTP runs the invitation, sign-up, join-request and password-reset
// flows against `roster serve` with a real SMTP server catching the mail: every link
// is followed from the email that carried it.
func TestEmailFlowsOverSMTP(t *testing.T) {
	for engine, dbURL := range databases(t) {
		t.Run(engine, func(t *testing.T) {
			srv := smtptest.Start(t)
			const pw = "correct horse battery"
			base, _, _ := start(t, map[string]string{"ROSTER_DATABASE_URL": dbURL, "ROSTER_BOOTSTRAP_EMAIL": "op@roster.test",
				"ROSTER_BOOTSTRAP_PASSWORD": pw}, "--smtp", srv.URL())
			mb := &mailbox{t: t, srv: srv, seen: map[string]int{}}
			api := base + "/api/v1"
			must := func(want int, method, path, token string, body any) map[string]any {
				t.Helper()
				status, out := callJSON(t, method, api+path, token, body)
				if status != want {
					t.Fatalf("%s %s = %d, want %d: %v", method, path, status, want, out)
				}
				return out
			}
			login := func(email, password string) string {
				t.Helper()
				return must(200, "POST", "/auth/login", "", map[string]any{"email": email, "password": password})["token"].(string)
			}
			op := login("op@roster.test", pw)
			must(201, "POST", "/organizations", op, map[string]any{"name": "Acme", "kind": "organization"})
			must(201, "POST", "/organizations/acme/members", op, map[string]any{"email": "ada@acme.test", "first_name": "Ada",
				"last_name": "Lovelace", "role": "admin", "send_invite": false, "password": pw})
			ada := login("ada@acme.test", pw)

			// Invitation: the new person sets up their account from the email.
			must(201, "POST", "/organizations/acme/members", ada, map[string]any{"email": "new@acme.test", "first_name": "Nia",
				"last_name": "Ew", "role": "member", "send_invite": true})
			token := mb.next("new@acme.test", base, "invitations")
			if p := must(200, "GET", "/invitations/"+token, "", nil); p["inviter"] != "Ada Lovelace" {
				t.Errorf("preview = %v", p)
			}
			must(200, "POST", "/invitations/"+token+"/accept", "", map[string]any{"password": pw})
			login("new@acme.test", pw)

			// Sign-up, then a join request: every reviewer is emailed; approval invites.
			must(202, "POST", "/auth/signup", "", map[string]any{"email": "joe@else.test", "first_name": "Joe", "last_name": "Else", "password": pw})
			must(200, "POST", "/auth/verify-email", "", map[string]any{"token": mb.next("joe@else.test", base, "verify-email"), "password": pw})
			joe := login("joe@else.test", pw)
			jr := must(201, "POST", "/organizations/acme/join-requests", joe, map[string]any{"message": "Let me in"})
			mb.next("ada@acme.test", base, "o/acme") // …/o/acme/join-requests
			must(200, "POST", "/organizations/acme/join-requests/"+jr["id"].(string)+"/approve", ada, nil)
			must(200, "POST", "/invitations/"+mb.next("joe@else.test", base, "invitations")+"/accept", joe, nil)

			// Password reset: the link sets a new password and logs out every session.
			must(202, "POST", "/auth/password-reset", "", map[string]any{"email": "joe@else.test"})
			must(204, "POST", "/auth/password-reset/confirm", "", map[string]any{
				"token": mb.next("joe@else.test", base, "password-reset"), "new_password": "a new password entirely"})
			if status, _ := callJSON(t, "GET", api+"/me", joe, nil); status != 401 {
				t.Errorf("the old session answers %d after a reset, want 401", status)
			}
			joe = login("joe@else.test", "a new password entirely")
			me := must(200, "GET", "/me", joe, nil)
			if ms := me["memberships"].([]any); len(ms) != 1 || ms[0].(map[string]any)["state"] != "active" {
				t.Errorf("joe's memberships = %v", ms)
			}
		})
	}
}
