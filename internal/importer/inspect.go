// Package importer reads uploaded people files into the domain's import rows, runs
// import jobs in the background (resuming them after a restart), and writes the
// import template, the error report and member exports as spreadsheets.
package importer

import (
	"bytes"
	"errors"
	"io"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/spreadsheet"
)

// DefaultMaxBytes is the largest upload accepted unless configured otherwise.
const DefaultMaxBytes = 20 << 20

// Inspect reads an uploaded file to the end before anything is applied: its format
// (by content), its header and how many data rows it has. A file that is not a
// readable workbook or CSV, or whose header lacks an email column, is EINVALID
// naming "file"; a zip bomb is ETOOLARGE.
func Inspect(content []byte, limits spreadsheet.Limits) (format string, total int, err error) {
	rd, f, _, err := open(content, limits)
	if err != nil {
		return "", 0, err
	}
	defer rd.Close()
	for {
		_, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return string(f), total, nil
		}
		if err != nil {
			return "", 0, fileError(err)
		}
		total++
	}
}

// open detects the format, opens the file and reads its header row.
func open(content []byte, limits spreadsheet.Limits) (*spreadsheet.Reader, spreadsheet.Format, account.ImportHeader, error) {
	var h account.ImportHeader
	if len(content) == 0 {
		return nil, "", h, account.Invalid("file", "is empty")
	}
	f, err := spreadsheet.Detect(content[:min(len(content), 512)])
	if err != nil {
		return nil, "", h, fileError(err)
	}
	rd, err := spreadsheet.Open(bytes.NewReader(content), int64(len(content)), f, limits)
	if err != nil {
		return nil, "", h, fileError(err)
	}
	row, err := rd.Next()
	if errors.Is(err, io.EOF) {
		rd.Close()
		return nil, "", h, account.Invalid("file", "has no rows: the first row must name the columns")
	}
	if err != nil {
		rd.Close()
		return nil, "", h, fileError(err)
	}
	if h, err = account.ParseImportHeader(row.Cells); err != nil {
		rd.Close()
		return nil, "", h, err
	}
	return rd, f, h, nil
}

// fileError turns a reader's error into the domain's: unreadable → EINVALID naming
// "file", too large → ETOOLARGE.
func fileError(err error) error {
	var se *spreadsheet.Error
	if errors.As(err, &se) {
		if se.Kind == spreadsheet.TooLarge {
			return &account.Error{Code: account.ETOOLARGE, Message: se.Message}
		}
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
