package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"roster.dev/roster/internal/account"
)

// ExplainFindMembers returns SQLite's plans of FindMembers' two queries for f, one
// line per step, indented by depth.
func ExplainFindMembers(ctx context.Context, db *DB, f account.MemberFilter) (count, page []string, err error) {
	if db.engine != SQLite {
		return nil, nil, fmt.Errorf("ExplainFindMembers: EXPLAIN QUERY PLAN is SQLite's")
	}
	q := memberQueries(db.engine, f)
	if count, err = explain(ctx, db, q.count, q.countArgs); err != nil {
		return nil, nil, err
	}
	page, err = explain(ctx, db, q.page, q.pageArgs)
	return count, page, err
}

func explain(ctx context.Context, db *DB, query string, a args) ([]string, error) {
	rows, err := db.reader.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	depth := map[int]int{}
	var out []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		depth[id] = depth[parent] + 1
		out = append(out, strings.Repeat("  ", depth[id]-1)+detail)
	}
	return out, rows.Err()
}

// Analyze refreshes the planner's statistics, as PostgreSQL's autovacuum would after
// a bulk load.
func Analyze(ctx context.Context, db *DB) error {
	_, err := db.writer.ExecContext(ctx, "ANALYZE")
	return err
}

// SeatHolders lists the account ids holding a seat of orgID's subscription, straight
// from the seats table, so that tests can check the rows behind the counts.
func SeatHolders(ctx context.Context, db *DB, orgID, subscriptionID string) ([]string, error) {
	rows, err := db.reader.QueryContext(ctx, `
		SELECT st.account_id FROM seats st
		WHERE st.subscription_id = $2 AND st.org_id = $1
		ORDER BY st.account_id`, orgID, subscriptionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
