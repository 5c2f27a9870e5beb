package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
)

// SetLeaseQuiet shortens the time after a revocation in which the dbs do not take
// the cache lease again. Call it before their RunCacheLease starts.
func SetLeaseQuiet(d time.Duration, dbs ...*DB) {
	for _, db := range dbs {
		db.leaseQuiet = d
	}
}

// WaitingForLease reports whether db is in the middle of taking the cache lease,
// waiting for a write in flight: on PostgreSQL, a session of the database (asked
// through probe, another DB on it) waits for an advisory lock; on SQLite, the lease
// is free by the database's clock and db's writer connection, through which it takes
// the lease, is busy (its BEGIN IMMEDIATE waits for the write lock).
func WaitingForLease(ctx context.Context, probe, db *DB) (bool, error) {
	if db.engine == SQLite {
		var free bool
		err := probe.reader.QueryRowContext(ctx, `SELECT holder IS NULL OR until_ms < `+db.engine.nowMillis()+`
			FROM cache_lease WHERE id = 1`).Scan(&free)
		return free && db.lease.Stats().InUse > 0, err
	}
	var n int
	err := probe.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`).Scan(&n)
	return n > 0, err
}

// WaitingWriters is how many write transactions of db wait for a lock now: on
// SQLite for the one writer connection (counted since the DB opened; a test takes
// the difference), on PostgreSQL for a lock of any kind.
func WaitingWriters(ctx context.Context, db *DB) (int64, error) {
	if db.engine == SQLite { // queued at the gate, or (a few) at the pool itself
		return db.writer.Stats().WaitCount + WritersWaiting(db), nil
	}
	var n int64
	err := db.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
	return n, err
}

// ChangesChecks exposes changesChecks.
var ChangesChecks = changesChecks

// ExplainFindMembers returns SQLite's plans of FindMembers' two queries for f, one
// line per step, indented by depth.
func ExplainFindMembers(ctx context.Context, db *DB, f account.MemberFilter, rare bool) (count, page []string, err error) {
	if db.engine != SQLite {
		return nil, nil, fmt.Errorf("ExplainFindMembers: EXPLAIN QUERY PLAN is SQLite's")
	}
	q := memberQueries(db.engine, f, rare)
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

// RawInsertPeople inserts, for the import benchmark's baseline, one active account
// and one member membership per email into orgID, with plain multi-row INSERTs of
// 500 rows, one transaction per batch: the least work storing those people takes.
func RawInsertPeople(ctx context.Context, db *DB, orgID string, people [][3]string) error {
	now := ts(time.Now().UTC())
	for start := 0; start < len(people); start += 500 {
		batch := people[start:min(start+500, len(people))]
		err := db.Write(ctx, func(t account.Tx) error {
			q := t.(*tx).q
			var a args
			var vals []string
			ph := func(string) string { return "?" }
			if db.engine == Postgres {
				ph = func(p string) string { return p }
			}
			for i, p := range batch {
				id := fmt.Sprintf("raw%023d", start+i)
				vals = append(vals, "("+ph(a.add(id))+", "+ph(a.add(p[0]))+", "+ph(a.add(strings.ToLower(p[0])))+", "+ph(a.add(p[1]))+", "+ph(a.add(p[2]))+", 'active', "+ph(a.add(now))+", "+ph(a.add(now))+")")
			}
			if _, err := q.ExecContext(ctx, `INSERT INTO accounts (id, email, email_key, first_name, last_name, state, created_at, updated_at) VALUES `+strings.Join(vals, ", "), a...); err != nil {
				return err
			}
			a, vals = nil, nil
			for i, p := range batch {
				id := fmt.Sprintf("raw%023d", start+i)
				vals = append(vals, "("+ph(a.add(orgID))+", "+ph(a.add(id))+", 'member', 'active', "+ph(a.add(strings.ToLower(p[0]+" "+p[1]+" "+p[2])))+", "+ph(a.add(now))+", "+ph(a.add(now))+")")
			}
			_, err := q.ExecContext(ctx, `INSERT INTO memberships (org_id, account_id, role_id, state, search, created_at, updated_at) VALUES `+strings.Join(vals, ", "), a...)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// MemberCountDrift lists the organizations whose kept member counts (migrations
// 00009, 00018, 00033), in all and by state, differ from a count of their
// memberships, as "org: kept …, counted …".
func MemberCountDrift(ctx context.Context, db *DB) ([]string, error) {
	rows, err := db.reader.QueryContext(ctx, `
		SELECT o.id,
			(SELECT COUNT(*) FROM organization_member_counts c WHERE c.org_id = o.id),
			(SELECT COALESCE(SUM(c.members), 0) FROM organization_member_counts c WHERE c.org_id = o.id),
			(SELECT COALESCE(SUM(c.active), 0) FROM organization_member_counts c WHERE c.org_id = o.id),
			(SELECT COALESCE(SUM(c.invited), 0) FROM organization_member_counts c WHERE c.org_id = o.id),
			(SELECT COALESCE(SUM(c.deactivated), 0) FROM organization_member_counts c WHERE c.org_id = o.id),
			(SELECT COUNT(*) FROM memberships m WHERE m.org_id = o.id),
			(SELECT COUNT(*) FROM memberships m WHERE m.org_id = o.id AND m.state = 'active'),
			(SELECT COUNT(*) FROM memberships m WHERE m.org_id = o.id AND m.state = 'invited'),
			(SELECT COUNT(*) FROM memberships m WHERE m.org_id = o.id AND m.state = 'deactivated')
		FROM organizations o ORDER BY o.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var drift []string
	for rows.Next() {
		var org string
		var shards int
		var kept, counted [4]int
		if err := rows.Scan(&org, &shards, &kept[0], &kept[1], &kept[2], &kept[3],
			&counted[0], &counted[1], &counted[2], &counted[3]); err != nil {
			return nil, err
		}
		// SQLite keeps eight shards (00009); PostgreSQL a base row and a row of each
		// writing transaction since the last fold (00018).
		if kept != counted || (db.engine == SQLite && shards != 8) || (db.engine == Postgres && shards < 1) {
			drift = append(drift, fmt.Sprintf("%s: kept %v (all, active, invited, deactivated) in %d shards, counted %v",
				org, kept, shards, counted))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var orphans int
	if err := db.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM organization_member_counts c
		WHERE NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = c.org_id)`).Scan(&orphans); err != nil {
		return nil, err
	}
	if orphans > 0 {
		drift = append(drift, fmt.Sprintf("%d counts of no organization", orphans))
	}
	return drift, nil
}

// MemberCountRows is how many rows of organization_member_counts keep org's count.
func MemberCountRows(ctx context.Context, t testing.TB, db *DB, org string) int {
	t.Helper()
	var n int
	if err := db.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM organization_member_counts WHERE org_id = $1`, org).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// RedoMigration rolls the store back to before migration version and applies it
// again (and any after it), as an upgrade from a release before it would.
func RedoMigration(ctx context.Context, db *DB, version int64) error {
	p, done, err := db.migrator()
	if err != nil {
		return err
	}
	defer done()
	if _, err := p.DownTo(ctx, version-1); err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// DumpText is every value of every table of the store, as text, one row a line
// ("table: v1 | v2 …"): what a dump of the database would show.
func DumpText(ctx context.Context, db *DB) (string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
	if db.engine == Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`
	}
	rows, err := db.reader.QueryContext(ctx, q)
	if err != nil {
		return "", err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return "", err
		}
		tables = append(tables, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, table := range tables {
		rows, err := db.reader.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			return "", err
		}
		cols, err := rows.Columns()
		if err != nil {
			rows.Close()
			return "", err
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			dest := make([]any, len(cols))
			for i := range vals {
				dest[i] = &vals[i]
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return "", err
			}
			b.WriteString(table + ":")
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, " %v |", v)
			}
			b.WriteByte('\n')
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// CountRows is how many rows table (a fixed name of the schema) holds.
func CountRows(ctx context.Context, t testing.TB, db *DB, table string) int {
	t.Helper()
	var n int
	if err := db.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// SetRareMatches sets how many matches a needle may have for a search through
// SQLite's trigram index, until the test ends.
func SetRareMatches(t testing.TB, n int) {
	old := rareMatches
	rareMatches = n
	t.Cleanup(func() { rareMatches = old })
}

// TrigramDrift lists where SQLite's trigram index of the members' search text
// (migration 00034) differs from the memberships: a membership without its row or a
// row without its membership, index entries of no row, and memberships whose own
// search text does not find them. PostgreSQL keeps its index itself: nil.
func TrigramDrift(ctx context.Context, db *DB) ([]string, error) {
	if db.engine != SQLite {
		return nil, nil
	}
	var drift []string
	var orphans, missing, entries, rowsN int
	err := db.reader.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM member_search_rows r WHERE NOT EXISTS (
			SELECT 1 FROM memberships m WHERE m.org_id = r.org_id AND m.account_id = r.account_id)),
		(SELECT COUNT(*) FROM memberships m WHERE NOT EXISTS (
			SELECT 1 FROM member_search_rows r WHERE r.org_id = m.org_id AND r.account_id = m.account_id)),
		(SELECT COUNT(*) FROM member_trigrams),
		(SELECT COUNT(*) FROM member_search_rows)`).Scan(&orphans, &missing, &entries, &rowsN)
	if err != nil {
		return nil, err
	}
	if orphans > 0 || missing > 0 || entries != rowsN {
		drift = append(drift, fmt.Sprintf("%d rows of no membership, %d memberships without a row, %d index entries for %d rows",
			orphans, missing, entries, rowsN))
	}
	rows, err := db.reader.QueryContext(ctx, `SELECT r.id, m.org_id, m.account_id, m.search FROM memberships m
		JOIN member_search_rows r ON r.org_id = m.org_id AND r.account_id = m.account_id`)
	if err != nil {
		return nil, err
	}
	type row struct {
		id                int64
		org, acct, search string
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.org, &r.acct, &r.search); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, r := range all {
		if !trigrammable(r.search) {
			continue
		}
		var n int
		if err := db.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM member_trigrams WHERE member_trigrams MATCH $1 AND rowid = $2`,
			ftsPhrase(r.search), r.id).Scan(&n); err != nil {
			return nil, err
		}
		if n != 1 {
			drift = append(drift, fmt.Sprintf("%s in %s: its search text %q does not find it", r.acct, r.org, r.search))
		}
	}
	return drift, nil
}

// WritersWaiting is how many writes wait for their turn at SQLite's writer (0 on
// PostgreSQL, which has no such gate).
func WritersWaiting(db *DB) int64 {
	if db.gate == nil {
		return 0
	}
	return db.gate.waiting.Load()
}
