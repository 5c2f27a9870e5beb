package spreadsheet

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// sheetScanner reads the worksheet's XML a second time, alongside excelize's row
// iterator, for two things that iterator does not give:
//
//   - the XML errors: excelize's iterator takes a malformed or truncated sheet for
//     its end, so a damaged file would import only its first rows, silently;
//   - each cell's stored type and value, to read a whole number as plain digits
//     whatever number format it is shown with (a phone number typed as a number).
//
// It reads the zip entry itself, streaming, so it costs one more XML pass but no
// memory beyond one row. It moves forward only, a row behind excelize: each
// non-empty row is checked to its end before it is returned, and the empty rows
// between are skipped over (see drain for the end).
type sheetScanner struct {
	rc      io.ReadCloser
	dec     *xml.Decoder
	row     int       // number of the last row started; 0 before the first
	whole   int       // number of the last row read to its end
	cells   []rawCell // cells of that row by column-1, up to maxCols
	touched int       // cells[:touched] may hold values to clear before reuse
	depth   int       // elements open
	done    bool      // </sheetData> or the end of the part has been reached
	err     error
}

// maxDepth bounds the nesting of elements, since the decoder keeps a stack of
// them: a worksheet needs seven (worksheet, sheetData, row, c, is, r, t).
const maxDepth = 100

type rawCell struct {
	set         bool
	typ, value  string // the cell's t attribute and <v> text
	inValueElem bool
}

func newSheetScanner(part *zip.File, maxCols int) (*sheetScanner, error) {
	rc, err := part.Open()
	if err != nil {
		return nil, unreadable("a damaged workbook", err)
	}
	return &sheetScanner{rc: rc, dec: xml.NewDecoder(rc), cells: make([]rawCell, maxCols)}, nil
}

// advanceTo reads up to the end of row n and reports whether that row is loaded.
// Rows are numbered as excelize numbers them: by their r attribute, else one past
// the previous row.
func (s *sheetScanner) advanceTo(n int) (bool, error) {
	for !s.done && s.row < n {
		s.readRow(n)
	}
	return s.whole == n && s.err == nil, s.err
}

// cell returns the stored cell at a 1-based column of the loaded row.
func (s *sheetScanner) cell(col int) rawCell {
	if col < 1 || col > len(s.cells) {
		return rawCell{}
	}
	return s.cells[col-1]
}

// drain reads to the end of the sheet data and returns the first XML or zip error
// met on the way, as an *Error of Kind Unreadable.
func (s *sheetScanner) drain() error {
	for !s.done {
		s.readRow(-1)
	}
	return s.err
}

func (s *sheetScanner) close() error {
	if s == nil || s.rc == nil {
		return nil
	}
	err := s.rc.Close()
	s.rc = nil
	return err
}

// token is the next XML token; at the end or on an error it marks the scanner
// done (recording the error) and returns nil. It takes Decoder.Token, as excelize
// does, so that both find the same errors.
func (s *sheetScanner) token() xml.Token {
	tok, err := s.dec.Token()
	switch tok.(type) {
	case xml.StartElement:
		if s.depth++; s.depth > maxDepth {
			err = errors.New("elements nested too deeply")
		}
	case xml.EndElement:
		s.depth--
	}
	if err != nil {
		s.done = true
		if !errors.Is(err, io.EOF) {
			s.err = unreadable(fmt.Sprintf("a damaged workbook: its first worksheet breaks off after row %d", s.whole), err)
		}
		return nil
	}
	return tok
}

// readRow reads the next row element, keeping its cells if its number is at least
// keepFrom (-1: keep none).
func (s *sheetScanner) readRow(keepFrom int) {
	for {
		switch t := s.token().(type) {
		case nil:
			return
		case xml.EndElement:
			if t.Name.Local == "sheetData" {
				s.done = true
				return
			}
		case xml.StartElement:
			if t.Name.Local == "row" {
				n, err := strconv.Atoi(attr(t, "r"))
				if err != nil || n == 0 {
					n = s.row + 1
				}
				s.row = n
				s.readCells(keepFrom >= 0 && n >= keepFrom)
				return
			}
		}
	}
}

// readCells reads the cells of the row element just started, up to its end.
func (s *sheetScanner) readCells(keep bool) {
	clear(s.cells[:s.touched])
	s.touched = 0
	col := 0
	var cur *rawCell
	for {
		switch t := s.token().(type) {
		case nil:
			return
		case xml.StartElement:
			switch t.Name.Local {
			case "c":
				col++
				if c, ok := columnOf(attr(t, "r")); ok {
					col = c
				}
				cur = nil
				if keep && col <= len(s.cells) {
					cur = &s.cells[col-1]
					*cur = rawCell{set: true, typ: attr(t, "t")}
					s.touched = max(s.touched, col)
				}
			case "v":
				if cur != nil {
					cur.inValueElem, cur.value = true, ""
				}
			}
		case xml.CharData:
			if cur != nil && cur.inValueElem {
				cur.value += string(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v":
				if cur != nil {
					cur.inValueElem = false
				}
			case "c":
				cur = nil
			case "row":
				s.whole = s.row
				return
			}
		}
	}
}

// columnOf is the 1-based column of a cell reference such as "AB12"; ok is false
// for anything else.
func columnOf(ref string) (int, bool) {
	col, i := 0, 0
	for ; i < len(ref) && i < 4; i++ {
		c := ref[i] | 0x20 // lower case
		if c < 'a' || c > 'z' {
			break
		}
		col = col*26 + int(c-'a') + 1
	}
	if i == 0 || i == len(ref) || ref[i] < '0' || ref[i] > '9' {
		return 0, false
	}
	return col, true
}
