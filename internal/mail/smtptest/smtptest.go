// Package smtptest runs an in-process SMTP server (emersion/go-smtp) on 127.0.0.1
// for tests: it records every message it accepts, parsed, and can be told to log
// users in, to reject recipients, or to drop the connection after a message's data.
package smtptest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one accepted message.
type Received struct {
	From   string   // the envelope sender
	To     []string // the envelope recipients
	User   string   // who logged in, or ""
	Header netmail.Header
	Type   string // the media type of the message, e.g. multipart/alternative
	Text   string // the text/plain part, decoded
	HTML   string // the text/html part, decoded
	Raw    []byte
}

// Server is a running test SMTP server.
type Server struct {
	Addr string // 127.0.0.1:port

	// User and Password, when User is set, are the only login accepted; mail is
	// then refused before one. Set them (and Rcpt) in Start's configure.
	User, Password string
	// Rcpt, when set, is asked about each recipient; an error (an *smtp.SMTPError
	// such as Reply(550, "…")) rejects it.
	Rcpt func(to string) error
	// DropAfterData, when set, is asked about each message received whole (it is
	// recorded all the same): true closes the connection instead of answering its
	// DATA, so that the client cannot know whether it was delivered.
	DropAfterData func(Received) bool

	mu       sync.Mutex
	received []Received
}

// Reply is an SMTP error reply with code, for Rcpt.
func Reply(code int, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.NoEnhancedCode, Message: msg}
}

// Start runs a server on 127.0.0.1:0 until the test ends, after configure has set
// its User, Password or Rcpt.
func Start(t testing.TB, configure ...func(*Server)) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	s := &Server{Addr: l.Addr().String()}
	for _, c := range configure {
		c(s)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c.Conn()}, nil
	}))
	srv.Domain = "smtptest.localhost"
	srv.AllowInsecureAuth = true // PLAIN without TLS, which this server has not
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return s
}

// URL is the smtp:// URL of the server, with the User and Password when set.
func (s *Server) URL() string {
	if s.User != "" {
		return "smtp://" + s.User + ":" + s.Password + "@" + s.Addr
	}
	return "smtp://" + s.Addr
}

// Received returns the accepted messages, in order.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// CountByMessageID counts the accepted messages by their Message-ID header.
func (s *Server) CountByMessageID() map[string]int {
	out := map[string]int{}
	for _, r := range s.Received() {
		out[r.Header.Get("Message-Id")]++
	}
	return out
}

type session struct {
	s    *Server
	conn net.Conn
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.s.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.User || password != ss.s.Password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.User != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.s.Rcpt != nil {
		if err := ss.s.Rcpt(to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	rec, err := parse(raw)
	if err != nil {
		return Reply(554, "smtptest: unparsable message: "+err.Error())
	}
	rec.From, rec.To, rec.User = ss.from, ss.to, ss.user
	ss.s.mu.Lock()
	ss.s.received = append(ss.s.received, rec)
	ss.s.mu.Unlock()
	if ss.s.DropAfterData != nil && ss.s.DropAfterData(rec) {
		ss.conn.Close()
		return errors.New("smtptest: connection dropped after DATA")
	}
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// parse reads the header of raw and its text and HTML parts (a single part, or the
// parts of a multipart/alternative or multipart/mixed message).
func parse(raw []byte) (Received, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, err
	}
	rec := Received{Header: msg.Header, Raw: raw}
	media, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return Received{}, fmt.Errorf("content type: %w", err)
	}
	rec.Type = media
	if err := rec.part(media, params, msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil {
		return Received{}, err
	}
	return rec, nil
}

func (rec *Received) part(media string, params map[string]string, encoding string, body io.Reader) error {
	if strings.HasPrefix(media, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			m, ps, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
			if err != nil {
				return err
			}
			if err := rec.part(m, ps, p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		return errors.New("smtptest: base64 parts are not decoded")
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	switch media {
	case "text/plain":
		rec.Text = string(b)
	case "text/html":
		rec.HTML = string(b)
	}
	return nil
}
