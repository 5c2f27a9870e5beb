package mail_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"mime"
	"net"
	"strings"
	"testing"

	"roster.dev/roster/internal/mail"
	"roster.dev/roster/internal/mail/smtptest"
)

var ctx = context.Background()

func newSender(t *testing.T, rawURL string) mail.Sender {
	t.Helper()
	s, err := mail.NewSMTPSender(rawURL, "Roster <no-reply@roster.example>")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var msg = mail.Message{
	To: "ada@acme.example", Subject: "Welcome to Acme — ça va?",
	Text: "Hello Ada,\nfollow https://roster.example/invite/abc to join.\n",
	HTML: "<p>Hello Ada,</p><p><a href=\"https://roster.example/invite/abc\">Join</a></p>\n",
	ID:   "em-0001",
}

func TestSMTPSenderDelivers(t *testing.T) {
	srv := smtptest.Start(t)
	if err := newSender(t, srv.URL()).Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	got := srv.Received()
	if len(got) != 1 {
		t.Fatalf("%d messages received, want 1", len(got))
	}
	r := got[0]
	if r.From != "no-reply@roster.example" || len(r.To) != 1 || r.To[0] != "ada@acme.example" || r.User != "" {
		t.Errorf("envelope from %q to %q user %q", r.From, r.To, r.User)
	}
	for h, want := range map[string]string{
		"From":       `"Roster" <no-reply@roster.example>`,
		"To":         "<ada@acme.example>",
		"Message-Id": "<em-0001@roster>",
		// A notice, sent by a machine: auto-responders do not answer it.
		"Auto-Submitted":           "auto-generated",
		"X-Auto-Response-Suppress": "All",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	if subject, err := new(mime.WordDecoder).DecodeHeader(r.Header.Get("Subject")); err != nil || subject != msg.Subject {
		t.Errorf("subject %q (%v), want %q", subject, err, msg.Subject)
	}
	if r.Type != "multipart/alternative" {
		t.Errorf("type %q, want multipart/alternative", r.Type)
	}
	if norm(r.Text) != norm(msg.Text) || norm(r.HTML) != norm(msg.HTML) {
		t.Errorf("text %q html %q", r.Text, r.HTML)
	}

	// The From of the message wins over the sender's; a message without HTML is text.
	m := msg
	m.From, m.HTML, m.ID = "ops@roster.example", "", "em-0002"
	if err := newSender(t, srv.URL()).Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	r = srv.Received()[1]
	if r.From != "ops@roster.example" || r.Type != "text/plain" || norm(r.Text) != norm(m.Text) || r.Header.Get("Message-Id") != "<em-0002@roster>" {
		t.Errorf("text-only message: from %q type %q text %q id %q", r.From, r.Type, r.Text, r.Header.Get("Message-Id"))
	}
}

// TestMessageIDDomain: the Message-ID's domain is the base URL's host, never the
// machine's name nor localhost.
func TestMessageIDDomain(t *testing.T) {
	for base, want := range map[string]string{
		"https://roster.acme.example":          "roster.acme.example",
		"https://Roster.Acme.Example:8443/app": "roster.acme.example",
		"http://127.0.0.1:8080":                "127.0.0.1",
		"http://[2001:db8::1]:8080":            "[2001:db8::1]",
		"":                                     "roster",
		"::not a url":                          "roster",
	} {
		if got := mail.MessageDomain(base); got != want {
			t.Errorf("MessageDomain(%q) = %q, want %q", base, got, want)
		}
	}
	srv := smtptest.Start(t)
	m := msg
	m.Domain = mail.MessageDomain("https://roster.acme.example/")
	if err := newSender(t, srv.URL()).Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	r := srv.Received()[0]
	if got, want := r.Header.Get("Message-Id"), mail.MessageID("em-0001", "roster.acme.example"); got != want || want != "<em-0001@roster.acme.example>" {
		t.Errorf("Message-Id = %q, want %q", got, want)
	}
	if r.Header.Get("Auto-Submitted") != "auto-generated" || r.Header.Get("X-Auto-Response-Suppress") != "All" {
		t.Errorf("headers %v lack Auto-Submitted or X-Auto-Response-Suppress", r.Header)
	}
}

func TestSMTPSenderAuth(t *testing.T) {
	srv := smtptest.Start(t, func(s *smtptest.Server) { s.User, s.Password = "roster", "s3cret:/@" })
	if err := newSender(t, "smtp://roster:s3cret%3A%2F%40@"+srv.Addr).Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if got := srv.Received(); len(got) != 1 || got[0].User != "roster" {
		t.Fatalf("received %+v, want one message from user roster", got)
	}

	// A wrong password is refused: temporary (the configuration may be fixed).
	if err := newSender(t, "smtp://roster:wrong@"+srv.Addr).Send(ctx, msg); err == nil || mail.IsPermanent(err) {
		t.Errorf("wrong password: %v, want a temporary error", err)
	}
	// No login where one is required: this server answers MAIL with 502, which is
	// permanent as every 5xx reply to the message (530, the usual reply, is not).
	if err := newSender(t, "smtp://"+srv.Addr).Send(ctx, msg); err == nil {
		t.Error("no login: no error")
	}
	if n := len(srv.Received()); n != 1 {
		t.Errorf("%d messages received, want 1", n)
	}
}

func TestSMTPSenderErrors(t *testing.T) {
	srv := smtptest.Start(t, func(s *smtptest.Server) {
		s.Rcpt = func(to string) error {
			switch {
			case strings.HasPrefix(to, "nobody@"):
				return smtptest.Reply(550, "no such user")
			case strings.HasPrefix(to, "busy@"):
				return smtptest.Reply(451, "try again later")
			}
			return nil
		}
	})
	s := newSender(t, srv.URL())

	m := msg
	m.To = "nobody@acme.example"
	err := s.Send(ctx, m)
	var me *mail.Error
	if !mail.IsPermanent(err) || !errors.As(err, &me) || me.Code != 550 || !strings.Contains(err.Error(), "no such user") {
		t.Errorf("550: %v, want a permanent error with code 550", err)
	}
	m.To = "busy@acme.example"
	err = s.Send(ctx, m)
	if err == nil || mail.IsPermanent(err) || !errors.As(err, &me) || me.Code != 451 {
		t.Errorf("451: %v, want a temporary error with code 451", err)
	}
	m.To = "not an address"
	if err := s.Send(ctx, m); !mail.IsPermanent(err) {
		t.Errorf("bad address: %v, want a permanent error", err)
	}
	if n := len(srv.Received()); n != 0 {
		t.Errorf("%d messages received, want 0", n)
	}

	// Nothing listening: connection refused, temporary.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	err = newSender(t, "smtp://"+addr).Send(ctx, msg)
	if err == nil || mail.IsPermanent(err) {
		t.Errorf("connection refused: %v, want a temporary error", err)
	}
	if mail.IsPermanent(errors.New("plain")) || mail.IsPermanent(nil) {
		t.Error("IsPermanent of a foreign error or nil")
	}
}

func TestNewSMTPSenderURLs(t *testing.T) {
	for _, u := range []string{"smtp://mail.example.com", "smtps://u:p@mail.example.com:465", "smtp://u@127.0.0.1:2525"} {
		if _, err := mail.NewSMTPSender(u, "a@b.example"); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://mail.example.com", "smtp://", "smtp://host:notaport", "::"} {
		if _, err := mail.NewSMTPSender(u, "a@b.example"); err == nil {
			t.Errorf("%s: no error", u)
		}
	}
	_, err := mail.NewSMTPSender("smtp://user:hunter2@host:bad", "a@b.example")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v: want one without the password", err)
	}
}

func TestLogSender(t *testing.T) {
	var buf bytes.Buffer
	s := mail.NewLogSender(slog.New(slog.NewTextHandler(&buf, nil)))
	if err := s.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"level=INFO", "to=ada@acme.example", "Welcome to Acme", "https://roster.example/invite/abc", "em-0001@roster"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
}

// norm drops the CRs that SMTP line endings add.
func norm(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }
