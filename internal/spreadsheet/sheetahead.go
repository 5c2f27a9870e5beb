package spreadsheet

import (
	"archive/zip"
	"fmt"
	"slices"
)

// sheetAhead runs a sheetScanner in a goroutine of its own, so that the second XML
// pass costs the reader little time on a machine with a core to spare: the scanner
// reads ahead of excelize, at most aheadBatches batches of aheadRows rows, and
// hands over each row it has read to its end that has cells. The reader moves
// forward only: each non-empty row excelize gives is returned once the scanner has
// read it to its end (or read past it), and the scanner's error comes after the
// rows before it, as the reader reaches it (see drain for the end).
type sheetAhead struct {
	batches chan scanBatch
	stop    chan struct{} // closed by close: the goroutine stops
	exited  chan struct{} // closed by the goroutine as it returns
	scan    *sheetScanner

	pending []scannedRow // the batch being consumed
	loaded  scannedRow   // the row advanceTo found
	end     bool         // the last batch was received
	err     error        // the scanner's error, with the last batch
}

const (
	aheadRows    = 256
	aheadBatches = 4
)

// scannedRow is one row the scanner read to its end, with its cells (up to the
// limit of columns) by column-1.
type scannedRow struct {
	number int
	cells  []rawCell
}

type scanBatch struct {
	rows []scannedRow
	end  bool // the scanner is done; err is its error, if any
	err  error
}

func newSheetAhead(part *zip.File, maxCols int) (*sheetAhead, error) {
	scan, err := newSheetScanner(part, maxCols)
	if err != nil {
		return nil, err
	}
	a := &sheetAhead{batches: make(chan scanBatch, aheadBatches), stop: make(chan struct{}), exited: make(chan struct{}), scan: scan}
	go a.run()
	return a, nil
}

// run scans the sheet, sending its rows in batches and the error (or none) last.
func (a *sheetAhead) run() {
	defer close(a.exited)
	send := func(b scanBatch) bool {
		select {
		case a.batches <- b:
			return true
		case <-a.stop:
			return false
		}
	}
	rows := make([]scannedRow, 0, aheadRows)
	defer func() {
		if p := recover(); p != nil { // as excelize's are, though encoding/xml has none to give
			send(scanBatch{end: true, err: unreadable("a damaged workbook", fmt.Errorf("the worksheet's scanner panicked: %v", p))})
		}
	}()
	s := a.scan
	for !s.done {
		select {
		case <-a.stop: // even amid rows without cells, which send nothing
			return
		default:
		}
		if !s.readRow() || s.touched == 0 {
			continue
		}
		rows = append(rows, scannedRow{number: s.row, cells: slices.Clone(s.cells[:s.touched])})
		if len(rows) == aheadRows {
			if !send(scanBatch{rows: rows}) {
				return
			}
			rows = make([]scannedRow, 0, aheadRows)
		}
	}
	send(scanBatch{rows: rows, end: true, err: s.err})
}

// advanceTo waits until the scanner has read row n to its end, or past it, and
// reports whether row n is loaded (see cell). Rows are numbered as excelize
// numbers them: by their r attribute, else one past the previous row.
func (a *sheetAhead) advanceTo(n int) (bool, error) {
	for {
		for len(a.pending) > 0 {
			r := a.pending[0]
			if r.number > n { // past row n, which had no cells
				return false, nil
			}
			a.pending = a.pending[1:]
			if r.number == n {
				a.loaded = r
				return true, nil
			}
		}
		if a.end {
			return false, a.err
		}
		a.receive()
	}
}

// receive takes the scanner's next batch (the channel is never closed: the last
// batch says end).
func (a *sheetAhead) receive() {
	b := <-a.batches
	if b.end {
		a.end, a.err = true, b.err
	}
	a.pending = b.rows
}

// cell returns the stored cell at a 1-based column of the loaded row.
func (a *sheetAhead) cell(col int) rawCell {
	if col < 1 || col > len(a.loaded.cells) {
		return rawCell{}
	}
	return a.loaded.cells[col-1]
}

// drain waits for the scanner to reach the end of the sheet data and returns the
// first XML or zip error met on the way, as an *Error of Kind Unreadable.
func (a *sheetAhead) drain() error {
	for !a.end {
		a.receive()
	}
	a.pending = nil
	return a.err
}

// close stops the scanner and closes the part it reads.
func (a *sheetAhead) close() error {
	if a == nil || a.scan == nil {
		return nil
	}
	close(a.stop)
	<-a.exited
	err := a.scan.close()
	a.scan = nil
	return err
}
