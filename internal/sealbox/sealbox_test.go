package sealbox

import (
	"errors"
	"strings"
	"testing"
)

// TestSealbox: a value sealed opens with the same passphrase and use only; sealing
// twice is sealing once; an unsealed value reads as it is, with or without a box;
// without a passphrase nothing is sealed and a sealed value does not open.
func TestSealbox(t *testing.T) {
	b := New("a long passphrase", "roster-webhook-secret")
	s, err := b.Seal([]byte("whsec_abc"))
	if err != nil || !Sealed(s) || strings.Contains(s, "whsec_abc") {
		t.Fatalf("sealed %q, %v", s, err)
	}
	if again, _ := b.Seal([]byte(s)); again != s {
		t.Errorf("sealing a sealed value changed it")
	}
	if s2, _ := b.Seal([]byte("whsec_abc")); s2 == s {
		t.Errorf("two seals of one value are equal: the nonce is not random")
	}
	if got, err := b.Open(s); err != nil || string(got) != "whsec_abc" {
		t.Errorf("open = %q, %v", got, err)
	}
	for name, other := range map[string]*Box{
		"another passphrase": New("another passphrase", "roster-webhook-secret"),
		"another use":        New("a long passphrase", "roster-oidc-key"),
	} {
		if _, err := other.Open(s); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("%s opened it: %v", name, err)
		}
	}
	if _, err := b.Open(s[:len(s)-4] + "AAAA"); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("an altered value opened: %v", err)
	}
	var none *Box
	if got, _ := none.Seal([]byte("whsec_abc")); got != "whsec_abc" {
		t.Errorf("no passphrase sealed: %q", got)
	}
	if _, err := none.Open(s); !errors.Is(err, ErrNoPassphrase) {
		t.Errorf("no passphrase opened a sealed value: %v", err)
	}
	for _, box := range []*Box{b, none} {
		if got, err := box.Open("whsec_plain"); err != nil || string(got) != "whsec_plain" {
			t.Errorf("an unsealed value = %q, %v", got, err)
		}
	}
	if New("", "x") != nil {
		t.Error("an empty passphrase makes a box")
	}
}
