package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestManagedAccountsMigration: an upgrade to migration 00013 tells, from what the
// store already holds, which accounts an organization made and which mailboxes were
// proven: the operator's and accepted invitees' are verified; an account an
// organization created (its member.added event says so) is managed by it unless a
// reset proved the mailbox since; a pending account is managed by the organization
// that first invited it; an account an organization only linked is managed by none.
func TestManagedAccountsMigration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		createOrgs(t, db, newOrg("orga", "A", "a", account.KindOrganization, ""), newOrg("orgb", "B", "b", account.KindOrganization, ""))
		op := newAccount("op", "op@x.test")
		op.Operator = true
		pending := newAccount("pending", "pending@x.test")
		pending.State, pending.PasswordHash = account.AccountPending, ""
		createAccounts(t, db, op, newAccount("accepted", "accepted@x.test"), newAccount("created", "created@x.test"),
			newAccount("reset", "reset@x.test"), newAccount("linked", "linked@x.test"), pending)
		n := 0
		event := func(org, action, target string, after []byte) account.AuditEvent {
			n++
			return account.AuditEvent{ID: "ev" + string(rune('a'+n)), OrgID: org, Action: action, TargetType: "account",
				TargetID: target, After: after, CreatedAt: t0.Add(time.Duration(n) * time.Second)}
		}
		invitation := func(id, org, acct string, state account.InvitationState) account.Invitation {
			return account.Invitation{ID: id, OrgID: org, AccountID: acct, Email: acct + "@x.test", RoleID: account.RoleMember,
				TokenHash: []byte(id), State: state, ExpiresAt: t0.Add(time.Hour), CreatedAt: t0, UpdatedAt: t0}
		}
		write(t, db, func(tx account.Tx) error {
			for _, e := range []account.AuditEvent{
				event("orga", "member.added", "created", []byte(`{"account_created":true,"role":"member"}`)),
				event("orga", "member.added", "reset", []byte(`{"account_created":true}`)),
				event("", "account.password_reset", "reset", nil),
				event("orgb", "member.added", "linked", []byte(`{"role":"member"}`)),
				event("orgb", "member.added", "accepted", []byte(`{"account_created":true}`)),
			} {
				if err := tx.InsertAudit(ctx, e); err != nil {
					return err
				}
			}
			for _, m := range []account.Membership{newMembership("orgb", "accepted", "member", account.MemberActive),
				newMembership("orgb", "pending", "member", account.MemberInvited), newMembership("orga", "pending", "member", account.MemberInvited)} {
				if err := tx.CreateMembership(ctx, m); err != nil {
					return err
				}
			}
			for _, inv := range []account.Invitation{invitation("i1", "orgb", "accepted", account.InvitationAccepted),
				invitation("i2", "orgb", "pending", account.InvitationPending), invitation("i3", "orga", "pending", account.InvitationPending)} {
				if inv.ID == "i3" {
					inv.CreatedAt = t0.Add(time.Minute) // orgb invited first
				}
				if err := tx.CreateInvitation(ctx, inv); err != nil {
					return err
				}
			}
			return nil
		})
		if err := sqlstore.RedoMigration(ctx, db, 13); err != nil {
			t.Fatal(err)
		}
		want := map[string]struct {
			managedBy string
			verified  bool
		}{
			"op": {"", true}, "accepted": {"", true}, "created": {"orga", false}, "reset": {"", true},
			"linked": {"", false}, "pending": {"orgb", false},
		}
		read(t, db, func(tx account.Tx) error {
			for id, w := range want {
				a, err := tx.AccountByID(ctx, id)
				if err != nil {
					return err
				}
				if a.ManagedBy != w.managedBy || a.EmailVerified != w.verified {
					t.Errorf("%s after the migration: managed by %q, verified %v; want %q, %v", id, a.ManagedBy, a.EmailVerified, w.managedBy, w.verified)
				}
			}
			return nil
		})
		// An organization's deletion leaves its accounts managed by no one.
		write(t, db, func(tx account.Tx) error { return tx.DeleteOrganization(ctx, "orga") })
		read(t, db, func(tx account.Tx) error {
			a, err := tx.AccountByID(ctx, "created")
			if err == nil && a.ManagedBy != "" {
				t.Errorf("after orga's deletion: managed by %q", a.ManagedBy)
			}
			return err
		})
	})
}
