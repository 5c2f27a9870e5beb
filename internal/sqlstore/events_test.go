package sqlstore_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

func insertEvent(db *sqlstore.DB, id, orgID string, apps ...string) error {
	return db.Write(ctx, func(tx account.Tx) error {
		return tx.InsertEvent(ctx, account.Event{ID: id, OrgID: orgID, Type: account.EventMemberAdded,
			Data: []byte(`{"n":"` + id + `"}`), CreatedAt: t0, Applications: apps})
	})
}

func relayAll(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	for {
		n, err := db.RelayEvents(ctx, t0, 7) // small batches: several runs
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func feed(t *testing.T, db *sqlstore.DB, app string, after int64) []account.Event {
	t.Helper()
	var evs []account.Event
	read(t, db, func(tx account.Tx) (err error) {
		evs, err = tx.FeedEvents(ctx, account.EventFilter{ApplicationID: app, After: after, Limit: 500})
		return err
	})
	return evs
}

// checkFeed fails unless app's feed holds exactly want (in any order), numbered 1..n.
func checkFeed(t *testing.T, db *sqlstore.DB, app string, want []string) {
	t.Helper()
	evs := feed(t, db, app, 0)
	var got []string
	for i, e := range evs {
		if e.Sequence != int64(i+1) {
			t.Fatalf("%s: event %d (%s) has sequence %d: a gap or a repeat", app, i, e.ID, e.Sequence)
		}
		got = append(got, e.ID)
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Fatalf("%s's feed holds %d events %q,\nwant %d %q", app, len(got), got, len(want), want)
	}
}

// TestEventFeedConcurrentWriters: writers of many organizations and a relay running
// beside them; a consumer that follows the feed with "after" as it grows sees every
// event exactly once, with sequences increasing without gaps, per application.
func TestEventFeedConcurrentWriters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		const writers, each = 6, 25
		var wg sync.WaitGroup
		var written sync.Map
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					id := fmt.Sprintf("ev-%02d-%03d", w, i)
					apps := []string{"app-a"}
					if w%2 == 0 {
						apps = append(apps, "app-b")
					}
					if err := insertEvent(db, id, fmt.Sprintf("org-%d", w), apps...); err != nil {
						t.Error(err)
						return
					}
					written.Store(id, w%2 == 0)
				}
			}()
		}
		var done atomic.Bool
		relayed := make(chan error, 1)
		go func() {
			for !done.Load() {
				if _, err := db.RelayEvents(ctx, t0, 5); err != nil {
					relayed <- err
					return
				}
			}
			relayed <- nil
		}()
		// The consumer follows app-a's feed while it grows.
		var seen []account.Event
		follow := func() {
			after := int64(0)
			if len(seen) > 0 {
				after = seen[len(seen)-1].Sequence
			}
			seen = append(seen, feed(t, db, "app-a", after)...)
		}
		writersDone := make(chan struct{})
		go func() { wg.Wait(); close(writersDone) }()
	loop:
		for {
			select {
			case <-writersDone:
				break loop
			default:
				follow()
			}
		}
		done.Store(true)
		if err := <-relayed; err != nil {
			t.Fatal(err)
		}
		relayAll(t, db)
		follow()

		var wantA, wantB []string
		written.Range(func(k, v any) bool {
			wantA = append(wantA, k.(string))
			if v.(bool) {
				wantB = append(wantB, k.(string))
			}
			return true
		})
		if len(wantA) != writers*each {
			t.Fatalf("%d events written, want %d", len(wantA), writers*each)
		}
		checkFeed(t, db, "app-a", wantA)
		checkFeed(t, db, "app-b", wantB)
		// The follower saw each event once, in sequence order, and none was skipped.
		ids := map[string]bool{}
		for i, e := range seen {
			if e.Sequence != int64(i+1) || ids[e.ID] {
				t.Fatalf("the follower's event %d is %s with sequence %d", i, e.ID, e.Sequence)
			}
			ids[e.ID] = true
		}
		if len(seen) != len(wantA) {
			t.Fatalf("the follower saw %d events, want %d", len(seen), len(wantA))
		}
	})
}

// TestEventFeedLateCommit: an event written before another but committed after it is
// numbered after it, so a consumer that has read past the first never misses it.
// On SQLite no transaction commits while another is open (one writer): the case
// cannot arise there, and the relay waits for the writer.
func TestEventFeedLateCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		if db.Engine() == sqlstore.SQLite {
			t.Skip("SQLite serialises writers: no write commits while another is open")
		}
		written, release := make(chan struct{}), make(chan struct{})
		late := make(chan error, 1)
		go func() {
			late <- db.Write(ctx, func(tx account.Tx) error {
				err := tx.InsertEvent(ctx, account.Event{ID: "ev-1-early", OrgID: "org-1", Type: account.EventSeatAssigned,
					Data: []byte(`{}`), CreatedAt: t0, Applications: []string{"app-a"}})
				close(written)
				<-release
				return err
			})
		}()
		<-written
		if err := insertEvent(db, "ev-2-late", "org-2", "app-a"); err != nil {
			t.Fatal(err)
		}
		relayAll(t, db)
		first := feed(t, db, "app-a", 0)
		if len(first) != 1 || first[0].ID != "ev-2-late" || first[0].Sequence != 1 {
			t.Fatalf("before the late commit the feed is %v", first)
		}
		close(release)
		if err := <-late; err != nil {
			t.Fatal(err)
		}
		relayAll(t, db)
		next := feed(t, db, "app-a", first[0].Sequence)
		if len(next) != 1 || next[0].ID != "ev-1-early" || next[0].Sequence != 2 {
			t.Fatalf("after the late commit, the feed after 1 is %v", next)
		}
	})
}

// TestEventFeedIsolationAndPrune: an application's feed holds only its rows; pruning
// deletes old events with their rows, and the sequences go on from where they were.
func TestEventFeedIsolationAndPrune(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		for _, e := range []struct{ id, app string }{{"ev-1", "app-a"}, {"ev-2", "app-b"}, {"ev-3", "app-a"}} {
			if err := insertEvent(db, e.id, "org", e.app); err != nil {
				t.Fatal(err)
			}
		}
		relayAll(t, db)
		checkFeed(t, db, "app-a", []string{"ev-1", "ev-3"})
		checkFeed(t, db, "app-b", []string{"ev-2"})
		checkFeed(t, db, "app-c", nil)

		n, err := db.PruneEvents(ctx, t0.Add(time.Microsecond), 1)
		if err != nil || n != 3 {
			t.Fatalf("PruneEvents = %d, %v; want 3", n, err)
		}
		checkFeed(t, db, "app-a", nil)
		if err := insertEvent(db, "ev-4", "org", "app-a"); err != nil {
			t.Fatal(err)
		}
		relayAll(t, db)
		if evs := feed(t, db, "app-a", 0); len(evs) != 1 || evs[0].Sequence != 3 {
			t.Fatalf("after pruning, the next event is %v, want sequence 3", evs)
		}
	})
}

// TestSubscribedApplicationsInTransaction: the applications an organization
// subscribes to are read once per transaction, and the answer follows the
// transaction's own writes: a subscription created in it, one created in a
// savepoint that rolls back, one in a savepoint that holds, an organization deleted,
// and another organization's answer apart.
func TestSubscribedApplicationsInTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		write(t, db, func(tx account.Tx) error {
			for _, o := range []account.Organization{newOrg("o1", "O1", "o1", account.KindOrganization, ""),
				newOrg("o2", "O2", "o2", account.KindOrganization, "")} {
				if err := tx.CreateOrganization(ctx, o); err != nil {
					return err
				}
			}
			for _, k := range []string{"a", "b", "c"} {
				if err := tx.CreateApplication(ctx, account.Application{ID: "app-" + k, Key: k, Name: k, CreatedAt: t0, UpdatedAt: t0}); err != nil {
					return err
				}
			}
			return nil
		})
		sub := func(tx account.Tx, id, org, app string) error {
			return tx.CreateSubscription(ctx, account.Subscription{ID: id, OrgID: org, ApplicationID: app, Seats: 1,
				StartsAt: t0, EndsAt: t0.AddDate(1, 0, 0), CreatedAt: t0, UpdatedAt: t0})
		}
		check := func(tx account.Tx, org string, want ...string) {
			t.Helper()
			got, err := tx.SubscribedApplications(ctx, org)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s subscribes to %q, want %q", org, got, want)
			}
		}
		write(t, db, func(tx account.Tx) error {
			check(tx, "o1")
			check(tx, "o2")
			if err := sub(tx, "s1", "o1", "app-a"); err != nil {
				return err
			}
			check(tx, "o1", "app-a")
			check(tx, "o2")
			got, _ := tx.SubscribedApplications(ctx, "o1")
			got[0] = "changed by the caller" // the answer is the caller's copy
			check(tx, "o1", "app-a")
			err := tx.Savepoint(ctx, func() error {
				if err := sub(tx, "s2", "o1", "app-b"); err != nil {
					return err
				}
				check(tx, "o1", "app-a", "app-b")
				return account.Errorf(account.EINVALID, "rolled back")
			})
			wantCode(t, err, account.EINVALID)
			check(tx, "o1", "app-a")
			if err := tx.Savepoint(ctx, func() error { return sub(tx, "s3", "o1", "app-c") }); err != nil {
				return err
			}
			check(tx, "o1", "app-a", "app-c")
			if err := sub(tx, "s4", "o2", "app-b"); err != nil {
				return err
			}
			check(tx, "o2", "app-b")
			return nil
		})
		read(t, db, func(tx account.Tx) error {
			check(tx, "o1", "app-a", "app-c")
			check(tx, "o2", "app-b")
			return nil
		})
		write(t, db, func(tx account.Tx) error {
			check(tx, "o1", "app-a", "app-c")
			check(tx, "o2", "app-b")
			if err := tx.DeleteOrganization(ctx, "o1"); err != nil {
				return err
			}
			check(tx, "o1")
			check(tx, "o2", "app-b")
			return nil
		})
	})
}
