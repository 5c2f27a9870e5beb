package account_test

import (
	"strings"
	"testing"

	"roster.dev/roster/internal/account"
)

// TestWellFormedToken: only the generator's exact form is a token: its prefix, then
// 43 characters of unpadded URL-safe base64 that decode canonically to 32 bytes.
func TestWellFormedToken(t *testing.T) {
	good := "ri_" + strings.Repeat("A", 42) + "E" // the last character carries 2 spare bits: 0
	if !account.WellFormedToken(account.InvitationTokenPrefix, good) {
		t.Fatalf("%q is refused", good)
	}
	for _, bad := range []string{
		"", "ri_", good[:len(good)-1], good + "A", "rv_" + good[3:], "RI_" + good[3:],
		"ri_" + strings.Repeat("A", 42) + "B", // non-canonical: spare bits set
		good[:10] + "+" + good[11:], good[:10] + "/" + good[11:], good[:10] + "=" + good[11:],
		good[:10] + "%" + good[11:], good[:10] + "." + good[11:], "ri_../o/acme/delete",
		"ri_..%2Fo%2Facme%2Fdelete" + strings.Repeat("A", 18),
	} {
		if account.WellFormedToken(account.InvitationTokenPrefix, bad) {
			t.Errorf("%q is taken for a token", bad)
		}
	}
	if account.WellFormedToken("", strings.Repeat("A", 42)+"E") {
		t.Error("a token without a prefix is taken")
	}
	for _, p := range []string{account.VerifyTokenPrefix, account.ResetTokenPrefix, account.SetupTokenPrefix} {
		if !account.WellFormedToken(p, p+good[3:]) || account.WellFormedToken(p, good) {
			t.Errorf("prefix %s", p)
		}
	}
}
