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
