package webhooks_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/eventrelay"
	"roster.dev/roster/internal/storetest"
	"roster.dev/roster/internal/testtime"
	"roster.dev/roster/internal/webhooks"
)

// TestTwoProcesses: two processes share one database, each with its relay and its
// delivery worker, and both write events. The feed holds each event exactly once,
// numbered 1..n; every event reaches the endpoint at least once, with its id, and
// verifies with the official library; another application's endpoint gets none.
func TestTwoProcesses(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(string(engine), func(t *testing.T) {
			dbs := storetest.OpenShared(t, engine, 2)
			w := newWorld(t, dbs[0])
			_, err := w.svc.CreateApplication(ctx, w.op, account.ApplicationInput{Key: "support", Name: "Support"})
			if err != nil {
				t.Fatal(err)
			}
			rc := newReceiver(t, nil)
			h := w.hook(rc.srv.URL)
			otherRc := newReceiver(t, nil)
			otherURL := otherRc.srv.URL
			if _, err := w.svc.CreateWebhook(ctx, w.op, "support", account.WebhookInput{URL: &otherURL}); err != nil {
				t.Fatal(err)
			}
			runCtx, stop := context.WithCancel(ctx)
			var wg sync.WaitGroup
			for _, db := range dbs {
				relay := &eventrelay.Relay{Store: db, Poll: 50 * time.Millisecond}
				worker := &webhooks.Worker{Store: db, AllowPrivate: true, Poll: 50 * time.Millisecond}
				db.OnEvent(relay.Wake)
				db.OnDelivery(worker.Wake)
				wg.Add(2)
				go func() { defer wg.Done(); relay.Run(runCtx) }()
				go func() { defer wg.Done(); worker.Run(runCtx) }()
			}
			defer func() { stop(); wg.Wait() }()

			const each = 20
			var want []string
			var writers sync.WaitGroup
			for p, db := range dbs {
				for i := range each {
					want = append(want, fmt.Sprintf("ev-%d-%02d", p, i))
				}
				writers.Add(1)
				go func() {
					defer writers.Done()
					for i := range each {
						err := db.Write(ctx, func(tx account.Tx) error {
							return tx.InsertEvent(ctx, account.Event{ID: fmt.Sprintf("ev-%d-%02d", p, i), OrgID: "org", Type: account.EventSeatAssigned,
								Data: []byte(`{}`), CreatedAt: time.Now(), Applications: []string{w.app.ID}})
						})
						if err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			writers.Wait()
			testtime.WaitFor(t, 30*time.Second, "every event delivered", func() bool {
				seen := map[string]bool{}
				for _, r := range rc.requests() {
					seen[r.header.Get("webhook-id")] = true
				}
				return len(seen) == len(want)
			})
			wh, err := standardwebhooks.NewWebhook(h.Secret)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rc.requests() {
				if err := wh.Verify(r.body, r.header); err != nil {
					t.Errorf("delivery %s: %v", r.header.Get("webhook-id"), err)
				}
			}
			var feed []account.Event
			if err := dbs[1].Read(ctx, func(tx account.Tx) (err error) {
				feed, err = tx.FeedEvents(ctx, account.EventFilter{ApplicationID: w.app.ID, Limit: 500})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			for i, e := range feed {
				if e.Sequence != int64(i+1) || ids[e.ID] {
					t.Fatalf("feed item %d: %s with sequence %d", i, e.ID, e.Sequence)
				}
				ids[e.ID] = true
			}
			if len(feed) != len(want) {
				t.Fatalf("the feed holds %d events, want %d", len(feed), len(want))
			}
			if n := len(otherRc.requests()); n != 0 {
				t.Errorf("support's endpoint got %d of studio's events", n)
			}
		})
	}
}
