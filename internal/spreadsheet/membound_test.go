package spreadsheet_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"roster.dev/roster/internal/spreadsheet"
)

// memoryBudget is the extra memory one upload within the size limit may take,
// whatever the workbook holds.
const memoryBudget = 100 << 20

// zerosStream is a raw deflate stream of mib MiB of zeros, with its CRC-32: one
// compressed MiB repeated (see zipBomb).
func zerosStream(t testing.TB, mib int) ([]byte, uint32) {
	t.Helper()
	chunk := make([]byte, 1<<20)
	var block, end bytes.Buffer
	fw, err := flate.NewWriter(&block, flate.BestCompression)
	must(t, err)
	_, err = fw.Write(chunk)
	must(t, err)
	must(t, fw.Flush())
	fw.Reset(&end)
	must(t, fw.Close())
	var crc uint32
	for range mib {
		crc = crc32.Update(crc, crc32.IEEETable, chunk)
	}
	return append(bytes.Repeat(block.Bytes(), mib), end.Bytes()...), crc
}

// fillerWorkbook is a genuine workbook of one small worksheet, with n more parts
// named by name(i) that each unpack to mib MiB of zeros: the shape of the upload
// that took a server to 495 MiB (190 parts of 1 MiB, 218 KB in all).
func fillerWorkbook(t testing.TB, n, mib int, name func(i int) string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range []struct{ name, content string }{
		{"[Content_Types].xml", contentTypesXML}, {"_rels/.rels", rootRelsXML}, {"xl/workbook.xml", workbookXML},
		{"xl/_rels/workbook.xml.rels", workbookRelsXML},
		{"xl/worksheets/sheet1.xml", sheetHead + `<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c></row>` +
			`<row r="2"><c r="A2" t="inlineStr"><is><t>ada@example.com</t></is></c></row>` + sheetTail},
	} {
		w, err := zw.Create(p.name)
		must(t, err)
		_, err = io.WriteString(w, p.content)
		must(t, err)
	}
	stream, crc := zerosStream(t, mib)
	for i := range n {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: name(i), Method: zip.Deflate, CRC32: crc,
			CompressedSize64: uint64(len(stream)), UncompressedSize64: uint64(mib) << 20})
		must(t, err)
		_, err = w.Write(stream)
		must(t, err)
	}
	must(t, zw.Close())
	return buf.Bytes()
}

// allocated runs fn and returns the bytes it allocated on the heap, garbage
// included (runtime.MemStats.TotalAlloc): a bound of the extra memory it took at
// its peak, however short the peak, that does not depend on when the GC ran.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

var fillerNames = map[string]func(int) string{
	"sheets": func(i int) string { return fmt.Sprintf("xl/worksheets/sheet%d.xml", i+2) },
	"media":  func(i int) string { return fmt.Sprintf("xl/media/image%d.png", i+1) },
	"custom": func(i int) string { return fmt.Sprintf("customXml/item%d.xml", i+1) },
}

// TestXLSXManyPartsBomb: 190 parts of 1 MiB, each under the ratio check of a
// single part, are refused as a whole by their ratio, before any is unpacked.
func TestXLSXManyPartsBomb(t *testing.T) {
	for kind, name := range fillerNames {
		t.Run(kind, func(t *testing.T) {
			data := fillerWorkbook(t, 190, 1, name)
			t.Logf("%d bytes", len(data))
			var err error
			n := allocated(func() { _, err = readAll(data, spreadsheet.XLSX, spreadsheet.Limits{}) })
			t.Logf("%.1f MiB allocated", float64(n)/(1<<20))
			if kindOf(err) != spreadsheet.TooLarge || !strings.Contains(err.Error(), "times its packed size") {
				t.Fatalf("error = %v, want TooLarge for its ratio", err)
			}
			if n > 8<<20 {
				t.Errorf("refusing it allocated %d MiB", n>>20)
			}
		})
	}
}

// TestXLSXMemoryBoundWhateverTheParts: a workbook whose other parts pass every
// check (here with the ratio check off) costs no more memory than its worksheet:
// excelize is given the parts it needs only, and never unpacks the others.
func TestXLSXMemoryBoundWhateverTheParts(t *testing.T) {
	for kind, name := range fillerNames {
		t.Run(kind, func(t *testing.T) {
			data := fillerWorkbook(t, 190, 1, name)
			var rows []spreadsheet.Row
			var err error
			n := allocated(func() { rows, err = readAll(data, spreadsheet.XLSX, spreadsheet.Limits{MaxRatio: 1 << 30}) })
			must(t, err)
			if len(rows) != 2 || rows[1].Cells[0] != "ada@example.com" {
				t.Fatalf("rows %+v", rows)
			}
			t.Logf("190 parts of 1 MiB of %s: %.1f MiB allocated", kind, float64(n)/(1<<20))
			if n > memoryBudget/4 {
				t.Errorf("%d MiB allocated reading a workbook of one small worksheet", n>>20)
			}
		})
	}
}

// TestXLSXPartTooLargeForMemory: a part excelize would hold in memory whole (here
// styles.xml, which it decodes at once) is refused past 8 MiB, with its name.
func TestXLSXPartTooLargeForMemory(t *testing.T) {
	styles := `<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs>` +
		strings.Repeat(`<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>`, 9<<20/64) + `</cellXfs></styleSheet>`
	data := buildZip(t,
		part{"[Content_Types].xml", strings.NewReader(contentTypesXML)},
		part{"_rels/.rels", strings.NewReader(rootRelsXML)},
		part{"xl/workbook.xml", strings.NewReader(workbookXML)},
		part{"xl/_rels/workbook.xml.rels", strings.NewReader(workbookRelsXML)},
		part{"xl/styles.xml", strings.NewReader(styles)},
		part{"xl/worksheets/sheet1.xml", sheetData(`<row r="1"><c r="A1"><v>1</v></c></row>`)},
	)
	var err error
	// (The ratio check is off: it would refuse such repetitive XML first.)
	n := allocated(func() { _, err = readAll(data, spreadsheet.XLSX, spreadsheet.Limits{MaxRatio: 1 << 30}) })
	t.Logf("%.1f MiB allocated", float64(n)/(1<<20))
	if kindOf(err) != spreadsheet.TooLarge || !strings.Contains(err.Error(), "xl/styles.xml") {
		t.Fatalf("error = %v, want TooLarge naming xl/styles.xml", err)
	}
	if n > 8<<20 {
		t.Errorf("refusing it allocated %d MiB", n>>20)
	}
}

// bareEntries is a zip of n central directory entries that all point at one
// stored, empty local file, and a valid end record: 46 bytes an entry.
func bareEntries(n int) []byte {
	var b bytes.Buffer
	le := func(v ...any) {
		for _, x := range v {
			_ = binary.Write(&b, binary.LittleEndian, x)
		}
	}
	le(uint32(0x04034b50), uint16(20), uint16(0), uint16(0), uint16(0), uint16(0), uint32(0), uint32(0), uint32(0), uint16(1), uint16(0))
	b.WriteByte('a')
	dirOffset := b.Len()
	for range n {
		le(uint32(0x02014b50), uint16(20), uint16(20), uint16(0), uint16(0), uint16(0), uint16(0),
			uint32(0), uint32(0), uint32(0), uint16(0), uint16(0), uint16(0), uint16(0), uint16(0), uint32(0), uint32(0))
	}
	dirSize := b.Len() - dirOffset
	le(uint32(0x06054b50), uint16(0), uint16(0), uint16(n), uint16(n), uint32(dirSize), uint32(dirOffset), uint16(0))
	return b.Bytes()
}

// TestXLSXEntryCountBomb: 20 MiB of bare directory entries (some 450,000, whose
// end record declares their count modulo 65536, as archive/zip accepts) are
// refused before archive/zip allocates one File for each.
func TestXLSXEntryCountBomb(t *testing.T) {
	data := bareEntries(20 << 20 / 46)
	t.Logf("%d bytes", len(data))
	var err error
	n := allocated(func() { _, err = readAll(data, spreadsheet.XLSX, spreadsheet.Limits{}) })
	t.Logf("%.1f MiB allocated", float64(n)/(1<<20))
	if kindOf(err) != spreadsheet.TooLarge || !strings.Contains(err.Error(), "parts") {
		t.Fatalf("error = %v, want TooLarge for its number of parts", err)
	}
	if n > 1<<20 {
		t.Errorf("refusing it allocated %d MiB", n>>20)
	}
	// A real workbook of many parts is no such file.
	ok := excelizeFile(t, func(f *excelize.File, sh string) {
		for i := range 50 {
			_, err := f.NewSheet(fmt.Sprintf("S%d", i))
			must(t, err)
		}
		must(t, f.SetCellStr(sh, "A1", "x"))
	})
	if rows, err := readAll(ok, spreadsheet.XLSX, spreadsheet.Limits{}); err != nil || len(rows) != 1 {
		t.Errorf("a workbook of 51 sheets: %v, %+v", err, rows)
	}
}
