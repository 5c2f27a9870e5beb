package account

import (
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on free-text input, so that a client cannot store megabytes in a name.
const (
	maxNameLen     = 100
	maxEmailLen    = 254
	maxUsernameLen = 64
	minPasswordLen = 8
	maxPasswordLen = 256 // bounds the work an argon2 hash does on attacker input
)

// EmailKey is the form in which emails are compared and stored for uniqueness: the
// address trimmed and lower-cased (no Unicode normalisation: an address is stored as
// given). It is the one definition of that key: the store's email_key column, every
// use case's lookup, the importer's duplicate rows, the console's comparison of an
// invitation's address, the API's self-service rate limit, NoMailAddress and
// Undeliverable all go through it.
func EmailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// NormalizeEmail validates an address and returns it trimmed. It accepts only a bare
// address (no display name), with a dotted domain.
func NormalizeEmail(field, email string) (string, error) {
	email = strings.TrimSpace(email)
	switch {
	case email == "":
		return "", Invalid(field, "is required")
	case len(email) > maxEmailLen:
		return "", Invalid(field, fmt.Sprintf("must be at most %d characters", maxEmailLen))
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return "", Invalid(field, "is not a valid email address")
	}
	at := strings.LastIndexByte(email, '@')
	domain := email[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.ContainsAny(email, " \t\r\n") {
		return "", Invalid(field, "is not a valid email address")
	}
	return email, nil
}

// NormalizePhone returns the number in E.164 (+ and 8 to 15 digits, no leading zero
// country code). Spaces, dots, dashes, slashes and parentheses are ignored, and a
// leading international 00 is read as +. A number without a country code is refused:
// Roster serves many countries and cannot guess one.
func NormalizePhone(field, phone string) (string, error) {
	phone = strings.TrimSpace(phone)
	if phone == "" {
		return "", nil
	}
	var b strings.Builder
	for i, r := range phone {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case strings.ContainsRune(" .-/()\u00a0", r):
		default:
			return "", Invalid(field, "may contain only digits, spaces, dashes, dots, parentheses and a leading +")
		}
	}
	n := b.String()
	if strings.HasPrefix(n, "00") {
		n = "+" + n[2:]
	}
	if !strings.HasPrefix(n, "+") {
		return "", Invalid(field, "must start with + and a country code, e.g. +49 30 1234567")
	}
	digits := n[1:]
	if len(digits) < 8 || len(digits) > 15 || digits[0] == '0' {
		return "", Invalid(field, "is not a valid international number (E.164: + and 8 to 15 digits)")
	}
	return n, nil
}

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// NormalizeUsername validates an optional username: letters, digits, dot, dash and
// underscore, starting with a letter or digit.
func NormalizeUsername(field, username string) (string, error) {
	username = strings.TrimSpace(username)
	if username == "" {
		return "", nil
	}
	if len(username) > maxUsernameLen {
		return "", Invalid(field, fmt.Sprintf("must be at most %d characters", maxUsernameLen))
	}
	if !usernameRE.MatchString(username) {
		return "", Invalid(field, "may contain only letters, digits, '.', '-' and '_', and must start with a letter or digit")
	}
	return username, nil
}

// NormalizeName trims a person's or an object's name and checks its length and that it
// holds no control characters. required says whether empty is an error.
func NormalizeName(field, name string, required bool) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		if required {
			return "", Invalid(field, "is required")
		}
		return "", nil
	}
	if utf8.RuneCountInString(name) > maxNameLen {
		return "", Invalid(field, fmt.Sprintf("must be at most %d characters", maxNameLen))
	}
	if !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", Invalid(field, "must not contain control characters")
	}
	return name, nil
}

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// NormalizeSlug validates an organization slug: lower-case letters, digits and inner
// dashes, at most 63 characters. A slug that could be mistaken for an id is refused,
// since {org} in paths accepts either.
func NormalizeSlug(field, slug string) (string, error) {
	slug = strings.TrimSpace(slug)
	if slug == "" {
		return "", Invalid(field, "is required")
	}
	if !slugRE.MatchString(slug) {
		return "", Invalid(field, "must be 1 to 63 lower-case letters, digits or inner dashes")
	}
	if looksLikeID(slug) {
		return "", Invalid(field, "must not have the form of an id")
	}
	return slug, nil
}

// CheckPassword applies the password policy.
func CheckPassword(field, password string) error {
	switch {
	case password == "":
		return Invalid(field, "is required")
	case utf8.RuneCountInString(password) < minPasswordLen:
		return Invalid(field, fmt.Sprintf("must be at least %d characters", minPasswordLen))
	case len(password) > maxPasswordLen:
		return Invalid(field, fmt.Sprintf("must be at most %d bytes", maxPasswordLen))
	}
	return nil
}

func fieldIndex(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

func quote(s string) string { return strconv.Quote(s) }

// collect runs field normalisations and gathers every failure into one error.
func collect(errs ...error) error {
	var v Validation
	for _, err := range errs {
		if err == nil {
			continue
		}
		if e, ok := AsError(err); ok && e.Code == EINVALID {
			v.fields = append(v.fields, e.Fields...)
			continue
		}
		return err
	}
	return v.Err()
}
func itoa(n int) string { return strconv.Itoa(n) }
