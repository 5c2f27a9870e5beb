package account

import (
	"context"
	"slices"
	"strings"
)

// assignableRole resolves a role id the actor may grant: it must exist in the
// organization, be active, and hold no permission the actor lacks.
func (s *Service) assignableRole(ctx context.Context, tx Tx, a access, field, id string) (Role, error) {
	if id == "" {
		id = RoleMember
	}
	r, err := s.role(ctx, tx, a.org.ID, id)
	if ErrorCode(err) == ENOTFOUND {
		return r, Invalid(field, "unknown role "+quote(id))
	}
	if err != nil {
		return r, err
	}
	if !r.Active {
		return r, Invalid(field, "role "+quote(r.Name)+" is inactive and cannot be assigned")
	}
	return r, a.ceiling(r.Permissions, "role "+quote(r.Name))
}

// resolveTeams maps team names (case-insensitive) to ids, in orgID. Unknown names are
// EINVALID naming teams[i]; duplicates are folded.
func (s *Service) resolveTeams(ctx context.Context, tx Tx, orgID string, names []string) (ids, canonical []string, err error) {
	if len(names) == 0 {
		return nil, []string{}, nil
	}
	teams, err := tx.TeamRefs(ctx, orgID)
	if err != nil {
		return nil, nil, err
	}
	return teamsNamed(teams, names)
}

// teamsNamed maps team names (case-insensitive) to ids among teams.
func teamsNamed(teams []Team, names []string) (ids, canonical []string, err error) {
	byKey := make(map[string]Team, len(teams))
	for _, t := range teams {
		byKey[strings.ToLower(t.Name)] = t
	}
	var v Validation
	seen := map[string]bool{}
	for i, n := range names {
		t, ok := byKey[strings.ToLower(strings.TrimSpace(n))]
		if !ok {
			v.Add(fieldIndex("teams", i), "unknown team "+quote(n))
			continue
		}
		if !seen[t.ID] {
			seen[t.ID] = true
			ids = append(ids, t.ID)
			canonical = append(canonical, t.Name)
		}
	}
	slices.SortFunc(canonical, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return ids, canonical, v.Err()
}

// FindMember returns one member. Needs members.read.
func (s *Service) FindMember(ctx context.Context, actor Actor, orgRef, accountID string) (m Member, err error) {
	err = s.readIn(ctx, actor, orgRef, PermMembersRead, func(tx Tx, a access) error {
		m, err = s.member(ctx, tx, actor, a, accountID)
		return err
	})
	return m, err
}

// member is FindMember in tx, for an actor authorized in a (with members.read).
func (s *Service) member(ctx context.Context, tx Tx, actor Actor, a access, accountID string) (Member, error) {
	m, err := tx.Member(ctx, a.org.ID, accountID)
	return redact(actor, a.org, m), notFound(err, "member")
}

// FindMembersByID returns the members of accountIDs, in their order, in one
// transaction authorized once; an id that is no member is left out. Needs
// members.read.
func (s *Service) FindMembersByID(ctx context.Context, actor Actor, orgRef string, accountIDs []string) (ms []Member, err error) {
	err = s.readIn(ctx, actor, orgRef, PermMembersRead, func(tx Tx, a access) error {
		ms, err = s.membersByID(ctx, tx, actor, a, accountIDs)
		return err
	})
	return ms, err
}

// membersByID is FindMembersByID in tx, for an actor authorized in a (with
// members.read).
func (s *Service) membersByID(ctx context.Context, tx Tx, actor Actor, a access, accountIDs []string) ([]Member, error) {
	ms := make([]Member, 0, len(accountIDs))
	for _, id := range accountIDs {
		m, err := tx.Member(ctx, a.org.ID, id)
		switch {
		case ErrorCode(err) == ENOTFOUND:
			continue
		case err != nil:
			return nil, err
		}
		ms = append(ms, redact(actor, a.org, m))
	}
	return ms, nil
}

// MemberQuery filters FindMembers; Team is a team name, Role a role id.
type MemberQuery struct {
	Q, Role, Team, State, Application, Subscription, Cursor string
	Limit                                                   int
	// NoTotal spares the count of the matches (the page's Total is then -1, as it
	// is in its cursor): counting a search reads every match, which a screen that
	// knows the count already, or can do without it, need not pay for.
	NoTotal bool
}

// FindMembers lists an organization's members in a stable order (by account id) with
// keyset pagination. Needs members.read. Errors: EINVALID for a bad state, limit or
// cursor.
func (s *Service) FindMembers(ctx context.Context, actor Actor, orgRef string, q MemberQuery) (p Page[Member], err error) {
	defer wrap(&err, "FindMembers(%s)", orgRef)
	err = s.readIn(ctx, actor, orgRef, PermMembersRead, func(tx Tx, a access) error {
		p, err = s.findMembers(ctx, tx, actor, a, q)
		return err
	})
	return p, err
}

// findMembers is FindMembers in tx, for an actor authorized in a (with members.read).
func (s *Service) findMembers(ctx context.Context, tx Tx, actor Actor, a access, q MemberQuery) (p Page[Member], err error) {
	limit, cur, err := listParams(q.Limit, q.Cursor, "state", q.State, string(MemberInvited), string(MemberActive), string(MemberDeactivated))
	if err := collect(err, CheckText("q", q.Q), CheckText("role", q.Role), CheckText("team", q.Team),
		CheckText("application", q.Application), CheckText("subscription", q.Subscription)); err != nil {
		return p, err
	}
	f := MemberFilter{
		OrgID: a.org.ID, Q: strings.TrimSpace(q.Q), RoleID: q.Role, TeamName: strings.TrimSpace(q.Team),
		State: MemberState(q.State), After: cur.after, Limit: limit + 1, SkipTotal: cur.total >= 0 || q.NoTotal,
	}
	if q.Application != "" {
		app, err := tx.Application(ctx, q.Application)
		if ErrorCode(err) == ENOTFOUND {
			return p, Invalid("application", "unknown application "+quote(q.Application))
		} else if err != nil {
			return p, err
		}
		f.ApplicationID = app.ID
	}
	if q.Subscription != "" {
		sub, err := tx.Subscription(ctx, a.org.ID, q.Subscription)
		if ErrorCode(err) == ENOTFOUND {
			return p, Invalid("subscription", "no such subscription in this organization")
		} else if err != nil {
			return p, err
		}
		f.SubscriptionID = sub.ID
	}
	items, total, err := tx.FindMembers(ctx, f)
	if cur.total >= 0 {
		total = cur.total
	} else if q.NoTotal {
		total = -1
	}
	redactAll(actor, a.org, items)
	p = pageOf(items, total, limit, func(m Member) string { return m.AccountID })
	return p, err
}

// UpdateMemberInput is PATCH …/members/{account}; nil fields are left alone.
type UpdateMemberInput struct {
	Role      *string
	Teams     *[]string
	FirstName *string
	LastName  *string
	Phone     *string
	Username  *string
}

// UpdateMember changes a member's role, teams or account details. Needs
// members.manage, and the member's current and new role within the actor's
// permissions; the profile fields (names, phone, username) also need MayEditProfile.
// Errors: EINVALID, EFORBIDDEN (also naming each profile field the actor may not
// change), EROLECEILING, ENOTFOUND, ECONFLICT (the last owner, or a username taken).
func (s *Service) UpdateMember(ctx context.Context, actor Actor, orgRef, accountID string, in UpdateMemberInput) (m Member, err error) {
	defer wrap(&err, "UpdateMember(%s, %s)", orgRef, accountID)
	err = s.store.Write(ctx, func(tx Tx) error {
		a, cur, err := s.manageable(ctx, tx, actor, orgRef, accountID, PermMembersManage)
		if err != nil {
			return err
		}
		m, err = s.updateMember(ctx, tx, actor, a, cur, in)
		m = redact(actor, a.org, m)
		return err
	})
	return m, err
}

// updateMember applies in to the member cur (whom the actor may manage) in tx, with
// its emails and audit event; nothing changed writes nothing.
func (s *Service) updateMember(ctx context.Context, tx Tx, actor Actor, a access, cur Member, in UpdateMemberInput) (Member, error) {
	accountID, m := cur.AccountID, cur
	acct := cur.Account
	// Decided on which fields are sent, never on their values, so that a refusal
	// tells nothing of a profile the actor may not see.
	if fs := in.profileFields(); len(fs) > 0 && !MayEditProfile(actor, a.org, cur.Account) {
		return m, profileForbidden(fs)
	}
	var v Validation
	if in.FirstName != nil {
		n, err := NormalizeName("first_name", *in.FirstName, true)
		addErr(&v, err)
		acct.FirstName = n
	}
	if in.LastName != nil {
		n, err := NormalizeName("last_name", *in.LastName, true)
		addErr(&v, err)
		acct.LastName = n
	}
	if in.Phone != nil {
		p, err := NormalizePhone("phone", *in.Phone)
		addErr(&v, err)
		acct.Phone = p
	}
	if in.Username != nil {
		u, err := NormalizeUsername("username", *in.Username)
		addErr(&v, err)
		acct.Username = u
	}
	if err := v.Err(); err != nil {
		return m, err
	}
	if acct != cur.Account {
		orgs, err := accountOrganizations(ctx, tx, accountID)
		if err != nil {
			return m, err
		}
		if err := checkKept(orgs, cur.Account, acct); err != nil {
			return m, err
		}
	}
	var notices []Notice
	if in.Role != nil && *in.Role != cur.RoleID {
		role, err := s.assignableRole(ctx, tx, a, "role", *in.Role)
		if err != nil {
			return m, err
		}
		if err := s.keepOwner(ctx, tx, cur); err != nil {
			return m, err
		}
		prev, err := s.role(ctx, tx, a.org.ID, cur.RoleID)
		if err != nil {
			return m, err
		}
		m.RoleID = role.ID
		if cur.State != MemberInvited { // an invitee has not joined: nothing to tell yet
			notices = append(notices, s.roleNotice(a.org, actor, cur, prev, role))
		}
	}
	if in.Teams != nil {
		ids, names, err := s.resolveTeams(ctx, tx, a.org.ID, *in.Teams)
		if err != nil {
			return m, err
		}
		if !slices.Equal(names, cur.Teams) {
			if err := tx.SetMemberTeams(ctx, a.org.ID, accountID, ids); err != nil {
				return m, err
			}
		}
		m.Teams = names
	}
	now := s.now()
	if acct != cur.Account {
		acct.UpdatedAt = now
		if err := tx.UpdateAccount(ctx, acct); err != nil {
			return m, err
		}
		m.Account = acct
	}
	if m.RoleID != cur.RoleID {
		m.UpdatedAt = now
		if err := tx.UpdateMembership(ctx, m.Membership); err != nil {
			return m, err
		}
		if m.State == MemberInvited { // the invitation offers the role the membership holds
			inv, err := tx.PendingInvitation(ctx, a.org.ID, accountID)
			switch {
			case err == nil:
				inv.RoleID, inv.UpdatedAt = m.RoleID, now
				if err := tx.UpdateInvitation(ctx, inv); err != nil {
					return m, err
				}
				m.Invitation = &inv
			case ErrorCode(err) != ENOTFOUND:
				return m, err
			}
		}
	}
	for _, n := range notices {
		if err := s.notify(ctx, tx, a.org.ID, n); err != nil {
			return m, err
		}
	}
	before, after := diff(memberState(cur), memberState(m))
	if len(after) == 0 && len(before) == 0 {
		return m, nil
	}
	if d := domainRule(actor, a.org, cur.Account); d != "" && acct != cur.Account {
		// A profile changed only by the domain rule: the trail says so, and the
		// person is told which organization changed what.
		after["managed_by_domain"] = d
		n := s.notice(NoticeDomainEdited, a.org, actor, m)
		n.Message, n.Changes = d, profileChanges(cur.Account, acct)
		n.Link = s.baseURL + "/me"
		if err := s.notify(ctx, tx, a.org.ID, n); err != nil {
			return m, err
		}
	}
	return m, s.audit(ctx, tx, actor, a.org.ID, AuditMemberUpdated, "account", accountID, before, after)
}

// profileChanges names, in words, the profile fields that differ between a and b.
func profileChanges(a, b Account) string {
	var fs []string
	for _, f := range []struct {
		name string
		diff bool
	}{{"first name", a.FirstName != b.FirstName}, {"last name", a.LastName != b.LastName},
		{"phone", a.Phone != b.Phone}, {"username", a.Username != b.Username}} {
		if f.diff {
			fs = append(fs, f.name)
		}
	}
	return strings.Join(fs, ", ")
}

// DeactivateMember suspends a membership, keeping its data (and, later, its seats).
// Needs members.manage. An organization's last active owner cannot be deactivated.
func (s *Service) DeactivateMember(ctx context.Context, actor Actor, orgRef, accountID string) (Member, error) {
	return s.setMemberState(ctx, actor, orgRef, accountID, MemberDeactivated, AuditMemberDeactivated)
}

// ReactivateMember restores a deactivated membership. Needs members.manage.
func (s *Service) ReactivateMember(ctx context.Context, actor Actor, orgRef, accountID string) (Member, error) {
	return s.setMemberState(ctx, actor, orgRef, accountID, MemberActive, AuditMemberReactivated)
}

func (s *Service) setMemberState(ctx context.Context, actor Actor, orgRef, accountID string, to MemberState, action AuditAction) (m Member, err error) {
	defer wrap(&err, "%s(%s, %s)", action, orgRef, accountID)
	err = s.store.Write(ctx, func(tx Tx) error {
		a, cur, err := s.manageable(ctx, tx, actor, orgRef, accountID, PermMembersManage)
		if err != nil {
			return err
		}
		m, err = s.changeState(ctx, tx, actor, a, cur, to)
		m = redact(actor, a.org, m)
		return err
	})
	return m, err
}

// changeState deactivates or reactivates cur (whom the actor may manage) in tx, with
// its email and audit event; a member already in state to is left alone.
func (s *Service) changeState(ctx context.Context, tx Tx, actor Actor, a access, cur Member, to MemberState) (Member, error) {
	m := cur
	if cur.State == to {
		return m, nil // already so: nothing changes, nothing is audited
	}
	if cur.State == MemberInvited {
		return m, Errorf(ECONFLICT, "the member has not accepted the invitation yet; cancel or remove it instead")
	}
	if to == MemberDeactivated {
		if err := s.keepOwner(ctx, tx, cur); err != nil {
			return m, err
		}
		if err := s.endOIDCGrants(ctx, tx, cur.AccountID, a.org.ID, LogoutMemberDeactivated); err != nil {
			return m, err
		}
	}
	m.State, m.UpdatedAt = to, s.now()
	if err := tx.UpdateMembership(ctx, m.Membership); err != nil {
		return m, err
	}
	kind, action := NoticeReactivated, AuditMemberReactivated
	if to == MemberDeactivated {
		kind, action = NoticeDeactivated, AuditMemberDeactivated
	}
	if err := s.notify(ctx, tx, a.org.ID, s.notice(kind, a.org, actor, cur)); err != nil {
		return m, err
	}
	return m, s.audit(ctx, tx, actor, a.org.ID, action, "account", cur.AccountID,
		map[string]any{"state": cur.State}, map[string]any{"state": to})
}

// RemoveMember deletes a membership, its teams (and, later, its seats); the account
// and its other memberships are untouched. Needs members.remove.
func (s *Service) RemoveMember(ctx context.Context, actor Actor, orgRef, accountID string) (err error) {
	defer wrap(&err, "RemoveMember(%s, %s)", orgRef, accountID)
	return s.store.Write(ctx, func(tx Tx) error {
		a, cur, err := s.manageable(ctx, tx, actor, orgRef, accountID, PermMembersRemove)
		if err != nil {
			return err
		}
		return s.removeMember(ctx, tx, actor, a, cur, false)
	})
}

// LeaveOrganization ends the calling account's own membership of an organization (by
// id or slug), as a removal does: its seats are freed, its teams left, a pending
// invitation cancelled. The person is emailed a confirmation and the members who
// may remove members are told; the audit trail records the member's own act. No
// permission is needed, but the last active owner cannot leave. Errors: ENOTFOUND
// (no membership there), ECONFLICT (the last active owner).
func (s *Service) LeaveOrganization(ctx context.Context, actor Actor, orgRef string) (err error) {
	defer wrap(&err, "LeaveOrganization(%s)", orgRef)
	if err := ownAccount(actor); err != nil {
		return err
	}
	if err := CheckText("org", orgRef); err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx Tx) error {
		org, err := tx.OrganizationByRef(ctx, orgRef)
		if err != nil {
			return notFound(err, "organization")
		}
		cur, err := tx.Member(ctx, org.ID, actor.Account.ID)
		switch {
		case ErrorCode(err) == ENOTFOUND: // not a member: the organization stays invisible
			return Errorf(ENOTFOUND, "organization not found")
		case err != nil:
			return err
		}
		if err := s.keepOwner(ctx, tx, cur); err != nil {
			if ErrorCode(err) == ECONFLICT {
				return Errorf(ECONFLICT, "you are the last active owner of %s: make someone else owner before you leave", org.Name)
			}
			return err
		}
		return s.removeMember(ctx, tx, actor, access{org: org}, cur, true)
	})
}

// removeMember ends cur's membership; leaving says cur is the actor, leaving on
// their own (the emails and the audit action say so).
func (s *Service) removeMember(ctx context.Context, tx Tx, actor Actor, a access, cur Member, leaving bool) error {
	if err := s.keepOwner(ctx, tx, cur); err != nil {
		return err
	}
	if cur.State == MemberInvited {
		// Before the membership row: an acceptance locks the organization first too.
		if err := tx.LockOrganization(ctx, a.org.ID); err != nil {
			return err
		}
	}
	if err := s.endOIDCGrants(ctx, tx, cur.AccountID, a.org.ID, LogoutMemberRemoved); err != nil {
		return err
	}
	if err := tx.DeleteMembership(ctx, a.org.ID, cur.AccountID); err != nil {
		return err
	}
	if cur.State == MemberInvited { // someone who never joined is not told they left
		inv, err := tx.PendingInvitation(ctx, a.org.ID, cur.AccountID)
		switch {
		case err == nil:
			if err := s.cancelInvitation(ctx, tx, actor, inv); err != nil {
				return err
			}
		case ErrorCode(err) != ENOTFOUND:
			return err
		}
	} else if leaving {
		if err := s.notifyLeft(ctx, tx, actor, a.org, cur); err != nil {
			return err
		}
	} else if err := s.notify(ctx, tx, a.org.ID, s.notice(NoticeRemoved, a.org, actor, cur)); err != nil {
		return err
	}
	action := AuditMemberRemoved
	if leaving {
		action = AuditMemberLeft
	}
	return s.auditGone(ctx, tx, actor, a.org.ID, action, "account", cur.AccountID, memberState(redact(Actor{}, a.org, cur)), nil, &cur)
}

// notifyLeft confirms to the person who left org that they did, and tells the
// members who may remove members (the membership is gone: the person is not among
// them).
func (s *Service) notifyLeft(ctx context.Context, tx Tx, actor Actor, org Organization, cur Member) error {
	if err := s.notify(ctx, tx, org.ID, s.notice(NoticeLeft, org, actor, cur)); err != nil {
		return err
	}
	admins, err := s.holders(ctx, tx, org.ID, PermMembersRemove)
	if err != nil {
		return err
	}
	for _, to := range admins {
		n := s.notice(NoticeMemberLeft, org, actor, Member{Account: to})
		n.Link = s.baseURL + "/o/" + org.Slug + "/users" // the console's Users screen
		if err := s.notify(ctx, tx, org.ID, n); err != nil {
			return err
		}
	}
	return nil
}

// RemoveResult is the outcome for one account of RemoveMembers.
type RemoveResult struct {
	Account string
	Err     error // nil when removed
}

// maxBulk bounds the accounts of one bulk request.
const maxBulk = 500

// RemoveMembers removes several members in one transaction; each account gets its
// own result, so that one refusal (not a member, above the actor's role, the last
// owner) does not stop the others. Needs members.remove.
func (s *Service) RemoveMembers(ctx context.Context, actor Actor, orgRef string, accountIDs []string) (results []RemoveResult, err error) {
	defer wrap(&err, "RemoveMembers(%s)", orgRef)
	if err = s.permitted(ctx, actor, orgRef, PermMembersRemove); err != nil {
		return results, err
	}
	switch {
	case len(accountIDs) == 0:
		return nil, Invalid("accounts", "must name at least one account")
	case len(accountIDs) > maxBulk:
		return nil, Invalid("accounts", "must name at most 500 accounts")
	}
	err = s.writeIn(ctx, actor, orgRef, PermMembersRemove, func(tx Tx, a access) error {
		results = results[:0]
		seen := map[string]bool{}
		for _, id := range accountIDs {
			if seen[id] {
				continue
			}
			seen[id] = true
			err := s.removeOne(ctx, tx, actor, a, id)
			if ErrorCode(err) == EINTERNAL {
				return err // a store failure aborts the whole request
			}
			results = append(results, RemoveResult{Account: id, Err: err})
		}
		return nil
	})
	return results, err
}

func (s *Service) removeOne(ctx context.Context, tx Tx, actor Actor, a access, accountID string) error {
	cur, err := tx.Member(ctx, a.org.ID, accountID)
	if err != nil {
		return notFound(err, "member")
	}
	if err := s.canManage(ctx, tx, actor, a, cur); err != nil {
		return err
	}
	return s.removeMember(ctx, tx, actor, a, cur, false)
}

// DeleteAccount permanently deletes an account and all its memberships, sessions and
// teams. Operators only; an operator cannot delete their own account.
func (s *Service) DeleteAccount(ctx context.Context, actor Actor, accountID string) (err error) {
	defer wrap(&err, "DeleteAccount(%s)", accountID)
	if !actor.Account.Operator {
		return Errorf(EFORBIDDEN, "only an operator deletes accounts")
	}
	if accountID == actor.Account.ID {
		return Errorf(ECONFLICT, "you cannot delete your own account")
	}
	return s.store.Write(ctx, func(tx Tx) error {
		acct, err := tx.AccountByID(ctx, accountID)
		if err != nil {
			return notFound(err, "account")
		}
		ms, err := tx.MembershipsOfAccount(ctx, accountID)
		if err != nil {
			return err
		}
		orgIDs := make([]string, 0, len(ms))
		for _, am := range ms {
			orgIDs = append(orgIDs, am.OrgID)
			// Each organization's own trail records that it lost this member.
			m := redact(Actor{}, am.Organization, Member{Membership: am.Membership, Account: acct, Teams: am.Teams})
			full, err := tx.Member(ctx, am.OrgID, accountID)
			if err != nil {
				return err
			}
			if err := s.auditGone(ctx, tx, actor, am.OrgID, AuditMemberRemoved, "account", accountID,
				memberState(m), map[string]any{"reason": "account deleted"}, &full); err != nil {
				return err
			}
		}
		if err := s.emitAccountDeleted(ctx, tx, actor, acct, orgIDs); err != nil {
			return err
		}
		// The applications are told before the tokens go with the account.
		if err := s.endOIDCGrants(ctx, tx, accountID, "", LogoutAccountDeleted); err != nil {
			return err
		}
		if err := tx.DeleteAccount(ctx, accountID); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "", AuditAccountDeleted, "account", accountID, accountState(acct), nil)
	})
}

// Summary is an organization's header: member counts (and, later, subscriptions).
type Summary struct {
	Organization  Organization
	Members       MemberCounts
	Subscriptions []Subscription
}

// FindSummary returns the organization's counts. Needs members.read.
func (s *Service) FindSummary(ctx context.Context, actor Actor, orgRef string) (sum Summary, err error) {
	err = s.readIn(ctx, actor, orgRef, PermMembersRead, func(tx Tx, a access) error {
		sum, err = s.summary(ctx, tx, a)
		return err
	})
	return sum, err
}

// summary is FindSummary in tx, for an actor authorized in a (with members.read).
func (s *Service) summary(ctx context.Context, tx Tx, a access) (sum Summary, err error) {
	sum.Organization = a.org
	if sum.Members, err = tx.CountMembers(ctx, a.org.ID); err != nil {
		return sum, err
	}
	sum.Subscriptions, err = tx.Subscriptions(ctx, a.org.ID)
	return sum, err
}

// manageable authorizes need in orgRef and loads the member the actor wants to act on,
// which must not hold a role above the actor's.
func (s *Service) manageable(ctx context.Context, tx Tx, actor Actor, orgRef, accountID string, need Permission) (access, Member, error) {
	a, err := s.authorize(ctx, tx, actor, orgRef, need)
	if err != nil {
		return a, Member{}, err
	}
	m, err := tx.Member(ctx, a.org.ID, accountID)
	if err != nil {
		return a, m, notFound(err, "member")
	}
	return a, m, s.canManage(ctx, tx, actor, a, m)
}

// canManage applies the role ceiling to the member acted on: nobody changes, suspends
// or removes someone who holds permissions they lack.
func (s *Service) canManage(ctx context.Context, tx Tx, actor Actor, a access, m Member) error {
	r, err := s.role(ctx, tx, a.org.ID, m.RoleID)
	if err != nil {
		return err
	}
	return a.ceiling(r.Permissions, "the member's role "+quote(r.Name))
}

// keepOwner refuses to take away the last active owner of an organization (by role
// change, deactivation or removal).
func (s *Service) keepOwner(ctx context.Context, tx Tx, m Member) error {
	if m.RoleID != RoleOwner || m.State != MemberActive {
		return nil
	}
	// Two admins demoting the last two owners at once must not both see "two owners".
	if err := tx.LockOrganization(ctx, m.OrgID); err != nil {
		return err
	}
	n, err := tx.CountMembersWithRole(ctx, m.OrgID, RoleOwner, MemberActive)
	if err != nil {
		return err
	}
	if n <= 1 {
		return Errorf(ECONFLICT, "an organization must keep at least one active owner; make someone else owner first")
	}
	return nil
}

func memberState(m Member) map[string]any {
	st := accountState(m.Account)
	delete(st, "state")
	delete(st, "operator")
	delete(st, "must_reset_password")
	delete(st, "managed_by")
	delete(st, "email_verified")
	st["role"] = m.RoleID
	st["state"] = m.State
	teams := m.Teams
	if teams == nil {
		teams = []string{}
	}
	st["teams"] = teams
	if len(m.Seats) > 0 {
		apps := make([]string, len(m.Seats))
		for i, seat := range m.Seats {
			apps[i] = seat.ApplicationKey
		}
		st["seats"] = apps
	}
	return st
}
