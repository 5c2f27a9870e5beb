package console

import "testing"

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
