package sqlstore_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// bulkN rows cross the chunk boundaries of every bulk write (the smallest chunk is
// 285 rows, the largest 2,000 team memberships: the team test writes 3 per account)
// and of the lookups (500 keys).
const bulkN = 1203

// Rows come in two batches of bulkN whose values differ only by their prefix, "solo"
// (written by the single-row method) or "bulk" (by the bulk one), of one length.

// soloToBulk compares a solo value with a bulk one: it rewrites "solo" as "bulk" in
// every string and byte slice, in any case.
var soloToBulk = func() cmp.Options {
	r := strings.NewReplacer("solo", "bulk", "Solo", "Bulk", "SOLO", "BULK")
	return cmp.Options{
		cmp.Transformer("soloToBulk", r.Replace),
		cmp.Transformer("soloToBulkBytes", func(b []byte) []byte {
			if b == nil {
				return nil
			}
			return []byte(r.Replace(string(b)))
		}),
	}
}()

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// bulkAccount is account i of the batch prefix, with every column varying.
func bulkAccount(prefix string, i int) account.Account {
	a := account.Account{
		ID: fmt.Sprintf("%s-acc-%05d", prefix, i), Email: fmt.Sprintf("%s.%05d@Example.com", title(prefix), i),
		FirstName: "Émile" + strconv.Itoa(i), LastName: "Ünal", State: account.AccountActive,
		PasswordHash: "$argon2id$hash", CreatedAt: t0.Add(time.Duration(i) * time.Microsecond),
		UpdatedAt: t0.Add(time.Duration(i) * time.Millisecond),
	}
	if i%3 == 0 {
		a.Username = fmt.Sprintf("%s_User%05d", title(prefix), i)
	}
	if i%5 == 0 {
		a.Phone = "+4930123456"
	}
	if i%7 == 0 {
		a.Operator = true
	}
	if i%11 == 0 {
		a.MustResetPassword = true
	}
	if i%4 == 1 {
		a.State, a.PasswordHash = account.AccountPending, ""
	}
	if i%2 == 0 { // org-a (made before the accounts) manages every other one
		a.ManagedBy = "org-a"
	}
	if i%13 == 0 {
		a.EmailVerified = true
	}
	return a
}

func bulkAccounts(prefix string) []account.Account {
	as := make([]account.Account, bulkN)
	for i := range as {
		as[i] = bulkAccount(prefix, i)
	}
	return as
}

func emailKeys(as []account.Account) []string {
	keys := make([]string, len(as))
	for i, a := range as {
		keys[i] = account.EmailKey(a.Email)
	}
	return keys
}

func accountIDs(as []account.Account) []string {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	return ids
}

// wantSameRows checks that query (with $1 a LIKE pattern) finds bulkN rows of each
// batch, the solo and bulk ones alike in every column, in the same order.
func wantSameRows(t *testing.T, db *sqlstore.DB, query string) {
	t.Helper()
	solo, err := sqlstore.RawRows(ctx, db, query, "solo%")
	if err != nil {
		t.Fatal(err)
	}
	bulk, err := sqlstore.RawRows(ctx, db, query, "bulk%")
	if err != nil {
		t.Fatal(err)
	}
	if len(solo) != bulkN || len(bulk) != bulkN {
		t.Fatalf("%d solo rows and %d bulk rows, want %d of each", len(solo), len(bulk), bulkN)
	}
	for i := range bulk {
		if d := cmp.Diff(solo[i], bulk[i], soloToBulk); d != "" {
			t.Fatalf("row %d (-solo +bulk):\n%s", i, d)
		}
	}
}

// wantNoAccounts checks, in tx, that none of the accounts ids exists.
func wantNoAccounts(t *testing.T, tx account.Tx, ids []string) {
	t.Helper()
	for _, id := range ids {
		if _, err := tx.AccountByID(ctx, id); account.ErrorCode(err) != account.ENOTFOUND {
			t.Fatalf("account %s after the failed call: %v", id, err)
		}
	}
}

func TestBulkCreateAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db, newOrg("org-a", "A", "org-a", account.KindOrganization, ""))
		solo, bulk := bulkAccounts("solo"), bulkAccounts("bulk")
		createAccounts(t, db, solo...)
		write(t, db, func(tx account.Tx) error { return tx.CreateAccounts(ctx, bulk) })
		wantSameRows(t, db, `SELECT * FROM accounts WHERE id LIKE $1 ORDER BY id`)
		read(t, db, func(tx account.Tx) error {
			for i := range bulk {
				got, err := tx.AccountByID(ctx, bulk[i].ID)
				if err != nil {
					return err
				}
				if d := cmp.Diff(bulk[i], got); d != "" {
					t.Fatalf("account %d (-written +read):\n%s", i, d)
				}
				want, err := tx.AccountByID(ctx, solo[i].ID)
				if err != nil {
					return err
				}
				if d := cmp.Diff(want, got, soloToBulk); d != "" {
					t.Fatalf("account %d (-solo +bulk):\n%s", i, d)
				}
			}
			return nil
		})

		// A violation anywhere fails the call; in a savepoint it leaves nothing behind
		// (not even the chunks written before it) and the transaction goes on.
		for _, c := range []struct {
			name, field string
			spoil       func(as []account.Account)
		}{
			{"email taken", "email", func(as []account.Account) { as[1000].Email = " " + strings.ToUpper(bulk[5].Email) }},
			{"username taken", "username", func(as []account.Account) { as[1000].Username = strings.ToLower(bulk[3].Username) }},
			{"email repeated", "email", func(as []account.Account) { as[1190].Email = as[2].Email }},
			{"username repeated", "username", func(as []account.Account) { as[600].Username = strings.ToUpper(as[9].Username) }},
			{"id taken", "id", func(as []account.Account) { as[900].ID = bulk[0].ID }},
		} {
			t.Run(c.name, func(t *testing.T) {
				batch := bulkAccounts("conf")
				c.spoil(batch)
				ids := slices.DeleteFunc(accountIDs(batch), func(id string) bool { return !strings.HasPrefix(id, "conf") })
				write(t, db, func(tx account.Tx) error {
					err := tx.Savepoint(ctx, func() error { return tx.CreateAccounts(ctx, batch) })
					wantConflict(t, err, c.field)
					wantNoAccounts(t, tx, ids)
					return tx.CreateAccount(ctx, newAccount("after-"+c.name, c.name+"@after.test"))
				})
				read(t, db, func(tx account.Tx) error {
					wantNoAccounts(t, tx, ids)
					_, err := tx.AccountByID(ctx, "after-"+c.name)
					return err
				})
			})
		}
		// Without a savepoint the whole transaction fails.
		batch := bulkAccounts("conf")
		batch[1202].Email = bulk[0].Email
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.CreateAccounts(ctx, batch) }), "email")
		read(t, db, func(tx account.Tx) error { wantNoAccounts(t, tx, accountIDs(batch)); return nil })
	})
}

// bulkMembership is account a's membership i of orgID.
func bulkMembership(orgID string, a account.Account, i int) account.Membership {
	m := account.Membership{OrgID: orgID, AccountID: a.ID, RoleID: account.RoleMember,
		State: account.MemberActive, CreatedAt: t0.Add(time.Duration(i) * time.Second), UpdatedAt: t0.Add(time.Duration(i) * time.Minute)}
	if i%10 == 0 {
		m.RoleID = account.RoleAdmin
	}
	switch i % 3 {
	case 1:
		m.State = account.MemberInvited
	case 2:
		m.State = account.MemberDeactivated
	}
	return m
}

func bulkMemberships(orgID string, as []account.Account) []account.Membership {
	ms := make([]account.Membership, len(as))
	for i, a := range as {
		ms[i] = bulkMembership(orgID, a, i)
	}
	return ms
}

// bulkMembers lists every member of orgID whose account id has prefix.
func bulkMembers(t *testing.T, db *sqlstore.DB, orgID, prefix string) []account.Member {
	t.Helper()
	var out []account.Member
	read(t, db, func(tx account.Tx) error {
		ms, _, err := tx.FindMembers(ctx, account.MemberFilter{OrgID: orgID, SkipTotal: true})
		for _, m := range ms {
			if strings.HasPrefix(m.AccountID, prefix) {
				out = append(out, m)
			}
		}
		return err
	})
	return out
}

// bulkSetup creates org-a and org-b, the solo and bulk accounts, and (when members)
// their memberships of org-a, the solo ones one by one and the bulk ones in bulk.
func bulkSetup(t *testing.T, db *sqlstore.DB, members bool) (solo, bulk []account.Account) {
	t.Helper()
	createOrgs(t, db,
		newOrg("org-a", "A", "org-a", account.KindOrganization, ""),
		newOrg("org-b", "B", "org-b", account.KindOrganization, ""))
	solo, bulk = bulkAccounts("solo"), bulkAccounts("bulk")
	write(t, db, func(tx account.Tx) error { return tx.CreateAccounts(ctx, append(slices.Clone(solo), bulk...)) })
	if members {
		createMemberships(t, db, bulkMemberships("org-a", solo)...)
		write(t, db, func(tx account.Tx) error { return tx.CreateMemberships(ctx, bulkMemberships("org-a", bulk), bulk) })
	}
	return solo, bulk
}

func TestBulkCreateMemberships(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		solo, bulk := bulkSetup(t, db, true)
		wantSameRows(t, db, `SELECT * FROM memberships WHERE account_id LIKE $1 ORDER BY org_id, account_id`)
		soloMembers, bulkMembers := bulkMembers(t, db, "org-a", "solo"), bulkMembers(t, db, "org-a", "bulk")
		if len(soloMembers) != bulkN || len(bulkMembers) != bulkN {
			t.Fatalf("%d solo and %d bulk members", len(soloMembers), len(bulkMembers))
		}
		for i := range bulkMembers {
			if d := cmp.Diff(soloMembers[i], bulkMembers[i], soloToBulk); d != "" {
				t.Fatalf("member %d (-solo +bulk):\n%s", i, d)
			}
			if d := cmp.Diff(bulkMembership("org-a", bulk[i], i), bulkMembers[i].Membership); d != "" {
				t.Fatalf("member %d (-written +read):\n%s", i, d)
			}
		}
		// The search text is the account's, lower-cased in Go; an invited member
		// whose account org-a does not manage is found by its email only.
		wantFound := func(q string) int {
			n := 0
			for _, as := range [][]account.Account{solo, bulk} {
				for i, a := range as {
					text := strings.ToLower(a.Email)
					if bulkMembership("org-a", a, i).State != account.MemberInvited || a.ManagedBy == "org-a" {
						text = strings.ToLower(a.Email + " " + a.Username + " " + a.FirstName + " " + a.LastName)
					}
					if strings.Contains(text, q) {
						n++
					}
				}
			}
			return n
		}
		read(t, db, func(tx account.Tx) error {
			for _, q := range []string{"ünal", "bulk.01", "solo.01", "bulk_user0", "bulk_user011", "émile120"} {
				want := wantFound(q)
				_, n, err := tx.FindMembers(ctx, account.MemberFilter{OrgID: "org-a", Q: q, Limit: 1})
				if err != nil {
					return err
				}
				if n != want {
					t.Errorf("FindMembers q=%q: %d, want %d", q, n, want)
				}
			}
			return nil
		})

		wantNoMemberships := func(t *testing.T, tx account.Tx) {
			t.Helper()
			ms, err := tx.MembershipsOfAccounts(ctx, "org-b", accountIDs(bulk))
			if err != nil || len(ms) != 0 {
				t.Fatalf("memberships of org-b after the failed call: %d, %v", len(ms), err)
			}
		}
		for k, c := range []struct {
			name, code, field string
			spoil             func(ms []account.Membership, as []account.Account)
		}{
			{"existing", account.ECONFLICT, "account", func(ms []account.Membership, as []account.Account) { ms[1000].OrgID = "org-a" }},
			{"repeated", account.ECONFLICT, "account", func(ms []account.Membership, as []account.Account) {
				ms[1100], as[1100] = ms[3], as[3]
			}},
			{"unknown account", account.ENOTFOUND, "", func(ms []account.Membership, as []account.Account) {
				ms[700].AccountID, as[700].ID = "nobody", "nobody"
			}},
			{"unknown role", account.ENOTFOUND, "", func(ms []account.Membership, as []account.Account) { ms[1202].RoleID = "no-role" }},
			{"accounts out of step", account.EINTERNAL, "", func(ms []account.Membership, as []account.Account) { as[5] = as[6] }},
		} {
			t.Run(c.name, func(t *testing.T) {
				as := slices.Clone(bulk)
				ms := bulkMemberships("org-b", as)
				c.spoil(ms, as)
				write(t, db, func(tx account.Tx) error {
					err := tx.Savepoint(ctx, func() error { return tx.CreateMemberships(ctx, ms, as) })
					if c.field != "" {
						wantConflict(t, err, c.field)
					} else {
						wantCode(t, err, c.code)
					}
					wantNoMemberships(t, tx)
					// The transaction goes on.
					return tx.CreateMembership(ctx, newMembership("org-b", solo[k].ID, account.RoleMember, account.MemberActive))
				})
				read(t, db, func(tx account.Tx) error {
					wantNoMemberships(t, tx)
					_, err := tx.Membership(ctx, "org-b", solo[k].ID)
					return err
				})
			})
		}
	})
}

func TestBulkAddTeamMembers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		solo, bulk := bulkSetup(t, db, true)
		team := func(id, orgID, name string) account.Team {
			return account.Team{ID: id, OrgID: orgID, Name: name, CreatedAt: t0, UpdatedAt: t0}
		}
		insert(t, db, account.Tx.CreateTeam,
			team("team-1", "org-a", "One"), team("team-2", "org-a", "Two"), team("team-x", "org-b", "Other"))
		write(t, db, func(tx account.Tx) error {
			for _, a := range solo {
				if err := tx.SetMemberTeams(ctx, "org-a", a.ID, []string{"team-1", "team-2", "team-x"}); err != nil {
					return err
				}
			}
			return nil
		})
		// team-x is org-b's: ignored, as SetMemberTeams ignores it.
		var members []account.TeamMember
		for _, a := range bulk {
			for _, tm := range []string{"team-2", "team-x", "team-1"} {
				members = append(members, account.TeamMember{TeamID: tm, AccountID: a.ID})
			}
		}
		write(t, db, func(tx account.Tx) error { return tx.AddTeamMembers(ctx, "org-a", members) })

		for _, p := range []string{"solo%", "bulk%"} {
			rows, err := sqlstore.RawRows(ctx, db, `SELECT * FROM team_members WHERE account_id LIKE $1`, p)
			if err != nil || len(rows) != 2*bulkN {
				t.Fatalf("team_members %s: %d rows, %v", p, len(rows), err)
			}
		}
		wantSameRows(t, db, `SELECT * FROM team_members WHERE account_id LIKE $1 AND team_id = 'team-1' ORDER BY account_id`)
		wantSameRows(t, db, `SELECT * FROM team_members WHERE account_id LIKE $1 AND team_id = 'team-2' ORDER BY account_id`)
		soloMembers, bulkMembers := bulkMembers(t, db, "org-a", "solo"), bulkMembers(t, db, "org-a", "bulk")
		for i := range bulkMembers {
			if d := cmp.Diff(soloMembers[i], bulkMembers[i], soloToBulk); d != "" {
				t.Fatalf("member %d (-solo +bulk):\n%s", i, d)
			}
			if d := cmp.Diff([]string{"One", "Two"}, bulkMembers[i].Teams); d != "" {
				t.Fatalf("member %d teams (-want +got):\n%s", i, d)
			}
		}

		// Violations, with the bulk accounts members of org-b as well.
		write(t, db, func(tx account.Tx) error { return tx.CreateMemberships(ctx, bulkMemberships("org-b", bulk), bulk) })
		teamOf := func(t *testing.T, tx account.Tx) int {
			t.Helper()
			tm, err := tx.Team(ctx, "org-b", "team-x")
			if err != nil {
				t.Fatal(err)
			}
			return tm.Members
		}
		for _, c := range []struct {
			name, code, field string
			spoil             func(ms []account.TeamMember)
		}{
			{"repeated", account.ECONFLICT, "team", func(ms []account.TeamMember) { ms[bulkN-1] = ms[4] }},
			{"not a member", account.ENOTFOUND, "", func(ms []account.TeamMember) { ms[1100].AccountID = solo[1].ID }},
		} {
			t.Run(c.name, func(t *testing.T) {
				ms := make([]account.TeamMember, bulkN)
				for i, a := range bulk {
					ms[i] = account.TeamMember{TeamID: "team-x", AccountID: a.ID}
				}
				c.spoil(ms)
				write(t, db, func(tx account.Tx) error {
					err := tx.Savepoint(ctx, func() error { return tx.AddTeamMembers(ctx, "org-b", ms) })
					if c.field != "" {
						wantConflict(t, err, c.field)
					} else {
						wantCode(t, err, c.code)
					}
					if n := teamOf(t, tx); n != 0 {
						t.Errorf("team-x has %d members after the failed call", n)
					}
					return tx.AddTeamMembers(ctx, "org-b", ms[:2])
				})
				read(t, db, func(tx account.Tx) error {
					if n := teamOf(t, tx); n != 2 {
						t.Errorf("team-x has %d members, want 2", n)
					}
					return nil
				})
				write(t, db, func(tx account.Tx) error {
					for _, m := range ms[:2] {
						if err := tx.SetMemberTeams(ctx, "org-b", m.AccountID, nil); err != nil {
							return err
						}
					}
					return nil
				})
			})
		}
		// A member already in the team.
		err := try(db, func(tx account.Tx) error {
			return tx.AddTeamMembers(ctx, "org-a", []account.TeamMember{{TeamID: "team-1", AccountID: bulk[7].ID}})
		})
		wantConflict(t, err, "team")
	})
}

// bulkInvitation is invitation i of account a to orgID, pending, accepted or cancelled.
func bulkInvitation(prefix, orgID string, a account.Account, i int) account.Invitation {
	id := fmt.Sprintf("%s-inv-%05d", prefix, i)
	inv := account.Invitation{
		ID: id, OrgID: orgID, AccountID: a.ID, Email: a.Email, RoleID: account.RoleMember,
		TokenHash: []byte("hash\x00" + id), State: account.InvitationPending, InviterID: "solo-inviter",
		InviterName: "Ivy Ïnviter", ExpiresAt: t0.Add(time.Duration(i) * time.Hour),
		CreatedAt: t0.Add(time.Duration(i) * time.Microsecond), UpdatedAt: t0.Add(time.Duration(i) * time.Second),
	}
	switch i % 4 {
	case 0:
		inv.State, inv.AcceptedAt = account.InvitationAccepted, t0.Add(time.Duration(i)*time.Minute)
	case 1:
		inv.State, inv.RoleID = account.InvitationCancelled, account.RoleAdmin
	}
	return inv
}

func bulkInvitations(prefix, orgID string, as []account.Account) []account.Invitation {
	invs := make([]account.Invitation, len(as))
	for i, a := range as {
		invs[i] = bulkInvitation(prefix, orgID, a, i)
	}
	return invs
}

func TestBulkCreateInvitations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		solo, bulk := bulkSetup(t, db, false)
		createInvitations(t, db, bulkInvitations("solo", "org-a", solo)...)
		written := bulkInvitations("bulk", "org-a", bulk)
		write(t, db, func(tx account.Tx) error { return tx.CreateInvitations(ctx, written) })
		wantSameRows(t, db, `SELECT * FROM invitations WHERE id LIKE $1 ORDER BY id`)
		read(t, db, func(tx account.Tx) error {
			for i := range written {
				got, err := tx.Invitation(ctx, "org-a", written[i].ID)
				if err != nil {
					return err
				}
				if d := cmp.Diff(written[i], got); d != "" {
					t.Fatalf("invitation %d (-written +read):\n%s", i, d)
				}
				want, err := tx.Invitation(ctx, "org-a", fmt.Sprintf("solo-inv-%05d", i))
				if err != nil {
					return err
				}
				if d := cmp.Diff(want, got, soloToBulk); d != "" {
					t.Fatalf("invitation %d (-solo +bulk):\n%s", i, d)
				}
			}
			return nil
		})

		countB := func(t *testing.T, tx account.Tx) int {
			t.Helper()
			_, n, err := tx.FindInvitations(ctx, account.InvitationFilter{OrgID: "org-b", Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		for k, c := range []struct {
			name, code, field string
			spoil             func(invs []account.Invitation)
		}{
			// bulk[2]'s invitation to org-a is pending, and so is invs[1003].
			{"pending already", account.ECONFLICT, "email", func(invs []account.Invitation) { invs[1003].OrgID, invs[1003].AccountID = "org-a", bulk[2].ID }},
			{"pending repeated", account.ECONFLICT, "email", func(invs []account.Invitation) { invs[1002].AccountID = invs[2].AccountID }},
			{"token taken", account.ECONFLICT, "token", func(invs []account.Invitation) { invs[900].TokenHash = written[3].TokenHash }},
			{"id taken", account.ECONFLICT, "id", func(invs []account.Invitation) { invs[1202].ID = written[0].ID }},
			{"unknown account", account.ENOTFOUND, "", func(invs []account.Invitation) { invs[800].AccountID = "nobody" }},
		} {
			t.Run(c.name, func(t *testing.T) {
				invs := bulkInvitations("conf", "org-b", bulk)
				c.spoil(invs)
				write(t, db, func(tx account.Tx) error {
					err := tx.Savepoint(ctx, func() error { return tx.CreateInvitations(ctx, invs) })
					if c.field != "" {
						wantConflict(t, err, c.field)
					} else {
						wantCode(t, err, c.code)
					}
					if n := countB(t, tx); n != k {
						t.Errorf("%d invitations of org-b after the failed call, want %d", n, k)
					}
					// The transaction goes on.
					return tx.CreateInvitation(ctx, bulkInvitation("after"+strconv.Itoa(k), "org-b", solo[k], k))
				})
				read(t, db, func(tx account.Tx) error {
					if n := countB(t, tx); n != k+1 {
						t.Errorf("%d invitations of org-b, want %d", n, k+1)
					}
					return nil
				})
			})
		}
	})
}

// bulkEmail is email i of the batch prefix.
func bulkEmail(prefix string, i int) account.Email {
	e := account.Email{
		ID: fmt.Sprintf("%s-msg-%05d", prefix, i), OrgID: "org-a", Kind: "invitation", To: fmt.Sprintf("%s.%05d@example.com", prefix, i),
		Subject: "Sujet ç " + strconv.Itoa(i), Text: "Text\n" + strconv.Itoa(i), HTML: "<p>HTML " + strconv.Itoa(i) + "</p>",
		CreatedAt: t0.Add(time.Duration(i) * time.Microsecond),
	}
	if i%3 == 0 {
		e.OrgID, e.Kind, e.HTML = "", "password.reset", ""
	}
	return e
}

func bulkEmails(prefix string) []account.Email {
	es := make([]account.Email, bulkN)
	for i := range es {
		es[i] = bulkEmail(prefix, i)
	}
	return es
}

func TestBulkEnqueueEmails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		var calls atomic.Int32
		db.OnEmail(func() { calls.Add(1) })
		wantCalls := func(t *testing.T, want int32) {
			t.Helper()
			if got := calls.Load(); got != want {
				t.Fatalf("OnEmail called %d times, want %d", got, want)
			}
		}

		enqueue(t, db, bulkEmails("solo")...)
		wantCalls(t, 1)
		// Nothing to write: no hook.
		write(t, db, func(tx account.Tx) error { return tx.EnqueueEmails(ctx, nil) })
		write(t, db, func(tx account.Tx) error { return tx.EnqueueEmails(ctx, []account.Email{}) })
		wantCalls(t, 1)
		// Rolled back: no hook.
		boom := errors.New("boom")
		err := db.Write(ctx, func(tx account.Tx) error {
			if err := tx.EnqueueEmails(ctx, bulkEmails("bulk")); err != nil {
				return err
			}
			return boom
		})
		if err != boom {
			t.Fatalf("Write: %v", err)
		}
		wantCalls(t, 1)
		// Committed: the hook runs once, after the commit.
		write(t, db, func(tx account.Tx) error {
			err := tx.EnqueueEmails(ctx, bulkEmails("bulk"))
			wantCalls(t, 1)
			return err
		})
		wantCalls(t, 2)

		wantSameRows(t, db, `SELECT * FROM outbox WHERE id LIKE $1 ORDER BY id`)
		all, err := db.FindEmails(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]account.OutboxMessage{}
		for _, m := range all {
			byID[m.ID] = m
		}
		if len(byID) != 2*bulkN {
			t.Fatalf("%d messages, want %d", len(byID), 2*bulkN)
		}
		for i := range bulkN {
			solo, bulk := byID[bulkEmail("solo", i).ID], byID[bulkEmail("bulk", i).ID]
			if d := cmp.Diff(solo, bulk, soloToBulk); d != "" {
				t.Fatalf("message %d (-solo +bulk):\n%s", i, d)
			}
			if d := cmp.Diff(bulkEmail("bulk", i), bulk.Email); d != "" || bulk.State != account.OutboxPending || !bulk.NextAt.Equal(bulk.CreatedAt) {
				t.Fatalf("message %d: %+v (-written +read):\n%s", i, bulk, d)
			}
		}

		// A taken id fails the call; in a savepoint nothing of it stays.
		es := bulkEmails("conf")
		es[1100].ID = bulkEmail("bulk", 7).ID
		write(t, db, func(tx account.Tx) error {
			err := tx.Savepoint(ctx, func() error { return tx.EnqueueEmails(ctx, es) })
			wantConflict(t, err, "id")
			return tx.EnqueueEmail(ctx, bulkEmail("after", 0))
		})
		n, err := db.CountEmails(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n[account.OutboxPending] != 2*bulkN+1 {
			t.Errorf("%d pending messages, want %d", n[account.OutboxPending], 2*bulkN+1)
		}
	})
}

// bulkEvent is audit event i of the batch prefix.
func bulkEvent(prefix string, i int) account.AuditEvent {
	e := account.AuditEvent{
		ID: fmt.Sprintf("%s-ev-%05d", prefix, i), OrgID: "org-a", ActorID: "solo-actor", ActorEmail: "actor@example.com",
		Action: "member.added", TargetType: "account", TargetID: fmt.Sprintf("%s-acc-%05d", prefix, i),
		Before: []byte(`{"role":"member"}`), After: []byte(`{"role":"admin","teams":["ç"]}`),
		IP: "2001:db8::1", CreatedAt: t0.Add(time.Duration(i) * time.Microsecond),
	}
	if i%3 == 0 {
		e.Before = nil
	}
	if i%5 == 0 {
		e.After, e.ActorID, e.IP = nil, "", ""
	}
	return e
}

func bulkEvents(prefix string) []account.AuditEvent {
	es := make([]account.AuditEvent, bulkN)
	for i := range es {
		es[i] = bulkEvent(prefix, i)
	}
	return es
}

func TestBulkInsertAudits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		insert(t, db, account.Tx.InsertAudit, bulkEvents("solo")...)
		write(t, db, func(tx account.Tx) error { return tx.InsertAudits(ctx, bulkEvents("bulk")) })
		wantSameRows(t, db, `SELECT * FROM audit_events WHERE id LIKE $1 ORDER BY id`)
		var all []account.AuditEvent
		read(t, db, func(tx account.Tx) (err error) {
			all, err = tx.FindAudit(ctx, account.AuditFilter{OrgID: "org-a"})
			return err
		})
		// Newest (highest id) first: the solo events, then the bulk ones.
		if len(all) != 2*bulkN {
			t.Fatalf("%d events, want %d", len(all), 2*bulkN)
		}
		solo, bulk := all[:bulkN], all[bulkN:]
		for i := range bulk {
			if d := cmp.Diff(solo[i], bulk[i], soloToBulk); d != "" {
				t.Fatalf("event %d (-solo +bulk):\n%s", i, d)
			}
			if d := cmp.Diff(bulkEvent("bulk", bulkN-1-i), bulk[i]); d != "" {
				t.Fatalf("event %d (-written +read):\n%s", i, d)
			}
		}

		es := bulkEvents("conf")
		es[1000].ID = bulk[0].ID
		write(t, db, func(tx account.Tx) error {
			err := tx.Savepoint(ctx, func() error { return tx.InsertAudits(ctx, es) })
			wantConflict(t, err, "id")
			if n, err := tx.CountAudit(ctx, "org-a"); err != nil || n != 2*bulkN {
				t.Errorf("CountAudit after the failed call: %d, %v", n, err)
			}
			return tx.InsertAudit(ctx, bulkEvent("after", 0))
		})
		read(t, db, func(tx account.Tx) error {
			n, err := tx.CountAudit(ctx, "org-a")
			if n != 2*bulkN+1 {
				t.Errorf("CountAudit: %d, want %d", n, 2*bulkN+1)
			}
			return err
		})
	})
}

func TestBulkLookups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		_, bulk := bulkSetup(t, db, true)
		var even []account.Account
		for i, a := range bulk {
			if i%2 == 0 {
				even = append(even, a)
			}
		}
		write(t, db, func(tx account.Tx) error {
			return tx.CreateMemberships(ctx, bulkMemberships("org-b", even), even)
		})
		byID := func(a, b account.Account) int { return strings.Compare(a.ID, b.ID) }
		membershipOrder := func(a, b account.Membership) int { return strings.Compare(a.AccountID, b.AccountID) }
		// Every third account, and the org-b memberships of those (the even ones).
		var every3 []account.Account
		var every3Keys []string
		var every3B []account.Membership
		for i, a := range bulk {
			if i%3 == 1 {
				every3 = append(every3, a)
				every3Keys = append(every3Keys, account.EmailKey(a.Email), "missing"+strconv.Itoa(i)+"@example.com")
				if i%2 == 0 {
					every3B = append(every3B, bulkMembership("org-b", a, i/2))
				}
			}
		}
		check := func(t *testing.T, tx account.Tx) {
			t.Helper()
			for _, c := range []struct {
				name string
				keys []string
				want []account.Account
			}{
				{"all", append(emailKeys(bulk), "missing@example.com"), bulk},
				{"repeated", append(emailKeys(bulk), emailKeys(bulk[:600])...), bulk},
				{"every third", every3Keys, every3},
				{"none", nil, nil},
				{"missing", []string{"missing@example.com"}, nil},
			} {
				got, err := tx.AccountsByEmails(ctx, c.keys)
				if err != nil {
					t.Fatalf("AccountsByEmails %s: %v", c.name, err)
				}
				slices.SortFunc(got, byID)
				if d := cmp.Diff(c.want, got, equate); d != "" {
					t.Fatalf("AccountsByEmails %s (-want +got):\n%s", c.name, d)
				}
			}
			for _, c := range []struct {
				name, orgID string
				ids         []string
				want        []account.Membership
			}{
				{"org-a", "org-a", append(accountIDs(bulk), "nobody"), bulkMemberships("org-a", bulk)},
				{"org-b", "org-b", append(accountIDs(bulk), accountIDs(bulk)...), bulkMemberships("org-b", even)},
				{"org-b every third", "org-b", accountIDs(every3), every3B},
				{"none", "org-a", nil, nil},
				{"other org", "org-c", accountIDs(bulk), nil},
			} {
				got, err := tx.MembershipsOfAccounts(ctx, c.orgID, c.ids)
				if err != nil {
					t.Fatalf("MembershipsOfAccounts %s: %v", c.name, err)
				}
				slices.SortFunc(got, membershipOrder)
				if d := cmp.Diff(c.want, got, equate); d != "" {
					t.Fatalf("MembershipsOfAccounts %s (-want +got):\n%s", c.name, d)
				}
			}
		}
		// On a reader, and in a write transaction.
		read(t, db, func(tx account.Tx) error { check(t, tx); return nil })
		write(t, db, func(tx account.Tx) error { check(t, tx); return nil })
	})
}

// TestBulkEmpty checks that the bulk writes of nothing run no statement: on a reader,
// where any INSERT would fail, they succeed.
func TestBulkEmpty(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		var calls atomic.Int32
		db.OnEmail(func() { calls.Add(1) })
		calls0 := func(tx account.Tx) error {
			return errors.Join(
				tx.CreateAccounts(ctx, nil),
				tx.CreateMemberships(ctx, nil, nil),
				tx.AddTeamMembers(ctx, "org-a", nil),
				tx.CreateInvitations(ctx, []account.Invitation{}),
				tx.EnqueueEmails(ctx, nil),
				tx.InsertAudits(ctx, nil),
			)
		}
		read(t, db, calls0)
		write(t, db, calls0)
		if n := calls.Load(); n != 0 {
			t.Errorf("OnEmail called %d times", n)
		}
	})
}

// BenchmarkBulkInsert writes batches of 500 accounts and their memberships with
// CreateAccounts and CreateMemberships, one transaction per batch, on each engine;
// ROSTER_BENCH_BULK_BATCHES (default 4) batches per iteration.
//
//	ROSTER_BENCH_BULK_BATCHES=200 go test -run '^$' -bench BulkInsert -benchtime 1x ./internal/sqlstore/
func BenchmarkBulkInsert(b *testing.B) {
	const batch = 500
	batches := 4
	if v := os.Getenv("ROSTER_BENCH_BULK_BATCHES"); v != "" {
		var err error
		if batches, err = strconv.Atoi(v); err != nil || batches < 1 {
			b.Fatalf("ROSTER_BENCH_BULK_BATCHES=%q", v)
		}
	}
	for _, engine := range storetest.Engines(b) {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.Open(b, engine)
			now := time.Now()
			err := db.Write(ctx, func(tx account.Tx) error {
				return tx.CreateOrganization(ctx, account.Organization{ID: "org-bench", Kind: account.KindOrganization,
					Name: "Bench", Slug: "bench", CreatedAt: now, UpdatedAt: now})
			})
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			b.ResetTimer()
			for range b.N {
				for range batches {
					as := make([]account.Account, batch)
					ms := make([]account.Membership, batch)
					for i := range as {
						n++
						as[i] = account.Account{ID: fmt.Sprintf("acct%022d", n), Email: fmt.Sprintf("user%d@example.com", n),
							FirstName: "First", LastName: "Last" + strconv.Itoa(n), State: account.AccountActive,
							CreatedAt: now, UpdatedAt: now}
						ms[i] = account.Membership{OrgID: "org-bench", AccountID: as[i].ID, RoleID: account.RoleMember,
							State: account.MemberActive, CreatedAt: now, UpdatedAt: now}
					}
					err := db.Write(ctx, func(tx account.Tx) error {
						if err := tx.CreateAccounts(ctx, as); err != nil {
							return err
						}
						return tx.CreateMemberships(ctx, ms, as)
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
