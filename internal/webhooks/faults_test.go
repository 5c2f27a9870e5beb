package webhooks_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
	"roster.dev/roster/internal/webhooks"
)

// feedIDs is studio's feed, checked to be numbered 1..n, as event ids.
func (w *world) feedIDs() []string {
	w.t.Helper()
	var feed []account.Event
	if err := w.db.Read(ctx, func(tx account.Tx) (err error) {
		feed, err = tx.FeedEvents(ctx, account.EventFilter{ApplicationID: w.app.ID, Limit: 500})
		return err
	}); err != nil {
		w.t.Fatal(err)
	}
	var ids []string
	for i, e := range feed {
		if e.Sequence != int64(i+1) {
			w.t.Errorf("feed item %d (%s) has sequence %d", i, e.ID, e.Sequence)
		}
		ids = append(ids, e.ID)
	}
	return ids
}

// byID groups an endpoint's requests by webhook-id, in the order they came.
func byID(rs []received) map[string][]received {
	m := map[string][]received{}
	for _, r := range rs {
		m[r.header.Get("webhook-id")] = append(m[r.header.Get("webhook-id")], r)
	}
	return m
}

// TestEndpointDownThenUp: the endpoint refuses connections (its listener closed)
// for two rounds of attempts, then answers 503 for two more, then takes them: each
// of the three events arrives, the failed attempts are recorded and retried on
// the schedule, every request of one event carries its webhook-id and verifies
// with the official library, and the feed holds the three events, in order.
func TestEndpointDownThenUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newWorld(t, db)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // down: connections are refused
		h := w.hook("http://" + addr + "/hooks")
		start := w.clock.Now()
		events := []string{"ev-1", "ev-2", "ev-3"}
		for _, id := range events {
			w.event(id, account.EventMemberAdded)
		}
		round := func(i int) { // let the retry after attempt i come due, and make it
			w.clock.Advance(webhooks.Schedule[i-1] + webhooks.Schedule[i-1]/5)
			w.drain()
		}
		check := func(attempts int, state account.DeliveryState, what string) {
			t.Helper()
			ds := w.deliveries(h)
			if len(ds) != len(events) {
				t.Fatalf("%s: %d deliveries, want %d", what, len(ds), len(events))
			}
			for _, d := range ds {
				if d.Attempts != attempts || d.State != state {
					t.Errorf("%s: delivery of %s in state %s after %d attempts, want %s after %d (error %q)",
						what, d.EventID, d.State, d.Attempts, state, attempts, d.Error)
				}
			}
		}
		w.drain()
		check(1, account.DeliveryPending, "refused once")
		for _, d := range w.deliveries(h) {
			if !strings.Contains(d.Error, "refused") || d.StatusCode != 0 {
				t.Errorf("a refused attempt recorded status %d, error %q", d.StatusCode, d.Error)
			}
		}
		w.drain() // not due yet: nothing is tried
		check(1, account.DeliveryPending, "before the retry is due")
		round(1)
		check(2, account.DeliveryPending, "refused twice")

		// Up again on the same address, first answering 503.
		var n atomic.Int32
		rc := &receiver{answer: func(int, *http.Request) int {
			if n.Add(1) <= int32(2*len(events)) {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		}}
		rc.srv = httptest.NewUnstartedServer(recording(rc))
		l, err = net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listen again on %s: %v", addr, err)
		}
		rc.srv.Listener = l
		rc.srv.Start()
		t.Cleanup(rc.srv.Close)
		round(2)
		check(3, account.DeliveryPending, "one 503")
		round(3)
		check(4, account.DeliveryPending, "two 503s")
		for _, d := range w.deliveries(h) {
			if d.StatusCode != 503 || !strings.Contains(d.Error, "503") {
				t.Errorf("a 503 attempt recorded status %d, error %q", d.StatusCode, d.Error)
			}
		}
		round(4)
		check(5, account.DeliveryDelivered, "up")
		upAt := w.clock.Now()
		w.clock.Advance(24 * time.Hour)
		w.drain() // delivered: never sent again
		got := byID(rc.requests())
		for _, id := range events {
			if len(got[id]) != 3 {
				t.Errorf("%s reached the endpoint %d times, want 3 (two 503s, one 200)", id, len(got[id]))
			}
			for _, r := range got[id] {
				verifySigned(t, h.Secret, r, start, upAt)
			}
		}
		if len(got) != len(events) {
			t.Errorf("the endpoint got %d distinct webhook-ids, want %d", len(got), len(events))
		}
		if ids := w.feedIDs(); strings.Join(ids, ",") != strings.Join(events, ",") {
			t.Errorf("the feed holds %v, want %v", ids, events)
		}
	})
}

// verifySigned checks a request's signature with the official library, its
// timestamp against the test clock (advanced by hours, past the library's own
// tolerance, which reads the real one): between from and to.
func verifySigned(t *testing.T, secret string, r received, from, to time.Time) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.VerifyIgnoringTimestamp(r.body, r.header); err != nil {
		t.Errorf("the Standard Webhooks library refuses the delivery: %v\nheaders %v\nbody %s", err, r.header, r.body)
	}
	ts, err := strconv.ParseInt(r.header.Get("webhook-timestamp"), 10, 64)
	if err != nil || ts > to.Unix() || ts < from.Unix() {
		t.Errorf("webhook-timestamp %q, want between %d and %d", r.header.Get("webhook-timestamp"), from.Unix(), to.Unix())
	}
}

// recording is newReceiver's handler for a receiver started by hand.
func recording(rc *receiver) http.Handler {
	return http.HandlerFunc(func(wr http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: body})
		k := len(rc.got)
		rc.mu.Unlock()
		wr.WriteHeader(rc.answer(k, r))
	})
}

// TestSlowPastTheTimeout: an endpoint slower than the worker's timeout has its
// attempt recorded as failed with a timeout error and retried on the schedule, with
// the same webhook-id; once it is fast again the event is delivered. Another
// endpoint's delivery of the same event is made in the same round, at the first
// attempt.
func TestSlowPastTheTimeout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newWorld(t, db)
		w.w = &webhooks.Worker{Store: db, Now: w.clock.Now, AllowPrivate: true, Timeout: 200 * time.Millisecond}
		var slow atomic.Bool
		slow.Store(true)
		sluggish := newReceiver(t, func(_ int, r *http.Request) int {
			if slow.Load() {
				<-r.Context().Done() // held until the worker gives up and hangs up
			}
			return http.StatusOK
		})
		fast := newReceiver(t, nil)
		h, f := w.hook(sluggish.srv.URL), w.hook(fast.srv.URL)
		w.event("ev-1", account.EventSeatAssigned)
		w.drain()
		ds := w.deliveries(h)
		if len(ds) != 1 || ds[0].State != account.DeliveryPending || ds[0].Attempts != 1 || ds[0].StatusCode != 0 ||
			!timedOut(ds[0].Error) {
			t.Fatalf("after a timed-out attempt: %+v", ds)
		}
		if !ds[0].NextAt.After(w.clock.Now()) {
			t.Errorf("the retry is due at %v, not after now %v", ds[0].NextAt, w.clock.Now())
		}
		if fd := w.deliveries(f); len(fd) != 1 || fd[0].State != account.DeliveryDelivered || fd[0].Attempts != 1 {
			t.Errorf("the other endpoint's delivery: %+v", fd)
		}
		slow.Store(false)
		w.clock.Advance(webhooks.Schedule[0] + webhooks.Schedule[0]/5)
		w.drain()
		ds = w.deliveries(h)
		if len(ds) != 1 || ds[0].State != account.DeliveryDelivered || ds[0].Attempts != 2 || ds[0].StatusCode != 200 {
			t.Fatalf("after the retry: %+v", ds)
		}
		got := sluggish.requests()
		if len(got) != 2 || got[0].header.Get("webhook-id") != "ev-1" || got[1].header.Get("webhook-id") != "ev-1" {
			t.Fatalf("the slow endpoint got %d requests", len(got))
		}
		verify(t, h.Secret, got[1])
		if n := len(fast.requests()); n != 1 {
			t.Errorf("the other endpoint got %d requests, want 1", n)
		}
	})
}

// timedOut reports whether an attempt's error is the worker's timeout: the
// transport's or the request context's, whichever fired first.
func timedOut(msg string) bool {
	return strings.Contains(msg, "timeout") || strings.Contains(msg, "Timeout") || strings.Contains(msg, "deadline exceeded")
}
