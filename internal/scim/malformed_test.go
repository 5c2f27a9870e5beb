package scim_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestSCIMMalformedText: a NUL or invalid UTF-8 in a SCIM body (at any depth), a
// filter or another query parameter, or a path segment is SCIM's 400 (invalidValue,
// invalidFilter for the filter) naming the attribute, on both engines; a token that
// is not text is 401; nothing is provisioned; never a 500.
func TestSCIMMalformedText(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		token := e.org("acme")
		id := e.member("acme", "ann@acme.example", "member")
		base := "/scim/v2/organizations/acme"
		const marker = "\u2603BAD\u2603"
		encode := func(v any, bad string) string {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			return string(bytes.ReplaceAll(b, []byte(marker), []byte(bad)))
		}
		for _, bad := range []string{"a\x00b", "a\xffb", `a\u0000b`} {
			raw := strings.ReplaceAll(bad, `\u0000`, "\x00") // for paths and queries
			cases := []struct {
				name, method, path string
				body               any
				scimType, names    string
			}{
				{"POST userName", "POST", base + "/Users", encode(user(marker+"@acme.example", nil), bad), "invalidValue", "userName"},
				{"POST name.givenName", "POST", base + "/Users", encode(user("bob@acme.example", map[string]any{"name": map[string]any{"givenName": marker}}), bad), "invalidValue", "name.givenName"},
				{"POST emails[0].value", "POST", base + "/Users", encode(user("bob@acme.example", map[string]any{"emails": []any{map[string]any{"value": marker}}}), bad), "invalidValue", "emails[0].value"},
				{"PUT", "PUT", base + "/Users/" + id, encode(user("ann@acme.example", map[string]any{"name": map[string]any{"familyName": marker}}), bad), "invalidValue", "name.familyName"},
				{"PATCH", "PATCH", base + "/Users/" + id, encode(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
					"Operations": []any{map[string]any{"op": "replace", "path": "name.givenName", "value": marker}}}, bad), "invalidValue", "Operations[0].value"},
				{"POST Groups", "POST", base + "/Groups", encode(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": marker}, bad), "invalidValue", "displayName"},
				{"filter", "GET", base + "/Users?filter=" + url.QueryEscape(`userName eq "`+raw+`"`), nil, "invalidFilter", "filter"},
				{"Groups filter", "GET", base + "/Groups?filter=" + url.QueryEscape(`displayName eq "`+raw+`"`), nil, "invalidFilter", "filter"},
				{"attributes", "GET", base + "/Users?attributes=" + url.QueryEscape(raw), nil, "invalidValue", "attributes"},
				{"path id", "GET", base + "/Users/" + url.PathEscape(raw), nil, "invalidValue", "id"},
				{"path org", "GET", "/scim/v2/organizations/" + url.PathEscape(raw) + "/Users", nil, "invalidValue", "org"},
			}
			for _, c := range cases {
				if c.body == nil && bad == `a\u0000b` {
					continue // escapes are JSON's
				}
				var r resp
				if c.body != nil {
					r = e.call(token, c.method, c.path, c.body.(string))
				} else {
					r = e.call(token, c.method, c.path, nil)
				}
				t.Run(c.name+" "+strings.ToValidUTF8(bad, "\\xff"), func(t *testing.T) {
					scimError(t, r, http.StatusBadRequest, c.scimType)
					if detail, _ := r.Body["detail"].(string); !strings.HasPrefix(detail, c.names+" ") {
						t.Errorf("detail %q does not name %s", detail, c.names)
					}
				})
			}
		}
		for _, bad := range []string{"\x00", "\xff"} {
			req := httptest.NewRequest("GET", base+"/Users", nil)
			req.Header.Set("Authorization", "Bearer "+token+bad)
			rec := httptest.NewRecorder()
			e.srv.Config.Handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("a SCIM token with %q = %d, want 401\n%s", bad, rec.Code, rec.Body)
			}
		}
		list := e.must(200, token, "GET", base+"/Users", nil)
		if n := list["totalResults"]; n != float64(1) {
			t.Errorf("totalResults = %v, want 1 (ann): something was provisioned\n%v", n, list)
		}
	})
}
