package sqlstore_test

import (
	"context"
	"testing"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestStoreRefusesMalformedText: text with a NUL or invalid UTF-8 that reaches the
// store by a channel whose checks missed it is a validation error on PostgreSQL (it
// would be PostgreSQL's own error, a 500), prepared statement or not; SQLite holds
// such text and simply finds nothing.
func TestStoreRefusesMalformedText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		for _, bad := range []string{"a\x00b", "a\xffb"} {
			for i := 0; i < 2; i++ { // the second call runs the cached prepared statement
				err := db.Read(ctx, func(tx account.Tx) error {
					_, err := tx.OrganizationByRef(ctx, bad)
					return err
				})
				want := account.ENOTFOUND
				if db.Engine() == sqlstore.Postgres {
					want = account.EINVALID
				}
				if got := account.ErrorCode(err); got != want {
					t.Errorf("OrganizationByRef(%q) = %v (%s), want %s", bad, err, got, want)
				}
			}
		}
		// In a write transaction too (AccountByEmail lower-cases, which turns \xff
		// into U+FFFD, so only the NUL reaches the driver as it is).
		err := db.Write(ctx, func(tx account.Tx) error {
			_, err := tx.AccountByEmail(ctx, "a\x00b@example.com")
			return err
		})
		if db.Engine() == sqlstore.Postgres && account.ErrorCode(err) != account.EINVALID {
			t.Errorf("AccountByEmail with a NUL in a write = %v, want EINVALID", err)
		}
	})
}
