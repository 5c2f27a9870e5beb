package account_test

import (
	"errors"
	"fmt"
	"testing"

	"roster.dev/roster/internal/account"
)

// TestErrorCode: no error has no code, a domain error (wrapped or not) has its own,
// anything else is internal.
func TestErrorCode(t *testing.T) {
	nf := account.Errorf(account.ENOTFOUND, "no such thing")
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{nf, account.ENOTFOUND},
		{fmt.Errorf("reading: %w", nf), account.ENOTFOUND},
		{account.Invalid("email", "is required"), account.EINVALID},
		{errors.New("disk on fire"), account.EINTERNAL},
	} {
		if got := account.ErrorCode(c.err); got != c.want {
			t.Errorf("ErrorCode(%v) = %q, want %q", c.err, got, c.want)
		}
	}
	if e, ok := account.AsError(fmt.Errorf("wrapped: %w", nf)); !ok || e != nf {
		t.Errorf("AsError of a wrapped error = %v, %v", e, ok)
	}
	if _, ok := account.AsError(errors.New("plain")); ok {
		t.Error("AsError of a plain error is ok")
	}
}
