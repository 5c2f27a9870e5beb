package account_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestFrameReadsOnce: FindFrame, FindMemberList and FindAuditLog answer, each in one
// read, what the use cases they stand for answer one read each: the switcher names
// a custom role of one's own exactly where FindRole would (members.read there, from
// one's own active membership or the partner's), the access is FindAccess's, and the
// screens' content is FindSummary's, FindRoles', FindTeams', FindMembers',
// FindMember's, FindAuditEvents' and FindMembersByID's.
func TestFrameReadsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRules(t, db)
		partner, err := r.svc.CreateOrganization(r.ctx, r.op, account.CreateOrganizationInput{Name: "Partner", Slug: "partner", Kind: account.KindPartner})
		if err != nil {
			t.Fatal(err)
		}
		under, err := r.svc.CreateOrganization(r.ctx, r.op, account.CreateOrganizationInput{Name: "Under", Slug: "under",
			Kind: account.KindOrganization, Parent: partner.ID})
		if err != nil {
			t.Fatal(err)
		}
		b, c := r.org(), r.org()
		role := func(org account.Organization, name string, perms ...account.Permission) account.Role {
			t.Helper()
			ps := []string{}
			for _, p := range perms {
				ps = append(ps, string(p))
			}
			ro, err := r.svc.CreateRole(r.ctx, r.op, org.Slug, account.RoleInput{Name: &name, Permissions: &ps})
			if err != nil {
				t.Fatal(err)
			}
			return ro
		}
		add := func(org account.Organization, email, roleID string) {
			t.Helper()
			no := false
			if _, err := r.svc.AddMember(r.ctx, r.op, org.Slug, account.AddMemberInput{Email: email, Role: roleID, SendInvite: &no}); err != nil {
				t.Fatal(err)
			}
		}
		// x reads members in the partner (and so under it), only the audit log in b,
		// and members in c, where x is deactivated.
		xm, x := r.member(r.op, partner, role(partner, "Partner viewer", account.PermMembersRead).ID)
		add(under, xm.Account.Email, role(under, "Under clerk", account.PermAuditRead).ID)
		add(b, xm.Account.Email, role(b, "B clerk", account.PermAuditRead).ID)
		add(c, xm.Account.Email, role(c, "C viewer", account.PermMembersRead).ID)
		if _, err := r.svc.DeactivateMember(r.ctx, r.op, c.Slug, xm.AccountID); err != nil {
			t.Fatal(err)
		}
		role(under, "Unheld", account.PermMembersRead)
		mates := []string{}
		for range 3 {
			m, _ := r.member(r.op, under, account.RoleMember)
			mates = append(mates, m.AccountID)
		}
		if _, err := r.svc.UpdateMember(r.ctx, r.op, under.Slug, mates[0], account.UpdateMemberInput{Role: rolePtr(account.RoleAdmin)}); err != nil {
			t.Fatal(err)
		}

		// once runs fn and fails unless it ran exactly one read and no write.
		once := func(what string, fn func(ctx context.Context)) {
			t.Helper()
			ctx, n := sqlstore.CountTransactions(r.ctx)
			fn(ctx)
			if n.Reads() != 1 || n.Writes() != 0 {
				t.Errorf("%s ran %d reads and %d writes, want one read", what, n.Reads(), n.Writes())
			}
		}
		for _, who := range []struct {
			name  string
			actor account.Actor
		}{{"x", x}, {"operator", r.op}} {
			a := who.actor
			_, ms, _, err := r.svc.Me(r.ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			apps, err := r.svc.FindApplications(r.ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			var named []account.Role
			for _, m := range ms {
				if ro, err := r.svc.FindRole(r.ctx, a, m.Organization.ID, m.RoleID); err == nil && !ro.Predefined {
					named = append(named, ro)
				}
			}
			// The partners it administers, with their organizations as FindOrganizations
			// lists them.
			var partners []account.PartnerOrganizations
			for _, m := range ms {
				if m.Organization.Kind != account.KindPartner || !account.Administers(m) {
					continue
				}
				pg, err := r.svc.FindOrganizations(r.ctx, a, account.OrganizationQuery{Parent: m.Organization.ID,
					Limit: account.MaxFramePartnerOrganizations})
				if err != nil {
					t.Fatal(err)
				}
				partners = append(partners, account.PartnerOrganizations{Partner: m.Organization, Organizations: pg.Items,
					More: pg.NextCursor != ""})
			}
			var f account.Frame
			once(who.name+": FindFrame", func(ctx context.Context) { f, err = r.svc.FindFrame(ctx, a, "") })
			if err != nil {
				t.Fatal(err)
			}
			want := account.Frame{Memberships: ms, Applications: apps, Roles: named, Partners: partners}
			if d := cmp.Diff(want, f); d != "" {
				t.Errorf("%s: FindFrame differs from Me, FindApplications and FindRole (-want +got):\n%s", who.name, d)
			}
			if who.name == "x" && len(named) != 2 {
				t.Errorf("x may read %d of its custom roles, want 2 (the partner's and the one under it): %v", len(named), named)
			}

			acc, err := r.svc.FindAccess(r.ctx, a, under.Slug)
			if err != nil {
				t.Fatal(err)
			}
			q := account.MemberQuery{Limit: 2}
			sum, _ := r.svc.FindSummary(r.ctx, a, under.Slug)
			roles, _ := r.svc.FindRoles(r.ctx, a, under.Slug)
			teams, _ := r.svc.FindTeams(r.ctx, a, under.Slug)
			page, _ := r.svc.FindMembers(r.ctx, a, under.Slug, q)
			mate, err := r.svc.FindMember(r.ctx, a, under.Slug, mates[1])
			if err != nil {
				t.Fatal(err)
			}
			var l account.MemberList
			once(who.name+": FindMemberList", func(ctx context.Context) { f, l, err = r.svc.FindMemberList(ctx, a, under.Slug, q, mates[1]) })
			if err != nil {
				t.Fatal(err)
			}
			want.Access = &acc
			if d := cmp.Diff(want, f); d != "" {
				t.Errorf("%s: FindMemberList's frame differs (-want +got):\n%s", who.name, d)
			}
			wantList := account.MemberList{Summary: sum, Roles: roles, Teams: teams, Page: page, Member: &mate}
			if d := cmp.Diff(wantList, l); d != "" {
				t.Errorf("%s: FindMemberList differs from the use cases (-want +got):\n%s", who.name, d)
			}

			events, err := r.svc.FindAuditEvents(r.ctx, a, under.Slug, account.AuditQuery{Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			var targets []string
			for _, e := range events.Items {
				if e.TargetType == "account" && e.TargetID != "" && !slices.Contains(targets, e.TargetID) {
					targets = append(targets, e.TargetID)
				}
			}
			members, err := r.svc.FindMembersByID(r.ctx, a, under.Slug, targets)
			if err != nil {
				t.Fatal(err)
			}
			var log account.AuditLog
			once(who.name+": FindAuditLog", func(ctx context.Context) {
				f, log, err = r.svc.FindAuditLog(ctx, a, under.Slug, account.AuditQuery{Limit: 5})
			})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, f); d != "" {
				t.Errorf("%s: FindAuditLog's frame differs (-want +got):\n%s", who.name, d)
			}
			if d := cmp.Diff(account.AuditLog{Page: events, Roles: roles, Teams: teams, Members: members}, log); d != "" {
				t.Errorf("%s: FindAuditLog differs from the use cases (-want +got):\n%s", who.name, d)
			}
			if len(members) == 0 {
				t.Errorf("%s: no event of under names a member", who.name)
			}
		}

		// In b, x reads the audit log but not the members: no names come with it, and
		// the Users screen is refused, its frame (with the access) read all the same.
		events, err := r.svc.FindAuditEvents(r.ctx, x, b.Slug, account.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		_, log, err := r.svc.FindAuditLog(r.ctx, x, b.Slug, account.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(account.AuditLog{Page: events}, log); d != "" {
			t.Errorf("x's audit log of b names targets (-want +got):\n%s", d)
		}
		f, _, err := r.svc.FindMemberList(r.ctx, x, b.Slug, account.MemberQuery{}, "")
		wantCode(t, "x's Users screen of b", err, account.EFORBIDDEN)
		if f.Access == nil || f.Access.Organization.ID != b.ID || len(f.Memberships) != 4 {
			t.Errorf("the refused screen's frame = %+v, want x's access in b and 4 memberships", f)
		}
		// An organization x has no part in is not found, and the account's part of the
		// frame is read all the same, for the error page.
		other := r.org()
		for _, ref := range []string{other.Slug, "nowhere"} {
			f, err = r.svc.FindFrame(r.ctx, x, ref)
			wantCode(t, "x's frame of "+ref, err, account.ENOTFOUND)
			if f.Access != nil || len(f.Memberships) != 4 {
				t.Errorf("x's frame of %s = %+v, want no access and 4 memberships", ref, f)
			}
		}
		_, _, err = r.svc.FindMemberList(r.ctx, r.op, under.Slug, account.MemberQuery{}, "nobody")
		wantCode(t, "a member who is none", err, account.ENOTFOUND)
		_, _, err = r.svc.FindMemberList(r.ctx, r.op, under.Slug, account.MemberQuery{State: "gone"}, "")
		wantCode(t, "a bad filter", err, account.EINVALID)
	})
}
