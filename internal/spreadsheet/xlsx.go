package spreadsheet

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// xmlInMemory is the size above which excelize unpacks a worksheet or the shared
// strings to a temporary file rather than keep them in memory. It is a quarter of
// excelize's default: below it, excelize decodes the shared strings into a struct
// and a map entry per string, above it it keeps only their offsets in the file.
// With 16 MiB, 100,000 rows of mostly distinct text peaked at 171 MiB of heap;
// with 4 MiB, at about 43 MiB (BenchmarkReadXLSX).
const xmlInMemory = 4 << 20

// xlsxSource streams the first worksheet of a workbook with excelize's row
// iterator, which holds one row at a time (never GetRows, which loads the sheet).
type xlsxSource struct {
	file    *excelize.File
	rows    *excelize.Rows
	scan    *sheetAhead
	number  int // excelize's Next yields every row number, missing rows as empty
	maxCols int
}

// openXLSX checks the archive before a byte is unpacked (its number of parts, their
// declared sizes and compression ratios, see checkArchive), finds the first
// worksheet, and gives excelize a zip of only the parts it needs to stream it.
func openXLSX(r io.ReaderAt, size int64, l Limits) (_ source, err error) {
	if err := checkEntryCount(r, size); err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, unreadable("a damaged .xlsx workbook (its zip archive cannot be read)", err)
	}
	if err := checkArchive(zr, l); err != nil {
		return nil, err
	}
	name, part, need, err := firstWorksheet(zr)
	if err != nil {
		return nil, err
	}
	inMemory := min(xmlInMemory, l.MaxUnzipped)
	if err := checkInMemory(need, inMemory); err != nil {
		return nil, err
	}
	s := &xlsxSource{maxCols: l.MaxColumns}
	defer func() {
		if p := recover(); p != nil {
			err = unreadable("a damaged workbook", fmt.Errorf("excelize panicked: %v", p))
		}
		if err != nil {
			_ = s.close()
		}
	}()
	pkg := excelizePackage(need)
	defer pkg.Close() // ends the copy, should excelize stop early (or panic)
	s.file, err = excelize.OpenReader(pkg, excelize.Options{
		UnzipSizeLimit:    l.MaxUnzipped,
		UnzipXMLSizeLimit: inMemory,
	})
	if err != nil {
		return nil, unreadable("a damaged workbook", err)
	}
	if s.rows, err = s.file.Rows(name); err != nil {
		return nil, unreadable("a damaged workbook", err)
	}
	if s.scan, err = newSheetAhead(part, l.MaxColumns); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *xlsxSource) next() (number int, cells []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			number, cells = 0, nil
			err = unreadable(s.brokenAt(), fmt.Errorf("excelize panicked: %v", p))
		}
	}()
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return 0, nil, unreadable(s.brokenAt(), err)
		}
		// The iterator also stops at an XML error, without saying so: the
		// scanner tells a clean end from a damaged sheet.
		if err := s.scan.drain(); err != nil {
			return 0, nil, err
		}
		return 0, nil, io.EOF
	}
	s.number++
	if cells, err = s.rows.Columns(); err != nil {
		return 0, nil, unreadable(fmt.Sprintf("a damaged workbook: row %d of its first worksheet cannot be read", s.number), err)
	}
	if len(cells) > 0 {
		// A row is returned only once the scanner has read it to its end, so
		// that no row of a damaged sheet is returned half read.
		loaded, err := s.scan.advanceTo(s.number)
		if err != nil {
			return 0, nil, err
		}
		if loaded {
			s.plainNumbers(cells)
		}
	}
	return s.number, cells, nil
}

func (s *xlsxSource) brokenAt() string {
	return fmt.Sprintf("a damaged workbook: its first worksheet breaks off after row %d", s.number)
}

// plainNumbers replaces the shown text of whole numbers by their digits, from the
// stored values of the row the scanner has loaded.
func (s *xlsxSource) plainNumbers(cells []string) {
	for i, shown := range cells[:min(len(cells), s.maxCols)] {
		if !mayBeReformatted(shown) {
			continue
		}
		c := s.scan.cell(i + 1)
		if !c.set || (c.typ != "" && c.typ != "n") { // a string, boolean, date or error cell
			continue
		}
		if digits, ok := wholeNumber(c.value); ok {
			cells[i] = digits
		}
	}
}

// mayBeReformatted tells whether text may be a number shown with a fraction, an
// exponent or thousands separators ("442079460018.00", "4.42E+11", "1,234"),
// rather than as plain digits. Dates, times, percentages and currencies do not
// parse, and stay as shown.
func mayBeReformatted(text string) bool {
	if !strings.ContainsAny(text, ".eE,") {
		return false
	}
	_, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(text), ",", ""), 64)
	return err == nil
}

// wholeNumber returns the plain digits of a stored numeric value that is a whole
// number ("4.42079460018E+11" → "442079460018").
func wholeNumber(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if isInteger(v) {
		return v, true
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || f != math.Trunc(f) || math.Abs(f) >= 1e21 {
		return "", false
	}
	if f == 0 {
		return "0", true // not "-0"
	}
	return strconv.FormatFloat(f, 'f', -1, 64), true
}

func isInteger(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (s *xlsxSource) close() error {
	var errs []error
	if s.rows != nil {
		// Rows.Close also repeats the iterator's error, already reported by next.
		_ = s.rows.Close()
		s.rows = nil
	}
	if s.scan != nil {
		errs = append(errs, s.scan.close())
		s.scan = nil
	}
	if s.file != nil {
		errs = append(errs, s.file.Close()) // removes its temporary files
		s.file = nil
	}
	return errors.Join(errs...)
}
