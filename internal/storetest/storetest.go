// Package storetest gives tests a fresh, migrated Roster database on every engine:
// SQLite always, PostgreSQL when ROSTER_TEST_POSTGRES_URL names a server on which the
// tests may create and drop databases.
//
//	func TestSomething(t *testing.T) {
//		storetest.Each(t, func(t *testing.T, db *sqlstore.DB) { … })
//	}
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"roster.dev/roster/internal/sqlstore"
)

// PostgresURLEnv names the environment variable holding the URL of the PostgreSQL
// server tests run on, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const PostgresURLEnv = "ROSTER_TEST_POSTGRES_URL"

// Engines lists the engines every store test runs on, in order: SQLite, then
// PostgreSQL (whose databases Open skips when PostgresURLEnv is unset).
func Engines(t testing.TB) []sqlstore.Engine {
	t.Helper()
	return []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres}
}

// Each runs fn as one subtest per engine, named "sqlite" and "postgres", each on its
// own fresh database.
func Each(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	t.Helper()
	for _, e := range Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			fn(t, Open(t, e))
		})
	}
}

// Open returns a fresh, migrated database on engine, closed (and, on PostgreSQL,
// dropped) when the test ends. On PostgreSQL without PostgresURLEnv it skips the test.
func Open(t testing.TB, engine sqlstore.Engine) *sqlstore.DB {
	t.Helper()
	return OpenShared(t, engine, 1)[0]
}

// postgresDatabase creates an empty database on the server of PostgresURLEnv, drops
// it (forcibly, should a connection linger) when the test ends, and returns its URL.
func postgresDatabase(ctx context.Context, t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) to run them", PostgresURLEnv)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: %s: %v", PostgresURLEnv, err)
	}
	admin, err := sql.Open("pgx", base) // the driver is registered by sqlstore
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(func() { admin.Close() })

	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	name := "roster_t_" + hex.EncodeToString(b) // safe as an unquoted identifier
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("storetest: create database on %s: %v", u.Redacted(), err)
	}
	// Registered before Open registers its Close, so it runs after it.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("storetest: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}
