package scim

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/httpedge"
)

// TestErrorStatusIsTheEdges: a domain error answers SCIM with the status every HTTP
// surface gives its code (httpedge), SCIM's 400 for a refused value aside; no code
// falls through to a client error it is not.
func TestErrorStatusIsTheEdges(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/scim/v2/organizations/acme/Users", nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, code := range []string{account.EUNAUTHENTICATED, account.EFORBIDDEN, account.ENOTFOUND,
		account.ECONFLICT, account.EDUPLICATEEMAIL, account.EQUOTAEXCEEDED, account.EROLECEILING,
		account.EINVALIDTOKEN, account.ETOKENEXPIRED, account.ERATELIMITED, account.EPASSWORDRESET,
		account.ETOOLARGE, account.EUNAVAILABLE, account.EINTERNAL, "a-code-of-tomorrow"} {
		e := errorFor(r, log, account.Errorf(code, "why"))
		if want := httpedge.Status(code); e.Status != want {
			t.Errorf("%s: SCIM status %d, the edge's %d", code, e.Status, want)
		}
	}
	if e := errorFor(r, log, account.Invalid("userName", "is required")); e.Status != 400 || e.Type != "invalidValue" {
		t.Errorf("a refused value: %+v", e)
	}
	if e := errorFor(r, log, errors.New("disk on fire")); e.Status != 500 || e.Detail != "internal error" {
		t.Errorf("an internal error: %+v", e)
	}
	// The use cases name the domain's fields; SCIM names its attributes.
	for _, c := range []struct {
		field account.Field
		want  string
	}{{account.FieldUserName, "userName"}, {account.FieldGivenName, "name.givenName"}, {account.FieldName, "displayName"},
		{account.FieldExternalID, "externalId"}, {account.FieldEmails, "emails"}} {
		e := errorFor(r, log, account.Invalid(string(c.field), "is too long"))
		if want := "validation failed: " + c.want + " is too long"; e.Detail != want || e.Type != "invalidValue" {
			t.Errorf("%s: %+v, want detail %q", c.field, e, want)
		}
	}
}
