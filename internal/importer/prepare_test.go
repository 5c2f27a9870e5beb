package importer

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/spreadsheet"
)

// TestPrepareRoundTrip: the stored form gives back every non-empty row with its
// spreadsheet row number, its cells and its cell problems; a CSV's quoted formulas
// come back unquoted.
func TestPrepareRoundTrip(t *testing.T) {
	long := strings.Repeat("x", 1200)
	in := "email,first_name,phone\n" +
		"a@x.test,Ann,'+44 20 7946 0018\n" +
		"\n" +
		"b@x.test,\"Bo, \"\"B\"\"\"," + long + "\n"
	p, err := Prepare([]byte(in), spreadsheet.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != "csv" || p.Total != 2 {
		t.Fatalf("prepared = %s, %d rows", p.Format, p.Total)
	}
	rd, header, err := openStored(p.Stored)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"email", "first_name", "phone"}, header); d != "" {
		t.Errorf("header (-want +got):\n%s", d)
	}
	var got []spreadsheet.Row
	for {
		row, err := rd.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		row.Cells = append([]string(nil), row.Cells...)
		got = append(got, row)
	}
	want := []spreadsheet.Row{
		{Number: 2, Cells: []string{"a@x.test", "Ann", "+44 20 7946 0018"}},
		{Number: 4, Cells: []string{"b@x.test", `Bo, "B"`, strings.Repeat("x", 1000)},
			Problems: []spreadsheet.CellProblem{{Column: 2, Message: got[1].Problems[0].Message}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

// TestPrepareRefusals: what is refused before anything is stored.
func TestPrepareRefusals(t *testing.T) {
	for name, in := range map[string]string{
		"empty":            "",
		"no header":        "\n\n",
		"no email column":  "name\nAda\n",
		"duplicate column": "email,EMAIL\na@x.test,b@x.test\n",
		"binary":           "\x00\x01\x02\xff",
	} {
		_, err := Prepare([]byte(in), spreadsheet.Limits{})
		if account.ErrorCode(err) != account.EINVALID {
			t.Errorf("%s: %v, want a validation error naming file", name, err)
		}
	}
}
