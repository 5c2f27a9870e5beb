package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestConfusableNames: a role or team name that looks like another of the same
// organization (the same UTS #39 skeleton, without case) is refused on create and
// on rename: 409 naming name beside a custom role or a team, 422 naming name beside
// a predefined role, as the names themselves are answered. Another organization
// may use it.
func TestConfusableNames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db)
		e.org("acme", "")
		e.org("gamma", "")
		org := "/api/v1/organizations/acme"
		perms := []string{"members.read"}

		// Roles: "Аdmin" with a Cyrillic А is the predefined Admin.
		for _, name := range []string{"\u0410dmin", "ADM\u0406N", "0wner", "Member"} {
			problem(t, e.call(e.op, "POST", org+"/roles", map[string]any{"name": name, "permissions": perms}), 422, "validation", "name")
		}
		e.must(201, e.op, "POST", org+"/roles", map[string]any{"name": "Helpdesk", "permissions": perms})
		other := e.must(201, e.op, "POST", org+"/roles", map[string]any{"name": "Viewer", "permissions": perms})["id"].(string)
		// Helpdesk with a Cyrillic е and a Latin l written as a capital I.
		r := e.call(e.op, "POST", org+"/roles", map[string]any{"name": "H\u0435IPDESK", "permissions": perms})
		problem(t, r, 409, "conflict", "name")
		if !strings.Contains(string(r.Raw), `looks like the role \"Helpdesk\"`) {
			t.Errorf("the answer does not say which name it looks like: %s", r.Raw)
		}
		problem(t, e.call(e.op, "POST", org+"/roles", map[string]any{"name": "helpdesk", "permissions": perms}), 409, "conflict", "name")
		problem(t, e.call(e.op, "PATCH", org+"/roles/"+other, map[string]any{"name": "Helpd\u0435sk"}), 409, "conflict", "name")
		problem(t, e.call(e.op, "PATCH", org+"/roles/"+other, map[string]any{"name": "\u0410dmin"}), 422, "validation", "name")
		// Its own name, or one like it, is no conflict; nor is another organization's.
		e.must(200, e.op, "PATCH", org+"/roles/"+other, map[string]any{"name": "V\u0456ewer"})
		e.must(201, e.op, "POST", "/api/v1/organizations/gamma/roles", map[string]any{"name": "H\u0435lpdesk", "permissions": perms})

		// Teams.
		e.must(201, e.op, "POST", org+"/teams", map[string]any{"name": "Engineering"})
		ops := e.must(201, e.op, "POST", org+"/teams", map[string]any{"name": "Ops"})["id"].(string)
		for _, name := range []string{"Engineer\u0456ng", "ENG\u0399NEERING", "engineering"} {
			problem(t, e.call(e.op, "POST", org+"/teams", map[string]any{"name": name}), 409, "conflict", "name")
		}
		problem(t, e.call(e.op, "PATCH", org+"/teams/"+ops, map[string]any{"name": "\u0395ngineering"}), 409, "conflict", "name")
		e.must(200, e.op, "PATCH", org+"/teams/"+ops, map[string]any{"name": "0ps"})
		e.must(201, e.op, "POST", "/api/v1/organizations/gamma/teams", map[string]any{"name": "Engineer\u0456ng"})

		teams := e.must(200, e.op, "GET", org+"/teams", nil)
		if teams["total"] != 2.0 {
			t.Errorf("teams after the refusals: %v", teams)
		}
	})
}

// TestConfusableNamesConcurrent: the check holds the organization's lock, so a
// name written by a transaction not yet committed is seen: a look-alike created
// meanwhile waits for it, then is refused.
func TestConfusableNamesConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db)
		orgID := e.org("acme", "")["id"].(string)
		written, release := make(chan struct{}), make(chan struct{})
		first := make(chan error, 1)
		go func() {
			first <- db.Write(context.Background(), func(tx account.Tx) error {
				if err := tx.LockOrganization(context.Background(), orgID); err != nil {
					return err
				}
				now := time.Now()
				if err := tx.CreateTeam(context.Background(), account.Team{ID: "team-eng", OrgID: orgID, Name: "Engineering", CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
				close(written)
				<-release
				return nil
			})
		}()
		<-written
		second := make(chan resp, 1)
		go func() {
			second <- e.call(e.op, "POST", "/api/v1/organizations/acme/teams", map[string]any{"name": "Engineer\u0456ng"})
		}()
		select {
		case r := <-second:
			close(release)
			t.Fatalf("a look-alike was answered %d while the first name was not committed", r.Status)
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		problem(t, <-second, 409, "conflict", "name")
		if teams := e.must(200, e.op, "GET", "/api/v1/organizations/acme/teams", nil); teams["total"] != 1.0 {
			t.Errorf("teams %v; want one", teams)
		}
	})
}
