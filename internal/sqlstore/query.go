package sqlstore

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"roster.dev/roster/internal/account"
)

// args collects the arguments of a query built piece by piece and hands out their
// $N placeholders, so that optional filters never miscount positions.
type args []any

// add appends v and returns its placeholder.
func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// list appends every value and returns their placeholders, comma-separated, for IN (…).
func (a *args) list(vals []string) string {
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = a.add(v)
	}
	return strings.Join(ph, ", ")
}

// where joins conditions with AND into a WHERE clause ("" when there are none).
func where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// contains is the condition "col contains the needle of placeholder ph", where both
// are lower-cased in Go: instr on SQLite, strpos on PostgreSQL. A plain substring
// search costs a fraction of LIKE '%…%' per row (no case folding, no pattern) and
// has no wildcards to escape. Pass the needle through needle.
func contains(engine Engine, col, ph string) string {
	if engine == Postgres {
		return "strpos(" + col + ", " + ph + ") > 0"
	}
	return "instr(" + col + ", " + ph + ") > 0"
}

// needle is the lower-cased search text that contains matches.
func needle(q string) string { return strings.ToLower(q) }

// affected turns the result of an UPDATE or DELETE into ENOTFOUND (with what) when it
// changed no row.
func affected(res sql.Result, err error, what string) error {
	if err != nil {
		return translate(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return translate(sql.ErrNoRows, what)
	}
	return nil
}

// scanNullString scans a nullable text column, NULL becoming "".
type scanNullString struct{ s *string }

func (n scanNullString) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n.s = ""
	case string:
		*n.s = v
	case []byte:
		*n.s = string(v)
	default:
		return fmt.Errorf("scan string: unexpected %T", src)
	}
	return nil
}

// scanPermissions scans a permissions column written by PermissionSet.String.
type scanPermissions struct{ p *account.PermissionSet }

func (s scanPermissions) Scan(src any) error {
	var text string
	if err := (scanNullString{&text}).Scan(src); err != nil {
		return err
	}
	*s.p = account.PermissionSetFromString(text)
	return nil
}

// limit returns the LIMIT clause of a page of n rows ("" when n is not positive: every row).
func limit(a *args, n int) string {
	if n <= 0 {
		return ""
	}
	return " LIMIT " + a.add(n)
}

// The few dialect differences, each in one helper.

// forUpdate locks the selected rows until the transaction ends on PostgreSQL; SQLite
// has no row locks (and needs none: its writers are serial).
func (t *tx) forUpdate() string {
	if t.engine == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// forNoKeyUpdate locks the selected rows as an UPDATE that changes no key would,
// until the transaction ends, on PostgreSQL; SQLite has no row locks.
func (t *tx) forNoKeyUpdate() string {
	if t.engine == Postgres {
		return " FOR NO KEY UPDATE"
	}
	return ""
}

// skipLocked locks the selected rows until the transaction ends and skips those
// another transaction holds, on PostgreSQL (a claim that concurrent claimers share);
// SQLite needs no row locks (its writers are serial).
func (t *tx) skipLocked() string {
	if t.engine == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// byteOrder makes col sort by its bytes, as Go's strings.Compare does: SQLite's
// default collation already does; PostgreSQL's follows the database's locale.
func (t *tx) byteOrder(col string) string {
	if t.engine == Postgres {
		return col + ` COLLATE "C"`
	}
	return col
}

// timeArg is placeholder ph of a time (passed as ts) in the select list of an
// INSERT … SELECT, where PostgreSQL cannot infer its type and would take it for text.
func (t *tx) timeArg(ph string) string {
	if t.engine == Postgres {
		return "CAST(" + ph + " AS TIMESTAMPTZ)"
	}
	return ph
}
