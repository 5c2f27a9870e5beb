package account

import (
	"strings"
)

// The columns of an import file (API.md), matched by name, case-insensitively, in
// any order; a space or a hyphen counts as an underscore ("First name").
const (
	ColEmail        = "email"
	ColFirstName    = "first_name"
	ColLastName     = "last_name"
	ColPhone        = "phone"
	ColUsername     = "username"
	ColRole         = "role"
	ColTeams        = "teams"
	ColApplications = "applications"
	ColSendInvite   = "send_invite"
)

// ImportColumns lists the import columns in the template's order.
var ImportColumns = []string{ColEmail, ColFirstName, ColLastName, ColPhone, ColUsername, ColRole, ColTeams, ColApplications, ColSendInvite}

// ImportHeader maps the import columns to their positions in one file.
type ImportHeader struct {
	index map[string]int
}

// ParseImportHeader reads a file's first row. Unknown columns are ignored (a file
// may carry notes); a column named twice, or no email column, is EINVALID naming
// "file".
func ParseImportHeader(cells []string) (ImportHeader, error) {
	h := ImportHeader{index: map[string]int{}}
	known := map[string]bool{}
	for _, c := range ImportColumns {
		known[c] = true
	}
	for i, c := range cells {
		name := strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(c)))
		if !known[name] {
			continue
		}
		if j, dup := h.index[name]; dup {
			return h, Invalid("file", "the column "+quote(name)+" appears twice, in columns "+columnName(j)+" and "+columnName(i))
		}
		h.index[name] = i
	}
	if _, ok := h.index[ColEmail]; !ok {
		return h, Invalid("file", "the first row must name the columns, with at least an \"email\" column")
	}
	return h, nil
}

// Row turns one data row's cells into an ImportRow. problems are the reader's
// (a truncated cell, too many columns), by 0-based cell position.
func (h ImportHeader) Row(number int, cells []string, problems map[int]string) ImportRow {
	r := ImportRow{Row: number, Values: append([]string(nil), cells...), cells: map[string]string{}}
	for col, i := range h.index {
		if i < len(cells) {
			r.cells[col] = cells[i]
		}
		if msg, ok := problems[i]; ok {
			r.Problems = append(r.Problems, FieldError{Field: col, Message: msg})
		}
	}
	for i, msg := range problems {
		if _, mapped := h.byPosition(i); !mapped {
			r.Problems = append(r.Problems, FieldError{Field: "file", Message: "column " + columnName(i) + " " + msg})
		}
	}
	// A NUL or invalid UTF-8 rejects the row, naming its column; the report keeps
	// the cell with U+FFFD in place of the bad bytes, so that the store can hold it.
	for i, cell := range cells {
		msg := TextProblem(cell)
		if msg == "" {
			continue
		}
		if col, mapped := h.byPosition(i); mapped {
			r.Problems = append(r.Problems, FieldError{Field: col, Message: msg})
			r.cells[col] = ""
		} else {
			r.Problems = append(r.Problems, FieldError{Field: "file", Message: "column " + columnName(i) + " " + msg})
		}
		r.Values[i] = strings.ToValidUTF8(strings.ReplaceAll(cell, "\x00", "\uFFFD"), "\uFFFD")
	}
	return r
}

func (h ImportHeader) byPosition(i int) (string, bool) {
	for col, j := range h.index {
		if j == i {
			return col, true
		}
	}
	return "", false
}

// ImportRow is one data row of an import file.
type ImportRow struct {
	Row      int      // the spreadsheet's row number (the header is row 1)
	Values   []string // the cells as read, for the error report
	Problems []FieldError
	cells    map[string]string // by column; absent when the file has no such column
}

// Cell returns the row's value of col ("" when empty or absent).
func (r ImportRow) Cell(col string) string { return r.cells[col] }

// has reports whether the row has a non-empty value for col.
func (r ImportRow) has(col string) bool { return r.cells[col] != "" }

// Email is the row's email as written (for finding duplicates in one file).
func (r ImportRow) Email() string { return r.cells[ColEmail] }

// Reject marks the row rejected before it reaches the store (a duplicate email).
func (r *ImportRow) Reject(field, message string) {
	r.Problems = append(r.Problems, FieldError{Field: field, Message: message})
}

// list splits a "a; b; c" cell.
func list(cell string) []string {
	var out []string
	for _, p := range strings.Split(cell, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// columnName is a spreadsheet column's letter name: 0 → A, 26 → AA.
func columnName(i int) string {
	name := ""
	for i++; i > 0; i = (i - 1) / 26 {
		name = string(rune('A'+(i-1)%26)) + name
	}
	return name
}
