package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestOperatorOutboxScrubbed: a failed message whose one-time link was scrubbed
// offers no retry, and a retry posted anyway is refused (409) with the reason.
func TestOperatorOutboxScrubbed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newOpEnv(t, db)
		secret := "ri_" + strings.Repeat("s", 43)
		now := time.Now()
		if err := db.Write(bg, func(tx account.Tx) error {
			return tx.EnqueueEmail(bg, account.Email{ID: "em-scrubbed", Kind: account.NoticeInvitation, To: "ivy@x.test",
				Subject: "Join", Text: "Accept: https://roster.test/invitations/" + secret, HTML: `<a href="https://roster.test/invitations/` + secret + `">Accept</a>`,
				Secret: secret, CreatedAt: now})
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ClaimEmails(bg, now.Add(time.Minute), 10, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkEmailFailed(bg, "em-scrubbed", "550 no such user", now); err != nil {
			t.Fatal(err)
		}
		op := e.login(opEmail, opPass)
		all := op.get("/operator/outbox")
		wantStatus(t, all, http.StatusOK)
		wantIn(t, all, `id="email-em-scrubbed"`, "link removed: not retried")
		wantNotIn(t, all, "/operator/outbox/em-scrubbed/retry", secret)
		res := op.post("/operator/outbox/em-scrubbed/retry", nil)
		wantStatus(t, res, http.StatusConflict)
		wantIn(t, res, "one-time link was removed")
	})
}
