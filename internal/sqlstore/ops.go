package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"roster.dev/roster/internal/account"
)

// LatestVersion is the version of the newest migration embedded for the engine: the
// schema version a store has once Migrate has run.
func LatestVersion(e Engine) int64 {
	entries, err := fs.ReadDir(migrations, "migrations/"+string(e))
	if err != nil {
		return 0
	}
	var latest int64
	for _, ent := range entries {
		prefix, _, ok := strings.Cut(ent.Name(), "_")
		if !ok {
			continue
		}
		if v, err := strconv.ParseInt(prefix, 10, 64); err == nil && v > latest {
			latest = v
		}
	}
	return latest
}

// SchemaVersion is the version of the newest migration applied to the store (0 for
// a store never migrated).
func (db *DB) SchemaVersion(ctx context.Context) (int64, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return schemaVersion(ctx, db.readQuerier(), db.engine)
}

func schemaVersion(ctx context.Context, q querier, e Engine) (int64, error) {
	var exists int
	err := q.QueryRowContext(ctx, e.countTables(), "goose_db_version").Scan(&exists)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	if exists == 0 {
		return 0, nil
	}
	var v int64
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// Ready reports whether the store answers and holds every migration this binary
// knows (a newer schema, migrated by a newer Roster during a rolling upgrade, is
// ready too). It is the readiness probe of roster serve.
func (db *DB) Ready(ctx context.Context) error {
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if latest := LatestVersion(db.engine); v < latest {
		return fmt.Errorf("the store's schema is at version %d, this Roster needs %d: run roster migrate", v, latest)
	}
	return nil
}

// CountImports counts the import jobs of every organization in each state (every
// state present, 0 when none).
func (db *DB) CountImports(ctx context.Context) (map[account.ImportState]int, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	rows, err := db.readQuerier().QueryContext(ctx, `SELECT state, COUNT(*) FROM imports GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[account.ImportState]int{account.ImportQueued: 0, account.ImportRunning: 0,
		account.ImportDone: 0, account.ImportFailed: 0}
	for rows.Next() {
		var state account.ImportState
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		out[state] = n
	}
	return out, rows.Err()
}
