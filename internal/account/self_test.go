package account_test

import (
	"slices"
	"testing"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// auditActions are the actions of org's audit trail, newest first.
func (r *rules) auditActions(org account.Organization) []string {
	r.t.Helper()
	p, err := r.svc.FindAuditEvents(r.ctx, r.op, org.Slug, account.AuditQuery{Limit: 100})
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, e := range p.Items {
		out = append(out, e.Action)
	}
	return out
}

// pending are the ids of org's pending join requests, as its reviewers list them.
func (r *rules) pending(org account.Organization) []string {
	r.t.Helper()
	p, err := r.svc.FindJoinRequests(r.ctx, r.op, org.Slug, account.JoinRequestQuery{Status: string(account.JoinRequestPending)})
	if err != nil {
		r.t.Fatal(err)
	}
	var ids []string
	for _, jr := range p.Items {
		ids = append(ids, jr.ID)
	}
	return ids
}

// TestOwnJoinRequests: a person lists their own join requests, in every
// organization, and nobody else's; they cancel their own pending one, which leaves
// the reviewers' pending list and is audited in the organization's trail. Another
// account's request id is not found and stays pending; a request cancelled, denied
// or approved already is a conflict, as for a reviewer deciding twice.
func TestOwnJoinRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRules(t, db)
		home := r.org()
		_, ada := r.member(r.op, home, account.RoleMember)
		_, bob := r.member(r.op, home, account.RoleMember)
		acme, globex, initech := r.org(), r.org(), r.org()
		ask := func(a account.Actor, org account.Organization) account.JoinRequest {
			t.Helper()
			jr, err := r.svc.RequestToJoin(r.ctx, a, org.Slug, "please")
			if err != nil {
				t.Fatal(err)
			}
			return jr
		}
		adaAcme, adaGlobex, adaInitech := ask(ada, acme), ask(ada, globex), ask(ada, initech)
		bobAcme := ask(bob, acme)
		if _, err := r.svc.DenyJoinRequest(r.ctx, r.op, initech.Slug, adaInitech.ID); err != nil {
			t.Fatal(err)
		}

		own, err := r.svc.FindOwnJoinRequests(r.ctx, ada)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, jr := range own {
			got = append(got, jr.Organization.Slug+":"+string(jr.State))
			if jr.AccountID != ada.Account.ID {
				t.Errorf("Ada's list holds %s's request %s", jr.Account.Email, jr.ID)
			}
		}
		want := []string{initech.Slug + ":denied", globex.Slug + ":pending", acme.Slug + ":pending"}
		if !slices.Equal(got, want) {
			t.Errorf("Ada's requests: %v, want %v (newest first, the denied one too)", got, want)
		}

		for _, c := range []struct {
			name  string
			actor account.Actor
			id    string
			want  string
		}{
			{"another account's request", ada, bobAcme.ID, account.ENOTFOUND},
			{"the operator, who asked for nothing", r.op, adaAcme.ID, account.ENOTFOUND},
			{"an unknown id", ada, "06nothere", account.ENOTFOUND},
			{"a denied request", ada, adaInitech.ID, account.ECONFLICT},
			{"a SCIM client", account.Actor{SCIMOrgID: acme.ID}, adaAcme.ID, account.EFORBIDDEN},
			{"one's own pending request", ada, adaAcme.ID, ""},
			{"the same request again", ada, adaAcme.ID, account.ECONFLICT},
		} {
			jr, err := r.svc.CancelJoinRequest(r.ctx, c.actor, c.id)
			wantCode(t, c.name, err, c.want)
			if c.want == "" && (jr.State != account.JoinRequestCancelled || jr.Organization.Slug != acme.Slug) {
				t.Errorf("%s: answered %s in %q, want cancelled in %s", c.name, jr.State, jr.Organization.Slug, acme.Slug)
			}
		}
		if got := r.pending(acme); !slices.Equal(got, []string{bobAcme.ID}) {
			t.Errorf("Acme's pending requests: %v, want only Bob's %s (Ada's cancelled, Bob's untouched)", got, bobAcme.ID)
		}
		if got := r.pending(globex); !slices.Equal(got, []string{adaGlobex.ID}) {
			t.Errorf("Globex's pending requests: %v, want Ada's %s", got, adaGlobex.ID)
		}
		if acts := r.auditActions(acme); len(acts) == 0 || acts[0] != string(account.AuditJoinRequestCancelled) {
			t.Errorf("Acme's trail: %v, want join_request.cancelled first", acts)
		}
		// The reviewers see it cancelled, and cannot decide it any more.
		p, err := r.svc.FindJoinRequests(r.ctx, r.op, acme.Slug, account.JoinRequestQuery{Status: string(account.JoinRequestCancelled)})
		if err != nil || len(p.Items) != 1 || p.Items[0].ID != adaAcme.ID {
			t.Errorf("Acme's cancelled requests: %+v, %v; want Ada's", p.Items, err)
		}
		_, err = r.svc.ApproveJoinRequest(r.ctx, r.op, acme.Slug, adaAcme.ID, account.ApproveInput{})
		wantCode(t, "approving a cancelled request", err, account.ECONFLICT)
		// Cancelled, Ada may ask again.
		ask(ada, acme)
	})
}

// TestLeaveOrganization: a member leaves on their own; the membership ends as a
// removal does (the seat is free again, the teams left), audited as the member's own
// act; an invited person leaving cancels the invitation; the last active owner is
// refused and stays; an organization the person is not in is not found.
func TestLeaveOrganization(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRules(t, db)
		org, sub, ids := r.subscribed(1, 1)
		if _, _, err := r.svc.AssignSeat(r.ctx, r.op, org.Slug, sub.ID, ids[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.CreateTeam(r.ctx, r.op, org.Slug, "Lisbon"); err != nil {
			t.Fatal(err)
		}
		teams := []string{"Lisbon"}
		if _, err := r.svc.UpdateMember(r.ctx, r.op, org.Slug, ids[0], account.UpdateMemberInput{Teams: &teams}); err != nil {
			t.Fatal(err)
		}
		leaver := r.login(r.find(org, ids[0]).Account.Email)
		owner, ownerActor := r.member(r.op, org, account.RoleOwner)
		other := r.org()
		_, stranger := r.member(r.op, other, account.RoleMember)

		wantCode(t, "the last owner leaves", r.svc.LeaveOrganization(r.ctx, ownerActor, org.Slug), account.ECONFLICT)
		if m := r.find(org, owner.AccountID); m.RoleID != account.RoleOwner || m.State != account.MemberActive {
			t.Errorf("after the refused leave the owner is %s, %s", m.RoleID, m.State)
		}
		wantCode(t, "leaving an organization one is not in", r.svc.LeaveOrganization(r.ctx, stranger, org.Slug), account.ENOTFOUND)
		wantCode(t, "leaving an unknown organization", r.svc.LeaveOrganization(r.ctx, leaver, "no-such-org"), account.ENOTFOUND)
		wantCode(t, "a SCIM client", r.svc.LeaveOrganization(r.ctx, account.Actor{SCIMOrgID: org.ID}, org.Slug), account.EFORBIDDEN)

		if err := r.svc.LeaveOrganization(r.ctx, leaver, org.Slug); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.FindMember(r.ctx, r.op, org.Slug, ids[0]); account.ErrorCode(err) != account.ENOTFOUND {
			t.Errorf("after leaving, the member is still found (%v)", err)
		}
		if n := r.assigned(org, sub.ID); n != 0 {
			t.Errorf("after leaving, %d seats assigned; want the seat free", n)
		}
		if acts := r.auditActions(org); len(acts) == 0 || acts[0] != string(account.AuditMemberLeft) {
			t.Errorf("trail: %v, want member.left first", acts)
		}
		wantCode(t, "leaving twice", r.svc.LeaveOrganization(r.ctx, leaver, org.Slug), account.ENOTFOUND)
		// The freed seat is assignable again.
		if _, _, err := r.svc.AssignSeat(r.ctx, r.op, org.Slug, sub.ID, owner.AccountID); err != nil {
			t.Errorf("the freed seat: %v", err)
		}

		// With a second active owner, an owner may leave.
		r.member(r.op, org, account.RoleOwner)
		if err := r.svc.LeaveOrganization(r.ctx, ownerActor, org.Slug); err != nil {
			t.Errorf("one of two owners leaves: %v", err)
		}

		// An invited person (with an account of their own) declines by leaving.
		res, err := r.svc.Invite(r.ctx, r.op, org.Slug, account.InviteInput{Emails: []string{stranger.Account.Email}, Role: account.RoleMember})
		if err != nil || len(res) != 1 || res[0].Err != nil {
			t.Fatalf("invite: %+v, %v", res, err)
		}
		if err := r.svc.LeaveOrganization(r.ctx, stranger, org.Slug); err != nil {
			t.Fatal(err)
		}
		inv, err := r.svc.FindInvitation(r.ctx, r.op, org.Slug, res[0].Invitation.ID)
		if err != nil || inv.State != account.InvitationCancelled {
			t.Errorf("the invitation after leaving: %s, %v; want cancelled", inv.State, err)
		}
	})
}
