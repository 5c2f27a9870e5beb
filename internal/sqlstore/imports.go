package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"roster.dev/roster/internal/account"
)

var _ account.ImportTx = (*tx)(nil)

// Imports (see the 00006 migrations): the job in imports, its file apart in
// import_files, its rejected rows in import_errors.

// importColumns are the columns of an import, read through the alias i, in the order
// importDest scans them.
const importColumns = `i.id, i.org_id, i.actor_id, i.file_name, i.format, i.size, i.state, i.total,
	i.processed, i.created, i.invited, i.updated, i.failed, i.error, i.lease_owner, i.lease_until,
	i.created_at, i.updated_at, i.finished_at`

// importDest returns the scan destinations of importColumns.
func importDest(imp *account.Import) []any {
	return []any{&imp.ID, &imp.OrgID, &imp.ActorID, &imp.FileName, &imp.Format, &imp.Size, &imp.State, &imp.Total,
		&imp.Processed, &imp.Created, &imp.Invited, &imp.Updated, &imp.Failed, &imp.Error, &imp.LeaseOwner,
		scanTime{&imp.LeaseUntil}, scanTime{&imp.CreatedAt}, scanTime{&imp.UpdatedAt}, scanTime{&imp.FinishedAt}}
}

// CreateImport inserts imp and its uploaded file. An unknown organization is
// ENOTFOUND; a taken id an ECONFLICT naming "id".
func (t *tx) CreateImport(ctx context.Context, imp account.Import, file []byte) error {
	if file == nil {
		file = []byte{} // content is NOT NULL
	}
	_, err := t.q.ExecContext(ctx, `
		INSERT INTO imports (id, org_id, actor_id, file_name, format, size, state, total, processed,
			created, invited, updated, failed, error, lease_owner, lease_until, created_at, updated_at, finished_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		imp.ID, imp.OrgID, imp.ActorID, imp.FileName, imp.Format, imp.Size, string(imp.State), imp.Total, imp.Processed,
		imp.Created, imp.Invited, imp.Updated, imp.Failed, imp.Error, imp.LeaseOwner, ts(imp.LeaseUntil),
		ts(imp.CreatedAt), ts(imp.UpdatedAt), nullTime(imp.FinishedAt))
	if foreignKeyViolation(err) {
		return account.Errorf(account.ENOTFOUND, "organization not found")
	}
	if err != nil {
		return translate(err, "import")
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO import_files (import_id, content) VALUES ($1, $2)`, imp.ID, file)
	return translate(err, "import")
}

// Import returns orgID's import id, or ENOTFOUND.
func (t *tx) Import(ctx context.Context, orgID, id string) (account.Import, error) {
	var imp account.Import
	err := t.q.QueryRowContext(ctx, `SELECT `+importColumns+` FROM imports i WHERE i.id = $1 AND i.org_id = $2`,
		id, orgID).Scan(importDest(&imp)...)
	if err != nil {
		return account.Import{}, translate(err, "import")
	}
	return imp, nil
}

// ImportFile returns the uploaded file of import id, or ENOTFOUND.
func (t *tx) ImportFile(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := t.q.QueryRowContext(ctx, `SELECT content FROM import_files WHERE import_id = $1`, id).Scan(&b)
	if err != nil {
		return nil, translate(err, "import")
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// ClaimImport gives owner the oldest (lowest id: ids are made in time order) queued
// or running import whose lease has lapsed at now, running and leased to owner until
// until; ENOTFOUND when there is none. It must run in a write transaction. On
// PostgreSQL the SELECT locks the row it picks and skips those another claimer holds,
// so concurrent claimers never take the same import (a claimer that finds only
// locked rows gets ENOTFOUND and tries again later); on SQLite the single writer
// serializes claimers.
func (t *tx) ClaimImport(ctx context.Context, owner string, now, until time.Time) (account.Import, error) {
	var imp account.Import
	err := t.q.QueryRowContext(ctx, `
		SELECT `+importColumns+` FROM imports i
		WHERE i.state IN ('queued', 'running') AND i.lease_until <= $1
		ORDER BY i.id LIMIT 1`+t.engine.skipLocked(), ts(now)).
		Scan(importDest(&imp)...)
	if err != nil {
		return account.Import{}, translate(err, "claimable import")
	}
	res, err := t.q.ExecContext(ctx, `
		UPDATE imports SET state = 'running', lease_owner = $2, lease_until = $3 WHERE id = $1`,
		imp.ID, owner, ts(until))
	if err := affected(res, err, "claimable import"); err != nil {
		return account.Import{}, err
	}
	imp.State, imp.LeaseOwner, imp.LeaseUntil = account.ImportRunning, owner, until.UTC().Truncate(time.Microsecond) // as stored
	return imp, nil
}

// UpdateImport writes imp's state, total, progress and counters, error, lease_until,
// updated_at and finished_at, only while imp.LeaseOwner holds the import's lease
// (lease_owner is never written here: ClaimImport hands it over). It reports false,
// writing nothing, when another runner has taken the import over, when the import
// does not exist, and when imp.LeaseOwner is empty (no lease is held by no one).
func (t *tx) UpdateImport(ctx context.Context, imp account.Import) (bool, error) {
	if imp.LeaseOwner == "" {
		return false, nil
	}
	res, err := t.q.ExecContext(ctx, `
		UPDATE imports SET state = $3, total = $4, processed = $5, created = $6, invited = $7,
			updated = $8, failed = $9, error = $10, lease_until = $11, updated_at = $12, finished_at = $13
		WHERE id = $1 AND lease_owner = $2`,
		imp.ID, imp.LeaseOwner, string(imp.State), imp.Total, imp.Processed, imp.Created, imp.Invited,
		imp.Updated, imp.Failed, imp.Error, ts(imp.LeaseUntil), ts(imp.UpdatedAt), nullTime(imp.FinishedAt))
	if err != nil {
		return false, translate(err, "import")
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// importErrorsChunk is how many rows one INSERT of InsertImportErrors writes: 6
// parameters each, far below SQLite's 32766 and PostgreSQL's 65535.
const importErrorsChunk = 500

// InsertImportErrors stores rejected rows, several INSERTs of at most
// importErrorsChunk rows. The errors of one (import, row) are numbered (seq) in their
// order in errs, from 0: all the errors of a row must come in one call (a second call
// with errors of the same row is an ECONFLICT naming "row"). Nil values are stored as
// an empty list.
func (t *tx) InsertImportErrors(ctx context.Context, errs []account.ImportError) error {
	type key struct {
		importID string
		row      int
	}
	seqs := map[key]int{}
	for start := 0; start < len(errs); start += importErrorsChunk {
		chunk := errs[start:min(start+importErrorsChunk, len(errs))]
		var a args
		values := make([]string, len(chunk))
		for i, e := range chunk {
			k := key{e.ImportID, e.Row}
			seq := seqs[k]
			seqs[k] = seq + 1
			cells := e.Values
			if cells == nil {
				cells = []string{}
			}
			js, err := json.Marshal(cells)
			if err != nil {
				return fmt.Errorf("import error values: %w", err)
			}
			values[i] = "(" + a.add(e.ImportID) + ", " + a.add(e.Row) + ", " + a.add(seq) + ", " +
				a.add(e.Field) + ", " + a.add(e.Message) + ", " + a.add(string(js)) + ")"
		}
		_, err := t.q.ExecContext(ctx, `
			INSERT INTO import_errors (import_id, row, seq, field, message, row_values)
			VALUES `+strings.Join(values, ", "), a...)
		if foreignKeyViolation(err) {
			return account.Errorf(account.ENOTFOUND, "import not found")
		}
		if err != nil {
			return translate(err, "import error")
		}
	}
	return nil
}

// ImportErrors lists up to limit (every one when limit <= 0) rejected rows of an
// import with a row number above afterRow, by row then in their order within a row.
func (t *tx) ImportErrors(ctx context.Context, importID string, afterRow, n int) ([]account.ImportError, error) {
	var a args
	rows, err := t.q.QueryContext(ctx, `
		SELECT import_id, row, field, message, row_values FROM import_errors
		WHERE import_id = `+a.add(importID)+` AND row > `+a.add(afterRow)+`
		ORDER BY row, seq`+limit(&a, n), a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.ImportError{}
	for rows.Next() {
		var e account.ImportError
		var js string
		if err := rows.Scan(&e.ImportID, &e.Row, &e.Field, &e.Message, &js); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(js), &e.Values); err != nil {
			return nil, fmt.Errorf("import %s row %d: values: %w", e.ImportID, e.Row, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// FindImports lists up to limit (every one when limit <= 0) of orgID's imports,
// newest first, below the id before when it is not empty (keyset paging).
func (t *tx) FindImports(ctx context.Context, orgID, before string, n int) ([]account.Import, error) {
	var a args
	conds := []string{`i.org_id = ` + a.add(orgID)}
	if before != "" {
		conds = append(conds, `i.id < `+a.add(before))
	}
	rows, err := t.q.QueryContext(ctx, `SELECT `+importColumns+` FROM imports i`+where(conds)+
		` ORDER BY i.id DESC`+limit(&a, n), a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.Import{}
	for rows.Next() {
		var imp account.Import
		if err := rows.Scan(importDest(&imp)...); err != nil {
			return nil, err
		}
		out = append(out, imp)
	}
	return out, rows.Err()
}

// CountImports counts orgID's imports.
func (t *tx) CountImports(ctx context.Context, orgID string) (int, error) {
	var n int
	err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM imports WHERE org_id = $1`, orgID).Scan(&n)
	return n, err
}
