package importer

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/spreadsheet"
)

// fillerBomb is a workbook of one small worksheet and n parts of 1 MiB of zeros
// each (about 1 KB packed): 190 of them made a 218 KB upload that took 495 MiB.
func fillerBomb(t testing.TB, n int) []byte {
	t.Helper()
	var block, end bytes.Buffer
	fw, err := flate.NewWriter(&block, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	if _, err := fw.Write(zeros); err != nil {
		t.Fatal(err)
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	fw.Reset(&end)
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	stream := append(block.Bytes(), end.Bytes()...)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range [][2]string{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>ada@x.test</t></is></c></row></sheetData></worksheet>`},
	} {
		w, err := zw.Create(p[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, p[1]); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: fmt.Sprintf("xl/worksheets/sheet%d.xml", i+2), Method: zip.Deflate,
			CRC32: crc32.ChecksumIEEE(zeros), CompressedSize64: uint64(len(stream)), UncompressedSize64: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(stream); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPrepareZipBombIsInvalidFile: a workbook whose parts unpack to far more than
// it weighs is refused as EINVALID naming file (422), saying why.
func TestPrepareZipBombIsInvalidFile(t *testing.T) {
	_, err := Prepare(fillerBomb(t, 190), spreadsheet.Limits{})
	var e *account.Error
	if !errors.As(err, &e) || e.Code != account.EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != "file" ||
		!strings.Contains(e.Fields[0].Message, "zip bombs") {
		t.Fatalf("error = %v, want EINVALID naming file for a zip bomb", err)
	}
}

// TestPrepareLargeGenuineWorkbook: a genuine 20,000-row workbook, as excelize saves
// it (shared strings, styles, numbers), still reads whole.
func TestPrepareLargeGenuineWorkbook(t *testing.T) {
	const rows = 20_000
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.SetRow("A1", []any{"email", "first_name", "last_name", "phone", "role", "teams"}); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= rows+1; i++ {
		if err := sw.SetRow(fmt.Sprintf("A%d", i), []any{fmt.Sprintf("person%d@x.test", i), "First", fmt.Sprintf("Last%d", i),
			447700900000 + i, "Member", "Engineering"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	p, err := Prepare(buf.Bytes(), spreadsheet.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != "xlsx" || p.Total != rows {
		t.Fatalf("prepared %s, %d rows; want xlsx, %d", p.Format, p.Total, rows)
	}
	if !bytes.Contains(p.Stored, []byte("person20001@x.test,First,Last20001,447700920001,Member,Engineering")) {
		t.Error("the last row is not stored as read")
	}
}
