// Package wellformed finds text in a request that Roster refuses whatever the field: a
// NUL character or bytes that are not UTF-8. PostgreSQL cannot store a NUL in text
// and refuses invalid UTF-8, and encoding/json would silently turn invalid UTF-8 into
// U+FFFD; so every surface (the API, the console, SCIM) runs these checks at its edge
// and answers 4xx naming the field, before anything reaches a use case.
package wellformed

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"roster.dev/roster/internal/account"
)

// Fault is the first malformed piece of text found: the field as the API names it
// ("email", "teams[0]", "q", a path parameter's name) and what is wrong.
type Fault struct {
	Field   string
	Message string
}

// Path checks the request's path against the pattern that matched it
// ("GET /api/v1/organizations/{org}/members/{member}"), naming the wildcard of a bad
// segment; with no pattern (or a bad segment outside a wildcard), the field is "path".
func Path(r *http.Request, pattern string) *Fault {
	path := r.URL.Path
	if account.TextProblem(path) == "" {
		return nil
	}
	if _, p, ok := strings.Cut(pattern, " "); ok {
		pattern = p
	}
	pat := strings.Split(strings.Trim(pattern, "/"), "/")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, seg := range segs {
		msg := account.TextProblem(seg)
		if msg == "" {
			continue
		}
		field := "path"
		if i < len(pat) && strings.HasPrefix(pat[i], "{") {
			field = strings.TrimSuffix(strings.TrimSuffix(strings.Trim(pat[i], "{}"), "..."), "$")
		}
		return &Fault{Field: field, Message: msg}
	}
	return &Fault{Field: "path", Message: account.TextProblem(path)}
}

// Query checks every query parameter's name and values; the field is the name.
func Query(r *http.Request) *Fault {
	raw := r.URL.RawQuery
	if raw == "" {
		return nil
	}
	// The common case costs no parsing: printable ASCII without escapes decodes to
	// itself.
	plain := true
	for i := 0; i < len(raw) && plain; i++ {
		plain = raw[i] > 0x20 && raw[i] < 0x7f && raw[i] != '%'
	}
	if plain {
		return nil
	}
	return Values(r.URL.Query())
}

// Values checks decoded form or query values, in a stable order.
func Values(v url.Values) *Fault {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if msg := account.TextProblem(k); msg != "" {
			return &Fault{Field: "query", Message: "a parameter's name " + msg}
		}
		for _, s := range v[k] {
			if msg := account.TextProblem(s); msg != "" {
				return &Fault{Field: k, Message: msg}
			}
		}
	}
	return nil
}

// IsJSON says whether a Content-Type is JSON (application/json, application/*+json).
func IsJSON(contentType string) bool {
	ct, _, _ := strings.Cut(contentType, ";")
	ct = strings.ToLower(strings.TrimSpace(ct))
	return ct == "application/json" || strings.HasPrefix(ct, "application/") && strings.HasSuffix(ct, "+json")
}

// JSON checks every string (keys and values, at any depth) of a JSON document for a
// NUL (raw or escaped as \u0000), invalid UTF-8 and lone surrogate escapes, which
// encoding/json would turn into U+FFFD. Fields are named as the API names them:
// "email", "user.name", "teams[0]". A document that is not JSON is left to the
// decoder, which answers 400 for it.
func JSON(b []byte) *Fault {
	w := walker{b: b}
	w.value("")
	return w.fault
}

type walker struct {
	b     []byte
	i     int
	fault *Fault
	bad   bool // not JSON: stop, the decoder will say so
}

func (w *walker) stop() bool { return w.fault != nil || w.bad }

func (w *walker) space() {
	for w.i < len(w.b) && (w.b[w.i] == ' ' || w.b[w.i] == '\t' || w.b[w.i] == '\n' || w.b[w.i] == '\r') {
		w.i++
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// end reads what follows an object's member or an array's element: close ends the
// container (true), a comma comes before the next item (false); anything else, or
// the end of the input, is malformed (true, with w.bad).
func (w *walker) end(close byte) bool {
	w.space()
	if w.stop() || w.i >= len(w.b) {
		w.bad = w.bad || w.i >= len(w.b)
		return true
	}
	switch w.b[w.i] {
	case close:
		w.i++
		return true
	case ',':
		w.i++
		return false
	}
	w.bad = true
	return true
}

func (w *walker) value(path string) {
	w.space()
	if w.i >= len(w.b) {
		w.bad = true
		return
	}
	switch w.b[w.i] {
	case '{':
		w.i++
		w.space()
		if w.i < len(w.b) && w.b[w.i] == '}' {
			w.i++
			return
		}
		for !w.stop() {
			w.space()
			if w.i >= len(w.b) || w.b[w.i] != '"' {
				w.bad = true
				return
			}
			key, msg := w.str()
			if w.stop() {
				return
			}
			field := join(path, key)
			if msg != "" {
				if path == "" {
					field = "body"
				} else {
					field = path
				}
				w.fault = &Fault{Field: field, Message: "a property's name " + msg}
				return
			}
			w.space()
			if w.i >= len(w.b) || w.b[w.i] != ':' {
				w.bad = true
				return
			}
			w.i++
			w.value(field)
			if w.end('}') {
				return
			}
		}
	case '[':
		w.i++
		w.space()
		if w.i < len(w.b) && w.b[w.i] == ']' {
			w.i++
			return
		}
		for n := 0; !w.stop(); n++ {
			w.value(path + "[" + strconv.Itoa(n) + "]")
			if w.end(']') {
				return
			}
		}
	case '"':
		_, msg := w.str()
		if msg != "" && !w.bad {
			if path == "" {
				path = "body"
			}
			w.fault = &Fault{Field: path, Message: msg}
		}
	default:
		// A number, true, false or null: skip to the next delimiter.
		for w.i < len(w.b) && !strings.ContainsRune(",]} \t\r\n", rune(w.b[w.i])) {
			if w.b[w.i] < 0x20 || w.b[w.i] >= 0x80 || w.b[w.i] == '"' {
				w.bad = true
				return
			}
			w.i++
		}
	}
}

// str reads the string at w.i (an opening quote) and returns its text (escapes left
// as they are: only object keys use it, for naming) and what is wrong with it.
func (w *walker) str() (string, string) {
	w.i++
	start := w.i
	msg := ""
	for w.i < len(w.b) {
		c := w.b[w.i]
		switch {
		case c == '"':
			s := string(w.b[start:w.i])
			w.i++
			return s, msg
		case c == '\\':
			if w.i+1 >= len(w.b) {
				w.bad = true
				return "", ""
			}
			if w.b[w.i+1] != 'u' {
				w.i += 2
				continue
			}
			r, ok := hex4(w.b, w.i+2)
			if !ok {
				w.bad = true
				return "", ""
			}
			w.i += 6
			switch {
			case r == 0:
				msg = first(msg, "must not contain a NUL character")
			case r >= 0xd800 && r < 0xdc00:
				lo, ok := rune(0), false
				if w.i+1 < len(w.b) && w.b[w.i] == '\\' && w.b[w.i+1] == 'u' {
					lo, ok = hex4(w.b, w.i+2)
				}
				if ok && lo >= 0xdc00 && lo < 0xe000 {
					w.i += 6
				} else {
					msg = first(msg, "must be valid UTF-8 (it holds a lone surrogate)")
				}
			case r >= 0xdc00 && r < 0xe000:
				msg = first(msg, "must be valid UTF-8 (it holds a lone surrogate)")
			}
		case c == 0:
			msg = first(msg, "must not contain a NUL character")
			w.i++
		case c < 0x80:
			w.i++
		default:
			r, size := utf8.DecodeRune(w.b[w.i:])
			if r == utf8.RuneError && size <= 1 {
				msg = first(msg, "must be valid UTF-8")
				w.i++
				continue
			}
			w.i += size
		}
	}
	w.bad = true
	return "", ""
}

func first(had, msg string) string {
	if had != "" {
		return had
	}
	return msg
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[at:at+4]), 16, 32)
	return rune(n), err == nil
}
