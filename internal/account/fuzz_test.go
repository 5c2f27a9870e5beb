package account

import (
	"math/bits"
	"strings"
	"testing"
	"unicode/utf8"
)

// The parsers of client input, fuzzed: `go test -fuzz FuzzX ./internal/account/`.
// Seeds are in testdata/fuzz/FuzzX; CI runs each briefly.

// invalidOn checks that err is a validation error naming field (and only it).
func invalidOn(t *testing.T, what string, err error, field string) {
	t.Helper()
	e, ok := err.(*Error)
	if !ok || e.Code != EINVALID {
		t.Fatalf("%s: %v (%T), want a validation error", what, err, err)
	}
	for _, f := range e.Fields {
		if f.Field != field && !strings.HasPrefix(f.Field, field+"[") {
			t.Fatalf("%s: the error names %q, want %q", what, f.Field, field)
		}
	}
}

// FuzzNormalizeEmail: an accepted address is trimmed, bounded, a bare address with a
// dotted domain, and normalises to itself; its key is its lower case.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ada@example.com", " Ada.L+x@Example.COM ", "ada@localhost", `"a b"@x.com`, "Ada <ada@x.com>", "a@b.c.", "ü@ä.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizeEmail("email", in)
		if err != nil {
			invalidOn(t, "NormalizeEmail", err, "email")
			return
		}
		if out != strings.TrimSpace(in) || len(out) > maxEmailLen || strings.ContainsAny(out, " \t\r\n") {
			t.Fatalf("NormalizeEmail(%q) = %q", in, out)
		}
		at := strings.LastIndexByte(out, '@')
		if at <= 0 || !strings.Contains(out[at+1:], ".") {
			t.Fatalf("NormalizeEmail(%q) = %q: no local part or no dotted domain", in, out)
		}
		if again, err := NormalizeEmail("email", out); err != nil || again != out {
			t.Fatalf("NormalizeEmail(%q) = %q, %v; want it unchanged", out, again, err)
		}
		if k := EmailKey(out); k != strings.ToLower(out) || EmailKey(k) != k {
			t.Fatalf("EmailKey(%q) = %q", out, k)
		}
	})
}

// FuzzNormalizePhone: an accepted number is E.164 (+, 8 to 15 digits, no leading 0)
// and normalises to itself.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+44 20 7946 0018", "0049 (30) 1234-567", "030 1234", "+0123456789", "+1234567890123456", "", "+49\u00a030\u00a0123456", "++49301234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizePhone("phone", in)
		if err != nil {
			invalidOn(t, "NormalizePhone", err, "phone")
			return
		}
		if out == "" {
			if strings.TrimSpace(in) != "" {
				t.Fatalf("NormalizePhone(%q) = empty", in)
			}
			return
		}
		digits, ok := strings.CutPrefix(out, "+")
		if !ok || len(digits) < 8 || len(digits) > 15 || digits[0] == '0' || strings.Trim(digits, "0123456789") != "" {
			t.Fatalf("NormalizePhone(%q) = %q, not E.164", in, out)
		}
		if again, err := NormalizePhone("phone", out); err != nil || again != out {
			t.Fatalf("NormalizePhone(%q) = %q, %v; want it unchanged", out, again, err)
		}
	})
}

// FuzzPermissions: a set survives its storage form and its names; parsing names
// accepts exactly catalogue names without duplicates; reading a stored form never
// grants a permission outside the catalogue.
func FuzzPermissions(f *testing.F) {
	f.Add("members.read,audit.read", uint32(5))
	f.Add("members.read, members.read", uint32(AllPermissions))
	f.Add("launch.missiles,,organization.manage", uint32(1<<31))
	f.Add("", uint32(0))
	f.Fuzz(func(t *testing.T, text string, raw uint32) {
		set := PermissionSet(raw) & AllPermissions
		if got := PermissionSetFromString(set.String()); got != set {
			t.Fatalf("PermissionSetFromString(%q) = %b, want %b", set.String(), got, set)
		}
		if got, err := ParsePermissions("permissions", set.Names()); err != nil || got != set {
			t.Fatalf("ParsePermissions(%v) = %b, %v; want %b", set.Names(), got, err, set)
		}
		if len(set.Names()) != bits.OnesCount32(uint32(set)) {
			t.Fatalf("%b has names %v", set, set.Names())
		}
		sub := set & PermissionSet(raw>>7)
		if !set.Covers(sub) || (sub != set && sub.Covers(set)) {
			t.Fatalf("Covers is not the subset test: %b, %b", set, sub)
		}

		stored := PermissionSetFromString(text)
		if stored&^AllPermissions != 0 {
			t.Fatalf("PermissionSetFromString(%q) = %b, outside the catalogue", text, stored)
		}
		names := strings.Split(text, ",")
		parsed, err := ParsePermissions("permissions", names)
		if err != nil {
			invalidOn(t, "ParsePermissions", err, "permissions")
			return
		}
		if len(parsed.Names()) != len(names) {
			t.Fatalf("ParsePermissions(%q) = %v: a name lost or doubled", names, parsed.Names())
		}
		for _, n := range names {
			if !parsed.Has(Permission(strings.TrimSpace(n))) {
				t.Fatalf("ParsePermissions(%q) lacks %q", names, n)
			}
		}
	})
}

// FuzzCursor: decoding never panics and accepts only what encodeCursor makes; what it
// makes decodes to the same key and total; the list parameters refuse bad input as
// validation errors on their own fields.
func FuzzCursor(f *testing.F) {
	f.Add("", "06h0xjfjrmrhkhq2n15ezhhcrm", 12, 50, "pending")
	f.Add("azo1OmFiYw", "a:b:c", -1, 0, "")
	f.Add("bm90LWEtY3Vyc29y", "", 3, 501, "sleeping")
	f.Add("azotMjph", "x", -2, -1, "approved")
	f.Fuzz(func(t *testing.T, text, key string, total, limit int, status string) {
		if c, err := decodeCursor(text); err != nil {
			invalidOn(t, "decodeCursor", err, "cursor")
		} else if text != "" && (c.after == "" || c.total < -1) {
			t.Fatalf("decodeCursor(%q) = %+v", text, c)
		}
		enc := encodeCursor(key, total)
		switch c, err := decodeCursor(enc); {
		case key == "":
			if enc != "" {
				t.Fatalf("encodeCursor of no key = %q", enc)
			}
		case total < -1 || len(key)+len(itoa(total))+3 > 200 || CheckText("cursor", key) != nil:
			// Not a cursor a page makes: totals are counts, keys ids (text, with no
			// NUL: a cursor hiding one is refused).
		case err != nil || c.after != key || c.total != total:
			t.Fatalf("decodeCursor(encodeCursor(%q, %d)) = %+v, %v", key, total, c, err)
		}
		l, c, err := listParams(limit, text, "status", status, "pending", "approved", "denied")
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Code != EINVALID {
				t.Fatalf("listParams: %v", err)
			}
			for _, fe := range err.(*Error).Fields {
				if fe.Field != "limit" && fe.Field != "cursor" && fe.Field != "status" {
					t.Fatalf("listParams names %q", fe.Field)
				}
				if !utf8.ValidString(fe.Message) {
					t.Fatalf("listParams message %q", fe.Message)
				}
			}
			return
		}
		if l < 1 || l > maxLimit || (text == "" && c.total != -1) {
			t.Fatalf("listParams(%d, %q) = %d, %+v", limit, text, l, c)
		}
	})
}
