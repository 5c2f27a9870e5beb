package scim

import (
	"context"
	"errors"
	"testing"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// FuzzFilter parses random filters as User and as Group filters and runs every one
// that parses on a SQLite store: nothing panics, the parser refuses only with
// invalidFilter, and what it accepts the store compiles and runs. Seeds: f.Add below and testdata/fuzz/FuzzFilter.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		`userName eq "bjensen"`,
		`name.familyName co "O'Malley"`,
		`userName sw "J"`,
		`title pr`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`,
		`meta.lastModified ge 2011-05-13T04:42:34.123-07:00 and active eq true`,
		`emails.value ew "@example.com" or (phoneNumbers.value co "555" and not (externalId pr))`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x" or userName ne null`,
		`members.value eq "abc" and displayName lt "m"`,
		`((((userName eq "a"))))`,
		`emails[type eq "work" and value co "@example.com"]`,
		`userName eq "\u0000" or displayName eq "\\"`,
		`not not not active eq false`,
		`emails[type eq "work"].value eq "a@example.com" and phoneNumbers[primary eq true]`,
		`not emails[display sw "x" or primary pr].type ne "home"`,
		`members[value eq "abc"] or members[value ne "x"]`,
		`active gt true`, `members.value co "a"`, `emails.value lt "b"`, `meta.created sw "2011"`, `emails[primary co true]`,
	} {
		f.Add(s)
	}
	db := storetest.Open(f, sqlstore.SQLite)
	ctx := context.Background()
	err := db.Write(ctx, func(tx account.Tx) error {
		return tx.CreateOrganization(ctx, account.Organization{ID: "org1", Kind: account.KindOrganization, Name: "O", Slug: "o"})
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range []struct {
			resolve resolver
			values  valueResolver
			users   bool
		}{{userResolver, userValues, true}, {groupResolver, groupValues, false}} {
			filter, err := parseFilter(s, r.resolve, r.values)
			if err != nil {
				var fe *filterError
				if !errors.As(err, &fe) {
					t.Fatalf("parse %q: %v is no invalidFilter", s, err)
				}
				continue
			}
			err = db.Read(ctx, func(tx account.Tx) error {
				q := account.SCIMQuery{OrgID: "org1", Filter: filter.query(), Limit: 10}
				if r.users {
					_, _, err := tx.FindSCIMUsers(ctx, q)
					return err
				}
				_, _, err := tx.FindSCIMGroups(ctx, q)
				return err
			})
			if err != nil { // the parser refuses whatever the store cannot compile
				t.Fatalf("filter %q parses but the store refuses it: %v", s, err)
			}
		}
	})
}
