package spreadsheet

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// sniffLen is how much of a CSV file is looked at to choose its delimiter; the
// header row is far shorter.
const sniffLen = 64 << 10

// csvSource reads a CSV file with encoding/csv, leniently: Excel and the tools
// people export from write quotes loosely and rows of differing lengths.
type csvSource struct {
	r       *csv.Reader
	number  int // the row number Excel would show for the last record
	endLine int // the line the last record ended on
}

func openCSV(r io.ReaderAt, size int64) (source, error) {
	br := bufio.NewReaderSize(io.NewSectionReader(r, 0, size), sniffLen)
	if bom, _ := br.Peek(len(utf8BOM)); string(bom) == utf8BOM {
		_, _ = br.Discard(len(utf8BOM))
	}
	head, _ := br.Peek(sniffLen) // less at the end of a short file, which is fine
	cr := csv.NewReader(br)
	cr.Comma = sniffDelimiter(head)
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return &csvSource{r: cr}, nil
}

// sniffDelimiter picks the delimiter of the first line: whichever of ',', ';' and
// tab occurs most outside quotes, ',' on a tie. Excel writes ';' in the many
// locales whose decimal separator is a comma, and tab for "Text" exports.
func sniffDelimiter(head []byte) rune {
	var commas, semicolons, tabs int
	quoted := false
scan:
	for _, b := range head {
		switch {
		case b == '"':
			quoted = !quoted
		case quoted:
		case b == '\n' || b == '\r':
			break scan
		case b == ',':
			commas++
		case b == ';':
			semicolons++
		case b == '\t':
			tabs++
		}
	}
	switch {
	case semicolons > commas && semicolons >= tabs:
		return ';'
	case tabs > commas && tabs > semicolons:
		return '\t'
	}
	return ','
}

func (s *csvSource) next() (int, []string, error) {
	rec, err := s.r.Read()
	if errors.Is(err, io.EOF) {
		return 0, nil, io.EOF
	}
	if err != nil {
		// With LazyQuotes and FieldsPerRecord -1, encoding/csv finds no syntax
		// errors: this is the ReaderAt failing.
		return 0, nil, unreadable(fmt.Sprintf("a damaged CSV file: it cannot be read after row %d", s.number), err)
	}
	// encoding/csv skips blank lines, which Excel shows as empty rows, and a quoted
	// field may span lines: count the blank lines between records to keep Excel's
	// numbering.
	start, _ := s.r.FieldPos(0)
	s.number += 1 + max(0, start-s.endLine-1)
	last := len(rec) - 1
	line, _ := s.r.FieldPos(last)
	s.endLine = line + strings.Count(rec[last], "\n")
	return s.number, rec, nil
}

func (s *csvSource) close() error { return nil }
