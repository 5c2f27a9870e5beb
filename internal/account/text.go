package account

import (
	"strings"
	"unicode/utf8"
)

// TextProblem says what is wrong with s as text Roster may store or search for: a NUL
// byte (which PostgreSQL cannot hold in text) or bytes that are not UTF-8. It returns
// "" for well-formed text.
func TextProblem(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "must not contain a NUL character"
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	return ""
}

// CheckText returns a validation error naming field when s is not well-formed text
// (see TextProblem), else nil. Every use case runs it on the free text it passes to
// the store (searches, filters, cursors, ids, messages) so that no channel can reach
// the store with a NUL or invalid UTF-8, whatever its edge checked.
func CheckText(field string, values ...string) error {
	for _, s := range values {
		if msg := TextProblem(s); msg != "" {
			return Invalid(field, msg)
		}
	}
	return nil
}
