package console_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"roster.dev/roster/internal/account"
)

// TestOperatorDeletesAccount: only the operator is offered the permanent deletion
// of an account on its panel; it asks for the account's email address typed out,
// and refuses anything else with the field named; then the account is gone from
// every organization. An organization's owner cannot delete, not even by posting.
func TestOperatorDeletesAccount(t *testing.T) {
	orgEach(t, func(t *testing.T, e *orgEnv) {
		ctx := context.Background()
		e.addMember(e.op, "acme", "olive@acme.test", account.RoleOwner)
		mel, err := e.svc.FindMember(ctx, e.op, "acme", memberID(t, e, "acme", "mel@acme.test"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AddMember(ctx, e.op, "globex", account.AddMemberInput{Email: "mel@acme.test",
			Role: account.RoleMember, SendInvite: new(bool)}); err != nil {
			t.Fatal(err)
		}
		panel := "/o/acme/users/" + mel.AccountID

		// An owner: neither offered nor allowed, and a typed confirmation changes nothing.
		olive := e.browser("olive@acme.test")
		orgLacks(t, olive.page(panel), "Delete account permanently")
		orgLacks(t, olive.page(panel+"?confirm=delete-account"), `name="confirm_email"`)
		olive.refused(panel+"/delete-account", url.Values{"confirm_email": {"mel@acme.test"}}, http.StatusForbidden)
		if _, err := e.svc.FindMember(ctx, e.op, "acme", mel.AccountID); err != nil {
			t.Fatalf("an owner's refused deletion deleted the account: %v", err)
		}

		op := e.browser(opEmail)
		orgHas(t, op.page(panel), "Delete account permanently…")
		page := op.page(panel + "?confirm=delete-account")
		orgHas(t, page, "Permanently delete the account of", "Type mel@acme.test to confirm", `name="confirm_email"`)

		for _, typed := range []string{"", "mel", "olive@acme.test"} {
			body := op.refused(panel+"/delete-account", url.Values{"confirm_email": {typed}}, http.StatusUnprocessableEntity)
			orgHas(t, body, `id="e-confirm_email"`, "type the account&#39;s email address, mel@acme.test, to confirm")
		}
		if _, err := e.svc.FindMember(ctx, e.op, "acme", mel.AccountID); err != nil {
			t.Fatalf("a wrong confirmation deleted the account: %v", err)
		}

		page = op.submit(panel+"/delete-account", url.Values{"confirm_email": {" MEL@acme.test "}}, "/o/acme/users")
		orgHas(t, page, "The account of mel@acme.test is deleted")
		for _, org := range []string{"acme", "globex"} {
			if _, err := e.svc.FindMember(ctx, e.op, org, mel.AccountID); account.ErrorCode(err) != account.ENOTFOUND {
				t.Errorf("after the deletion, the member of %s: %v, want not found", org, err)
			}
		}
		if r := op.get(panel); r.Status != http.StatusNotFound {
			t.Errorf("the deleted account's panel: %d, want 404", r.Status)
		}
	})
}

// memberID is the account id of email's membership in org.
func memberID(t *testing.T, e *orgEnv, org, email string) string {
	t.Helper()
	pg, err := e.svc.FindMembers(context.Background(), e.op, org, account.MemberQuery{Q: email})
	if err != nil || len(pg.Items) != 1 {
		t.Fatalf("find %s in %s: %v, %v", email, org, pg.Items, err)
	}
	return pg.Items[0].AccountID
}
