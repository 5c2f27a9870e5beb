package storetest

import (
	"context"
	"testing"
)

// PostgresURL creates an empty, unmigrated PostgreSQL database for the test (dropped
// when it ends) and returns its URL, for tests that run a whole server on it. It
// skips the test when PostgresURLEnv is unset.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return postgresDatabase(context.Background(), t)
}
