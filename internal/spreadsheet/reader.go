// Package spreadsheet reads people files (.xlsx workbooks and CSV files) row by row
// in bounded memory, and writes member lists and import templates.
//
// Reading is built for files from strangers: the format is detected by content,
// zip bombs are refused before anything is unpacked, no input makes it panic, cell
// text is trimmed and length-limited, and every row keeps the number the person sees
// in their spreadsheet, so that errors can point at it.
package spreadsheet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Format is a spreadsheet file format.
type Format string

// The formats Detect recognises and Open reads.
const (
	XLSX Format = "xlsx"
	CSV  Format = "csv"
)

// Limits bound what Open and Next accept. A zero field means its default.
type Limits struct {
	MaxUnzipped int64 // total uncompressed size of an .xlsx; default 200 MiB
	MaxRatio    int64 // largest uncompressed/compressed ratio of one zip entry; default 200
	MaxCellLen  int   // characters in one cell; default 1000
	MaxColumns  int   // cells read from one row; default 64
}

// The defaults of Limits.
const (
	DefaultMaxUnzipped = 200 << 20
	DefaultMaxRatio    = 200
	DefaultMaxCellLen  = 1000
	DefaultMaxColumns  = 64
)

func (l Limits) withDefaults() Limits {
	if l.MaxUnzipped <= 0 {
		l.MaxUnzipped = DefaultMaxUnzipped
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	if l.MaxCellLen <= 0 {
		l.MaxCellLen = DefaultMaxCellLen
	}
	if l.MaxColumns <= 0 {
		l.MaxColumns = DefaultMaxColumns
	}
	return l
}

const (
	zipMagic = "PK\x03\x04"
	oleMagic = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" // .xls, and any password-protected Office file
	utf8BOM  = "\xEF\xBB\xBF"
)

// Detect tells the format of a file from its first bytes (512 are plenty), whatever
// its name says: a zip archive is taken for an .xlsx workbook (Open checks that it
// is one), and UTF-8 text without NUL bytes for CSV. Anything else is an *Error of
// Kind Unreadable; old .xls workbooks, password-protected files and UTF-16 text get
// a message saying how to save them instead.
func Detect(head []byte) (Format, error) {
	switch {
	case bytes.HasPrefix(head, []byte(zipMagic)):
		return XLSX, nil
	case bytes.HasPrefix(head, []byte(oleMagic)):
		return "", unreadable("an old .xls workbook or a password-protected file: save it as .xlsx (Excel Workbook) without a password", nil)
	case bytes.HasPrefix(head, []byte("\xFF\xFE")), bytes.HasPrefix(head, []byte("\xFE\xFF")):
		return "", unreadable("UTF-16 text: save it as .xlsx, or as CSV UTF-8", nil)
	}
	text := bytes.TrimPrefix(head, []byte(utf8BOM))
	if bytes.IndexByte(text, 0) >= 0 {
		return "", unreadable("not an .xlsx workbook or a CSV file", nil)
	}
	// The head is usually cut at a fixed length, maybe inside a character: ignore
	// an incomplete sequence at the very end rather than call the file binary.
	for i := 1; i < utf8.UTFMax && i <= len(text); i++ {
		if utf8.RuneStart(text[len(text)-i]) {
			if !utf8.FullRune(text[len(text)-i:]) {
				text = text[:len(text)-i]
			}
			break
		}
	}
	if !utf8.Valid(text) {
		return "", unreadable("not an .xlsx workbook or a CSV file (a CSV file must be UTF-8 text: save it as CSV UTF-8)", nil)
	}
	return CSV, nil
}

// Row is one non-empty row of the first worksheet (or of the CSV file).
//
// Cells and Problems belong to the Reader and may be overwritten by the next call
// to Next: copy them to keep them.
type Row struct {
	Number   int // the spreadsheet's own 1-based row number: the first row is 1
	Cells    []string
	Problems []CellProblem
}

// CellProblem is something Next corrected in a cell and the caller should report:
// text cut to the length limit, cells past the column limit dropped, bytes that
// were not UTF-8 text replaced. Message follows the column's name ("is longer than
// 1000 characters").
type CellProblem struct {
	Column  int // 0-based
	Message string
}

// source is one format's row iterator: next returns each row as the file has it
// (cells untrimmed, empty rows included) with its spreadsheet row number, and
// io.EOF after the last.
type source interface {
	next() (number int, cells []string, err error)
	close() error
}

// Reader reads the rows of a spreadsheet file one at a time. It is not safe for
// concurrent use.
type Reader struct {
	src    source
	limits Limits
	row    Row
	err    error // sticky: once Next has failed or ended, it keeps saying so
}

// Open starts reading a file of the given format (see Detect). For an .xlsx
// workbook it first checks the zip directory against l (an *Error of Kind TooLarge
// for a zip bomb or too much data, Kind Unreadable for a damaged archive or one
// without xl/workbook.xml or a worksheet), then reads the first worksheet as a
// stream. Other failures to open are an *Error of Kind Unreadable; an unknown
// format is a plain error. Close the Reader when done.
func Open(r io.ReaderAt, size int64, f Format, l Limits) (*Reader, error) {
	l = l.withDefaults()
	var (
		src source
		err error
	)
	switch f {
	case XLSX:
		src, err = openXLSX(r, size, l)
	case CSV:
		src, err = openCSV(r, size)
	default:
		return nil, fmt.Errorf("spreadsheet: unknown format %q", f)
	}
	if err != nil {
		return nil, err
	}
	return &Reader{src: src, limits: l}, nil
}

// Next returns the next row that has at least one non-empty cell, with its cells
// trimmed of surrounding white space and its trailing empty cells dropped; a row
// whose only values lie past the columns read comes with no Cells and a Problem
// saying so. It returns io.EOF after the last row, and an *Error of Kind
// Unreadable if the file turns out to be damaged part way (its message names the
// last row read); after either, it keeps returning the same error.
//
// In an .xlsx workbook, numbers, dates and booleans read as the text Excel shows
// (as excelize formats it: a date with the default format reads "03-05-24"),
// except that a whole number shown with decimals, an exponent or separators reads
// as plain digits, so that a phone number typed as a number comes back intact.
// Formula cells read as the value Excel saved with them: formulas are not
// evaluated. In a CSV file, as in Excel, a quote that never closes takes the rest
// of the file into its cell (which the length limit then reports).
func (r *Reader) Next() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	for {
		number, cells, err := r.src.next()
		if err != nil {
			r.err = err
			return Row{}, err
		}
		r.row.Number = number
		r.row.Cells, r.row.Problems = r.tidy(cells, r.row.Problems[:0])
		if len(r.row.Cells) > 0 || len(r.row.Problems) > 0 {
			return r.row, nil
		}
	}
}

// Close releases the file and any temporary files the workbook needed. It returns
// the error of removing those, if any.
func (r *Reader) Close() error {
	if r.err == nil {
		r.err = errors.New("spreadsheet: reader is closed")
	}
	return r.src.close()
}

// tidy applies the cell rules of Next in place and returns the cells without
// trailing empty ones, and the problems found.
func (r *Reader) tidy(cells []string, problems []CellProblem) ([]string, []CellProblem) {
	maxCols, maxLen := r.limits.MaxColumns, r.limits.MaxCellLen
	last := -1
	for i, c := range cells {
		if c == "" {
			continue
		}
		if !utf8.ValidString(c) || strings.IndexByte(c, 0) >= 0 {
			// A NUL byte is legal in Go and in CSV but not in a PostgreSQL text
			// column, so it goes with invalid UTF-8 rather than fail an import later.
			msg := "is not UTF-8 text (save the file as CSV UTF-8)"
			if strings.IndexByte(c, 0) >= 0 {
				msg = "must not contain a NUL character"
			}
			c = strings.ReplaceAll(strings.ToValidUTF8(c, "\uFFFD"), "\x00", "\uFFFD")
			if i < maxCols {
				problems = append(problems, CellProblem{Column: i, Message: msg})
			}
		}
		c = strings.TrimFunc(c, isSpace)
		if len(c) > maxLen && utf8.RuneCountInString(c) > maxLen {
			c = strings.TrimRightFunc(truncate(c, maxLen), isSpace)
			if i < maxCols {
				problems = append(problems, CellProblem{Column: i, Message: fmt.Sprintf("is longer than %d characters", maxLen)})
			}
		}
		cells[i] = c
		if c != "" {
			last = i
		}
	}
	if last >= maxCols {
		problems = append(problems, CellProblem{Column: maxCols, Message: fmt.Sprintf("is past the first %d columns: it and the cells after it were not read", maxCols)})
		last = -1
		for i := maxCols - 1; i >= 0; i-- {
			if cells[i] != "" {
				last = i
				break
			}
		}
	}
	return cells[:last+1], problems
}

// isSpace is white space to trim: Unicode's, plus the zero-width characters that
// copying from web pages and joining files leave around values.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || r == '\uFEFF' || r == '\u200B'
}

// truncate cuts s to its first n characters.
func truncate(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
