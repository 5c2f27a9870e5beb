package spreadsheet_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"roster.dev/roster/internal/spreadsheet"
)

var exportHeader = []string{"email", "first_name", "last_name", "phone", "note"}

// exportRows are awkward values for a writer: formulas, numbers-that-are-not,
// markup, Excel's own escapes, new lines, other scripts, ragged rows.
func exportRows(n int) [][]string {
	special := [][]string{
		{"ada@example.com", "Ada", "Lovelace", "+44 20 7946 0018", "=1+1"},
		{"bob@example.com", "Bob", "", "0044 20 7946 0018", "-5"},
		{"chloé@example.com", "Chloé", "Ñúñez", "442079460018", "@SUM(A1:A2)"},
		{"d@example.com", "<b>D</b>", "O'Brien & Sons", "1.0", "_x0041_"},
		{"e@example.com", "Zoë", "李", "TRUE", "line one\nline two"},
		{"f@example.com", `"quoted"`, "semi;colon", "2024-03-05", "comma, here"},
		{"g@example.com"},
		{"", "", "only a last name"},
	}
	rows := make([][]string, 0, n)
	for i := range n {
		if i < len(special) {
			rows = append(rows, special[i])
			continue
		}
		rows = append(rows, []string{fmt.Sprintf("user%d@example.com", i), "First", fmt.Sprintf("Last %d", i), fmt.Sprint(440000000000 + i), ""})
	}
	return rows
}

// expected is what reading back should give: the header and the rows, numbered
// from 1, with trailing empty cells dropped.
func expected(header []string, rows [][]string, transform func(string) string) []spreadsheet.Row {
	want := []spreadsheet.Row{{Number: 1, Cells: header}}
	for i, r := range rows {
		cells := make([]string, len(r))
		for j, c := range r {
			cells[j] = transform(c)
		}
		for len(cells) > 0 && cells[len(cells)-1] == "" {
			cells = cells[:len(cells)-1]
		}
		if len(cells) > 0 {
			want = append(want, spreadsheet.Row{Number: i + 2, Cells: cells})
		}
	}
	return want
}

func TestXLSXWriterRoundTrip(t *testing.T) {
	for _, n := range []int{0, 3, 250} { // none, fewer and more than the rows held back for widths
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			rows := exportRows(n)
			var buf bytes.Buffer
			w, err := spreadsheet.NewXLSXWriter(&buf, "Members", exportHeader)
			must(t, err)
			for _, r := range rows {
				must(t, w.Write(r))
			}
			must(t, w.Close())

			got := mustReadAll(t, buf.Bytes(), spreadsheet.XLSX)
			want := expected(exportHeader, rows, func(s string) string { return s })
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("rows (-want +got):\n%s", d)
			}
			if f, err := spreadsheet.Detect(buf.Bytes()[:512]); f != spreadsheet.XLSX {
				t.Errorf("Detect = %q, %v", f, err)
			}
		})
	}
}

func TestXLSXWriterSheet(t *testing.T) {
	var buf bytes.Buffer
	w, err := spreadsheet.NewXLSXWriter(&buf, "Members", exportHeader)
	must(t, err)
	must(t, w.Write([]string{"ada@example.com", "=HYPERLINK(\"http://evil.example\",\"x\")", "", "0044", "1"}))
	must(t, w.Close())
	if err := w.Write([]string{"late"}); err == nil {
		t.Error("Write after Close succeeded")
	}

	f, err := excelize.OpenReader(&buf)
	must(t, err)
	defer f.Close()
	if d := cmp.Diff([]string{"Members"}, f.GetSheetList()); d != "" {
		t.Errorf("sheets (-want +got):\n%s", d)
	}
	// Every value is a string cell: the formula-looking one has no formula.
	for _, cell := range []string{"B2", "D2", "E2"} {
		if formula, _ := f.GetCellFormula("Members", cell); formula != "" {
			t.Errorf("%s has formula %q", cell, formula)
		}
		if typ, _ := f.GetCellType("Members", cell); typ != excelize.CellTypeInlineString {
			t.Errorf("%s has type %v, want an inline string", cell, typ)
		}
	}
	panes, err := f.GetPanes("Members")
	must(t, err)
	if !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
		t.Errorf("panes = %+v, want the first row frozen", panes)
	}
	styleID, err := f.GetCellStyle("Members", "A1")
	must(t, err)
	style, err := f.GetStyle(styleID)
	must(t, err)
	if style.Font == nil || !style.Font.Bold {
		t.Errorf("header style = %+v, want bold", style)
	}
	for col, wantMin := range map[string]float64{"A": float64(len("ada@example.com")), "C": 8} {
		width, err := f.GetColWidth("Members", col)
		must(t, err)
		if width < wantMin || width > 60 {
			t.Errorf("column %s width = %v, want between %v and 60", col, width, wantMin)
		}
	}
}

func TestNewXLSXWriterBadSheetName(t *testing.T) {
	for _, name := range []string{"", "a/b", strings.Repeat("x", 32)} {
		if _, err := spreadsheet.NewXLSXWriter(&bytes.Buffer{}, name, exportHeader); err == nil {
			t.Errorf("sheet name %q accepted", name)
		}
	}
}

func TestCSVWriterRoundTrip(t *testing.T) {
	safe := func(s string) string { // the writer's quote before formula-like cells
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			return "'" + s
		}
		return s
	}
	rows := exportRows(250)
	var buf bytes.Buffer
	w := spreadsheet.NewCSVWriter(&buf, exportHeader)
	for _, r := range rows {
		must(t, w.Write(r))
	}
	must(t, w.Close())
	if err := w.Write([]string{"late"}); err == nil {
		t.Error("Write after Close succeeded")
	}

	out := buf.String()
	if !strings.HasPrefix(out, "\xEF\xBB\xBFemail,first_name,last_name,phone,note\r\n") {
		t.Errorf("file starts %q, want a BOM and the header", out[:min(len(out), 60)])
	}
	if !strings.Contains(out, "\r\nada@example.com,Ada,Lovelace,'+44 20 7946 0018,'=1+1\r\n") {
		t.Errorf("formula-like cells are not neutralised:\n%s", out[:min(len(out), 300)])
	}
	got := mustReadAll(t, buf.Bytes(), spreadsheet.CSV)
	if d := cmp.Diff(expected(exportHeader, rows, safe), got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

func TestCSVWriterInjection(t *testing.T) {
	var buf bytes.Buffer
	w := spreadsheet.NewCSVWriter(&buf, []string{"v"})
	for _, v := range []string{"=1+1", "+1", "-1", "@x", "\tx", "\rx", "a=b", " =x", "'quoted"} {
		must(t, w.Write([]string{v}))
	}
	must(t, w.Close())
	// encoding/csv drops a lone carriage return when it writes CRLF line ends,
	// and quotes a cell with a leading space.
	want := "\xEF\xBB\xBFv\r\n'=1+1\r\n'+1\r\n'-1\r\n'@x\r\n'\tx\r\n\"'x\"\r\na=b\r\n\" =x\"\r\n'quoted\r\n"
	if d := cmp.Diff(want, buf.String()); d != "" {
		t.Errorf("csv (-want +got):\n%s", d)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWritersReportWriteErrors(t *testing.T) {
	c := spreadsheet.NewCSVWriter(failingWriter{}, exportHeader)
	_ = c.Write([]string{"x"})
	if err := c.Close(); err == nil {
		t.Error("CSV Close succeeded on a failing writer")
	}
	x, err := spreadsheet.NewXLSXWriter(failingWriter{}, "Members", exportHeader)
	must(t, err)
	must(t, x.Write([]string{"x"}))
	if err := x.Close(); err == nil {
		t.Error("XLSX Close succeeded on a failing writer")
	}
}
