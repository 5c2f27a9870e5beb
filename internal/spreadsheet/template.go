package spreadsheet

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Column is one column of an import template.
type Column struct {
	Name     string
	Required bool
	Note     string   // shown in the instructions
	Choices  []string // a drop-down list; nil: free text
	Strict   bool     // only the choices are accepted (Excel refuses others); false: the list is a suggestion
}

// Template describes an import template workbook.
type Template struct {
	Sheet        string // the data sheet's name, e.g. "People"
	Columns      []Column
	Example      []string // one example row
	Instructions []string // paragraphs for an "Instructions" sheet
}

const (
	instructionsSheet = "Instructions"
	listsSheet        = "Lists"
	// templateRows is how many data rows get the drop-down lists: more than an
	// import takes, and few enough to keep the validation ranges cheap.
	templateRows = 10000
)

// WriteTemplate writes an import template workbook to w. Its first sheet, t.Sheet,
// has the header row (bold, frozen), the example row, text-formatted columns (so
// Excel keeps "0044…" and "+44…" as typed) and, on rows 2 to 10001 of each column
// with Choices, a drop-down list. The lists live on a hidden sheet "Lists" and are
// referenced by range, because a list typed into the validation itself is limited
// to 255 characters. A Strict column refuses other values; the others accept them
// silently. The second sheet, "Instructions", has the paragraphs and a table of
// the columns (name, required, note, allowed values).
//
// It returns an error if t has no columns, a column has no name, the example is
// longer than the header, t.Sheet is not a valid sheet name or is "Instructions"
// or "Lists"; and the errors of writing to w.
func WriteTemplate(w io.Writer, t Template) error {
	if err := t.check(); err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	if t.Sheet != "Sheet1" {
		if err := f.SetSheetName("Sheet1", t.Sheet); err != nil {
			return fmt.Errorf("spreadsheet: sheet name %q: %w", t.Sheet, err)
		}
	}
	if err := writeDataSheet(f, t); err != nil {
		return fmt.Errorf("spreadsheet: template: %w", err)
	}
	if err := writeInstructions(f, t); err != nil {
		return fmt.Errorf("spreadsheet: template: %w", err)
	}
	if err := writeLists(f, t); err != nil {
		return fmt.Errorf("spreadsheet: template: %w", err)
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}

func (t Template) check() error {
	switch {
	case len(t.Columns) == 0:
		return errors.New("spreadsheet: template has no columns")
	case len(t.Columns) > excelize.MaxColumns:
		return errors.New("spreadsheet: template has too many columns")
	case len(t.Example) > len(t.Columns):
		return errors.New("spreadsheet: template example is longer than its header")
	case strings.EqualFold(t.Sheet, instructionsSheet), strings.EqualFold(t.Sheet, listsSheet):
		return fmt.Errorf("spreadsheet: template sheet name %q is taken", t.Sheet)
	}
	for i, c := range t.Columns {
		if strings.TrimSpace(c.Name) == "" {
			return fmt.Errorf("spreadsheet: template column %d has no name", i+1)
		}
	}
	return nil
}

func writeDataSheet(f *excelize.File, t Template) error {
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{NumFmt: 49, Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	last, _ := excelize.ColumnNumberToName(len(t.Columns))
	if err := f.SetColStyle(t.Sheet, "A:"+last, text); err != nil {
		return err
	}
	for i, c := range t.Columns {
		col, _ := excelize.ColumnNumberToName(i + 1)
		width := utf8.RuneCountInString(c.Name)
		if i < len(t.Example) {
			width = max(width, utf8.RuneCountInString(t.Example[i]))
		}
		for _, ch := range c.Choices {
			width = max(width, utf8.RuneCountInString(ch))
		}
		if err := f.SetColWidth(t.Sheet, col, col, float64(min(max(width+2, minWidth), maxWidth))); err != nil {
			return err
		}
		if err := f.SetCellStr(t.Sheet, col+"1", c.Name); err != nil {
			return err
		}
		if i < len(t.Example) {
			if err := f.SetCellStr(t.Sheet, fmt.Sprintf("%s2", col), t.Example[i]); err != nil {
				return err
			}
		}
	}
	if err := f.SetCellStyle(t.Sheet, "A1", last+"1", bold); err != nil {
		return err
	}
	return f.SetPanes(t.Sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
}

// writeLists puts each column's choices in a column of the hidden "Lists" sheet
// and gives the data column a drop-down list referring to them.
func writeLists(f *excelize.File, t Template) error {
	n := 0
	for i, c := range t.Columns {
		if len(c.Choices) == 0 {
			continue
		}
		if n == 0 {
			if _, err := f.NewSheet(listsSheet); err != nil {
				return err
			}
		}
		n++
		lc, _ := excelize.ColumnNumberToName(n)
		for j, ch := range c.Choices {
			if err := f.SetCellStr(listsSheet, fmt.Sprintf("%s%d", lc, j+1), ch); err != nil {
				return err
			}
		}
		col, _ := excelize.ColumnNumberToName(i + 1)
		dv := excelize.NewDataValidation(true)
		dv.Sqref = fmt.Sprintf("%s2:%s%d", col, col, templateRows+1)
		dv.SetSqrefDropList(fmt.Sprintf("%s!$%s$1:$%s$%d", listsSheet, lc, lc, len(c.Choices)))
		if c.Strict {
			dv.SetError(excelize.DataValidationErrorStyleStop, c.Name, "Choose one of the values in the list.")
		}
		if err := f.AddDataValidation(t.Sheet, dv); err != nil {
			return err
		}
	}
	if n == 0 {
		return nil
	}
	return f.SetSheetVisible(listsSheet, false)
}

// writeInstructions writes the paragraphs, each across the table's width, then the
// table of columns.
func writeInstructions(f *excelize.File, t Template) error {
	const sh = instructionsSheet
	if _, err := f.NewSheet(sh); err != nil {
		return err
	}
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	widths := []float64{28, 10, 70, 40}
	for i, w := range widths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(sh, col, col, w); err != nil {
			return err
		}
	}
	row := 0
	for _, p := range t.Instructions {
		row++
		a, d := fmt.Sprintf("A%d", row), fmt.Sprintf("D%d", row)
		if err := f.SetCellStr(sh, a, p); err != nil {
			return err
		}
		if err := f.MergeCell(sh, a, d); err != nil {
			return err
		}
		if err := f.SetCellStyle(sh, a, d, wrap); err != nil {
			return err
		}
		// Excel does not fit the height of merged cells to their text: estimate it
		// from the merged width (about 140 characters).
		lines := utf8.RuneCountInString(p)/140 + 1 + strings.Count(p, "\n")
		if err := f.SetRowHeight(sh, row, float64(min(lines, 25)*15)); err != nil {
			return err
		}
	}
	if row > 0 {
		row++ // a blank row before the table
	}
	row++
	header := []any{"Column", "Required", "Notes", "Allowed values"}
	if err := f.SetSheetRow(sh, fmt.Sprintf("A%d", row), &header); err != nil {
		return err
	}
	if err := f.SetCellStyle(sh, fmt.Sprintf("A%d", row), fmt.Sprintf("D%d", row), bold); err != nil {
		return err
	}
	for _, c := range t.Columns {
		row++
		required := "no"
		if c.Required {
			required = "yes"
		}
		allowed := ""
		if len(c.Choices) > 0 {
			allowed = "Suggested: " + strings.Join(c.Choices, ", ")
			if c.Strict {
				allowed = "One of: " + strings.Join(c.Choices, ", ")
			}
		}
		for i, v := range []string{c.Name, required, c.Note, allowed} {
			col, _ := excelize.ColumnNumberToName(i + 1)
			if err := f.SetCellStr(sh, fmt.Sprintf("%s%d", col, row), v); err != nil {
				return err
			}
		}
		if err := f.SetCellStyle(sh, fmt.Sprintf("A%d", row), fmt.Sprintf("D%d", row), wrap); err != nil {
			return err
		}
	}
	return nil
}
