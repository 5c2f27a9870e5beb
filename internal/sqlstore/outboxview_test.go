package sqlstore_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// The operator's view of the outbox goes through Tx: keyset pages newest first by
// id, a state filter, the counts, and retrying a failed message.
func TestOutboxOperatorView(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		enqueue(t, db, newEmail("e-1", t0), newEmail("e-2", t0), newEmail("e-3", t0.Add(time.Second)),
			newEmail("e-4", t0.Add(2*time.Second)))
		if _, err := db.ClaimEmails(ctx, "test", t0.Add(time.Minute), 2, time.Minute); err != nil { // e-1, e-2
			t.Fatal(err)
		}
		if err := db.MarkEmailFailed(ctx, "e-1", "550 no such user", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkEmailSent(ctx, "e-2", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}

		find := func(f account.OutboxFilter) (got []string) {
			t.Helper()
			read(t, db, func(tx account.Tx) error {
				ms, err := tx.FindEmails(ctx, f)
				got = ids(ms)
				return err
			})
			return got
		}
		for _, c := range []struct {
			f    account.OutboxFilter
			want []string
		}{
			{account.OutboxFilter{}, []string{"e-4", "e-3", "e-2", "e-1"}},
			{account.OutboxFilter{Limit: 2}, []string{"e-4", "e-3"}},
			{account.OutboxFilter{Before: "e-3", Limit: 2}, []string{"e-2", "e-1"}},
			{account.OutboxFilter{State: account.OutboxPending}, []string{"e-4", "e-3"}},
			{account.OutboxFilter{State: account.OutboxFailed}, []string{"e-1"}},
			{account.OutboxFilter{State: account.OutboxSent, Before: "e-2"}, []string{}},
		} {
			if got := find(c.f); !cmp.Equal(got, c.want) {
				t.Errorf("FindEmails(%+v) = %v, want %v", c.f, got, c.want)
			}
		}
		read(t, db, func(tx account.Tx) error {
			got, err := tx.CountEmails(ctx)
			want := map[account.OutboxState]int{account.OutboxPending: 2, account.OutboxSent: 1, account.OutboxFailed: 1}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			return err
		})

		// Only a failed message is retried: back to pending, due now, no attempt.
		now := t0.Add(time.Hour)
		wantCode(t, try(db, func(tx account.Tx) error { return tx.RetryEmail(ctx, "e-2", now) }), account.ENOTFOUND)
		wantCode(t, try(db, func(tx account.Tx) error { return tx.RetryEmail(ctx, "e-3", now) }), account.ENOTFOUND)
		wantCode(t, try(db, func(tx account.Tx) error { return tx.RetryEmail(ctx, "e-nope", now) }), account.ENOTFOUND)
		write(t, db, func(tx account.Tx) error { return tx.RetryEmail(ctx, "e-1", now) })
		m := findEmail(t, db, "e-1")
		if m.State != account.OutboxPending || m.Attempts != 0 || !m.NextAt.Equal(now) {
			t.Errorf("retried: %+v", m)
		}
		wantCounts(t, db, 3, 1, 0)
	})
}
