package spreadsheet

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Writer writes a spreadsheet one row at a time. Write copies what it needs of
// cells before returning. Close finishes the file; it does not close the
// underlying io.Writer. Their errors are those listed by NewXLSXWriter and
// NewCSVWriter.
type Writer interface {
	Write(cells []string) error
	Close() error
}

var errClosed = errors.New("spreadsheet: writer is closed")

const (
	// widthRows is how many rows the .xlsx writer holds back to size its columns,
	// since a streamed sheet must declare its column widths before its first row.
	widthRows = 100
	minWidth  = 8
	maxWidth  = 60
)

// xlsxWriter streams rows into a worksheet with excelize's StreamWriter, which
// spills to a temporary file past 16 MiB, so memory stays flat for any number of
// rows.
type xlsxWriter struct {
	out      io.Writer
	file     *excelize.File
	sw       *excelize.StreamWriter
	header   []string
	held     [][]string // the first rows, until the column widths are known
	released bool       // the widths are set and the held rows written
	row      int        // the last row written
	values   []any
	closed   bool
}

// NewXLSXWriter starts an .xlsx workbook of one sheet with a bold, frozen header
// row. Every value is written as a text cell, never as a number or formula, so a
// value starting with "=" cannot run in Excel and "0044…" keeps its zeros; the
// columns are formatted as text too, so that values typed later stay text. Rows
// are streamed with bounded memory; Close writes the workbook to w, compressed,
// from a buffer of its compressed size.
//
// It returns an error if sheet is not a valid Excel sheet name (1 to 31
// characters, none of : \ / ? * [ ]). Write returns an error past Excel's limits
// (1,048,576 rows, 16,384 columns) or after Close; Close returns the errors of
// finishing the workbook and of writing to w.
func NewXLSXWriter(w io.Writer, sheet string, header []string) (Writer, error) {
	f := excelize.NewFile()
	if sheet != "Sheet1" {
		if err := f.SetSheetName("Sheet1", sheet); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("spreadsheet: sheet name %q: %w", sheet, err)
		}
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("spreadsheet: %w", err)
	}
	return &xlsxWriter{out: w, file: f, sw: sw, header: append([]string(nil), header...)}, nil
}

func (x *xlsxWriter) Write(cells []string) error {
	if x.closed {
		return errClosed
	}
	if !x.released {
		x.held = append(x.held, append([]string(nil), cells...))
		if len(x.held) < widthRows {
			return nil
		}
		return x.release()
	}
	return x.writeRow(cells, 0)
}

// release sizes the columns from the header and the rows held back, sets up the
// sheet and writes them.
func (x *xlsxWriter) release() error {
	held := x.held
	x.held, x.released = nil, true
	widths := make([]int, len(x.header))
	for _, r := range append([][]string{x.header}, held...) {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	bold, err := x.file.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, NumFmt: 49})
	if err != nil {
		return err
	}
	text, err := x.file.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text
	if err != nil {
		return err
	}
	for i, w := range widths {
		if i >= excelize.MaxColumns {
			break
		}
		if err := x.sw.SetColWidth(i+1, i+1, float64(min(max(w+2, minWidth), maxWidth))); err != nil {
			return err
		}
	}
	if len(widths) > 0 {
		if err := x.sw.SetColStyle(1, min(len(widths), excelize.MaxColumns), text); err != nil {
			return err
		}
	}
	if len(x.header) > 0 {
		if err := x.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return err
		}
		if err := x.writeRow(x.header, bold); err != nil {
			return err
		}
	}
	for _, r := range held {
		if err := x.writeRow(r, 0); err != nil {
			return err
		}
	}
	return nil
}

func (x *xlsxWriter) writeRow(cells []string, style int) error {
	x.values = x.values[:0]
	for _, c := range cells {
		switch {
		case style != 0:
			x.values = append(x.values, excelize.Cell{StyleID: style, Value: c})
		case c == "":
			x.values = append(x.values, nil) // no cell at all
		default:
			x.values = append(x.values, c) // an inline string: text, never a formula
		}
	}
	cell, err := excelize.CoordinatesToCellName(1, x.row+1)
	if err != nil {
		return fmt.Errorf("spreadsheet: %w", err)
	}
	if err := x.sw.SetRow(cell, x.values); err != nil {
		return fmt.Errorf("spreadsheet: row %d: %w", x.row+1, err)
	}
	x.row++
	return nil
}

func (x *xlsxWriter) Close() error {
	if x.closed {
		return errClosed
	}
	x.closed = true
	defer x.file.Close()
	if !x.released {
		if err := x.release(); err != nil {
			return err
		}
	}
	if err := x.sw.Flush(); err != nil {
		return fmt.Errorf("spreadsheet: %w", err)
	}
	return x.file.Write(x.out)
}

// csvInjection are the first characters that make Excel, LibreOffice or Google
// Sheets read a CSV cell as a formula (OWASP, "CSV Injection").
const csvInjection = "=+-@\t\r"

type csvWriter struct {
	w      *csv.Writer
	cells  []string
	closed bool
}

// NewCSVWriter starts an RFC 4180 CSV file (CRLF line ends, quotes where needed;
// a carriage return alone in a cell is dropped) with a UTF-8 byte order mark, which Excel needs to read it as UTF-8, and writes
// the header row. A cell that starts with = + - @, a tab or a carriage return is
// written with a leading single quote, so that no spreadsheet runs it as a formula
// (a reader sees the quote). Write and Close return the errors of writing to w
// (buffered: they may surface only at Close), and an error after Close.
func NewCSVWriter(w io.Writer, header []string) Writer {
	bw := bufio.NewWriter(w)
	_, _ = bw.WriteString(utf8BOM) // into the buffer: errors come back with the first flush
	c := &csvWriter{w: csv.NewWriter(bw)}
	c.w.UseCRLF = true
	_ = c.Write(header)
	return c
}

func (c *csvWriter) Write(cells []string) error {
	if c.closed {
		return errClosed
	}
	c.cells = c.cells[:0]
	for _, v := range cells {
		if v != "" && strings.IndexByte(csvInjection, v[0]) >= 0 {
			v = "'" + v
		}
		c.cells = append(c.cells, v)
	}
	return c.w.Write(c.cells)
}

func (c *csvWriter) Close() error {
	if c.closed {
		return errClosed
	}
	c.closed = true
	c.w.Flush()
	return c.w.Error()
}
