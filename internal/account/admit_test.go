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
