package sqlstore_test

import (
	"crypto/rand"
	"log/slog"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/mail"
	"roster.dev/roster/internal/mail/smtptest"
	"roster.dev/roster/internal/outbox"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

var resetLink = regexp.MustCompile(`https://roster\.example/password-reset/(rp_[A-Za-z0-9_-]{43})`)

// dump is the whole database as text.
func dump(t *testing.T, db *sqlstore.DB) string {
	t.Helper()
	s, err := sqlstore.DumpText(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pendingToken is the token of the link of the one pending message, checked to be
// in the database until the message is delivered.
func pendingToken(t *testing.T, db *sqlstore.DB) (id, token string) {
	t.Helper()
	ms, err := db.FindEmails(ctx, account.OutboxPending, 0)
	if err != nil || len(ms) != 1 {
		t.Fatalf("pending messages %+v, %v; want one", ms, err)
	}
	m := resetLink.FindStringSubmatch(ms[0].Text)
	if m == nil {
		t.Fatalf("no reset link in %q", ms[0].Text)
	}
	if !strings.Contains(dump(t, db), m[1]) {
		t.Fatal("the pending message's token is not in the dump: the test would prove nothing")
	}
	return ms[0].ID, m[1]
}

func emailByID(t *testing.T, db *sqlstore.DB, id string) account.OutboxMessage {
	t.Helper()
	ms, err := db.FindEmails(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("no message %s", id)
	return account.OutboxMessage{}
}

// TestDeliveredLinksScrubbed: once a message with a one-time link is sent, no value
// anywhere in the database holds its token; the outbox keeps who, when and which
// template, with the link's token replaced by [redacted], and the email received
// carries the live link. A message that failed keeps its link until it is retried
// and sent.
func TestDeliveredLinksScrubbed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		var refuse atomic.Bool
		srv := smtptest.Start(t, func(s *smtptest.Server) {
			s.Rcpt = func(string) error {
				if refuse.Load() {
					return smtptest.Reply(550, "no such user")
				}
				return nil
			}
		})
		svc := account.NewService(account.Options{
			Store: db, Hasher: password.NewHasher(password.TestParams, 4, rand.Reader),
			Renderer: mail.NewNoticeRenderer(), BaseURL: "https://roster.example",
		})
		if _, _, err := svc.Bootstrap(ctx, "op@roster.test", "correct horse battery"); err != nil {
			t.Fatal(err)
		}
		sender, err := mail.NewSMTPSender(srv.URL(), "Roster <no-reply@roster.example>")
		if err != nil {
			t.Fatal(err)
		}
		w := &outbox.Worker{Store: db, Sender: sender, Log: slog.New(slog.DiscardHandler)}
		run := func(sent, failed int) {
			t.Helper()
			s, _, f, err := w.RunOnce(ctx)
			if err != nil || s != sent || f != failed {
				t.Fatalf("RunOnce: sent %d, failed %d, %v; want %d, %d", s, f, err, sent, failed)
			}
		}

		// Sent: the person gets the live link; the database keeps none.
		if err := svc.RequestPasswordReset(ctx, "op@roster.test", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		id, token := pendingToken(t, db)
		run(1, 0)
		got := srv.Received()
		if len(got) != 1 || !strings.Contains(got[0].Text, "https://roster.example/password-reset/"+token) ||
			!strings.Contains(got[0].HTML, `href="https://roster.example/password-reset/`+token+`"`) {
			t.Fatalf("received %+v, want the link with %s in both parts", got, token)
		}
		if strings.Contains(dump(t, db), token) {
			t.Error("a sent message's token is still in the database")
		}
		m := emailByID(t, db, id)
		if m.State != account.OutboxSent || m.SentAt.IsZero() || !m.Scrubbed || m.To != "op@roster.test" ||
			m.Kind != account.NoticePasswordReset || m.Subject == "" ||
			!strings.Contains(m.Text, "https://roster.example/password-reset/[redacted]") ||
			!strings.Contains(m.HTML, `href="https://roster.example/password-reset/[redacted]"`) {
			t.Errorf("the sent message as kept: %+v", m)
		}

		// Failed for good: not delivered, so it keeps its link, as a pending message
		// does, and is sent with it once retried; then it is scrubbed.
		refuse.Store(true)
		if err := svc.RequestPasswordReset(ctx, "op@roster.test", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		id, token = pendingToken(t, db)
		run(0, 1)
		if m := emailByID(t, db, id); m.State != account.OutboxFailed || m.Scrubbed || !strings.Contains(m.Text, token) {
			t.Errorf("the failed message as kept: %+v", m)
		}
		var actor account.Actor
		read(t, db, func(tx account.Tx) error {
			a, err := tx.AccountByEmail(ctx, account.EmailKey("op@roster.test"))
			actor.Account = a
			return err
		})
		if err := svc.RetryEmail(ctx, actor, id); err != nil {
			t.Fatalf("retrying a failed message: %v", err)
		}
		refuse.Store(false)
		run(1, 0)
		if got := srv.Received(); len(got) != 2 || !strings.Contains(got[1].Text, "/password-reset/"+token) {
			t.Errorf("the retried message: %+v, want its live link", got)
		}
		if strings.Contains(dump(t, db), token) {
			t.Error("a retried and sent message's token is still in the database")
		}
	})
}

// TestOutboxSecretsMigration: an upgrade to migration 00016 scrubs the links of the
// messages already sent, and keeps apart those of the pending and failed ones, which
// are scrubbed once sent; a message without a token link is left as it is.
func TestOutboxSecretsMigration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := mail.NewNoticeRenderer()
		tok := func(c string) string { return "ri_" + strings.Repeat(c, 43) }
		email := func(id, token string) account.Email {
			link := "https://roster.example/"
			if token != "" {
				link += "invitations/" + token
			}
			subject, text, html, err := r.Render(account.Notice{Kind: account.NoticeInvitation, To: id + "@x.test", Name: "Ada",
				Organization: `Acme href="/invitations/ri_` + strings.Repeat("z", 43) + `"`, Actor: "Op", Role: "Member", Link: link, Expires: "soon"})
			if err != nil {
				t.Fatal(err)
			}
			return account.Email{ID: id, Kind: account.NoticeInvitation, To: id + "@x.test", Subject: subject, Text: text, HTML: html, CreatedAt: t0}
		}
		enqueue(t, db, email("sent", tok("a")), email("failed", tok("b")), email("pending", tok("c")), email("plain", ""))
		// Marked as before this change: with no secret kept, marking scrubs nothing.
		claim(t, db, t0, 10, 0)
		for id, mark := range map[string]func() error{
			"sent":   func() error { return db.MarkEmailSent(ctx, "sent", t0) },
			"failed": func() error { return db.MarkEmailFailed(ctx, "failed", "550", t0) },
			"plain":  func() error { return db.MarkEmailSent(ctx, "plain", t0) },
		} {
			if err := mark(); err != nil {
				t.Fatalf("%s: %v", id, err)
			}
		}
		if d := dump(t, db); !strings.Contains(d, tok("a")) || !strings.Contains(d, tok("b")) {
			t.Fatal("the old rows hold no token: the test would prove nothing")
		}

		if err := sqlstore.RedoMigration(ctx, db, 16); err != nil {
			t.Fatal(err)
		}
		if d := dump(t, db); strings.Contains(d, tok("a")) {
			t.Errorf("token %s survived the migration", tok("a"))
		}
		for _, id := range []string{"sent"} {
			if m := emailByID(t, db, id); !m.Scrubbed || !strings.Contains(m.Text, "/invitations/[redacted]") ||
				!strings.Contains(m.HTML, `href="https://roster.example/invitations/[redacted]"`) {
				t.Errorf("%s after the migration: %+v", id, m)
			}
		}
		if m := emailByID(t, db, "plain"); m.Scrubbed || m.Text != email("plain", "").Text {
			t.Errorf("a message without a token link changed: %+v", m)
		}
		// The pending and failed ones keep their live links until they are sent.
		if m := emailByID(t, db, "pending"); m.Scrubbed || !strings.Contains(m.Text, tok("c")) {
			t.Errorf("pending after the migration: %+v", m)
		}
		if m := emailByID(t, db, "failed"); m.Scrubbed || !strings.Contains(m.Text, tok("b")) {
			t.Errorf("failed after the migration: %+v", m)
		}
		if err := db.RetryEmail(ctx, "failed", t0); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkEmailSent(ctx, "failed", t0); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(dump(t, db), tok("b")) {
			t.Error("the failed message's token survived its retried delivery after the migration")
		}
		if err := db.MarkEmailSent(ctx, "pending", t0); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(dump(t, db), tok("c")) {
			t.Error("the pending message's token survived its delivery after the migration")
		}
	})
}
