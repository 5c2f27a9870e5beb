package password

import (
	"context"
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	h := NewHasher(TestParams, 2, nil)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("unexpected encoding %q", enc)
	}
	for _, tc := range []struct {
		hash, pw string
		want     bool
	}{
		{enc, "correct horse", true},
		{enc, "correct horsE", false},
		{"", "correct horse", false},
		{"$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", "x", false},
		{"garbage", "x", false},
	} {
		got, err := h.Verify(ctx, tc.hash, tc.pw)
		if err != nil || got != tc.want {
			t.Errorf("Verify(%q, %q) = %v, %v; want %v", tc.hash, tc.pw, got, err, tc.want)
		}
	}
	enc2, _ := h.Hash(ctx, "correct horse")
	if enc2 == enc {
		t.Error("two hashes of one password share a salt")
	}
}

func TestConcurrencyBoundHonoursContext(t *testing.T) {
	h := NewHasher(TestParams, 1, nil)
	h.slots <- struct{}{} // the only slot is taken
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "password1"); err == nil {
		t.Fatal("Hash did not give up when its context ended while waiting for a slot")
	}
}
