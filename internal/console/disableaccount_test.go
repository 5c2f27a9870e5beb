package console_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"roster.dev/roster/internal/account"
)

// TestOperatorDisablesAccount: only the operator is offered to disable an account on
// its panel, with a confirmation; disabled, the account cannot log in and the panel
// offers to enable it, which gives the access back. An organization's owner is
// neither offered nor allowed either, not even by posting.
func TestOperatorDisablesAccount(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		e.addMember(e.op, "acme", "olive@acme.test", account.RoleOwner)
		mel := memberID(t, e, "acme", "mel@acme.test")
		panel := "/o/acme/users/" + mel
		state := func() account.AccountState {
			t.Helper()
			m, err := e.svc.FindMember(ctx, e.op, "acme", mel)
			if err != nil {
				t.Fatal(err)
			}
			return m.Account.State
		}

		olive := e.browser("olive@acme.test")
		orgLacks(t, olive.page(panel), "Disable account", "Enable account")
		orgLacks(t, olive.page(panel+"?confirm=disable-account"), "Yes, disable the account")
		olive.refused(panel+"/disable-account", url.Values{}, http.StatusForbidden)
		if s := state(); s != account.AccountActive {
			t.Fatalf("an owner's refused disable left the account %s", s)
		}

		op := e.browser(opEmail)
		orgHas(t, op.page(panel), "Disable account…")
		orgHas(t, op.page(panel+"?confirm=disable-account"), "Disable the account of", "Yes, disable the account")
		page := op.submit(panel+"/disable-account", url.Values{}, panel)
		orgHas(t, page, "The account is disabled", "Enable account")
		if s := state(); s != account.AccountDisabled {
			t.Fatalf("after disable the account is %s", s)
		}
		if _, err := e.svc.Login(ctx, "mel@acme.test", orgPassword, "", ""); account.ErrorCode(err) != account.EUNAUTHENTICATED {
			t.Fatalf("a disabled account logs in: %v", err)
		}
		olive.refused(panel+"/enable-account", url.Values{}, http.StatusForbidden)
		if s := state(); s != account.AccountDisabled {
			t.Fatalf("an owner's refused enable left the account %s", s)
		}

		page = op.submit(panel+"/enable-account", url.Values{}, panel)
		orgHas(t, page, "The account is enabled again", "Disable account…")
		if s := state(); s != account.AccountActive {
			t.Fatalf("after enable the account is %s", s)
		}
		if _, err := e.svc.Login(ctx, "mel@acme.test", orgPassword, "", ""); err != nil {
			t.Fatalf("an enabled account cannot log in: %v", err)
		}
	})
}
