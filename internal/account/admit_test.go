package account_test

import (
	"context"
	"testing"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// allowance counts the invitation emails taken from it and given back, refusing
// beyond left.
type allowance struct{ left, taken, refunded int }

func (a *allowance) AllowInvitations(_ context.Context, _ account.Actor, n int) error {
	if n > a.left {
		return account.Errorf(account.ERATELIMITED, "too many invitation emails")
	}
	a.left -= n
	a.taken += n
	return nil
}

func (a *allowance) RefundInvitations(_ account.Actor, n int) {
	a.left += n
	a.refunded += n
}

// TestAddMemberWithinAllowance: every addition takes an invitation email from the
// actor's allowance, whatever send_invite says, and gives it back unless the person
// added is invited: an existing account the organization does not manage is invited
// even without send_invite, and so is charged. A refusal of the allowance adds
// nobody.
func TestAddMemberWithinAllowance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRules(t, db)
		acme, globex := r.org(), r.org()
		outsider, _ := r.member(r.op, globex, account.RoleMember) // managed by globex
		_, admin := r.member(r.op, acme, account.RoleAdmin)
		for _, c := range []struct {
			name    string
			in      account.AddMemberInput
			left    int
			code    string
			state   account.MemberState
			charged int // taken and not given back
		}{
			{name: "a new account without an invitation", left: 1, state: account.MemberActive, in: account.AddMemberInput{
				Email: "new@allowance.test", FirstName: "N", LastName: "A", SendInvite: ptrTo(false), Password: rulesPassword}},
			{name: "a new account invited", left: 1, state: account.MemberInvited, charged: 1, in: account.AddMemberInput{
				Email: "invitee@allowance.test", SendInvite: ptrTo(true)}},
			{name: "an account of another organization without an invitation: invited all the same", left: 1,
				state: account.MemberInvited, charged: 1, in: account.AddMemberInput{Email: outsider.Account.Email, SendInvite: ptrTo(false)}},
			{name: "a refused addition (already a member)", left: 1, code: account.EDUPLICATEEMAIL, in: account.AddMemberInput{
				Email: "new@allowance.test", SendInvite: ptrTo(true)}},
			{name: "the allowance spent, without an invitation", left: 0, code: account.ERATELIMITED, in: account.AddMemberInput{
				Email: "late@allowance.test", FirstName: "L", LastName: "A", SendInvite: ptrTo(false), Password: rulesPassword}},
		} {
			t.Run(c.name, func(t *testing.T) {
				a := &allowance{left: c.left}
				m, err := r.svc.AddMemberWithin(r.ctx, admin, acme.Slug, c.in, a)
				wantCode(t, "AddMemberWithin", err, c.code)
				if err == nil && m.State != c.state {
					t.Errorf("added as %s, want %s", m.State, c.state)
				}
				if got := a.taken - a.refunded; got != c.charged || a.taken > 1 {
					t.Errorf("took %d and gave back %d, want %d charged", a.taken, a.refunded, c.charged)
				}
			})
		}
		if p, err := r.svc.FindMembers(r.ctx, r.op, acme.Slug, account.MemberQuery{Q: "late@"}); err != nil || len(p.Items) != 0 {
			t.Errorf("refused by the allowance, yet added: %+v, %v", p.Items, err)
		}
	})
}

// TestAddMemberRequestingSeats: Add user with request_seats adds the person without
// the seat and files a request for one more seat, in the same transaction, audited
// beside the addition; it needs seats.request, decided before the body; an
// application both given and requested is refused naming request_seats; and
// CheckAddMember applies every rule yet leaves nothing behind.
func TestAddMemberRequestingSeats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRules(t, db)
		org, sub, _ := r.subscribed(1, 0)
		_, admin := r.member(r.op, org, account.RoleAdmin)
		if _, err := r.svc.AddMember(r.ctx, admin, org.Slug, account.AddMemberInput{Email: "first@seats.test", FirstName: "F", LastName: "S",
			Applications: []string{sub.ApplicationKey}, SendInvite: ptrTo(false), Password: rulesPassword}); err != nil {
			t.Fatal(err)
		}
		events := func() int {
			p, err := r.svc.FindAuditEvents(r.ctx, r.op, org.Slug, account.AuditQuery{Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			return len(p.Items)
		}
		requests := func() []account.SeatRequest {
			p, err := r.svc.FindOrganizationSeatRequests(r.ctx, r.op, org.Slug, account.SeatRequestQuery{})
			if err != nil {
				t.Fatal(err)
			}
			return p.Items
		}
		in := account.AddMemberInput{Email: "late@seats.test", FirstName: "L", LastName: "S",
			RequestSeats: []string{sub.ApplicationKey}, SendInvite: ptrTo(false), Password: rulesPassword}

		// Checked only: the same answer, nothing kept.
		before := events()
		m, err := r.svc.CheckAddMember(r.ctx, admin, org.Slug, in)
		if err != nil || m.State != account.MemberActive || m.Account.Email != "late@seats.test" {
			t.Fatalf("CheckAddMember = %s %q, %v", m.State, m.Account.Email, err)
		}
		if n := events(); n != before || len(requests()) != 0 {
			t.Fatalf("CheckAddMember left %d audit events and %d seat requests behind", n-before, len(requests()))
		}
		if p, _ := r.svc.FindMembers(r.ctx, r.op, org.Slug, account.MemberQuery{Q: "late@"}); len(p.Items) != 0 {
			t.Fatal("CheckAddMember added the member")
		}
		// Its refusals are AddMember's.
		bad := in
		bad.Applications = []string{sub.ApplicationKey}
		_, err = r.svc.CheckAddMember(r.ctx, admin, org.Slug, bad)
		wantCode(t, "a seat both given and requested", err, account.EINVALID)
		if e, ok := err.(*account.Error); !ok || len(e.Fields) == 0 || e.Fields[0].Field != "request_seats[0]" {
			t.Errorf("the refusal names %v, want request_seats[0]", err)
		}

		// Without seats.request: refused before the body is looked at.
		name, perms := "Adder", []string{"members.read", "members.invite", "seats.assign"}
		role, err := r.svc.CreateRole(r.ctx, r.op, org.Slug, account.RoleInput{Name: &name, Permissions: &perms})
		if err != nil {
			t.Fatal(err)
		}
		_, adder := r.member(r.op, org, role.ID)
		_, err = r.svc.AddMember(r.ctx, adder, org.Slug, account.AddMemberInput{Email: "", RequestSeats: []string{sub.ApplicationKey}})
		wantCode(t, "requesting a seat without seats.request", err, account.EFORBIDDEN)

		m, err = r.svc.AddMember(r.ctx, admin, org.Slug, in)
		if err != nil {
			t.Fatal(err)
		}
		if m.State != account.MemberActive || len(m.Seats) != 0 {
			t.Errorf("added %s with %d seats, want active without one", m.State, len(m.Seats))
		}
		reqs := requests()
		if len(reqs) != 1 || reqs[0].ApplicationKey != sub.ApplicationKey || reqs[0].Quantity != 1 ||
			reqs[0].Status != account.SeatRequestPending || reqs[0].RequestedBy != admin.Account.ID {
			t.Fatalf("seat requests = %+v, want one pending for one seat by the admin", reqs)
		}
		p, err := r.svc.FindAuditEvents(r.ctx, r.op, org.Slug, account.AuditQuery{Limit: 2})
		if err != nil || len(p.Items) != 2 {
			t.Fatal(p.Items, err)
		}
		got := map[string]bool{p.Items[0].Action: true, p.Items[1].Action: true}
		if !got[string(account.AuditSeatRequestCreated)] || !got[string(account.AuditMemberAdded)] {
			t.Errorf("the newest audit events are %v, want the addition and the seat request", got)
		}
		if r.assigned(org, sub.ID) != 1 {
			t.Error("the quota changed")
		}
	})
}
