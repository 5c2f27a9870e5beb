package account_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// wantField fails unless err is EINVALID naming field (and only it).
func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	e, ok := account.AsError(err)
	if !ok || e.Code != account.EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != field {
		t.Errorf("%s: %v, want EINVALID naming %s", what, err, field)
	}
}

// require sets the organization's required_profile_fields as the operator.
func (r *rules) require(org account.Organization, fields ...string) account.Organization {
	r.t.Helper()
	o, err := r.svc.UpdateOrganization(r.ctx, r.op, org.Slug, account.UpdateOrganizationInput{RequiredProfileFields: &fields})
	if err != nil {
		r.t.Fatal(err)
	}
	return o
}

// TestRequiredProfileFieldsSetting: required_profile_fields is a subset of phone and
// username, each once, stored and read back; [] turns it off again.
func TestRequiredProfileFieldsSetting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRules(t, db)
		acme := r.org()
		if got := acme.RequiredFields(); len(got) != 0 {
			t.Fatalf("a new organization requires %v, want nothing", got)
		}
		for _, bad := range [][]string{{"fax"}, {"phone", "phone"}, {"Phone"}, {""}} {
			_, err := r.svc.UpdateOrganization(r.ctx, r.op, acme.Slug, account.UpdateOrganizationInput{RequiredProfileFields: &bad})
			wantField(t, fmt.Sprintf("required_profile_fields %q", bad), err, "required_profile_fields")
		}
		_, member := r.member(r.op, acme, account.RoleMember)
		fs := []string{"username", "phone"}
		_, err := r.svc.UpdateOrganization(r.ctx, member, acme.Slug, account.UpdateOrganizationInput{RequiredProfileFields: &fs})
		wantCode(t, "a member setting it", err, account.EFORBIDDEN)
		r.require(acme, "username", "phone")
		got, err := r.svc.FindOrganization(r.ctx, r.op, acme.Slug)
		if err != nil || !slices.Equal(got.RequiredFields(), []string{"phone", "username"}) {
			t.Errorf("read back %v (%v), want [phone username]", got.RequiredFields(), err)
		}
		if got := r.require(acme).RequiredFields(); len(got) != 0 {
			t.Errorf("cleared, still requires %v", got)
		}
		got, _ = r.svc.FindOrganization(r.ctx, r.op, acme.Slug)
		if len(got.RequiredFields()) != 0 {
			t.Errorf("cleared, read back %v", got.RequiredFields())
		}
	})
}

// TestRequiredProfileFields: an organization requiring phone refuses, on every
// channel, a person it creates without one (naming phone, or the channel's own
// name of it), lets no update clear it — also of an account that is a member of two
// organizations of which only one requires it, and of one's own profile — and
// exempts invitations; another organization is unaffected.
func TestRequiredProfileFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRules(t, db)
		acme, globex := r.org(), r.org()
		adminM, admin := r.member(r.op, acme, account.RoleAdmin) // without a phone, from before the rule
		acme = r.require(acme, "phone")
		no, yes := false, true
		add := func(org account.Organization, email, phone string, invite bool) (account.Member, error) {
			return r.svc.AddMember(r.ctx, admin, org.Slug, account.AddMemberInput{Email: email, FirstName: "P", LastName: "Q",
				Phone: phone, SendInvite: map[bool]*bool{true: &yes, false: &no}[invite], Password: map[bool]string{false: rulesPassword}[invite]})
		}
		_, err := add(acme, "nophone@acme.test", "", false)
		wantField(t, "added without a phone", err, "phone")
		if p, _ := r.svc.FindMembers(r.ctx, r.op, acme.Slug, account.MemberQuery{Q: "nophone@"}); len(p.Items) != 0 {
			t.Errorf("refused, yet added: %+v", p.Items)
		}
		withPhone, err := add(acme, "phone@acme.test", "+14155550100", false)
		if err != nil || withPhone.Account.Phone != "+14155550100" {
			t.Fatalf("added with a phone: %+v, %v", withPhone.Account, err)
		}
		// An invitation by email alone is exempt: the invitee's profile is their own.
		if m, err := add(acme, "invitee@acme.test", "", true); err != nil || m.State != account.MemberInvited {
			t.Errorf("invited without a phone: %+v, %v", m, err)
		}
		// Another organization is unaffected.
		_, gAdmin := r.member(r.op, globex, account.RoleAdmin)
		other, err := r.svc.AddMember(r.ctx, gAdmin, globex.Slug, account.AddMemberInput{Email: "two@globex.test", FirstName: "T",
			LastName: "O", Phone: "+14155550101", SendInvite: &no, Password: rulesPassword})
		if err != nil {
			t.Fatalf("globex adds without the rule: %v", err)
		}
		if _, err := r.svc.AddMember(r.ctx, gAdmin, globex.Slug, account.AddMemberInput{Email: "nophone@globex.test",
			FirstName: "N", LastName: "P", SendInvite: &no, Password: rulesPassword}); err != nil {
			t.Errorf("globex adds without a phone: %v", err)
		}

		// Updates keep a required field.
		empty, phone2 := "", "+14155550102"
		_, err = r.svc.UpdateMember(r.ctx, admin, acme.Slug, withPhone.AccountID, account.UpdateMemberInput{Phone: &empty})
		wantField(t, "UpdateMember clearing the phone", err, "phone")
		if m, err := r.svc.UpdateMember(r.ctx, admin, acme.Slug, withPhone.AccountID, account.UpdateMemberInput{Phone: &phone2}); err != nil || m.Account.Phone != phone2 {
			t.Errorf("UpdateMember changing the phone: %+v, %v", m.Account, err)
		}
		self := r.login("phone@acme.test")
		_, err = r.svc.UpdateProfile(r.ctx, self, account.ProfileInput{Phone: &empty})
		wantField(t, "UpdateProfile clearing the phone", err, "phone")

		// An account of two organizations, globex's (which manages it) and acme's,
		// which requires a phone: neither globex nor its person may clear it.
		if _, err := r.svc.AddMember(r.ctx, r.op, acme.Slug, account.AddMemberInput{Email: other.Account.Email, SendInvite: &no}); err != nil {
			t.Fatalf("the operator links the account to acme: %v", err)
		}
		_, err = r.svc.UpdateMember(r.ctx, gAdmin, globex.Slug, other.AccountID, account.UpdateMemberInput{Phone: &empty})
		wantField(t, "globex clearing the phone acme requires", err, "phone")
		_, err = r.svc.UpdateProfile(r.ctx, r.login(other.Account.Email), account.ProfileInput{Phone: &empty})
		wantField(t, "its person clearing the phone acme requires", err, "phone")
		if r.find(acme, other.AccountID).Account.Phone != "+14155550101" {
			t.Error("the phone was cleared all the same")
		}
		// A member of globex alone clears theirs.
		gOnly, err := r.svc.AddMember(r.ctx, gAdmin, globex.Slug, account.AddMemberInput{Email: "three@globex.test", FirstName: "T",
			LastName: "H", Phone: "+14155550103", SendInvite: &no, Password: rulesPassword})
		if err != nil {
			t.Fatal(err)
		}
		if a, err := r.svc.UpdateProfile(r.ctx, r.login(gOnly.Account.Email), account.ProfileInput{Phone: &empty}); err != nil || a.Phone != "" {
			t.Errorf("a globex member clearing their phone: %+v, %v", a, err)
		}

		// SCIM: a new account takes its phone from phoneNumbers, and is refused without one.
		_, err = r.svc.CreateSCIMUser(r.ctx, r.op, acme.Slug, account.SCIMUserInput{Active: true,
			SCIMUserData: account.SCIMUserData{UserName: "scim1@acme.test", GivenName: "S", FamilyName: "One"}})
		wantField(t, "SCIM without phoneNumbers", err, string(account.FieldPhones))
		u, err := r.svc.CreateSCIMUser(r.ctx, r.op, acme.Slug, account.SCIMUserInput{Active: true,
			SCIMUserData: account.SCIMUserData{UserName: "scim2@acme.test", GivenName: "S", FamilyName: "Two",
				Phones: []account.SCIMValue{{Value: "+14155550109"}, {Value: "+14155550104", Primary: true}}}})
		if err != nil || u.Member.Account.Phone != "+14155550104" {
			t.Errorf("SCIM with phoneNumbers: %+v, %v", u.Member.Account, err)
		}
		// A replacement of a member acme manages gives it the phone it lacks, or is
		// refused; a PATCH without one is not (the identity provider may deactivate).
		user := account.SCIMUserInput{Active: true, Role: account.RoleAdmin,
			SCIMUserData: account.SCIMUserData{UserName: adminM.Account.Email, GivenName: "M", FamilyName: adminM.Account.LastName}}
		_, err = r.svc.ReplaceSCIMUser(r.ctx, r.op, acme.Slug, adminM.AccountID, user)
		wantField(t, "SCIM replacement without phoneNumbers", err, string(account.FieldPhones))
		if _, err := r.svc.PatchSCIMUser(r.ctx, r.op, acme.Slug, adminM.AccountID, func(account.SCIMUser) (account.SCIMUserInput, error) {
			return user, nil
		}); err != nil {
			t.Errorf("SCIM PATCH without phoneNumbers: %v", err)
		}
		user.Phones = []account.SCIMValue{{Value: "+14155550108"}}
		if u, err := r.svc.ReplaceSCIMUser(r.ctx, r.op, acme.Slug, adminM.AccountID, user); err != nil || u.Member.Account.Phone != "+14155550108" {
			t.Errorf("SCIM replacement with phoneNumbers: %+v, %v", u.Member.Account, err)
		}
		if _, err := r.svc.CreateSCIMUser(r.ctx, r.op, globex.Slug, account.SCIMUserInput{Active: true,
			SCIMUserData: account.SCIMUserData{UserName: "scim3@globex.test", GivenName: "S", FamilyName: "Three"}}); err != nil {
			t.Errorf("SCIM in globex without phoneNumbers: %v", err)
		}
	})
}

// TestRequiredProfileFieldsImport: an import row that creates a person (send_invite
// no) without a required field is rejected naming its column; the row with it, and
// an invited row without it, are added.
func TestRequiredProfileFieldsImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		r := newRules(t, db)
		acme := r.require(r.org(), "phone", "username")
		h, err := account.ParseImportHeader([]string{"email", "first_name", "last_name", "phone", "username", "send_invite"})
		if err != nil {
			t.Fatal(err)
		}
		rows := []account.ImportRow{
			h.Row(2, []string{"a@acme.test", "A", "A", "", "alpha", "no"}, nil),
			h.Row(3, []string{"b@acme.test", "B", "B", "+14155550105", "", "no"}, nil),
			h.Row(4, []string{"c@acme.test", "C", "C", "+14155550106", "charlie", "no"}, nil),
			h.Row(5, []string{"d@acme.test", "", "", "", "", "yes"}, nil),
		}
		imp, err := r.svc.StartImport(r.ctx, r.op, acme.Slug, account.ImportUpload{FileName: "p.csv", Format: "csv",
			Content: []byte("email\n"), Total: len(rows)})
		if err != nil {
			t.Fatal(err)
		}
		claimed, ok, err := r.svc.ImportJobs().Claim(r.ctx, "test", time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if _, err := r.svc.ImportJobs().ApplyRows(r.ctx, claimed, rows, time.Minute); err != nil {
			t.Fatal(err)
		}
		_, errs, err := r.svc.FindImport(r.ctx, r.op, acme.Slug, imp.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range errs {
			got = append(got, fmt.Sprintf("%d %s", e.Row, e.Field))
		}
		if want := []string{"2 phone", "3 username"}; !slices.Equal(got, want) {
			t.Errorf("row errors %v, want %v", got, want)
		}
		for _, q := range []string{"c@acme.test", "d@acme.test"} {
			if p, err := r.svc.FindMembers(r.ctx, r.op, acme.Slug, account.MemberQuery{Q: q}); err != nil || len(p.Items) != 1 {
				t.Errorf("%s: %d members (%v), want 1", q, len(p.Items), err)
			}
		}
	})
}
