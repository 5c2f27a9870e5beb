package httpapi_test

import (
	"context"
	"strings"
	"testing"
)

// TestSelfServiceAfterShutdown: once the server has begun to shut down, the answers
// that are sent before their work (password reset, sign-up) no longer promise it: 503
// unavailable with Retry-After, so the client tries again on the next instance.
func TestSelfServiceAfterShutdown(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		if err := e.api.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		for path, body := range map[string]any{
			"/api/v1/auth/password-reset": map[string]any{"email": operatorEmail},
			"/api/v1/auth/signup":         map[string]any{"email": "new@roster.test", "first_name": "N", "last_name": "M", "password": "a long secret"},
		} {
			r := e.call("", "POST", path, body)
			if r.Status != 503 || r.Header.Get("Retry-After") == "" {
				t.Errorf("%s after shutdown: %d, Retry-After %q: %s", path, r.Status, r.Header.Get("Retry-After"), r.Raw)
			}
			if typ, _ := r.Body["type"].(string); !strings.HasSuffix(typ, "/unavailable") {
				t.Errorf("%s after shutdown: type %q", path, typ)
			}
		}
	})
}
