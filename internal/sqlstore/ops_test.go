package sqlstore_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestReady: a store is ready once it holds every embedded migration, and not before.
func TestReady(t *testing.T) {
	for _, engine := range storetest.Engines(t) {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			url := "sqlite://" + filepath.Join(t.TempDir(), "roster.db")
			if engine == sqlstore.Postgres {
				url = storetest.PostgresURL(t)
			}
			db, err := sqlstore.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			latest := sqlstore.LatestVersion(engine)
			if latest < 6 {
				t.Fatalf("LatestVersion(%s) = %d", engine, latest)
			}
			if v, err := db.SchemaVersion(ctx); err != nil || v != 0 {
				t.Errorf("SchemaVersion before migrating = %d, %v", v, err)
			}
			if err := db.Ready(ctx); err == nil || !strings.Contains(err.Error(), "roster migrate") {
				t.Errorf("Ready before migrating = %v", err)
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if v, err := db.SchemaVersion(ctx); err != nil || v != latest {
				t.Errorf("SchemaVersion = %d, %v; want %d", v, err, latest)
			}
			if err := db.Ready(ctx); err != nil {
				t.Errorf("Ready = %v", err)
			}
		})
	}
}
