package spreadsheet_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"roster.dev/roster/internal/spreadsheet"
)

// fuzzLimits are small, so that the fuzzer reaches the truncation paths.
var fuzzLimits = []spreadsheet.Limits{{}, {MaxCellLen: 5, MaxColumns: 3, MaxUnzipped: 4 << 20}}

// checkRead opens data and reads every row, checking what Next promises. Any
// error must be an *Error, except io.EOF at the end.
func checkRead(t *testing.T, data []byte, f spreadsheet.Format, l spreadsheet.Limits) {
	r, err := spreadsheet.Open(bytes.NewReader(data), int64(len(data)), f, l)
	if err != nil {
		if kindOf(err) == 0 {
			t.Fatalf("Open: %v is not a *spreadsheet.Error", err)
		}
		return
	}
	defer r.Close()
	maxLen, maxCols := cmpOr(l.MaxCellLen, 1000), cmpOr(l.MaxColumns, 64)
	last := 0
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			if kindOf(err) == 0 {
				t.Fatalf("Next: %v is not a *spreadsheet.Error", err)
			}
			return
		}
		if row.Number <= last {
			t.Fatalf("row %d after row %d", row.Number, last)
		}
		last = row.Number
		if len(row.Cells) == 0 && len(row.Problems) == 0 || len(row.Cells) > maxCols || len(row.Cells) > 0 && row.Cells[len(row.Cells)-1] == "" {
			t.Fatalf("row %d has cells %q", row.Number, row.Cells)
		}
		for _, c := range row.Cells {
			if utf8.RuneCountInString(c) > maxLen || !utf8.ValidString(c) || strings.TrimSpace(c) != c || strings.IndexByte(c, 0) >= 0 {
				t.Fatalf("row %d has cell %q", row.Number, c)
			}
		}
		for _, p := range row.Problems {
			if p.Column < 0 || p.Column > maxCols || p.Message == "" {
				t.Fatalf("row %d has problem %+v", row.Number, p)
			}
		}
	}
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func FuzzReadCSV(f *testing.F) {
	var buf bytes.Buffer
	w := spreadsheet.NewCSVWriter(&buf, exportHeader)
	for _, r := range exportRows(12) {
		must(f, w.Write(r))
	}
	must(f, w.Close())
	f.Add(buf.Bytes())
	for _, s := range []string{
		"email;first_name\nada@example.com;Ada\n",
		"a\tb\n1\t2\t3\n",
		"\xEF\xBB\xBF\"x\ny\",z\n\n\n1\n",
		"\"unterminated,field\nmore\n",
		"a,\"b\"c\"\n\"\"\"\n",
		"Jos\xE9,\x00\n",
		"\r\r\n\n,,,\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = spreadsheet.Detect(data)
		for _, l := range fuzzLimits {
			checkRead(t, data, spreadsheet.CSV, l)
		}
	})
}

func FuzzReadXLSX(f *testing.F) {
	for _, data := range xlsxSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = spreadsheet.Detect(data)
		for _, l := range fuzzLimits {
			checkRead(t, data, spreadsheet.XLSX, l)
		}
	})
}

// FuzzReadSheetXML fuzzes the worksheet XML inside a valid workbook: mutating a
// whole .xlsx mostly breaks its checksums, so FuzzReadXLSX rarely gets this far.
func FuzzReadSheetXML(f *testing.F) {
	for _, s := range []string{
		`<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c><c r="B1"><v>442079460018</v></c></row>`,
		`<row r="3"><c r="C3" s="0" t="n"><v>4.42E+11</v></c><c r="D3" t="b"><v>1</v></c></row><row><c><f>1+1</f><v>2</v></c></row>`,
		`<row r="1"><c r="A1" t="str"><f>A2</f><v>x</v></c></row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>end</t></is></c></row>`,
		`<row r="2"><c r="A2" t="s"><v>0</v></c></row><row r="1"/>`,
		`<row r="1"><c r="A1"><v>1</v></c></x>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, rows []byte) {
		data := minimalXLSX(t, io.MultiReader(strings.NewReader(sheetHead), bytes.NewReader(rows), strings.NewReader(sheetTail)))
		for _, l := range fuzzLimits {
			checkRead(t, data, spreadsheet.XLSX, l)
		}
	})
}

// xlsxSeeds are small valid workbooks of every kind the package writes or reads,
// and broken copies of one.
func xlsxSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	var buf bytes.Buffer
	w, err := spreadsheet.NewXLSXWriter(&buf, "Members", exportHeader)
	must(t, err)
	for _, r := range exportRows(8) {
		must(t, w.Write(r))
	}
	must(t, w.Close())
	seeds = append(seeds, bytes.Clone(buf.Bytes()))
	buf.Reset()
	must(t, spreadsheet.WriteTemplate(&buf, spreadsheet.Template{
		Sheet:   "People",
		Columns: []spreadsheet.Column{{Name: "email", Required: true}, {Name: "role", Choices: []string{"a", "b"}, Strict: true}},
		Example: []string{"ada@example.com", "a"},
	}))
	seeds = append(seeds, bytes.Clone(buf.Bytes()))
	seeds = append(seeds, excelizeFile(t, func(f *excelize.File, sh string) {
		must(t, f.SetSheetRow(sh, "A1", &[]any{"n", 442079460018, 3.5, true, "  x  "}))
		must(t, f.SetCellFormula(sh, "B3", "A1"))
		must(t, f.SetCellStr(sh, "C5", strings.Repeat("y", 2000)))
	}))
	seeds = append(seeds, minimalXLSX(t, sheetData(`<row r="2"><c r="B2"><v>1E+3</v></c></row>`)))
	valid := seeds[0]
	seeds = append(seeds, valid[:len(valid)/2], valid[:30], []byte("PK\x03\x04"))
	return seeds
}
