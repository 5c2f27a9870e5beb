package sqlstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// newImport is a queued import of orgID, uploaded at created, never claimed.
func newImport(id, orgID string, created time.Time) account.Import {
	return account.Import{
		ID: id, OrgID: orgID, ActorID: "acc-uploader", FileName: id + ".xlsx", Format: "xlsx", Size: 1234,
		State: account.ImportQueued, Total: 10, CreatedAt: created, UpdatedAt: created,
	}
}

// createImports stores each import with a small file naming it.
func createImports(t *testing.T, db *sqlstore.DB, imps ...account.Import) {
	t.Helper()
	write(t, db, func(tx account.Tx) error {
		for _, imp := range imps {
			if err := tx.CreateImport(ctx, imp, []byte("file of "+imp.ID)); err != nil {
				return err
			}
		}
		return nil
	})
}

func getImport(t *testing.T, db *sqlstore.DB, orgID, id string) account.Import {
	t.Helper()
	var imp account.Import
	read(t, db, func(tx account.Tx) (err error) {
		imp, err = tx.Import(ctx, orgID, id)
		return err
	})
	return imp
}

// claimImport runs ClaimImport in its own transaction, returning its error.
func claimImport(db *sqlstore.DB, owner string, now, until time.Time) (imp account.Import, err error) {
	err = db.Write(ctx, func(tx account.Tx) error {
		imp, err = tx.ClaimImport(ctx, owner, now, until)
		return err
	})
	return imp, err
}

// wantClaim claims for owner and checks that it got import id.
func wantClaim(t *testing.T, db *sqlstore.DB, owner string, now, until time.Time, id string) account.Import {
	t.Helper()
	imp, err := claimImport(db, owner, now, until)
	if err != nil {
		t.Fatalf("%s claims at %v: %v, want %s", owner, now, err, id)
	}
	if imp.ID != id {
		t.Fatalf("%s claims at %v: got %s, want %s", owner, now, imp.ID, id)
	}
	return imp
}

// wantNoClaim checks that owner finds nothing to claim at now.
func wantNoClaim(t *testing.T, db *sqlstore.DB, owner string, now time.Time) {
	t.Helper()
	imp, err := claimImport(db, owner, now, now.Add(time.Minute))
	if account.ErrorCode(err) != account.ENOTFOUND {
		t.Fatalf("%s claims at %v: %+v, %v; want ENOTFOUND", owner, now, imp.ID, err)
	}
}

// updateImport runs UpdateImport in its own transaction.
func updateImport(t *testing.T, db *sqlstore.DB, imp account.Import) bool {
	t.Helper()
	var ok bool
	write(t, db, func(tx account.Tx) (err error) {
		ok, err = tx.UpdateImport(ctx, imp)
		return err
	})
	return ok
}

func importFile(db *sqlstore.DB, id string) (b []byte, err error) {
	err = db.Read(ctx, func(tx account.Tx) error {
		b, err = tx.ImportFile(ctx, id)
		return err
	})
	return b, err
}

func TestImports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db,
			newOrg("org-a", "A", "org-a", account.KindOrganization, ""),
			newOrg("org-b", "B", "org-b", account.KindOrganization, ""))

		// A 5 MB file with every byte value comes back whole; the import as written.
		file := make([]byte, 5<<20)
		r := rand.New(rand.NewPCG(1, 2))
		for i := range file {
			file[i] = byte(r.UintN(256))
		}
		imp := newImport("imp-1", "org-a", t0)
		imp.Size, imp.Format, imp.FileName = int64(len(file)), "csv", "people «été».csv"
		write(t, db, func(tx account.Tx) error { return tx.CreateImport(ctx, imp, file) })
		if d := cmp.Diff(imp, getImport(t, db, "org-a", imp.ID)); d != "" {
			t.Errorf("Import (-want +got):\n%s", d)
		}
		got, err := importFile(db, imp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, file) {
			t.Errorf("ImportFile: %d bytes, not the %d written", len(got), len(file))
		}

		// Every column round-trips, including a finished import's.
		full := newImport("imp-2", "org-a", t0.Add(time.Second))
		full.State, full.Total, full.Processed, full.Created, full.Invited, full.Updated, full.Failed =
			account.ImportFailed, 100, 90, 10, 20, 30, 40
		full.Error, full.LeaseOwner, full.LeaseUntil = "bad zip", "runner-x", t0.Add(time.Hour)
		full.UpdatedAt, full.FinishedAt = t0.Add(2*time.Second), t0.Add(3*time.Second)
		write(t, db, func(tx account.Tx) error { return tx.CreateImport(ctx, full, nil) })
		if d := cmp.Diff(full, getImport(t, db, "org-a", full.ID)); d != "" {
			t.Errorf("full Import (-want +got):\n%s", d)
		}
		if got, err := importFile(db, full.ID); err != nil || got == nil || len(got) != 0 {
			t.Errorf("empty ImportFile: %v, %v", got, err)
		}

		// Reads are scoped to the organization; unknown ids are ENOTFOUND.
		read(t, db, func(tx account.Tx) error {
			_, err := tx.Import(ctx, "org-b", imp.ID)
			wantCode(t, err, account.ENOTFOUND)
			_, err = tx.Import(ctx, "org-a", "nope")
			wantCode(t, err, account.ENOTFOUND)
			if msg := account.ErrorMessage(err); msg != "import not found" {
				t.Errorf("message %q", msg)
			}
			_, err = tx.ImportFile(ctx, "nope")
			wantCode(t, err, account.ENOTFOUND)
			return nil
		})

		// A taken id, an unknown organization, an unknown format or state.
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.CreateImport(ctx, imp, nil) }), "id")
		wantCode(t, try(db, func(tx account.Tx) error {
			return tx.CreateImport(ctx, newImport("imp-x", "nope", t0), nil)
		}), account.ENOTFOUND)
		bad := newImport("imp-y", "org-a", t0)
		bad.Format = "xls"
		if err := try(db, func(tx account.Tx) error { return tx.CreateImport(ctx, bad, nil) }); err == nil {
			t.Error("created an import of format xls")
		}
		bad = newImport("imp-z", "org-a", t0)
		bad.State = "paused"
		if err := try(db, func(tx account.Tx) error { return tx.CreateImport(ctx, bad, nil) }); err == nil {
			t.Error("created an import in state paused")
		}
		if _, err := importFile(db, "imp-y"); account.ErrorCode(err) != account.ENOTFOUND {
			t.Errorf("the file of a rejected import: %v", err)
		}
	})
}

func TestFindImports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db,
			newOrg("org-a", "A", "org-a", account.KindOrganization, ""),
			newOrg("org-b", "B", "org-b", account.KindOrganization, ""))
		var want []account.Import // of org A, newest first
		for i := range 11 {
			a := newImport(fmt.Sprintf("imp-%02d-a", i), "org-a", t0.Add(time.Duration(i)*time.Second))
			b := newImport(fmt.Sprintf("imp-%02d-b", i), "org-b", t0)
			createImports(t, db, a, b)
			want = append(want, a)
		}
		slices.Reverse(want)
		for _, lim := range []int{0, 1, 3, 11, 100} {
			var got []account.Import
			before := ""
			for page := 0; ; page++ {
				if page > 20 {
					t.Fatalf("limit %d: paging does not end", lim)
				}
				var items []account.Import
				read(t, db, func(tx account.Tx) (err error) {
					items, err = tx.FindImports(ctx, "org-a", before, lim)
					return err
				})
				if lim > 0 && len(items) > lim {
					t.Fatalf("limit %d: %d items", lim, len(items))
				}
				got = append(got, items...)
				if lim == 0 || len(items) < lim {
					break
				}
				before = items[len(items)-1].ID
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("limit %d (-want +got):\n%s", lim, d)
			}
		}
		read(t, db, func(tx account.Tx) error {
			items, err := tx.FindImports(ctx, "nope", "", 10)
			if items == nil || len(items) != 0 {
				t.Errorf("unknown organization: %v", items)
			}
			return err
		})
	})
}

func TestClaimImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db, newOrg("org-a", "A", "org-a", account.KindOrganization, ""))
		now := t0.Add(time.Hour)
		wantNoClaim(t, db, "r1", now)

		done := newImport("imp-0-done", "org-a", t0)
		done.State, done.FinishedAt = account.ImportDone, t0
		failed := newImport("imp-0-failed", "org-a", t0)
		failed.State, failed.FinishedAt = account.ImportFailed, t0
		later := newImport("imp-3", "org-a", t0.Add(time.Second))
		later.LeaseUntil = now.Add(time.Minute) // queued, but not before its lease lapses
		createImports(t, db, done, failed, newImport("imp-2", "org-a", t0), newImport("imp-1", "org-a", t0), later)

		// A claim in a transaction that fails does not stick.
		boom := errors.New("boom")
		if err := db.Write(ctx, func(tx account.Tx) error {
			if _, err := tx.ClaimImport(ctx, "r0", now, now.Add(time.Hour)); err != nil {
				return err
			}
			return boom
		}); !errors.Is(err, boom) {
			t.Fatalf("rolled-back claim: %v", err)
		}

		// Oldest first (by id); done and failed ones never; the claim is as stored.
		lease1 := now.Add(time.Minute)
		c1 := wantClaim(t, db, "r1", now, lease1, "imp-1")
		want := newImport("imp-1", "org-a", t0)
		want.State, want.LeaseOwner, want.LeaseUntil = account.ImportRunning, "r1", lease1
		if d := cmp.Diff(want, c1); d != "" {
			t.Errorf("claimed (-want +got):\n%s", d)
		}
		if d := cmp.Diff(c1, getImport(t, db, "org-a", "imp-1")); d != "" {
			t.Errorf("claimed, read back (-claimed +read):\n%s", d)
		}
		wantClaim(t, db, "r2", now, now.Add(time.Hour), "imp-2")
		wantNoClaim(t, db, "r3", now)

		// A held lease is not claimed again before it lapses, even by its owner.
		wantNoClaim(t, db, "r1", lease1.Add(-time.Microsecond))
		// At lease1 it lapses: imp-1 and imp-3 (whose lease ends then too) are
		// claimable, and the oldest goes first, to another owner.
		c3 := wantClaim(t, db, "r3", lease1, lease1.Add(time.Minute), "imp-1")
		wantClaim(t, db, "r4", lease1, lease1.Add(time.Minute), "imp-3")
		wantNoClaim(t, db, "r5", lease1)

		// The old owner is fenced off: its update writes nothing.
		stale := c1
		stale.Processed, stale.UpdatedAt, stale.LeaseUntil = 5, lease1, lease1.Add(time.Hour)
		if updateImport(t, db, stale) {
			t.Error("the old owner updated an import taken over")
		}
		if d := cmp.Diff(c3, getImport(t, db, "org-a", "imp-1")); d != "" {
			t.Errorf("after the old owner's update (-want +got):\n%s", d)
		}
		// The new owner's goes through.
		c3.Processed, c3.UpdatedAt = 5, lease1
		if !updateImport(t, db, c3) {
			t.Fatal("the owner could not update its import")
		}
		if d := cmp.Diff(c3, getImport(t, db, "org-a", "imp-1")); d != "" {
			t.Errorf("after the owner's update (-want +got):\n%s", d)
		}
		// No owner, no import: no update.
		noOwner := c3
		noOwner.LeaseOwner = ""
		if updateImport(t, db, noOwner) {
			t.Error("updated without an owner")
		}
		missing := c3
		missing.ID = "nope"
		if updateImport(t, db, missing) {
			t.Error("updated a missing import")
		}

		// A running import whose owner finishes it is never claimed again.
		c3.State, c3.FinishedAt, c3.LeaseUntil = account.ImportDone, lease1, lease1
		if !updateImport(t, db, c3) {
			t.Fatal("could not finish")
		}
		wantClaim(t, db, "r6", now.Add(24*time.Hour), now.Add(25*time.Hour), "imp-2")
		wantClaim(t, db, "r7", now.Add(24*time.Hour), now.Add(25*time.Hour), "imp-3")
		wantNoClaim(t, db, "r8", now.Add(25*time.Hour-time.Microsecond))
	})
}

func TestUpdateImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db, newOrg("org-a", "A", "org-a", account.KindOrganization, ""))
		createImports(t, db, newImport("imp-1", "org-a", t0))
		imp := wantClaim(t, db, "r1", t0, t0.Add(time.Minute), "imp-1")

		upd := imp
		upd.State, upd.Total, upd.Processed = account.ImportFailed, 1000, 999
		upd.Created, upd.Invited, upd.Updated, upd.Failed = 11, 22, 33, 44
		upd.Error, upd.LeaseUntil = "the file ends early", t0.Add(7*time.Minute)
		upd.UpdatedAt, upd.FinishedAt = t0.Add(5*time.Minute), t0.Add(6*time.Minute)
		// Not written: the import's identity, its upload and its creation.
		upd.OrgID, upd.ActorID, upd.FileName, upd.Format, upd.Size = "org-b", "acc-x", "x.csv", "csv", 1
		upd.CreatedAt = t0.Add(-time.Hour)
		if !updateImport(t, db, upd) {
			t.Fatal("UpdateImport: false")
		}
		want := upd
		want.OrgID, want.ActorID, want.FileName, want.Format, want.Size = imp.OrgID, imp.ActorID, imp.FileName, imp.Format, imp.Size
		want.CreatedAt = imp.CreatedAt
		if d := cmp.Diff(want, getImport(t, db, "org-a", "imp-1")); d != "" {
			t.Errorf("after UpdateImport (-want +got):\n%s", d)
		}
		// Back to running, unfinished (finished_at NULL again).
		want.State, want.FinishedAt, want.Error = account.ImportRunning, time.Time{}, ""
		if !updateImport(t, db, want) {
			t.Fatal("UpdateImport: false")
		}
		if d := cmp.Diff(want, getImport(t, db, "org-a", "imp-1")); d != "" {
			t.Errorf("after the second UpdateImport (-want +got):\n%s", d)
		}
		// The lease owner is not written by UpdateImport: another name is fenced off.
		other := want
		other.LeaseOwner, other.Processed = "r2", 1
		if updateImport(t, db, other) {
			t.Error("a runner without the lease updated the import")
		}
		if got := getImport(t, db, "org-a", "imp-1"); got.LeaseOwner != "r1" || got.Processed != want.Processed {
			t.Errorf("after a fenced update: owner %q, processed %d", got.LeaseOwner, got.Processed)
		}
		// A bad state is the database's error.
		bad := want
		bad.State = "paused"
		if err := try(db, func(tx account.Tx) error {
			_, err := tx.UpdateImport(ctx, bad)
			return err
		}); err == nil {
			t.Error("UpdateImport wrote state paused")
		}
	})
}

func TestImportErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db, newOrg("org-a", "A", "org-a", account.KindOrganization, ""))
		createImports(t, db, newImport("imp-1", "org-a", t0), newImport("imp-2", "org-a", t0))

		// 1,300 errors (more than one INSERT's worth) on rows 2…651, two calls; a row's
		// errors come in one call, in their order, but rows in any order and
		// interleaved with other rows' errors.
		var calls [2][]account.ImportError
		var want []account.ImportError // by row, then in order within the row
		r := rand.New(rand.NewPCG(3, 4))
		for row := 2; row <= 651; row++ {
			n := 1 + int(r.UintN(3))
			if row%50 == 0 {
				n = 0 // a row with no error
			}
			var vals []string
			switch row % 4 {
			case 0:
				vals = nil // stored as []
			case 1:
				vals = []string{}
			default:
				vals = []string{fmt.Sprintf("u%d@example.com", row), `a "quoted", comma`, "", "é\n✓"}
			}
			for k := range n {
				e := account.ImportError{ImportID: "imp-1", Row: row, Field: []string{"role", "email", "applications"}[k], // not in seq order
					Message: fmt.Sprintf("problem %d of row %d", k, row), Values: vals}
				want = append(want, e)
			}
		}
		var byRow [][]account.ImportError
		for i := 0; i < len(want); {
			j := i
			for j < len(want) && want[j].Row == want[i].Row {
				j++
			}
			byRow = append(byRow, want[i:j])
			i = j
		}
		r.Shuffle(len(byRow), func(i, j int) { byRow[i], byRow[j] = byRow[j], byRow[i] })
		for i, errs := range byRow {
			c := &calls[i%2]
			// Interleave: the first error of the row goes first, the rest at the end.
			*c = append(*c, errs[0])
		}
		for i, errs := range byRow {
			c := &calls[i%2]
			*c = append(*c, errs[1:]...)
		}
		if len(calls[0]) <= 500 {
			t.Fatalf("the first call has %d errors, not more than one INSERT's", len(calls[0]))
		}
		for _, c := range calls {
			write(t, db, func(tx account.Tx) error { return tx.InsertImportErrors(ctx, c) })
		}
		write(t, db, func(tx account.Tx) error {
			return tx.InsertImportErrors(ctx, []account.ImportError{{ImportID: "imp-2", Row: 3, Message: "other import"}})
		})
		write(t, db, func(tx account.Tx) error { return tx.InsertImportErrors(ctx, nil) })

		list := func(after, lim int) []account.ImportError {
			t.Helper()
			var out []account.ImportError
			read(t, db, func(tx account.Tx) (err error) {
				out, err = tx.ImportErrors(ctx, "imp-1", after, lim)
				return err
			})
			return out
		}
		if d := cmp.Diff(want, list(0, 0), equate); d != "" {
			t.Errorf("every error (-want +got):\n%s", d)
		}
		// Nil values are stored as [] and read as an empty list.
		for _, e := range list(0, 0) {
			if e.Values == nil {
				t.Fatalf("row %d: nil values", e.Row)
			}
		}
		// Paging by row, afterRow exclusive, limit.
		for _, lim := range []int{2, 7, 100, 5000} {
			var paged []account.ImportError
			after := 0
			for page := 0; ; page++ {
				if page > 2000 {
					t.Fatalf("limit %d: paging does not end", lim)
				}
				items := list(after, lim)
				if len(items) > lim {
					t.Fatalf("limit %d: %d items", lim, len(items))
				}
				for _, e := range items {
					if e.Row <= after {
						t.Fatalf("limit %d: row %d after %d", lim, e.Row, after)
					}
				}
				full := len(items) == lim
				if full { // as EachImportError: a row cut by the page comes whole next time
					last := items[len(items)-1].Row
					for len(items) > 0 && items[len(items)-1].Row == last {
						items = items[:len(items)-1]
					}
					if len(items) == 0 {
						// A page smaller than a row's errors: take the row whole.
						items = list(last-1, 0)
						items = slices.DeleteFunc(items, func(e account.ImportError) bool { return e.Row != last })
					}
				}
				paged = append(paged, items...)
				if !full {
					break
				}
				after = items[len(items)-1].Row
			}
			if d := cmp.Diff(want, paged, equate); d != "" {
				t.Errorf("limit %d (-want +got):\n%s", lim, d)
			}
		}
		if got := list(651, 10); len(got) != 0 {
			t.Errorf("after the last row: %v", got)
		}
		read(t, db, func(tx account.Tx) error {
			got, err := tx.ImportErrors(ctx, "imp-2", 0, 10)
			want := []account.ImportError{{ImportID: "imp-2", Row: 3, Message: "other import", Values: []string{}}}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("imp-2 (-want +got):\n%s", d)
			}
			none, err2 := tx.ImportErrors(ctx, "nope", 0, 10)
			if none == nil || len(none) != 0 {
				t.Errorf("unknown import: %v", none)
			}
			return errors.Join(err, err2)
		})

		// A row's errors must come in one call; an unknown import is ENOTFOUND.
		wantConflict(t, try(db, func(tx account.Tx) error {
			return tx.InsertImportErrors(ctx, []account.ImportError{{ImportID: "imp-2", Row: 3, Message: "again"}})
		}), "row")
		wantCode(t, try(db, func(tx account.Tx) error {
			return tx.InsertImportErrors(ctx, []account.ImportError{{ImportID: "nope", Row: 3, Message: "x"}})
		}), account.ENOTFOUND)
	})
}

// TestImportsCascade: an organization's imports, their files and errors go with it.
func TestImportsCascade(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db,
			newOrg("org-a", "A", "org-a", account.KindOrganization, ""),
			newOrg("org-b", "B", "org-b", account.KindOrganization, ""))
		createImports(t, db, newImport("imp-a", "org-a", t0), newImport("imp-b", "org-b", t0))
		for _, id := range []string{"imp-a", "imp-b"} {
			write(t, db, func(tx account.Tx) error {
				return tx.InsertImportErrors(ctx, []account.ImportError{{ImportID: id, Row: 2, Message: "bad", Values: []string{"x"}}})
			})
		}
		write(t, db, func(tx account.Tx) error { return tx.DeleteOrganization(ctx, "org-b") })

		read(t, db, func(tx account.Tx) error {
			_, err := tx.Import(ctx, "org-b", "imp-b")
			wantCode(t, err, account.ENOTFOUND)
			_, err = tx.ImportFile(ctx, "imp-b")
			wantCode(t, err, account.ENOTFOUND)
			if errs, err := tx.ImportErrors(ctx, "imp-b", 0, 0); err != nil || len(errs) != 0 {
				t.Errorf("errors of a deleted organization's import: %v, %v", errs, err)
			}
			// Org A keeps everything.
			if _, err := tx.Import(ctx, "org-a", "imp-a"); err != nil {
				return err
			}
			if b, err := tx.ImportFile(ctx, "imp-a"); err != nil || string(b) != "file of imp-a" {
				t.Errorf("org A's file: %q, %v", b, err)
			}
			if errs, err := tx.ImportErrors(ctx, "imp-a", 0, 0); err != nil || len(errs) != 1 {
				t.Errorf("org A's errors: %v, %v", errs, err)
			}
			return nil
		})
		// The id is free again (nothing left behind in import_files or import_errors).
		createImports(t, db, newImport("imp-b", "org-a", t0))
		write(t, db, func(tx account.Tx) error {
			return tx.InsertImportErrors(ctx, []account.ImportError{{ImportID: "imp-b", Row: 2, Message: "bad"}})
		})
	})
}

// TestImportClaimSkipsLocked: on PostgreSQL, a claimer does not wait for the import
// another transaction is claiming: it takes the next one, or finds none.
func TestImportClaimSkipsLocked(t *testing.T) {
	dbs := storetest.OpenShared(t, sqlstore.Postgres, 2)
	createOrgs(t, dbs[0], newOrg("org-a", "A", "org-a", account.KindOrganization, ""))
	createImports(t, dbs[0], newImport("imp-1", "org-a", t0), newImport("imp-2", "org-a", t0))
	now := t0.Add(time.Hour)

	// hold claims on dbs[0] and keeps its transaction open until release is closed.
	hold := func(owner string) (string, chan struct{}, chan error) {
		claimed := make(chan string, 1)
		release := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- dbs[0].Write(ctx, func(tx account.Tx) error {
				imp, err := tx.ClaimImport(ctx, owner, now, now.Add(time.Hour))
				claimed <- imp.ID
				if err != nil {
					return err
				}
				<-release
				return nil
			})
		}()
		return <-claimed, release, done
	}
	// claimFast claims on dbs[1], failing rather than waiting for a lock.
	claimFast := func(owner string) (account.Import, error) {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var imp account.Import
		err := dbs[1].Write(c, func(tx account.Tx) (err error) {
			imp, err = tx.ClaimImport(c, owner, now, now.Add(time.Hour))
			return err
		})
		return imp, err
	}

	id, release, done := hold("r1")
	if id != "imp-1" {
		t.Fatalf("r1 claimed %q", id)
	}
	imp, err := claimFast("r2")
	if err != nil || imp.ID != "imp-2" {
		t.Fatalf("r2 claimed %q, %v; want imp-2", imp.ID, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Only one claimable import left (imp-3), held by an open claim: none for r4.
	createImports(t, dbs[0], newImport("imp-3", "org-a", t0))
	id, release, done = hold("r3")
	if id != "imp-3" {
		t.Fatalf("r3 claimed %q", id)
	}
	if imp, err := claimFast("r4"); account.ErrorCode(err) != account.ENOTFOUND {
		t.Fatalf("r4 claimed %q, %v; want ENOTFOUND", imp.ID, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := getImport(t, dbs[1], "org-a", "imp-3"); got.LeaseOwner != "r3" {
		t.Errorf("imp-3 owned by %q", got.LeaseOwner)
	}
}

// TestImportConcurrentClaims has claimers on two separately opened DBs (as two Roster
// processes) claim 40 imports at once: each is claimed exactly once.
func TestImportConcurrentClaims(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(string(engine), func(t *testing.T) {
			dbs := storetest.OpenShared(t, engine, 2)
			createOrgs(t, dbs[0], newOrg("org-a", "A", "org-a", account.KindOrganization, ""))
			const n = 40
			var imps []account.Import
			for i := range n {
				imps = append(imps, newImport(fmt.Sprintf("imp-%03d", i), "org-a", t0))
			}
			createImports(t, dbs[0], imps...)
			now := t0.Add(time.Hour)

			var mu sync.Mutex
			claimed := map[string][]string{} // import → owners
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := range 8 { // 4 claimers on each DB
				db := dbs[g%2]
				owner := fmt.Sprintf("runner-%d", g)
				wg.Go(func() {
					for {
						imp, err := claimImport(db, owner, now, now.Add(time.Hour))
						if account.ErrorCode(err) == account.ENOTFOUND {
							return
						}
						if err != nil {
							errs <- err
							return
						}
						if imp.LeaseOwner != owner {
							errs <- fmt.Errorf("%s got %s owned by %s", owner, imp.ID, imp.LeaseOwner)
							return
						}
						mu.Lock()
						claimed[imp.ID] = append(claimed[imp.ID], owner)
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
				t.Errorf("%d imports claimed, want %d", len(claimed), n)
			}
			for id, owners := range claimed {
				if len(owners) != 1 {
					t.Errorf("%s claimed by %v", id, owners)
				}
				if got := getImport(t, dbs[1], "org-a", id); got.LeaseOwner != owners[0] || got.State != account.ImportRunning {
					t.Errorf("%s: owner %q, state %s; claimed by %v", id, got.LeaseOwner, got.State, owners)
				}
			}
			wantNoClaim(t, dbs[1], "late", now)
		})
	}
}
