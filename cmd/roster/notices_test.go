package main

import (
	"context"
	"mime"
	"strings"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/mail/smtptest"
	"roster.dev/roster/internal/sqlstore"
)

// noticeBox reads what the SMTP server accepted, one recipient at a time.
type noticeBox struct {
	t   *testing.T
	srv *smtptest.Server
}

// to returns the messages accepted for addr so far, in order.
func (nb noticeBox) to(addr string) []smtptest.Received {
	var out []smtptest.Received
	for _, m := range nb.srv.Received() {
		if len(m.To) == 1 && strings.EqualFold(m.To[0], addr) {
			out = append(out, m)
		}
	}
	return out
}

// wait waits until addr has received n messages and returns the n-th, with its
// decoded subject.
func (nb noticeBox) wait(addr string, n int) (smtptest.Received, string) {
	nb.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if got := nb.to(addr); len(got) >= n {
			m := got[n-1]
			subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
			if err != nil {
				nb.t.Fatalf("subject of the email to %s: %v", addr, err)
			}
			return m, subject
		}
		if time.Now().After(deadline) {
			nb.t.Fatalf("email %d to %s not delivered within 30s; received: %d messages", n, addr, len(nb.srv.Received()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// outboxTo lists the recipients of every email in the outbox of the store at dbURL.
func outboxTo(t *testing.T, dbURL string) []string {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var to []string
	err = db.Read(ctx, func(tx account.Tx) error {
		msgs, err := tx.FindEmails(ctx, account.OutboxFilter{Limit: 1000})
		for _, m := range msgs {
			to = append(to, m.Kind+" "+m.To)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return to
}

// accountEmail reads the stored address of an account.
func accountEmail(t *testing.T, dbURL, id string) string {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var email string
	err = db.Read(ctx, func(tx account.Tx) error {
		a, err := tx.AccountByID(ctx, id)
		email = a.Email
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return email
}

// TestNoticesOverSMTP runs `roster serve` with a real SMTP server and checks what
// its notices say and to whom they go: never to a placeholder address; a SCIM
// account's activation email; role emails that name the role and what it allows;
// seat requests to the operators and their decision to the requester; the headers
// of a machine's email, and a Message-ID at the base URL's host.
func TestNoticesOverSMTP(t *testing.T) {
	for engine, dbURL := range databases(t) {
		t.Run(engine, func(t *testing.T) {
			// The Rcpt hook sees every recipient the worker tries, even one refused.
			var mu sync.Mutex
			var tried []string
			srv := smtptest.Start(t, func(s *smtptest.Server) {
				s.Rcpt = func(to string) error {
					mu.Lock()
					defer mu.Unlock()
					tried = append(tried, to)
					return nil
				}
			})
			const pw = "correct horse battery"
			const baseURL = "https://roster.acme.test"
			base, _, _ := start(t, map[string]string{"ROSTER_DATABASE_URL": dbURL, "ROSTER_BOOTSTRAP_EMAIL": "op@roster.test",
				"ROSTER_BOOTSTRAP_PASSWORD": pw}, "--smtp", srv.URL(), "--base-url", baseURL)
			nb := noticeBox{t: t, srv: srv}
			must := func(want int, method, path, token string, body any) map[string]any {
				t.Helper()
				status, out := callJSON(t, method, base+path, token, body)
				if status != want {
					t.Fatalf("%s %s = %d, want %d: %v", method, path, status, want, out)
				}
				return out
			}
			login := func(email, password string) string {
				t.Helper()
				return must(200, "POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": password})["token"].(string)
			}
			member := func(token, email, role string) string {
				t.Helper()
				m := must(201, "POST", "/api/v1/organizations/acme/members", token, map[string]any{"email": email,
					"first_name": strings.ToUpper(email[:1]) + email[1:strings.IndexByte(email, '@')], "last_name": "Test",
					"role": role, "send_invite": false, "password": pw})
				return m["account"].(map[string]any)["id"].(string)
			}
			op := login("op@roster.test", pw)
			must(201, "POST", "/api/v1/organizations", op, map[string]any{"name": "Acme", "slug": "acme", "kind": "organization"})
			must(201, "POST", "/api/v1/applications", op, map[string]any{"key": "studio", "name": "Studio"})
			starts := time.Now().Add(-time.Hour).UTC()
			sub := must(201, "POST", "/api/v1/organizations/acme/subscriptions", op, map[string]any{"application": "studio",
				"seats": 5, "starts_at": starts, "ends_at": starts.Add(365 * 24 * time.Hour)})["id"].(string)
			member(op, "ada@acme.test", "admin")
			ada := login("ada@acme.test", pw)
			scimToken := must(201, "POST", "/api/v1/organizations/acme/scim-tokens", op,
				map[string]any{"description": "Acme IdP"})["token"].(string)
			scim := "/scim/v2/organizations/acme"

			t.Run("no email to a placeholder address", func(t *testing.T) {
				// A SCIM user with no address gets a placeholder; every change to its
				// access would be a notice, and none is written or sent.
				u := must(201, "POST", scim+"/Users", scimToken, map[string]any{
					"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "nameless", "active": true})
				id := u["id"].(string)
				placeholder := accountEmail(t, dbURL, id)
				if placeholder != strings.ToLower(id)+"@scim.invalid" {
					t.Fatalf("the account's address is %q, want the placeholder %s@scim.invalid", placeholder, strings.ToLower(id))
				}
				must(200, "PUT", "/api/v1/organizations/acme/subscriptions/"+sub+"/seats/"+id, ada, nil)
				must(200, "PATCH", "/api/v1/organizations/acme/members/"+id, ada, map[string]any{"role": "admin"})
				must(200, "PATCH", "/api/v1/organizations/acme/members/"+id, ada, map[string]any{"role": "member"})
				must(200, "POST", "/api/v1/organizations/acme/members/"+id+"/deactivate", ada, nil)
				must(200, "POST", "/api/v1/organizations/acme/members/"+id+"/reactivate", ada, nil)
				must(204, "DELETE", scim+"/Users/"+id, scimToken, nil) // the removal notice of the issue
				// A notice written after them all, to a real address: once it is
				// delivered, the worker has been through the ones before.
				sentinel := member(ada, "sentinel@acme.test", "member")
				must(200, "PATCH", "/api/v1/organizations/acme/members/"+sentinel, ada, map[string]any{"role": "admin"})
				nb.wait("sentinel@acme.test", 1)
				for _, to := range outboxTo(t, dbURL) {
					if strings.Contains(to, ".invalid") {
						t.Errorf("the outbox holds %q", to)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				for _, to := range tried {
					if strings.HasSuffix(to, ".invalid") {
						t.Errorf("an email was sent to %s", to)
					}
				}
			})

			t.Run("a SCIM account gets an activation email", func(t *testing.T) {
				must(201, "POST", scim+"/Users", scimToken, map[string]any{
					"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "nia@acme.test", "active": true,
					"name": map[string]any{"givenName": "Nia", "familyName": "Ew"}})
				m, subject := nb.wait("nia@acme.test", 1)
				if subject != "Welcome to Roster: Acme created an account for you" {
					t.Errorf("subject %q", subject)
				}
				text := strings.Join(strings.Fields(m.Text), " ")
				for _, want := range []string{"Hello Nia,", "Your organization Acme created an account for you, nia@acme.test",
					"Set your password here", "Set my password: " + baseURL + "/password-reset/"} {
					if !strings.Contains(text, want) {
						t.Errorf("the activation email lacks %q:\n%s", want, m.Text)
					}
				}
				if strings.Contains(text, "Someone, probably you") || strings.Contains(text, "asked to reset") || strings.Contains(subject, "Reset") {
					t.Errorf("the activation email speaks of a reset:\n%s", m.Text)
				}
				// Its link sets the password.
				token := text[strings.Index(text, baseURL+"/password-reset/")+len(baseURL+"/password-reset/"):]
				token = strings.Fields(token)[0]
				if !strings.Contains(m.HTML, baseURL+"/password-reset/"+token) {
					t.Errorf("the HTML part lacks the link")
				}
				must(204, "POST", "/api/v1/auth/password-reset/confirm", "", map[string]any{"token": token, "new_password": pw})
				login("nia@acme.test", pw)
			})

			t.Run("a role email names the role and what it allows", func(t *testing.T) {
				bob := member(ada, "bob@acme.test", "member")
				must(200, "PATCH", "/api/v1/organizations/acme/members/"+bob, ada, map[string]any{"role": "admin"})
				m, subject := nb.wait("bob@acme.test", 1)
				text := strings.Join(strings.Fields(m.Text), " ")
				if subject != "Your role in Acme is now Admin" || !strings.Contains(text, "made you Admin of Acme (until now: Member). "+
					"It lets you: see its members and teams, invite people, edit and deactivate members, remove members, "+
					"manage roles, manage teams, assign seats, ask for more seats, review requests to join, "+
					"import members from spreadsheets, read the audit log.") {
					t.Errorf("admin: subject %q, text:\n%s", subject, m.Text)
				}

				viewer := must(201, "POST", "/api/v1/organizations/acme/roles", ada, map[string]any{"name": "Viewer",
					"permissions": []string{"members.read", "audit.read"}})["id"].(string)
				cy := member(ada, "cy@acme.test", "member")
				must(200, "PATCH", "/api/v1/organizations/acme/members/"+cy, ada, map[string]any{"role": viewer})
				m, subject = nb.wait("cy@acme.test", 1)
				text = strings.Join(strings.Fields(m.Text), " ")
				if subject != "Your role in Acme is now Viewer" ||
					!strings.Contains(text, "Ada Test made you Viewer of Acme (until now: Member). It lets you: see its members and teams, read the audit log.") {
					t.Errorf("viewer: subject %q, text:\n%s", subject, m.Text)
				}
				if strings.Contains(subject+text, "You are now an administrator") || strings.Contains(text, "manage its people") || strings.Contains(text, "invite") {
					t.Errorf("a read-only role's email claims more:\n%s", m.Text)
				}
				// Back to a role with no permissions: it says so.
				must(200, "PATCH", "/api/v1/organizations/acme/members/"+cy, ada, map[string]any{"role": "member"})
				m, subject = nb.wait("cy@acme.test", 2)
				text = strings.Join(strings.Fields(m.Text), " ")
				if subject != "Your role in Acme is now Member" || !strings.Contains(text, "from Viewer to Member. It does not let you manage Acme") {
					t.Errorf("member: subject %q, text:\n%s", subject, m.Text)
				}
			})

			t.Run("seat requests mail the operators, decisions the requester", func(t *testing.T) {
				before := len(nb.to("op@roster.test"))
				r := must(201, "POST", "/api/v1/organizations/acme/seat-requests", ada,
					map[string]any{"application": "studio", "quantity": 3, "note": "The Lisbon office starts Monday."})
				m, subject := nb.wait("op@roster.test", before+1)
				text := strings.Join(strings.Fields(m.Text), " ")
				if subject != "Acme asks for 3 more seats of Studio" ||
					!strings.Contains(text, "Ada Test (ada@acme.test) asked for 3 more seats of Studio for Acme and wrote: \u201cThe Lisbon office starts Monday.\u201d") ||
					!strings.Contains(text, baseURL+"/operator/seat-requests") {
					t.Errorf("request: subject %q, text:\n%s", subject, m.Text)
				}
				adaBefore := len(nb.to("ada@acme.test"))
				must(200, "POST", "/api/v1/seat-requests/"+r["id"].(string)+"/approve", op, map[string]any{"seats": 2})
				m, subject = nb.wait("ada@acme.test", adaBefore+1)
				text = strings.Join(strings.Fields(m.Text), " ")
				if subject != "Your request for seats of Studio in Acme is approved" ||
					!strings.Contains(text, "its subscription has 2 more seats") || !strings.Contains(text, baseURL+"/o/acme/subscriptions") {
					t.Errorf("approval: subject %q, text:\n%s", subject, m.Text)
				}
				r = must(201, "POST", "/api/v1/organizations/acme/seat-requests", ada, map[string]any{"application": "studio", "quantity": 1})
				nb.wait("op@roster.test", before+2)
				must(200, "POST", "/api/v1/seat-requests/"+r["id"].(string)+"/deny", op, nil)
				m, subject = nb.wait("ada@acme.test", adaBefore+2)
				text = strings.Join(strings.Fields(m.Text), " ")
				if subject != "Your request for seats of Studio in Acme is denied" || !strings.Contains(text, "denied your request for 1 more seat of Studio in Acme") {
					t.Errorf("denial: subject %q, text:\n%s", subject, m.Text)
				}
			})

			t.Run("every notice is auto-submitted, its Message-ID at the base URL's host", func(t *testing.T) {
				got := srv.Received()
				if len(got) < 8 {
					t.Fatalf("only %d emails received", len(got))
				}
				for _, m := range got {
					id := m.Header.Get("Message-Id")
					if m.Header.Get("Auto-Submitted") != "auto-generated" || m.Header.Get("X-Auto-Response-Suppress") != "All" ||
						!strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@roster.acme.test>") {
						t.Errorf("email to %v: Auto-Submitted %q, X-Auto-Response-Suppress %q, Message-ID %q", m.To,
							m.Header.Get("Auto-Submitted"), m.Header.Get("X-Auto-Response-Suppress"), id)
					}
				}
			})
		})
	}
}
