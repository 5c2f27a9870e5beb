package sqlstore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sealbox"
)

// TestWebhookSecretsSealed: with a passphrase the webhooks' signing secrets are
// stored sealed (the column holds neither secret) and read back as they were; a
// secret stored before the passphrase was set still reads, and is sealed at its next
// write; without the passphrase, or with another, a sealed secret does not open.
func TestWebhookSecretsSealed(t *testing.T) {
	ctx := context.Background()
	db, err := OpenWith(ctx, "sqlite://"+filepath.Join(t.TempDir(), "sealed.db"), Options{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	hook := func(id, secret string) account.Webhook {
		return account.Webhook{ID: id, ApplicationID: "app1", URL: "https://hooks.example/" + id, Events: []account.EventType{"member.added"},
			Enabled: true, Secret: secret, CreatedAt: now, UpdatedAt: now}
	}
	write := func(fn func(account.Tx) error) {
		t.Helper()
		if err := db.Write(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	stored := func(id string) (secret, previous string) {
		t.Helper()
		if err := db.reader.QueryRowContext(ctx, `SELECT secret, previous_secret FROM webhook_endpoints WHERE id = $1`, id).
			Scan(&secret, &previous); err != nil {
			t.Fatal(err)
		}
		return secret, previous
	}
	read := func(id string) (account.Webhook, error) {
		var w account.Webhook
		err := db.Read(ctx, func(tx account.Tx) (err error) {
			w, err = tx.Webhook(ctx, "app1", id)
			return err
		})
		return w, err
	}
	write(func(tx account.Tx) error {
		return tx.CreateApplication(ctx, account.Application{ID: "app1", Key: "studio", Name: "Studio", CreatedAt: now, UpdatedAt: now})
	})
	// Before any passphrase: stored as it is.
	write(func(tx account.Tx) error { return tx.CreateWebhook(ctx, hook("old", "whsec_old")) })

	db.SealSecrets("a long passphrase")
	write(func(tx account.Tx) error { return tx.CreateWebhook(ctx, hook("new", "whsec_new")) })
	if s, _ := stored("new"); !sealbox.Sealed(s) || strings.Contains(s, "whsec_new") {
		t.Errorf("a new secret is stored as %q", s)
	}
	if w, err := read("new"); err != nil || w.Secret != "whsec_new" {
		t.Errorf("read back %q, %v", w.Secret, err)
	}
	if s, _ := stored("old"); s != "whsec_old" {
		t.Errorf("the secret stored before the passphrase became %q", s)
	}
	// A rotation writes both secrets sealed; the list reads them opened.
	old, err := read("old")
	if err != nil || old.Secret != "whsec_old" {
		t.Fatalf("the old secret reads %q, %v", old.Secret, err)
	}
	old.PreviousSecret, old.PreviousUntil, old.Secret = old.Secret, now.Add(time.Hour), "whsec_rotated"
	write(func(tx account.Tx) error { return tx.UpdateWebhook(ctx, old) })
	if s, p := stored("old"); !sealbox.Sealed(s) || !sealbox.Sealed(p) {
		t.Errorf("after the rotation: stored %q, %q", s, p)
	}
	var ws []account.Webhook
	if err := db.Read(ctx, func(tx account.Tx) (err error) { ws, err = tx.Webhooks(ctx, "app1"); return err }); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, w := range ws {
		got[w.ID] = w.Secret + "/" + w.PreviousSecret
	}
	if got["new"] != "whsec_new/" || got["old"] != "whsec_rotated/whsec_old" {
		t.Errorf("listed %v", got)
	}

	// Another passphrase, or none, opens nothing sealed.
	db.SealSecrets("another passphrase")
	if _, err := read("new"); !errors.Is(err, sealbox.ErrWrongPassphrase) {
		t.Errorf("with another passphrase: %v", err)
	}
	db.SealSecrets("")
	if _, err := read("new"); !errors.Is(err, sealbox.ErrNoPassphrase) {
		t.Errorf("without a passphrase: %v", err)
	}
}
