package spreadsheet_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"roster.dev/roster/internal/spreadsheet"
)

// longChoices together exceed the 255 characters an inline list may have.
var longChoices = func() []string {
	var teams []string
	for _, n := range []string{"Platform Engineering", "Customer Success", "Finance and Accounting", "Research", "Design"} {
		for _, region := range []string{"EMEA", "Americas", "APAC"} {
			teams = append(teams, n+" — "+region)
		}
	}
	return teams
}()

func peopleTemplate() spreadsheet.Template {
	return spreadsheet.Template{
		Sheet: "People",
		Columns: []spreadsheet.Column{
			{Name: "email", Required: true, Note: "The person's email address."},
			{Name: "first_name"},
			{Name: "phone", Note: "With the country code."},
			{Name: "role", Choices: []string{"Admin", "Member", "Billing"}, Strict: true, Note: "A role you may grant."},
			{Name: "teams", Choices: longChoices, Note: "Team names, separated by \";\"."},
			{Name: "send_invite", Choices: []string{"yes", "no"}, Strict: true},
		},
		Example:      []string{"ada@example.com", "Ada", "+44 20 7946 0018", "Member", longChoices[0], "yes"},
		Instructions: []string{"Import people.", strings.Repeat("A long paragraph. ", 40)},
	}
}

func TestWriteTemplate(t *testing.T) {
	tmpl := peopleTemplate()
	var buf bytes.Buffer
	must(t, spreadsheet.WriteTemplate(&buf, tmpl))
	data := buf.Bytes()

	f, err := excelize.OpenReader(bytes.NewReader(data))
	must(t, err)
	defer f.Close()
	if d := cmp.Diff([]string{"People", "Instructions", "Lists"}, f.GetSheetList()); d != "" {
		t.Errorf("sheets (-want +got):\n%s", d)
	}
	if f.GetActiveSheetIndex() != 0 {
		t.Errorf("active sheet = %d, want the data sheet", f.GetActiveSheetIndex())
	}
	if visible, _ := f.GetSheetVisible("Lists"); visible {
		t.Error("the Lists sheet is visible")
	}
	rows, err := f.GetRows("People")
	must(t, err)
	header := []string{"email", "first_name", "phone", "role", "teams", "send_invite"}
	if d := cmp.Diff([][]string{header, tmpl.Example}, rows); d != "" {
		t.Errorf("People (-want +got):\n%s", d)
	}
	panes, err := f.GetPanes("People")
	must(t, err)
	if !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes = %+v, want the first row frozen", panes)
	}
	styleID, _ := f.GetCellStyle("People", "D1")
	if style, _ := f.GetStyle(styleID); style == nil || style.Font == nil || !style.Font.Bold {
		t.Errorf("header style = %+v, want bold", style)
	}

	dvs, err := f.GetDataValidations("People")
	must(t, err)
	type dv struct {
		Sqref, Formula1, Type string
		ShowError             bool
		ErrorStyle            string
	}
	var got []dv
	for _, v := range dvs {
		d := dv{Sqref: v.Sqref, Formula1: v.Formula1, Type: v.Type, ShowError: v.ShowErrorMessage}
		if v.ErrorStyle != nil {
			d.ErrorStyle = *v.ErrorStyle
		}
		got = append(got, d)
	}
	want := []dv{
		{Sqref: "D2:D10001", Formula1: "Lists!$A$1:$A$3", Type: "list", ShowError: true, ErrorStyle: "stop"},
		{Sqref: "E2:E10001", Formula1: "Lists!$B$1:$B$15", Type: "list"},
		{Sqref: "F2:F10001", Formula1: "Lists!$C$1:$C$2", Type: "list", ShowError: true, ErrorStyle: "stop"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("data validations (-want +got):\n%s", d)
	}
	lists, err := f.GetCols("Lists")
	must(t, err)
	for i, col := range lists { // GetCols pads the columns to the longest
		for len(col) > 0 && col[len(col)-1] == "" {
			col = col[:len(col)-1]
		}
		lists[i] = col
	}
	if d := cmp.Diff([][]string{{"Admin", "Member", "Billing"}, longChoices, {"yes", "no"}}, lists); d != "" {
		t.Errorf("Lists (-want +got):\n%s", d)
	}
	if n := len(strings.Join(longChoices, ",")); n <= 255 {
		t.Errorf("the long list is %d characters: it does not test the 255 limit", n)
	}

	instr, err := f.GetRows("Instructions")
	must(t, err)
	wantInstr := [][]string{
		{"Import people."},
		{tmpl.Instructions[1]},
		nil,
		{"Column", "Required", "Notes", "Allowed values"},
		{"email", "yes", "The person's email address."},
		{"first_name", "no"},
		{"phone", "no", "With the country code."},
		{"role", "no", "A role you may grant.", "One of: Admin, Member, Billing"},
		{"teams", "no", "Team names, separated by \";\".", "Suggested: " + strings.Join(longChoices, ", ")},
		{"send_invite", "no", "", "One of: yes, no"},
	}
	if d := cmp.Diff(wantInstr, instr); d != "" {
		t.Errorf("Instructions (-want +got):\n%s", d)
	}

	// The reader reads the template back: header and example.
	if format, err := spreadsheet.Detect(data[:512]); format != spreadsheet.XLSX {
		t.Fatalf("Detect = %q, %v", format, err)
	}
	if d := cmp.Diff(rowsOf(header, tmpl.Example), mustReadAll(t, data, spreadsheet.XLSX)); d != "" {
		t.Errorf("read back (-want +got):\n%s", d)
	}
}

func TestWriteTemplateWithoutChoices(t *testing.T) {
	var buf bytes.Buffer
	must(t, spreadsheet.WriteTemplate(&buf, spreadsheet.Template{Sheet: "People", Columns: []spreadsheet.Column{{Name: "email"}}}))
	f, err := excelize.OpenReader(&buf)
	must(t, err)
	defer f.Close()
	if d := cmp.Diff([]string{"People", "Instructions"}, f.GetSheetList()); d != "" {
		t.Errorf("sheets (-want +got):\n%s", d)
	}
}

func TestWriteTemplateInvalid(t *testing.T) {
	ok := peopleTemplate()
	for name, mutate := range map[string]func(*spreadsheet.Template){
		"no columns":         func(t *spreadsheet.Template) { t.Columns = nil },
		"unnamed column":     func(t *spreadsheet.Template) { t.Columns = append(t.Columns, spreadsheet.Column{Name: " "}) },
		"long example":       func(t *spreadsheet.Template) { t.Example = append(t.Example, "extra") },
		"no sheet name":      func(t *spreadsheet.Template) { t.Sheet = "" },
		"invalid sheet name": func(t *spreadsheet.Template) { t.Sheet = "a[b]" },
		"taken sheet name":   func(t *spreadsheet.Template) { t.Sheet = "lists" },
	} {
		tmpl := ok
		tmpl.Columns = append([]spreadsheet.Column(nil), ok.Columns...)
		mutate(&tmpl)
		if err := spreadsheet.WriteTemplate(&bytes.Buffer{}, tmpl); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
