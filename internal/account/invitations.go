package account

import (
	"cmp"
	"context"
	"strings"
	"time"
)

// invitationPrefix marks invitation tokens (and lets a secret scanner find them).
const invitationPrefix = "ri_"

// invitee is who an invitation goes to and what they are offered: fresh holds the
// names for a person new to Roster (may be zero), and a seat of each of apps is
// reserved.
type invitee = activeMember

// invite makes email an invited member of a.org with the invitee's role, teams and
// reserved seats, writes the invitation and its email, and audits it, all in tx. A
// person new to Roster gets a pending account, managed by the organization. Errors:
// EDUPLICATEEMAIL (a member already), EFORBIDDEN (a disabled account),
// EQUOTAEXCEEDED, EINVALID.
func (s *Service) invite(ctx context.Context, tx Tx, actor Actor, a access, in invitee) (Member, Invitation, error) {
	acct, err := tx.AccountByEmail(ctx, EmailKey(in.email))
	switch {
	case ErrorCode(err) == ENOTFOUND:
		now := s.now()
		acct = in.fresh
		acct.ID, acct.Email, acct.State, acct.CreatedAt, acct.UpdatedAt = s.ids.New(), in.email, AccountPending, now, now
		acct.PasswordHash, acct.Operator, acct.MustResetPassword = "", false, false
		acct.ManagedBy, acct.EmailVerified = a.managerFor(), false
		if err := tx.CreateAccount(ctx, acct); err != nil {
			return Member{}, Invitation{}, err
		}
	case err != nil:
		return Member{}, Invitation{}, err
	case acct.State == AccountDisabled:
		return Member{}, Invitation{}, disabledAccount(in.email)
	default:
		if _, err := tx.Membership(ctx, a.org.ID, acct.ID); err == nil {
			return Member{}, Invitation{}, duplicateMember(in.email, a.org)
		} else if ErrorCode(err) != ENOTFOUND {
			return Member{}, Invitation{}, err
		}
	}
	now := s.now()
	ms := Membership{OrgID: a.org.ID, AccountID: acct.ID, RoleID: in.role.ID, State: MemberInvited, CreatedAt: now, UpdatedAt: now}
	if err := tx.CreateMembership(ctx, ms); err != nil {
		return Member{}, Invitation{}, err
	}
	if len(in.teamIDs) > 0 {
		if err := tx.SetMemberTeams(ctx, a.org.ID, acct.ID, in.teamIDs); err != nil {
			return Member{}, Invitation{}, err
		}
	}
	var appNames []string
	if len(in.apps) > 0 {
		subs, err := s.seatsForApplications(ctx, tx, a.org.ID, in.apps)
		if err != nil {
			return Member{}, Invitation{}, err
		}
		for i, sub := range subs {
			sc := &seatScope{access: a, sub: sub}
			// The invitation email names the applications: no separate seat emails.
			if err := s.assign(ctx, tx, actor, sc, fieldIndex("applications", i), acct.ID, true); err != nil {
				return Member{}, Invitation{}, err
			}
			name, err := sc.applicationName(ctx, tx)
			if err != nil {
				return Member{}, Invitation{}, err
			}
			appNames = append(appNames, name)
		}
	}
	var inv Invitation
	if !in.hold {
		if inv, err = s.issueInvitation(ctx, tx, actor, a, acct, in.role, appNames); err != nil {
			return Member{}, Invitation{}, err
		}
	}
	m, err := tx.Member(ctx, a.org.ID, acct.ID)
	if err != nil {
		return m, inv, err
	}
	after := memberState(redact(Actor{}, a.org, m)) // the trail is read by the organization
	if inv.ID != "" {
		after["invitation"] = inv.ID
		after["expires_at"] = inv.ExpiresAt
	}
	return m, inv, s.audit(ctx, tx, actor, a.org.ID, AuditMemberInvited, "account", acct.ID, nil, after)
}

// issueInvitation writes a pending invitation of acct to a.org with role and its
// email naming apps.
func (s *Service) issueInvitation(ctx context.Context, tx Tx, actor Actor, a access, acct Account, role Role, apps []string) (Invitation, error) {
	now := s.now()
	token, hash := s.newToken(invitationPrefix)
	inv := Invitation{
		ID: s.ids.New(), OrgID: a.org.ID, AccountID: acct.ID, Email: acct.Email, RoleID: role.ID,
		TokenHash: hash, State: InvitationPending, InviterID: actor.Account.ID, InviterName: DisplayName(actor.Account),
		ExpiresAt: now.Add(invitationTTL(a.org)), CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.CreateInvitation(ctx, inv); err != nil {
		return inv, err
	}
	return inv, s.sendInvitation(ctx, tx, actor, a.org, acct, role, apps, inv, token)
}

// reinvite sends the invited member m, who has no pending invitation (it was
// withdrawn, or never sent), a new one with the role and seats the membership holds.
func (s *Service) reinvite(ctx context.Context, tx Tx, actor Actor, a access, m Member) error {
	if err := tx.LockOrganization(ctx, a.org.ID); err != nil {
		return err
	}
	role, err := s.role(ctx, tx, a.org.ID, m.RoleID)
	if err != nil {
		return err
	}
	var apps []string
	for _, seat := range m.Seats {
		app, err := tx.Application(ctx, seat.ApplicationKey)
		if err != nil {
			return err
		}
		apps = append(apps, app.Name)
	}
	inv, err := s.issueInvitation(ctx, tx, actor, a, m.Account, role, apps)
	if err != nil {
		return err
	}
	return s.audit(ctx, tx, actor, a.org.ID, AuditInvitationCreated, "invitation", inv.ID, nil,
		map[string]any{"email": inv.Email, "expires_at": inv.ExpiresAt})
}

// invitationTTL is how long an organization's invitation links work.
func invitationTTL(org Organization) time.Duration {
	h := org.InvitationTTLHours
	if h <= 0 {
		h = DefaultInvitationTTLHours
	}
	return time.Duration(h) * time.Hour
}

// sendInvitation writes the invitation email carrying token.
func (s *Service) sendInvitation(ctx context.Context, tx Tx, actor Actor, org Organization, acct Account, role Role, apps []string, inv Invitation, token string) error {
	n := s.notice(NoticeInvitation, org, actor, Member{Account: acct})
	n.Role = role.Name
	n.Application = JoinNames(apps)
	n.Expires = formatExpiry(inv.ExpiresAt)
	n.Link, n.Secret = s.baseURL+"/invitations/"+token, token
	return s.notify(ctx, tx, org.ID, n)
}

// InviteInput is POST …/invitations: several emails, one offer.
type InviteInput struct {
	Emails       []string
	Role         string
	Teams        []string
	Applications []string
}

// InviteResult is the outcome for one email of Invite: the invitation sent, or (an
// account the organization manages by its verified domain) no invitation, the
// person an active member at once.
type InviteResult struct {
	Email      string
	Invitation Invitation
	Member     Member
	Err        error // nil when invited, or added
}

// Invite invites several people at once with one role, teams and applications; an
// existing account the organization manages by its verified domain is added at once
// instead (InviteResult.Invitation zero). Each email gets its own result: a bad address, an existing member, a disabled account,
// a role above the caller's or no seat left fails that email only. An unknown role,
// team or application fails the whole request (EINVALID). Needs members.invite, and
// seats.assign when applications are offered.
func (s *Service) Invite(ctx context.Context, actor Actor, orgRef string, in InviteInput) (results []InviteResult, err error) {
	defer wrap(&err, "Invite(%s)", orgRef)
	if err = s.permitted(ctx, actor, orgRef, PermMembersInvite); err != nil {
		return results, err
	}
	switch {
	case len(in.Emails) == 0:
		return nil, Invalid("emails", "must name at least one email")
	case len(in.Emails) > maxBulk:
		return nil, Invalid("emails", "must name at most 500 emails")
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		results = nil // a run again (Write retries) starts over
		a, err := s.authorize(ctx, tx, actor, orgRef, PermMembersInvite)
		if err != nil {
			return err
		}
		role, roleErr := s.assignableRole(ctx, tx, a, "role", in.Role)
		if roleErr != nil && ErrorCode(roleErr) != EROLECEILING {
			return roleErr
		}
		teamIDs, teamNames, err := s.resolveTeams(ctx, tx, a.org.ID, in.Teams)
		if err != nil {
			return err
		}
		if len(in.Applications) > 0 {
			if err := a.require(PermSeatsAssign); err != nil {
				return err
			}
			// Unknown or inactive applications fail the request; a full quota fails
			// only the emails that find no seat left.
			if _, err := s.seatsForApplications(ctx, tx, a.org.ID, in.Applications); err != nil && ErrorCode(err) != EQUOTAEXCEEDED {
				return err
			}
		}
		results = make([]InviteResult, 0, len(in.Emails))
		for i, raw := range in.Emails {
			res := InviteResult{Email: strings.TrimSpace(raw)}
			email, err := NormalizeEmail(fieldIndex("emails", i), raw)
			switch {
			case err != nil:
				res.Err = err
			case roleErr != nil:
				res.Err = roleErr
			default:
				res.Email = email
				res.Err = tx.Savepoint(ctx, func() error {
					offer := invitee{email: email, role: role, teamIDs: teamIDs, teamNames: teamNames, apps: in.Applications}
					// An account the organization manages by its verified domain joins at
					// once, without an invitation (manage_domain_accounts).
					direct, err := s.linksByDomain(ctx, tx, actor, a, email)
					switch {
					case err != nil:
						return err
					case direct:
						res.Member, err = s.admit(ctx, tx, actor, a, offer)
					default:
						res.Member, res.Invitation, err = s.invite(ctx, tx, actor, a, offer)
					}
					res.Member = redact(actor, a.org, res.Member)
					return err
				})
				if ErrorCode(res.Err) == EINTERNAL {
					return res.Err // a store failure aborts the whole request
				}
			}
			results = append(results, res)
		}
		return nil
	})
	return results, err
}

// InvitationQuery filters FindInvitations.
type InvitationQuery struct {
	Status string
	Cursor string
	Limit  int
}

// FindInvitations lists an organization's invitations, newest first. Needs
// members.read.
func (s *Service) FindInvitations(ctx context.Context, actor Actor, orgRef string, q InvitationQuery) (p Page[Invitation], err error) {
	defer wrap(&err, "FindInvitations(%s)", orgRef)
	err = s.readIn(ctx, actor, orgRef, PermMembersRead, func(tx Tx, a access) error {
		limit, cur, err := listParams(q.Limit, q.Cursor, "status", q.Status, string(InvitationPending), string(InvitationAccepted), string(InvitationExpired), string(InvitationCancelled))
		if err != nil {
			return err
		}
		items, total, err := tx.FindInvitations(ctx, InvitationFilter{
			OrgID: a.org.ID, State: InvitationState(q.Status), Now: s.now(),
			Before: cur.after, Limit: limit + 1, SkipTotal: cur.total >= 0,
		})
		if cur.total >= 0 {
			total = cur.total
		}
		p = pageOf(items, total, limit, func(i Invitation) string { return i.ID })
		return err
	})
	return p, err
}

// FindInvitation returns one invitation of the organization. Needs members.read.
func (s *Service) FindInvitation(ctx context.Context, actor Actor, orgRef, id string) (inv Invitation, err error) {
	err = s.readIn(ctx, actor, orgRef, PermMembersRead, func(tx Tx, a access) error {
		inv, err = tx.Invitation(ctx, a.org.ID, id)
		return notFound(err, "invitation")
	})
	return inv, err
}

// ResendInvitation sends a pending or expired invitation again, with a new token and
// a new expiry: the old link stops working. Needs members.invite (an operator may
// resend in any organization) and the invitee's role within the actor's. Errors:
// ENOTFOUND, ECONFLICT (accepted or cancelled), EROLECEILING.
func (s *Service) ResendInvitation(ctx context.Context, actor Actor, orgRef, id string) (inv Invitation, err error) {
	defer wrap(&err, "ResendInvitation(%s, %s)", orgRef, id)
	err = s.store.Write(ctx, func(tx Tx) error {
		a, err := s.lockedInvitations(ctx, tx, actor, orgRef)
		if err != nil {
			return err
		}
		inv, err = s.resend(ctx, tx, actor, a, id)
		return err
	})
	return inv, err
}

// ResendResult is the outcome for one invitation of ResendInvitations.
type ResendResult struct {
	ID         string
	Invitation Invitation
	Err        error
}

// ResendInvitations resends several invitations; each gets its own result.
func (s *Service) ResendInvitations(ctx context.Context, actor Actor, orgRef string, ids []string) (results []ResendResult, err error) {
	defer wrap(&err, "ResendInvitations(%s)", orgRef)
	if err = s.permitted(ctx, actor, orgRef, PermMembersInvite); err != nil {
		return results, err
	}
	switch {
	case len(ids) == 0:
		return nil, Invalid("invitations", "must name at least one invitation")
	case len(ids) > maxBulk:
		return nil, Invalid("invitations", "must name at most 500 invitations")
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		a, err := s.lockedInvitations(ctx, tx, actor, orgRef)
		if err != nil {
			return err
		}
		results = results[:0]
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			res := ResendResult{ID: id}
			res.Err = tx.Savepoint(ctx, func() error {
				var err error
				res.Invitation, err = s.resend(ctx, tx, actor, a, id)
				return err
			})
			if ErrorCode(res.Err) == EINTERNAL {
				return res.Err
			}
			results = append(results, res)
		}
		return nil
	})
	return results, err
}

// lockedInvitations authorizes members.invite and serialises the organization's
// invitation changes (resend, cancel, accept, removal): on PostgreSQL a cancel and
// an acceptance of one invitation must not both see it pending.
func (s *Service) lockedInvitations(ctx context.Context, tx Tx, actor Actor, orgRef string) (access, error) {
	a, err := s.authorize(ctx, tx, actor, orgRef, PermMembersInvite)
	if err != nil {
		return a, err
	}
	return a, tx.LockOrganization(ctx, a.org.ID)
}

func (s *Service) resend(ctx context.Context, tx Tx, actor Actor, a access, id string) (Invitation, error) {
	inv, err := tx.Invitation(ctx, a.org.ID, id)
	if err != nil {
		return inv, notFound(err, "invitation")
	}
	now := s.now()
	if st := inv.StateAt(now); st != InvitationPending && st != InvitationExpired {
		return inv, Errorf(ECONFLICT, "the invitation is %s; only pending or expired invitations are resent", st)
	}
	m, err := tx.Member(ctx, a.org.ID, inv.AccountID)
	if err != nil {
		return inv, err
	}
	if err := s.canManage(ctx, tx, actor, a, m); err != nil {
		return inv, err
	}
	role, err := s.role(ctx, tx, a.org.ID, m.RoleID)
	if err != nil {
		return inv, err
	}
	before := map[string]any{"expires_at": inv.ExpiresAt}
	token, hash := s.newToken(invitationPrefix)
	inv.TokenHash, inv.ExpiresAt, inv.UpdatedAt = hash, now.Add(invitationTTL(a.org)), now
	inv.InviterID, inv.InviterName = actor.Account.ID, DisplayName(actor.Account)
	if err := tx.UpdateInvitation(ctx, inv); err != nil {
		return inv, err
	}
	var apps []string
	for _, seat := range m.Seats {
		app, err := tx.Application(ctx, seat.ApplicationKey)
		if err != nil {
			return inv, err
		}
		apps = append(apps, app.Name)
	}
	if err := s.sendInvitation(ctx, tx, actor, a.org, m.Account, role, apps, inv, token); err != nil {
		return inv, err
	}
	return inv, s.audit(ctx, tx, actor, a.org.ID, AuditInvitationResent, "invitation", inv.ID, before,
		map[string]any{"expires_at": inv.ExpiresAt, "email": inv.Email})
}

// CancelInvitation withdraws a pending or expired invitation: the invited membership
// goes, with its reserved seats. Cancelling a cancelled invitation changes nothing.
// Needs members.invite. Errors: ENOTFOUND, ECONFLICT (accepted), EROLECEILING.
func (s *Service) CancelInvitation(ctx context.Context, actor Actor, orgRef, id string) (err error) {
	defer wrap(&err, "CancelInvitation(%s, %s)", orgRef, id)
	return s.store.Write(ctx, func(tx Tx) error {
		a, err := s.lockedInvitations(ctx, tx, actor, orgRef)
		if err != nil {
			return err
		}
		inv, err := tx.Invitation(ctx, a.org.ID, id)
		if err != nil {
			return notFound(err, "invitation")
		}
		switch inv.State {
		case InvitationCancelled:
			return nil
		case InvitationAccepted:
			return Errorf(ECONFLICT, "the invitation was accepted; remove the member instead")
		}
		m, err := tx.Member(ctx, a.org.ID, inv.AccountID)
		if err != nil {
			return err
		}
		if err := s.canManage(ctx, tx, actor, a, m); err != nil {
			return err
		}
		if err := tx.DeleteMembership(ctx, a.org.ID, inv.AccountID); err != nil {
			return err
		}
		return s.cancelInvitation(ctx, tx, actor, inv)
	})
}

// cancelInvitation marks inv cancelled and audits it; the caller removes the
// membership.
func (s *Service) cancelInvitation(ctx context.Context, tx Tx, actor Actor, inv Invitation) error {
	inv.State, inv.UpdatedAt = InvitationCancelled, s.now()
	if err := tx.UpdateInvitation(ctx, inv); err != nil {
		return err
	}
	return s.audit(ctx, tx, actor, inv.OrgID, AuditInvitationCancelled, "invitation", inv.ID,
		map[string]any{"state": InvitationPending, "email": inv.Email}, map[string]any{"state": InvitationCancelled})
}

// InvitationPreview is what the invitation landing page shows before accepting.
type InvitationPreview struct {
	Invitation    Invitation
	Organization  Organization
	Role          Role
	Inviter       string
	AccountExists bool // the invitee accepts with their own session, not with a new password
	// Claim says the account is managed by an organization: the person accepts by
	// choosing a new password, which claims the account (no login first).
	Claim     bool
	FirstName string
	LastName  string
	// Required are the profile fields the organization requires (ProfilePhone,
	// ProfileUsername) that the account lacks: the acceptance must give them.
	Required []string
}

// PreviewInvitation reads an invitation by its token. Errors: ENOTFOUND (unknown,
// or replaced by a resend), ETOKENEXPIRED (expired, accepted or cancelled).
func (s *Service) PreviewInvitation(ctx context.Context, token string) (p InvitationPreview, err error) {
	defer wrap(&err, "PreviewInvitation")
	err = s.store.Read(ctx, func(tx Tx) error {
		inv, err := s.usableInvitation(ctx, tx, token)
		if err != nil {
			return err
		}
		org, err := tx.OrganizationByRef(ctx, inv.OrgID)
		if err != nil {
			return err
		}
		acct, err := tx.AccountByID(ctx, inv.AccountID)
		if err != nil {
			return err
		}
		role, err := s.role(ctx, tx, inv.OrgID, inv.RoleID)
		if err != nil {
			return err
		}
		p = InvitationPreview{Invitation: inv, Organization: org, Role: role, Inviter: inv.InviterName,
			AccountExists: acct.State != AccountPending, Claim: claimable(acct),
			FirstName: acct.FirstName, LastName: acct.LastName, Required: missingRequired(org, acct)}
		return nil
	})
	return p, err
}

// usableInvitation finds the pending, unexpired invitation of token.
func (s *Service) usableInvitation(ctx context.Context, tx Tx, token string) (Invitation, error) {
	if !WellFormedToken(invitationPrefix, token) {
		return Invitation{}, Errorf(ENOTFOUND, "invitation not found: the link is wrong, or a newer invitation replaced it")
	}
	inv, err := tx.InvitationByTokenHash(ctx, TokenHash(token))
	if ErrorCode(err) == ENOTFOUND {
		return inv, Errorf(ENOTFOUND, "invitation not found: the link is wrong, or a newer invitation replaced it")
	}
	if err != nil {
		return inv, err
	}
	switch inv.StateAt(s.now()) {
	case InvitationExpired:
		return inv, Errorf(ETOKENEXPIRED, "this invitation expired on %s; ask an administrator to send a new one", formatExpiry(inv.ExpiresAt))
	case InvitationAccepted:
		return inv, Errorf(ETOKENEXPIRED, "this invitation was accepted already; log in instead")
	case InvitationCancelled:
		return inv, Errorf(ETOKENEXPIRED, "this invitation was cancelled")
	}
	return inv, nil
}

// AcceptInput accepts an invitation. A person new to Roster gives a password (and
// names, unless the inviter gave them); an existing account accepts with its own
// session (actor) instead.
type AcceptInput struct {
	Token     string
	FirstName string
	LastName  string
	Password  string
	// Phone and Username complete the profile fields the organization requires
	// and the account lacks (InvitationPreview.Required); they are the person's
	// own, so every kind of acceptance may give them.
	Phone    string
	Username string
}

// Accepted is the account and the membership an acceptance activated.
type Accepted struct {
	Account      Account
	Member       Member
	Organization Organization
}

// AcceptInvitation consumes an invitation token, once: the membership becomes
// active, and a new account gets its names and password and becomes active. actor is
// nil for an anonymous caller. Errors: ENOTFOUND, ETOKENEXPIRED (expired, accepted,
// cancelled — also when another acceptance won a race), EUNAUTHENTICATED (an
// existing account must log in), EFORBIDDEN (logged in as someone else; disabled
// account), EINVALID (also naming phone or username when the organization requires
// one the account lacks and the acceptance does not give it, with every other bad
// field at once), ECONFLICT (username taken).
func (s *Service) AcceptInvitation(ctx context.Context, actor *Actor, in AcceptInput, ip string) (res Accepted, err error) {
	defer wrap(&err, "AcceptInvitation")
	var inv Invitation
	var acct Account
	var org Organization
	err = s.store.Read(ctx, func(tx Tx) error {
		var err error
		if inv, err = s.usableInvitation(ctx, tx, in.Token); err != nil {
			return err
		}
		if org, err = tx.OrganizationByRef(ctx, inv.OrgID); err != nil {
			return err
		}
		acct, err = tx.AccountByID(ctx, inv.AccountID)
		return err
	})
	if err != nil {
		return res, err
	}
	var hash string
	claiming := claimable(acct)
	switch {
	case acct.State == AccountDisabled:
		return res, Errorf(EFORBIDDEN, "the account of %s is disabled", acct.Email)
	case actor != nil && actor.Account.ID != acct.ID:
		return res, Errorf(EFORBIDDEN, "this invitation is for %s; log in as that account to accept it", acct.Email)
	case actor != nil && actor.Account.MustResetPassword:
		// A session that must change its password does that first, here as
		// everywhere (a claim included: it is made from the mailbox, not a session).
		return res, actor.RequirePasswordCurrent()
	case claiming:
		// An account an organization manages is claimed from the mailbox: its
		// person chooses a new password, whatever session they have.
		errC := completeRequired(org, &acct, in)
		if err := collect(CheckPassword("password", in.Password), errC); err != nil {
			return res, err
		}
		if hash, err = s.hasher.Hash(ctx, in.Password); err != nil {
			return res, err
		}
	case actor != nil:
		if err := completeRequired(org, &acct, in); err != nil {
			return res, err
		}
	case acct.State == AccountActive:
		return res, Errorf(EUNAUTHENTICATED, "%s has a Roster account: log in and accept with its session", acct.Email)
	default: // pending: invited, never set up
		first, errF := NormalizeName("first_name", in.FirstName, acct.FirstName == "")
		last, errL := NormalizeName("last_name", in.LastName, acct.LastName == "")
		errC := completeRequired(org, &acct, in)
		if err := collect(errF, errL, CheckPassword("password", in.Password), errC); err != nil {
			return res, err
		}
		if first != "" {
			acct.FirstName = first
		}
		if last != "" {
			acct.LastName = last
		}
		if hash, err = s.hasher.Hash(ctx, in.Password); err != nil {
			return res, err
		}
	}
	err = s.store.Write(ctx, func(tx Tx) error {
		if err := tx.LockOrganization(ctx, inv.OrgID); err != nil {
			return err
		}
		now := s.now()
		ok, err := tx.AcceptInvitation(ctx, inv.ID, inv.TokenHash, now)
		if err != nil {
			return err
		}
		if !ok { // resent, cancelled, expired or accepted since we read it
			if _, err := s.usableInvitation(ctx, tx, in.Token); err != nil {
				return err
			}
			return Errorf(ETOKENEXPIRED, "this invitation is no longer valid")
		}
		cur, err := tx.AccountByID(ctx, acct.ID)
		if err != nil {
			return err
		}
		before := accountState(cur)
		org, err := tx.OrganizationByRef(ctx, inv.OrgID)
		if err != nil {
			return err
		}
		// The profile fields the acceptance completes, checked again against the
		// organization as it is now (its setting may have changed since).
		given := cur
		given.Phone, given.Username = cmp.Or(cur.Phone, acct.Phone), cmp.Or(cur.Username, acct.Username)
		if err := checkRequired(org, given, nil); err != nil {
			return err
		}
		var action AuditAction
		switch {
		case claiming:
			if !claimable(cur) { // claimed meanwhile, by another link of the mailbox
				return Errorf(EUNAUTHENTICATED, "%s has claimed this account already: log in and accept with its session", cur.Email)
			}
			cur.PasswordHash, cur.MustResetPassword, action = hash, false, AuditAccountClaimed
		case hash != "":
			if cur.State != AccountPending { // activated meanwhile, by another invitation or a sign-up
				return Errorf(EUNAUTHENTICATED, "%s has a Roster account now: log in and accept with its session", cur.Email)
			}
			cur.FirstName, cur.LastName, cur.PasswordHash = acct.FirstName, acct.LastName, hash
			cur.State, action = AccountActive, AuditAccountActivated
		}
		completed := given.Phone != cur.Phone || given.Username != cur.Username
		profileBefore := accountState(cur)
		cur.Phone, cur.Username = given.Phone, given.Username
		// Following the emailed link proves the mailbox.
		if action != "" || !cur.EmailVerified || completed {
			claim(&cur)
			cur.UpdatedAt = now
			if err := tx.UpdateAccount(ctx, cur); err != nil {
				return err
			}
		}
		if claiming {
			// The organization that chose the old password is locked out with it.
			if err := s.revokeCredentials(ctx, tx, cur.ID, "", LogoutPasswordChanged); err != nil {
				return err
			}
		}
		ms, err := tx.Membership(ctx, inv.OrgID, cur.ID)
		if err != nil {
			return err
		}
		ms.State, ms.UpdatedAt = MemberActive, now
		if err := tx.UpdateMembership(ctx, ms); err != nil {
			return err
		}
		if res.Organization, err = tx.OrganizationByRef(ctx, inv.OrgID); err != nil {
			return err
		}
		if res.Member, err = tx.Member(ctx, inv.OrgID, cur.ID); err != nil {
			return err
		}
		res.Account = cur
		by := Actor{Account: cur, IP: ip}
		if actor != nil && !claiming {
			by.SessionID = actor.SessionID
		}
		if action == AuditAccountClaimed {
			if err := s.audit(ctx, tx, by, "", action, "account", cur.ID, before, accountState(cur)); err != nil {
				return err
			}
		}
		if completed && action != AuditAccountClaimed {
			// The person's own profile, completed: on the platform's trail, as
			// UpdateProfile records it (a claim's event holds it already).
			b, a := diff(profileBefore, accountState(cur))
			if err := s.audit(ctx, tx, by, "", AuditAccountUpdated, "account", cur.ID, b, a); err != nil {
				return err
			}
		}
		after := map[string]any{"state": MemberActive, "invitation": inv.ID}
		if action == AuditAccountActivated {
			after["account_activated"] = true
		}
		return s.audit(ctx, tx, by, inv.OrgID, AuditInvitationAccepted, "account", cur.ID,
			map[string]any{"state": MemberInvited}, after)
	})
	return res, err
}

// missingRequired are the profile fields org requires that acct lacks.
func missingRequired(org Organization, acct Account) []string {
	var missing []string
	for _, f := range org.RequiredFields() {
		if requiredValue(acct, f) == "" {
			missing = append(missing, f)
		}
	}
	return missing
}

// completeRequired gives acct, from an acceptance, each profile field org requires
// that it lacks. Errors: EINVALID naming each such field that in leaves empty or
// gives malformed, and each field in gives that acct has already (changed on the
// person's profile, not here).
func completeRequired(org Organization, acct *Account, in AcceptInput) error {
	var v Validation
	for _, f := range []string{ProfilePhone, ProfileUsername} {
		given := in.Phone
		if f == ProfileUsername {
			given = in.Username
		}
		switch {
		case requiredValue(*acct, f) != "":
			if strings.TrimSpace(given) != "" && normalizedAs(f, given) != requiredValue(*acct, f) {
				v.Add(f, "is set on your profile already: change it there, not here")
			}
		case strings.TrimSpace(given) == "":
			if org.requires(f) {
				v.Add(f, requiredMessage(org))
			}
		case f == ProfilePhone:
			p, err := NormalizePhone(f, given)
			addErr(&v, err)
			acct.Phone = p
		default:
			u, err := NormalizeUsername(f, given)
			addErr(&v, err)
			acct.Username = u
		}
	}
	return v.Err()
}

// normalizedAs is given as the profile field f stores it ("" when malformed).
func normalizedAs(f, given string) string {
	if f == ProfilePhone {
		p, _ := NormalizePhone(f, given)
		return p
	}
	u, _ := NormalizeUsername(f, given)
	return u
}

// claimable reports whether accepting an invitation of a claims it: an organization
// manages the active account, so its person takes it over with a new password.
func claimable(a Account) bool {
	return a.State == AccountActive && a.ManagedBy != ""
}

// displayName is how a person is named in emails: their name, or their email.
// DisplayName is how a person is named to others: their names, else their email.
func DisplayName(a Account) string {
	if n := strings.TrimSpace(a.FirstName + " " + a.LastName); n != "" {
		return n
	}
	return a.Email
}

// formatExpiry is how emails and messages write an expiry time.
func formatExpiry(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006, 15:04 UTC") }

// JoinNames writes a list as prose: "A", "A and B", "A, B and C".
func JoinNames(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
