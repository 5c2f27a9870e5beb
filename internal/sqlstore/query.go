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

// scanStrings reads the one text column of every row, and closes rows.
func scanStrings(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
