package account

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// AddMemberInput is POST …/members.
type AddMemberInput struct {
	Email        string
	FirstName    string
	LastName     string
	Phone        string
	Username     string
	Role         string // role id; "member" when empty
	Teams        []string
	Applications []string
	// RequestSeats are application keys the person is to have a seat of that the
	// organization has none left of: the person is added without it, and a request
	// for one more seat of each goes to the operators (see RequestSeats), in the
	// same transaction. Needs seats.request.
	RequestSeats []string
	SendInvite   *bool
	Password     string
	// ResetPasswordOnFirstLogin makes a new account change its password first.
	ResetPasswordOnFirstLogin bool
}

// AddMember adds one person to an organization. With send_invite: false an email
// Roster does not know becomes an active account with the given names and password,
// managed by the organization, and an active member; an account the organization
// manages (or, for an operator, any active account) is linked as an active member as
// it is. Every other existing account is invited instead, whatever send_invite says:
// the answer's state is then invited. With send_invite: true the person is invited
// (see invite); names are optional then, the invitee gives them on accepting — but
// an existing account the organization manages only by its verified domain
// (manage_domain_accounts, ManagingDomain) is linked as an active member instead,
// and the person emailed (see addActive). A password is chosen only for a new account: with an email Roster
// knows it is EINVALID. Needs members.invite (and seats.assign to give seats),
// decided before the body is looked at, and the role within the actor's own
// permissions. An account created with send_invite: false must have the profile
// fields the organization requires (EINVALID naming phone or username, see
// checkRequired); an invitation is exempt, as the invitee's profile is their own.
// Errors: EINVALID, EFORBIDDEN (also a disabled account), EROLECEILING,
// EDUPLICATEEMAIL (already a member), ECONFLICT (username taken), ENOTFOUND.
func (s *Service) AddMember(ctx context.Context, actor Actor, orgRef string, in AddMemberInput) (m Member, err error) {
	defer wrap(&err, "AddMember(%s)", orgRef)
	return s.addMember(ctx, actor, orgRef, in, false)
}

// CheckAddMember is AddMember without its effect: every rule applied, in a
// transaction that is then rolled back (no member, email, audit event or seat
// request stays). The member returned is the one AddMember would add now — invited
// or active, so a confirmation can say whether an invitation email goes. Errors: as
// AddMember.
func (s *Service) CheckAddMember(ctx context.Context, actor Actor, orgRef string, in AddMemberInput) (m Member, err error) {
	defer wrap(&err, "CheckAddMember(%s)", orgRef)
	return s.addMember(ctx, actor, orgRef, in, true)
}

// errChecked rolls back the transaction of CheckAddMember once every rule passed.
var errChecked = Errorf(EINTERNAL, "checked only")

func (s *Service) addMember(ctx context.Context, actor Actor, orgRef string, in AddMemberInput, check bool) (m Member, err error) {
	// Whether the actor may add anyone here does not depend on the email: decided
	// first, so that no refusal tells whether an address has an account.
	err = s.store.Read(ctx, func(tx Tx) error {
		a, err := s.authorize(ctx, tx, actor, orgRef, PermMembersInvite)
		if err == nil && len(in.Applications) > 0 {
			err = a.require(PermSeatsAssign)
		}
		if err == nil && len(in.RequestSeats) > 0 {
			err = a.require(PermSeatsRequest)
		}
		return err
	})
	if err != nil {
		return m, err
	}
	var v Validation
	email, errE := NormalizeEmail("email", in.Email)
	addErr(&v, errE)
	switch {
	case in.SendInvite == nil:
		v.Add("send_invite", "is required: true sends an invitation, false creates the account with a password")
	case *in.SendInvite:
		if in.Password != "" {
			v.Add("password", "is chosen by the invitee when send_invite is true")
		}
		if in.ResetPasswordOnFirstLogin {
			v.Add("reset_password_on_first_login", "applies only with send_invite: false")
		}
	}
	for i, app := range in.Applications {
		if strings.TrimSpace(app) == "" {
			v.Add(fieldIndex("applications", i), "is empty")
		}
	}
	for i, app := range in.RequestSeats {
		switch {
		case strings.TrimSpace(app) == "":
			v.Add(fieldIndex("request_seats", i), "is empty")
		case slices.Contains(in.Applications, app):
			v.Add(fieldIndex("request_seats", i), "names "+quote(app)+", whose seat is given already: ask for a seat only of an application you do not give one of")
		case slices.Contains(in.RequestSeats[:i], app):
			v.Add(fieldIndex("request_seats", i), "names "+quote(app)+" twice")
		}
	}
	if err := v.Err(); err != nil {
		return m, err
	}
	var existing Account
	err = s.store.Read(ctx, func(tx Tx) error {
		var err error
		if existing, err = tx.AccountByEmail(ctx, EmailKey(email)); err != nil {
			return err
		}
		org, err := tx.OrganizationByRef(ctx, orgRef)
		if err != nil {
			return err
		}
		// A member already: that says more than anything else about the body.
		if _, err := tx.Membership(ctx, org.ID, existing.ID); err == nil {
			return duplicateMember(email, org)
		} else if ErrorCode(err) != ENOTFOUND {
			return err
		}
		return nil
	})
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return m, err
	}
	var fresh Account
	switch {
	case existing.ID == "" && *in.SendInvite:
		// The invitee gives the names the inviter leaves out on accepting.
		if fresh, err = newInviteeAccount(in, false); err != nil {
			return m, err
		}
	case existing.ID == "":
		// Hash outside the transaction: argon2 is slow by design, and SQLite has one writer.
		if fresh, err = s.newMemberAccount(ctx, email, in); err != nil {
			return m, err
		}
	case existing.State == AccountDisabled:
		return m, disabledAccount(email)
	case in.Password != "" || in.ResetPasswordOnFirstLogin:
		var v Validation
		if in.Password != "" {
			v.Add("password", "cannot be set: this email already has a Roster account, whose password is its owner's")
		}
		if in.ResetPasswordOnFirstLogin {
			v.Add("reset_password_on_first_login", "applies only to a new account: this email already has a Roster account")
		}
		return m, v.Err()
	}
	err = s.writeIn(ctx, actor, orgRef, PermMembersInvite, func(tx Tx, a access) error {
		role, err := s.assignableRole(ctx, tx, a, "role", in.Role)
		if err != nil {
			return err
		}
		teamIDs, teamNames, err := s.resolveTeams(ctx, tx, a.org.ID, in.Teams)
		if err != nil {
			return err
		}
		if len(in.Applications) > 0 {
			if err := a.require(PermSeatsAssign); err != nil {
				return err
			}
		}
		offer := activeMember{email: email, fresh: fresh, role: role, teamIDs: teamIDs, teamNames: teamNames, apps: in.Applications}
		direct := false
		if *in.SendInvite {
			if direct, err = s.linksByDomain(ctx, tx, actor, a, email); err != nil {
				return err
			}
		}
		if *in.SendInvite && !direct {
			m, _, err = s.invite(ctx, tx, actor, a, offer)
		} else {
			m, err = s.admit(ctx, tx, actor, a, offer)
		}
		m = redact(actor, a.org, m)
		if err != nil {
			return err
		}
		if len(in.RequestSeats) > 0 {
			if err := a.require(PermSeatsRequest); err != nil {
				return err
			}
		}
		for i, app := range in.RequestSeats {
			note := "For " + email + ", added to " + a.org.Name + " without a seat: none was left."
			if _, err := s.fileSeatRequest(ctx, tx, actor, a, fieldIndex("request_seats", i), SeatRequestInput{Application: app, Quantity: 1, Note: note}); err != nil {
				return err
			}
		}
		if check {
			return errChecked
		}
		return nil
	})
	if check && errors.Is(err, errChecked) {
		err = nil
	}
	return m, err
}

// InvitationAllowance is each caller's allowance of invitation emails, which the
// transports keep (httpapi's rate limit, shared by the console so that it is no
// way around it). AllowInvitations takes n, or refuses (ERATELIMITED);
// RefundInvitations gives back n taken but not sent.
type InvitationAllowance interface {
	AllowInvitations(ctx context.Context, actor Actor, n int) error
	RefundInvitations(actor Actor, n int)
}

// AddMemberWithin is AddMember within the actor's allowance of invitation emails,
// the one rule of every channel that adds a member (POST …/members, the console's
// Add user): an addition may send an invitation whatever send_invite says (an
// existing account the organization does not manage is always invited), so one is
// taken before it, and given back unless the member added is invited (an error, or
// an active member, sent none). Refused by the allowance, nothing is added.
func (s *Service) AddMemberWithin(ctx context.Context, actor Actor, orgRef string, in AddMemberInput, allow InvitationAllowance) (Member, error) {
	if err := allow.AllowInvitations(ctx, actor, 1); err != nil {
		return Member{}, err
	}
	m, err := s.AddMember(ctx, actor, orgRef, in)
	if err != nil || m.State != MemberInvited {
		allow.RefundInvitations(actor, 1)
	}
	return m, err
}

// activeMember is who admit (or addActive) adds and with what.
type activeMember struct {
	email     string
	fresh     Account // the account to create when the email has none; zero: none expected
	role      Role
	teamIDs   []string
	teamNames []string
	apps      []string // application keys: a seat of each, without an email
	// hold makes invite create the invited membership without an invitation (SCIM's
	// inactive users): one is sent when the member is activated.
	hold bool
	// fieldName names a missing required field as the channel calls it (an import's
	// column, a SCIM attribute); nil: the API's phone and username.
	fieldName func(string) string
}

// admit is how the channels without an invitation add someone (send_invite: false,
// import rows with send_invite no, SCIM): an email without an account gets in.fresh,
// managed by the organization, as an active member; an account the organization
// manages becomes an active member (a pending one is activated, without a password);
// an operator links any active account directly (audited as such). Any other
// account is invited (no silent linking): the member is then invited, with an
// email. Errors: as addActive and invite.
func (s *Service) admit(ctx context.Context, tx Tx, actor Actor, a access, in activeMember) (Member, error) {
	acct, err := tx.AccountByEmail(ctx, EmailKey(in.email))
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return s.addActive(ctx, tx, actor, a, acct, in)
	case err != nil:
		return Member{}, err
	case acct.State == AccountDisabled:
		return Member{}, disabledAccount(in.email)
	case in.fresh.ID != "": // the email got an account between our read and this transaction
		return Member{}, Errorf(ECONFLICT, "the account of %s changed meanwhile; try again", in.email)
	case Manages(a.org, acct), actor.Account.Operator && actor.SCIMOrgID == "" && acct.State == AccountActive:
		return s.addActive(ctx, tx, actor, a, acct, in)
	}
	m, _, err := s.invite(ctx, tx, actor, a, in)
	return m, err
}

// addActive makes email an active member of a.org in tx and audits it: acct is the
// email's account (zero when it has none: in.fresh is then created, managed by the
// organization; a pending acct is activated, without a password). It sends no email
// but to the person whose account the organization links by the domain rule
// (domainRule): they are told it manages their account now, and the audit event
// names the domain (managed_by_domain).
// Errors: EDUPLICATEEMAIL, ECONFLICT (the account changed since fresh was prepared),
// EFORBIDDEN, EQUOTAEXCEEDED, EINVALID.
func (s *Service) addActive(ctx context.Context, tx Tx, actor Actor, a access, acct Account, in activeMember) (Member, error) {
	created, linked, byDomain := false, false, ""
	switch {
	case acct.ID == "":
		if in.fresh.ID == "" { // deleted between our read and this transaction
			return Member{}, Errorf(ECONFLICT, "the account changed meanwhile; try again")
		}
		acct = in.fresh
		if err := checkRequired(a.org, acct, in.fieldName); err != nil {
			return Member{}, err
		}
		acct.ManagedBy = a.managerFor()
		if err := tx.CreateAccount(ctx, acct); err != nil {
			return Member{}, err
		}
		created = true
	default:
		if _, err := tx.Membership(ctx, a.org.ID, acct.ID); err == nil {
			return Member{}, duplicateMember(in.email, a.org)
		} else if ErrorCode(err) != ENOTFOUND {
			return Member{}, err
		}
		byDomain = domainRule(actor, a.org, acct)
		linked = !createdBy(a.org, acct) && byDomain == ""
		if acct.State == AccountPending {
			before := accountState(acct)
			acct.State, acct.UpdatedAt = AccountActive, s.now()
			if err := tx.UpdateAccount(ctx, acct); err != nil {
				return Member{}, err
			}
			if err := s.audit(ctx, tx, actor, a.org.ID, AuditAccountActivated, "account", acct.ID, before, accountState(acct)); err != nil {
				return Member{}, err
			}
		}
	}
	now := s.now()
	ms := Membership{OrgID: a.org.ID, AccountID: acct.ID, RoleID: in.role.ID, State: MemberActive, CreatedAt: now, UpdatedAt: now}
	if err := tx.CreateMembership(ctx, ms); err != nil {
		return Member{}, err
	}
	if len(in.teamIDs) > 0 {
		if err := tx.SetMemberTeams(ctx, a.org.ID, acct.ID, in.teamIDs); err != nil {
			return Member{}, err
		}
	}
	m := Member{Membership: ms, Account: acct, Teams: in.teamNames, Seats: []MemberSeat{}}
	after := memberState(m)
	if created {
		after["account_created"] = true
	}
	if linked {
		after["linked_by_operator"] = true
	}
	if byDomain != "" {
		after["managed_by_domain"] = byDomain
	}
	if err := s.audit(ctx, tx, actor, a.org.ID, AuditMemberAdded, "account", acct.ID, nil, after); err != nil {
		return m, err
	}
	if byDomain != "" {
		n := s.notice(NoticeDomainManaged, a.org, actor, m)
		n.Message = byDomain
		if err := s.notify(ctx, tx, a.org.ID, n); err != nil {
			return m, err
		}
	}
	if len(in.apps) == 0 {
		return m, nil
	}
	if err := a.require(PermSeatsAssign); err != nil {
		return m, err
	}
	subs, err := s.seatsForApplications(ctx, tx, a.org.ID, in.apps)
	if err != nil {
		return m, err
	}
	for i, sub := range subs {
		// send_invite: false sends no email, also not about the seats.
		if err := s.assign(ctx, tx, actor, &seatScope{access: a, sub: sub}, fieldIndex("applications", i), acct.ID, true); err != nil {
			return m, err
		}
	}
	return tx.Member(ctx, a.org.ID, acct.ID)
}

// linksByDomain reports whether an invitation of email from a.org makes the account
// an active member at once instead: a.org manages the existing, enabled account only
// by its email's verified domain (domainRule), the one case where no consent is
// asked (manage_domain_accounts).
func (s *Service) linksByDomain(ctx context.Context, tx Tx, actor Actor, a access, email string) (bool, error) {
	if !a.org.ManageDomainAccounts {
		return false, nil
	}
	acct, err := tx.AccountByEmail(ctx, EmailKey(email))
	if ErrorCode(err) == ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return acct.State != AccountDisabled && domainRule(actor, a.org, acct) != "", nil
}

// duplicateMember is the refusal to add someone who is a member already.
func duplicateMember(email string, org Organization) error {
	return &Error{Code: EDUPLICATEEMAIL, Message: email + " is already a member of " + org.Name,
		Fields: []FieldError{{Field: "email", Message: "is already a member of this organization"}}}
}

// newInviteeAccount validates the names an inviter gives a person new to Roster:
// required for an account created with a password (namesRequired), optional for an
// invitee, who gives them on accepting (AcceptInvitation asks for the missing ones).
func newInviteeAccount(in AddMemberInput, namesRequired bool) (Account, error) {
	first, errF := NormalizeName("first_name", in.FirstName, namesRequired)
	last, errL := NormalizeName("last_name", in.LastName, namesRequired)
	phone, errP := NormalizePhone("phone", in.Phone)
	username, errU := NormalizeUsername("username", in.Username)
	if err := collect(errF, errL, errP, errU); err != nil {
		return Account{}, err
	}
	return Account{FirstName: first, LastName: last, Phone: phone, Username: username}, nil
}

// newMemberAccount validates and builds the account of a person new to Roster whom
// an organization creates with a password.
func (s *Service) newMemberAccount(ctx context.Context, email string, in AddMemberInput) (Account, error) {
	acct, err := newInviteeAccount(in, true)
	if err := collect(err, CheckPassword("password", in.Password)); err != nil {
		return Account{}, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return Account{}, err
	}
	now := s.now()
	acct.ID, acct.Email, acct.State, acct.MustResetPassword, acct.PasswordHash = s.ids.New(), email, AccountActive, in.ResetPasswordOnFirstLogin, hash
	acct.CreatedAt, acct.UpdatedAt = now, now
	return acct, nil
}
