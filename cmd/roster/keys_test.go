package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/testtime"
)

func TestKeysRotateCommand(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "roster.db")
	env := func(k string) string {
		return map[string]string{"ROSTER_DATABASE_URL": dbURL, "ROSTER_OIDC_KEY_SECRET": "s3cret"}[k]
	}
	var out, errb bytes.Buffer
	for range 2 {
		out.Reset()
		if err := run(context.Background(), []string{"keys", "rotate"}, env, &out, &errb); err != nil {
			t.Fatal(err, errb.String())
		}
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys, err := account.NewService(account.Options{Store: db}).SigningKeys(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The first rotation made the first key and its successor; the second one
	// retired the first.
	if len(keys) != 2 || keys[0].State != account.SigningKeyCurrent || keys[1].State != account.SigningKeyPrevious ||
		!strings.Contains(out.String(), keys[0].ID) || !strings.HasPrefix(keys[0].PrivateKey, "sealed:") {
		t.Errorf("after two rotations: %+v; printed %q", keys, out.String())
	}
	// Another secret does not open them: nothing is rotated.
	wrong := func(k string) string {
		return map[string]string{"ROSTER_DATABASE_URL": dbURL, "ROSTER_OIDC_KEY_SECRET": "other"}[k]
	}
	if err := run(ctx, []string{"keys", "rotate"}, wrong, &out, &errb); err == nil {
		t.Error("keys rotate with another secret succeeded")
	}
	if err := run(ctx, []string{"keys", "spin"}, env, &out, &errb); err == nil {
		t.Error("an unknown subcommand succeeded")
	}
}

// serve is the OpenID Connect provider at its base URL, its keys made on first use
// and sealed with --oidc-key-secret; the library's log lines are serve's own.
func TestServeSignInDiscovery(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "roster.db")
	base, _, stderr := start(t, map[string]string{"ROSTER_DATABASE_URL": dbURL}, "--oidc-key-secret", "s3cret", "--log-format", "json")
	res, err := http.Get(base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil || res.StatusCode != 200 {
		t.Fatalf("discovery: %d %v", res.StatusCode, err)
	}
	if doc["issuer"] != base || doc["jwks_uri"] != base+"/oauth/jwks" {
		t.Errorf("discovery: %v", doc)
	}
	keys, err := http.Get(base + "/oauth/jwks")
	if err != nil {
		t.Fatal(err)
	}
	keys.Body.Close()
	// A token request without a client: refused, and logged as JSON like the rest.
	tr, err := http.PostForm(base+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	tr.Body.Close()
	if tr.StatusCode < 400 || tr.StatusCode >= 500 {
		t.Errorf("a token request without a client: %d", tr.StatusCode)
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored, err := account.NewService(account.Options{Store: db}).SigningKeys(ctx, nil)
	if err != nil || len(stored) != 1 || !strings.HasPrefix(stored[0].PrivateKey, "sealed:") {
		t.Errorf("stored keys: %d %v", len(stored), err)
	}
	testtime.WaitFor(t, 5*time.Second, "the refusal is logged", func() bool { return strings.Contains(stderr.String(), "request error") })
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if !strings.HasPrefix(line, "{") {
			t.Errorf("a log line that is not serve's JSON: %q", line)
		}
	}
}
