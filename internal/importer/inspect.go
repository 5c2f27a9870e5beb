// Package importer reads uploaded people files into the domain's import rows, runs
// import jobs in the background (resuming them after a restart), and writes the
// import template, the error report and member exports as spreadsheets.
package importer

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strconv"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/spreadsheet"
)

// DefaultMaxBytes is the largest upload accepted unless configured otherwise.
const DefaultMaxBytes = 20 << 20

// Prepared is an upload read to its end and rewritten in the runner's own form.
type Prepared struct {
	Format string // of the upload: "xlsx" or "csv"
	Total  int    // data rows (not the header, not empty rows)
	// Stored is what the import keeps and the runner reads: a CSV whose records are
	// the spreadsheet row number, the row's cell problems as JSON ("" when none) and
	// the row's cells, header first. Reading it back costs a fraction of parsing a
	// workbook again, and it is the same whatever the upload's format.
	Stored []byte
}

// Prepare reads an upload to its end before anything is applied: its format (by
// content), its header and its rows. A file that is not a readable workbook or CSV,
// or whose header lacks an email column or names one twice, is EINVALID naming
// "file", and so is a zip bomb.
func Prepare(content []byte, limits spreadsheet.Limits) (Prepared, error) {
	if len(content) == 0 {
		return Prepared{}, account.Invalid("file", "is empty")
	}
	f, err := spreadsheet.Detect(content[:min(len(content), 512)])
	if err != nil {
		return Prepared{}, fileError(err)
	}
	rd, err := spreadsheet.Open(bytes.NewReader(content), int64(len(content)), f, limits)
	if err != nil {
		return Prepared{}, fileError(err)
	}
	defer rd.Close()
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	p := Prepared{Format: string(f)}
	for first := true; ; first = false {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			if first {
				return Prepared{}, account.Invalid("file", "has no rows: the first row must name the columns")
			}
			break
		}
		if err != nil {
			return Prepared{}, fileError(err)
		}
		if first {
			if _, err := account.ParseImportHeader(row.Cells); err != nil {
				return Prepared{}, err
			}
		} else {
			p.Total++
		}
		if f == spreadsheet.CSV {
			unquoteFormulas(row.Cells)
		}
		problems := ""
		if len(row.Problems) > 0 {
			b, err := json.Marshal(row.Problems)
			if err != nil {
				return Prepared{}, err
			}
			problems = string(b)
		}
		if err := w.Write(append([]string{strconv.Itoa(row.Number), problems}, row.Cells...)); err != nil {
			return Prepared{}, err
		}
	}
	w.Flush()
	p.Stored = out.Bytes()
	return p, w.Error()
}

// stored reads a Prepared file back.
type stored struct {
	r *csv.Reader
}

// openStored opens a prepared file and reads its header.
func openStored(content []byte) (*stored, []string, error) {
	r := csv.NewReader(bytes.NewReader(content))
	r.FieldsPerRecord, r.ReuseRecord = -1, true
	s := &stored{r: r}
	header, err := s.next()
	if err != nil {
		return nil, nil, err
	}
	return s, append([]string(nil), header.Cells...), nil
}

// next returns the next row (io.EOF at the end). Its cells are reused by the next call.
func (s *stored) next() (spreadsheet.Row, error) {
	rec, err := s.r.Read()
	if err != nil {
		return spreadsheet.Row{}, err
	}
	if len(rec) < 2 {
		return spreadsheet.Row{}, errors.New("importer: a stored record lacks its row number")
	}
	n, err := strconv.Atoi(rec[0])
	if err != nil {
		return spreadsheet.Row{}, err
	}
	row := spreadsheet.Row{Number: n, Cells: rec[2:]}
	if rec[1] != "" {
		if err := json.Unmarshal([]byte(rec[1]), &row.Problems); err != nil {
			return row, err
		}
	}
	return row, nil
}

// fileError turns a reader's error into the domain's: EINVALID naming "file", for
// a file that cannot be read as for one that would unpack to more than the limits
// (a zip bomb): the upload itself is within its size limit, its content is wrong.
func fileError(err error) error {
	var se *spreadsheet.Error
	if errors.As(err, &se) {
		return account.Invalid("file", se.Message)
	}
	return account.Invalid("file", "could not be read: "+err.Error())
}

// problems maps a row's cell problems by position.
func problems(row spreadsheet.Row) map[int]string {
	if len(row.Problems) == 0 {
		return nil
	}
	m := make(map[int]string, len(row.Problems))
	for _, p := range row.Problems {
		m[p.Column] = p.Message
	}
	return m
}
