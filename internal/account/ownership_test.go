package account_test

import (
	"testing"

	"roster.dev/roster/internal/account"
)

// TestManagingDomain: an organization manages by domain exactly the accounts whose
// address is at one of its verified domains, while manage_domain_accounts is on;
// never a subdomain's, a look-alike's or an operator's.
func TestManagingDomain(t *testing.T) {
	on := account.Organization{ID: "acme", ManageDomainAccounts: true, ManagedDomains: []string{"acme.test", "xn--bcher-kva.example"}}
	off := on
	off.ManageDomainAccounts = false
	none := on
	none.ManagedDomains = nil
	for _, c := range []struct {
		org   account.Organization
		email string
		op    bool
		want  string
	}{
		{on, "bob@acme.test", false, "acme.test"},
		{on, "Bob@ACME.Test", false, "acme.test"},
		{on, "bob@acme.test.", false, "acme.test"},
		{on, "ann@bücher.example", false, "xn--bcher-kva.example"},
		{on, "bob@x.acme.test", false, ""},
		{on, "bob@acme.test.evil", false, ""},
		{on, "bob@evilacme.test", false, ""},
		{on, "acme.test@evil.test", false, ""},
		{on, "bob", false, ""},
		{on, "opal@acme.test", true, ""},
		{off, "bob@acme.test", false, ""},
		{none, "bob@acme.test", false, ""},
	} {
		a := account.Account{ID: "a1", Email: c.email, Operator: c.op}
		if got := account.ManagingDomain(c.org, a); got != c.want {
			t.Errorf("ManagingDomain(%v, %s, operator %v) = %q, want %q", c.org.ManageDomainAccounts, c.email, c.op, got, c.want)
		}
		if got := account.Manages(c.org, a); got != (c.want != "") {
			t.Errorf("Manages(%s) = %v", c.email, got)
		}
	}
	// Created by the organization: managed whatever the domain.
	if !account.Manages(off, account.Account{Email: "x@elsewhere.test", ManagedBy: "acme"}) {
		t.Error("an account acme created is not managed by it")
	}
}
