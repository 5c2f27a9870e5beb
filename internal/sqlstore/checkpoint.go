package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite's WAL is checkpointed by a connection of its own, off the write path.
//
// Left to itself SQLite checkpoints inside COMMIT (wal_autocheckpoint): once the WAL
// holds 1,000 pages, every commit of the one writer connection copies the WAL's new
// pages into the database file and fsyncs both files before it returns. Every write
// of the process, and the cache lease's renewals, wait behind that commit, so a
// slow fsync (a loaded disk, a large file with much dirty page cache) stalls all of
// them at once, with no error. And the WAL is only rewound to its start when a
// write begins while no reader holds a snapshot that uses it: with readers always
// active (eight pooled readers under load) that moment may never come, and the WAL
// grows without bound (checkpoint starvation), each reader's lookups with it.
//
// So the writer does not checkpoint (wal_autocheckpoint(0)); a checkpointer does,
// after commits (at most every checkpointEvery) and every second:
//
//   - A PASSIVE checkpoint, which blocks no one: it copies what no reader still
//     needs and fsyncs while the writer goes on appending to the WAL.
//   - When the WAL still holds walRestartPages or more (readers have kept it from
//     being rewound), a RESTART checkpoint: it keeps new writers out while it waits,
//     for at most checkpointBusy, for the readers of older snapshots to finish (new
//     readers read the database file, not the WAL), so that the next write starts
//     the WAL over. Readers are short (each Read is bounded by the store's timeout),
//     so it rarely waits; when a reader outlasts checkpointBusy, the next round
//     tries again.
//   - journal_size_limit truncates the WAL file back to walRestartPages' size when
//     it is rewound, so the disk it takes stays bounded too.
const (
	checkpointEvery = 100 * time.Millisecond
	checkpointTick  = time.Second
	checkpointBusy  = 200 * time.Millisecond
)

// walRestartPages is the WAL size (in pages) past which the checkpointer restarts
// the WAL; a variable for tests.
var walRestartPages = 4096 // 16 MiB of 4 KiB pages

// checkpointer runs the checkpoints of a SQLite store (see above).
type checkpointer struct {
	pool *sql.DB // one read-write connection with a short busy timeout
	kick chan struct{}
	stop context.CancelFunc
	done chan struct{}

	mu                sync.Mutex
	cond              *sync.Cond
	started, finished uint64 // rounds, for waitRound

	stats walStats
}

// walStats are the checkpointer's figures.
type walStats struct {
	passive, restarts, restartBusy atomic.Uint64
	maxPages, lastPages            atomic.Int64
	errors                         atomic.Uint64
}

func newCheckpointer(pool *sql.DB) *checkpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{pool: pool, kick: make(chan struct{}, 1), stop: cancel, done: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	go c.run(ctx)
	return c
}

// committed tells the checkpointer that a write committed; it never blocks.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) close() error {
	c.stop()
	<-c.done
	c.mu.Lock()
	c.finished = ^uint64(0) // wake every waitRound for good
	c.cond.Broadcast()
	c.mu.Unlock()
	return c.pool.Close()
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	tick := time.NewTicker(checkpointTick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		case <-tick.C:
		}
		c.mu.Lock()
		c.started++
		n := c.started
		c.mu.Unlock()
		c.round(ctx)
		c.mu.Lock()
		c.finished = max(c.finished, n)
		c.cond.Broadcast()
		c.mu.Unlock()
		// Commits during the pause are taken together by the next round.
		t := time.NewTimer(checkpointEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// round is one PASSIVE checkpoint, and a RESTART one when the WAL stays large.
func (c *checkpointer) round(ctx context.Context) {
	_, pages, err := c.checkpoint(ctx, "PASSIVE")
	if err != nil {
		return
	}
	c.stats.passive.Add(1)
	if pages < int64(walRestartPages) {
		return
	}
	c.stats.restarts.Add(1)
	if busy, _, err := c.checkpoint(ctx, "RESTART"); err == nil && busy {
		c.stats.restartBusy.Add(1)
	}
}

// checkpoint runs PRAGMA wal_checkpoint(mode): busy when it could not finish (a
// reader or the writer held it back), pages the frames in the WAL.
func (c *checkpointer) checkpoint(ctx context.Context, mode string) (busy bool, pages int64, err error) {
	var b int
	var checkpointed int64
	err = c.pool.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&b, &pages, &checkpointed)
	if err != nil {
		if ctx.Err() == nil {
			c.stats.errors.Add(1)
		}
		return false, 0, err
	}
	c.stats.lastPages.Store(pages)
	for {
		m := c.stats.maxPages.Load()
		if pages <= m || c.stats.maxPages.CompareAndSwap(m, pages) {
			break
		}
	}
	return b != 0, pages, nil
}

// waitRound waits until a round that began after the call has finished (tests).
func (c *checkpointer) waitRound() {
	c.mu.Lock()
	defer c.mu.Unlock()
	target := c.started + 1
	c.committed() // so that there is a next round
	for c.finished < target {
		c.cond.Wait()
	}
}

// WALStats are the checkpointer's figures on SQLite (zero on PostgreSQL): the
// checkpoints run, the WAL restarts tried and those a reader held back past
// their wait, and the WAL's size in pages at the last checkpoint and at most.
type WALStats struct {
	Checkpoints, Restarts, RestartsBusy, Errors uint64
	Pages, MaxPages                             int64
}

// WALStats reports the checkpointer's figures.
func (db *DB) WALStats() WALStats {
	c := db.ckpt
	if c == nil {
		return WALStats{}
	}
	return WALStats{Checkpoints: c.stats.passive.Load(), Restarts: c.stats.restarts.Load(),
		RestartsBusy: c.stats.restartBusy.Load(), Errors: c.stats.errors.Load(),
		Pages: c.stats.lastPages.Load(), MaxPages: c.stats.maxPages.Load()}
}
