package spreadsheet_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"roster.dev/roster/internal/spreadsheet"
	"roster.dev/roster/internal/testtime"
)

func TestXLSXValuesReadAsShown(t *testing.T) {
	data := excelizeFile(t, func(f *excelize.File, sh string) {
		must(t, f.SetSheetRow(sh, "A1", &[]any{"text", 42, 3.5, true, false, time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC), 442079460018, "  padded  "}))
		// Whole numbers with number formats that would show a fraction, an exponent
		// or separators: they read as digits.
		for i, numFmt := range []int{2, 4, 11, 3} { // 0.00, #,##0.00, 0.00E+00, #,##0
			cell, _ := excelize.CoordinatesToCellName(i+1, 2)
			must(t, f.SetCellValue(sh, cell, 442079460018))
			style, err := f.NewStyle(&excelize.Style{NumFmt: numFmt})
			must(t, err)
			must(t, f.SetCellStyle(sh, cell, cell, style))
		}
		// A fraction keeps its format; a text cell that looks like a number stays
		// as typed; a percentage stays a percentage.
		two, _ := f.NewStyle(&excelize.Style{NumFmt: 2})
		pct, _ := f.NewStyle(&excelize.Style{NumFmt: 9})
		must(t, f.SetCellValue(sh, "A3", 2.5))
		must(t, f.SetCellStyle(sh, "A3", "A3", two))
		must(t, f.SetCellStr(sh, "B3", "1.0"))
		must(t, f.SetCellValue(sh, "C3", 7))
		must(t, f.SetCellStyle(sh, "C3", "C3", pct))
		must(t, f.SetCellStr(sh, "D3", "0044 20 7946 0018"))
	})
	got := mustReadAll(t, data, spreadsheet.XLSX)
	want := rowsOf(
		[]string{"text", "42", "3.5", "TRUE", "FALSE", "03-05-24", "442079460018", "padded"},
		[]string{"442079460018", "442079460018", "442079460018", "442079460018"},
		[]string{"2.50", "1.0", "700%", "0044 20 7946 0018"},
	)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

func TestXLSXStoredNumbers(t *testing.T) {
	// Numbers as other programs store them: in exponent form, with a decimal
	// point, beyond float precision.
	data := minimalXLSX(t, sheetData(`<row r="1"><c r="A1"><v>4.42079460018E+11</v></c><c r="B1"><v>7.0</v></c><c r="C1" t="n"><v>12345678901234567890</v></c><c r="D1"><v>0.25</v></c></row>`))
	got := mustReadAll(t, data, spreadsheet.XLSX)
	want := rowsOf([]string{"442079460018", "7", "12345678901234567890", "0.25"})
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

func TestXLSXFormulaReadsCachedValue(t *testing.T) {
	data := excelizeFile(t, func(f *excelize.File, sh string) {
		must(t, f.SetCellValue(sh, "A1", 2))
		must(t, f.SetCellFormula(sh, "B1", "A1*21"))
		must(t, f.SetCellValue(sh, "A2", "x"))
	})
	got := mustReadAll(t, data, spreadsheet.XLSX)
	// excelize saves no cached value, and formulas are not evaluated: B1 is empty.
	if d := cmp.Diff(rowsOf([]string{"2"}, []string{"x"}), got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}

	// As Excel saves a formula: with its value.
	data = minimalXLSX(t, sheetData(`<row r="1"><c r="A1"><v>2</v></c><c r="B1"><f>A1*21</f><v>42</v></c><c r="C1" t="str"><f>"=HYPERLINK(""x"")"</f><v>=cmd|' /C calc'!A0</v></c></row>`))
	got = mustReadAll(t, data, spreadsheet.XLSX)
	if d := cmp.Diff(rowsOf([]string{"2", "42", "=cmd|' /C calc'!A0"}), got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

func TestXLSXRowNumbersAndEmptyRows(t *testing.T) {
	data := minimalXLSX(t, sheetData(
		`<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c><c r="C1" t="inlineStr"><is><t>name</t></is></c></row>`+
			`<row r="2"><c r="A2" t="inlineStr"><is><t>  </t></is></c></row>`+ // blank after trimming
			`<row r="7"><c r="B7" t="inlineStr"><is><t>b</t></is></c><c r="E7" t="inlineStr"><is><t> </t></is></c></row>`+
			`<row><c t="inlineStr"><is><t>no refs</t></is></c><c t="inlineStr"><is><t>at all</t></is></c></row>`,
	))
	got := mustReadAll(t, data, spreadsheet.XLSX)
	want := []spreadsheet.Row{
		{Number: 1, Cells: []string{"email", "", "name"}},
		{Number: 7, Cells: []string{"", "b"}},
		{Number: 8, Cells: []string{"no refs", "at all"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

func TestXLSXDuplicateHeadersAreJustRows(t *testing.T) {
	data := excelizeFile(t, func(f *excelize.File, sh string) {
		must(t, f.SetSheetRow(sh, "A1", &[]any{"email", "Email ", "email"}))
		must(t, f.SetSheetRow(sh, "A2", &[]any{"a@example.com", "b@example.com"}))
	})
	want := rowsOf([]string{"email", "Email", "email"}, []string{"a@example.com", "b@example.com"})
	if d := cmp.Diff(want, mustReadAll(t, data, spreadsheet.XLSX)); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

func TestXLSXLongCellAndManyColumns(t *testing.T) {
	long := strings.Repeat("é", 100000)
	data := excelizeFile(t, func(f *excelize.File, sh string) {
		must(t, f.SetCellStr(sh, "B1", long))
		for c := 1; c <= 70; c++ {
			cell, _ := excelize.CoordinatesToCellName(c, 2)
			must(t, f.SetCellStr(sh, cell, fmt.Sprint(c)))
		}
	})
	got := mustReadAll(t, data, spreadsheet.XLSX)
	if len(got) != 2 {
		t.Fatalf("got %d rows, want 2", len(got))
	}
	// Excel itself keeps 32,767 characters; the reader keeps 1,000.
	if d := cmp.Diff([]string{"", strings.Repeat("é", 1000)}, got[0].Cells); d != "" {
		t.Errorf("long cell (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]spreadsheet.CellProblem{{Column: 1, Message: "is longer than 1000 characters"}}, got[0].Problems); d != "" {
		t.Errorf("long cell problems (-want +got):\n%s", d)
	}
	if len(got[1].Cells) != 64 || got[1].Cells[63] != "64" {
		t.Errorf("wide row: %d cells, last %q; want 64 ending in \"64\"", len(got[1].Cells), got[1].Cells[len(got[1].Cells)-1])
	}
	if len(got[1].Problems) != 1 || got[1].Problems[0].Column != 64 {
		t.Errorf("wide row problems = %+v, want one on column 64", got[1].Problems)
	}
}

func TestXLSXMillionEmptyRows(t *testing.T) {
	// A million <row r="N"/> elements and then one row of data: the reader must
	// skip them without a row each, and number the data row truly.
	pr, pw := io.Pipe()
	go func() {
		var b strings.Builder
		_, _ = io.WriteString(pw, sheetHead)
		for i := 1; i <= 1_000_000; i++ {
			fmt.Fprintf(&b, `<row r="%d"/>`, i)
			if b.Len() > 64<<10 {
				_, _ = io.WriteString(pw, b.String())
				b.Reset()
			}
		}
		_, _ = io.WriteString(pw, b.String())
		_, _ = io.WriteString(pw, `<row r="1000001"><c r="A1000001" t="inlineStr"><is><t>last</t></is></c></row>`+sheetTail)
		_ = pw.Close()
	}()
	data := minimalXLSX(t, pr)
	start := time.Now()
	got := mustReadAll(t, data, spreadsheet.XLSX)
	elapsed := time.Since(start)
	if d := cmp.Diff([]spreadsheet.Row{{Number: 1_000_001, Cells: []string{"last"}}}, got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
	// How fast is measured by BenchmarkReadXLSX, not asserted here (a busy
	// machine would make a limit flaky).
	t.Logf("read 1,000,001 rows (%d bytes zipped) in %v", len(data), elapsed)
}

// TestXLSXClosedEarly: a reader closed after its first row stops the scanner that
// reads ahead of it, even in the middle of a million rows without cells.
func TestXLSXClosedEarly(t *testing.T) {
	var b strings.Builder
	b.WriteString(sheetHead + `<row r="1"><c r="A1" t="inlineStr"><is><t>first</t></is></c></row>`)
	for i := 2; i <= 1_000_000; i++ {
		fmt.Fprintf(&b, `<row r="%d"/>`, i)
	}
	b.WriteString(sheetTail)
	data := minimalXLSX(t, strings.NewReader(b.String()))
	before := runtime.NumGoroutine()
	r, err := spreadsheet.Open(bytes.NewReader(data), int64(len(data)), spreadsheet.XLSX, spreadsheet.Limits{})
	must(t, err)
	row, err := r.Next()
	must(t, err)
	if row.Number != 1 || len(row.Cells) != 1 || row.Cells[0] != "first" {
		t.Fatalf("first row = %+v", row)
	}
	start := time.Now()
	must(t, r.Close())
	t.Logf("closed in %v", time.Since(start))
	// The scanner's goroutine returns once Close has stopped it; on a loaded machine
	// (under -race) it may be counted for a moment after Close returns, so the count
	// is waited for, not read once. A scanner that kept reading would keep it up.
	testtime.WaitFor(t, 10*time.Second, fmt.Sprintf("back to %d goroutines after Close", before), func() bool {
		return runtime.NumGoroutine() <= before
	})
}

func TestXLSXCraftedFiles(t *testing.T) {
	valid := excelizeFile(t, func(f *excelize.File, sh string) {
		for r := 1; r <= 200; r++ {
			must(t, f.SetSheetRow(sh, fmt.Sprintf("A%d", r), &[]any{"someone", r, "someone@example.com"}))
		}
	})
	tests := []struct {
		name string
		data []byte
		kind spreadsheet.Kind
		rows int // rows read before the error
	}{
		{"random bytes", randomBytes(10000, 3), spreadsheet.Unreadable, 0},
		{"truncated xlsx", valid[:len(valid)*2/3], spreadsheet.Unreadable, 0},
		{"corrupted sheet data", corruptPart(t, valid, "xl/worksheets/sheet1.xml"), spreadsheet.Unreadable, 0},
		{"zip without workbook", buildZip(t, part{"hello.txt", strings.NewReader("hi")}), spreadsheet.Unreadable, 0},
		{"random bytes after a zip magic", append([]byte("PK\x03\x04"), randomBytes(4096, 1)...), spreadsheet.Unreadable, 0},
		{"workbook without worksheets", buildZip(t,
			part{"[Content_Types].xml", strings.NewReader(contentTypesXML)},
			part{"xl/workbook.xml", strings.NewReader(workbookXML)},
		), spreadsheet.Unreadable, 0},
		{"sheet cut off in the middle", minimalXLSX(t, strings.NewReader(sheetHead+
			`<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>b</t></is></c></row><row r="3"><c r="A3" t="inl`)),
			spreadsheet.Unreadable, 2},
		{"sheet ends after a whole row, its elements open", minimalXLSX(t, strings.NewReader(sheetHead+
			`<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>`)),
			spreadsheet.Unreadable, 1},
		{"end tag of another prefix", minimalXLSX(t, sheetData(
			`<row r="1"><c r="A1"><v>1</v></c></row><x:row r="2"><c r="A2"><v>2</v></c></y:row>`)),
			spreadsheet.Unreadable, 1},
		{"mismatched tags in the middle", minimalXLSX(t, sheetData(
			`<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><row r="2"><c r="A2"><v>1</v></x></row><row r="3"><c r="A3"><v>3</v></c></row>`)),
			spreadsheet.Unreadable, 1},
		{"bad cell reference", minimalXLSX(t, sheetData(`<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="1A"><v>1</v></c></row>`)),
			spreadsheet.Unreadable, 1},
		// excelize reads a row ahead, and fails row 1 on seeing row 1048577.
		{"row number past Excel's last", minimalXLSX(t, sheetData(`<row r="1"><c r="A1"><v>1</v></c></row><row r="1048577"><c r="A1048577"><v>1</v></c></row>`)),
			spreadsheet.Unreadable, 0},
		{"latin-1 worksheet", minimalXLSX(t, strings.NewReader(`<?xml version="1.0" encoding="ISO-8859-1"?><worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>`)),
			spreadsheet.Unreadable, 0},
		{"shared string out of range", minimalXLSX(t, sheetData(`<row r="1"><c r="A1" t="s"><v>99</v></c><c r="B1"><v>5</v></c></row>`)),
			0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := readAll(tt.data, spreadsheet.XLSX, spreadsheet.Limits{})
			if kindOf(err) != tt.kind {
				t.Errorf("error = %v (%v), want kind %v", err, errors.Unwrap(err), tt.kind)
			}
			if err != nil && kindOf(err) == 0 {
				t.Errorf("error %v is not a *spreadsheet.Error", err)
			}
			if len(rows) != tt.rows {
				t.Errorf("read %d rows before the error, want %d: %+v", len(rows), tt.rows, rows)
			}
			t.Logf("%v", err)
		})
	}
}

// corruptPart flips bytes in the middle of a part's compressed data, leaving the
// zip directory intact.
func corruptPart(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	must(t, err)
	for _, f := range zr.File {
		if f.Name == name {
			off, err := f.DataOffset()
			must(t, err)
			out := bytes.Clone(data)
			mid := off + int64(f.CompressedSize64)/2
			for i := mid; i < mid+8; i++ {
				out[i] ^= 0x5A
			}
			return out
		}
	}
	t.Fatalf("no part %s", name)
	return nil
}

func TestXLSXZipBombs(t *testing.T) {
	// 300 MiB of zeros compresses to about 300 KB: over the total limit.
	bomb := zipBomb(t, "xl/worksheets/sheet1.xml", 300)
	t.Logf("the 300 MiB bomb is %d bytes", len(bomb))
	// (Refused by the sizes the archive declares, before a byte is inflated.)
	_, err := readAll(bomb, spreadsheet.XLSX, spreadsheet.Limits{})
	if kindOf(err) != spreadsheet.TooLarge {
		t.Errorf("300 MiB bomb: error = %v, want TooLarge", err)
	}

	// 20 MiB of zeros: under the total, but a ratio of about 1000.
	dense := zipBomb(t, "xl/worksheets/sheet1.xml", 20)
	if _, err := readAll(dense, spreadsheet.XLSX, spreadsheet.Limits{}); kindOf(err) != spreadsheet.TooLarge {
		t.Errorf("dense part: error = %v, want TooLarge", err)
	}
	// The same file passes a looser ratio, then fails as a damaged workbook.
	_, err = readAll(dense, spreadsheet.XLSX, spreadsheet.Limits{MaxRatio: 10000})
	if kindOf(err) != spreadsheet.Unreadable {
		t.Errorf("dense part, ratio 10000: error = %v, want Unreadable", err)
	}
	// And a lower total limit refuses a legitimate file.
	ok := excelizeFile(t, func(f *excelize.File, sh string) { must(t, f.SetCellStr(sh, "A1", "x")) })
	if _, err := readAll(ok, spreadsheet.XLSX, spreadsheet.Limits{MaxUnzipped: 1000}); kindOf(err) != spreadsheet.TooLarge {
		t.Errorf("1000-byte limit: error = %v, want TooLarge", err)
	}
}

// zipBomb is a workbook-looking zip whose part name holds mib MiB of zeros. The
// deflate stream is one compressed MiB repeated: each flushed block ends on a
// byte and refers only to zeros, so the copies chain into one valid stream, and
// the test does not spend seconds compressing hundreds of MiB.
func zipBomb(t testing.TB, name string, mib int) []byte {
	t.Helper()
	chunk := make([]byte, 1<<20)
	var block, end bytes.Buffer
	fw, err := flate.NewWriter(&block, flate.BestCompression)
	must(t, err)
	_, err = fw.Write(chunk)
	must(t, err)
	must(t, fw.Flush())
	fw.Reset(&end)
	must(t, fw.Close()) // an empty final block
	stream := append(bytes.Repeat(block.Bytes(), mib), end.Bytes()...)
	var crc uint32
	for range mib {
		crc = crc32.Update(crc, crc32.IEEETable, chunk)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range []struct{ name, content string }{{"[Content_Types].xml", contentTypesXML}, {"xl/workbook.xml", workbookXML}} {
		w, err := zw.Create(p.name)
		must(t, err)
		_, err = io.WriteString(w, p.content)
		must(t, err)
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(len(stream)), UncompressedSize64: uint64(mib) << 20})
	must(t, err)
	_, err = w.Write(stream)
	must(t, err)
	must(t, zw.Close())

	// It is a real bomb: it unpacks to zeros (the first MiBs are enough to see).
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	must(t, err)
	rc, err := zr.File[2].Open()
	must(t, err)
	defer rc.Close()
	head := make([]byte, 3<<20)
	if _, err := io.ReadFull(rc, head[:min(len(head), mib<<20)]); err != nil || bytes.IndexFunc(head, func(r rune) bool { return r != 0 }) >= 0 {
		t.Fatalf("the bomb does not unpack to zeros: %v", err)
	}
	return buf.Bytes()
}

func TestXLSXFirstWorksheetOfSeveral(t *testing.T) {
	data := excelizeFile(t, func(f *excelize.File, sh string) {
		must(t, f.SetSheetName(sh, "People"))
		_, err := f.NewSheet("Other")
		must(t, err)
		must(t, f.SetCellStr("Other", "A1", "not me"))
		must(t, f.SetCellStr("People", "A1", "me"))
	})
	if d := cmp.Diff(rowsOf([]string{"me"}), mustReadAll(t, data, spreadsheet.XLSX)); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

func TestOpenUnknownFormat(t *testing.T) {
	_, err := spreadsheet.Open(bytes.NewReader(nil), 0, "ods", spreadsheet.Limits{})
	if err == nil || kindOf(err) != 0 {
		t.Errorf("error = %v, want a plain error", err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
