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
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
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
	return postgresDatabaseFrom(ctx, t, false)
}

// postgresDatabaseFrom creates the test's database: empty, or (migrated) a copy of
// the migrated template of this binary's migrations, which is made once. Copying a
// template takes a fraction of running the migrations, which on a busy machine
// took 3–4 s a database: most of the suite's time on PostgreSQL. The database's
// commits do not wait for the disk (synchronous_commit=off): a test database never
// outlives a crash of the server, and the outage tests run servers of their own.
func postgresDatabaseFrom(ctx context.Context, t testing.TB, migrated bool) string {
	t.Helper()
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) to run them", PostgresURLEnv)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: %s: %v", PostgresURLEnv, err)
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	admin, err := sql.Open("pgx", base) // the driver is registered by sqlstore
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	sweepOnce.Do(func() { sweep(ctx, admin) })
	// Named with its birth, so that a later run can tell a database whose drop was
	// cut short by its process's exit from one a running test still uses.
	name := fmt.Sprintf("roster_t_%d_%s", time.Now().Unix(), hex.EncodeToString(b)) // safe as an unquoted identifier
	create := "CREATE DATABASE " + name
	if migrated {
		tpl, err := postgresTemplate(ctx, admin, u)
		if err != nil {
			admin.Close()
			t.Fatalf("storetest: the migrated template database on %s: %v", u.Redacted(), err)
		}
		create += " TEMPLATE " + tpl
	}
	if _, err := admin.ExecContext(ctx, create); err != nil {
		admin.Close()
		t.Fatalf("storetest: create database on %s: %v", u.Redacted(), err)
	}
	// Registered before Open registers its Close, so it runs after it. The drop
	// (a second or two on a busy server) runs in the background while the next
	// tests go on; one that the process's exit cuts short is swept by a later run.
	t.Cleanup(func() {
		go func() {
			defer admin.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") //nolint:errcheck // swept later if it fails
		}()
	})
	if _, err := admin.ExecContext(ctx, "ALTER DATABASE "+name+" SET synchronous_commit = off"); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// templates are the migrated template databases this process made or found, by
// server.
var templates struct {
	sync.Mutex
	names map[string]string
}

// templateLock is the advisory lock (on the server's maintenance database) under
// which one test process at a time makes a missing template.
const templateLock = 0x726f73746572 // "roster"

// postgresTemplate returns the name of the database holding this binary's
// migrations on the server at u, made if missing: roster_tpl_<digest of the
// migrations>, which nobody may connect to (so that CREATE DATABASE … TEMPLATE never
// finds it in use). Templates of other migrations not made in the last day are
// dropped.
func postgresTemplate(ctx context.Context, admin *sql.DB, u *url.URL) (string, error) {
	templates.Lock()
	defer templates.Unlock()
	if n := templates.names[u.Host]; n != "" {
		return n, nil
	}
	digest, err := sqlstore.MigrationsDigest(sqlstore.Postgres)
	if err != nil {
		return "", err
	}
	name := "roster_tpl_" + digest[:16]
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", templateLock) //nolint:errcheck // the session ends with the connection anyway
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		// Made under another name and renamed when whole: a process killed half way
		// leaves no template that looks finished.
		tmp := name + "_new"
		for _, q := range []string{"DROP DATABASE IF EXISTS " + tmp + " WITH (FORCE)", "CREATE DATABASE " + tmp} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return "", err
			}
		}
		tu := *u
		tu.Path, tu.RawPath = "/"+tmp, ""
		db, err := sqlstore.OpenWith(ctx, tu.String(), sqlstore.Options{Timeout: time.Minute})
		if err != nil {
			return "", err
		}
		err = db.Migrate(ctx)
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", err
		}
		for _, q := range []string{
			"ALTER DATABASE " + tmp + " RENAME TO " + name,
			"ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS false",
			"COMMENT ON DATABASE " + name + " IS 'roster test template " + time.Now().UTC().Format(time.RFC3339) + "'",
		} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return "", err
			}
		}
	}
	// Templates of other migrations (older checkouts) not made in the last day.
	rows, err := conn.QueryContext(ctx, `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '')
		FROM pg_database WHERE datname LIKE 'roster\_tpl\_%' AND datname <> $1`, name)
	if err != nil {
		return "", err
	}
	var old []string
	for rows.Next() {
		var n, comment string
		if err := rows.Scan(&n, &comment); err != nil {
			rows.Close()
			return "", err
		}
		made, err := time.Parse(time.RFC3339, strings.TrimPrefix(comment, "roster test template "))
		if err != nil || time.Since(made) > 24*time.Hour {
			old = append(old, n)
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	rows.Close()
	for _, n := range old {
		if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+n); err != nil {
			return "", err
		}
	}
	if templates.names == nil {
		templates.names = map[string]string{}
	}
	templates.names[u.Host] = name
	return name, nil
}

var sweepOnce sync.Once

// sweep drops the test databases of earlier runs whose drop their process's exit
// cut short: those born more than two hours ago (no test runs that long; CI stops
// the suite at 30 minutes). Databases of other names are never touched.
func sweep(ctx context.Context, admin *sql.DB) {
	rows, err := admin.QueryContext(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'roster\_t\_%\_%'`)
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) != nil {
			break
		}
		parts := strings.Split(n, "_") // roster, t, <unix seconds>, <hex>
		if len(parts) != 4 {
			continue
		}
		if born, err := strconv.ParseInt(parts[2], 10, 64); err == nil && time.Since(time.Unix(born, 0)) > 2*time.Hour {
			stale = append(stale, n)
		}
	}
	rows.Close()
	for _, n := range stale {
		admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+n+" WITH (FORCE)") //nolint:errcheck // another run may be sweeping it too
	}
}
