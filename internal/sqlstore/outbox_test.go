package sqlstore_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

func newEmail(id string, at time.Time) account.Email {
	return account.Email{
		ID: id, OrgID: "org-acme", Kind: "invitation", To: id + "@example.com",
		Subject: "Subject " + id, Text: "Text " + id, HTML: "<p>HTML " + id + "</p>", CreatedAt: at,
	}
}

func enqueue(t *testing.T, db *sqlstore.DB, es ...account.Email) {
	t.Helper()
	insert(t, db, account.Tx.EnqueueEmail, es...)
}

func claim(t *testing.T, db *sqlstore.DB, now time.Time, n int, lease time.Duration) []account.OutboxMessage {
	t.Helper()
	ms, err := db.ClaimEmails(ctx, "test", now, n, lease)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return ms
}

func ids(ms []account.OutboxMessage) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func findEmail(t *testing.T, db *sqlstore.DB, id string) account.OutboxMessage {
	t.Helper()
	ms, err := db.FindEmails(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("no outbox message %s", id)
	return account.OutboxMessage{}
}

func wantCounts(t *testing.T, db *sqlstore.DB, pending, sent, failed int) {
	t.Helper()
	got, err := db.CountEmails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[account.OutboxState]int{account.OutboxPending: pending, account.OutboxSent: sent, account.OutboxFailed: failed}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}

func TestOutboxEnqueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		// An email enqueued by a transaction that fails is never written.
		boom := errors.New("boom")
		err := db.Write(ctx, func(tx account.Tx) error {
			if err := tx.EnqueueEmail(ctx, newEmail("e-rolled-back", t0)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("write: %v, want boom", err)
		}
		wantCounts(t, db, 0, 0, 0)
		if ms := claim(t, db, t0.Add(time.Hour), 10, time.Minute); len(ms) != 0 {
			t.Fatalf("claimed %v from an empty outbox", ids(ms))
		}

		e := newEmail("e-1", t0)
		enqueue(t, db, e)
		got := findEmail(t, db, "e-1")
		want := account.OutboxMessage{Email: e, State: account.OutboxPending, NextAt: t0}
		if diff := cmp.Diff(want, got, equate); diff != "" {
			t.Errorf("enqueued (-want +got):\n%s", diff)
		}
		wantCounts(t, db, 1, 0, 0)
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.EnqueueEmail(ctx, e) }), "id")
	})
}

func TestOutboxClaimLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		enqueue(t, db, newEmail("e-b", t0), newEmail("e-a", t0), newEmail("e-c", t0.Add(time.Second)),
			newEmail("e-later", t0.Add(10*time.Minute)))
		lease := time.Minute

		// Due messages only, by next_at then id, at most limit.
		now := t0.Add(time.Second)
		if got := ids(claim(t, db, now, 2, lease)); !cmp.Equal(got, []string{"e-a", "e-b"}) {
			t.Fatalf("first claim: %v", got)
		}
		ms := claim(t, db, now, 10, lease)
		if got := ids(ms); !cmp.Equal(got, []string{"e-c"}) || ms[0].Attempts != 1 {
			t.Fatalf("second claim: %v (%+v)", got, ms)
		}
		// Claimed messages are not claimed again while their lease runs…
		if got := ids(claim(t, db, now.Add(lease), 10, lease)); len(got) != 0 {
			t.Fatalf("claimed under lease: %v", got)
		}
		// …and are once it has expired (the claimer died), with one more attempt.
		ms = claim(t, db, now.Add(lease+time.Microsecond), 10, lease)
		if got := ids(ms); !cmp.Equal(got, []string{"e-a", "e-b", "e-c"}) {
			t.Fatalf("claim after expiry: %v", got)
		}
		for _, m := range ms {
			if m.Attempts != 2 || m.State != account.OutboxPending {
				t.Errorf("re-claimed %s: attempts %d, state %s", m.ID, m.Attempts, m.State)
			}
		}
		want := newEmail("e-a", t0)
		if diff := cmp.Diff(want, ms[0].Email, equate); diff != "" {
			t.Errorf("claimed email (-want +got):\n%s", diff)
		}
		// The later message once due, the others again (their second lease expired too).
		ms = claim(t, db, t0.Add(10*time.Minute), 10, lease)
		if got := ids(ms); !cmp.Equal(got, []string{"e-a", "e-b", "e-c", "e-later"}) || ms[3].Attempts != 1 || ms[0].Attempts != 3 {
			t.Fatalf("claim of the later message: %v (%+v)", got, ms)
		}
		if ms := claim(t, db, t0.Add(time.Hour), 0, lease); len(ms) != 0 {
			t.Fatalf("limit 0 claimed %v", ids(ms))
		}
	})
}

func TestOutboxRetryAndFail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		enqueue(t, db, newEmail("e-1", t0), newEmail("e-2", t0))
		lease := time.Hour
		claim(t, db, t0, 10, lease)

		// A retry clears the claim: due again at nextAt, not at the lease's end.
		next := t0.Add(5 * time.Minute)
		if err := db.MarkEmailRetry(ctx, "e-1", next, "451 try later"); err != nil {
			t.Fatal(err)
		}
		m := findEmail(t, db, "e-1")
		if m.State != account.OutboxPending || !m.NextAt.Equal(next) || m.LastError != "451 try later" || m.Attempts != 1 {
			t.Fatalf("after retry: %+v", m)
		}
		if got := ids(claim(t, db, next.Add(-time.Microsecond), 10, lease)); len(got) != 0 {
			t.Fatalf("claimed before next_at: %v", got)
		}
		if ms := claim(t, db, next, 10, lease); !cmp.Equal(ids(ms), []string{"e-1"}) || ms[0].Attempts != 2 {
			t.Fatalf("claim at next_at: %+v", ms)
		}

		// Failed is final: never claimed, not marked sent.
		failedAt := next.Add(time.Second)
		if err := db.MarkEmailFailed(ctx, "e-1", "550 no such user", failedAt); err != nil {
			t.Fatal(err)
		}
		m = findEmail(t, db, "e-1")
		if m.State != account.OutboxFailed || m.LastError != "550 no such user" || m.Attempts != 2 || !m.NextAt.Equal(failedAt) {
			t.Fatalf("after failure: %+v", m)
		}
		if got := ids(claim(t, db, t0.Add(48*time.Hour), 10, lease)); !cmp.Equal(got, []string{"e-2"}) {
			t.Fatalf("claim after failure: %v", got)
		}
		wantCode(t, db.MarkEmailSent(ctx, "e-1", failedAt), account.ENOTFOUND)
		wantCode(t, db.MarkEmailRetry(ctx, "e-1", failedAt, "x"), account.ENOTFOUND)
		wantCode(t, db.MarkEmailFailed(ctx, "e-1", "x", failedAt), account.ENOTFOUND)
		wantCounts(t, db, 1, 0, 1)

		// Sent.
		sentAt := t0.Add(48 * time.Hour)
		if err := db.MarkEmailSent(ctx, "e-2", sentAt); err != nil {
			t.Fatal(err)
		}
		m = findEmail(t, db, "e-2")
		if m.State != account.OutboxSent || !m.SentAt.Equal(sentAt) {
			t.Fatalf("after sent: %+v", m)
		}
		wantCode(t, db.MarkEmailSent(ctx, "e-2", sentAt), account.ENOTFOUND)
		wantCounts(t, db, 0, 1, 1)

		// RetryEmail: failed messages only, back to pending now with no attempt.
		wantCode(t, db.RetryEmail(ctx, "e-2", sentAt), account.ENOTFOUND)
		wantCode(t, db.RetryEmail(ctx, "e-nope", sentAt), account.ENOTFOUND)
		now := t0.Add(72 * time.Hour)
		if err := db.RetryEmail(ctx, "e-1", now); err != nil {
			t.Fatal(err)
		}
		m = findEmail(t, db, "e-1")
		if m.State != account.OutboxPending || m.Attempts != 0 || !m.NextAt.Equal(now) {
			t.Fatalf("after RetryEmail: %+v", m)
		}
		wantCode(t, db.RetryEmail(ctx, "e-1", now), account.ENOTFOUND)
		if ms := claim(t, db, now, 10, lease); !cmp.Equal(ids(ms), []string{"e-1"}) || ms[0].Attempts != 1 {
			t.Fatalf("claim after RetryEmail: %+v", ms)
		}
	})
}

func TestOutboxFind(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		for i := range 5 {
			enqueue(t, db, newEmail(fmt.Sprintf("e-%d", i), t0.Add(time.Duration(i)*time.Second)))
		}
		claim(t, db, t0.Add(time.Minute), 2, time.Hour) // e-0, e-1
		if err := db.MarkEmailSent(ctx, "e-0", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkEmailFailed(ctx, "e-1", "550", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			state account.OutboxState
			n     int
			want  []string
		}{
			{"", 0, []string{"e-4", "e-3", "e-2", "e-1", "e-0"}},
			{"", 2, []string{"e-4", "e-3"}},
			{account.OutboxPending, 0, []string{"e-4", "e-3", "e-2"}},
			{account.OutboxSent, 10, []string{"e-0"}},
			{account.OutboxFailed, 10, []string{"e-1"}},
		} {
			ms, err := db.FindEmails(ctx, c.state, c.n)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(ms); !cmp.Equal(got, c.want) {
				t.Errorf("FindEmails(%q, %d) = %v, want %v", c.state, c.n, got, c.want)
			}
		}
	})
}

// TestOutboxConcurrentClaims has claimers on two separately opened DBs (as two Roster
// processes) claim 200 messages at once: each is claimed exactly once.
func TestOutboxConcurrentClaims(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(string(engine), func(t *testing.T) {
			dbs := storetest.OpenShared(t, engine, 2)
			const n = 200
			es := make([]account.Email, n)
			for i := range es {
				es[i] = newEmail(fmt.Sprintf("e-%03d", i), t0.Add(time.Duration(i%7)*time.Millisecond))
			}
			enqueue(t, dbs[0], es...)

			var mu sync.Mutex
			claimed := map[string]int{}
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := range 8 { // 4 claimers on each DB
				db := dbs[g%2]
				wg.Go(func() {
					for {
						ms, err := db.ClaimEmails(ctx, "test", t0.Add(time.Second), 7, time.Hour)
						if err != nil {
							errs <- err
							return
						}
						if len(ms) == 0 {
							return
						}
						mu.Lock()
						for _, m := range ms {
							claimed[m.ID]++
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("claim: %v", err)
			}
			if len(claimed) != n {
				t.Errorf("%d messages claimed, want %d", len(claimed), n)
			}
			for id, c := range claimed {
				if c != 1 {
					t.Errorf("%s claimed %d times", id, c)
				}
			}
			if ms := claim(t, dbs[1], t0.Add(time.Second), n, time.Hour); len(ms) != 0 {
				t.Errorf("%d messages left to claim", len(ms))
			}
		})
	}
}

// TestOutboxClaimOwners: only the worker that claimed a message renews or hands back
// its claim; a claim handed back is claimable at once, with its attempt given back.
func TestOutboxClaimOwners(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		t0 := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
		enqueue(t, db, newEmail("e-1", t0), newEmail("e-2", t0), newEmail("e-3", t0))
		ms, err := db.ClaimEmails(ctx, "worker-a", t0, 2, time.Minute)
		if err != nil || len(ms) != 2 {
			t.Fatalf("claim: %v, %v", ms, err)
		}
		all := []string{"e-1", "e-2", "e-3"}
		count := func(n int64, err error) int64 {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		// Another worker renews and releases nothing, e-3 being unclaimed.
		if n := count(db.RenewEmailClaims(ctx, "worker-b", all, t0.Add(time.Hour))); n != 0 {
			t.Errorf("worker-b renewed %d claims of worker-a", n)
		}
		if n := count(db.ReleaseEmailClaims(ctx, "worker-b", all)); n != 0 {
			t.Errorf("worker-b released %d claims of worker-a", n)
		}
		// The owner renews: at the end of the first lease the messages are still held.
		if n := count(db.RenewEmailClaims(ctx, "worker-a", all, t0.Add(2*time.Minute))); n != 2 {
			t.Errorf("worker-a renewed %d claims, want 2", n)
		}
		if got := ids(claim(t, db, t0.Add(90*time.Second), 10, time.Minute)); !cmp.Equal(got, []string{"e-3"}) {
			t.Errorf("after the renewal another worker claimed %v, want [e-3]", got)
		}
		// A message marked is neither renewed nor released.
		if err := db.MarkEmailRetry(ctx, "e-1", t0.Add(time.Hour), "451"); err != nil {
			t.Fatal(err)
		}
		if n := count(db.RenewEmailClaims(ctx, "worker-a", all, t0.Add(3*time.Minute))); n != 1 {
			t.Errorf("worker-a renewed %d claims, want 1 (e-2)", n)
		}
		// Handed back, e-2 is claimable at once, its attempt given back.
		if n := count(db.ReleaseEmailClaims(ctx, "worker-a", all)); n != 1 {
			t.Errorf("worker-a released %d claims, want 1 (e-2)", n)
		}
		if m := findEmail(t, db, "e-2"); m.Attempts != 0 || m.State != account.OutboxPending {
			t.Errorf("e-2 handed back: %+v", m)
		}
		if m := findEmail(t, db, "e-1"); m.Attempts != 1 || !m.NextAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("e-1 put back for a retry: %+v", m)
		}
		if got := ids(claim(t, db, t0.Add(time.Second), 10, time.Minute)); !cmp.Equal(got, []string{"e-2"}) {
			t.Errorf("after the hand-back another worker claimed %v, want [e-2]", got)
		}
		if n := count(db.RenewEmailClaims(ctx, "worker-a", nil, t0)); n != 0 {
			t.Errorf("renewed %d of no ids", n)
		}
	})
}

// TestOutboxPruneSentBodies: the retention sweep empties the bodies of messages sent
// before the cutoff, in batches, and nothing else: messages sent later, pending and
// failed ones keep theirs, and every message stays listed with its subject.
func TestOutboxPruneSentBodies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		var es []account.Email
		for i := range 7 {
			es = append(es, newEmail(fmt.Sprintf("e-%d", i), t0))
		}
		enqueue(t, db, es...)
		claim(t, db, t0, 10, time.Hour)
		// e-0…e-4 sent on day 1, e-5 sent on day 40, e-6 failed on day 1.
		for i := range 5 {
			if err := db.MarkEmailSent(ctx, fmt.Sprintf("e-%d", i), t0.Add(24*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.MarkEmailSent(ctx, "e-5", t0.Add(40*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkEmailFailed(ctx, "e-6", "550", t0.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		enqueue(t, db, newEmail("e-7", t0)) // pending

		cutoff := t0.Add(30 * 24 * time.Hour)
		n, err := db.PruneSentEmails(ctx, cutoff, 2) // batches of 2: 2, 2, 1
		if err != nil || n != 5 {
			t.Fatalf("PruneSentEmails = %d, %v; want 5", n, err)
		}
		for i := range 8 {
			id := fmt.Sprintf("e-%d", i)
			m := findEmail(t, db, id)
			pruned := i < 5
			if empty := m.Text == "" && m.HTML == ""; empty != pruned {
				t.Errorf("%s (%s): text %q, html %q; pruned %v", id, m.State, m.Text, m.HTML, pruned)
			}
			if m.Subject != "Subject "+id || m.To != id+"@example.com" {
				t.Errorf("%s lost its subject or address: %+v", id, m)
			}
		}
		if n, err := db.PruneSentEmails(ctx, cutoff, 2); err != nil || n != 0 {
			t.Errorf("second sweep = %d, %v; want 0", n, err)
		}
		wantCounts(t, db, 1, 6, 1)
	})
}
