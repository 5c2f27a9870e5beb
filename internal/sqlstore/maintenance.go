package sqlstore

import "context"

// Analyze does what PostgreSQL's autovacuum does after a bulk load, for the
// benchmarks and load tests that make one: VACUUM ANALYZE there (fresh statistics,
// and the visibility map that lets a count read only the index), ANALYZE on SQLite
// (whose VACUUM would rewrite the file, which nothing does on its own).
func (db *DB) Analyze(ctx context.Context) error {
	stmt := "ANALYZE"
	if db.engine == Postgres {
		stmt = "VACUUM ANALYZE"
	}
	_, err := db.writer.ExecContext(ctx, stmt)
	return err
}
