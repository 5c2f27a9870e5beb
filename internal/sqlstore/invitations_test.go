package sqlstore_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// newInvitation is a pending invitation of accountID to orgID, expiring at expires,
// whose token hash is derived from its id.
func newInvitation(id, orgID, accountID string, expires time.Time) account.Invitation {
	return account.Invitation{
		ID: id, OrgID: orgID, AccountID: accountID, Email: accountID + "@example.com", RoleID: account.RoleMember,
		TokenHash: []byte("hash\x00" + id), State: account.InvitationPending, InviterID: "acc-inviter",
		InviterName: "Ivy Inviter", ExpiresAt: expires, CreatedAt: t0, UpdatedAt: t0,
	}
}

func createInvitations(t *testing.T, db *sqlstore.DB, invs ...account.Invitation) {
	t.Helper()
	insert(t, db, account.Tx.CreateInvitation, invs...)
}

func getInvitation(t *testing.T, db *sqlstore.DB, orgID, id string) account.Invitation {
	t.Helper()
	var inv account.Invitation
	read(t, db, func(tx account.Tx) (err error) {
		inv, err = tx.Invitation(ctx, orgID, id)
		return err
	})
	return inv
}

// accept runs AcceptInvitation in its own transaction.
func accept(t *testing.T, db *sqlstore.DB, id string, hash []byte, now time.Time) bool {
	t.Helper()
	var ok bool
	write(t, db, func(tx account.Tx) (err error) {
		ok, err = tx.AcceptInvitation(ctx, id, hash, now)
		return err
	})
	return ok
}

func TestInvitations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db,
			newOrg("org-a", "A", "org-a", account.KindOrganization, ""),
			newOrg("org-b", "B", "org-b", account.KindOrganization, ""))
		createAccounts(t, db, newAccount("acc-1", "one@example.com"), newAccount("acc-2", "two@example.com"))
		inv := newInvitation("inv-1", "org-a", "acc-1", t0.Add(7*24*time.Hour))
		createInvitations(t, db, inv)

		// Reads: by id (in its organization only), by token, pending of the membership.
		if d := cmp.Diff(inv, getInvitation(t, db, "org-a", inv.ID)); d != "" {
			t.Errorf("Invitation (-want +got):\n%s", d)
		}
		read(t, db, func(tx account.Tx) error {
			got, err := tx.InvitationByTokenHash(ctx, inv.TokenHash)
			if d := cmp.Diff(inv, got); d != "" {
				t.Errorf("InvitationByTokenHash (-want +got):\n%s", d)
			}
			got, err2 := tx.PendingInvitation(ctx, "org-a", "acc-1")
			if d := cmp.Diff(inv, got); d != "" {
				t.Errorf("PendingInvitation (-want +got):\n%s", d)
			}
			_, e := tx.Invitation(ctx, "org-b", inv.ID)
			wantCode(t, e, account.ENOTFOUND)
			_, e = tx.Invitation(ctx, "org-a", "nope")
			wantCode(t, e, account.ENOTFOUND)
			if e != nil && account.ErrorMessage(e) != "invitation not found" {
				t.Errorf("message %q", account.ErrorMessage(e))
			}
			_, e = tx.InvitationByTokenHash(ctx, []byte("hash\x00nope"))
			wantCode(t, e, account.ENOTFOUND)
			_, e = tx.PendingInvitation(ctx, "org-a", "acc-2")
			wantCode(t, e, account.ENOTFOUND)
			_, e = tx.PendingInvitation(ctx, "org-b", "acc-1")
			wantCode(t, e, account.ENOTFOUND)
			return errors.Join(err, err2)
		})

		// One pending invitation per membership; other states, other organizations and
		// other accounts are free. Tokens are unique; the account must exist.
		dup := newInvitation("inv-dup", "org-a", "acc-1", t0.Add(time.Hour))
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.CreateInvitation(ctx, dup) }), "email")
		cancelled := newInvitation("inv-0", "org-a", "acc-1", t0.Add(time.Hour))
		cancelled.State = account.InvitationCancelled
		createInvitations(t, db, cancelled,
			newInvitation("inv-2", "org-b", "acc-1", t0.Add(time.Hour)),
			newInvitation("inv-3", "org-a", "acc-2", t0.Add(time.Hour)))
		sameToken := newInvitation("inv-4", "org-b", "acc-2", t0.Add(time.Hour))
		sameToken.TokenHash = inv.TokenHash
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.CreateInvitation(ctx, sameToken) }), "token")
		wantCode(t, try(db, func(tx account.Tx) error {
			return tx.CreateInvitation(ctx, newInvitation("inv-5", "org-a", "nobody", t0))
		}), account.ENOTFOUND)

		// UpdateInvitation writes role, token, state, inviter, expiry, update and
		// acceptance times; not the email, the account or the creation time.
		upd := inv
		upd.RoleID, upd.TokenHash, upd.InviterID, upd.InviterName = account.RoleAdmin, []byte("new-token"), "acc-2", "Two"
		upd.ExpiresAt, upd.UpdatedAt = t0.Add(14*24*time.Hour), t0.Add(time.Minute)
		upd.Email, upd.AccountID, upd.CreatedAt = "other@example.com", "acc-2", t0.Add(-time.Hour) // ignored
		write(t, db, func(tx account.Tx) error { return tx.UpdateInvitation(ctx, upd) })
		upd.Email, upd.AccountID, upd.CreatedAt = inv.Email, inv.AccountID, inv.CreatedAt
		if d := cmp.Diff(upd, getInvitation(t, db, "org-a", inv.ID)); d != "" {
			t.Errorf("after UpdateInvitation (-want +got):\n%s", d)
		}
		read(t, db, func(tx account.Tx) error {
			_, err := tx.InvitationByTokenHash(ctx, inv.TokenHash) // the old token is gone
			wantCode(t, err, account.ENOTFOUND)
			return nil
		})
		missing := upd
		missing.OrgID = "org-b"
		wantCode(t, try(db, func(tx account.Tx) error { return tx.UpdateInvitation(ctx, missing) }), account.ENOTFOUND)
		missing = upd
		missing.ID = "nope"
		wantCode(t, try(db, func(tx account.Tx) error { return tx.UpdateInvitation(ctx, missing) }), account.ENOTFOUND)
		// An update that would make a second pending invitation of acc-1 in org-a.
		revive := cancelled
		revive.State = account.InvitationPending
		wantConflict(t, try(db, func(tx account.Tx) error { return tx.UpdateInvitation(ctx, revive) }), "email")

		// AcceptInvitation: only with the current token, only unexpired (expires_at >
		// now), only once.
		now := t0.Add(time.Hour)
		if accept(t, db, inv.ID, inv.TokenHash, now) {
			t.Error("accepted with the replaced token")
		}
		if accept(t, db, inv.ID, upd.TokenHash, upd.ExpiresAt) {
			t.Error("accepted at its expiry")
		}
		if accept(t, db, inv.ID, upd.TokenHash, upd.ExpiresAt.Add(time.Second)) {
			t.Error("accepted after its expiry")
		}
		if accept(t, db, "inv-3", upd.TokenHash, now) {
			t.Error("accepted another invitation with this token")
		}
		if accept(t, db, cancelled.ID, cancelled.TokenHash, t0) {
			t.Error("accepted a cancelled invitation")
		}
		if !accept(t, db, inv.ID, upd.TokenHash, now) {
			t.Fatal("not accepted")
		}
		if accept(t, db, inv.ID, upd.TokenHash, now) {
			t.Error("accepted twice")
		}
		want := upd
		want.State, want.AcceptedAt, want.UpdatedAt = account.InvitationAccepted, now, now
		if d := cmp.Diff(want, getInvitation(t, db, "org-a", inv.ID)); d != "" {
			t.Errorf("after AcceptInvitation (-want +got):\n%s", d)
		}
		read(t, db, func(tx account.Tx) error {
			_, err := tx.PendingInvitation(ctx, "org-a", "acc-1")
			wantCode(t, err, account.ENOTFOUND)
			return nil
		})
		// The membership may be invited again.
		createInvitations(t, db, newInvitation("inv-6", "org-a", "acc-1", t0.Add(time.Hour)))

		// An expired pending invitation is still the pending one.
		read(t, db, func(tx account.Tx) error {
			got, err := tx.PendingInvitation(ctx, "org-b", "acc-1")
			if got.ID != "inv-2" {
				t.Errorf("PendingInvitation(org-b, acc-1) = %q", got.ID)
			}
			return err
		})

		// Invitations go with their organization and their account.
		write(t, db, func(tx account.Tx) error { return tx.DeleteOrganization(ctx, "org-b") })
		write(t, db, func(tx account.Tx) error { return tx.DeleteAccount(ctx, "acc-2") })
		var all []account.Invitation
		read(t, db, func(tx account.Tx) (err error) {
			all, _, err = tx.FindInvitations(ctx, account.InvitationFilter{OrgID: "org-a"})
			return err
		})
		var ids []string
		for _, i := range all {
			ids = append(ids, i.ID)
		}
		if d := cmp.Diff([]string{"inv-6", "inv-1", "inv-0"}, ids); d != "" {
			t.Errorf("invitations left (-want +got):\n%s", d)
		}
	})
}

// TestAcceptInvitationConcurrently: of concurrent acceptances exactly one wins.
func TestAcceptInvitationConcurrently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db, newOrg("org-a", "A", "org-a", account.KindOrganization, ""))
		createAccounts(t, db, newAccount("acc-1", "one@example.com"))
		for round := range 5 {
			inv := newInvitation(fmt.Sprintf("inv-%d", round), "org-a", "acc-1", t0.Add(time.Hour))
			createInvitations(t, db, inv)
			var wins atomic.Int32
			var wg sync.WaitGroup
			for range 6 {
				wg.Go(func() {
					err := db.Write(ctx, func(tx account.Tx) error {
						ok, err := tx.AcceptInvitation(ctx, inv.ID, inv.TokenHash, t0)
						if ok {
							wins.Add(1)
						}
						return err
					})
					if err != nil {
						t.Errorf("AcceptInvitation: %v", err)
					}
				})
			}
			wg.Wait()
			if n := wins.Load(); n != 1 {
				t.Fatalf("round %d: %d acceptances won, want 1", round, n)
			}
		}
	})
}

func TestFindInvitations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db,
			newOrg("org-a", "A", "org-a", account.KindOrganization, ""),
			newOrg("org-b", "B", "org-b", account.KindOrganization, ""))
		now := t0.Add(10 * time.Hour)
		var invs []account.Invitation // of org A
		for i := range 17 {
			acc := newAccount(fmt.Sprintf("acc-%02d", i), fmt.Sprintf("u%02d@example.com", i))
			createAccounts(t, db, acc)
			inv := newInvitation(fmt.Sprintf("inv-%02d", i), "org-a", acc.ID, now.Add(time.Hour))
			switch i % 5 {
			case 1: // expired
				inv.ExpiresAt = now.Add(-time.Hour)
			case 2: // expired exactly now
				inv.ExpiresAt = now
			case 3:
				inv.State, inv.AcceptedAt = account.InvitationAccepted, t0
			case 4:
				inv.State = account.InvitationCancelled
			}
			invs = append(invs, inv)
			// Org B's invitations, all pending, must never show.
			other := newInvitation(fmt.Sprintf("inv-%02d-b", i), "org-b", acc.ID, now.Add(time.Hour))
			createInvitations(t, db, inv, other)
		}
		slices.Reverse(invs) // newest (highest id) first
		if n := len(invs); n != 17 {
			t.Fatal(n)
		}
		counts := map[account.InvitationState]int{}
		for _, state := range []account.InvitationState{"", account.InvitationPending, account.InvitationExpired,
			account.InvitationAccepted, account.InvitationCancelled} {
			want := []account.Invitation{}
			for _, inv := range invs {
				if state == "" || inv.StateAt(now) == state {
					want = append(want, inv)
				}
			}
			counts[state] = len(want)
			for _, lim := range []int{0, 1, 3, 100} {
				f := account.InvitationFilter{OrgID: "org-a", State: state, Now: now, Limit: lim}
				var got []account.Invitation
				for page := 0; ; page++ {
					if page > 20 {
						t.Fatalf("state %q limit %d: paging does not end", state, lim)
					}
					var items []account.Invitation
					var total int
					read(t, db, func(tx account.Tx) (err error) {
						items, total, err = tx.FindInvitations(ctx, f)
						return err
					})
					wantTotal := len(want)
					if f.SkipTotal {
						wantTotal = -1
					}
					if total != wantTotal {
						t.Errorf("state %q limit %d page %d: total %d, want %d", state, lim, page, total, wantTotal)
					}
					if lim > 0 && len(items) > lim {
						t.Fatalf("state %q: %d items, limit %d", state, len(items), lim)
					}
					got = append(got, items...)
					if lim == 0 || len(items) < lim {
						break
					}
					f.Before, f.SkipTotal = items[len(items)-1].ID, true
				}
				if d := cmp.Diff(want, got, equate); d != "" {
					t.Errorf("state %q limit %d (-want +got):\n%s", state, lim, d)
				}
			}
		}
		// The seed covers every state.
		wantCounts := map[account.InvitationState]int{"": 17, account.InvitationPending: 4, account.InvitationExpired: 7,
			account.InvitationAccepted: 3, account.InvitationCancelled: 3}
		if d := cmp.Diff(wantCounts, counts); d != "" {
			t.Errorf("counts (-want +got):\n%s", d)
		}
		// The first page may skip its total too; an unknown organization has none.
		read(t, db, func(tx account.Tx) error {
			items, total, err := tx.FindInvitations(ctx, account.InvitationFilter{OrgID: "org-a", Limit: 2, SkipTotal: true})
			if total != -1 || len(items) != 2 || items[0].ID != "inv-16" {
				t.Errorf("SkipTotal: %d items, total %d", len(items), total)
			}
			items, total, err2 := tx.FindInvitations(ctx, account.InvitationFilter{OrgID: "nope"})
			if total != 0 || items == nil || len(items) != 0 {
				t.Errorf("unknown organization: %v, total %d", items, total)
			}
			return errors.Join(err, err2)
		})
	})
}

// TestMemberInvitation: Member and FindMembers fill the pending invitation of
// invited members, of their own organization, and of no one else.
func TestMemberInvitation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db,
			newOrg("org-a", "A", "org-a", account.KindOrganization, ""),
			newOrg("org-b", "B", "org-b", account.KindOrganization, ""))
		var accs []account.Account
		for i := range 6 {
			accs = append(accs, newAccount(fmt.Sprintf("acc-%d", i), fmt.Sprintf("u%d@example.com", i)))
		}
		createAccounts(t, db, accs...)
		createMemberships(t, db,
			newMembership("org-a", "acc-0", account.RoleOwner, account.MemberActive),   // accepted invitation
			newMembership("org-a", "acc-1", account.RoleMember, account.MemberInvited), // pending invitation
			newMembership("org-a", "acc-2", account.RoleAdmin, account.MemberInvited),  // expired pending invitation
			newMembership("org-a", "acc-3", account.RoleMember, account.MemberInvited), // only a cancelled one
			newMembership("org-a", "acc-4", account.RoleMember, account.MemberActive),  // none
			newMembership("org-b", "acc-1", account.RoleMember, account.MemberInvited), // pending in B
			newMembership("org-b", "acc-5", account.RoleMember, account.MemberInvited)) // pending in B
		accepted := newInvitation("inv-0", "org-a", "acc-0", t0.Add(time.Hour))
		accepted.State, accepted.AcceptedAt = account.InvitationAccepted, t0
		pending := newInvitation("inv-1", "org-a", "acc-1", t0.Add(time.Hour))
		expired := newInvitation("inv-2", "org-a", "acc-2", t0.Add(-time.Hour))
		expired.RoleID = account.RoleAdmin
		cancelled := newInvitation("inv-3", "org-a", "acc-3", t0.Add(time.Hour))
		cancelled.State = account.InvitationCancelled
		inB := newInvitation("inv-4", "org-b", "acc-1", t0.Add(time.Hour))
		inB5 := newInvitation("inv-5", "org-b", "acc-5", t0.Add(time.Hour))
		createInvitations(t, db, accepted, pending, expired, cancelled, inB, inB5)

		wantInv := map[string]*account.Invitation{"acc-1": &pending, "acc-2": &expired}
		check := func(what string, m account.Member) {
			t.Helper()
			if d := cmp.Diff(wantInv[m.AccountID], m.Invitation); d != "" {
				t.Errorf("%s %s: invitation (-want +got):\n%s", what, m.AccountID, d)
			}
		}
		read(t, db, func(tx account.Tx) error {
			for _, id := range []string{"acc-0", "acc-1", "acc-2", "acc-3", "acc-4"} {
				m, err := tx.Member(ctx, "org-a", id)
				if err != nil {
					return err
				}
				check("Member", m)
			}
			for _, lim := range []int{0, 2} {
				f := account.MemberFilter{OrgID: "org-a", Limit: lim}
				n := 0
				for {
					ms, _, err := tx.FindMembers(ctx, f)
					if err != nil {
						return err
					}
					for _, m := range ms {
						check("FindMembers", m)
						n++
					}
					if lim == 0 || len(ms) < lim {
						break
					}
					f.After = ms[len(ms)-1].AccountID
				}
				if n != 5 {
					t.Errorf("FindMembers limit %d: %d members", lim, n)
				}
			}
			ms, _, err := tx.FindMembers(ctx, account.MemberFilter{OrgID: "org-a", State: account.MemberInvited})
			if err != nil {
				return err
			}
			if len(ms) != 3 || ms[0].Invitation == nil || ms[0].Invitation.ID != "inv-1" || ms[2].Invitation != nil {
				t.Errorf("invited members: %+v", ms)
			}
			// Org B's member acc-1 has B's invitation.
			m, err := tx.Member(ctx, "org-b", "acc-1")
			if err != nil {
				return err
			}
			if d := cmp.Diff(&inB, m.Invitation); d != "" {
				t.Errorf("Member(org-b, acc-1) invitation (-want +got):\n%s", d)
			}
			// MembershipsOfAccount is unaffected.
			ams, err := tx.MembershipsOfAccount(ctx, "acc-1")
			if err != nil {
				return err
			}
			if len(ams) != 2 || ams[0].OrgID != "org-a" || ams[0].State != account.MemberInvited || ams[1].OrgID != "org-b" {
				t.Errorf("MembershipsOfAccount: %+v", ams)
			}
			return nil
		})
	})
}

func newJoinRequest(id, orgID, accountID string) account.JoinRequest {
	return account.JoinRequest{ID: id, OrgID: orgID, AccountID: accountID, Message: "let me in " + id,
		State: account.JoinRequestPending, CreatedAt: t0, UpdatedAt: t0}
}

func TestJoinRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db,
			newOrg("org-a", "A", "org-a", account.KindOrganization, ""),
			newOrg("org-b", "B", "org-b", account.KindOrganization, ""))
		var accs []account.Account
		for i := range 12 {
			accs = append(accs, newAccount(fmt.Sprintf("acc-%02d", i), fmt.Sprintf("u%02d@example.com", i)))
		}
		createAccounts(t, db, accs...)

		r := newJoinRequest("jr-00", "org-a", "acc-00")
		insert(t, db, account.Tx.CreateJoinRequest, r)
		r.Account = accs[0]
		read(t, db, func(tx account.Tx) error {
			got, err := tx.JoinRequest(ctx, "org-a", r.ID)
			if d := cmp.Diff(r, got); d != "" {
				t.Errorf("JoinRequest (-want +got):\n%s", d)
			}
			_, e := tx.JoinRequest(ctx, "org-b", r.ID)
			wantCode(t, e, account.ENOTFOUND)
			_, e = tx.JoinRequest(ctx, "org-a", "nope")
			wantCode(t, e, account.ENOTFOUND)
			return err
		})

		// One pending request per account and organization.
		wantConflict(t, try(db, func(tx account.Tx) error {
			return tx.CreateJoinRequest(ctx, newJoinRequest("jr-dup", "org-a", "acc-00"))
		}), "organization")
		insert(t, db, account.Tx.CreateJoinRequest, newJoinRequest("jr-b", "org-b", "acc-00"))
		wantCode(t, try(db, func(tx account.Tx) error {
			return tx.CreateJoinRequest(ctx, newJoinRequest("jr-x", "org-a", "nobody"))
		}), account.ENOTFOUND)

		// UpdateJoinRequest writes the decision, not the message or creation time.
		upd := r
		upd.State, upd.DecidedBy, upd.DecidedAt, upd.InvitationID, upd.UpdatedAt =
			account.JoinRequestApproved, "acc-01", t0.Add(time.Hour), "inv-1", t0.Add(time.Hour)
		upd.Message, upd.CreatedAt = "changed", t0.Add(-time.Hour) // ignored
		write(t, db, func(tx account.Tx) error { return tx.UpdateJoinRequest(ctx, upd) })
		upd.Message, upd.CreatedAt = r.Message, r.CreatedAt
		read(t, db, func(tx account.Tx) error {
			got, err := tx.JoinRequest(ctx, "org-a", r.ID)
			if d := cmp.Diff(upd, got); d != "" {
				t.Errorf("after UpdateJoinRequest (-want +got):\n%s", d)
			}
			return err
		})
		missing := upd
		missing.OrgID = "org-b"
		wantCode(t, try(db, func(tx account.Tx) error { return tx.UpdateJoinRequest(ctx, missing) }), account.ENOTFOUND)
		// Decided, it no longer blocks a new request.
		insert(t, db, account.Tx.CreateJoinRequest, newJoinRequest("jr-01", "org-a", "acc-00"))

		// FindJoinRequests: newest first, by state, paged.
		var all []account.JoinRequest // of org A, newest first
		for i := 1; i < 12; i++ {
			jr := newJoinRequest(fmt.Sprintf("jr-%02d", i+1), "org-a", accs[i].ID)
			if i%3 == 0 {
				jr.State, jr.DecidedBy, jr.DecidedAt = account.JoinRequestDenied, "acc-00", t0.Add(time.Minute)
			}
			insert(t, db, account.Tx.CreateJoinRequest, jr)
			jr.Account = accs[i]
			all = append(all, jr)
		}
		jr01 := newJoinRequest("jr-01", "org-a", "acc-00")
		jr01.Account = accs[0]
		all = append(all, jr01, upd)
		slices.Reverse(all[:11])
		for _, state := range []account.JoinRequestState{"", account.JoinRequestPending, account.JoinRequestApproved,
			account.JoinRequestDenied} {
			want := []account.JoinRequest{}
			for _, jr := range all {
				if state == "" || jr.State == state {
					want = append(want, jr)
				}
			}
			for _, lim := range []int{0, 1, 4} {
				f := account.JoinRequestFilter{OrgID: "org-a", State: state, Limit: lim}
				var got []account.JoinRequest
				for page := 0; ; page++ {
					if page > 20 {
						t.Fatalf("paging does not end")
					}
					var items []account.JoinRequest
					var total int
					read(t, db, func(tx account.Tx) (err error) {
						items, total, err = tx.FindJoinRequests(ctx, f)
						return err
					})
					wantTotal := len(want)
					if f.SkipTotal {
						wantTotal = -1
					}
					if total != wantTotal {
						t.Errorf("state %q limit %d page %d: total %d, want %d", state, lim, page, total, wantTotal)
					}
					got = append(got, items...)
					if lim == 0 || len(items) < lim {
						break
					}
					f.Before, f.SkipTotal = items[len(items)-1].ID, true
				}
				if d := cmp.Diff(want, got, equate); d != "" {
					t.Errorf("state %q limit %d (-want +got):\n%s", state, lim, d)
				}
			}
		}
		read(t, db, func(tx account.Tx) error {
			items, total, err := tx.FindJoinRequests(ctx, account.JoinRequestFilter{OrgID: "org-b"})
			if total != 1 || len(items) != 1 || items[0].ID != "jr-b" || items[0].Account.Email != accs[0].Email {
				t.Errorf("org B's requests: %+v, total %d", items, total)
			}
			return err
		})
	})
}

func TestActiveMembersWithRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db,
			newOrg("org-a", "A", "org-a", account.KindOrganization, ""),
			newOrg("org-b", "B", "org-b", account.KindOrganization, ""))
		role := account.Role{ID: "role-r", OrgID: "org-a", Name: "Reviewer", Active: true, CreatedAt: t0, UpdatedAt: t0}
		write(t, db, func(tx account.Tx) error { return tx.CreateRole(ctx, role) })
		// Emails sort otherwise than ids.
		accs := []account.Account{
			newAccount("acc-1", "Zed@example.com"), newAccount("acc-2", "amy@example.com"),
			newAccount("acc-3", "Bob@example.com"), newAccount("acc-4", "carl@example.com"),
			newAccount("acc-5", "dora@example.com"), newAccount("acc-6", "eve@example.com"),
		}
		createAccounts(t, db, accs...)
		createMemberships(t, db,
			newMembership("org-a", "acc-1", account.RoleOwner, account.MemberActive),
			newMembership("org-a", "acc-2", account.RoleAdmin, account.MemberActive),
			newMembership("org-a", "acc-3", "role-r", account.MemberActive),
			newMembership("org-a", "acc-4", account.RoleAdmin, account.MemberInvited),
			newMembership("org-a", "acc-5", account.RoleAdmin, account.MemberDeactivated),
			newMembership("org-a", "acc-6", account.RoleMember, account.MemberActive),
			newMembership("org-b", "acc-6", account.RoleAdmin, account.MemberActive))
		emails := func(roles ...string) []string {
			var got []account.Account
			read(t, db, func(tx account.Tx) (err error) {
				got, err = tx.ActiveMembersWithRoles(ctx, "org-a", roles)
				return err
			})
			if got == nil {
				t.Errorf("ActiveMembersWithRoles(%q) = nil", roles)
			}
			out := []string{}
			for _, a := range got {
				out = append(out, a.Email)
			}
			return out
		}
		for _, c := range []struct {
			roles []string
			want  []string
		}{
			{[]string{account.RoleOwner, account.RoleAdmin, "role-r"}, []string{"amy@example.com", "Bob@example.com", "Zed@example.com"}},
			{[]string{account.RoleAdmin}, []string{"amy@example.com"}},
			{[]string{"role-r", "nope"}, []string{"Bob@example.com"}},
			{nil, []string{}},
			{[]string{}, []string{}},
		} {
			if d := cmp.Diff(c.want, emails(c.roles...)); d != "" {
				t.Errorf("ActiveMembersWithRoles(%q) (-want +got):\n%s", c.roles, d)
			}
		}
		// Whole accounts.
		read(t, db, func(tx account.Tx) error {
			got, err := tx.ActiveMembersWithRoles(ctx, "org-a", []string{account.RoleAdmin})
			if d := cmp.Diff([]account.Account{accs[1]}, got); d != "" {
				t.Errorf("accounts (-want +got):\n%s", d)
			}
			return err
		})
	})
}

func TestAccountTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createAccounts(t, db, newAccount("acc-1", "one@example.com"), newAccount("acc-2", "two@example.com"))
		tok := func(name, kind, accountID string, expires time.Time) account.AccountToken {
			return account.AccountToken{Hash: []byte("tok\x00" + name), Kind: kind, AccountID: accountID,
				Email: name + "@example.com", ExpiresAt: expires, CreatedAt: t0}
		}
		signup := tok("signup", account.TokenVerifyEmail, "", t0.Add(time.Hour))
		signup.Data = []byte(`{"email":"new@example.com"}`)
		reset1 := tok("reset1", account.TokenPasswordReset, "acc-1", t0.Add(time.Hour))
		reset1b := tok("reset1b", account.TokenPasswordReset, "acc-1", t0.Add(2*time.Hour))
		reset2 := tok("reset2", account.TokenPasswordReset, "acc-2", t0.Add(time.Hour))
		old := tok("old", account.TokenVerifyEmail, "", t0)
		insert(t, db, account.Tx.CreateAccountToken, signup, reset1, reset1b, reset2, old)

		get := func(kind string, hash []byte) (account.AccountToken, error) {
			var k account.AccountToken
			err := db.Read(ctx, func(tx account.Tx) (err error) {
				k, err = tx.AccountToken(ctx, kind, hash)
				return err
			})
			return k, err
		}
		for _, want := range []account.AccountToken{signup, reset1} {
			got, err := get(want.Kind, want.Hash)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("AccountToken (-want +got):\n%s", d)
			}
		}
		_, err := get(account.TokenVerifyEmail, reset1.Hash) // another kind
		wantCode(t, err, account.ENOTFOUND)
		_, err = get(account.TokenPasswordReset, []byte("nope"))
		wantCode(t, err, account.ENOTFOUND)
		if k, err := get(old.Kind, old.Hash); err != nil || !k.ExpiresAt.Equal(t0) { // expired, still found
			t.Errorf("expired token: %+v, %v", k, err)
		}
		wantConflict(t, try(db, func(tx account.Tx) error {
			return tx.CreateAccountToken(ctx, tok("signup", account.TokenPasswordReset, "acc-2", t0))
		}), "token")
		wantCode(t, try(db, func(tx account.Tx) error {
			return tx.CreateAccountToken(ctx, tok("x", account.TokenPasswordReset, "nobody", t0))
		}), account.ENOTFOUND)

		del := func(hash []byte) bool {
			var ok bool
			write(t, db, func(tx account.Tx) (err error) {
				ok, err = tx.DeleteAccountToken(ctx, hash)
				return err
			})
			return ok
		}
		if !del(reset1b.Hash) || del(reset1b.Hash) {
			t.Error("DeleteAccountToken: want true, then false")
		}
		if del([]byte("nope")) {
			t.Error("DeleteAccountToken(nope) = true")
		}

		// DeleteAccountTokens: one kind of one account.
		insert(t, db, account.Tx.CreateAccountToken, reset1b)
		write(t, db, func(tx account.Tx) error { return tx.DeleteAccountTokens(ctx, account.TokenVerifyEmail, "acc-1") })
		if _, err := get(reset1.Kind, reset1.Hash); err != nil {
			t.Errorf("another kind's delete took reset1: %v", err)
		}
		write(t, db, func(tx account.Tx) error { return tx.DeleteAccountTokens(ctx, account.TokenPasswordReset, "acc-1") })
		for _, k := range []account.AccountToken{reset1, reset1b} {
			_, err := get(k.Kind, k.Hash)
			wantCode(t, err, account.ENOTFOUND)
		}
		for _, k := range []account.AccountToken{reset2, signup} {
			if _, err := get(k.Kind, k.Hash); err != nil {
				t.Errorf("%s: %v", k.Email, err)
			}
		}

		// Expired tokens: expires_at <= now.
		var n int
		write(t, db, func(tx account.Tx) (err error) {
			n, err = tx.DeleteExpiredAccountTokens(ctx, t0)
			return err
		})
		if n != 1 {
			t.Errorf("DeleteExpiredAccountTokens(t0) = %d, want 1", n)
		}
		_, err = get(old.Kind, old.Hash)
		wantCode(t, err, account.ENOTFOUND)
		write(t, db, func(tx account.Tx) (err error) {
			n, err = tx.DeleteExpiredAccountTokens(ctx, t0.Add(time.Hour).Add(-time.Microsecond))
			return err
		})
		if n != 0 {
			t.Errorf("DeleteExpiredAccountTokens(before expiry) = %d, want 0", n)
		}

		// A deleted account's tokens go with it; the sign-up's stays.
		write(t, db, func(tx account.Tx) error { return tx.DeleteAccount(ctx, "acc-2") })
		_, err = get(reset2.Kind, reset2.Hash)
		wantCode(t, err, account.ENOTFOUND)
		if _, err := get(signup.Kind, signup.Hash); err != nil {
			t.Errorf("signup: %v", err)
		}
		write(t, db, func(tx account.Tx) (err error) {
			n, err = tx.DeleteExpiredAccountTokens(ctx, t0.Add(time.Hour))
			return err
		})
		if n != 1 {
			t.Errorf("DeleteExpiredAccountTokens(t0+1h) = %d, want 1 (the sign-up)", n)
		}

		// Of concurrent uses of one token exactly one deletes it.
		createAccounts(t, db, newAccount("acc-3", "three@example.com"))
		for round := range 5 {
			k := tok(fmt.Sprintf("race%d", round), account.TokenPasswordReset, "acc-3", t0.Add(time.Hour))
			insert(t, db, account.Tx.CreateAccountToken, k)
			var wins atomic.Int32
			var wg sync.WaitGroup
			for range 6 {
				wg.Go(func() {
					err := db.Write(ctx, func(tx account.Tx) error {
						if _, err := tx.AccountToken(ctx, k.Kind, k.Hash); err != nil {
							return nil // a winner committed already
						}
						ok, err := tx.DeleteAccountToken(ctx, k.Hash)
						if ok {
							wins.Add(1)
						}
						return err
					})
					if err != nil {
						t.Errorf("DeleteAccountToken: %v", err)
					}
				})
			}
			wg.Wait()
			if n := wins.Load(); n != 1 {
				t.Fatalf("round %d: %d deletes won, want 1", round, n)
			}
		}
	})
}

// TestSavepoint: a failed savepoint's writes are undone and the transaction goes on,
// on PostgreSQL too after a failed statement; the rest commits.
func TestSavepoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		createOrgs(t, db, newOrg("org-a", "A", "org-a", account.KindOrganization, ""))
		createAccounts(t, db, newAccount("acc-1", "one@example.com"), newAccount("acc-2", "two@example.com"),
			newAccount("acc-3", "three@example.com"))
		createMemberships(t, db,
			newMembership("org-a", "acc-1", account.RoleOwner, account.MemberActive),
			newMembership("org-a", "acc-2", account.RoleMember, account.MemberActive),
			newMembership("org-a", "acc-3", account.RoleMember, account.MemberActive))
		createApps(t, db, newApp("app-1", "studio"))
		createSubs(t, db, newSub("sub-1", "org-a", "app-1", 1, t0))
		team := func(name string) account.Team {
			return account.Team{ID: "team-" + name, OrgID: "org-a", Name: name, CreatedAt: t0, UpdatedAt: t0}
		}
		errDomain := account.Errorf(account.EINVALID, "no")

		write(t, db, func(tx account.Tx) error {
			if _, err := tx.AssignSeat(ctx, "org-a", "sub-1", "acc-1", t0); err != nil {
				return err
			}
			// Beyond the quota: the check (SQLite) or trigger's check (PostgreSQL) fails
			// the statement; the team written before it in the savepoint goes too.
			err := tx.Savepoint(ctx, func() error {
				if err := tx.CreateTeam(ctx, team("t1")); err != nil {
					return err
				}
				_, err := tx.AssignSeat(ctx, "org-a", "sub-1", "acc-2", t0)
				return err
			})
			wantCode(t, err, account.EQUOTAEXCEEDED)
			// A unique violation after a write.
			err = tx.Savepoint(ctx, func() error {
				if err := tx.CreateTeam(ctx, team("t2")); err != nil {
					return err
				}
				return tx.CreateMembership(ctx, newMembership("org-a", "acc-1", account.RoleMember, account.MemberActive))
			})
			wantConflict(t, err, "account")
			// A plain error, no failed statement.
			err = tx.Savepoint(ctx, func() error {
				if err := tx.CreateTeam(ctx, team("t3")); err != nil {
					return err
				}
				return errDomain
			})
			if err != errDomain {
				t.Errorf("Savepoint returned %v, want fn's error", err)
			}
			// Success, with a failed savepoint nested inside.
			err = tx.Savepoint(ctx, func() error {
				if err := tx.CreateTeam(ctx, team("t4")); err != nil {
					return err
				}
				inner := tx.Savepoint(ctx, func() error {
					if err := tx.CreateTeam(ctx, team("t5")); err != nil {
						return err
					}
					return tx.CreateTeam(ctx, team("T4")) // the name is taken
				})
				wantConflict(t, inner, "name")
				if err := tx.Savepoint(ctx, func() error { return tx.CreateTeam(ctx, team("t6")) }); err != nil {
					return err
				}
				return tx.CreateTeam(ctx, team("t7"))
			})
			if err != nil {
				t.Errorf("Savepoint: %v", err)
			}
			// The transaction goes on.
			if _, err := tx.AssignSeat(ctx, "org-a", "sub-1", "acc-1", t0); err != nil {
				return err
			}
			return tx.CreateTeam(ctx, team("t8"))
		})
		var names []string
		read(t, db, func(tx account.Tx) error {
			teams, err := tx.Teams(ctx, "org-a")
			for _, tm := range teams {
				names = append(names, tm.Name)
			}
			return err
		})
		if d := cmp.Diff([]string{"t4", "t6", "t7", "t8"}, names); d != "" {
			t.Errorf("teams committed (-want +got):\n%s", d)
		}
		wantSeats(t, db, "org-a", "sub-1", "acc-1")

		// A failure of the whole transaction undoes its successful savepoints.
		err := try(db, func(tx account.Tx) error {
			if err := tx.Savepoint(ctx, func() error { return tx.CreateTeam(ctx, team("t9")) }); err != nil {
				return err
			}
			return errDomain
		})
		if err != errDomain {
			t.Errorf("Write: %v", err)
		}
		// A panic in fn propagates, and nothing commits.
		func() {
			defer func() {
				if p := recover(); p != "boom" {
					t.Errorf("recovered %v, want the panic", p)
				}
			}()
			_ = db.Write(ctx, func(tx account.Tx) error {
				if err := tx.CreateTeam(ctx, team("t10")); err != nil {
					return err
				}
				return tx.Savepoint(ctx, func() error {
					if err := tx.CreateTeam(ctx, team("t11")); err != nil {
						return err
					}
					panic("boom")
				})
			})
		}()
		read(t, db, func(tx account.Tx) error {
			teams, err := tx.Teams(ctx, "org-a")
			if len(teams) != 4 {
				t.Errorf("teams after failed transactions: %+v", teams)
			}
			return err
		})
		// The database is usable after the panic.
		write(t, db, func(tx account.Tx) error { return tx.CreateTeam(ctx, team("t12")) })

		// A reader has no transaction.
		if err := db.Read(ctx, func(tx account.Tx) error {
			return tx.Savepoint(ctx, func() error { return nil })
		}); err == nil || account.ErrorCode(err) != account.EINTERNAL {
			t.Errorf("Savepoint on a reader: %v", err)
		}
	})
}
