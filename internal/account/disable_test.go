package account_test

import (
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/mail"
	"roster.dev/roster/internal/password"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestDisableAccount: an operator disables an account and enables it again. Disabled,
// the account's check answers account-disabled at once, its sessions are gone, it
// cannot log in, the person has an email, and the application of its organization
// reads account.disabled in its feed; enabled, all of it comes back. Anyone else is
// forbidden and changes nothing; an operator's own account is a conflict; an unknown
// account is not found.
func TestDisableAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		r := &rules{t: t, ctx: ctx, db: db, svc: account.NewService(account.Options{Store: db,
			Hasher:   password.NewHasher(password.TestParams, 2, rand.Reader),
			Renderer: mail.NewNoticeRenderer(), BaseURL: "https://roster.test"})}
		if _, _, err := r.svc.Bootstrap(ctx, "op@roster.test", rulesPassword); err != nil {
			t.Fatal(err)
		}
		r.op = r.login("op@roster.test")
		org, sub, _ := r.subscribed(5, 0)
		_, ownerActor := r.member(r.op, org, account.RoleOwner)
		bob, _ := r.member(r.op, org, account.RoleMember)
		if _, _, err := r.svc.AssignSeat(ctx, r.op, org.Slug, sub.ID, bob.AccountID); err != nil {
			t.Fatal(err)
		}
		_, key, err := r.svc.CreateApplicationKey(ctx, r.op, sub.ApplicationKey, "check")
		if err != nil {
			t.Fatal(err)
		}
		app, err := r.svc.AuthenticateApplication(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		check := func(want string) {
			t.Helper()
			allowed, reason, err := r.svc.Check(ctx, app, org.Slug, bob.AccountID, "")
			if err != nil || reason != want || allowed != (want == account.ReasonOK) {
				t.Fatalf("check = %v %q %v, want %q", allowed, reason, err, want)
			}
		}
		login := func() error {
			_, err := r.svc.Login(ctx, bob.Account.Email, rulesPassword, "", "")
			return err
		}
		session, err := r.svc.Login(ctx, bob.Account.Email, rulesPassword, "", "")
		if err != nil {
			t.Fatal(err)
		}
		check(account.ReasonOK)
		check(account.ReasonOK) // from memory, if the store vouches for it

		type refusal struct {
			name  string
			actor account.Actor
			id    string
			want  string
		}
		for _, c := range []refusal{
			{"the owner of the account's organization", ownerActor, bob.AccountID, account.EFORBIDDEN},
			{"the owner, on an unknown account", ownerActor, "acc-nope", account.EFORBIDDEN},
			{"the operator, on their own account", r.op, r.op.Account.ID, account.ECONFLICT},
			{"the operator, on an unknown account", r.op, "acc-nope", account.ENOTFOUND},
		} {
			_, err := r.svc.DisableAccount(ctx, c.actor, c.id)
			wantCode(t, "disable: "+c.name, err, c.want)
			_, err = r.svc.EnableAccount(ctx, c.actor, c.id)
			if c.want != account.ECONFLICT { // enabling one's own (active) account changes nothing
				wantCode(t, "enable: "+c.name, err, c.want)
			}
		}
		check(account.ReasonOK)
		if _, err := r.svc.Authenticate(ctx, session.Token, ""); err != nil {
			t.Fatalf("a refused disable ended the session: %v", err)
		}
		if got := r.auditActions(org); slices.Contains(got, string(account.AuditAccountDisabled)) {
			t.Fatalf("a refused disable was audited: %v", got)
		}

		acct, err := r.svc.DisableAccount(ctx, r.op, bob.AccountID)
		if err != nil || acct.State != account.AccountDisabled {
			t.Fatalf("disable = %v %v", acct.State, err)
		}
		check(account.ReasonAccountDisabled)
		if _, err := r.svc.Authenticate(ctx, session.Token, ""); account.ErrorCode(err) != account.EUNAUTHENTICATED {
			t.Fatalf("a disabled account's session authenticates: %v", err)
		}
		wantCode(t, "login of a disabled account", login(), account.EUNAUTHENTICATED)
		if m := r.find(org, bob.AccountID); m.State != account.MemberActive || len(m.Seats) != 1 {
			t.Fatalf("disabling changed the membership: %v, %d seats", m.State, len(m.Seats))
		}
		// Disabling twice changes nothing more.
		if _, err := r.svc.DisableAccount(ctx, r.op, bob.AccountID); err != nil {
			t.Fatal(err)
		}

		acct, err = r.svc.EnableAccount(ctx, r.op, bob.AccountID)
		if err != nil || acct.State != account.AccountActive {
			t.Fatalf("enable = %v %v", acct.State, err)
		}
		check(account.ReasonOK)
		if err := login(); err != nil {
			t.Fatalf("login after enable: %v", err)
		}

		// The trails: the organization's and the platform's, once each way.
		var bobs []string
		p0, err := r.svc.FindAuditEvents(ctx, r.op, org.Slug, account.AuditQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p0.Items {
			if e.TargetID == bob.AccountID && strings.HasPrefix(e.Action, "account.") {
				bobs = append(bobs, e.Action)
			}
		}
		if got := bobs; !slices.Equal(got, []string{"account.enabled", "account.disabled"}) {
			t.Errorf("organization trail = %v", got)
		}
		p, err := r.svc.FindPlatformAuditEvents(ctx, r.op, account.AuditQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var platform []string
		for _, e := range p.Items {
			if e.TargetID == bob.AccountID && strings.HasPrefix(e.Action, "account.") {
				platform = append(platform, e.Action)
			}
		}
		if !slices.Equal(platform, []string{"account.enabled", "account.disabled"}) {
			t.Errorf("platform trail of bob = %v", platform)
		}

		// The emails.
		out, _, err := r.svc.FindOutbox(ctx, r.op, account.OutboxQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, m := range out.Items {
			if m.To == bob.Account.Email {
				kinds = append(kinds, m.Kind)
			}
		}
		if !slices.Contains(kinds, account.NoticeAccountDisabled) || !slices.Contains(kinds, account.NoticeAccountEnabled) {
			t.Errorf("bob's emails = %v", kinds)
		}

		// The application's feed.
		for {
			n, err := db.RelayEvents(ctx, time.Now(), 500)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		evs, err := r.svc.FindEvents(ctx, r.op, account.AppActor{}, sub.ApplicationKey, account.EventQuery{Types: "account.disabled,account.enabled"})
		if err != nil {
			t.Fatal(err)
		}
		var types []account.EventType
		for _, e := range evs {
			types = append(types, e.Type)
		}
		if !slices.Equal(types, []account.EventType{account.EventAccountDisabled, account.EventAccountEnabled}) {
			t.Fatalf("feed = %v", types)
		}
		if d := string(evs[0].Data); !strings.Contains(d, `"id":"`+bob.AccountID+`"`) || !strings.Contains(d, `"id":"`+org.ID+`"`) {
			t.Errorf("account.disabled's data lacks the member or the organization: %s", d)
		}

		// Another operator's account may be disabled (the actor stays an active operator).
		if err := db.Write(ctx, func(tx account.Tx) error {
			a, err := tx.AccountByID(ctx, ownerActor.Account.ID)
			if err != nil {
				return err
			}
			a.Operator = true
			return tx.UpdateAccount(ctx, a)
		}); err != nil {
			t.Fatal(err)
		}
		if a, err := r.svc.DisableAccount(ctx, r.op, ownerActor.Account.ID); err != nil || a.State != account.AccountDisabled {
			t.Fatalf("disable another operator = %v %v", a.State, err)
		}
		if _, err := r.svc.EnableAccount(ctx, r.op, ownerActor.Account.ID); err != nil {
			t.Fatal(err)
		}

		// An invited person who never activated the account is pending again once
		// enabled, not active without a password.
		yes := true
		inv, err := r.svc.AddMember(ctx, r.op, org.Slug, account.AddMemberInput{Email: "ivy@elsewhere.test", SendInvite: &yes})
		if err != nil || inv.Account.State != account.AccountPending {
			t.Fatalf("invite = %v %v", inv.Account.State, err)
		}
		if a, err := r.svc.DisableAccount(ctx, r.op, inv.AccountID); err != nil || a.State != account.AccountDisabled {
			t.Fatalf("disable the invited account = %v %v", a.State, err)
		}
		if a, err := r.svc.EnableAccount(ctx, r.op, inv.AccountID); err != nil || a.State != account.AccountPending {
			t.Fatalf("enable the invited account = %v %v, want pending", a.State, err)
		}
	})
}
