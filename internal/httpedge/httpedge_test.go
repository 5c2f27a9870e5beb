package httpedge_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpedge"
)

// TestStatus: every domain code has its status, and a code the table does not know
// is the server's fault (500), not the client's.
func TestStatus(t *testing.T) {
	for code, want := range map[string]int{
		account.EINVALID: 422, account.ENOTFOUND: 404, account.ERATELIMITED: 429,
		account.ETOOLARGE: 413, account.ETOKENEXPIRED: 410, account.EUNAVAILABLE: 503,
		account.EPASSWORDRESET: 403, account.EINVALIDTOKEN: 400, "no-such-code": 500, "": 500,
	} {
		if got := httpedge.Status(code); got != want {
			t.Errorf("Status(%q) = %d, want %d", code, got, want)
		}
	}
}

func TestBearer(t *testing.T) {
	for h, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "Basic abc": "", "Bearer ": "", "Bearer": "", "": ""} {
		got, ok := httpedge.Bearer(h)
		if got != want || ok != (want != "") {
			t.Errorf("Bearer(%q) = %q, %v; want %q", h, got, ok, want)
		}
	}
}

func TestRequestIP(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "192.0.2.7:4711"
	if got := httpedge.RequestIP(r); got != "192.0.2.7" {
		t.Errorf("peer: %q", got)
	}
	r = r.WithContext(httpedge.WithClientIP(context.Background(), "198.51.100.1"))
	if got := httpedge.RequestIP(r); got != "198.51.100.1" {
		t.Errorf("recorded: %q", got)
	}
	if got := httpedge.PeerIP("[2001:db8::1]:443"); got != "2001:db8::1" {
		t.Errorf("IPv6 peer: %q", got)
	}
}
