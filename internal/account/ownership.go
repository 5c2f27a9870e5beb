package account

import "slices"

// Who may act on a person (API.md, "Who may act on a person"). Accounts are global
// and belong to their person; memberships are each organization's own. The rules
// below are the only place that decides them; the use cases and the store's search
// index call them.
//
//   - An organization manages an account it created — with a password
//     (send_invite: false), for an import or an identity provider without one, or by
//     inviting an address Roster did not know — until the person proves the mailbox
//     (accepts an emailed invitation, follows a sign-up's link, completes a password
//     reset). A partner's admins acting in one of its organizations create accounts
//     managed by the partner, which its organizations share.
//   - An organization with manage_domain_accounts on also manages, as if it had
//     created them, the accounts whose email is at one of its verified domains
//     (ManagingDomain), for as long as both hold: computed from the current
//     domains, never recorded in the account. Operators' accounts never are.
//   - No organization gets an active membership of an account it does not manage
//     without the person accepting an invitation; the operator may link directly.
//   - Profile fields are edited by the person, the operator and the managing
//     organization; credentials only by the person (an organization chooses a
//     password only for an account it creates).
//   - Until an invited person accepts, an organization that does not manage their
//     account sees only its id and email.

// Manages reports whether org manages the account a: a is managed by org, or by
// org's partner, or org manages it by its email's domain (ManagingDomain).
func Manages(org Organization, a Account) bool {
	return createdBy(org, a) || ManagingDomain(org, a) != ""
}

// createdBy reports whether a is managed by org, or by org's partner, because one
// of them created it (accounts.managed_by).
func createdBy(org Organization, a Account) bool {
	return a.ManagedBy != "" && (a.ManagedBy == org.ID || a.ManagedBy == org.ParentID)
}

// ManagingDomain is the verified domain by which org manages the account a, or ""
// when it does not manage it that way: org has manage_domain_accounts on, and a's
// email is at one of org's verified domains (org.ManagedDomains) — the part after
// the @, lower-cased, equal to the domain: neither a subdomain nor a longer name
// matches. An operator's account is never managed by domain.
func ManagingDomain(org Organization, a Account) string {
	if !org.ManageDomainAccounts || a.Operator || len(org.ManagedDomains) == 0 {
		return ""
	}
	d := EmailDomain(a.Email)
	if d == "" || !slices.Contains(org.ManagedDomains, d) {
		return ""
	}
	return d
}

// domainRule is the verified domain under which actor, acting in org, changes the
// account a only by the domain rule: "" when the actor may anyway (the person, an
// operator, or org created the account) or may not at all.
func domainRule(actor Actor, org Organization, a Account) string {
	if actor.SCIMOrgID == "" && (actor.Account.Operator || actor.Account.ID == a.ID) || createdBy(org, a) {
		return ""
	}
	return ManagingDomain(org, a)
}

// ProfileVisible reports whether org sees the profile (names, username, phone) of
// the account a of one of its members in state: once the person has accepted, or
// when org manages the account.
func ProfileVisible(org Organization, state MemberState, a Account) bool {
	return state != MemberInvited || Manages(org, a)
}

// MayEditProfile reports whether actor may change the profile fields of a, a member
// of org: the person themselves, an operator, or org while it manages the account
// (an organization's SCIM token included).
func MayEditProfile(actor Actor, org Organization, a Account) bool {
	if actor.SCIMOrgID == "" && (actor.Account.Operator || actor.Account.ID == a.ID) {
		return true
	}
	return Manages(org, a)
}

// redact is m as actor, acting in org, may see it: Managed is set, and an invited
// member's account that org does not manage shows only its id and email (but to an
// operator).
func redact(actor Actor, org Organization, m Member) Member {
	m.Managed = Manages(org, m.Account)
	if ProfileVisible(org, m.State, m.Account) || actor.Account.Operator && actor.SCIMOrgID == "" {
		return m
	}
	m.Account = Account{ID: m.Account.ID, Email: m.Account.Email}
	return m
}

// redactAll redacts every member of ms in place.
func redactAll(actor Actor, org Organization, ms []Member) {
	for i := range ms {
		ms[i] = redact(actor, org, ms[i])
	}
}

// profileFields are the account fields an UpdateMemberInput may change.
func (in UpdateMemberInput) profileFields() []string {
	var fs []string
	for _, f := range []struct {
		name string
		set  bool
	}{{"first_name", in.FirstName != nil}, {"last_name", in.LastName != nil},
		{"phone", in.Phone != nil}, {"username", in.Username != nil}} {
		if f.set {
			fs = append(fs, f.name)
		}
	}
	return fs
}

// profileForbidden is the refusal of a profile change by someone who may not make
// it, naming each field.
func profileForbidden(fields []string) error {
	e := &Error{Code: EFORBIDDEN, Message: "this person's profile is their own: only they, an operator " +
		"or the organization that manages their account may change it"}
	for _, f := range fields {
		e.Fields = append(e.Fields, FieldError{Field: f, Message: "is the person's own to change"})
	}
	return e
}

// claim records that the person proved the mailbox of a: no organization manages it
// any more, and its email is verified.
func claim(a *Account) {
	a.ManagedBy, a.EmailVerified = "", true
}

// managerFor is the organization that manages the accounts the actor creates in
// a.org: the organization itself, or its partner when the actor acts there only
// through the partner.
func (a access) managerFor() string {
	if a.org.ParentID != "" && !a.own.Has(PermMembersInvite) && a.viaPartner {
		return a.org.ParentID
	}
	return a.org.ID
}

// disabledAccount is the refusal to add a disabled account to an organization.
func disabledAccount(email string) error {
	return &Error{Code: EFORBIDDEN, Message: "the account of " + email + " is disabled",
		Fields: []FieldError{{Field: "email", Message: "belongs to a disabled account"}}}
}
