package webhooks_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/storetest"
	"roster.dev/roster/internal/webhooks"
)

// benchReceiver is a local endpoint that keeps what it got, to be verified after the
// timed part.
type benchReceiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []received
	hits atomic.Int64
}

func newBenchReceiver(b *testing.B) *benchReceiver {
	rc := &benchReceiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: body})
		rc.mu.Unlock()
		rc.hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(rc.srv.Close)
	return rc
}

func (rc *benchReceiver) reset() {
	rc.mu.Lock()
	rc.got = nil
	rc.mu.Unlock()
	rc.hits.Store(0)
}

// BenchmarkDelivery delivers ROSTER_BENCH_EVENTS events (default 300) to each of
// ROSTER_BENCH_ENDPOINTS endpoints (default 4, each a local HTTP receiver of its
// own): the worker claims every delivery, signs each body (Standard Webhooks),
// POSTs it and records the attempt. The baseline, in the same run, POSTs the same
// bodies to the same receivers with a plain http.Client, one loop per receiver
// (the worker, too, has one attempt in flight per endpoint), and nothing else. It
// reports both rates and their ratio; every delivery is then verified with the
// official Standard Webhooks library.
//
//	go test -run '^$' -bench Delivery -benchtime 3x ./internal/webhooks/
func BenchmarkDelivery(b *testing.B) {
	events, endpoints := 300, 4
	for name, p := range map[string]*int{"ROSTER_BENCH_EVENTS": &events, "ROSTER_BENCH_ENDPOINTS": &endpoints} {
		if v := os.Getenv(name); v != "" {
			var err error
			if *p, err = strconv.Atoi(v); err != nil || *p < 1 {
				b.Fatalf("%s=%q", name, v)
			}
		}
	}
	for _, engine := range storetest.Engines(b) {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.Open(b, engine)
			svc := account.NewService(account.Options{Store: db, Hasher: password.NewHasher(password.TestParams, 2, rand.Reader),
				Rand: rand.Reader, WebhooksAllowPrivate: true})
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
			app, err := svc.CreateApplication(ctx, op, account.ApplicationInput{Key: "studio", Name: "Studio"})
			if err != nil {
				b.Fatal(err)
			}
			rcs := make([]*benchReceiver, endpoints)
			secrets := map[string]string{} // receiver URL → secret
			for i := range rcs {
				rcs[i] = newBenchReceiver(b)
				u := rcs[i].srv.URL + "/hooks"
				h, err := svc.CreateWebhook(ctx, op, app.ID, account.WebhookInput{URL: &u})
				if err != nil {
					b.Fatal(err)
				}
				secrets[rcs[i].srv.URL] = h.Secret
			}
			data := benchEventData(b)
			b.StopTimer()
			var deliveredRate, plainRate float64
			n := 0
			for round := range b.N {
				// The events, written and relayed as the use cases and the relay do,
				// outside the timed part.
				bodies := make([][]byte, events)
				for i := range events {
					e := account.Event{ID: fmt.Sprintf("ev-%d-%06d", round, i), OrgID: "org-1", Type: account.EventMemberAdded,
						Data: data, CreatedAt: time.Now(), Applications: []string{app.ID}}
					if err := db.Write(ctx, func(tx account.Tx) error { return tx.InsertEvent(ctx, e) }); err != nil {
						b.Fatal(err)
					}
					if bodies[i], err = webhooks.Body(e); err != nil {
						b.Fatal(err)
					}
				}
				for {
					m, err := db.RelayEvents(ctx, time.Now(), 500)
					if err != nil {
						b.Fatal(err)
					}
					if m == 0 {
						break
					}
				}
				for _, rc := range rcs {
					rc.reset()
				}
				w := &webhooks.Worker{Store: db, AllowPrivate: true}

				b.StartTimer()
				start := time.Now()
				if err := w.Drain(ctx); err != nil {
					b.Fatal(err)
				}
				took := time.Since(start)
				b.StopTimer()
				total := int64(0)
				for _, rc := range rcs {
					total += rc.hits.Load()
					for _, r := range rc.got {
						wh, err := standardwebhooks.NewWebhook(secrets[rc.srv.URL])
						if err != nil {
							b.Fatal(err)
						}
						if err := wh.Verify(r.body, r.header); err != nil {
							b.Fatalf("a delivery does not verify: %v", err)
						}
					}
					rc.reset()
				}
				if total != int64(events*endpoints) {
					b.Fatalf("%d requests received, want %d", total, events*endpoints)
				}

				// The baseline: the same bodies, plain POSTs, one loop per receiver.
				client := &http.Client{Timeout: webhooks.DefaultTimeout}
				var wg sync.WaitGroup
				errs := make(chan error, endpoints)
				plainStart := time.Now()
				for _, rc := range rcs {
					wg.Go(func() {
						for _, body := range bodies {
							resp, err := client.Post(rc.srv.URL+"/hooks", "application/json", bytes.NewReader(body))
							if err != nil {
								errs <- err
								return
							}
							_, _ = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
						}
					})
				}
				wg.Wait()
				plain := time.Since(plainStart)
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
				deliveredRate += float64(events*endpoints) / took.Seconds()
				plainRate += float64(events*endpoints) / plain.Seconds()
				n++
			}
			deliveredRate, plainRate = deliveredRate/float64(n), plainRate/float64(n)
			b.ReportMetric(deliveredRate, "delivered/s")
			b.ReportMetric(plainRate, "plain-posts/s")
			b.ReportMetric(deliveredRate/plainRate*100, "%-of-plain")
		})
	}
}

// benchEventData is a member.added event's data as Roster writes it (about 0.8 KB).
func benchEventData(b *testing.B) json.RawMessage {
	now := time.Now().UTC()
	username := "ada.lovelace"
	d := account.EventData{
		Organization: account.EventOrganization{ID: "0000000000000001abcdef", Slug: "acme", Name: "Acme Corp", Kind: account.KindOrganization},
		Actor:        &account.EventActor{ID: "0000000000000002abcdef", Email: "admin@acme.test"},
		Member: &account.EventMember{
			Account: account.EventMemberAccount{ID: "0000000000000003abcdef", Email: "ada@acme.test", Username: &username,
				FirstName: "Ada", LastName: "Lovelace", Managed: true},
			Role: "member", Teams: []string{"Sales", "Engineering"}, State: account.MemberActive,
			Seats:     []account.EventSeatRef{{Subscription: "0000000000000004abcdef", Application: "studio"}},
			CreatedAt: now, UpdatedAt: now,
		},
	}
	raw, err := json.Marshal(d)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}
