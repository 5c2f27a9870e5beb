package sqlstore

import (
	"roster.dev/roster/internal/account"
)

// The dialect: where the two engines' SQL differs, each difference is one method of
// Engine, and every query builds its engine-specific text through them. (What differs
// beyond SQL text stays with the code it concerns: the cache lease's notifications,
// migrations, backups, the statement timeout.)

// numbered reports whether placeholders are numbered ($1, $2, …) everywhere, as
// PostgreSQL requires; SQLite's multi-row INSERTs take ?, which keeps them apart from
// the $N of the rest of the statement.
func (e Engine) numbered() bool { return e == Postgres }

// rowLocks reports whether writers run concurrently and take row and advisory locks
// (PostgreSQL), or are serial and need none (SQLite, one writer).
func (e Engine) rowLocks() bool { return e == Postgres }

// boundsMergeJoins reports whether a member page's cursor must bound every joined
// index, not only the driving one: PostgreSQL's merge joins otherwise start reading
// the other side from its beginning (20 times slower in the middle of 100,000
// members); SQLite's nested loops need no help, and the bound would mislead them.
func (e Engine) boundsMergeJoins() bool { return e == Postgres }

// contains is the condition "col contains the needle of placeholder ph", where both
// are lower-cased in Go: instr on SQLite, strpos on PostgreSQL. A plain substring
// search costs a fraction of LIKE '%…%' per row (no case folding, no pattern) and
// has no wildcards to escape. Pass the needle through needle.
func (e Engine) contains(col, ph string) string {
	if e == Postgres {
		return "strpos(" + col + ", " + ph + ") > 0"
	}
	return "instr(" + col + ", " + ph + ") > 0"
}

// forUpdate locks the selected rows until the transaction ends on PostgreSQL; SQLite
// has no row locks (and needs none: its writers are serial).
func (e Engine) forUpdate() string {
	if e == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// forNoKeyUpdate locks the selected rows as an UPDATE that changes no key would,
// until the transaction ends, on PostgreSQL; SQLite has no row locks.
func (e Engine) forNoKeyUpdate() string {
	if e == Postgres {
		return " FOR NO KEY UPDATE"
	}
	return ""
}

// skipLocked locks the selected rows until the transaction ends and skips those
// another transaction holds, on PostgreSQL (a claim that concurrent claimers share);
// SQLite needs no row locks (its writers are serial).
func (e Engine) skipLocked() string {
	if e == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// byteOrder makes col sort by its bytes, as Go's strings.Compare does: SQLite's
// default collation already does; PostgreSQL's follows the database's locale.
func (e Engine) byteOrder(col string) string {
	if e == Postgres {
		return col + ` COLLATE "C"`
	}
	return col
}

// timeArg is placeholder ph of a time (passed as ts) in the select list of an
// INSERT … SELECT, where PostgreSQL cannot infer its type and would take it for text.
func (e Engine) timeArg(ph string) string {
	if e == Postgres {
		return "CAST(" + ph + " AS TIMESTAMPTZ)"
	}
	return ph
}

// textArg is placeholder ph typed as text on PostgreSQL, where a VALUES list outside
// an INSERT gives its parameters no type of their own.
func (e Engine) textArg(ph string) string {
	if e == Postgres {
		return "CAST(" + ph + " AS TEXT)"
	}
	return ph
}

// jsonValues are the columns of the values of a JSON array column, one row each, as
// alias je: the text sub-attributes lower-cased, primary a condition.
func (e Engine) jsonValues(col string) (from string, elem map[account.Field]scimCol) {
	text := func(sub string) scimCol {
		if e == Postgres {
			return scimCol{expr: "lower(COALESCE(je.value->>'" + sub + "', ''))", kind: colText}
		}
		return scimCol{expr: "lower(COALESCE(json_extract(je.value, '$." + sub + "'), ''))", kind: colText}
	}
	// The keys of the stored JSON (scimValue).
	elem = map[account.Field]scimCol{account.FieldValue: text("value"), account.FieldType: text("type"),
		account.FieldDisplay: text("display")}
	if e == Postgres {
		elem[account.FieldPrimary] = scimCol{expr: "COALESCE(je.value->>'primary' = 'true', false)", kind: colBool}
		return "jsonb_array_elements(CAST(" + col + " AS jsonb)) je", elem
	}
	elem[account.FieldPrimary] = scimCol{expr: "(COALESCE(json_extract(je.value, '$.primary'), 0) = 1)", kind: colBool}
	return "json_each(" + col + ") je", elem
}

// nowMillis is the database's clock in Unix milliseconds, read when the statement
// runs.
func (e Engine) nowMillis() string {
	if e == Postgres {
		return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
	}
	return "CAST(unixepoch('subsec') * 1000 AS INTEGER)"
}

// countTables counts the tables of the current schema named $1 (0 or 1).
func (e Engine) countTables() string {
	if e == SQLite {
		return `SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = $1`
	}
	return `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
}
