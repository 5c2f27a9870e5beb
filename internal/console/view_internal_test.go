package console

import (
	"math"
	"regexp"
	"strconv"
	"testing"
)

func TestNum(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 20008: "20,008", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := num(n); got != want {
			t.Errorf("num(%d) = %q, want %q", n, got, want)
		}
	}
	if got := plural(20008, "user", "users"); got != "20,008 users" {
		t.Errorf("plural(20008) = %q", got)
	}
}

// The focus indicator is an outline (forced colours keep it), never removed, and
// its colour has at least 3:1 contrast against every background it is drawn on.
func TestFocusRingContrast(t *testing.T) {
	b, err := static.ReadFile("static/console.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	if m := regexp.MustCompile(`outline:\s*(none|0)\b`).FindString(css); m != "" {
		t.Errorf("console.css removes the focus outline: %q", m)
	}
	if !regexp.MustCompile(`(?m)^:focus-visible \{ outline: 3px solid var\(--focus-ring\)`).MatchString(css) {
		t.Error("console.css has no 3px :focus-visible outline of --focus-ring")
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`--([a-z-]+):\s*(#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3}))\b`).FindAllStringSubmatch(css, -1) {
		vars[m[1]] = m[2]
	}
	ring := vars["focus-ring"]
	for _, bg := range []string{"card", "bg", "accent-soft", "danger-soft", "ok-soft", "warn-soft"} {
		if c := contrast(ring, vars[bg]); c < 3 {
			t.Errorf("focus ring %s on --%s %s: contrast %.2f:1, want at least 3:1", ring, bg, vars[bg], c)
		}
	}
}

// contrast is WCAG's contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hex string) float64 {
	if len(hex) == 4 { // #rgb
		hex = "#" + string([]byte{hex[1], hex[1], hex[2], hex[2], hex[3], hex[3]})
	}
	if len(hex) != 7 {
		return 0
	}
	v, _ := strconv.ParseUint(hex[1:], 16, 32)
	ch := func(x uint64) float64 {
		c := float64(x) / 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(v>>16&0xff) + 0.7152*ch(v>>8&0xff) + 0.0722*ch(v&0xff)
}
