package sqlstore

import "context"

// Analyze does what the engine does on its own in the minutes after a bulk load,
// for the benchmarks and load tests that make one, so that they measure a settled
// store. On PostgreSQL that is VACUUM ANALYZE (fresh statistics, and the visibility
// map that lets a count read only the index) and a CHECKPOINT (the load's dirty
// pages written out, not in the middle of the measurement). On SQLite it is a WAL
// checkpoint and no ANALYZE, which nothing runs on its own: with its statistics a
// prepared statement whose plan weighed a parameter's value is prepared again each
// time it runs with another (the entitlement check's query: 15 µs → 91 µs).
func (db *DB) Analyze(ctx context.Context) error {
	stmts := []string{"PRAGMA wal_checkpoint(TRUNCATE)"}
	if db.engine == Postgres {
		stmts = []string{"VACUUM ANALYZE", "CHECKPOINT"}
	}
	// Exempt from the store's timeout: a VACUUM of a large store takes minutes.
	pool, done, err := db.unbounded()
	if err != nil {
		return err
	}
	defer done()
	for _, stmt := range stmts {
		if _, err := pool.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}
