package scim

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode"

	"roster.dev/roster/internal/account"
)

// maxFilterLen and maxFilterDepth bound what one filter may cost to parse.
const (
	maxFilterLen   = 4096
	maxFilterDepth = 32
)

// filterError is a filter the parser refuses: 400 invalidFilter.
type filterError struct{ msg string }

func (e *filterError) Error() string { return "invalid filter: " + e.msg }

// filter is a parsed SCIM filter (RFC 7644 §3.4.2.2): a logical node ("and", "or"
// with Left and Right; "not" with Left) or a comparison of Attr (a canonical name of
// userAttrs or groupAttrs, or a sub-attribute's name in a PATCH path) by Op ("eq",
// "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr") with Value: a string for
// text, a bool for boolAttr, a time.Time for timeAttr; none for "pr". A value filter
// (emails[type eq "work" and value eq "…"]) is Op "has" with Attr a name of
// userValueAttrs or groupValueAttrs and Left a filter over that attribute's
// sub-attributes: some value of Attr matches Left. Field is the domain's name of
// Attr (none in a PATCH path): query turns the filter into the account.Filter the
// store compiles.
type filter struct {
	Op          string
	Left, Right *filter
	Attr        string
	Field       account.Field
	Text        string
	Bool        bool
	Time        time.Time
}

// query returns f as the domain's filter.
func (f *filter) query() *account.Filter {
	if f == nil {
		return nil
	}
	return &account.Filter{Op: account.FilterOp(f.Op), Left: f.Left.query(), Right: f.Right.query(), Field: f.Field,
		Text: f.Text, Bool: f.Bool, Time: f.Time}
}

// resolver maps an attribute path as written to its canonical name and attribute.
type resolver func(path string) (string, filterAttr, bool)

// schemaResolver resolves against a table of canonical names (userAttrs or
// groupAttrs), case-insensitively, with or without the core schema's URN.
func schemaResolver(attrs map[string]filterAttr, core string) resolver {
	byKey := make(map[string]string, len(attrs))
	for name := range attrs {
		byKey[strings.ToLower(name)] = name
	}
	return func(path string) (string, filterAttr, bool) {
		key := strings.ToLower(path)
		if core != "" {
			key = strings.TrimPrefix(key, strings.ToLower(core)+":")
		}
		name, ok := byKey[key]
		if !ok {
			return "", filterAttr{}, false
		}
		return name, attrs[name], true
	}
}

// valueResolver maps a multi-valued attribute as written (emails) to its canonical
// name, its domain field and the resolver of its sub-attributes, for value filters.
type valueResolver func(path string) (string, account.Field, resolver, bool)

// valuesResolver resolves against userValueAttrs or groupValueAttrs.
func valuesResolver(attrs map[string]valueAttr, core string) valueResolver {
	byKey := make(map[string]string, len(attrs))
	for name := range attrs {
		byKey[strings.ToLower(name)] = name
	}
	return func(path string) (string, account.Field, resolver, bool) {
		key := strings.TrimPrefix(strings.ToLower(path), strings.ToLower(core)+":")
		name, ok := byKey[key]
		if !ok {
			return "", "", nil, false
		}
		return name, attrs[name].field, schemaResolver(attrs[name].subs, ""), true
	}
}

// anyText resolves every simple name as text: value filters of PATCH paths
// (emails[type eq "work"]), evaluated on a resource's own values.
func anyText(path string) (string, filterAttr, bool) {
	if path == "" || strings.ContainsAny(path, ".:") {
		return "", filterAttr{}, false
	}
	return strings.ToLower(path), filterAttr{kind: textAttr}, true
}

// parseFilter parses a SCIM filter (RFC 7644 §3.4.2.2): comparisons with eq, ne, co,
// sw, ew, gt, ge, lt, le and pr, joined by and, or, not and parentheses; keywords
// and attribute names in any case. Values are JSON strings, true, false, null,
// numbers, or (as Entra ID writes them) bare words.
//
// values, when not nil, allows value filters of multi-valued attributes (RFC 7644
// §3.4.2.2 valuePath): emails[type eq "work"], and, as Entra ID writes them,
// emails[type eq "work"].value eq "…" (some value of type work and that value).
func parseFilter(s string, resolve resolver, values ...valueResolver) (*filter, error) {
	if len(s) > maxFilterLen {
		return nil, &filterError{"longer than 4096 bytes"}
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, resolve: resolve}
	if len(values) > 0 {
		p.values = values[0]
	}
	f, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, &filterError{"unexpected " + strconv.Quote(p.toks[p.pos].text)}
	}
	return f, nil
}

type token struct {
	text   string
	quoted bool // a JSON string: text is its value
}

func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, token{text: string(c)})
			i++
		case c == '[' || c == ']':
			toks = append(toks, token{text: string(c)})
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, &filterError{"unterminated string"}
			}
			var v string
			if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
				return nil, &filterError{"bad string " + s[i:j+1]}
			}
			toks = append(toks, token{text: v, quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()[]\"", rune(s[j])) {
				j++
			}
			toks = append(toks, token{text: s[i:j]})
			i = j
		}
	}
	return toks, nil
}

type parser struct {
	toks    []token
	pos     int
	resolve resolver
	values  valueResolver // nil: no value filters
}

func (p *parser) peekWord(w string) bool {
	return p.pos < len(p.toks) && !p.toks[p.pos].quoted && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *parser) or(depth int) (*filter, error) {
	l, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.peekWord("or") {
		p.pos++
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l = &filter{Op: "or", Left: l, Right: r}
	}
	return l, nil
}

func (p *parser) and(depth int) (*filter, error) {
	l, err := p.factor(depth)
	if err != nil {
		return nil, err
	}
	for p.peekWord("and") {
		p.pos++
		r, err := p.factor(depth)
		if err != nil {
			return nil, err
		}
		l = &filter{Op: "and", Left: l, Right: r}
	}
	return l, nil
}

func (p *parser) factor(depth int) (*filter, error) {
	if depth > maxFilterDepth {
		return nil, &filterError{"nested too deeply"}
	}
	if p.pos >= len(p.toks) {
		return nil, &filterError{"unexpected end"}
	}
	if p.peekWord("not") {
		p.pos++
		f, err := p.factor(depth + 1)
		if err != nil {
			return nil, err
		}
		return &filter{Op: "not", Left: f}, nil
	}
	if p.peekWord("(") {
		p.pos++
		f, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if !p.peekWord(")") {
			return nil, &filterError{"missing )"}
		}
		p.pos++
		return f, nil
	}
	return p.comparison(depth)
}

// valuePath parses attr[filter], and attr[filter].sub op value, which means
// attr[filter and sub op value].
func (p *parser) valuePath(attr string, depth int) (*filter, error) {
	if p.values == nil {
		return nil, &filterError{"value filters are not supported here"}
	}
	name, field, sub, ok := p.values(attr)
	if !ok {
		return nil, &filterError{"unknown multi-valued attribute " + strconv.Quote(attr)}
	}
	outer := p.resolve
	values := p.values
	p.resolve, p.values = sub, nil // no value filter within a value filter
	defer func() { p.resolve, p.values = outer, values }()
	p.pos++ // [
	inner, err := p.or(depth + 1)
	if err != nil {
		return nil, err
	}
	if !p.peekWord("]") {
		return nil, &filterError{"missing ]"}
	}
	p.pos++
	if p.pos < len(p.toks) && !p.toks[p.pos].quoted && strings.HasPrefix(p.toks[p.pos].text, ".") {
		p.toks[p.pos].text = p.toks[p.pos].text[1:]
		c, err := p.comparison(depth + 1)
		if err != nil {
			return nil, err
		}
		inner = &filter{Op: "and", Left: inner, Right: c}
	}
	return &filter{Op: "has", Attr: name, Field: field, Left: inner}, nil
}

var operators = map[string]bool{"eq": true, "ne": true, "co": true, "sw": true, "ew": true,
	"gt": true, "ge": true, "lt": true, "le": true, "pr": true}

func (p *parser) comparison(depth int) (*filter, error) {
	at := p.toks[p.pos]
	if at.quoted || at.text == ")" || at.text == "[" || at.text == "]" {
		return nil, &filterError{"expected an attribute, found " + strconv.Quote(at.text)}
	}
	p.pos++
	if p.peekWord("[") {
		return p.valuePath(at.text, depth)
	}
	name, a, ok := p.resolve(at.text)
	if !ok {
		return nil, &filterError{"unknown attribute " + strconv.Quote(at.text)}
	}
	if p.pos >= len(p.toks) || p.toks[p.pos].quoted || !operators[strings.ToLower(p.toks[p.pos].text)] {
		return nil, &filterError{"expected an operator after " + at.text}
	}
	f := &filter{Op: strings.ToLower(p.toks[p.pos].text), Attr: name, Field: a.field}
	p.pos++
	if f.Op == "pr" {
		return f, nil
	}
	if p.pos >= len(p.toks) || (!p.toks[p.pos].quoted && strings.Contains("()[]", p.toks[p.pos].text)) {
		return nil, &filterError{"expected a value after " + f.Op}
	}
	v := p.toks[p.pos]
	p.pos++
	if !v.quoted && strings.EqualFold(v.text, "null") {
		switch f.Op {
		case "eq": // equal to null: absent
			return &filter{Op: "not", Left: &filter{Op: "pr", Attr: name, Field: a.field}}, nil
		case "ne":
			return &filter{Op: "pr", Attr: name, Field: a.field}, nil
		}
		return nil, &filterError{"null compares only with eq and ne"}
	}
	switch a.kind {
	case boolAttr:
		b, err := strconv.ParseBool(strings.ToLower(v.text))
		if err != nil {
			return nil, &filterError{at.text + " compares with true or false"}
		}
		f.Bool = b
	case timeAttr:
		t, err := time.Parse(time.RFC3339Nano, v.text)
		if err != nil {
			return nil, &filterError{at.text + " compares with an RFC 3339 time"}
		}
		f.Time = t.UTC()
	default:
		f.Text = v.text
	}
	if !validText(f.Text) {
		return nil, &filterError{"value holds control characters"}
	}
	if !a.kind.applies(f.Op) {
		return nil, &filterError{"operator " + f.Op + " does not apply to " + name}
	}
	return f, nil
}

func validText(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar })
}

// matches evaluates a value filter (parsed with anyText) on one value of a
// multi-valued attribute: what PATCH paths such as emails[type eq "work"] select.
func matches(f *filter, v map[string]any) bool {
	switch f.Op {
	case "and":
		return matches(f.Left, v) && matches(f.Right, v)
	case "or":
		return matches(f.Left, v) || matches(f.Right, v)
	case "not":
		return !matches(f.Left, v)
	}
	raw, ok := field(v, f.Attr)
	got := strings.ToLower(scalarText(raw))
	want := strings.ToLower(f.Text)
	switch f.Op {
	case "pr":
		return ok && got != ""
	case "eq":
		return got == want
	case "ne":
		return got != want
	case "co":
		return strings.Contains(got, want)
	case "sw":
		return strings.HasPrefix(got, want)
	case "ew":
		return strings.HasSuffix(got, want)
	case "gt":
		return got > want
	case "ge":
		return got >= want
	case "lt":
		return got < want
	case "le":
		return got <= want
	}
	return false
}

func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}
