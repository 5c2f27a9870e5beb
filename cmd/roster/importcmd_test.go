package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/sqlstore"
)

const importCSV = "email,first_name,last_name,send_invite\nann@acme.test,Ann,A,no\nben@acme.test,Ben,B,yes\nnot-an-email,C,C,no\n"

// TestImportCommandStore: roster import straight into the store, printing plain
// progress lines (stdout is not a terminal) and the rejected rows.
func TestImportCommandStore(t *testing.T) {
	ctx := context.Background()
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "roster.db")
	db, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc := account.NewService(account.Options{Store: db, Hasher: password.NewHasher(password.TestParams, 1, rand.Reader)})
	if _, _, err := svc.Bootstrap(ctx, "op@roster.test", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	op, err := svc.ActorForEmail(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateOrganization(ctx, op, account.CreateOrganizationInput{Name: "Acme", Kind: account.KindOrganization}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	file := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(file, []byte(importCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string { return map[string]string{"ROSTER_DATABASE_URL": dbURL}[k] }
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"import", "--org", "acme", file}, env, &out, &errb); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "done 3/3 rows (created 1, invited 1, updated 0, failed 1)") ||
		!strings.Contains(out.String(), "row 4: email:") || strings.Contains(out.String(), "\r") {
		t.Errorf("output:\n%s", out.String())
	}
	if err := run(ctx, []string{"import", "--org", "nope", file}, env, &out, &errb); err == nil {
		t.Error("an unknown organization was accepted")
	}
	if err := run(ctx, []string{"import", "--org", "acme", "--as", "nobody@roster.test", file}, env, &out, &errb); err == nil {
		t.Error("an unknown --as account was accepted")
	}
}

// TestImportCommandServer: roster import through a running server with a token.
func TestImportCommandServer(t *testing.T) {
	base, _, _ := start(t, map[string]string{"ROSTER_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "roster.db"),
		"ROSTER_BOOTSTRAP_EMAIL": "op@roster.test", "ROSTER_BOOTSTRAP_PASSWORD": "correct horse battery"})
	_, login := postJSON(t, base+"/api/v1/auth/login", "", map[string]any{"email": "op@roster.test", "password": "correct horse battery"})
	token := login["token"].(string)
	postJSON(t, base+"/api/v1/organizations", token, map[string]any{"name": "Acme", "kind": "organization"})
	file := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(file, []byte(importCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	env := func(k string) string { return map[string]string{"ROSTER_TOKEN": token}[k] }
	if err := run(context.Background(), []string{"import", "--org", "acme", "--server", base, file}, env, &out, &errb); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "done 3/3 rows (created 1, invited 1, updated 0, failed 1)") {
		t.Errorf("output:\n%s", out.String())
	}
	// A file the server refuses fails the command with the server's reason.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("name\nx\n"), 0o600)
	err := run(context.Background(), []string{"import", "--org", "acme", "--server", base, bad}, env, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "422") || !strings.Contains(err.Error(), "email") {
		t.Errorf("a bad file gave %v", err)
	}
}
