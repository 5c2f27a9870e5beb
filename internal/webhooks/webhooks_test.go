package webhooks_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/mail"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
	"roster.dev/roster/internal/testtime"
	"roster.dev/roster/internal/webhooks"
)

var ctx = context.Background()

// received is one request an endpoint got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is a local endpoint: answer decides each answer (200 when nil).
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, r *http.Request) int
}

func newReceiver(t *testing.T, answer func(n int, r *http.Request) int) *receiver {
	rc := &receiver{answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: body})
		n := len(rc.got)
		rc.mu.Unlock()
		status := http.StatusOK
		if rc.answer != nil {
			status = rc.answer(n, r)
		}
		if status >= 300 && status < 400 {
			w.Header().Set("Location", rc.srv.URL+"/elsewhere")
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// world is a service over db with an operator, the application studio and a clock.
type world struct {
	t     *testing.T
	db    *sqlstore.DB
	svc   *account.Service
	op    account.Actor
	app   account.Application
	clock *testtime.Clock
	w     *webhooks.Worker
}

func newWorld(t *testing.T, db *sqlstore.DB) *world {
	clock := testtime.At(time.Now())
	svc := account.NewService(account.Options{Store: db, Hasher: password.NewHasher(password.TestParams, 2, rand.Reader),
		Now: clock.Now, Rand: rand.Reader, WebhooksAllowPrivate: true})
	if _, _, err := svc.Bootstrap(ctx, "op@roster.test", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, db: db, svc: svc, clock: clock}
	if err := db.Read(ctx, func(tx account.Tx) (err error) {
		w.op.Account, err = tx.FirstOperator(ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	app, err := svc.CreateApplication(ctx, w.op, account.ApplicationInput{Key: "studio", Name: "Studio"})
	if err != nil {
		t.Fatal(err)
	}
	w.app = app
	w.w = &webhooks.Worker{Store: db, Now: clock.Now, AllowPrivate: true}
	return w
}

func (w *world) hook(url string, events ...string) account.Webhook {
	w.t.Helper()
	in := account.WebhookInput{URL: &url}
	if events != nil {
		in.Events = &events
	}
	h, err := w.svc.CreateWebhook(ctx, w.op, "studio", in)
	if err != nil {
		w.t.Fatal(err)
	}
	return h
}

// event writes an event for studio and relays it, as a use case and the relay do.
func (w *world) event(id string, typ account.EventType) {
	w.t.Helper()
	err := w.db.Write(ctx, func(tx account.Tx) error {
		return tx.InsertEvent(ctx, account.Event{ID: id, OrgID: "org-1", Type: typ, Data: []byte(`{"organization":{"id":"org-1"}}`),
			CreatedAt: w.clock.Now(), Applications: []string{w.app.ID}})
	})
	if err == nil {
		_, err = w.db.RelayEvents(ctx, w.clock.Now(), 500)
	}
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) drain() {
	w.t.Helper()
	if err := w.w.Drain(ctx); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) deliveries(h account.Webhook) []account.Delivery {
	w.t.Helper()
	p, err := w.svc.FindDeliveries(ctx, w.op, "studio", h.ID, account.DeliveryQuery{Limit: 500})
	if err != nil {
		w.t.Fatal(err)
	}
	return p.Items
}

// verify checks a request with the official Standard Webhooks library.
func verify(t *testing.T, secret string, r received) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(r.body, r.header); err != nil {
		t.Errorf("the Standard Webhooks library refuses the delivery: %v\nheaders %v\nbody %s", err, r.header, r.body)
	}
}

// TestDeliverySigned: an event an endpoint takes is POSTed once, signed, and the
// official library verifies it; a type it does not take is not sent; after a rotation
// both secrets verify the same delivery.
func TestDeliverySigned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newWorld(t, db)
		rc := newReceiver(t, nil)
		h := w.hook(rc.srv.URL+"/hooks", "member.added", "webhook.test")
		w.event("ev-1", account.EventMemberAdded)
		w.event("ev-2", account.EventSeatAssigned) // not taken
		w.drain()
		got := rc.requests()
		if len(got) != 1 {
			t.Fatalf("%d requests, want 1", len(got))
		}
		r := got[0]
		verify(t, h.Secret, r)
		if r.header.Get("webhook-id") != "ev-1" || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", r.header)
		}
		var body map[string]any
		if err := json.Unmarshal(r.body, &body); err != nil || body["type"] != "member.added" || body["timestamp"] == nil || body["data"] == nil || len(body) != 3 {
			t.Errorf("body %s (%v)", r.body, err)
		}
		ds := w.deliveries(h)
		if len(ds) != 1 || ds[0].State != account.DeliveryDelivered || ds[0].StatusCode != 200 || ds[0].Attempts != 1 || ds[0].EventID != "ev-1" {
			t.Errorf("deliveries %+v", ds)
		}

		// Rotated: the old and the new secret both sign for 24 hours.
		newSecret, err := w.svc.RotateWebhookSecret(ctx, w.op, "studio", h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.svc.TestWebhook(ctx, w.op, "studio", h.ID); err != nil {
			t.Fatal(err)
		}
		w.drain()
		got = rc.requests()
		if len(got) != 2 {
			t.Fatalf("%d requests after the test event, want 2", len(got))
		}
		test := got[1]
		if sigs := strings.Fields(test.header.Get("webhook-signature")); len(sigs) != 2 {
			t.Errorf("signatures during the rotation: %q", sigs)
		}
		verify(t, h.Secret, test)
		verify(t, newSecret, test)
		if !strings.Contains(string(test.body), `"type":"webhook.test"`) {
			t.Errorf("test body %s", test.body)
		}
	})
}

// TestDeliverySignedWithSealedSecrets: with the secrets sealed in the store
// (--oidc-key-secret), deliveries are signed with the secret itself, before and
// after a rotation, and the official library verifies them.
func TestDeliverySignedWithSealedSecrets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		db.SealSecrets("a long passphrase")
		w := newWorld(t, db)
		rc := newReceiver(t, nil)
		h := w.hook(rc.srv.URL+"/hooks", "member.added", "webhook.test")
		w.event("ev-1", account.EventMemberAdded)
		w.drain()
		got := rc.requests()
		if len(got) != 1 {
			t.Fatalf("%d requests, want 1", len(got))
		}
		verify(t, h.Secret, got[0])
		newSecret, err := w.svc.RotateWebhookSecret(ctx, w.op, "studio", h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.svc.TestWebhook(ctx, w.op, "studio", h.ID); err != nil {
			t.Fatal(err)
		}
		w.drain()
		if got = rc.requests(); len(got) != 2 {
			t.Fatalf("%d requests after the test event, want 2", len(got))
		}
		verify(t, h.Secret, got[1])
		verify(t, newSecret, got[1])
	})
}

// TestDeliveryRetries: a failed attempt is tried again after the schedule's pause,
// not before, with the same webhook-id; a 410 Gone disables the endpoint.
func TestDeliveryRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newWorld(t, db)
		rc := newReceiver(t, func(n int, _ *http.Request) int {
			if n == 1 {
				return http.StatusInternalServerError
			}
			return http.StatusNoContent
		})
		h := w.hook(rc.srv.URL)
		w.event("ev-1", account.EventSeatUnassigned)
		w.drain()
		ds := w.deliveries(h)
		if len(ds) != 1 || ds[0].State != account.DeliveryPending || ds[0].StatusCode != 500 || ds[0].Attempts != 1 ||
			!strings.Contains(ds[0].Error, "500") {
			t.Fatalf("after a 500: %+v", ds)
		}
		if wait := ds[0].NextAt.Sub(w.clock.Now()); wait < 4500*time.Millisecond || wait > 5500*time.Millisecond {
			t.Errorf("the first retry is due in %v, want 5s ± 10%%", wait)
		}
		w.drain()
		if n := len(rc.requests()); n != 1 {
			t.Fatalf("%d requests before the retry is due, want 1", n)
		}
		w.clock.Advance(6 * time.Second)
		w.drain()
		got := rc.requests()
		if len(got) != 2 || got[0].header.Get("webhook-id") != got[1].header.Get("webhook-id") {
			t.Fatalf("retry: %d requests, ids %q", len(got), []string{got[0].header.Get("webhook-id"), got[len(got)-1].header.Get("webhook-id")})
		}
		verify(t, h.Secret, got[1])
		if ds := w.deliveries(h); ds[0].State != account.DeliveryDelivered || ds[0].Attempts != 2 || ds[0].StatusCode != 204 {
			t.Errorf("after the retry: %+v", ds[0])
		}

		gone := newReceiver(t, func(int, *http.Request) int { return http.StatusGone })
		g := w.hook(gone.srv.URL)
		w.event("ev-2", account.EventSeatAssigned)
		w.drain()
		cur, err := w.svc.FindWebhook(ctx, w.op, "studio", g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Enabled || cur.DisabledReason != "410 Gone" {
			t.Errorf("after 410: enabled %v, reason %q", cur.Enabled, cur.DisabledReason)
		}
		if ds := w.deliveries(g); len(ds) != 1 || ds[0].State != account.DeliveryFailed {
			t.Errorf("the 410's delivery: %+v", ds)
		}
		// Disabled, it gets nothing more.
		w.event("ev-3", account.EventSeatAssigned)
		w.drain()
		if n := len(gone.requests()); n != 1 {
			t.Errorf("a disabled endpoint got %d requests", n)
		}
	})
}

// TestSlowEndpointDoesNotDelayAnother: while one endpoint holds its request, the
// other's events are delivered.
func TestSlowEndpointDoesNotDelayAnother(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newWorld(t, db)
		release := make(chan struct{})
		slow := newReceiver(t, func(int, *http.Request) int { <-release; return 200 })
		fast := newReceiver(t, nil)
		w.hook(slow.srv.URL)
		w.hook(fast.srv.URL)
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); w.w.Run(runCtx) }()
		defer func() { close(release); stop(); <-done }()
		for _, id := range []string{"ev-1", "ev-2", "ev-3"} {
			w.event(id, account.EventMemberAdded)
			w.w.Wake()
		}
		testtime.WaitFor(t, 10*time.Second, "the fast endpoint's three events", func() bool {
			w.w.Wake()
			return len(fast.requests()) == 3
		})
		if n := len(slow.requests()); n > 1 {
			t.Errorf("the slow endpoint has %d requests in flight, want at most 1", n)
		}
	})
}

// TestDialRefusesPrivate: without AllowPrivate the dialer refuses a loopback
// address, whatever the URL says; and no redirect is followed.
func TestDialRefusesPrivate(t *testing.T) {
	rc := newReceiver(t, nil)
	_, err := webhooks.NewClient(time.Second, false).Post(rc.srv.URL, "application/json", strings.NewReader("{}"))
	if !errors.Is(err, webhooks.ErrNotPublic) {
		t.Errorf("POST to %s without AllowPrivate: %v, want ErrNotPublic", rc.srv.URL, err)
	}
	if n := len(rc.requests()); n != 0 {
		t.Errorf("the loopback receiver got %d requests", n)
	}
	moved := newReceiver(t, func(n int, r *http.Request) int {
		if r.URL.Path == "/elsewhere" {
			return 200
		}
		return http.StatusFound
	})
	resp, err := webhooks.NewClient(time.Second, true).Post(moved.srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || len(moved.requests()) != 1 {
		t.Errorf("a redirect: status %d after %d requests, want 302 after 1", resp.StatusCode, len(moved.requests()))
	}
}

// TestFailingEndpointDisabled: an endpoint whose deliveries fail for 5 days, none
// delivered, is disabled, audited, and the operators are emailed; a delivered one
// clears the count.
func TestFailingEndpointDisabled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newWorld(t, db)
		w.svc = account.NewService(account.Options{Store: db, Hasher: password.NewHasher(password.TestParams, 2, rand.Reader),
			Now: w.clock.Now, Rand: rand.Reader, WebhooksAllowPrivate: true, Renderer: mail.NewNoticeRenderer()})
		w.w.OnFailing = w.svc.DisableFailingWebhook
		down := newReceiver(t, func(int, *http.Request) int { return http.StatusServiceUnavailable })
		flaky := newReceiver(t, func(n int, _ *http.Request) int {
			if n == 1 {
				return http.StatusBadGateway
			}
			return 200
		})
		h, f := w.hook(down.srv.URL), w.hook(flaky.srv.URL)
		w.event("ev-1", account.EventMemberAdded)
		w.drain()
		start := w.clock.Now()
		cur, err := w.svc.FindWebhook(ctx, w.op, "studio", h.ID)
		if err != nil || !cur.Enabled || !cur.FailingSince.Equal(start.Truncate(time.Microsecond)) {
			t.Fatalf("after a first failure: %+v, %v", cur, err)
		}
		w.clock.Advance(time.Minute)
		w.drain() // the flaky one's retry is delivered
		if fl, _ := w.svc.FindWebhook(ctx, w.op, "studio", f.ID); !fl.FailingSince.IsZero() {
			t.Errorf("a delivered retry left failing_since %v", fl.FailingSince)
		}
		w.clock.Advance(account.FailingLimit - 2*time.Minute)
		w.event("ev-2", account.EventMemberAdded)
		w.drain()
		if cur, _ := w.svc.FindWebhook(ctx, w.op, "studio", h.ID); !cur.Enabled {
			t.Fatalf("disabled before 5 days of failures: %+v", cur)
		}
		w.clock.Advance(2 * time.Minute)
		w.event("ev-3", account.EventMemberAdded)
		w.drain()
		cur, _ = w.svc.FindWebhook(ctx, w.op, "studio", h.ID)
		if cur.Enabled || cur.DisabledReason != "failing for 5 days" {
			t.Fatalf("after 5 days of failures: enabled %v, reason %q", cur.Enabled, cur.DisabledReason)
		}
		if fl, _ := w.svc.FindWebhook(ctx, w.op, "studio", f.ID); !fl.Enabled {
			t.Errorf("the flaky endpoint was disabled too")
		}
		emails, err := db.CountEmails(ctx)
		if err != nil || emails[account.OutboxPending] != 1 {
			t.Errorf("emails %v (%v), want 1 pending to the operator", emails, err)
		}
		p, err := w.svc.FindPlatformAuditEvents(ctx, w.op, account.AuditQuery{Limit: 50})
		if err != nil || len(p.Items) == 0 || p.Items[0].Action != string(account.AuditWebhookDisabled) {
			t.Errorf("the platform trail begins with %+v (%v), want webhook.disabled", p.Items[:min(1, len(p.Items))], err)
		}
	})
}
