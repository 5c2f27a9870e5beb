package account_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// BenchmarkSeatEvents is the added cost of the change event on a seat assignment:
// each iteration assigns a member a seat and takes it back (AssignSeat, then
// UnassignSeat, one transaction each, as the API does) twice, once as Roster runs
// — each writes its seat.assigned or seat.unassigned event, for the subscription's
// application, which has a webhook endpoint — and once with the seat events
// unmapped (account.WithoutEvents: the same transactions with their audit events,
// without the event). The two alternate in one run; it reports each one's time per
// assignment (assign and unassign) and their ratio.
//
//	go test -run '^$' -bench SeatEvents -benchtime 300x ./internal/account/
func BenchmarkSeatEvents(b *testing.B) {
	for _, engine := range storetest.Engines(b) {
		b.Run(string(engine), func(b *testing.B) {
			ctx := context.Background()
			db := storetest.Open(b, engine)
			svc := account.NewService(account.Options{Store: db, Hasher: password.NewHasher(password.TestParams, 2, rand.Reader),
				Rand: rand.Reader})
			op := benchOperator(b, ctx, db, svc)
			org, err := svc.CreateOrganization(ctx, op, account.CreateOrganizationInput{Name: "Acme", Slug: "acme", Kind: account.KindOrganization})
			if err != nil {
				b.Fatal(err)
			}
			app, err := svc.CreateApplication(ctx, op, account.ApplicationInput{Key: "studio", Name: "Studio"})
			if err != nil {
				b.Fatal(err)
			}
			u := "https://hooks.example.test/roster"
			if _, err := svc.CreateWebhook(ctx, op, app.ID, account.WebhookInput{URL: &u}); err != nil {
				b.Fatal(err)
			}
			seats, now := 10, time.Now()
			_, sub, err := svc.CreateSubscription(ctx, op, org.ID, account.SubscriptionInput{Application: app.ID, Seats: &seats,
				StartsAt: now.Add(-time.Hour), EndsAt: now.AddDate(1, 0, 0)})
			if err != nil {
				b.Fatal(err)
			}
			no := false
			m, err := svc.AddMember(ctx, op, org.ID, account.AddMemberInput{Email: "bob@acme.test", FirstName: "Bob", LastName: "Baker",
				Role: account.RoleMember, SendInvite: &no, Password: "correct horse battery"})
			if err != nil {
				b.Fatal(err)
			}
			pair := func() time.Duration {
				start := time.Now()
				if _, _, err := svc.AssignSeat(ctx, op, org.ID, sub.ID, m.AccountID); err != nil {
					b.Fatal(err)
				}
				if err := svc.UnassignSeat(ctx, op, org.ID, sub.ID, m.AccountID); err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			}
			var with, without time.Duration
			// The seat events in the application's feed (once the relay numbered them).
			feedRows := func() int {
				for {
					n, err := db.RelayEvents(ctx, time.Now(), 500)
					if err != nil {
						b.Fatal(err)
					}
					if n == 0 {
						break
					}
				}
				count := 0
				for after := int64(0); ; {
					var evs []account.Event
					if err := db.Read(ctx, func(tx account.Tx) (err error) {
						evs, err = tx.FeedEvents(ctx, account.EventFilter{ApplicationID: app.ID, After: after, Limit: 500,
							Types: []account.EventType{account.EventSeatAssigned, account.EventSeatUnassigned}})
						return err
					}); err != nil {
						b.Fatal(err)
					}
					if len(evs) == 0 {
						return count
					}
					count += len(evs)
					after = evs[len(evs)-1].Sequence
				}
			}
			before := feedRows()
			b.ResetTimer()
			for i := range b.N {
				// Alternate which goes first, so that neither always follows the other.
				if i%2 == 0 {
					with += pair()
				}
				restore := account.WithoutEvents(account.AuditSeatAssigned, account.AuditSeatUnassigned)
				without += pair()
				restore()
				if i%2 == 1 {
					with += pair()
				}
			}
			b.StopTimer()
			if got := feedRows() - before; got != 2*b.N { // the events of the runs with them, and none of the others
				b.Fatalf("%d events written, want %d", got, 2*b.N)
			}
			perWith, perWithout := with/time.Duration(b.N), without/time.Duration(b.N)
			b.ReportMetric(float64(perWith.Microseconds()), "µs/pair-with-events")
			b.ReportMetric(float64(perWithout.Microseconds()), "µs/pair-without")
			b.ReportMetric(float64(with)/float64(without), "with/without")
		})
	}
}

func benchOperator(b *testing.B, ctx context.Context, db *sqlstore.DB, svc *account.Service) account.Actor {
	if _, _, err := svc.Bootstrap(ctx, "op@roster.test", "correct horse battery"); err != nil {
		b.Fatal(err)
	}
	var op account.Actor
	if err := db.Read(ctx, func(tx account.Tx) (err error) {
		op.Account, err = tx.FirstOperator(ctx)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	return op
}
