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
// memory beyond one row; sheetAhead runs it beside excelize, on another core.
type sheetScanner struct {
	rc      io.ReadCloser
	dec     *xml.Decoder
	row     int        // number of the last row started; 0 before the first
	whole   int        // number of the last row read to its end
	cells   []rawCell  // cells of that row by column-1, up to maxCols
	touched int        // cells[:touched] may hold values to clear before reuse
	open    []xml.Name // elements open, outermost first
	done    bool       // </sheetData> or the end of the part has been reached
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

func (s *sheetScanner) close() error {
	if s == nil || s.rc == nil {
		return nil
	}
	err := s.rc.Close()
	s.rc = nil
	return err
}

// token is the next XML token; at the end or on an error it marks the scanner
// done (recording the error) and returns nil. It finds every error Decoder.Token
// (which excelize's iterator takes) finds, at less cost: RawToken, which checks the
// syntax but neither matches end tags with start tags nor translates name spaces,
// and the matching done here on the elements open.
func (s *sheetScanner) token() xml.Token {
	tok, err := s.dec.RawToken()
	switch t := tok.(type) {
	case xml.StartElement:
		if len(s.open) >= maxDepth {
			err = errors.New("elements nested too deeply")
		}
		s.open = append(s.open, t.Name)
	case xml.EndElement:
		if n := len(s.open); n == 0 || s.open[n-1] != t.Name {
			err = fmt.Errorf("unexpected end element </%s>", qualified(t.Name))
		} else {
			s.open = s.open[:n-1]
		}
	}
	if errors.Is(err, io.EOF) && len(s.open) > 0 {
		err = io.ErrUnexpectedEOF
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

func qualified(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// readRow reads the next row element and its cells, and reports whether it read
// one to its end.
func (s *sheetScanner) readRow() bool {
	for {
		switch t := s.token().(type) {
		case nil:
			return false
		case xml.EndElement:
			if t.Name.Local == "sheetData" {
				s.done = true
				return false
			}
		case xml.StartElement:
			if t.Name.Local == "row" {
				n, err := strconv.Atoi(attr(t, "r"))
				if err != nil || n == 0 {
					n = s.row + 1
				}
				s.row = n
				return s.readCells()
			}
		}
	}
}

// readCells reads the cells of the row element just started, up to its end, and
// reports whether it got there.
func (s *sheetScanner) readCells() bool {
	clear(s.cells[:s.touched])
	s.touched = 0
	col := 0
	var cur *rawCell
	for {
		switch t := s.token().(type) {
		case nil:
			return false
		case xml.StartElement:
			switch t.Name.Local {
			case "c":
				col++
				if c, ok := columnOf(attr(t, "r")); ok {
					col = c
				}
				cur = nil
				if col <= len(s.cells) {
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
				return true
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
