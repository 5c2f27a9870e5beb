package spreadsheet

import "strconv"

// Kind classifies an *Error so that a caller can answer "this file cannot be read"
// apart from "this file is too large to read safely".
type Kind int

const (
	// Unreadable: the file is not an .xlsx workbook or a CSV file, or it is damaged.
	Unreadable Kind = iota + 1
	// TooLarge: the file unpacks to more than the limits allow (a zip bomb, or just
	// too much data).
	TooLarge
)

// String names the kind for logs.
func (k Kind) String() string {
	switch k {
	case Unreadable:
		return "unreadable"
	case TooLarge:
		return "too large"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is what Detect, Open and (*Reader).Next return when the file itself is at
// fault. Message is written for the person who uploaded the file, to follow
// "file: " ("not an .xlsx workbook or a CSV file"), and holds no library internals:
// those stay in the wrapped cause, for logs, reachable with errors.Unwrap.
type Error struct {
	Kind    Kind
	Message string

	cause error
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the underlying error (a zip, XML or CSV error), if any.
func (e *Error) Unwrap() error { return e.cause }

func unreadable(msg string, cause error) *Error {
	return &Error{Kind: Unreadable, Message: msg, cause: cause}
}

func tooLarge(msg string) *Error {
	return &Error{Kind: TooLarge, Message: msg}
}
