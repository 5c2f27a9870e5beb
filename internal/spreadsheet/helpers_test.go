package spreadsheet_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/xuri/excelize/v2"

	"roster.dev/roster/internal/spreadsheet"
)

// part is one entry of a zip built by a test.
type part struct {
	name    string
	content io.Reader
}

// buildZip writes the parts, deflated, in order.
func buildZip(t testing.TB, parts ...part) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, p.content); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	contentTypesXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`
	rootRelsXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`
	workbookXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`
	workbookRelsXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`
	sheetHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	sheetTail = `</sheetData></worksheet>`
)

// minimalXLSX is a workbook of the five parts Excel needs, with the given
// worksheet XML, written by hand so a test controls every byte of the sheet.
func minimalXLSX(t testing.TB, sheet io.Reader) []byte {
	t.Helper()
	return buildZip(t,
		part{"[Content_Types].xml", bytes.NewBufferString(contentTypesXML)},
		part{"_rels/.rels", bytes.NewBufferString(rootRelsXML)},
		part{"xl/workbook.xml", bytes.NewBufferString(workbookXML)},
		part{"xl/_rels/workbook.xml.rels", bytes.NewBufferString(workbookRelsXML)},
		part{"xl/worksheets/sheet1.xml", sheet},
	)
}

// sheetData wraps rows in a worksheet.
func sheetData(rows string) io.Reader {
	return bytes.NewBufferString(sheetHead + rows + sheetTail)
}

// excelizeFile saves a workbook built with excelize by fill.
func excelizeFile(t testing.TB, fill func(f *excelize.File, sheet string)) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	fill(f, "Sheet1")
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readAll opens data and returns copies of all its rows and the error that ended
// them (nil for io.EOF).
func readAll(data []byte, f spreadsheet.Format, l spreadsheet.Limits) ([]spreadsheet.Row, error) {
	r, err := spreadsheet.Open(bytes.NewReader(data), int64(len(data)), f, l)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var rows []spreadsheet.Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		row.Cells = append([]string(nil), row.Cells...)
		row.Problems = append([]spreadsheet.CellProblem(nil), row.Problems...)
		if len(row.Problems) == 0 {
			row.Problems = nil
		}
		rows = append(rows, row)
	}
}

// mustReadAll is readAll for files that must read without error.
func mustReadAll(t testing.TB, data []byte, f spreadsheet.Format) []spreadsheet.Row {
	t.Helper()
	rows, err := readAll(data, f, spreadsheet.Limits{})
	if err != nil {
		t.Fatalf("reading: %v (cause: %v)", err, errors.Unwrap(err))
	}
	return rows
}

// kindOf is the Kind of a *spreadsheet.Error, or 0.
func kindOf(err error) spreadsheet.Kind {
	var se *spreadsheet.Error
	if errors.As(err, &se) {
		return se.Kind
	}
	return 0
}

// rowsOf builds expected rows numbered from 1 without problems.
func rowsOf(cells ...[]string) []spreadsheet.Row {
	rows := make([]spreadsheet.Row, len(cells))
	for i, c := range cells {
		rows[i] = spreadsheet.Row{Number: i + 1, Cells: c}
	}
	return rows
}

// randomBytes is n reproducible pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}
