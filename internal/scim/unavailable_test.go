package scim

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"roster.dev/roster/internal/account"
)

// An unavailable store is a SCIM 503 error with Retry-After, not a 500.
func TestUnavailableIsSCIM503(t *testing.T) {
	r := httptest.NewRequest("GET", "/scim/v2/Users", nil)
	e := errorFor(r, slog.New(slog.NewTextHandler(io.Discard, nil)), account.Errorf(account.EUNAVAILABLE, "the database cannot be reached"))
	w := httptest.NewRecorder()
	writeError(w, e)
	if w.Code != 503 || w.Header().Get("Retry-After") != "5" || w.Header().Get("Content-Type") != "application/scim+json" {
		t.Fatalf("status %d, Retry-After %q, Content-Type %q; want 503, 5, application/scim+json", w.Code, w.Header().Get("Retry-After"), w.Header().Get("Content-Type"))
	}
	var body map[string]any
	if err := json.NewDecoder(w.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body["status"] != "503" || body["schemas"].([]any)[0] != errorSchema {
		t.Errorf("body = %v, want a SCIM error with status 503", body)
	}
}
