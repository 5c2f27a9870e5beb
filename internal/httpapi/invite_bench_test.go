package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/limits"
	"roster.dev/roster/internal/mail"
	"roster.dev/roster/internal/mail/smtptest"
	"roster.dev/roster/internal/outbox"
	"roster.dev/roster/internal/ratelimit"
	"roster.dev/roster/internal/storetest"
)

// BenchmarkInvitations sends ROSTER_BENCH_INVITATIONS invitations (default 1,000)
// through POST …/invitations in requests of 500 emails, while one outbox worker
// delivers them to an in-process SMTP server over loopback. It reports invitations
// created per second (API time) and emails delivered per second (from the first
// request to the last message accepted by the SMTP server).
//
//	ROSTER_BENCH_INVITATIONS=10000 go test -run '^$' -bench Invitations -benchtime 1x ./internal/httpapi/
func BenchmarkInvitations(b *testing.B) {
	n := envInt(b, "ROSTER_BENCH_INVITATIONS", 1000)
	for _, engine := range storetest.Engines(b) {
		b.Run(string(engine), func(b *testing.B) {
			for range b.N {
				db := storetest.Open(b, engine)
				e := newEnv(b, db, withLimits(func(d *limits.Config) {
					d.InvitesPerAccount = ratelimit.Limit{Every: time.Microsecond, Burst: 1_000_000}
				}))
				e.org("acme", "")
				srv := smtptest.Start(b)
				sender, err := mail.NewSMTPSender(srv.URL(), "Roster <roster@acme.test>")
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				w := &outbox.Worker{Store: db, Sender: sender, From: "Roster <roster@acme.test>",
					Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PollEvery: 20 * time.Millisecond}
				db.OnEmail(w.Wake) // as serve wires it
				var wg sync.WaitGroup
				wg.Go(func() { w.Run(ctx) })

				start := time.Now()
				for sent := 0; sent < n; {
					k := min(500, n-sent)
					emails := make([]string, k)
					for i := range emails {
						emails[i] = fmt.Sprintf("p%06d@invitee.test", sent+i)
					}
					e.must(200, e.op, "POST", "/api/v1/organizations/acme/invitations", map[string]any{"emails": emails})
					sent += k
				}
				created := time.Since(start)
				deadline := time.Now().Add(30 * time.Minute)
				for len(srv.Received()) < n && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				delivered := time.Since(start)
				cancel()
				wg.Wait()
				if got := len(srv.Received()); got != n {
					b.Fatalf("%d of %d delivered", got, n)
				}
				b.ReportMetric(float64(n)/created.Seconds(), "invitations/s")
				b.ReportMetric(float64(n)/delivered.Seconds(), "delivered/s")
			}
		})
	}
}
