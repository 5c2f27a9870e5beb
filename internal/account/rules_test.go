package account_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// The rules of organizations and subscriptions, tested where they live: the
// Service's use cases on the real store, on both engines, without HTTP. The API's
// and the console's tests show the same rules as statuses and screens.

const rulesPassword = "correct horse battery"

// rules is a Service on a fresh store, with an operator.
type rules struct {
	t   *testing.T
	ctx context.Context
	db  *sqlstore.DB
	svc *account.Service
	op  account.Actor
	n   int // for unique slugs and emails
}

func newRules(t *testing.T, db *sqlstore.DB) *rules {
	t.Helper()
	r := &rules{t: t, ctx: context.Background(), db: db,
		svc: account.NewService(account.Options{Store: db, Hasher: password.NewHasher(password.TestParams, 2, rand.Reader)})}
	if _, _, err := r.svc.Bootstrap(r.ctx, "op@roster.test", rulesPassword); err != nil {
		t.Fatal(err)
	}
	r.op = r.login("op@roster.test")
	return r
}

func (r *rules) login(email string) account.Actor {
	r.t.Helper()
	res, err := r.svc.Login(r.ctx, email, rulesPassword, "", "")
	if err != nil {
		r.t.Fatalf("login %s: %v", email, err)
	}
	return account.Actor{Account: res.Account}
}

// org creates an organization with a slug of its own.
func (r *rules) org() account.Organization {
	r.t.Helper()
	r.n++
	o, err := r.svc.CreateOrganization(r.ctx, r.op, account.CreateOrganizationInput{Name: fmt.Sprintf("Org %d", r.n),
		Slug: fmt.Sprintf("org-%d", r.n), Kind: account.KindOrganization})
	if err != nil {
		r.t.Fatal(err)
	}
	return o
}

// member adds a new active member with role, added by actor, and returns it and
// the member as an actor.
func (r *rules) member(actor account.Actor, org account.Organization, role string) (account.Member, account.Actor) {
	r.t.Helper()
	r.n++
	email := fmt.Sprintf("m%d@%s.test", r.n, org.Slug)
	no := false
	m, err := r.svc.AddMember(r.ctx, actor, org.Slug, account.AddMemberInput{Email: email, FirstName: "M", LastName: fmt.Sprint(r.n),
		Role: role, SendInvite: &no, Password: rulesPassword})
	if err != nil {
		r.t.Fatalf("add %s as %s: %v", email, role, err)
	}
	return m, r.login(email)
}

// find reads a member as the operator sees it.
func (r *rules) find(org account.Organization, accountID string) account.Member {
	r.t.Helper()
	m, err := r.svc.FindMember(r.ctx, r.op, org.Slug, accountID)
	if err != nil {
		r.t.Fatal(err)
	}
	return m
}

// wantCode fails unless err carries the error code want ("" for none).
func wantCode(t *testing.T, what string, err error, want string) {
	t.Helper()
	if got := account.ErrorCode(err); got != want {
		t.Errorf("%s: code %q (%v), want %q", what, got, err, want)
	}
}

func rolePtr(s string) *string { return &s }

// TestLastOwnerRule: an organization always keeps an active owner. Demoting,
// deactivating or removing its last active owner is a conflict, whoever asks (the
// owner, or an operator), and changes nothing; with another active owner each is
// allowed; an owner deactivated does not count.
func TestLastOwnerRule(t *testing.T) {
	demote := func(r *rules, a account.Actor, org account.Organization, id string) error {
		_, err := r.svc.UpdateMember(r.ctx, a, org.Slug, id, account.UpdateMemberInput{Role: rolePtr(account.RoleAdmin)})
		return err
	}
	deactivate := func(r *rules, a account.Actor, org account.Organization, id string) error {
		_, err := r.svc.DeactivateMember(r.ctx, a, org.Slug, id)
		return err
	}
	remove := func(r *rules, a account.Actor, org account.Organization, id string) error {
		return r.svc.RemoveMember(r.ctx, a, org.Slug, id)
	}
	removeBulk := func(r *rules, a account.Actor, org account.Organization, id string) error {
		res, err := r.svc.RemoveMembers(r.ctx, a, org.Slug, []string{id})
		if err != nil {
			return err
		}
		if len(res) != 1 || res[0].Account != id {
			return fmt.Errorf("bulk removal answered %+v", res)
		}
		return res[0].Err
	}
	type change struct {
		name string
		do   func(*rules, account.Actor, account.Organization, string) error
	}
	changes := []change{{"demote", demote}, {"deactivate", deactivate}, {"remove", remove}, {"remove in bulk", removeBulk}}
	cases := []struct {
		name string
		// other is the organization's second owner: none, active or deactivated.
		other string
		// byOperator makes the change as the operator, else as the owner themself.
		byOperator bool
		want       string
	}{
		{"the only owner, by themself", "", false, account.ECONFLICT},
		{"the only owner, by an operator", "", true, account.ECONFLICT},
		{"the only active owner, the other deactivated, by themself", "deactivated", false, account.ECONFLICT},
		{"the only active owner, the other deactivated, by an operator", "deactivated", true, account.ECONFLICT},
		{"one of two active owners, by themself", "active", false, ""},
		{"one of two active owners, by an operator", "active", true, ""},
	}
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRules(t, db)
		for _, c := range cases {
			for _, ch := range changes {
				t.Run(c.name+"/"+ch.name, func(t *testing.T) {
					r.t = t
					org := r.org()
					owner, ownerActor := r.member(r.op, org, account.RoleOwner)
					if c.other != "" {
						other, _ := r.member(r.op, org, account.RoleOwner)
						if c.other == "deactivated" {
							if _, err := r.svc.DeactivateMember(r.ctx, r.op, org.Slug, other.AccountID); err != nil {
								t.Fatal(err)
							}
						}
					}
					actor := ownerActor
					if c.byOperator {
						actor = r.op
					}
					err := ch.do(r, actor, org, owner.AccountID)
					wantCode(t, ch.name, err, c.want)
					if c.want == "" {
						return
					}
					// Refused: the owner is still an active owner.
					if m := r.find(org, owner.AccountID); m.RoleID != account.RoleOwner || m.State != account.MemberActive {
						t.Errorf("after the refused %s: role %s, state %s; want an active owner", ch.name, m.RoleID, m.State)
					}
				})
			}
		}
	})
}

// TestRoleCeilingRule: nobody grants, or acts on someone holding, more than their
// own role allows: an admin cannot make an owner, define or raise a role to
// organization.manage, nor change, deactivate or remove an owner; a custom role's
// holder adds members only with roles inside theirs. An owner may.
func TestRoleCeilingRule(t *testing.T) {
	perms := func(ps ...string) *[]string { return &ps }
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRules(t, db)
		org := r.org()
		owner, ownerActor := r.member(r.op, org, account.RoleOwner)
		_, admin := r.member(r.op, org, account.RoleAdmin)
		inviterRole, err := r.svc.CreateRole(r.ctx, admin, org.Slug, account.RoleInput{Name: rolePtr("Inviter"),
			Permissions: perms(string(account.PermMembersRead), string(account.PermMembersInvite))})
		if err != nil {
			t.Fatalf("an admin creating a role within theirs: %v", err)
		}
		_, inviter := r.member(admin, org, inviterRole.ID)
		add := func(actor account.Actor, role string) error {
			r.n++
			no := false
			_, err := r.svc.AddMember(r.ctx, actor, org.Slug, account.AddMemberInput{Email: fmt.Sprintf("c%d@ceiling.test", r.n),
				FirstName: "C", LastName: "C", Role: role, SendInvite: &no, Password: rulesPassword})
			return err
		}
		for _, c := range []struct {
			name string
			do   func() error
			want string
		}{
			{"an admin adds an owner", func() error { return add(admin, account.RoleOwner) }, account.EROLECEILING},
			{"an admin adds an admin", func() error { return add(admin, account.RoleAdmin) }, ""},
			{"an admin creates a role with organization.manage", func() error {
				_, err := r.svc.CreateRole(r.ctx, admin, org.Slug, account.RoleInput{Name: rolePtr("Boss"), Permissions: perms(string(account.PermOrganizationManage))})
				return err
			}, account.EROLECEILING},
			{"an admin raises a role to organization.manage", func() error {
				_, err := r.svc.UpdateRole(r.ctx, admin, org.Slug, inviterRole.ID, account.RoleInput{Permissions: perms(string(account.PermOrganizationManage))})
				return err
			}, account.EROLECEILING},
			{"an admin renames an owner", func() error {
				_, err := r.svc.UpdateMember(r.ctx, admin, org.Slug, owner.AccountID, account.UpdateMemberInput{FirstName: rolePtr("Y")})
				return err
			}, account.EROLECEILING},
			{"an admin deactivates an owner", func() error {
				_, err := r.svc.DeactivateMember(r.ctx, admin, org.Slug, owner.AccountID)
				return err
			}, account.EROLECEILING},
			{"an admin removes an owner", func() error { return r.svc.RemoveMember(r.ctx, admin, org.Slug, owner.AccountID) }, account.EROLECEILING},
			{"an inviter adds an admin", func() error { return add(inviter, account.RoleAdmin) }, account.EROLECEILING},
			{"an inviter adds a member", func() error { return add(inviter, account.RoleMember) }, ""},
			{"an inviter adds with their own role", func() error { return add(inviter, inviterRole.ID) }, ""},
			{"an owner creates a role with organization.manage", func() error {
				_, err := r.svc.CreateRole(r.ctx, ownerActor, org.Slug, account.RoleInput{Name: rolePtr("Boss"), Permissions: perms(string(account.PermOrganizationManage))})
				return err
			}, ""},
			{"an owner adds an owner", func() error { return add(ownerActor, account.RoleOwner) }, ""},
		} {
			t.Run(c.name, func(t *testing.T) { wantCode(t, c.name, c.do(), c.want) })
		}
		// The refusals changed nothing.
		if m := r.find(org, owner.AccountID); m.State != account.MemberActive || m.Account.FirstName != "M" {
			t.Errorf("the owner after the admin's refused changes: %s, first name %q", m.State, m.Account.FirstName)
		}
		if role, err := r.svc.FindRole(r.ctx, r.op, org.Slug, inviterRole.ID); err != nil || role.Permissions.Has(account.PermOrganizationManage) || len(role.Permissions.Names()) != 2 {
			t.Errorf("the Inviter role after the refused raise: %+v, %v", role, err)
		}
	})
}

// subscribed is an organization with a subscription of quota seats to a new
// application, and n active members.
func (r *rules) subscribed(quota, n int) (account.Organization, account.Subscription, []string) {
	r.t.Helper()
	org := r.org()
	r.n++
	app, err := r.svc.CreateApplication(r.ctx, r.op, account.ApplicationInput{Key: fmt.Sprintf("app-%d", r.n), Name: "App"})
	if err != nil {
		r.t.Fatal(err)
	}
	start := time.Now().Add(-time.Hour).UTC()
	_, sub, err := r.svc.CreateSubscription(r.ctx, r.op, org.Slug, account.SubscriptionInput{Application: app.Key, Seats: &quota,
		StartsAt: start, EndsAt: start.Add(30 * 24 * time.Hour)})
	if err != nil {
		r.t.Fatal(err)
	}
	var ids []string
	for range n {
		m, _ := r.member(r.op, org, account.RoleMember)
		ids = append(ids, m.AccountID)
	}
	return org, sub, ids
}

// assigned is the subscription's seats assigned.
func (r *rules) assigned(org account.Organization, subID string) int {
	r.t.Helper()
	_, sub, err := r.svc.FindSubscription(r.ctx, r.op, org.Slug, subID)
	if err != nil {
		r.t.Fatal(err)
	}
	return sub.Assigned
}

// TestSeatQuotaRule: a subscription never has more seats assigned than its quota.
// A seat beyond it is quota-exceeded; a batch of changes is all or nothing, its
// unassignments freeing seats for its assignments first; the quota cannot go below
// the seats assigned. Every refusal leaves the seats as they were.
func TestSeatQuotaRule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRules(t, db)
		org, sub, m := r.subscribed(2, 4)
		assign := func(id string) func() error {
			return func() error { _, _, err := r.svc.AssignSeat(r.ctx, r.op, org.Slug, sub.ID, id); return err }
		}
		batch := func(unassign, assign []string) func() error {
			return func() error {
				_, _, err := r.svc.UpdateSeats(r.ctx, r.op, org.Slug, sub.ID, account.SeatChanges{Assign: assign, Unassign: unassign})
				return err
			}
		}
		quota := func(n int) func() error {
			return func() error {
				_, _, err := r.svc.UpdateSubscription(r.ctx, r.op, org.Slug, sub.ID, account.UpdateSubscriptionInput{Seats: &n})
				return err
			}
		}
		for _, step := range []struct {
			name     string
			do       func() error
			want     string
			assigned int
		}{
			{"a first seat", assign(m[0]), "", 1},
			{"a second seat: the quota is full", assign(m[1]), "", 2},
			{"a third seat", assign(m[2]), account.EQUOTAEXCEEDED, 2},
			{"a batch of two beyond the quota", batch(nil, []string{m[2], m[3]}), account.EQUOTAEXCEEDED, 2},
			{"a batch that frees a seat for another", batch([]string{m[0]}, []string{m[2]}), "", 2},
			{"a batch that frees one seat for two", batch([]string{m[1]}, []string{m[0], m[3]}), account.EQUOTAEXCEEDED, 2},
			{"the quota below the seats assigned", quota(1), account.ECONFLICT, 2},
			{"the quota raised", quota(3), "", 2},
			{"a third seat within the raised quota", assign(m[3]), "", 3},
			{"the quota down to the seats assigned", quota(3), "", 3},
		} {
			wantCode(t, step.name, step.do(), step.want)
			if got := r.assigned(org, sub.ID); got != step.assigned {
				t.Errorf("after %s: %d seats assigned, want %d", step.name, got, step.assigned)
			}
		}
	})
}

// TestRenewalRule: a renewal is a new entry with the old entry's seats copied; its
// quota cannot be below them; and a subscription is renewed at most once, so a
// second renewal (a retry, a double click, another process at the same moment) is a
// conflict that creates nothing. The renewal itself can be renewed.
func TestRenewalRule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRules(t, db)
		org, sub, m := r.subscribed(3, 3)
		if _, _, err := r.svc.UpdateSeats(r.ctx, r.op, org.Slug, sub.ID, account.SeatChanges{Assign: m}); err != nil {
			t.Fatal(err)
		}
		next := func(seats int) account.SubscriptionInput {
			return account.SubscriptionInput{Seats: &seats, StartsAt: sub.EndsAt, EndsAt: sub.EndsAt.Add(365 * 24 * time.Hour)}
		}
		subscriptions := func() int {
			t.Helper()
			_, subs, err := r.svc.FindSubscriptions(r.ctx, r.op, org.Slug)
			if err != nil {
				t.Fatal(err)
			}
			return len(subs)
		}

		_, _, err := r.svc.RenewSubscription(r.ctx, r.op, org.Slug, sub.ID, next(2))
		wantCode(t, "a renewal below the seats to copy", err, account.ECONFLICT)
		if n := subscriptions(); n != 1 {
			t.Errorf("after the refused renewal: %d subscriptions, want 1", n)
		}

		_, renewal, err := r.svc.RenewSubscription(r.ctx, r.op, org.Slug, sub.ID, next(5))
		if err != nil {
			t.Fatalf("the first renewal: %v", err)
		}
		if renewal.RenewedFrom != sub.ID || renewal.Seats != 5 || renewal.Assigned != 3 {
			t.Errorf("the renewal: renewed from %q, %d seats, %d assigned; want from %s, 5, 3", renewal.RenewedFrom, renewal.Seats, renewal.Assigned, sub.ID)
		}
		if got := r.assigned(org, renewal.ID); got != 3 {
			t.Errorf("the renewal holds %d seats, want the 3 copied", got)
		}

		for _, c := range []struct {
			name  string
			seats int
		}{{"the same renewal again", 5}, {"another renewal of the same entry", 10}} {
			_, _, err := r.svc.RenewSubscription(r.ctx, r.op, org.Slug, sub.ID, next(c.seats))
			wantCode(t, c.name, err, account.ECONFLICT)
		}
		if n := subscriptions(); n != 2 {
			t.Errorf("after the refused second renewals: %d subscriptions, want 2", n)
		}

		// Two renewals of the renewal at the same moment: one is made, the other is
		// a conflict (the store's unique renewed_from holds the rule across
		// transactions).
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				seats := 5
				_, _, errs[i] = r.svc.RenewSubscription(r.ctx, r.op, org.Slug, renewal.ID, account.SubscriptionInput{Seats: &seats,
					StartsAt: renewal.EndsAt, EndsAt: renewal.EndsAt.Add(365 * 24 * time.Hour)})
			})
		}
		wg.Wait()
		codes := map[string]int{}
		for _, err := range errs {
			codes[account.ErrorCode(err)]++
		}
		if codes[""] != 1 || codes[account.ECONFLICT] != 1 {
			t.Errorf("two renewals at once: %v, want one made and one conflict", errs)
		}
		if n := subscriptions(); n != 3 {
			t.Errorf("after renewing the renewal: %d subscriptions, want 3", n)
		}
	})
}

// TestFindMembersByID: the members of the ids asked for, in their order, in the
// organization asked about only — a member of another organization, or an id of no
// one, is left out; a caller who may not read the members gets nothing.
func TestFindMembersByID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRules(t, db)
		acme, globex := r.org(), r.org()
		ada, adaActor := r.member(r.op, acme, account.RoleAdmin)
		bob, _ := r.member(r.op, acme, account.RoleMember)
		gus, _ := r.member(r.op, globex, account.RoleMember)
		got, err := r.svc.FindMembersByID(r.ctx, adaActor, acme.Slug, []string{bob.AccountID, gus.AccountID, "nobody", ada.AccountID})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range got {
			ids = append(ids, m.AccountID)
		}
		if want := []string{bob.AccountID, ada.AccountID}; !slices.Equal(ids, want) {
			t.Errorf("FindMembersByID = %v, want %v (Globex's member and an unknown id left out)", ids, want)
		}
		_, err = r.svc.FindMembersByID(r.ctx, adaActor, globex.Slug, []string{gus.AccountID})
		wantCode(t, "another organization's members", err, account.ENOTFOUND)
	})
}
