package account

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one HTTP status and problem slug in httpapi;
// the domain only says what went wrong, never how it is transported.
const (
	EINVALID         = "validation"              // 422
	EUNAUTHENTICATED = "unauthenticated"         // 401
	EFORBIDDEN       = "forbidden"               // 403
	ENOTFOUND        = "not-found"               // 404
	ECONFLICT        = "conflict"                // 409
	EDUPLICATEEMAIL  = "duplicate-email"         // 409
	EQUOTAEXCEEDED   = "quota-exceeded"          // 409
	EROLECEILING     = "role-ceiling"            // 403
	EINVALIDTOKEN    = "invalid-token"           // 400
	ETOKENEXPIRED    = "token-expired"           // 410
	ERATELIMITED     = "rate-limited"            // 429
	EPASSWORDRESET   = "password-reset-required" // 403
	ETOOLARGE        = "too-large"               // 413
	EUNAVAILABLE     = "unavailable"             // 503: the store cannot be reached; try again
	EINTERNAL        = "internal"                // 500
)

// FieldError names one invalid input field and why.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the domain's error: a machine-readable code, a human message and,
// for validation, the offending fields.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("%s: %s (%s: %s)", e.Code, e.Message, e.Fields[0].Field, e.Fields[0].Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a validation error naming one field.
func Invalid(field, message string) *Error {
	return &Error{Code: EINVALID, Message: "validation failed", Fields: []FieldError{{Field: field, Message: message}}}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, "" for no error,
// else EINTERNAL.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// AsError returns the *Error err is or wraps, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// ErrorMessage returns the human message of err if it is an *Error, else a generic text
// that leaks nothing about internals.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Validation collects field errors so that one answer names every bad field.
type Validation struct{ fields []FieldError }

// Add records a problem with field.
func (v *Validation) Add(field, message string) {
	v.fields = append(v.fields, FieldError{field, message})
}

// Err returns nil when nothing was added, else an EINVALID *Error naming the fields.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "validation failed", Fields: v.fields}
}

// wrap adds context to a non-domain error in one line at the top of a function:
//
//	defer wrap(&err, "AddMember(%s)", org)
//
// Domain errors pass through untouched, so their codes keep reaching the client.
func wrap(errp *error, format string, args ...any) {
	if *errp == nil {
		return
	}
	var e *Error
	if errors.As(*errp, &e) {
		return
	}
	*errp = fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), *errp)
}
