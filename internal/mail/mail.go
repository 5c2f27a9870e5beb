// Package mail sends Roster's emails: over SMTP (NewSMTPSender, on wneessen/go-mail)
// or, when no SMTP server is configured, into the log (NewLogSender). A Sender's
// errors say whether trying again later may help: see IsPermanent.
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one email to one recipient.
type Message struct {
	From    string // "Name <addr>" or "addr"
	To      string
	Subject string
	Text    string // the plain-text part
	HTML    string // the HTML part; empty sends the text alone
	// ID makes the Message-ID header "<ID@Domain>": every attempt at one outbox
	// message sends the same, so a message delivered twice is recognisable.
	ID string
	// Domain is the Message-ID's domain: the host of Roster's base URL
	// (MessageDomain); empty is DefaultDomain.
	Domain string
}

// DefaultDomain is the Message-ID's domain of a message without one.
const DefaultDomain = "roster"

// MessageDomain is the Message-ID domain of a Roster whose public URL is baseURL:
// its host, without a port, lower-cased; DefaultDomain when baseURL has none.
func MessageDomain(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil {
		return DefaultDomain
	}
	host := strings.Trim(strings.ToLower(u.Hostname()), "[]")
	if host == "" {
		return DefaultDomain
	}
	if strings.Contains(host, ":") { // an IPv6 literal: a domain literal
		return "[" + host + "]"
	}
	return host
}

// MessageID is the Message-ID header (with its angle brackets) of a message whose ID
// is id, in domain (DefaultDomain when empty).
func MessageID(id, domain string) string {
	if domain == "" {
		domain = DefaultDomain
	}
	return "<" + id + "@" + domain + ">"
}

// Sender delivers messages.
type Sender interface {
	// Send delivers m, or returns an error for which IsPermanent tells whether
	// trying again may succeed.
	Send(ctx context.Context, m Message) error
}

// Error is a failed delivery.
type Error struct {
	Permanent bool // trying again cannot succeed (a 5xx reply to the message, a bad address)
	Code      int  // the SMTP reply code, or 0 when there was none
	Err       error
}

func (e *Error) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	return kind + " mail error: " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a delivery failure that trying again cannot fix:
// the server rejected the message or its recipient with a 5xx reply, or an address
// is malformed. Any other error (connection refused, a timeout, a 4xx reply, a
// failed login) is temporary.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

func permanent(err error) error { return &Error{Permanent: true, Err: err} }

// DefaultTimeout bounds one send over SMTP: connecting, the dialogue and the data.
const DefaultTimeout = 30 * time.Second

// smtpSender sends each message over a connection of its own.
type smtpSender struct {
	host    string
	opts    []gomail.Option
	from    string
	timeout time.Duration
}

// NewSMTPSender returns a Sender that delivers to the SMTP server of rawURL:
// smtp://[user:pass@]host[:port] (default port 587) upgrades the connection with
// STARTTLS when the server offers it, smtps://[user:pass@]host[:port] (default port
// 465) speaks TLS from the start. With a user it logs in (PLAIN or LOGIN, which
// go-mail only does over TLS or to localhost); without, it does not. from is the
// From of messages that have none.
func NewSMTPSender(rawURL, from string) (Sender, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("smtp URL: unparsable")
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("smtp URL %s: no host", u.Redacted())
	}
	opts := []gomail.Option{gomail.WithTimeout(DefaultTimeout)}
	port := 587
	switch u.Scheme {
	case "smtp":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case "smtps":
		opts = append(opts, gomail.WithSSL())
		port = 465
	default:
		return nil, fmt.Errorf("smtp URL %s: want smtp:// or smtps://", u.Redacted())
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("smtp URL %s: bad port", u.Redacted())
		}
	}
	opts = append(opts, gomail.WithPort(port))
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	// Fail on a bad option now rather than at the first send.
	if _, err := gomail.NewClient(u.Hostname(), opts...); err != nil {
		return nil, fmt.Errorf("smtp URL %s: %w", u.Redacted(), err)
	}
	return &smtpSender{host: u.Hostname(), opts: opts, from: from, timeout: DefaultTimeout}, nil
}

func (s *smtpSender) Send(ctx context.Context, m Message) error {
	msg, err := s.build(m)
	if err != nil {
		return permanent(err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	client, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return &Error{Err: err}
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return classify(err)
	}
	return nil
}

// build turns m into a go-mail message: multipart/alternative when it has HTML.
func (s *smtpSender) build(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	from := m.From
	if from == "" {
		from = s.from
	}
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("from %q: %w", from, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("to %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	if m.ID != "" {
		id := MessageID(m.ID, m.Domain)
		msg.SetMessageIDWithValue(id[1 : len(id)-1])
	}
	// Every email of Roster is a notice sent by a machine (RFC 3834): auto-responders
	// (out of office, vacation) do not answer it, nor does Exchange.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// classify wraps an error of go-mail: a 5xx reply to the message (MAIL FROM, RCPT
// TO, DATA) is permanent, but for 530 (authentication required); anything else,
// including the failures of connecting, STARTTLS and login, is temporary, so that a
// server down or a configuration being fixed delays mail instead of failing it.
func classify(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		return &Error{Permanent: code >= 500 && code < 600 && code != 530, Code: code, Err: err}
	}
	return &Error{Err: err}
}

// logSender writes messages to a log instead of sending them.
type logSender struct{ log *slog.Logger }

// NewLogSender returns a Sender that logs each message (its recipient, subject and
// text) at info and never fails: the mail of a Roster without an SMTP server. The
// text holds the email's links with their one-time tokens: with this sender the log
// is the delivery, so whoever reads the log can follow them. It is the only place
// where Roster logs a secret; configure --smtp where the log is shared.
func NewLogSender(log *slog.Logger) Sender { return logSender{log: log} }

func (s logSender) Send(ctx context.Context, m Message) error {
	s.log.InfoContext(ctx, "email (no SMTP server configured: not sent)",
		"to", m.To, "subject", m.Subject, "message_id", MessageID(m.ID, m.Domain), "text", m.Text)
	return nil
}
