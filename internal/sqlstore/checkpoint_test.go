package sqlstore

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
)

// TestWALBoundedUnderContinuousReaders: readers that never all let go at once (each
// new one begins before the last one ends, and each holds its snapshot a while, as
// the pooled readers of a loaded server do) seldom let SQLite rewind its WAL on its
// own; with the checkpointer's RESTART and journal_size_limit the WAL file stays
// near walRestartPages (1 MiB here; 1.7 MiB at most seen) however much is written.
// With the restart turned off (walRestartPages = 1<<30) the same run leaves a WAL
// file of 3.9 MiB, and it grows with longer runs: nothing shrinks it.
func TestWALBoundedUnderContinuousReaders(t *testing.T) {
	old := walRestartPages
	walRestartPages = 256 // 1 MiB
	t.Cleanup(func() { walRestartPages = old })
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wal.db")
	db, err := OpenWith(ctx, "sqlite://"+path, Options{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.writer.ExecContext(ctx, `CREATE TABLE walfill (id INTEGER PRIMARY KEY, body BLOB NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.writer.ExecContext(ctx, `INSERT INTO walfill (body) VALUES (randomblob(500000))`); err != nil {
		t.Fatal(err)
	}

	// The readers: always one snapshot open, from before the first write on.
	open := func() *sql.Rows {
		rows, err := db.reader.QueryContext(ctx, `SELECT id FROM walfill`)
		if err != nil {
			t.Error(err)
			return nil
		}
		if !rows.Next() { // the snapshot is taken at the first step
			t.Error("walfill is empty", rows.Err())
		}
		return rows
	}
	held := open()
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-stop:
				held.Close()
				return
			case <-time.After(20 * time.Millisecond): // how long a reader holds its snapshot
			}
			next := open()
			held.Close()
			held = next
			if held == nil {
				return
			}
		}
	}()
	defer func() { close(stop); <-stopped }()

	const writes = 60 // 500 kB each: about 30 MiB through the WAL
	var largest int64
	for range writes {
		err := db.Write(ctx, func(x account.Tx) error {
			_, err := x.(*tx).q.ExecContext(ctx, `UPDATE walfill SET body = randomblob(500000) WHERE id = 1`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		db.ckpt.waitRound()
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		largest = max(largest, fi.Size())
	}
	st := db.WALStats()
	t.Logf("largest WAL file %.1f MiB; %+v", float64(largest)/(1<<20), st)
	if bound := int64(3 << 20); largest > bound {
		t.Errorf("the WAL file reached %d bytes, more than %d, with readers always active", largest, bound)
	}
	if st.Restarts == 0 || st.Restarts == st.RestartsBusy {
		t.Errorf("no WAL restart went through: %+v", st)
	}
}
