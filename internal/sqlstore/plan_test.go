package sqlstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestFindMembersPlans checks that every FindMembers query searches indexes (no full
// scan, no sort of the matches) and that the totals read covering indexes, so that a
// page costs the same at any depth of a large organization.
func TestFindMembersPlans(t *testing.T) {
	db := storetest.Open(t, sqlstore.SQLite)
	ctx := context.Background()
	cases := []struct {
		name          string
		f             account.MemberFilter
		countCovering bool   // the total reads one covering index only
		uses          string // an index the page must use
		rare          bool   // the needle is rare (rareNeedle): looked up in the trigram index
	}{
		// The total is the sum of the organization's eight counts (migration 00009).
		{"none", account.MemberFilter{}, false, "sqlite_autoindex_memberships_1 (org_id=? AND account_id>?)", false},
		{"q", account.MemberFilter{Q: "x"}, true, "COVERING INDEX memberships_search (org_id=? AND account_id>?)", false},
		{"role", account.MemberFilter{RoleID: "admin"}, true, "memberships_role (org_id=? AND role_id=? AND account_id>?)", false},
		// The state alone: the sum of that state's eight counts (migration 00033).
		{"state", account.MemberFilter{State: account.MemberActive}, false, "memberships_state (org_id=? AND state=? AND account_id>?)", false},
		{"team", account.MemberFilter{TeamName: "Ops"}, false, "sqlite_autoindex_team_members_1 (team_id=? AND account_id>?)", false},
		{"team+role", account.MemberFilter{TeamName: "Ops", RoleID: "admin"}, false, "sqlite_autoindex_team_members_1 (team_id=? AND account_id>?)", false},
		{"q+role", account.MemberFilter{Q: "x", RoleID: "admin"}, false, "(org_id=? AND role_id=? AND account_id>?)", false},
		{"team+q+role+state", account.MemberFilter{Q: "x", RoleID: "admin", State: account.MemberActive, TeamName: "Ops"},
			false, "sqlite_autoindex_team_members_1 (team_id=? AND account_id>?)", false},
		// The total reads the subscription's row (one, by key) then covering seats_pkey.
		{"subscription", account.MemberFilter{SubscriptionID: "sub"}, false, "sqlite_autoindex_seats_1 (subscription_id=? AND account_id>?)", false},
		{"subscription+q+state", account.MemberFilter{SubscriptionID: "sub", Q: "x", State: account.MemberActive},
			false, "sqlite_autoindex_seats_1 (subscription_id=? AND account_id>?)", false},
		{"subscription+team", account.MemberFilter{SubscriptionID: "sub", TeamName: "Ops"},
			false, "sqlite_autoindex_seats_1 (subscription_id=? AND account_id>?)", false},
		{"application", account.MemberFilter{ApplicationID: "app"}, false,
			"COVERING INDEX seats_member (org_id=? AND account_id=? AND subscription_id=?)", false},
		{"application+q", account.MemberFilter{ApplicationID: "app", Q: "x"}, false, "COVERING INDEX memberships_search (org_id=? AND account_id>?)", false},
		// A rare needle: its matches come from the trigram index, each membership
		// found by its key, never a read of the organization's index in order.
		{"q rare", account.MemberFilter{Q: "xyz"}, false, "VIRTUAL TABLE INDEX", true},
		{"q rare+role", account.MemberFilter{Q: "xyz", RoleID: "admin"}, false, "VIRTUAL TABLE INDEX", true},
		{"team+q rare", account.MemberFilter{Q: "xyz", TeamName: "Ops"}, false, "VIRTUAL TABLE INDEX", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.f
			f.OrgID, f.After, f.Limit = "org", "after", 51
			count, page, err := sqlstore.ExplainFindMembers(ctx, db, f, c.rare)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("total:\n%s\npage:\n%s", strings.Join(count, "\n"), strings.Join(page, "\n"))
			for i, step := range append(slices.Clone(count), page...) {
				// The application's total counts its distinct seat holders: the b-tree holds
				// what the count visits anyway, no sort of the matches.
				if i < len(count) && step == "USE TEMP B-TREE FOR count(DISTINCT)" && f.ApplicationID != "" {
					continue
				}
				// The trigram index's MATCH is a virtual table's own lookup.
				if strings.Contains(step, "SCAN member_trigrams VIRTUAL TABLE INDEX 0:M") && c.rare {
					continue
				}
				if strings.HasPrefix(strings.TrimSpace(step), "SCAN") || strings.Contains(step, "TEMP B-TREE") {
					t.Errorf("plan step %q scans a table or sorts", step)
				}
			}
			kept := c.f == (account.MemberFilter{}) || c.f == (account.MemberFilter{State: c.f.State})
			if kept && (len(count) != 1 || !strings.Contains(count[0], "organization_member_counts")) {
				t.Errorf("the total without a filter or with the state alone does not read the kept counts: %q", count)
			}
			if c.countCovering && (len(count) != 1 || !strings.Contains(count[0], "COVERING INDEX")) {
				t.Errorf("the total does not read one covering index: %q", count)
			}
			if c.rare && strings.Contains(strings.Join(append(slices.Clone(count), page...), "\n"), "member_search_rows_1 (org_id=?)") {
				t.Errorf("a rare needle's matches are found by reading the organization's rows of member_search_rows")
			}
			if !strings.Contains(strings.Join(page, "\n"), c.uses) {
				t.Errorf("the page does not use %s", c.uses)
			}
		})
	}
}
