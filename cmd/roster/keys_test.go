package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
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
