package httpapi_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
)

// outbox lists "kind to" of every email in the outbox, oldest first.
func (e *env) outbox() []string {
	e.t.Helper()
	msgs, err := e.db.FindEmails(context.Background(), "", 500)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range slices.Backward(msgs) {
		out = append(out, m.Kind+" "+m.To)
	}
	return out
}

// TestAccessEmails: every change of someone's access writes an email to them, in the
// change's transaction; send_invite: false writes none.
func TestAccessEmails(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		sub := e.subscribe("acme", "studio", 5, 365*24*time.Hour)
		e.member(e.op, "acme", "ada@acme.test", "admin", map[string]any{"applications": []string{"studio"}})
		if got := e.outbox(); len(got) != 0 {
			t.Fatalf("send_invite: false wrote emails: %v", got)
		}
		ada := e.login("ada@acme.test", pw)
		bob := accountID(e.member(ada, "acme", "bob@acme.test", "member"))
		path := "/api/v1/organizations/acme/members/" + bob
		seat := "/api/v1/organizations/acme/subscriptions/" + sub["id"].(string) + "/seats/" + bob

		e.must(200, ada, "PUT", seat, nil)
		e.must(200, ada, "PUT", seat, nil) // held already: no second email
		e.must(204, ada, "DELETE", seat, nil)
		e.must(200, ada, "PATCH", path, map[string]any{"role": "admin"})
		e.must(200, ada, "PATCH", path, map[string]any{"role": "member", "first_name": "Robert"})
		e.must(200, ada, "PATCH", path, map[string]any{"last_name": "Baker"}) // details only: no email
		e.must(200, ada, "POST", path+"/deactivate", nil)
		e.must(200, ada, "POST", path+"/reactivate", nil)
		e.must(204, ada, "DELETE", path, nil)
		// A refused change writes nothing.
		problem(t, e.call(ada, "PUT", seat, nil), 404, "not-found")

		want := []string{}
		for _, k := range []string{account.NoticeSeatAssigned, account.NoticeSeatUnassigned, account.NoticeAdminGranted,
			account.NoticeAdminRevoked, account.NoticeDeactivated, account.NoticeReactivated, account.NoticeRemoved} {
			want = append(want, k+" bob@acme.test")
		}
		if got := e.outbox(); !slices.Equal(got, want) {
			t.Errorf("outbox:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		msgs, _ := e.db.FindEmails(context.Background(), account.OutboxPending, 1)
		if m := msgs[0]; !strings.Contains(m.Subject, "Acme") || !strings.Contains(m.Text, "Fad Lad removed you") || !strings.Contains(m.HTML, "http://roster.test/") {
			t.Errorf("the removal email = %q / %q", m.Subject, m.Text)
		}
	})
}

// TestSeatRequestEmails: a seat request is emailed, in its transaction, to every
// active operator (not a disabled one, nor the operator who asked); its decision to
// the person who asked while they are an active member of the organization.
func TestSeatRequestEmails(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.org("acme", "")
		e.must(201, e.op, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
		e.subscribe("acme", "studio", 5, 365*24*time.Hour)
		e.member(e.op, "acme", "ada@acme.test", "admin")
		benID := accountID(e.member(e.op, "acme", "ben@acme.test", "admin"))
		ada, ben := e.login("ada@acme.test", pw), e.login("ben@acme.test", pw)
		// A second operator, and a disabled one.
		err := e.db.Write(ctx, func(tx account.Tx) error {
			for i, email := range []string{"op2@roster.test", "gone@roster.test"} {
				now := time.Now()
				a := account.Account{ID: "op-" + email[:2], Email: email, State: account.AccountActive, Operator: true,
					CreatedAt: now, UpdatedAt: now}
				if i == 1 {
					a.State = account.AccountDisabled
				}
				if err := tx.CreateAccount(ctx, a); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		reqs := "/api/v1/organizations/acme/seat-requests"
		r1 := e.must(201, ada, "POST", reqs, map[string]any{"application": "studio", "quantity": 3})
		r2 := e.must(201, ben, "POST", reqs, map[string]any{"application": "studio", "quantity": 1})
		r3 := e.must(201, e.op, "POST", reqs, map[string]any{"application": "studio", "quantity": 2}) // the operator, for acme
		problem(t, e.call(ada, "POST", reqs, map[string]any{"application": "studio", "quantity": 0}), 422, "validation", "quantity")
		want := []string{
			"seat_request.created " + operatorEmail, "seat_request.created op2@roster.test",
			"seat_request.created " + operatorEmail, "seat_request.created op2@roster.test",
			"seat_request.created op2@roster.test",
		}
		if got := e.outbox(); !slices.Equal(got, want) {
			t.Fatalf("outbox:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		msgs, _ := e.db.FindEmails(ctx, account.OutboxPending, 1)
		if m := msgs[0]; m.Subject != "Acme asks for 2 more seats of Studio" || m.OrgID == "" ||
			!strings.Contains(m.Text, "http://roster.test/operator/seat-requests") {
			t.Errorf("the request email = %q / %q", m.Subject, m.Text)
		}

		// Ada is told of the approval; Ben, removed meanwhile, is not told of the
		// denial; the operator's own request is decided without an email.
		e.must(200, e.op, "POST", "/api/v1/seat-requests/"+r1["id"].(string)+"/approve", map[string]any{})
		e.must(204, e.op, "DELETE", "/api/v1/organizations/acme/members/"+benID, nil)
		e.must(200, e.op, "POST", "/api/v1/seat-requests/"+r2["id"].(string)+"/deny", nil)
		e.must(200, e.op, "POST", "/api/v1/seat-requests/"+r3["id"].(string)+"/deny", nil)
		got := e.outbox()[len(want):]
		if want := []string{"seat_request.approved ada@acme.test", "member.removed ben@acme.test"}; !slices.Equal(got, want) {
			t.Errorf("after the decisions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		msgs, _ = e.db.FindEmails(ctx, account.OutboxPending, 2)
		if m := msgs[1]; m.Subject != "Your request for seats of Studio in Acme is approved" || !strings.Contains(m.Text, "3 more seats") ||
			!strings.Contains(m.Text, "http://roster.test/o/acme/subscriptions") {
			t.Errorf("the approval email = %q / %q", m.Subject, m.Text)
		}
	})
}
