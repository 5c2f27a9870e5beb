package account

import "testing"

// TestCheckText: a NUL or invalid UTF-8 is a validation error naming the field, and
// a cursor whose base64 hides one is not a cursor this server issued (its key would
// otherwise reach the store: base64 passes every edge check).
func TestCheckText(t *testing.T) {
	for _, ok := range []string{"", "Zoë", "日本", "a\tb"} {
		if err := CheckText("q", ok); err != nil {
			t.Errorf("CheckText(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"a\x00b", "a\xffb", "\xed\xa0\x80"} {
		err := CheckText("q", "fine", bad)
		e, ok := err.(*Error)
		if !ok || e.Code != EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != "q" {
			t.Errorf("CheckText(%q) = %v, want EINVALID on q", bad, err)
		}
		if _, err := decodeCursor(encodeCursor(bad, 3)); ErrorCode(err) != EINVALID {
			t.Errorf("decodeCursor(a cursor of %q) = %v, want EINVALID", bad, err)
		}
	}
}

// TestTruncateLabel: a label (a User-Agent, a failure's reason) is cut on a
// character boundary and made text, so that storing it never fails.
func TestTruncateLabel(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 10, "abc"},
		{"aé", 2, "a"}, // é is two bytes: not cut in half
		{"a\x00b\xffc", 10, "a\uFFFDb\uFFFDc"},
	} {
		got := truncate(c.in, c.n)
		if got != c.want || TextProblem(got) != "" {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
