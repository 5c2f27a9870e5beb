package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestOpenAPI pins the OpenAPI document: a change to the contract shows up in review
// as a change to testdata/openapi.json (go test ./internal/httpapi -run OpenAPI -update).
func TestOpenAPI(t *testing.T) {
	db := storetest.Open(t, sqlstore.SQLite)
	e := newEnv(t, db)
	r := e.call("", "GET", "/api/v1/openapi.json", nil)
	if r.Status != 200 {
		t.Fatalf("status %d", r.Status)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.Raw), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v", doc["openapi"])
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "openapi.json")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(want, buf.Bytes()) {
		t.Errorf("the OpenAPI document changed; review and run: go test ./internal/httpapi -run OpenAPI -update")
	}

	// The OpenAPI 3.0 rendering of the same document is what client generators read
	// (oapi-codegen does not take 3.1): it is pinned too, and client/ is generated
	// from it (go generate ./client).
	r30 := e.call("", "GET", "/api/v1/openapi-3.0.json", nil)
	if r30.Status != 200 {
		t.Fatalf("openapi-3.0.json: status %d", r30.Status)
	}
	var doc30 map[string]any
	if err := json.Unmarshal([]byte(r30.Raw), &doc30); err != nil {
		t.Fatal(err)
	}
	if doc30["openapi"] != "3.0.3" {
		t.Errorf("openapi-3.0.json: openapi = %v", doc30["openapi"])
	}
	buf.Reset()
	if err := enc.Encode(doc30); err != nil {
		t.Fatal(err)
	}
	golden30 := filepath.Join("testdata", "openapi-3.0.json")
	if *update {
		if err := os.WriteFile(golden30, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want30, err := os.ReadFile(golden30)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(want30, buf.Bytes()) {
		t.Errorf("the OpenAPI 3.0 document changed; review, run: go test ./internal/httpapi -run OpenAPI -update, then go generate ./client")
	}

	// Every route of API.md that this server implements is in the document, and every
	// route in the document is served (not the catch-all 404).
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/api/v1/auth/login", "/api/v1/auth/logout", "/api/v1/me", "/api/v1/me/password",
		"/api/v1/organizations", "/api/v1/organizations/{org}", "/api/v1/accounts/{account}",
		"/api/v1/organizations/{org}/summary", "/api/v1/organizations/{org}/members",
		"/api/v1/organizations/{org}/members/{account}", "/api/v1/organizations/{org}/members/{account}/deactivate",
		"/api/v1/organizations/{org}/members/{account}/reactivate", "/api/v1/organizations/{org}/members/remove",
		"/api/v1/organizations/{org}/roles", "/api/v1/organizations/{org}/roles/{role}",
		"/api/v1/organizations/{org}/teams", "/api/v1/organizations/{org}/teams/{team}",
		"/api/v1/organizations/{org}/audit"} {
		if paths[p] == nil {
			t.Errorf("the document lacks %s", p)
		}
	}
	param := regexp.MustCompile(`\{[a-z]+\}`)
	for p, ops := range paths {
		for method, op := range ops.(map[string]any) {
			// Every path parameter is declared (huma skips unexported embedded structs).
			declared := map[string]bool{}
			params, _ := op.(map[string]any)["parameters"].([]any)
			for _, prm := range params {
				if prm := prm.(map[string]any); prm["in"] == "path" {
					declared["{"+prm["name"].(string)+"}"] = true
				}
			}
			for _, name := range param.FindAllString(p, -1) {
				if !declared[name] {
					t.Errorf("%s %s does not declare the path parameter %s", method, p, name)
				}
			}
			r := e.call("", strings.ToUpper(method), param.ReplaceAllString(p, "x"), nil)
			if r.Status == 404 && strings.Contains(r.Raw, "no such route") {
				t.Errorf("%s %s is documented but not served", method, p)
			}
		}
	}
}

// TestHeaders: every answer carries the security headers and a request id.
func TestHeaders(t *testing.T) {
	db := storetest.Open(t, sqlstore.SQLite)
	e := newEnv(t, db)
	for _, path := range []string{"/healthz", "/api/v1/me", "/api/v1/nope", "/api/v1/openapi.json"} {
		r := e.call("", "GET", path, nil)
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", path, k, got, want)
			}
		}
		if !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: CSP = %q", path, r.Header.Get("Content-Security-Policy"))
		}
		if r.Header.Get("X-Request-ID") == "" {
			t.Errorf("%s: no X-Request-ID", path)
		}
		if r.Status >= 400 && r.Body["request_id"] != r.Header.Get("X-Request-ID") {
			t.Errorf("%s: problem request_id %v != header %q", path, r.Body["request_id"], r.Header.Get("X-Request-ID"))
		}
	}
	if h := e.call("", "GET", "/healthz", nil); h.Status != 200 || h.Body["status"] != "ok" {
		t.Errorf("healthz = %d %s", h.Status, h.Raw)
	}
}
