package spreadsheet_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"roster.dev/roster/internal/spreadsheet"
)

func TestDetect(t *testing.T) {
	xlsx := excelizeFile(t, func(f *excelize.File, sh string) {})
	tests := []struct {
		name string
		head []byte
		want spreadsheet.Format
	}{
		{"xlsx", xlsx[:512], spreadsheet.XLSX},
		{"csv", []byte("email,first_name\nada@example.com,Ada\n"), spreadsheet.CSV},
		{"csv with BOM", []byte("\xEF\xBB\xBFemail;name\n"), spreadsheet.CSV},
		{"csv cut inside a character", []byte("name\nJosé\nRenée")[:15], spreadsheet.CSV},
		{"empty", nil, spreadsheet.CSV},
		{"random bytes", randomBytes(512, 7), ""},
		{"xls or encrypted", append([]byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), make([]byte, 504)...), ""},
		{"utf-16", []byte("\xFF\xFEe\x00m\x00a\x00"), ""},
		{"latin-1 text", []byte("name\nJos\xE9\n"), ""},
		{"text with NUL", []byte("name\x00\n"), ""},
		{"pdf", []byte("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := spreadsheet.Detect(tt.head)
			if got != tt.want {
				t.Errorf("Detect = %q, %v; want %q", got, err, tt.want)
			}
			if tt.want == "" && kindOf(err) != spreadsheet.Unreadable {
				t.Errorf("error = %v, want Unreadable", err)
			}
			if tt.want != "" && err != nil {
				t.Errorf("error = %v", err)
			}
		})
	}
	for seed := range uint64(20) {
		if _, err := spreadsheet.Detect(randomBytes(512, seed)); err == nil || !strings.HasPrefix(err.Error(), "not an .xlsx workbook or a CSV file") {
			t.Errorf("random bytes (seed %d): message = %v", seed, err)
		}
	}
}

func TestCSV(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []spreadsheet.Row
	}{
		{
			name: "comma, CRLF",
			in:   "email,first_name\r\nada@example.com,Ada\r\n",
			want: rowsOf([]string{"email", "first_name"}, []string{"ada@example.com", "Ada"}),
		},
		{
			name: "semicolon (Excel in many locales), BOM, decimal commas",
			in:   "\xEF\xBB\xBFemail;first_name;score\nada@example.com;Ada;1,5\n",
			want: rowsOf([]string{"email", "first_name", "score"}, []string{"ada@example.com", "Ada", "1,5"}),
		},
		{
			name: "tab",
			in:   "email\tname\nada@example.com\tAda Lovelace, Countess\n",
			want: rowsOf([]string{"email", "name"}, []string{"ada@example.com", "Ada Lovelace, Countess"}),
		},
		{
			name: "delimiters inside quotes do not count",
			in:   "\"a;b;c\",d\n1,2\n",
			want: rowsOf([]string{"a;b;c", "d"}, []string{"1", "2"}),
		},
		{
			name: "quoted newlines keep Excel's row numbers",
			in:   "note,name\n\"line one\nline two\",Ada\nx,Bob\n",
			want: rowsOf([]string{"note", "name"}, []string{"line one\nline two", "Ada"}, []string{"x", "Bob"}),
		},
		{
			name: "blank and empty rows are skipped but counted",
			in:   "email\n\n\nada@example.com\n,,,\n  ,\t\nbob@example.com\n",
			want: []spreadsheet.Row{
				{Number: 1, Cells: []string{"email"}},
				{Number: 4, Cells: []string{"ada@example.com"}},
				{Number: 7, Cells: []string{"bob@example.com"}},
			},
		},
		{
			name: "ragged rows, trimmed cells, trailing empties dropped",
			in:   "a,b,c\n 1 ,\"  2  \"\n1,2,3,4,,\n,x\n",
			want: rowsOf([]string{"a", "b", "c"}, []string{"1", "2"}, []string{"1", "2", "3", "4"}, []string{"", "x"}),
		},
		{
			name: "duplicate headers are just a row",
			in:   "email,email,\nada@example.com,ada@example.org\n",
			want: rowsOf([]string{"email", "email"}, []string{"ada@example.com", "ada@example.org"}),
		},
		{
			name: "loose quotes",
			in:   "name,nick\nAda \"the Countess\" Lovelace,\"a\"b\"\n",
			want: rowsOf([]string{"name", "nick"}, []string{`Ada "the Countess" Lovelace`, `a"b`}),
		},
		{
			name: "no final newline",
			in:   "email\nada@example.com",
			want: rowsOf([]string{"email"}, []string{"ada@example.com"}),
		},
		{
			name: "empty file",
			in:   "",
			want: nil,
		},
		{
			name: "BOM only",
			in:   "\xEF\xBB\xBF",
			want: nil,
		},
		{
			name: "invalid UTF-8 and NUL bytes are replaced and reported",
			in:   "name\nJos\xE9\na\x00b\n",
			want: []spreadsheet.Row{
				{Number: 1, Cells: []string{"name"}},
				{Number: 2, Cells: []string{"Jos\uFFFD"}, Problems: []spreadsheet.CellProblem{{Column: 0, Message: "is not UTF-8 text (save the file as CSV UTF-8)"}}},
				{Number: 3, Cells: []string{"a\uFFFDb"}, Problems: []spreadsheet.CellProblem{{Column: 0, Message: "must not contain a NUL character"}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustReadAll(t, []byte(tt.in), spreadsheet.CSV)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("rows (-want +got):\n%s", d)
			}
		})
	}
}

func TestCSVLimits(t *testing.T) {
	in := "a," + strings.Repeat("x", 100000) + "\n" + strings.Repeat("c,", 100) + "\n" + "a,,,,,,z\n" + ",,,,,,z\n"
	got, err := readAll([]byte(in), spreadsheet.CSV, spreadsheet.Limits{MaxCellLen: 10, MaxColumns: 5})
	if err != nil {
		t.Fatal(err)
	}
	want := []spreadsheet.Row{
		{Number: 1, Cells: []string{"a", "xxxxxxxxxx"}, Problems: []spreadsheet.CellProblem{{Column: 1, Message: "is longer than 10 characters"}}},
		{Number: 2, Cells: []string{"c", "c", "c", "c", "c"}, Problems: []spreadsheet.CellProblem{{Column: 5, Message: "is past the first 5 columns: it and the cells after it were not read"}}},
		{Number: 3, Cells: []string{"a"}, Problems: []spreadsheet.CellProblem{{Column: 5, Message: "is past the first 5 columns: it and the cells after it were not read"}}},
		// A row whose only value is past the columns read comes with no cells,
		// rather than vanish.
		{Number: 4, Cells: nil, Problems: []spreadsheet.CellProblem{{Column: 5, Message: "is past the first 5 columns: it and the cells after it were not read"}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

func TestCSVUnterminatedQuoteTakesTheRest(t *testing.T) {
	// As in Excel, a quote that never closes takes the rest of the file into
	// its cell; the length limit reports it.
	in := "name\n\"Ada\n" + strings.Repeat("bob@example.com\n", 100)
	got := mustReadAll(t, []byte(in), spreadsheet.CSV)
	if len(got) != 2 || len(got[1].Problems) != 1 {
		t.Errorf("rows = %d, problems of the second = %+v; want 2 rows, the second with one problem", len(got), got[len(got)-1].Problems)
	}
}

func TestReaderAfterEndAndClose(t *testing.T) {
	data := []byte("a\n")
	r, err := spreadsheet.Open(bytes.NewReader(data), int64(len(data)), spreadsheet.CSV, spreadsheet.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := r.Next(); !errors.Is(err, io.EOF) {
			t.Errorf("Next after the end = %v, want io.EOF", err)
		}
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}

	r, err = spreadsheet.Open(bytes.NewReader(data), int64(len(data)), spreadsheet.CSV, spreadsheet.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if _, err := r.Next(); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("Next after Close = %v, want an error", err)
	}
}

func TestCSVRandomBytes(t *testing.T) {
	// Not UTF-8 text, but Open was told it is CSV: it reads, marking the cells.
	rows, err := readAll(randomBytes(10000, 5), spreadsheet.CSV, spreadsheet.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || len(rows[0].Problems) == 0 {
		t.Errorf("rows = %d, first problems %+v; want rows with problems", len(rows), rows[0].Problems)
	}
}
