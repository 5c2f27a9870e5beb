package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roster.dev/roster/internal/sqlstore"
)

// TestBackupUnderLoad takes backups of a SQLite store while clients add members,
// invite people and assign and unassign seats through roster serve, restores each
// into a new file and finds it consistent: sound to SQLite, fully migrated, every
// seat count within its quota and equal to the seats held, every seat and member
// explained by the audit trail written in the same transaction, every invitation
// with its email, every outbox row well-formed. A restored store serves.
func TestBackupUnderLoad(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite://" + filepath.Join(dir, "roster.db")
	const pw = "correct horse battery"
	base, _, _ := start(t, map[string]string{"ROSTER_DATABASE_URL": dbURL,
		"ROSTER_BOOTSTRAP_EMAIL": "op@roster.test", "ROSTER_BOOTSTRAP_PASSWORD": pw})
	login := client{t: t, base: base}.must(200, "POST", "/api/v1/auth/login", map[string]any{"email": "op@roster.test", "password": pw})
	op := client{t: t, base: base, token: login["token"].(string)}
	op.must(201, "POST", "/api/v1/organizations", map[string]any{"name": "Acme", "kind": "organization"})
	op.must(201, "POST", "/api/v1/applications", map[string]any{"key": "studio", "name": "Studio"})
	starts := time.Now().Add(-time.Hour).UTC()
	sub := op.must(201, "POST", "/api/v1/organizations/acme/subscriptions", map[string]any{
		"application": "studio", "seats": 12, "starts_at": starts, "ends_at": starts.Add(24 * time.Hour)})
	seats := "/api/v1/organizations/acme/subscriptions/" + sub["id"].(string) + "/seats/"
	var ids []string
	for i := range 8 {
		m := op.must(201, "POST", "/api/v1/organizations/acme/members", map[string]any{"email": fmt.Sprintf("m%d@acme.test", i),
			"first_name": "M", "last_name": "M", "send_invite": false, "password": pw})
		ids = append(ids, m["account"].(map[string]any)["id"].(string))
	}

	// The load: invitations with a seat each (while the quota lasts), members added
	// with an invitation, and seats toggled, until stop.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var writes atomic.Int64
	var n atomic.Int64
	load := func(fn func(rng *rand.Rand)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(n.Add(1)), 7))
			for ctx.Err() == nil {
				fn(rng)
			}
		}()
	}
	load(func(*rand.Rand) {
		status, body := op.do("POST", "/api/v1/organizations/acme/invitations", map[string]any{
			"emails": []string{fmt.Sprintf("inv%d@acme.test", n.Add(1))}, "role": "member", "applications": []string{"studio"}})
		if status != 200 {
			t.Errorf("invite = %d %v", status, body)
		}
		writes.Add(1)
	})
	load(func(*rand.Rand) {
		status, body := op.do("POST", "/api/v1/organizations/acme/members", map[string]any{
			"email": fmt.Sprintf("add%d@acme.test", n.Add(1)), "first_name": "A", "last_name": "B", "send_invite": true})
		if status != 201 {
			t.Errorf("add member = %d %v", status, body)
		}
		writes.Add(1)
	})
	for range 2 {
		load(func(rng *rand.Rand) {
			id := ids[rng.IntN(len(ids))]
			method := []string{"PUT", "DELETE"}[rng.IntN(2)]
			switch status, body := op.do(method, seats+id, nil); {
			case status == 200, status == 204, status == 404 && method == "DELETE",
				status == 409 && body["type"] == "https://roster.dev/problems/quota-exceeded":
			default:
				t.Errorf("%s seat = %d %v", method, status, body)
			}
			writes.Add(1)
		})
	}

	var backups []string
	for i := range 3 {
		for before := writes.Load(); writes.Load() < before+20; {
			time.Sleep(5 * time.Millisecond)
		}
		out := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		var stdout lockedBuffer
		if err := run(ctx, []string{"backup", "--database", dbURL, "--out", out}, noEnv, &stdout, io.Discard); err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		if !strings.Contains(stdout.String(), "schema version") {
			t.Errorf("backup said %q", stdout.String())
		}
		backups = append(backups, out)
	}
	before := writes.Load()
	for writes.Load() < before+20 {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	wg.Wait()
	if t.Failed() {
		return
	}

	for i, b := range backups {
		restored := filepath.Join(dir, fmt.Sprintf("restored-%d.db", i))
		if err := run(context.Background(), []string{"restore", "--database", "sqlite://" + restored, b}, noEnv, io.Discard, io.Discard); err != nil {
			t.Fatalf("restore %s: %v", b, err)
		}
		checkConsistent(t, restored, true)
	}

	// The restored store serves, with everything the backup held.
	last := "sqlite://" + filepath.Join(dir, fmt.Sprintf("restored-%d.db", len(backups)-1))
	base2, _, _ := start(t, map[string]string{"ROSTER_DATABASE_URL": last})
	login = client{t: t, base: base2}.must(200, "POST", "/api/v1/auth/login", map[string]any{"email": "op@roster.test", "password": pw})
	op2 := client{t: t, base: base2, token: login["token"].(string)}
	if got := op2.must(200, "GET", "/api/v1/organizations/acme/summary", nil); got["members"].(map[string]any)["total"].(float64) < 8 {
		t.Errorf("restored summary = %v", got)
	}
}

func noEnv(string) string { return "" }

// checkConsistent opens a restored store and checks what a consistent snapshot of
// Roster's transactions must hold; underLoad, that it holds what the load wrote.
func checkConsistent(t *testing.T, path string, underLoad bool) {
	t.Helper()
	ctx := context.Background()
	if _, err := sqlstore.VerifyFile(ctx, path); err != nil {
		t.Fatal(err)
	}
	store, err := sqlstore.Open(ctx, "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Ready(ctx); err != nil {
		t.Errorf("%s: %v", path, err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	name := filepath.Base(path)

	// Seat counts.
	if n := count(`SELECT COUNT(*) FROM subscriptions s WHERE assigned > seats OR assigned <> (SELECT COUNT(*) FROM seats WHERE subscription_id = s.id)`); n > 0 {
		t.Errorf("%s: %d subscriptions whose assigned count is over the quota or not their seats", name, n)
	}
	if underLoad && count(`SELECT COUNT(*) FROM seats`) == 0 || underLoad && count(`SELECT COUNT(*) FROM invitations`) == 0 {
		t.Errorf("%s: the backup holds no seats or no invitations: was it taken under load?", name)
	}

	// Each seat held is the outcome of its last seat event, and each seat whose last
	// event gave it is held (nobody left the organization during the load).
	type key struct{ account, sub string }
	last := map[key]string{}
	rows, err := db.QueryContext(ctx, `SELECT action, target_id, COALESCE(before_json, ''), COALESCE(after_json, '')
		FROM audit_events WHERE action IN ('seat.assigned', 'seat.unassigned') ORDER BY created_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var action, target, before, after string
		if err := rows.Scan(&action, &target, &before, &after); err != nil {
			t.Fatal(err)
		}
		doc := after
		if action == "seat.unassigned" {
			doc = before
		}
		var v struct{ Subscription string }
		if err := json.Unmarshal([]byte(doc), &v); err != nil || v.Subscription == "" {
			t.Fatalf("%s: %s event without its subscription: %q", name, action, doc)
		}
		last[key{target, v.Subscription}] = action
	}
	rows.Close()
	held := map[key]bool{}
	rows, err = db.QueryContext(ctx, `SELECT account_id, subscription_id FROM seats`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.account, &k.sub); err != nil {
			t.Fatal(err)
		}
		held[k] = true
		if last[k] != "seat.assigned" {
			t.Errorf("%s: seat %v held, but its last event is %q", name, k, last[k])
		}
	}
	rows.Close()
	for k, action := range last {
		if action == "seat.assigned" && !held[k] {
			t.Errorf("%s: seat %v given by its last event, but not held", name, k)
		}
	}

	// Every membership was audited as it was made; every audit event names a target
	// that exists (no account or organization is deleted by the load).
	if n := count(`SELECT COUNT(*) FROM memberships m WHERE NOT EXISTS (SELECT 1 FROM audit_events e
		WHERE e.org_id = m.org_id AND e.target_id = m.account_id AND e.action IN ('member.added', 'member.invited'))`); n > 0 {
		t.Errorf("%s: %d memberships without the audit event of their making", name, n)
	}
	if n := count(`SELECT COUNT(*) FROM audit_events WHERE id = '' OR action = '' OR target_type = '' OR target_id = ''
		OR (target_type = 'account' AND target_id NOT IN (SELECT id FROM accounts))
		OR (org_id <> '' AND org_id NOT IN (SELECT id FROM organizations))`); n > 0 {
		t.Errorf("%s: %d audit events with a missing or dangling target", name, n)
	}

	// Every pending invitation has its invited membership and its email.
	if n := count(`SELECT COUNT(*) FROM invitations i WHERE i.state = 'pending' AND (
		NOT EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = i.org_id AND m.account_id = i.account_id AND m.state = 'invited')
		OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'invitation' AND o.to_addr = i.email))`); n > 0 {
		t.Errorf("%s: %d pending invitations without their membership or email", name, n)
	}
	// Every outbox row is one the worker can deliver, or has.
	if n := count(`SELECT COUNT(*) FROM outbox WHERE state NOT IN ('pending', 'sent', 'failed') OR instr(to_addr, '@') = 0
		OR subject = '' OR text_body = '' OR html_body = '' OR next_at = '' OR created_at = '' OR kind = ''
		OR (state = 'sent' AND sent_at IS NULL) OR attempts < 0`); n > 0 {
		t.Errorf("%s: %d malformed outbox rows", name, n)
	}
}

// TestBackupRestoreRefusals: backup never overwrites, restore never replaces a
// database in use or without --force, never restores what is not a Roster
// database, and PostgreSQL is pointed to pg_dump.
func TestBackupRestoreRefusals(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	start(t, map[string]string{"ROSTER_DATABASE_URL": "sqlite://" + live})
	ctx := context.Background()
	cmd := func(args ...string) error { return run(ctx, args, noEnv, io.Discard, io.Discard) }
	b := filepath.Join(dir, "b.db")
	if err := cmd("backup", "--database", "sqlite://"+live, "--out", b); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"backup", "--database", "sqlite://" + live, "--out", b}, "exists"},
		{[]string{"backup", "--database", "sqlite://" + filepath.Join(dir, "typo.db"), "--out", filepath.Join(dir, "c.db")}, "no such file"},
		{[]string{"backup", "--database", "postgres://db.example/roster", "--out", filepath.Join(dir, "c.db")}, "pg_dump -Fc"},
		{[]string{"restore", "--database", "postgres://db.example/roster", b}, "pg_restore"},
		{[]string{"restore", "--database", "sqlite://" + live, b}, "--force"},
		{[]string{"restore", "--database", "sqlite://" + live, "--force", b}, "in use"},
		{[]string{"restore", "--database", "sqlite://" + filepath.Join(dir, "new.db"), filepath.Join(dir, "missing.db")}, "no such file"},
	} {
		if err := cmd(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q = %v, want an error mentioning %q", tc.args, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "c.db")); err == nil {
		t.Errorf("a refused backup left a file")
	}

	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("not a database, not at all: just some bytes that go on and on")[:60], 0o600)
	empty := filepath.Join(dir, "empty.db")
	if db, err := sql.Open("sqlite", "file:"+empty); err == nil {
		db.Exec(`CREATE TABLE t (x)`)
		db.Close()
	}
	for file, want := range map[string]string{junk: "not a SQLite database", empty: "not a Roster database"} {
		target := filepath.Join(dir, "from-"+filepath.Base(file))
		if err := cmd("restore", "--database", "sqlite://"+target, file); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("restore %s = %v, want %q", filepath.Base(file), err, want)
		}
		if _, err := os.Stat(target); err == nil {
			t.Errorf("a refused restore created %s", target)
		}
	}

	// A stopped database is replaced with --force, whole: its old WAL is gone.
	stopped := filepath.Join(dir, "stopped.db")
	if err := cmd("restore", "--database", "sqlite://"+stopped, b); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(stopped+"-wal", []byte("a stale log"), 0o600)
	if err := cmd("restore", "--database", "sqlite://"+stopped, "--force", b); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stopped + "-wal"); err == nil {
		t.Errorf("the old WAL survived the restore")
	}
	checkConsistent(t, stopped, false)
	if entries, _ := filepath.Glob(filepath.Join(dir, ".*tmp-*")); len(entries) > 0 {
		t.Errorf("temporary files left: %v", entries)
	}
}
