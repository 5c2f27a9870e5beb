package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roster.dev/roster/internal/mail"
	"roster.dev/roster/internal/mail/smtptest"
	"roster.dev/roster/internal/outbox"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
	"roster.dev/roster/internal/testtime"
)

// switchSender sends through whichever sender is current: the test swaps a dead
// mail server for a live one.
type switchSender struct{ cur atomic.Pointer[mail.Sender] }

func (s *switchSender) set(m mail.Sender) { s.cur.Store(&m) }
func (s *switchSender) Send(ctx context.Context, m mail.Message) error {
	return (*s.cur.Load()).Send(ctx, m)
}

// TestInvitationsSurviveMailOutage: 1,000 invitations are sent while the mail server
// is down, then while it refuses mail; no API call fails because of it, and once it
// accepts mail every invitation arrives exactly once — with two workers competing
// for the outbox, as two Roster processes would.
func TestInvitationsSurviveMailOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 invitations through a mail outage: skipped by -short (go test ./... runs it)")
	}
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db)
		e.org("acme", "")

		var refusing atomic.Bool
		var refused atomic.Int64
		refusing.Store(true)
		live := smtptest.Start(t, func(s *smtptest.Server) {
			s.Rcpt = func(string) error {
				if refusing.Load() {
					refused.Add(1)
					return smtptest.Reply(451, "try again later")
				}
				return nil
			}
		})
		// A port nothing listens on: the server is down.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		deadAddr := l.Addr().String()
		l.Close()
		dead, err := mail.NewSMTPSender("smtp://"+deadAddr, "Roster <roster@acme.test>")
		if err != nil {
			t.Fatal(err)
		}
		up, err := mail.NewSMTPSender(live.URL(), "Roster <roster@acme.test>")
		if err != nil {
			t.Fatal(err)
		}
		sender := &switchSender{}
		sender.set(dead)

		ctx, cancel := context.WithCancel(context.Background())
		var workers sync.WaitGroup
		for range 2 {
			w := &outbox.Worker{Store: db, Sender: sender, From: "Roster <roster@acme.test>",
				Log: slog.New(slog.NewTextHandler(io.Discard, nil)), BatchSize: 50, MaxAttempts: 1_000_000,
				Backoff: func(int) time.Duration { return 20 * time.Millisecond }, PollEvery: 10 * time.Millisecond}
			workers.Go(func() { w.Run(ctx) })
		}
		defer func() { cancel(); workers.Wait() }()

		const n = 1000
		for batch := range n / 500 {
			emails := make([]string, 500)
			for i := range emails {
				emails[i] = fmt.Sprintf("p%04d@invitee.test", batch*500+i)
			}
			b := e.must(200, e.op, "POST", "/api/v1/organizations/acme/invitations", map[string]any{"emails": emails})
			for _, r := range b["results"].([]any) {
				if r.(map[string]any)["invitation"] == nil {
					t.Fatalf("an invitation failed: %v", r)
				}
			}
			if batch == 0 {
				sender.set(up) // the server is back, but refuses mail for a while
			}
		}
		// The workers try the live server while it refuses.
		testtime.WaitFor(t, 60*time.Second, "the live server refusing 100 recipients", func() bool { return refused.Load() >= 100 })
		if got := len(live.Received()); got != 0 {
			t.Fatalf("%d messages accepted while refusing", got)
		}
		refusing.Store(false)

		testtime.WaitFor(t, 60*time.Second, fmt.Sprintf("%d messages delivered", n), func() bool { return len(live.Received()) >= n })
		// The workers stop, each after finishing the message in flight: a duplicate
		// being sent now has arrived once they have returned.
		cancel()
		workers.Wait()
		got := live.Received()
		if len(got) != n {
			t.Fatalf("%d messages delivered, want %d", len(got), n)
		}
		perRcpt := map[string]int{}
		for _, m := range got {
			for _, to := range m.To {
				perRcpt[to]++
			}
		}
		for id, c := range live.CountByMessageID() {
			if c != 1 {
				t.Errorf("message %s delivered %d times", id, c)
			}
		}
		if len(perRcpt) != n {
			t.Errorf("%d distinct recipients, want %d", len(perRcpt), n)
		}
		counts, err := db.CountEmails(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if counts["sent"] != n || counts["pending"] != 0 || counts["failed"] != 0 {
			t.Errorf("outbox after recovery = %v, want all %d sent", counts, n)
		}
	})
}
