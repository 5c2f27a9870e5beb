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
// invalidFilter, and the compiled query never fails in the database (a refusal of the
// compiler is an invalidFilter too). Seeds: f.Add below and testdata/fuzz/FuzzFilter.
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
				q := account.SCIMQuery{OrgID: "org1", Filter: filter, Limit: 10}
				if r.users {
					_, _, err := tx.FindSCIMUsers(ctx, q)
					return err
				}
				_, _, err := tx.FindSCIMGroups(ctx, q)
				return err
			})
			if err != nil {
				var de *account.Error
				if !errors.As(err, &de) || de.Code != account.EINVALID || len(de.Fields) == 0 || de.Fields[0].Field != "filter" {
					t.Fatalf("filter %q: %v", s, err)
				}
				if e := errorFor(nil, nil, err); e.Type != "invalidFilter" {
					t.Fatalf("filter %q answers %v", s, e)
				}
			}
		}
	})
}
