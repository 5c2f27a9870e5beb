package account

import (
	"context"
	"encoding/base64"
	"io"
)

// Join policies of an organization's verified domains (domain_join_policy).
const (
	JoinPolicyOff     = "off"     // nothing: people of the domain see nothing of it
	JoinPolicySuggest = "suggest" // they see the organization on their account page and may ask to join
	JoinPolicyAuto    = "auto"    // they join at once, with domain_join_role, when they sign up or log in
)

// domainToken is the random part of a domain's TXT record.
func (s *Service) domainToken() string {
	b := make([]byte, 24)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		panic("account: random source failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func domainState(d Domain) map[string]any {
	m := map[string]any{"domain": d.Name, "state": d.State}
	if d.VerifiedBy != "" {
		m["verified_by"] = d.VerifiedBy
	}
	return m
}

// AddDomain adds an email domain to an organization, pending until its TXT record is
// seen (VerifyDomain, or the background's CheckPendingDomains). Needs members.manage.
// Errors: ENOTFOUND, EFORBIDDEN, EINVALID (naming domain: not a domain, a public
// mail provider's, or the organization's 51st), ECONFLICT (the organization has it
// already).
func (s *Service) AddDomain(ctx context.Context, actor Actor, orgRef, name string) (d Domain, err error) {
	defer wrap(&err, "AddDomain(%s)", orgRef)
	if err := s.permitted(ctx, actor, orgRef, PermMembersManage); err != nil {
		return d, err
	}
	name, err = NormalizeDomain("domain", name)
	if err != nil {
		return d, err
	}
	err = s.writeIn(ctx, actor, orgRef, PermMembersManage, func(tx Tx, a access) error {
		have, err := tx.Domains(ctx, a.org.ID)
		if err != nil {
			return err
		}
		if len(have) >= maxDomainsPerOrg {
			return Invalid("domain", "an organization may have at most 50 domains; remove one first")
		}
		now := s.now()
		d = Domain{ID: s.ids.New(), OrgID: a.org.ID, Name: name, State: DomainPending, Token: s.domainToken(),
			PendingUntil: now.Add(DomainPendingFor), CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateDomain(ctx, d); err != nil {
			if ErrorCode(err) == ECONFLICT {
				return &Error{Code: ECONFLICT, Message: a.org.Name + " has " + name + " already",
					Fields: []FieldError{{Field: "domain", Message: "is this organization's already"}}}
			}
			return err
		}
		return s.audit(ctx, tx, actor, a.org.ID, AuditDomainAdded, "domain", d.ID, nil, domainState(d))
	})
	return d, err
}

// FindDomains lists an organization's domains, by name. Needs members.manage.
func (s *Service) FindDomains(ctx context.Context, actor Actor, orgRef string) (ds []Domain, err error) {
	defer wrap(&err, "FindDomains(%s)", orgRef)
	err = s.readIn(ctx, actor, orgRef, PermMembersManage, func(tx Tx, a access) error {
		ds, err = tx.Domains(ctx, a.org.ID)
		return err
	})
	return ds, err
}

// FindDomain returns one of an organization's domains. Needs members.manage.
func (s *Service) FindDomain(ctx context.Context, actor Actor, orgRef, id string) (d Domain, err error) {
	defer wrap(&err, "FindDomain(%s, %s)", orgRef, id)
	err = s.readIn(ctx, actor, orgRef, PermMembersManage, func(tx Tx, a access) error {
		d, err = s.domainOf(ctx, tx, a, id)
		return err
	})
	return d, err
}

func (s *Service) domainOf(ctx context.Context, tx Tx, a access, id string) (Domain, error) {
	if err := CheckText("id", id); err != nil {
		return Domain{}, Errorf(ENOTFOUND, "domain not found")
	}
	d, err := tx.Domain(ctx, a.org.ID, id)
	return d, notFound(err, "domain")
}

// RemoveDomain removes one of an organization's domains: its people no longer find
// the organization by it. Needs members.manage. Errors: ENOTFOUND, EFORBIDDEN.
func (s *Service) RemoveDomain(ctx context.Context, actor Actor, orgRef, id string) (err error) {
	defer wrap(&err, "RemoveDomain(%s, %s)", orgRef, id)
	return s.writeIn(ctx, actor, orgRef, PermMembersManage, func(tx Tx, a access) error {
		d, err := s.domainOf(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteDomain(ctx, a.org.ID, d.ID); err != nil {
			return notFound(err, "domain")
		}
		return s.audit(ctx, tx, actor, a.org.ID, AuditDomainRemoved, "domain", d.ID, domainState(d), nil)
	})
}

// VerifyDomain checks a domain's TXT record now. Found, the domain is verified (the
// organization's administrators are emailed); not found, it stays pending (an
// expired one is pending for another week) and CheckError says why — not an error.
// A verified domain is answered as it is. With force, an operator marks the domain
// verified without a lookup (audited as such). Needs members.manage. Errors:
// ENOTFOUND, EFORBIDDEN (force, by anyone but an operator), ECONFLICT (another
// organization holds the domain verified).
func (s *Service) VerifyDomain(ctx context.Context, actor Actor, orgRef, id string, force bool) (d Domain, err error) {
	defer wrap(&err, "VerifyDomain(%s, %s)", orgRef, id)
	if err := s.permitted(ctx, actor, orgRef, PermMembersManage); err != nil {
		return d, err
	}
	if force && (!actor.Account.Operator || actor.SCIMOrgID != "") {
		return d, Errorf(EFORBIDDEN, "only an operator marks a domain verified without its DNS record")
	}
	if err := s.readIn(ctx, actor, orgRef, PermMembersManage, func(tx Tx, a access) error {
		if d, err = s.domainOf(ctx, tx, a, id); err != nil {
			return err
		}
		return heldElsewhere(ctx, tx, d)
	}); err != nil || d.State == DomainVerified {
		return d, err
	}
	problem := ""
	if !force {
		problem = s.checkTXT(ctx, d) // outside any transaction: DNS may take seconds
	}
	method := VerifiedByDNS
	if force {
		method = VerifiedByOperator
	}
	err = s.writeIn(ctx, actor, orgRef, PermMembersManage, func(tx Tx, a access) error {
		cur, err := s.domainOf(ctx, tx, a, id)
		if err != nil {
			return err
		}
		d, err = s.applyCheck(ctx, tx, actor, a.org, cur, problem, method, true)
		return err
	})
	return d, err
}

// heldElsewhere refuses to verify d while another organization holds it verified.
func heldElsewhere(ctx context.Context, tx Tx, d Domain) error {
	if d.State == DomainVerified {
		return nil
	}
	holder, err := tx.VerifiedDomain(ctx, d.Name)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return nil
	case err != nil:
		return err
	case holder.OrgID != d.OrgID:
		return domainTaken(d.Name)
	}
	return nil
}

func domainTaken(name string) error {
	return &Error{Code: ECONFLICT,
		Message: name + " is verified by another organization; it stays pending here until that organization removes it",
		Fields:  []FieldError{{Field: "domain", Message: "is verified by another organization"}}}
}

// applyCheck writes a check's result on cur (of org) in tx: problem "" verifies it
// (by method), else records the problem. byHand is a check someone asked for
// (audited; an expired domain is pending for another week); the background's failed
// checks only note when they ran.
func (s *Service) applyCheck(ctx context.Context, tx Tx, actor Actor, org Organization, cur Domain, problem, method string, byHand bool) (Domain, error) {
	if cur.State == DomainVerified {
		return cur, nil
	}
	now := s.now()
	before := domainState(cur)
	if problem == "" {
		if err := heldElsewhere(ctx, tx, cur); err != nil {
			return cur, err
		}
		cur.State, cur.VerifiedBy, cur.VerifiedAt = DomainVerified, method, now
		cur.CheckedAt, cur.CheckError, cur.UpdatedAt = now, "", now
		if err := tx.UpdateDomain(ctx, cur); err != nil {
			if ErrorCode(err) == ECONFLICT { // verified elsewhere at this very moment
				return cur, domainTaken(cur.Name)
			}
			return cur, err
		}
		if err := s.audit(ctx, tx, actor, org.ID, AuditDomainVerified, "domain", cur.ID, before, domainState(cur)); err != nil {
			return cur, err
		}
		return cur, s.tellDomainAdmins(ctx, tx, org, cur, NoticeDomainVerified)
	}
	cur.CheckedAt, cur.CheckError, cur.UpdatedAt = now, problem, now
	if byHand && cur.State == DomainExpired {
		cur.State, cur.PendingUntil = DomainPending, now.Add(DomainPendingFor)
	}
	if err := tx.UpdateDomain(ctx, cur); err != nil {
		return cur, err
	}
	if !byHand {
		return cur, nil
	}
	after := domainState(cur)
	after["error"] = problem
	return cur, s.audit(ctx, tx, actor, org.ID, AuditDomainChecked, "domain", cur.ID, before, after)
}

// tellDomainAdmins emails the organization's administrators (members.manage) that
// one of its domains verified or expired.
func (s *Service) tellDomainAdmins(ctx context.Context, tx Tx, org Organization, d Domain, kind string) error {
	admins, err := s.holders(ctx, tx, org.ID, PermMembersManage)
	if err != nil {
		return err
	}
	for _, to := range admins {
		n := s.notice(kind, org, Actor{}, Member{Account: to})
		n.Message = d.Name
		n.Expires = formatExpiry(d.PendingUntil)
		n.Link = s.baseURL + "/o/" + org.Slug + "/settings/domains"
		if err := s.notify(ctx, tx, org.ID, n); err != nil {
			return err
		}
	}
	return nil
}

// CheckPendingDomains is the background's round: each pending domain not checked in
// the last DomainRecheckEvery is looked up again — verified when its record is
// there, expired when its week is over, else left pending. It returns how many it
// checked; one domain's failure does not stop the others.
func (s *Service) CheckPendingDomains(ctx context.Context) (n int, err error) {
	defer wrap(&err, "CheckPendingDomains")
	var due []Domain
	if err := s.store.Read(ctx, func(tx Tx) error {
		due, err = tx.DuePendingDomains(ctx, s.now().Add(-DomainRecheckEvery), 100)
		return err
	}); err != nil {
		return 0, err
	}
	var first error
	for _, d := range due {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		problem := s.checkTXT(ctx, d)
		if err := s.store.Write(ctx, func(tx Tx) error {
			org, err := tx.OrganizationByRef(ctx, d.OrgID)
			if err != nil {
				return err
			}
			cur, err := tx.Domain(ctx, org.ID, d.ID)
			if ErrorCode(err) == ENOTFOUND || err == nil && cur.State != DomainPending {
				return nil // removed or decided meanwhile
			}
			if err != nil {
				return err
			}
			if problem == "" {
				if err := heldElsewhere(ctx, tx, cur); err != nil {
					problem = "the domain is verified by another organization"
				}
			}
			if problem != "" && !s.now().Before(cur.PendingUntil) {
				return s.expireDomain(ctx, tx, org, cur, problem)
			}
			_, err = s.applyCheck(ctx, tx, Actor{}, org, cur, problem, VerifiedByDNS, false)
			return err
		}); err != nil && first == nil {
			first = err
		}
		n++
	}
	return n, first
}

// expireDomain ends a pending domain's week: it is expired, audited, and the
// organization's administrators are emailed.
func (s *Service) expireDomain(ctx context.Context, tx Tx, org Organization, cur Domain, problem string) error {
	before := domainState(cur)
	now := s.now()
	cur.State, cur.CheckedAt, cur.CheckError, cur.UpdatedAt = DomainExpired, now, problem, now
	if err := tx.UpdateDomain(ctx, cur); err != nil {
		return err
	}
	after := domainState(cur)
	after["error"] = problem
	if err := s.audit(ctx, tx, Actor{}, org.ID, AuditDomainExpired, "domain", cur.ID, before, after); err != nil {
		return err
	}
	return s.tellDomainAdmins(ctx, tx, org, cur, NoticeDomainExpired)
}

// domainOrganization is the organization that holds the domain of acct's email
// verified, when acct may be told of it: its email proven, the account active, and
// the organization's join policy not off. ok is false otherwise: an organization
// whose domain is not verified is never revealed.
func domainOrganization(ctx context.Context, tx Tx, acct Account) (org Organization, name string, ok bool, err error) {
	if !acct.EmailVerified || acct.State != AccountActive {
		return org, "", false, nil
	}
	name = EmailDomain(acct.Email)
	if name == "" {
		return org, "", false, nil
	}
	d, err := tx.VerifiedDomain(ctx, name)
	if ErrorCode(err) == ENOTFOUND {
		return org, "", false, nil
	}
	if err != nil {
		return org, "", false, err
	}
	if org, err = tx.OrganizationByRef(ctx, d.OrgID); err != nil {
		return org, "", false, notFound(err, "organization")
	}
	if org.DomainJoinPolicy != JoinPolicySuggest && org.DomainJoinPolicy != JoinPolicyAuto {
		return org, "", false, nil
	}
	return org, name, true, nil
}

// domainSuggestions lists the organizations the calling account may join by its
// email's domain: the one that holds that domain verified with a join policy of
// suggest (or auto, for someone who left it), when the account is not in it. The
// account may then ask to join (RequestToJoin); Me and FindJoinOptions show them.
// Nothing is suggested for an email not proven, or a domain not verified.
func domainSuggestions(ctx context.Context, tx Tx, actor Actor) ([]Organization, error) {
	orgs := []Organization{}
	if actor.SCIMOrgID != "" || actor.Account.ID == "" {
		return orgs, nil
	}
	acct, err := tx.AccountByID(ctx, actor.Account.ID)
	if err != nil {
		return orgs, notFound(err, "account")
	}
	org, _, ok, err := domainOrganization(ctx, tx, acct)
	if err != nil || !ok {
		return orgs, err
	}
	switch _, err := tx.Membership(ctx, org.ID, acct.ID); {
	case ErrorCode(err) == ENOTFOUND:
		orgs = append(orgs, org)
	case err != nil:
		return orgs, err
	}
	return orgs, nil
}

// JoinOptions are what a person may do to join organizations: their own join
// requests (FindOwnJoinRequests) and the organizations of their email's domain
// (domainSuggestions).
type JoinOptions struct {
	Requests  []JoinRequest
	Suggested []Organization
}

// FindJoinOptions is FindOwnJoinRequests and domainSuggestions in one read (the
// console's own page).
func (s *Service) FindJoinOptions(ctx context.Context, actor Actor) (o JoinOptions, err error) {
	defer wrap(&err, "FindJoinOptions")
	if err := ownAccount(actor); err != nil {
		return o, err
	}
	err = s.store.Read(ctx, func(tx Tx) error {
		if o.Requests, err = tx.JoinRequestsOfAccount(ctx, actor.Account.ID, s.now().Add(-ownJoinRequestsWindow), maxOwnJoinRequests); err != nil {
			return err
		}
		o.Suggested, err = domainSuggestions(ctx, tx, actor)
		return err
	})
	return o, err
}

// joinByDomain applies the auto join policy to acct in tx, the transaction of its
// sign-up or login: the organization that holds its email's domain verified with
// policy auto makes it an active member with domain_join_role, once (who leaves or
// is removed is not joined again), audited as a member added by the person and
// emailed to them. An invitation pending for the account is left for them to accept.
func (s *Service) joinByDomain(ctx context.Context, tx Tx, acct Account, ip string) error {
	org, name, ok, err := domainOrganization(ctx, tx, acct)
	if err != nil || !ok || org.DomainJoinPolicy != JoinPolicyAuto {
		return err
	}
	switch _, err := tx.Membership(ctx, org.ID, acct.ID); {
	case err == nil:
		return nil // a member, or invited, already
	case ErrorCode(err) != ENOTFOUND:
		return err
	}
	now := s.now()
	first, err := tx.RecordDomainJoin(ctx, org.ID, acct.ID, name, now)
	if err != nil || !first {
		return err
	}
	role, err := s.role(ctx, tx, org.ID, org.DomainJoinRole)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return err
	}
	if err != nil || !role.Active || role.ID == RoleOwner { // deleted or deactivated since it was chosen
		role, _ = predefinedRole(RoleMember)
	}
	ms := Membership{OrgID: org.ID, AccountID: acct.ID, RoleID: role.ID, State: MemberActive, CreatedAt: now, UpdatedAt: now}
	if err := tx.CreateMembership(ctx, ms); err != nil {
		return err
	}
	m := Member{Membership: ms, Account: acct, Teams: []string{}, Seats: []MemberSeat{}}
	after := memberState(m)
	after["joined_by_domain"] = name
	actor := Actor{Account: acct, IP: ip}
	if err := s.audit(ctx, tx, actor, org.ID, AuditMemberAdded, "account", acct.ID, nil, after); err != nil {
		return err
	}
	n := s.notice(NoticeDomainJoined, org, actor, m)
	n.Role, n.Message = role.Name, name
	n.Allows = joinAbilities(role.Permissions)
	n.Link = s.baseURL + "/"
	return s.notify(ctx, tx, org.ID, n)
}

// joinAbilities is what a role lets its holder do, as the role emails say it.
func joinAbilities(p PermissionSet) string {
	out := ""
	for i, a := range p.Abilities() {
		if i > 0 {
			out += ", "
		}
		out += a
	}
	return out
}

// parseJoinPolicy checks a domain_join_policy value.
func parseJoinPolicy(v string) (string, error) {
	switch v {
	case JoinPolicyOff, JoinPolicySuggest, JoinPolicyAuto:
		return v, nil
	}
	return "", Invalid("domain_join_policy", `must be "off", "suggest" or "auto"`)
}
