package sqlstore

import "context"

// Analyze refreshes the query planner's statistics (ANALYZE on both engines), as
// PostgreSQL's autovacuum would after a bulk load; imports and load tests call it.
func (db *DB) Analyze(ctx context.Context) error {
	_, err := db.writer.ExecContext(ctx, "ANALYZE")
	return err
}
