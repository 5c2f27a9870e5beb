package httpapi_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

var liveLink = regexp.MustCompile(`/(invitations|password-reset|verify-email)/r[ipv]_[A-Za-z0-9_-]{20,}`)

// TestNoLiveLinksOnceDelivered: every email that carries a one-time link (an
// invitation from add-user, from bulk invitations and from an import, a resent
// one, a password reset) keeps none in the outbox once delivered: the use case
// that writes it tells the outbox its secret.
func TestNoLiveLinksOnceDelivered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db)
		e.org("acme", "")
		org := "/api/v1/organizations/acme"
		m := e.must(201, e.op, "POST", org+"/members", map[string]any{"email": "ann@x.test", "first_name": "Ann", "last_name": "A",
			"role": "member", "send_invite": true})
		e.must(200, e.op, "POST", org+"/invitations", map[string]any{"emails": []string{"bo@x.test"}, "role": "member"})
		e.must(202, e.op, "POST", org+"/imports", upload{name: "x.csv", content: []byte("email,first_name,last_name,send_invite\ncy@x.test,Cy,C,yes\n")})
		e.runImports()
		e.must(200, e.op, "POST", org+"/invitations/"+m["invitation"].(map[string]any)["id"].(string)+"/resend", nil)
		e.must(202, "", "POST", "/api/v1/auth/password-reset", map[string]any{"email": operatorEmail})

		ctx := context.Background()
		msgs, err := db.ClaimEmails(ctx, "test", time.Now().Add(time.Hour), 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		links := 0
		for _, msg := range msgs {
			if liveLink.MatchString(msg.Text) {
				links++
			}
			if err := db.MarkEmailSent(ctx, msg.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if links < 5 {
			t.Fatalf("%d messages with a live link among %d, want 5 or more: the test would prove little", links, len(msgs))
		}
		all, err := db.FindEmails(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range all {
			if l := liveLink.FindString(msg.Text + msg.HTML); l != "" {
				t.Errorf("%s to %s, delivered, still holds %s", msg.Kind, msg.To, l)
			}
		}
	})
}
